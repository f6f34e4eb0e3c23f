"""Diffusion receivers in the chain: the estimation path against LMMSE with an exact
denoiser (values), err_var calibration, posterior samples, eager/graph/XLA, what a
receiver may see, model checks.

The "exact" model is a checkpoint whose backbone prior is the Gaussian of the LMMSE
receiver's own covariance and whose residual network outputs 0 (untrained, zero output
layer): the diffusion receivers must then reproduce LMMSE through their whole path (LS
at the pilots, normalisation, initial times, denoiser, time interpolation, err_var).
"""

import numpy as np
import pytest
import tensorflow as tf
from sionna.phy import config

from linksim.diffusion import GammaSchedule
from linksim.diffusion.checkpoints import save_checkpoint
from linksim.diffusion.estimate import estimate_channel, sample_channel
from linksim.diffusion.gmm import GaussianMixturePrior, MixtureDenoiser
from linksim.diffusion.nets.mixer import make_network
from linksim.diffusion.parameterisation import Denoiser
from linksim.errors import UserError
from linksim.receivers.ls import LSEstimator
from linksim.scenario import validate_scenario
from linksim.system.link import OFDMLink

TINY = dict(num_blocks=1, width=2, hidden=8, channel_hidden=4, temb_dim=8, emb_hidden=8)
SEED = 7


def _scenario(receivers, num_prbs=2):
    return {
        "carrier": {"num_prbs": num_prbs},
        "antennas": {"bs": {"cols": 2}, "ue": {"cols": 1}},
        "channel": {"model": "cdl", "profile": "C"},
        "pilots": {"type": "dmrs", "symbols": [2, 11], "comb": 4},
        "link": {"bits_per_symbol": 2, "coderate": 0.5},
        "receivers": receivers,
        "sweep": {"key": "snr_db", "values": [10]},
        "metrics": ["bler", "nmse", "calibration"],
        # graph mode: XLA compiling each small link's step costs more than its few batches
        # (the receivers under XLA: test_eager_graph_xla_agree)
        "runtime": {"xla": False},
    }


def _link(receivers):
    config.seed = SEED  # the lmmse receiver (built first) draws the same covariance samples
    return OFDMLink(validate_scenario(_scenario(receivers)))


@pytest.fixture(scope="module")
def exact_model(tmp_path_factory):
    cov = _link([{"name": "lmmse"}]).receivers[0][1].covariances[0][0].astype(np.complex128)
    lam, u = np.linalg.eigh(0.5 * (cov + cov.conj().T))
    prior = GaussianMixturePrior(u, np.diag(np.sqrt(np.maximum(lam, 0.0)))[None], np.ones(1), 1e-9, (2, 24))
    net = make_network("cpu", in_features=2, zero_output=True, round_tau=False, **TINY).build_for((2, 24))
    path = tmp_path_factory.mktemp("zoo") / "exact"
    save_checkpoint(path, net, data_shape=(2, 24), prior=prior,
                    extra={"schedule": {"kind": "gamma", "T": 100}, "parameterisation": "v", "data_norm": "unit"})
    return str(path)


def _batch(link, n=48, snr_db=10.0):
    out = link.transmit(n, 10 ** (-snr_db / 10))  # the public path of the user guide's example
    return out["y"], out["no"], out["h"]


def _nmse_db(h_hat, h):
    return 10 * np.log10(np.sum(np.abs(h_hat - h) ** 2) / np.sum(np.abs(h) ** 2))


