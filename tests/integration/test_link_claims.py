"""Statistical checks of the chain on the shipped scenarios."""

import math

import numpy as np
import pytest

from linksim.scenario import load_scenario
from linksim.links.registry import build_link


GRAPH = ["runtime.xla=false"]  # graph mode: no XLA compilation for these statistical checks


def _counts(link, label_stats, batches, batch_size, no):
    for _ in range(batches):
        for label, st in link.run_batch(batch_size, no).items():
            acc = label_stats.setdefault(label, {"block_errors": 0.0, "blocks": 0.0})
            acc["block_errors"] += st["block_errors"]
            acc["blocks"] += st["blocks"]
    return label_stats


def _not_worse(a, b):
    """a's block errors exceed b's by no more than 3 sigma (same realisations)."""
    ea, eb = a["block_errors"], b["block_errors"]
    return ea - eb <= 3 * math.sqrt(max(ea + eb, 1.0))


@pytest.mark.slow  # a claim on the quickstart; its quick run and the calibration test below stay
def test_quickstart_perfect_le_lmmse_le_ls(scenario_path):
    s = load_scenario(scenario_path("quickstart"), [
        "receivers=[{name: perfect}, {name: ls}, {name: lmmse, cov_samples: 500}]", *GRAPH])
    link = build_link(s)
    no = link.noise_variance("ebno_db", -2.0)
    stats = _counts(link, {}, batches=4, batch_size=32, no=no)
    p, m, ls = stats["perfect"], stats["lmmse"], stats["ls"]
    assert _not_worse(p, m) and _not_worse(m, ls), stats
    # the comparison is not vacuous: LS is clearly worse than perfect CSI here
    assert ls["block_errors"] - p["block_errors"] > 3 * math.sqrt(ls["block_errors"] + p["block_errors"]), stats


@pytest.mark.slow  # a claim on UMa; the precoders run in the default suite: test_chain_options.py
def test_svd_precoding_beats_no_precoding_in_se(scenario_path):
    se = {}
    for precoder in ("svd", "none"):
        s = load_scenario(scenario_path("uma_downlink_svd"), [
            f"mimo.precoder={precoder}", "receivers=[{name: perfect}]", "metrics=[se]", *GRAPH])
        link = build_link(s)
        from sionna.phy import config

        config.seed = 5  # same drops and fading for both precoders
        vals = []
        for snr_db in (0.0, 10.0):
            st = link.run_batch(16, link.noise_variance("snr_db", snr_db))["perfect"]
            vals.append(st["se_sum"] / st["se_count"])
        se[precoder] = np.array(vals)
    assert np.all(se["svd"] > se["none"] + 0.3), se


def test_lmmse_and_gmm_err_var_is_calibrated(scenario_path):
    """The error variance a receiver reports equals its real squared error on the data
    REs, on average (LMMSE's used to be 1.26x: its variance was interpolated in time
    like the estimate, as if the errors of the two pilot symbols were one)."""
    from linksim.metrics import run_batches

    s = load_scenario(scenario_path("quickstart"), [
        "receivers=[{name: lmmse, cov_samples: 500}, {name: gmm, components: 4, fit_samples: 1000}]",
        "metrics=[nmse, calibration]", *GRAPH])
    link = build_link(s)
    for ebno in (-4.0, 4.0):
        acc = run_batches(link, link.noise_variance("ebno_db", ebno), batches=4, batch_size=16)
        for label in ("lmmse", "gmm"):
            ratio, lo, hi = acc[label].ratio("err_var_ratio")
            assert 0.85 < ratio < 1.15 and hi - lo < 0.2, (label, ebno, ratio, lo, hi)
