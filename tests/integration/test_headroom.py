"""Headroom before learning (linksim.headroom): the drop genie of 38.901 channels and the
LMMSE it uses."""

from __future__ import annotations

import numpy as np
import pytest

from linksim.data.channel_specs import resolve_spec
from linksim.headroom import comb_indices, genie_test_set, lmmse_estimate, measure_headroom
from linksim.system.channels import ComponentChannel


def test_lmmse_estimate_reaches_the_gaussian_mmse():
    rng = np.random.default_rng(0)
    d, n, nv = 12, 40000, 1.0
    g = rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))
    cov = g @ g.conj().T / d
    h = (rng.standard_normal((n, d)) + 1j * rng.standard_normal((n, d))) / np.sqrt(2) @ np.linalg.cholesky(cov).T
    idx = np.arange(0, d, 3)
    y = h[:, idx] + np.sqrt(nv / 2) * (rng.standard_normal((n, len(idx))) + 1j * rng.standard_normal((n, len(idx))))
    est = lmmse_estimate(cov, y, idx, nv)
    c_dp = cov[:, idx]
    mmse = np.real(np.trace(cov - c_dp @ np.linalg.solve(c_dp[idx] + nv * np.eye(len(idx)), c_dp.conj().T)))
    assert np.mean(np.sum(np.abs(est - h) ** 2, 1)) == pytest.approx(mmse, rel=0.015)
    assert list(comb_indices((2, 8), 4)) == [0, 4, 8, 12]


def test_phase_draws_refuses_a_model_without_drops():
    comps, _ = resolve_spec("quickstart")
    with pytest.raises(ValueError, match="38.901 topology"):
        ComponentChannel(comps[0].scenario).phase_draws(2, 2, 1, 1e4)


def test_drop_genie_knows_each_drop():
    """The draws of one drop share its covariance: the LMMSE with a drop's own covariance
    (from its other draws) beats the one with another drop's by a wide margin; and as the
    draws share the drop's rays (only their phases change), 20 dimensions hold all but
    0.2 % of a drop's energy (with rays redrawn per draw, from the same large-scale
    parameters, 0.9 %)."""
    h, genie, info = genie_test_set("uma", 8, 128, seed=5, chunk=8, progress=False)
    assert h.shape == (8, 8, 72) and info["draws_per_drop"] == 128
    d = 8 * 72
    idx = comb_indices((8, 72), 4)
    rng = np.random.default_rng(1)
    nv = 0.01
    x = h.reshape(8, d)
    y = x[:, idx] + np.sqrt(nv / 2) * (rng.standard_normal((8, len(idx))) + 1j * rng.standard_normal((8, len(idx))))
    own = [np.sum(np.abs(lmmse_estimate(genie(i), y[i:i + 1], idx, nv) - x[i]) ** 2) for i in range(8)]
    other = [np.sum(np.abs(lmmse_estimate(genie((i + 1) % 8), y[i:i + 1], idx, nv) - x[i]) ** 2) for i in range(8)]
    assert 10 * np.log10(np.sum(other) / np.sum(own)) > 6.0
    share = [np.sum(lam[-20:]) / np.sum(lam) for lam in (np.linalg.eigvalsh(genie(i)) for i in range(8))]
    assert np.mean(share) > 0.998, share


@pytest.mark.slow
def test_headroom_of_one_cdl_profile_is_nil():
    out = measure_headroom("quickstart", snr_db=(10,), components=(1, 4), train_samples=1000, num_test=128,
                           genie_draws=0, progress=False)
    assert abs(out["headroom_db"]["10"]) < 0.3
