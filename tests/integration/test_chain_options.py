"""Every detector, precoder and coding mode of the chain runs and gives sane counts."""

import math

import pytest

from linksim.scenario import load_scenario, validate_scenario
from linksim.links.registry import build_link

BASE = {
    "carrier": {"num_prbs": 2},
    "antennas": {"bs": {"cols": 2}, "ue": {"cols": 2}},
    "channel": {"model": "rayleigh", "correlation_bs": 0.3},
    "pilots": {"type": "dmrs", "symbols": [2], "comb": 2},
    "link": {"bits_per_symbol": 4, "coderate": 0.5},
    "mimo": {"num_streams": 2, "precoder": "none", "detector": "lmmse"},
    "receivers": [{"name": "perfect"}, {"name": "ls"}, {"name": "lmmse", "cov_samples": 64}],
    "sweep": {"key": "snr_db", "values": [30]},
    "metrics": ["ber", "bler", "nmse", "se", "goodput"],
    # XLA compiles each option's step (twice the set-up of a one-batch run); the XLA chain
    # runs in the quick scenario runs and the resume tests; XLA vs graph: test_detection.py
    "runtime": {"xla": False},
}


def _set(data, key, value):
    import copy

    data = copy.deepcopy(data)
    node = data
    *parts, last = key.split(".")
    for p in parts:
        node = node.setdefault(p, {})
    node[last] = value
    return data


@pytest.mark.parametrize("key,value", [
    ("mimo.detector", "zf"), ("mimo.detector", "mf"), ("mimo.detector", "kbest"),
    ("mimo.precoder", "svd"), ("mimo.precoder", "zf"), ("mimo.precoder", "rzf"),
    ("link.mode", "tb"), ("pilots.type", "kronecker"), ("channel.model", "tdl"),
])
def test_chain_option_runs(key, value):
    data = _set(BASE, key, value)
    if key == "link.mode":
        data["link"]["mcs_index"] = 5
    if key == "pilots.type":
        data["pilots"] = {"type": "kronecker", "symbols": [2, 11]}
    s = validate_scenario(data)
    link = build_link(s)
    out = link.run_batch(4, link.noise_variance("snr_db", 30.0))
    for label, st in out.items():
        assert st["bits"] > 0 and st["blocks"] > 0, label
        assert 0 <= st["bit_errors"] <= st["bits"]
        assert st["se_sum"] / st["se_count"] > 1.0  # two streams at 30 dB carry several bit/s/Hz
    # perfect CSI at 30 dB decodes (almost) everything, except with the matched filter,
    # which leaves the inter-stream interference in place
    if value != "mf":
        assert out["perfect"]["block_errors"] <= 1
    nmse_ls = out["ls"]["nmse_err"] / out["ls"]["nmse_ref"]
    assert math.isfinite(nmse_ls) and nmse_ls < 0.5


def test_mixture_batches_hold_every_component():
    """A batch the number of components does not divide still draws every component
    equally often (it used to keep the first components' draws only)."""
    import numpy as np

    data = _set(BASE, "channel.mixture", {"correlation_bs": [0.0, 0.5, 0.9]})
    data["sweep"]["batch_size"] = 3  # the sweep's batches must split evenly; draws for statistics need not
    link = build_link(validate_scenario(data))
    counts = np.zeros(3)
    for _ in range(60):
        _, labels = link.channel.generate(4, 1, 1.0)
        counts += np.bincount(labels.numpy(), minlength=3)
    assert counts.sum() == 240 and np.all(np.abs(counts - 80) < 25), counts  # 3 sigma ~ 22


def test_the_sounding_link_has_no_eb_n0(scenario_path):
    """The sounding link sends pilots only: asked for an Eb/N0 it says so (it used to invent
    QPSK at rate 1 for one), while its SNR works as everywhere."""
    link = build_link(load_scenario(scenario_path("srs_sounding"), ["receivers=[{name: perfect}, {name: ls}]"]))
    assert link.noise_variance("snr_db", 10.0) == pytest.approx(0.1)
    with pytest.raises(NotImplementedError, match="has no coded bits: sweep snr_db"):
        link.noise_variance("ebno_db", 10.0)