@pytest.mark.parametrize("snr_db", [0.0, 15.0])
def test_exact_denoiser_reproduces_lmmse(exact_model, snr_db):
    link = _link([{"name": "lmmse"}, {"name": "nonidentical_dm", "model": exact_model},
                  {"name": "identical_dm", "model": exact_model}])
    y, no, h = _batch(link, snr_db=snr_db)
    (h_l, v_l), (h_n, v_n), (h_i, v_i) = [rx(y, no, None) for _, rx in link.receivers]
    h, h_l, h_n, h_i = h.numpy(), h_l.numpy(), h_n.numpy(), h_i.numpy()
    v_l, v_n = np.broadcast_to(v_l.numpy(), h.shape), np.broadcast_to(v_n.numpy(), h.shape)
    # non-identical diffusion, one denoiser call at the observation's own times = the CME
    # (up to the fresh noise that fills the unobserved subcarriers at the schedule's end,
    # alpha(T) = 0.0045, not 0)
    err_l = np.sum(np.abs(h_l - h) ** 2)
    assert np.sum(np.abs(h_n - h_l) ** 2) < 1e-3 * err_l
    assert abs(_nmse_db(h_n, h) - _nmse_db(h_l, h)) < 0.01
    np.testing.assert_allclose(v_n, v_l, rtol=2e-2, atol=1e-5)
    # identical diffusion: the scalar Wiener filter R (R + s2 I)^-1 on the interpolated LS
    # estimate, s2 = 1 / (mean per-element SNR of the pilot observation) = 4 no (comb 4)
    rx = link.receivers[2][1]
    obs = rx.observations(y, no)[0][0]
    cov = rx.denoiser.backbone.prior.covariance()
    s2 = 4 * float(no)
    w = cov @ np.linalg.inv(cov + s2 * np.eye(48))
    want = obs.h_linear.numpy().reshape(-1, 48) @ w.T
    got = rx.estimate_symbol(obs, 0)[0].numpy().reshape(-1, 48)
    assert np.sum(np.abs(got - want) ** 2) < 1e-3 * np.sum(np.abs(want - h[:, 0, :, 0, 0, 2].reshape(-1, 48)) ** 2)
    assert _nmse_db(h_l, h) - 0.1 < _nmse_db(h_i, h) < _nmse_db(h_l, h) + 1.0


def test_identical_err_var_covers_its_error_under_an_interferer(exact_model):
    """One diffusion time for all elements treats the pilots an interferer hits like the
    others; the identical receiver's err_var must still cover its real error (with the
    posterior variance at its own scalar time it reported ~1/8 of it)."""
    from linksim.metrics import run_batches

    data = _scenario([{"name": "identical_dm", "model": exact_model}])
    data["interference"] = {"subcarriers": [8, 9, 10, 11], "inr_db": 20.0}
    config.seed = SEED
    link = OFDMLink(validate_scenario(data))
    acc = run_batches(link, 0.1, batches=4, batch_size=16)
    ratio, lo, hi = acc["identical_dm"].ratio("err_var_ratio")
    assert 0.8 < ratio < 1.25 and hi - lo < 0.3, (ratio, lo, hi)


def test_posterior_err_var_is_calibrated_on_a_gaussian_mixture():
    rng = np.random.default_rng(0)
    d, r = 24, 6
    q, _ = np.linalg.qr(rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d)))
    chols = np.stack([np.diag(np.sqrt([3.0, 2.0, 1.0, 0.1, 0.0, 0.0]) + 1e-3),
                      np.diag(np.sqrt([0.0, 0.1, 0.5, 1.0, 2.0, 2.5]) + 1e-3)]).astype(complex)
    prior = GaussianMixturePrior(q[:, :r], chols, np.array([0.5, 0.5]), 1e-4, (2, 12))
    n = 2000
    comp = rng.integers(0, 2, n)
    z = np.einsum("nrs,ns->nr", chols[comp], (rng.standard_normal((n, r)) + 1j * rng.standard_normal((n, r))) / np.sqrt(2))
    h = (z @ q[:, :r].T).reshape(n, 2, 12).astype(np.complex64)
    mask = np.zeros((1, 2, 12), np.float32)
    mask[..., ::3] = 1.0
    p = 0.3 * mask
    noise = (rng.standard_normal(h.shape) + 1j * rng.standard_normal(h.shape)) / np.sqrt(2)
    h_bar = (h * mask + p * noise).astype(np.complex64)
    den = Denoiser(None, GammaSchedule(100), backbone=MixtureDenoiser(prior, GammaSchedule(100)))
    h_hat, var, var_noise = estimate_channel(den, tf.constant(h_bar), tf.constant(mask), tf.constant(p))
    err = np.abs(h_hat.numpy() - h) ** 2
    ratio = np.mean(var.numpy()) / np.mean(err)
    assert 0.93 < ratio < 1.07
    # per element, too: unobserved subcarriers have a larger error, and err_var says so
    obs = np.broadcast_to(mask[0] > 0, h.shape[1:])
    for part in (obs, ~obs):
        assert 0.9 < np.mean(var.numpy()[:, part]) / np.mean(err[:, part]) < 1.1
    assert np.all(var_noise.numpy() <= var.numpy() + 1e-6) and np.mean(var_noise.numpy()) > 0
    # DDPM (eta = 1) samples: their mean approaches the point estimate (the CME) and their
    # spread the posterior variance, but only with many steps (few steps under-disperse:
    # the reason err_var comes from the prior, not from a few samples)
    def spread_and_gap(steps, stepper):
        draws = sample_channel(den, tf.constant(h_bar[:200]), tf.constant(mask), tf.constant(p), 32,
                               steps=steps, stepper=stepper).numpy()
        spread = np.mean(np.var(draws, axis=0)) * 32 / 31 / np.mean(var.numpy()[:200])
        return spread, np.mean(np.abs(draws.mean(0) - h_hat.numpy()[:200]) ** 2) / np.mean(err)

    spread, gap = spread_and_gap(100, "uniform")
    assert 0.85 < spread < 1.1 and gap < 0.1
    assert spread_and_gap(5, "waterfill")[0] < 0.5


