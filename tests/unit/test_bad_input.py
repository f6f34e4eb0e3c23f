"""Bad input -> exit code 2 and one message naming the file, the dotted field and what
is allowed; no traceback.

Every case writes a small scenario (a shipped scenario loaded as plain data, then
mutated) to ``tmp_path`` and runs ``linksim validate`` in-process. Validation builds no
TensorFlow graph, so the whole file runs in seconds.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import yaml

from linksim import strict_yaml
from linksim.cli import main
from linksim.diffusion.checkpoints import zoo_names
from linksim.errors import MAX_PROBLEMS, UserError
from linksim.receivers import RECEIVERS
from linksim.scenario import validate_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
PREFIX = "linksim: error: "


def _base(name: str = "quickstart") -> dict:
    with open(SCENARIOS / f"{name}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


_BASES = {name: _base(name) for name in ("quickstart", "srs_sounding", "uma_downlink_svd", "ddpm_images", "semcom",
                                         "moe_vb_balanced", "srs_precoding_low")}


def base(name: str = "quickstart") -> dict:
    return copy.deepcopy(_BASES[name])


def semcom_base() -> dict:
    return base("semcom")


def images_base() -> dict:
    return base("ddpm_images")


def write(tmp_path: Path, data, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data,
                    encoding="utf-8")
    return path


def run_cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def assert_one_error(code: int, err: str, *needles: str) -> str:
    """Exit code 2, exactly one stderr line starting with the prefix, containing needles."""
    assert code == 2, f"exit code {code}, stderr: {err!r}"
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {err!r}"
    line = lines[0]
    assert line.startswith(PREFIX), line
    for n in needles:
        assert n in line, f"{n!r} not in {line!r}"
    return line


def assert_problems(code: int, err: str, source: str, count: int) -> list[str]:
    """Exit code 2, a header ``<source>: <count> problems:`` and one indented line per
    problem (at most MAX_PROBLEMS, then a count of the rest); returns those lines."""
    assert code == 2, f"exit code {code}, stderr: {err!r}"
    assert "Traceback" not in err
    head, *lines = err.rstrip("\n").split("\n")
    assert head == f"{PREFIX}{source}: {count} problems:", head
    shown = min(count, MAX_PROBLEMS)
    assert len(lines) == shown + (count > shown), lines
    assert all(line.startswith("  ") and not line.startswith("   ") for line in lines), lines
    return [line[2:] for line in lines]


# --------------------------------------------------------------------------- mutations
def _set(data: dict, dotted: str, value):
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _del(data: dict, dotted: str):
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        del node[int(parts[-1])]
    else:
        del node[parts[-1]]


def srs_base() -> dict:
    return base("srs_sounding")


def svd_base() -> dict:
    return base("uma_downlink_svd")


def nb_base() -> dict:
    """The balanced Card B scenario with its diffusion receivers only (shipped models)."""
    data = base("moe_vb_balanced")
    data["receivers"] = [{"name": "dm_pooled"}, {"name": "dm_vb"}]
    return data


# Each case: (id, base factory, list of (op, dotted, value), expected substrings).
# "{tmp}" in an expected substring is replaced by the scenario's folder.
CASES = [
    # --- narrowband diffusion models: existence, provenance, schedule; sweep values ----------
    ("nb-missing-expert", nb_base, [("set", "receivers", [{"name": "dm_vb", "models": {"A": "nosuch"}}])],
     ["receivers[0].models.A", "no model 'nosuch'", "allowed: a checkpoint folder"]),
    ("nb-expert-of-another-profile", nb_base, [("set", "receivers", [{"name": "dm_vb", "models": {"A": "nbdm-cdlB-10k-cpu"}}])],
     ["receivers[0].models.A", "nbdm-cdlB-10k-cpu was trained for other settings", "CDL-A training channels trained 0",
      "allow_mismatch: true"]),
    ("nb-model-of-another-carrier", nb_base, [("set", "narrowband.carrier_frequency_ghz", 3.5)],
     ["receivers[0].model", "carrier_frequency_ghz trained 40.0, scenario 3.5"]),
    ("nb-pooled-of-other-training-sets", nb_base, [("set", "receivers", [{"name": "dm_pooled", "model": "nbdm-pooled-scarceB-cpu"}])],
     ["receivers[0].model", "CDL-B training channels trained 1000, scenario 10000"]),
    ("ofdm-cdlC-model-on-uma", base, [("set", "channel.model", "uma")],
     ["receivers[4].model", "nonid-quickstart-cpu was not trained on channel.model=uma",
      "channel.model trained 'cdl', scenario 'uma'", "allow_mismatch: true"]),
    ("ofdm-model-of-another-delay-spread", base, [("set", "channel.delay_spread_ns", 300)],
     ["receivers[4].model", "channel.delay_spread_ns trained 100.0, scenario 300.0"]),
    ("ofdm-model-of-another-profile", base, [("set", "channel.profile", "A")],
     ["receivers[4].model", "channel.profile trained 'C', scenario 'A'"]),
    ("srs-high-mobility-dm-on-low", lambda: base("srs_precoding_low"),
     [("set", "receivers", [{"name": "dm", "model": "srs-dm-high-cpu"}])],
     ["receivers[0].params.model", "srs-dm-high-cpu was trained for other channels",
      "ue_speed_kmh trained 30.0, scenario 3.0", "allow_mismatch: true"]),
    ("srs-low-mobility-sl-on-high", lambda: base("srs_precoding_low"),
     [("set", "srs_precoding.mobility", "high"), ("set", "receivers", [{"name": "sl", "model": "srs-sl-low-cpu"}])],
     ["receivers[0].params.model", "ue_speed_kmh trained 3.0, scenario 30.0"]),
    ("srs-model-of-other-delay", lambda: base("srs_precoding_low"), [("set", "srs_precoding.delay_slots", 20)],
     ["params.model", "delay_slots trained 40, scenario 20"]),
    ("nb-elbo-step-beyond-T", nb_base, [("set", "receivers", [{"name": "dm_vb", "elbo_steps": [5000]}])],
     ["receivers[0].elbo_steps", "step 5000 is beyond", "T = 100", "allowed: 1..100"]),
    ("sweep-value-nan", nb_base, [("set", "sweep.values", [float("nan"), 1.0])],
     ["sweep.values", "nan is not a finite number", "allowed: finite numbers"]),
    ("sweep-value-repeated", base, [("set", "sweep.values", [1.0, 1.0])],
     ["sweep.values", "1.0 appears more than once", "allowed: distinct values"]),
    # --- unknown keys (with did-you-mean) ----------------------------------------------
    ("unknown-top-level-key", base, [("set", "seeed", 1)],
     ["seeed", "unknown key", 'did you mean "seed"', "allowed keys:", "channel"]),
    ("unknown-nested-key", base, [("del", "channel.model", None), ("set", "channel.modle", "tdl")],
     ["channel.modle", "unknown key", 'did you mean "model"', "delay_spread_ns"]),
    ("unknown-deep-key", base, [("set", "antennas.bs.polarisation", "dual")],
     ["antennas.bs.polarisation", 'did you mean "polarization"', "allowed keys:"]),
    ("unknown-srs-key", srs_base, [("set", "pilots.srs.perodicity_slots", 4)],
     ["pilots.srs.perodicity_slots", 'did you mean "periodicity_slots"']),
    # --- wrong type -------------------------------------------------------------------
    ("string-for-int", base, [("set", "sweep.batch_size", "lots")],
     ["sweep.batch_size", "valid integer", "'lots'"]),
    ("scalar-for-section", base, [("set", "channel", 5)],
     ["channel:", "dictionary"]),
    ("string-for-list", base, [("set", "sweep.values", "2, 4, 6")],
     ["sweep.values", "list"]),
    # --- out of range -----------------------------------------------------------------
    ("negative-batch-size", base, [("set", "sweep.batch_size", -4)],
     ["sweep.batch_size", "greater than or equal to 1", "-4"]),
    ("coderate-too-high", base, [("set", "link.coderate", 1.5)],
     ["link.coderate", "less than or equal to 0.95", "1.5"]),
    ("negative-delay-spread", base, [("set", "channel.delay_spread_ns", -10)],
     ["channel.delay_spread_ns", "greater than 0"]),
    # --- bad literal ------------------------------------------------------------------
    ("bad-channel-model", base, [("set", "channel.model", "cdl9")],
     ["channel.model", "'cdl9'", "'awgn'", "'rayleigh'", "'tdl'", "'cdl'", "'uma'", "'umi'", "'rma'"]),
    ("bad-metric", base, [("set", "metrics", ["ber", "bleer"])],
     ["metrics[1]", "'bler'", "'nmse'", "'bleer'"]),
    ("bad-subcarrier-spacing", base, [("set", "carrier.subcarrier_spacing_khz", 25)],
     ["carrier.subcarrier_spacing_khz", "15", "30", "60", "120"]),
    # --- receivers --------------------------------------------------------------------
    ("unknown-receiver", base, [("set", "receivers.2.name", "lmse")],
     ["receivers[2].name", "unknown receiver 'lmse'", 'did you mean "lmmse"', "allowed: " + ", ".join(RECEIVERS.names())]),
    ("unknown-receiver-param", base, [("set", "receivers.1", {"name": "ls", "interpolaton": "nn"})],
     ["receivers[1].interpolaton", "unknown parameter for ls", 'did you mean "interpolation"', "name, label, interpolation"]),
    ("bad-receiver-param-value", base, [("set", "receivers.1.interpolation", "cubic")],
     ["receivers[1].interpolation", "'nn'", "'linear'", "'cubic'"]),
    ("receiver-param-out-of-range", base, [("set", "receivers.2", {"name": "lmmse", "cov_samples": 5})],
     ["receivers[2].cov_samples", "greater than or equal to 16"]),
    ("receiver-without-name", base, [("set", "receivers.0", {"label": "genie"})],
     ["receivers[0].name", "missing"]),
    ("duplicate-receiver-labels", base, [("set", "receivers.2", {"name": "lmmse", "label": "ls"})],
     ["receivers", "unique", "repeated: ls", "label"]),
    ("no-receivers", base, [("set", "receivers", [])],
     ["receivers", "at least 1"]),
    # --- inconsistent combinations ----------------------------------------------------
    ("srs-on-downlink", srs_base, [("set", "channel.direction", "downlink")],
     ["pilots.type", "SRS", "channel.direction: uplink"]),
    ("srs-comb-1", srs_base, [("set", "pilots.comb", 1)],
     ["pilots.comb", "comb 2 or 4", "got 1"]),
    ("srs-symbol-outside-slot", srs_base, [("set", "carrier.num_ofdm_symbols", 12)],
     ["pilots.srs.symbol", "< num_ofdm_symbols (12)"]),
    ("srs-hops-do-not-split", srs_base, [("set", "pilots.srs.num_hops", 5)],
     ["pilots.srs.num_hops", "5 hops"]),
    ("sounding-with-ebno", srs_base, [("set", "sweep.key", "ebno_db")],
     ["sweep.key", "use snr_db"]),
    ("more-streams-than-antennas", base, [("set", "mimo.num_streams", 2)],
     ["mimo.num_streams", "2 streams", "tx 1", "rx 8"]),
    ("zf-wrong-stream-count", svd_base, [("set", "mimo.precoder", "zf"), ("set", "mimo.num_streams", 1),
                                         ("set", "pilots.comb", 2)],
     ["mimo.num_streams", "num_streams must be 2"]),
    ("pilot-symbol-outside-slot", base, [("set", "pilots.symbols", [2, 14])],
     ["pilots.symbols[1]", "pilot symbol 14", "0..13"]),
    ("comb-offset-not-below-comb", base, [("set", "pilots.comb", 2), ("set", "pilots.comb_offset", 3)],
     ["pilots.comb_offset", "smaller than comb (2)"]),
    ("streams-exceed-comb", svd_base, [("set", "antennas.ue", {"rows": 1, "cols": 2, "polarization": "dual"}),
                                       ("set", "mimo.num_streams", 4)],
     ["pilots.comb", "at most 2 streams"]),
    ("mask-without-file", base, [("set", "pilots.type", "mask")],
     ["pilots.mask_file", "needs a mask_file"]),
    ("mask-file-missing", base, [("set", "pilots.type", "mask"), ("set", "pilots.mask_file", "nothere.npy")],
     ["pilots.mask_file", "file not found", "{tmp}", "nothere.npy"]),
    ("non-ofdm-with-cdl", base, [("set", "link.ofdm", False), ("set", "metrics", ["ber", "bler"])],
     ["channel.model", "allowed: awgn, rayleigh", "got cdl"]),
    ("uncoded-with-bler", base, [("set", "link.mode", "uncoded"), ("set", "sweep.key", "snr_db")],
     ["metrics", "allowed metrics: ber, nmse, se"]),
    ("fft-size-and-prbs", base, [("set", "carrier.fft_size", 128)],
     ["carrier", "either num_prbs or fft_size"]),
    ("interferer-subcarrier-outside-band", base, [("set", "interference", {"subcarriers": [3, 72]})],
     ["interference.subcarriers", "subcarrier 72", "0..71"]),
    ("interferer-on-sounding-link", srs_base, [("set", "interference", {"subcarriers": [3]})],
     ["interference.subcarriers", "OFDM data link"]),
    ("interferer-with-se", base, [("set", "interference", {"subcarriers": [3]}),
                                  ("set", "metrics", ["ber", "se"])],
     ["metrics", "white noise", "allowed metrics with an interferer"]),
    ("interferer-inr-type", base, [("set", "interference", {"subcarriers": [3], "inr_db": "loud"})],
     ["interference.inr_db", "valid number"]),
    # --- sweep ------------------------------------------------------------------------
    ("sweep-unknown-key", base, [("set", "sweep.key", "foo.bar"), ("set", "sweep.snr_db", 10)],
     ["sweep.key", "'foo.bar' is not a scenario key", "allowed: ebno_db, snr_db or a dotted numeric key"]),
    ("sweep-non-numeric-key", base, [("set", "sweep.key", "channel.model"), ("set", "sweep.snr_db", 10)],
     ["sweep.key", "'channel.model'", "not a numeric"]),
    ("sweep-without-noise-level", base, [("set", "sweep.key", "channel.delay_spread_ns"),
                                         ("set", "sweep.values", [50, 300])],
     ["sweep", "exactly one of sweep.ebno_db, sweep.snr_db"]),
    ("sweep-noise-level-twice", base, [("set", "sweep.snr_db", 10)],
     ["sweep", "remove sweep.ebno_db / sweep.snr_db"]),
    ("sweep-value-out-of-range", base, [("set", "sweep.key", "channel.delay_spread_ns"),
                                        ("set", "sweep.values", [50, -10]), ("set", "sweep.snr_db", 10)],
     ["sweep.values[1]", "-10", "channel.delay_spread_ns", "greater than 0"]),
    ("sweep-values-not-numbers", base, [("set", "sweep.values", [2, "four"])],
     ["sweep.values[1]", "valid number", "'four'"]),
    ("sweep-empty-values", base, [("set", "sweep.values", [])],
     ["sweep.values", "at least 1"]),
    # --- images ---------------------------------------------------------------------
    ("image-metric-with-bits", base, [("set", "metrics", ["ber", "psnr"])],
     ["metrics", "psnr measures images", "source.type: digits", "allowed metrics here: ber, bler"]),
    ("reconstruction-with-bits", base, [("set", "reconstruction", [{"name": "median"}])],
     ["reconstruction", "work on images", "source.type: digits"]),
    ("reconstruction-unknown", images_base, [("set", "reconstruction", [{"name": "ddpn"}])],
     ["reconstruction[0].name", "unknown reconstruction 'ddpn'", 'did you mean "ddpm"', "allowed: none, ddpm, regressor, median"]),
    ("reconstruction-param-range", images_base, [("set", "reconstruction", [{"name": "ddpm", "steps": 0}])],
     ["reconstruction[0].steps", "greater than or equal to 1"]),
    ("reconstruction-labels", images_base, [("set", "reconstruction", [{"name": "none"}, {"name": "none"}])],
     ["reconstruction", "labels must be unique", "repeated: none"]),
    ("source-type", images_base, [("set", "source.type", "mnist")],
     ["source.type", "'bits' or 'digits'", "'mnist'"]),
    ("ldpc-rate-below-fifth", images_base, [("set", "link.coderate", 0.19)],
     ["link.coderate", "k >= n/5", "228 information bits of n = 1200"]),
    ("semantic-with-bits", semcom_base, [("set", "source.type", "bits")],
     ["source.type", "semantic communication sends images"]),
    ("semantic-on-cdl", semcom_base, [("set", "channel.model", "cdl")],
     ["channel.model", "awgn or rayleigh", "got cdl"]),
    ("semantic-with-ber", semcom_base, [("set", "metrics", ["psnr", "ber"])],
     ["metrics", "allowed metrics: image_mse, psnr, ssim, accuracy", "got ber"]),
    ("semantic-no-shipped-system", semcom_base, [("set", "semantic.cbr", 0.5), ("set", "sweep.key", "snr_db"),
                                                 ("del", "sweep.snr_db", None)],
     ["semantic.systems[0].model", "k = 32", "allowed: semantic.cbr 0.0625, 0.125, 0.25"]),
    ("semantic-system-of-another-kind", semcom_base, [("set", "semantic.systems", [{"name": "ae", "model": "semcom-vae-k8-u1-cpu"}])],
     ["semantic.systems[0].model.kind", "kind = 'vae'", "'ae' is needed"]),
    ("semantic-classifier-missing", semcom_base, [("set", "metrics", ["psnr", "accuracy"]),
                                                  ("set", "semantic.classifier", "no-such-classifier")],
     ["semantic.classifier", "no model 'no-such-classifier'"]),
    ("semantic-classifier-not-a-classifier", semcom_base, [("set", "metrics", ["accuracy"]),
                                                           ("set", "semantic.classifier", "regressor-digits-cpu")],
     ["semantic.classifier.class", "is not a DigitClassifier"]),
    ("accuracy-outside-semantic", images_base, [("set", "metrics", ["psnr", "accuracy"])],
     ["metrics", "accuracy scores the images a semantic system reconstructs"]),
    ("semantic-cbr-no-symbol", semcom_base, [("set", "semantic.cbr", 0.005), ("set", "sweep.key", "snr_db"),
                                             ("del", "sweep.snr_db", None)],
     ["semantic.cbr", "no channel symbol"]),
    ("semantic-system-unknown", semcom_base, [("set", "semantic.systems", [{"name": "gan"}])],
     ["semantic.systems[0].name", "'ae', 'vae' or 'dae'", "'gan'"]),
    ("semantic-users", semcom_base, [("set", "semantic.users", 3)],
     ["semantic.users", "1 or 2"]),
    # --- name: the results folder -------------------------------------------------------
    ("name-leaves-results", base, [("set", "name", "../../x")],
     ["name: the name becomes a folder name but contains / or \\", "not starting with a dot", "(got '../../x')"]),
    ("name-with-backslash", base, [("set", "name", "a\\b")], ["name:", "contains / or \\"]),
    ("name-dot-dot", base, [("set", "name", "..")], ["name:", "starts with a dot"]),
    ("name-hidden", base, [("set", "name", ".quickstart")], ["name:", "starts with a dot"]),
    ("name-empty", base, [("set", "name", "")], ["name:", "is empty"]),
    ("name-too-long", base, [("set", "name", "x" * 101)], ["name:", "has 101 characters", "1 to 100 characters"]),
    ("name-control-character", base, [("set", "name", "a\tb")], ["name:", "control character"]),
    # --- runtime ----------------------------------------------------------------------
    ("runtime-executor", base, [("set", "runtime", {"executor": "slurm"})],
     ["runtime.executor", "'local' or 'ray'", "'slurm'"]),
    ("runtime-address", base, [("set", "runtime", {"executor": "ray", "address": "head-node"})],
     ["runtime.address", "allowed: auto, host:port, ray://host:port", "'head-node'"]),
    ("runtime-gpu-without-gpus", base, [("set", "runtime", {"executor": "ray", "device": "gpu"})],
     ["runtime.device", "gpus_per_worker > 0"]),
    # every family: the rule sat in the OFDM family's checks, after the others returned
    ("runtime-gpu-without-gpus-narrowband", nb_base, [("set", "runtime", {"executor": "ray", "device": "gpu"})],
     ["runtime.device", "gpus_per_worker > 0"]),
    ("runtime-gpu-without-gpus-srs-precoding", lambda: base("srs_precoding_low"), [("set", "runtime", {"executor": "ray", "device": "gpu"})],
     ["runtime.device", "gpus_per_worker > 0"]),
    ("runtime-gpu-without-gpus-semantic", semcom_base, [("set", "runtime", {"executor": "ray", "device": "gpu"})],
     ["runtime.device", "gpus_per_worker > 0"]),
]


@pytest.mark.parametrize("case_id,make,ops,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_scenario(tmp_path, capsys, case_id, make, ops, expected):
    data = make()
    for op, key, value in ops:
        if op == "set":
            _set(data, key, value)
        else:
            _del(data, key)
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    needles = [str(path)] + [e.replace("{tmp}", str(tmp_path)) for e in expected]
    assert_one_error(code, err, *needles)


# --------------------------------------------------------------------------- files and dotted keys
def test_mask_file_wrong_shape(tmp_path, capsys):
    np.save(tmp_path / "mask.npy", np.ones([1, 14, 10], bool))  # needs [1, 14, 72]
    data = base()
    data["pilots"].update(type="mask", mask_file="mask.npy")
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "pilots.mask_file", "(1, 14, 10)", "(1, 14, 72)")


def test_sweep_misspelt_dotted_key(tmp_path, capsys):
    data = base()
    data["sweep"].update(key="channel.delay_sprad_ns", snr_db=10)
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "sweep.key", 'did you mean "channel.delay_spread_ns"')


# --------------------------------------------------------------------------- long values
LONG = 10_000_000  # characters of a value too long to repeat in a message
SHORT_MESSAGE = 1500  # characters: the longest message below lists the zoo's model names


def _with_long(dotted: str, size: int) -> dict:
    """The quickstart scenario with a string of ``size`` x's at ``dotted`` (``KEY`` as the
    last part: a key of that length instead of a value)."""
    data = base()
    if dotted.endswith(".KEY"):
        _set(data, dotted[: -len(".KEY")] + "." + "x" * size, 1)
    else:
        _set(data, dotted, "x" * size)
    return data


@pytest.mark.parametrize("dotted,needle", [
    ("channel.model", "channel.model: Input should be"), ("sweep.batch_size", "sweep.batch_size: "),
    ("sweep.key", "sweep.key: 'xxx"), ("receivers.1.name", "receivers[1].name: unknown receiver 'xxx"),
    ("receivers.4.model", "receivers[4].model: no model 'xxx"), ("pilots.mask_file", "pilots.mask_file: file not found"),
    ("channel.KEY", "unknown key"), ("receivers.1.KEY", "unknown parameter for ls"),
    ("name", f"name: the name becomes a folder name but has {LONG} characters"),
])
def test_long_value_gives_a_short_message(dotted, needle):
    """A 10 MB value (or key) is repeated cut to 200 characters and named by its length."""
    data = _with_long(dotted, LONG)
    if dotted == "pilots.mask_file":
        data["pilots"]["type"] = "mask"
    with pytest.raises(UserError) as caught:
        validate_scenario(data, source="s.yaml")
    text = str(caught.value)
    assert len(text) < SHORT_MESSAGE and "\n" not in text, text[:SHORT_MESSAGE]
    assert needle in text and f"... ({LONG} characters)" in text, text


def test_long_value_in_a_file(tmp_path, capsys):
    path = write(tmp_path, _with_long("channel.model", 100_000))
    code, err = run_cli(["validate", str(path)], capsys)
    line = assert_one_error(code, err, str(path), "channel.model", "... (100000 characters)")
    assert len(line) < 600


# --------------------------------------------------------------------------- file-level problems
def test_yaml_syntax_error(tmp_path, capsys):
    path = write(tmp_path, "name: broken\nchannel:\n  model: cdl\n   profile: C\nlink: {}\n")
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "not valid YAML", "line 4")


def _billion_laughs() -> str:
    """A 1 KB scenario whose last key would hold 10^9 strings once its aliases were expanded."""
    text = "name: laughs\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n"
    return text


def test_alias_bomb_fails_fast(tmp_path, capsys):
    path = write(tmp_path, _billion_laughs())
    assert path.stat().st_size < 1024
    tracemalloc.start()
    start = time.perf_counter()
    code, err = run_cli(["validate", str(path)], capsys)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert_one_error(code, err, f"{path}: line 2: YAML anchors and aliases (&name, *name) are not accepted")
    assert seconds < 2 and peak < 5_000_000, (seconds, peak)


def test_alias_in_set_value(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "sweep.values=[&v 1, *v]"], capsys)
    assert_one_error(code, err, f"{PREFIX}--set: sweep.values: YAML anchors and aliases")


@pytest.mark.parametrize("text,key,first,again", [
    ("name: a\nseed: 1\nseed: 2\n", "seed", 2, 3),
    ("name: a\nchannel:\n  model: cdl\n  profile: A\n  model: tdl\n", "model", 3, 5),
    ("receivers:\n  - name: ls\n    interpolation: nn\n    name: lmmse\n", "name", 2, 4),
    ("sweep: {values: [1, 2], key: snr_db, values: [3]}\n", "values", 1, 1),
])
def test_duplicate_key(tmp_path, capsys, text, key, first, again):
    path = write(tmp_path, text)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, f"{path}: line {again}: duplicate key {key!r}: first at line {first}, again at line {again}")


def test_file_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("seed: 1\nname: café\n".encode("latin-1"))
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, f"{path}: line 2: not UTF-8 text (byte 0xe9)")


def test_nesting_deeper_than_the_cap(tmp_path, capsys):
    assert strict_yaml.load("[" * strict_yaml.MAX_DEPTH + "]" * strict_yaml.MAX_DEPTH)  # at the cap: read
    deep = strict_yaml.MAX_DEPTH + 1
    path = write(tmp_path, "name: deep\nsweep:\n  values: " + "[" * (deep - 2) + "1" + "]" * (deep - 2) + "\n")
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, f"{path}: line 3: nested deeper than {strict_yaml.MAX_DEPTH} levels")


def test_file_larger_than_the_cap(tmp_path, capsys):
    """A 10 MB name: refused by its size, before it is read."""
    path = write(tmp_path, "name: " + "x" * LONG + "\n")
    start = time.perf_counter()
    code, err = run_cli(["validate", str(path)], capsys)
    line = assert_one_error(code, err, f"{path}: a file of {LONG + 7} bytes; allowed: at most {strict_yaml.MAX_BYTES} bytes")
    assert len(line) < 300 and time.perf_counter() - start < 2


def test_set_value_larger_than_the_cap(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "name=" + "x" * LONG], capsys)
    line = assert_one_error(code, err, f"{PREFIX}--set: name: a YAML text of {LONG} characters; allowed: at most")
    assert len(line) < 300


def test_missing_scenario_file(tmp_path, capsys):
    path = tmp_path / "nope.yaml"
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "scenario file not found")


def test_top_level_is_a_list(tmp_path, capsys):
    path = write(tmp_path, "- name: a\n- name: b\n")
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "YAML mapping")


def test_top_level_is_a_scalar(tmp_path, capsys):
    path = write(tmp_path, "just a string\n")
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), "YAML mapping")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_scenario_file(tmp_path, capsys, text):
    path = write(tmp_path, text)
    for cmd in (["validate", str(path)], ["run", str(path), "--quick", "--no-progress"]):
        code, err = run_cli(cmd, capsys)
        assert_one_error(code, err, str(path), "the scenario file is empty")


def test_second_file_bad(tmp_path, capsys):
    good = write(tmp_path, base(), "good.yaml")
    data = base()
    data["link"]["coderate"] = 1.5
    bad = write(tmp_path, data, "bad.yaml")
    code = main(["validate", str(good), str(bad)])
    out, err = capsys.readouterr()
    assert f"{good}: ok" in out
    assert_one_error(code, err, str(bad), "link.coderate")


# --------------------------------------------------------------------------- --set overrides
def test_set_without_equals(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "sweep.batch_size"], capsys)
    # the bad input is the --set argument itself: it is named instead of the file
    assert_one_error(code, err, "--set", "sweep.batch_size", "dotted.key=value")


def test_set_unknown_key(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "channel.modle=tdl"], capsys)
    line = assert_one_error(code, err, "channel.modle", 'did you mean "model"')
    assert line.startswith(f"{PREFIX}--set channel.modle=tdl: channel.modle: unknown key")


def test_set_out_of_range(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "link.coderate=2"], capsys)
    line = assert_one_error(code, err, "--set link.coderate=2: link.coderate", "0.95")
    assert str(path) not in line


def test_set_invalid_yaml_value(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "sweep.values=[1, 2"], capsys)
    assert_one_error(code, err, "--set", "sweep.values", "not valid YAML")


def test_set_into_scalar(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "seed.value=3"], capsys)
    assert_one_error(code, err, "--set", "seed", "not a section")


# --------------------------------------------------------------------------- several problems
def test_all_schema_problems_listed(tmp_path, capsys):
    data = base()
    data["carrier"]["num_prbs"] = 0
    data["channel"]["modle"] = "tdl"
    data["sweep"]["batch_size"] = "lots"
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    lines = assert_problems(code, err, str(path), 3)
    assert lines[0] == "carrier.num_prbs: Input should be greater than or equal to 1 (got 0)"
    assert lines[1].startswith('channel.modle: unknown key (did you mean "model"?); allowed keys: model, ')
    assert lines[2].startswith("sweep.batch_size: Input should be a valid integer") and "(got 'lots')" in lines[2]


def test_problem_list_is_capped(tmp_path, capsys):
    data = base()
    data["metrics"] = [f"bad{i}" for i in range(MAX_PROBLEMS + 2)]
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    lines = assert_problems(code, err, str(path), MAX_PROBLEMS + 2)
    assert lines[0].startswith("metrics[0]: ") and "'bad0'" in lines[0]
    assert lines[-1] == "[and 2 more]"


def test_first_problem_of_each_check_group(tmp_path, capsys):
    data = base()
    data["mimo"]["num_streams"] = 2  # consistency
    data["mimo"]["precoder"] = "zf"  # consistency again: only the first is shown
    data["sweep"]["key"] = "snr"  # sweep
    data["receivers"][2]["name"] = "lmse"  # receivers
    data["pilots"].update(type="mask", mask_file="nothere.npy")  # files
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    lines = assert_problems(code, err, str(path), 4)
    assert lines[0].startswith("mimo.num_streams: 2 streams need")
    assert lines[1].startswith("sweep.key: 'snr' is not a scenario key")
    assert lines[2].startswith("receivers[2].name: ") and "lmse" in lines[2]
    assert lines[3].startswith("pilots.mask_file: file not found")


# --------------------------------------------------------------------------- did-you-mean
@pytest.mark.parametrize("key", ["snr", "SNR", "sweep.snr", "seed_db"])
def test_sweep_key_suggests_noise_key(tmp_path, capsys, key):
    data = base()
    data["sweep"]["key"] = key
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    line = assert_one_error(code, err, f"{path}: sweep.key: {key!r} is not a scenario key",
                            '(did you mean "snr_db"?)', "allowed: ebno_db, snr_db")
    assert "noise level" not in line


def test_sweep_key_section_path_of_noise_key(tmp_path, capsys):
    data = base()
    data["sweep"]["key"] = "sweep.snr_db"
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, f"{path}: sweep.key: 'sweep.snr_db' is not a numeric", '(did you mean "snr_db"?)')


@pytest.mark.parametrize("index,model,meant", [(4, "nonid-quickstart", "nonid-quickstart-cpu"),
                                               (5, "Identical-Quickstart-CPU", "identical-quickstart-cpu"),
                                               (4, "{tmp}/models/nonid-quickstart-cpuu", "nonid-quickstart-cpu")])
def test_unknown_diffusion_model(tmp_path, capsys, index, model, meant):
    data = base()
    model = model.replace("{tmp}", str(tmp_path))  # a long path: matched by its last part
    data["receivers"][index]["model"] = model
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, f"{path}: receivers[{index}].model: no model {model!r}",
                     f'(did you mean "{meant}"?)', "allowed: a checkpoint folder or one of " + ", ".join(zoo_names()))


# --------------------------------------------------------------------------- --set names itself
@pytest.mark.parametrize("override,field", [("sweep.batch_size=abc", "sweep.batch_size"),
                                            ("carrier.num_prbs=0", "carrier.num_prbs"),
                                            ("sweep.bogus=1", "sweep.bogus"),
                                            ("receivers.4.model=nonid-quickstart", "receivers[4].model"),
                                            ("receivers=[{label: a}]", "receivers[0].name")])
def test_set_problem_names_the_override(tmp_path, capsys, override, field):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", override], capsys)
    line = assert_one_error(code, err, f"{PREFIX}--set {override}: {field}: ")
    assert str(path) not in line


def test_set_and_file_problems_each_named(tmp_path, capsys):
    data = base()
    data["carrier"]["num_prbs"] = 0
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path), "--set", "sweep.batch_size=7", "--set", "sweep.batch_size=abc"], capsys)
    lines = assert_problems(code, err, str(path), 2)
    assert lines[0].startswith("carrier.num_prbs: ")  # set by the file
    assert lines[1].startswith("--set sweep.batch_size=abc: sweep.batch_size: ")  # the last override wins


def test_set_inside_a_section_problem(tmp_path, capsys):
    path = write(tmp_path, base())
    code, err = run_cli(["validate", str(path), "--set", "carrier.fft_size=128"], capsys)
    assert_one_error(code, err, f"{PREFIX}{path}, --set carrier.fft_size=128: carrier: give either num_prbs or fft_size")


@pytest.mark.parametrize("override,field", [("bogus=1", "bogus"), ("network.profile=huge", "network.profile")])
def test_train_set_problem_names_the_override(capsys, override, field):
    spec = SCENARIOS / "train" / "nonid_quickstart_cpu.yaml"
    code, err = run_cli(["train", str(spec), "--set", override], capsys)
    assert_one_error(code, err, f"{PREFIX}--set {override}: {field}: ")


@pytest.mark.parametrize("spec", ["nonid_quickstart_cpu.yaml", "ddpm_digits_cpu.yaml", "moe_vb/expert_cdlA_10k_cpu.yaml",
                                  "srs_precoding/dm_high_cpu.yaml", "semcom/ae.yaml"])
def test_training_spec_name_is_a_folder_name(spec):
    """A model's name is its zoo folder: ../../x is refused (by loading the spec only, so
    that a regression cannot start a training that writes outside the zoo)."""
    from linksim.cli import _trainer

    path = SCENARIOS / "train" / spec
    with pytest.raises(UserError) as caught:
        _trainer(path).load_spec(path, ["name=../../x"])
    assert str(caught.value).startswith("--set name=../../x: name: "), str(caught.value)



# --------------------------------------------------------------------------- run: existing results
def _run_scenario(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "results" / "old"
    data = base()
    data["output"] = str(out)
    return write(tmp_path, data), out


@pytest.mark.parametrize("existing", ["metrics.csv", "meta.json"])
def test_run_refuses_existing_results(tmp_path, capsys, existing):
    path, out = _run_scenario(tmp_path)
    out.mkdir(parents=True)
    (out / existing).write_text("receiver,ebno_db,ber\nperfect,2,0.1\n" if existing.endswith("csv") else "{}\n")
    before = sorted(p.name for p in out.iterdir())
    code, err = run_cli(["run", str(path), "--no-progress", "--no-plot"], capsys)
    assert_one_error(code, err, str(out), "results already exist", "--resume", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written before refusing


def test_resume_with_changed_scenario(tmp_path, capsys):
    path, out = _run_scenario(tmp_path)
    out.mkdir(parents=True)
    (out / "metrics.csv").write_text("receiver,ebno_db,ber\nperfect,2,0.1\n")
    previous = validate_scenario(base()).resolved()
    previous["seed"] = 1  # one field differs from the resolved scenario
    (out / "scenario.yaml").write_text(yaml.safe_dump(previous))
    code, err = run_cli(["run", str(path), "--resume", "--no-progress", "--no-plot"], capsys)
    assert_one_error(code, err, str(out), "--resume continues the same scenario or adds statistics", "changed: seed (was 1, now 42)")


# --------------------------------------------------------------------------- run: output folder
def _run_into(out: Path, tmp_path: Path, capsys, *flags: str) -> tuple[int, str]:
    """``linksim run`` of the quickstart scenario with its results in ``out``."""
    path = write(tmp_path, base())
    return run_cli(["run", str(path), "--no-progress", "--no-plot", "--set", f"output={out}", *flags], capsys)


@pytest.mark.parametrize("where,reason", [("blocker", "a file stands where the folder should be"),
                                          ("blocker/out", "a file stands where a folder above it should be")])
def test_run_output_where_a_file_is(tmp_path, capsys, where, reason):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file\n")
    out = tmp_path / where
    code, err = _run_into(out, tmp_path, capsys)
    assert_one_error(code, err, f"{PREFIX}{out}: cannot write the results folder ({reason})")
    assert blocker.read_text() == "a file\n" and not list(tmp_path.rglob("*.tmp"))


def _read_only_folder(path: Path) -> None:
    """Make the folder ``path`` read-only; skip the test where that protects nothing
    (root: the test above simulates the OS error with a file in the way)."""
    path.chmod(0o555)
    try:
        (path / "probe").touch()
    except PermissionError:
        return
    (path / "probe").unlink()
    path.chmod(0o755)
    pytest.skip("this user writes into read-only folders (root)")


@pytest.mark.parametrize("flags,where", [(["--overwrite"], "."), ([], "new")])
def test_run_into_a_read_only_folder(tmp_path, capsys, flags, where):
    out = tmp_path / "results"
    out.mkdir()
    (out / "metrics.csv").write_text("receiver,ebno_db,ber\nperfect,2,0.1\n")
    _read_only_folder(out)
    try:
        code, err = _run_into(out / where, tmp_path, capsys, *flags)
    finally:
        out.chmod(0o755)
    assert_one_error(code, err, "cannot write the results folder (Permission denied)")
    assert (out / "metrics.csv").exists() and not list(tmp_path.rglob("*.tmp"))


# --------------------------------------------------------------------------- real subprocess
def _subprocess(args, tmp_path):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "linksim", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)


def _subprocess_case(tmp_path, data) -> tuple[Path, subprocess.CompletedProcess]:
    path = write(tmp_path, data)
    return path, _subprocess(["validate", str(path)], tmp_path)


def test_subprocess_unknown_key(tmp_path):
    data = base()
    data["channel"]["modle"] = data["channel"].pop("model")
    path, proc = _subprocess_case(tmp_path, data)
    assert proc.returncode == 2
    assert_one_error(proc.returncode, proc.stderr, str(path), "channel.modle", 'did you mean "model"')


def test_subprocess_yaml_syntax_error(tmp_path):
    path, proc = _subprocess_case(tmp_path, "sweep: {values: [1, 2}\n")
    assert proc.returncode == 2
    assert_one_error(proc.returncode, proc.stderr, str(path), "not valid YAML", "line ")


def test_subprocess_error_after_receivers_imported(tmp_path):
    data = base()
    data["receivers"][1]["interpolation"] = "cubic"
    path, proc = _subprocess_case(tmp_path, data)
    assert proc.returncode == 2
    assert_one_error(proc.returncode, proc.stderr, str(path), "receivers[1].interpolation")


# --------------------------------------------------------------------------- receivers by module path
@pytest.mark.parametrize("name,needles", [
    ("no_such_module_xyz:Rx", ["receivers[0].name", "cannot import module 'no_such_module_xyz'"]),
    ("my_rx:SmoothLS", ["receivers[0].name", "module 'my_rx' has no 'SmoothLS'", 'did you mean "SmoothedLS"']),
    ("my_rx:NotAReceiver", ["receivers[0].name", "'my_rx:NotAReceiver' is not a linksim receiver"]),
    ("my_rx:", ["receivers[0].name", "is not module.path:ClassName"]),
])
def test_module_path_receiver_errors(tmp_path, capsys, name, needles):
    (tmp_path / "my_rx.py").write_text("from linksim.receivers.ls import LSEstimator\n\n"
                                       "class SmoothedLS(LSEstimator):\n    pass\n\n"
                                       "class NotAReceiver:\n    pass\n")
    data = base()
    data["receivers"] = [{"name": name}]
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, str(path), *needles)
    sys.modules.pop("my_rx", None)


def test_module_next_to_the_scenario_is_found(tmp_path, capsys):
    (tmp_path / "next_rx.py").write_text("from linksim.receivers.ls import LSEstimator\n\n"
                                         "class Mine(LSEstimator):\n    pass\n")
    data = base()
    data["receivers"] = [{"name": "next_rx:Mine", "interpolation": "nn"}, {"name": "next_rx:Mine", "label": "b", "bogus": 1}]
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, "receivers[1].bogus", "unknown parameter for next_rx:Mine")  # its Params checked
    sys.modules.pop("next_rx", None)


# --------------------------------------------------------------------------- damaged run folders (plot, compare)
def _damage(folder: Path, how: str) -> str:
    """Damage a copy of a committed run folder; returns the file the message must name."""
    metrics, scenario = folder / "metrics.csv", folder / "scenario.yaml"
    text = metrics.read_text()
    head, first, *rest = text.splitlines()
    if how == "not a number":
        cells = first.split(",")
        cells[1] = "abc"
        metrics.write_text("\n".join([head, ",".join(cells), *rest]) + "\n")
    elif how == "not UTF-8":
        metrics.write_bytes(text.encode() + b"\xff\xfe\n")
    elif how == "short row":
        metrics.write_text("\n".join([head, first.rsplit(",", 2)[0], *rest]) + "\n")
    elif how == "no receiver column":
        metrics.write_text("\n".join([head.replace("receiver", "rx"), first, *rest]) + "\n")
    elif how == "scenario alias":
        scenario.write_text("a: &a [1, 2]\nb: *a\n")
        return str(scenario)
    elif how == "scenario not UTF-8":
        scenario.write_bytes(b"name: \xff\n")
        return str(scenario)
    return str(metrics)


@pytest.mark.parametrize("command", ["plot", "compare"])
@pytest.mark.parametrize("how,needle", [
    ("not a number", "'abc' is not a number; allowed: a number, nan or empty"),
    ("not UTF-8", "not UTF-8 text"),
    ("short row", "values where the header has"),
    ("no receiver column", "has no receiver column"),
    ("scenario alias", "anchors and aliases"),
    ("scenario not UTF-8", "not UTF-8 text"),
])
def test_damaged_run_folder(tmp_path, capsys, command, how, needle):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    source = _damage(folder, how)
    argv = ["plot", str(folder), "--out", str(tmp_path / "fig")] if command == "plot" else ["compare", str(folder)]
    code, err = run_cli(argv, capsys)
    assert_one_error(code, err, source, needle)


def test_allowed_mismatch_is_returned_for_the_record():
    """allow_mismatch: true lets a model trained on other sets pass; the differences come
    back from the check (the receiver puts them in its build_info, hence meta.json)."""
    from linksim.narrowband.receivers.dm_pooled import PooledDiffusion, PooledParams
    from linksim.scenario import load_scenario

    s = load_scenario(SCENARIOS / "moe_vb_balanced.yaml", [
        "receivers=[{name: dm_pooled, model: nbdm-pooled-scarceB-cpu, allow_mismatch: true}]"])
    params = PooledParams.model_validate(s.receivers[0].params)
    assert PooledDiffusion.check_scenario(s, params) == ["CDL-B training channels trained 1000, scenario 10000"]
    assert PooledDiffusion.check_scenario(s, params.model_copy(update={"model": "auto"})) == []


def test_ofdm_model_on_other_channels_runs_only_when_allowed_and_recorded():
    """A Card A model on UMa (trained on CDL-C) with allow_mismatch: true passes validation,
    and the differences are what the receiver records; a mixture scenario whose every
    environment was trained on passes without it."""
    from linksim.receivers.trained_for import channel_mismatches
    from linksim.diffusion.checkpoints import read_checkpoint_config, resolve_model
    from linksim.scenario import load_scenario

    cfg = read_checkpoint_config(resolve_model("nonid-quickstart-cpu"))
    s = load_scenario(SCENARIOS / "quickstart.yaml", ["channel.model=uma", "receivers=[{name: nonidentical_dm, "
                                                      "model: nonid-quickstart-cpu, allow_mismatch: true}]"])
    assert channel_mismatches(cfg, s) == ["channel.model=uma, channel.direction=uplink "
                                          "(channel.model trained 'cdl', scenario 'uma')"]
    assert channel_mismatches(cfg, load_scenario(SCENARIOS / "quickstart.yaml")) == []
    mix = load_scenario(SCENARIOS / "mixed_environments.yaml")
    assert channel_mismatches(read_checkpoint_config(resolve_model("nonid-cdlmix-cpu")), mix) == []
    assert len(channel_mismatches(cfg, mix)) == 14                       # all but CDL-C at 100 ns


def test_srs_model_of_other_mobility_runs_only_when_allowed():
    from linksim.diffusion.checkpoints import read_checkpoint_config, resolve_model
    from linksim.scenario import load_scenario
    from linksim.tdd.receivers.learned import DiffusionPosterior

    s = load_scenario(SCENARIOS / "srs_precoding_low.yaml",
                      ["receivers=[{name: dm, model: srs-dm-high-cpu, allow_mismatch: true}]"])
    params = DiffusionPosterior.Params.model_validate(s.receivers[0].params)
    DiffusionPosterior.check_scenario(s, params)                          # allowed: no error
    cfg = read_checkpoint_config(resolve_model("srs-dm-high-cpu"))
    assert DiffusionPosterior.mismatches(cfg, s.srs_precoding) == ["ue_speed_kmh trained 30.0, scenario 3.0"]
    low = read_checkpoint_config(resolve_model("srs-dm-low-cpu"))
    assert DiffusionPosterior.mismatches(low, s.srs_precoding) == []


@pytest.mark.parametrize("sub,needle", [("", "the results folder is a file"),
                                        ("/below", "has the file")])
def test_validate_refuses_an_output_run_could_not_write(tmp_path, capsys, sub, needle):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    data = base()
    data["output"] = str(blocker) + sub
    path = write(tmp_path, data)
    code, err = run_cli(["validate", str(path)], capsys)
    assert_one_error(code, err, "output", needle, "allowed: a folder path")
