"""Narrowband interferer: per-subcarrier noise through LS, LMMSE and the detector."""

import numpy as np
import pytest
import tensorflow as tf

from linksim.metrics import run_batches
from linksim.receivers.lmmse import CovarianceInterpolator
from linksim.receivers.ls import NoiseAwareLS
from linksim.scenario import validate_scenario
from linksim.links.registry import build_link

HIT = list(range(8, 14))
BASE = {
    "carrier": {"num_prbs": 2},
    "antennas": {"bs": {"cols": 2}, "ue": {"cols": 1}},
    "channel": {"model": "cdl", "profile": "C", "direction": "uplink", "delay_spread_ns": 100},
    "pilots": {"type": "dmrs", "symbols": [2, 11], "comb": 2},
    "interference": {"subcarriers": HIT, "inr_db": 20.0},
    "link": {"bits_per_symbol": 4, "coderate": 0.5},
    "receivers": [{"name": "perfect"}, {"name": "ls"}, {"name": "lmmse", "cov_samples": 256}],
    "sweep": {"key": "snr_db", "values": [10]},
    "metrics": ["ber", "bler", "nmse"],
    "runtime": {"xla": False},  # graph mode: no XLA compilation for these statistical checks
}


def _scenario(**interference):
    data = {**BASE, "interference": {**BASE["interference"], **interference}}
    return validate_scenario(data)


def test_per_re_noise_equals_scalar_noise_when_flat():
    link = build_link(_scenario(subcarriers=[]))
    rg = link.rg
    y = tf.complex(tf.random.normal([3, 1, 2, 14, 24]), tf.random.normal([3, 1, 2, 14, 24]))
    for kind in (None, "lin"):
        est = NoiseAwareLS(rg, interpolation_type=kind)
        h0, e0 = est(y, tf.constant(0.3))
        h1, e1 = est(y, tf.fill([1, 1, 1, 1, 24], 0.3))
        np.testing.assert_allclose(h0.numpy(), h1.numpy(), rtol=1e-6)
        np.testing.assert_allclose(np.broadcast_to(e0, h0.shape), np.broadcast_to(e1, h0.shape), rtol=1e-6)
        if kind is None:
            # a per-RE level reaches exactly its own pilots
            no = np.full([1, 1, 1, 1, 24], 0.3, np.float32)
            no[..., 8] = 3.0
            _, e2 = est(y, tf.constant(no))
            e2 = np.broadcast_to(e2, h0.shape)[0, 0, 0, 0, 0]  # [num_pilots] (0: silent comb)
            live = e2[e2 > 0]
            assert np.isclose(live.max(), 3.0) and np.isclose(np.median(live), 0.3)
            assert np.sum(np.isclose(live, 3.0)) == 2  # subcarrier 8 in both pilot symbols
    # the LMMSE interpolator's per-realisation solve equals its eigen-decomposed path
    cov = link.receivers[2][1].covariances[0]
    white = CovarianceInterpolator(rg.pilot_pattern, cov, True, 2, white=True)
    general = CovarianceInterpolator(rg.pilot_pattern, cov, True, 2, white=False)
    h_p, e_p = NoiseAwareLS(rg, interpolation_type=None)(y, tf.constant(0.3))
    (ha, va), (hb, vb) = white(h_p, e_p), general(h_p, e_p)
    np.testing.assert_allclose(ha.numpy(), hb.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.broadcast_to(va, hb.shape), np.broadcast_to(vb, hb.shape), rtol=1e-3, atol=1e-4)


def _nmse(scenario, batches=4, batch_size=16):
    link = build_link(scenario)
    acc = run_batches(link, link.noise_variance("snr_db", 10.0), batches, batch_size)
    return {k: a.sums["nmse_err"] / a.sums["nmse_ref"] for k, a in acc.items()}


@pytest.mark.parametrize("known", [True, pytest.param(False, marks=pytest.mark.slow)])  # unknown: -m slow
def test_interferer_raises_ls_error_and_known_profile_helps_lmmse(known):
    from sionna.phy import config

    config.seed = 3
    clean = _nmse(_scenario(subcarriers=[]))
    config.seed = 3
    hit = _nmse(_scenario(known=known))
    # 20 dB more noise on a quarter of the pilots: LS (linear) gets clearly worse
    assert hit["ls"] > 3 * clean["ls"]
    if known:
        # LMMSE that knows which pilots are hit keeps most of its accuracy
        assert hit["lmmse"] < 2.0 * clean["lmmse"]
    else:
        assert hit["lmmse"] > 2.0 * clean["lmmse"]