@pytest.mark.parametrize("name", ["nonidentical_dm", "identical_dm"])
def test_receiver_output_contract_and_samples(name, exact_model):
    link = _link([{"name": name, "model": exact_model}])
    rx = link.receivers[0][1]
    y, no, h = _batch(link, n=4)
    h_hat, err_var = rx(y, no, None)
    assert h_hat.shape == h.shape and h_hat.dtype == tf.complex64 and err_var.dtype == tf.float32
    assert float(tf.reduce_min(tf.broadcast_to(err_var, h_hat.shape))) > 0.0
    draws = rx.posterior_samples(y, no, 3)
    assert draws.shape == [3] + h.shape and draws.dtype == tf.complex64
    assert not np.allclose(draws[0].numpy(), draws[1].numpy())
    stats = link.run_batch(4, 0.1)[name]
    assert stats["blocks"] == 4 and np.isfinite(stats["nmse_err"]) and stats["ev_reported"] > 0


def test_only_genie_receivers_see_the_channel():
    seen = {}

    class Spy(LSEstimator):
        def call(self, y, no, genie=None):
            seen["ls"] = genie
            return super().call(y, no)

    globals()["Spy"] = Spy
    link = _link([{"name": f"{__name__}:Spy", "label": "spy"}, {"name": "perfect"}])
    y, no, h = _batch(link, n=2)
    link._receive(*link._generate(2, no), no)
    assert seen["ls"] is None
    h_p, _, _ = link._estimate(link.receivers[1][1], y, no, h, tf.zeros([2], tf.int32))
    np.testing.assert_array_equal(h_p.numpy(), h.numpy())
    assert link._genie(link.receivers[0][1], h, None) is None


def test_eager_graph_xla_agree(exact_model):
    """Deterministic settings (interpolated init, one denoiser call: no random draws) give
    the same estimate eagerly, in a tf.function and under XLA."""
    link = _link([{"name": "nonidentical_dm", "model": exact_model, "init": "ls_linear", "xla": False}])
    rx = link.receivers[0][1]
    y, no, _ = _batch(link, n=3)
    eager = rx(y, no)[0]
    graph = tf.function(lambda a, b: rx(a, b)[0])(y, no)
    xla = tf.function(lambda a, b: rx(a, b)[0], jit_compile=True)(y, no)
    np.testing.assert_allclose(graph.numpy(), eager.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xla.numpy(), eager.numpy(), rtol=1e-3, atol=1e-4)


def test_network_only_model_uses_sample_err_var(tmp_path):
    net = make_network("cpu", **TINY).build_for((2, 24))
    path = tmp_path / "tiny"
    save_checkpoint(path, net, data_shape=(2, 24), extra=Denoiser(net, {"kind": "gamma", "T": 100}).get_config())
    link = _link([{"name": "nonidentical_dm", "model": str(path), "samples": 2, "steps": 3}])
    y, no, h = _batch(link, n=2)
    h_hat, err_var = link.receivers[0][1](y, no)
    assert h_hat.shape == h.shape and float(tf.reduce_min(err_var)) >= 0.0
    with pytest.raises(UserError, match="err_var posterior needs a model with a prior backbone"):
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": str(path), "err_var": "posterior"}]))


def test_model_shape_mismatch_is_a_user_error(exact_model):
    with pytest.raises(UserError) as err:
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": exact_model}], num_prbs=3), source="s.yaml")
    msg = str(err.value)
    assert "receivers[0].model" in msg and "(2, 24)" in msg and "(2, 36)" in msg


def test_unknown_model_and_stepper_are_caught_at_validation():
    with pytest.raises(UserError) as err:
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": "no-such-model"}]), source="s.yaml")
    assert "receivers[0].model" in str(err.value) and "no model 'no-such-model'" in str(err.value)
    with pytest.raises(UserError) as err:
        validate_scenario(_scenario([{"name": "nonidentical_dm", "model": "x", "stepper": "waterfil"}]), source="s.yaml")
    assert "receivers[0].stepper" in str(err.value) and "waterfill" in str(err.value)
