"""Card C's SRS precoding link through linksim's link block, with the shipped models."""

import json

import numpy as np
import pytest

from linksim.cli import main
from linksim.errors import UserError
from linksim.metrics import Accumulator
from linksim.scenario import load_scenario
from linksim.links.registry import build_link

RECEIVERS = ("receivers=[{name: perfect}, {name: srs_hold}, {name: wiener}, {name: wiener, label: wiener_k8, samples: 8}, {name: sl}, "
             "{name: dm, label: dm_k4, samples: 4}, {name: e2e}]")


@pytest.mark.slow  # a claim; every SRS receiver runs in the default suite (test_resume_families.py)
def test_perfect_csi_bounds_every_precoder_and_wiener_beats_hold_last(scenario_path):
    """On the same realisations: SVD precoding of the true channel has the highest SE
    (equal power, so the right singular vectors maximise log det for every matrix);
    the Wiener predictor has a lower NMSE than the hold-last estimate and reports its
    error variance; every learned receiver runs and is finite."""
    s = load_scenario(scenario_path("srs_precoding_high"), [RECEIVERS, "srs_precoding.training_samples=2000"])
    link = build_link(s)
    accs = {}
    for _ in range(2):
        for label, st in link.run_batch(24, link.noise_variance("snr_db", 0.0)).items():
            accs.setdefault(label, Accumulator()).add(st)
    v = {label: acc.values(None) for label, acc in accs.items()}
    for label in ("srs_hold", "wiener", "wiener_k8", "sl", "dm_k4", "e2e"):
        assert v[label]["se"] < v["perfect"]["se"], label
    assert v["wiener"]["nmse_db_hi"] < v["srs_hold"]["nmse_db_lo"]
    assert np.isnan(v["e2e"]["nmse_db"])                  # E2E emits a precoder, no estimate
    assert v["wiener_k8"]["nmse_db"] == v["wiener"]["nmse_db"]   # same estimate, other precoder
    assert 0.0 < v["dm_k4"]["gcs"] < 1.0


def test_wiener_error_variance_is_calibrated(scenario_path):
    """On a small SRS layout (48 observations, 48 targets; 4 000 training channels for the
    covariances) the Wiener predictor's reported error variance matches its measured
    error at low and high SNR."""
    small = ["receivers=[{name: srs_hold}, {name: wiener}]", "srs_precoding.training_samples=4000",
             "srs_precoding.mobility=low", "srs_precoding.num_prb=12", "srs_precoding.history=4",
             "srs_precoding.bs_rows=1", "srs_precoding.bs_cols=1"]
    link = build_link(load_scenario(scenario_path("srs_precoding_low"), small))
    for snr in (0.0, 10.0):
        accs = {}
        for _ in range(2):
            for label, st in link.run_batch(64, link.noise_variance("snr_db", snr)).items():
                accs.setdefault(label, Accumulator()).add(st)
        v = {label: acc.values(None) for label, acc in accs.items()}
        assert 0.85 < v["wiener"]["err_var_ratio"] < 1.15, snr
        assert v["wiener"]["nmse_db_hi"] < v["srs_hold"]["nmse_db_lo"]


def test_srs_input_errors_name_the_field(scenario_path):
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("srs_precoding_low"), ["metrics=[ber]"])
    assert err.value.field == "metrics" and "gcs" in err.value.message
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("srs_precoding_low"), ["srs_precoding.num_hops=5", "receivers=[{name: srs_hold}]"])
    assert err.value.field == "srs_precoding.num_hops"
    with pytest.raises(UserError) as err:
        load_scenario(scenario_path("srs_precoding_low"), ["receivers=[{name: dm, samples: 0}]"])
    assert err.value.field == "receivers[0].samples"


def test_model_trained_for_another_shape_is_refused_with_one_message(scenario_path, capsys):
    """A scenario whose SRS layout differs from the shipped models' exits non-zero naming
    the receiver's model and both shapes, no traceback."""
    rc = main(["validate", str(scenario_path("srs_precoding_low")), "--set", "srs_precoding.num_prb=24"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "receivers[4].params.model" in err and "trained for" in err and "(8, 6, 24, 2, 8)" in err
    assert "Traceback" not in err


def test_training_program_learns_and_exports_a_loadable_model(tmp_path):
    """A short ``linksim train`` of the SL model on a static channel (the history holds
    the whole band): the loss falls, the export loads as an estimator, the card records
    the measurements."""
    spec = tmp_path / "sl.yaml"
    spec.write_text("kind: srs_precoding\nname: tiny-sl\nmodel: sl\n"
                    "channel: {ue_speed_kmh: 0, history: 4, delay_slots: 0}\n"
                    "data: {num_samples: 512, seed: 3}\ntraining: {steps: 150, batch_size: 32, learning_rate: 0.002}\n"
                    "evaluation: {num_channels: 16, snr_db: [10]}\n")
    out = tmp_path / "model"
    assert main(["train", str(spec), "--set", f"output={out}", "--no-progress"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    info = cfg["training"]
    assert info["final_loss"] < 0.8 * info["first_loss"]
    assert "10 dB" in info["measured"] and "| 10 dB |" in (out / "card.md").read_text()
    from linksim.tdd.estimators import ModelEstimator

    est = ModelEstimator(str(out), tuple(cfg["data_shape"]), "sl")
    with pytest.raises(UserError) as err:
        ModelEstimator(str(out), tuple(cfg["data_shape"]), "dm")
    assert err.value.field == "model"
    assert est.channel["ue_speed_kmh"] == 0.0
