"""Card C building blocks: SRS geometry, hold-last estimate, Bayesian precoder theory,
the diffusion sampler on an exact Gaussian score, the Wiener predictor."""

import math

import numpy as np
import pytest
import tensorflow as tf

from linksim.precoding import expected_gramian_precoder
from linksim.receivers.contract import Estimate
from linksim.tdd.channels import srs_geometry
from linksim.tdd.config import SRSPrecoding
from linksim.tdd.link import precoder_of
from linksim.tdd.models import DiffusionSampler
from linksim.tdd.observation import hold_last
from linksim.tdd.wiener import WienerPredictor


def _crandn(rng, *shape):
    return ((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)).astype(np.complex64)


def test_geometry_hops_and_time_grid():
    geo = srs_geometry(SRSPrecoding(history=6, num_hops=4, periodicity_slots=20, delay_slots=30))
    assert [geo.hop_of(j) for j in range(6)] == [2, 3, 0, 1, 2, 3]  # the last occasion sounds the last sub-band
    step, n, occ = geo.time_grid()
    assert step == 10 and occ == [0, 2, 4, 6, 8, 10]
    assert (n - 1) * step == 5 * 20 + 30  # the last sample is the precoding time
    assert list(geo.latest_occasion_of_prbs()) == [2] * 12 + [3] * 12 + [4] * 12 + [5] * 12
    assert geo.srs_subcarriers()[1].tolist() == [12, 16, 20]


def test_one_srs_geometry_for_the_sounding_and_the_precoding_links():
    """The sounding link's layout (one occasion per sub-band, comb offset 1) and the
    precoding link's per-PRB view are the same geometry: occasion j of the last num_hops
    sounds sub-band j, the comb sits at its offset, and a PRB's latest occasion is its
    subcarriers'."""
    from linksim.data.srs import SRSGeometry

    geo = SRSGeometry(num_subcarriers=48, comb=4, num_hops=4, periodicity_slots=5, history=4, delay_slots=3,
                      comb_offset=1)
    mask = geo.mask()
    assert [int(np.flatnonzero(mask[j])[0]) for j in range(4)] == [1, 13, 25, 37]
    assert mask.sum(axis=1).tolist() == [3] * 4                       # 12 subcarriers per sub-band, comb 4
    assert geo.latest_occasion().tolist() == sum(([j] * 12 for j in range(4)), [])
    assert geo.latest_occasion_of_prbs().tolist() == geo.latest_occasion()[::12].tolist() == [0, 1, 2, 3]
    assert geo.eval_slot == 3 * 5 + 3 and geo.num_slots == 19
    kept = SRSGeometry(num_subcarriers=48, comb=4, num_hops=4, periodicity_slots=5, history=2)
    assert kept.latest_occasion_of_prbs().tolist() == [-1, -1, 0, 1]   # two occasions kept: the first sub-bands unsounded
    assert kept.srs_subcarriers()[0].tolist() == [0, 4, 8]


def test_hold_last_takes_the_latest_occasion_of_each_prb():
    geo = srs_geometry(SRSPrecoding(history=6, num_prb=8, num_hops=4))
    L, P = geo.history, geo.prb_per_hop
    # value = 100 * occasion + PRB index of the band
    obs = np.zeros([1, L, P, 1, 1], np.complex64)
    for j in range(L):
        obs[0, j, :, 0, 0] = 100 * j + geo.prbs_of(j)
    wb = hold_last(tf.constant(obs), geo).numpy()[0, :, 0, 0].real
    assert wb.tolist() == [200, 201, 302, 303, 404, 405, 506, 507]


def _subspace_gap(f, g):
    """|| F F^H - G G^H ||_F (0: the same column space)."""
    pf = f @ np.conj(np.swapaxes(f, -1, -2))
    pg = g @ np.conj(np.swapaxes(g, -1, -2))
    return float(np.max(np.linalg.norm(pf - pg, axis=(-2, -1))))


def test_one_sample_bayesian_precoder_is_svd_precoding_of_that_sample():
    rng = np.random.default_rng(0)
    h = _crandn(rng, 3, 5, 2, 8)                                   # [B, F, Nu, Nb]
    from_samples = precoder_of(Estimate(samples=tf.constant(h[:, None])), 2).numpy()
    from_point = precoder_of(Estimate(h_hat=tf.constant(h)), 2).numpy()
    _, _, vh = np.linalg.svd(h)
    svd = np.conj(np.swapaxes(vh, -1, -2))[..., :2]
    assert _subspace_gap(from_samples, svd) < 1e-4
    assert _subspace_gap(from_point, svd) < 1e-4
    eye = np.eye(2)
    assert np.abs(np.conj(np.swapaxes(from_samples, -1, -2)) @ from_samples - eye).max() < 1e-5


def test_expected_gramian_precoder_is_the_closed_form_and_maximises_expected_energy():
    """Gaussian posterior H = M + E, rows of E i.i.d. CN(0, C): E[H^H H] = M^H M + Nu C*.
    The Monte-Carlo precoder matches the closed form, and the closed form maximises
    E |H F|_F^2 = tr(F^H G F) against random orthonormal F and the SVD of the mean."""
    rng = np.random.default_rng(1)
    nu, nb, ns, k = 2, 6, 2, 20000
    m = 0.5 * _crandn(rng, nu, nb)
    a = _crandn(rng, nb, nb)
    c = (a @ a.conj().T / nb).astype(np.complex64)                  # column covariance of each row
    ch = np.linalg.cholesky(c.astype(np.complex128))
    e = _crandn(rng, k, nu, nb) @ ch.T.astype(np.complex64)           # rows ~ CN(0, C)
    samples = m[None] + e
    g = m.conj().T @ m + nu * c.conj()            # E[conj(e_i) e_j] = C_ji
    w, v = np.linalg.eigh(g)
    closed = v[:, ::-1][:, :ns]
    mc = expected_gramian_precoder(tf.constant(samples), ns, axis=0).numpy()
    assert _subspace_gap(mc, closed) < 0.05

    def energy(f):
        return float(np.real(np.trace(f.conj().T @ g @ f)))

    best = energy(closed)
    assert best == pytest.approx(w[::-1][:ns].sum(), rel=1e-6)
    for _ in range(200):
        q, _ = np.linalg.qr(_crandn(rng, nb, ns))
        assert energy(q) <= best + 1e-6
    _, _, vh = np.linalg.svd(m)
    svd_of_mean = vh.conj().T[:, :ns]
    assert energy(svd_of_mean) < best - 1e-3 * best  # the mean's SVD misses the covariance


class _GaussianScoreNet:
    """Exact eps-prediction for x0 ~ N(mu, s2) per real component (the DM's data space),
    mu = memory * mu_c: the conditional memory is 1, the null memory 0."""

    has_skip = False

    def __init__(self, mu_c, s2, T=40, shape=(1, 1, 4, 1, 2)):
        self.T, self.data_shape = T, shape
        self.mu = tf.constant(mu_c * math.sqrt(2.0), tf.complex64)   # DM space: scaled by sqrt(2)
        self.s2 = s2
        from linksim.tdd.models import alpha_bar

        self.abar = tf.constant(alpha_bar(T), tf.float32)

    def encode(self, obs, snr, drop):
        return tf.where(drop[:, None, None], 0.0, 1.0)

    def decode(self, memory, x, t):
        ab = tf.gather(self.abar, tf.cast(t, tf.int32))[:, None, None, None]
        mu = tf.cast(memory[:, :, :, None], tf.complex64) * self.mu
        gain = tf.sqrt(1.0 - ab) / (ab * self.s2 + 1.0 - ab)
        return tf.cast(gain, tf.complex64) * (x - tf.cast(tf.sqrt(ab), tf.complex64) * mu)


def test_sampler_draws_the_exact_gaussian_and_the_mean_trajectory_collapses():
    s2 = 0.49                                # real-component variance in the DM space: 0.245 per real part of h
    # 200 steps: with the posterior variance beta_tilde, DDPM's ancestral sampler is
    # under-dispersed at few steps (this assertion fails at T = 40)
    net = _GaussianScoreNet(0.0, s2, T=200)
    sampler = DiffusionSampler(net)
    obs = tf.zeros([64, 1, 1, 1, 2], tf.complex64)
    rng = tf.random.Generator.from_seed(3)
    x = sampler(obs, 0.0, 16, 1.0, True, rng).numpy()              # [64, 16, 4, 1, 2]
    var = np.mean(np.abs(x) ** 2)                                   # E|h|^2 = 2 * s2 / 2
    assert var == pytest.approx(s2, rel=0.05)
    det = sampler(obs, 0.0, 1, 1.0, False, rng).numpy()
    assert np.mean(np.abs(det) ** 2) < 0.05 * s2                     # the prior mean (0), not a sample


def test_step_noise_beta_keeps_the_exact_gaussian_spread_at_the_shipped_step_count():
    """At T = 50 (the shipped DMs) the exact score with beta~_t step noise draws 10 % too
    little variance; with beta_t the spread is right (benchmarks/card_c_sampler_variance.py
    runs both on the shipped DMs)."""
    s2 = 0.49
    obs = tf.zeros([64, 1, 1, 1, 2], tf.complex64)
    ratio = {}
    for variance in ("posterior", "beta"):
        sampler = DiffusionSampler(_GaussianScoreNet(0.0, s2, T=50), variance=variance)
        x = sampler(obs, 0.0, 16, 1.0, True, tf.random.Generator.from_seed(3)).numpy()
        ratio[variance] = np.mean(np.abs(x) ** 2) / s2
    assert ratio["posterior"] < 0.93 and ratio["beta"] == pytest.approx(1.0, abs=0.04), ratio
    with pytest.raises(ValueError, match="variance must be one of"):
        DiffusionSampler(_GaussianScoreNet(0.0, s2, T=50), variance="large")


def test_guidance_weight_moves_samples_from_the_prior_to_the_condition():
    mu_c = 1.0 + 0.5j
    net = _GaussianScoreNet(mu_c, 0.04)
    sampler = DiffusionSampler(net)
    obs = tf.zeros([32, 1, 1, 1, 2], tf.complex64)
    rng = tf.random.Generator.from_seed(4)
    means = {w: complex(np.mean(sampler(obs, 0.0, 4, w, True, rng).numpy())) for w in (0.0, 1.0)}
    assert abs(means[1.0] - mu_c) < 0.05
    assert abs(means[0.0]) < 0.05


class _Reparameterised:
    """The exact Gaussian net re-expressed as a v- or x0-predictor (with the decoder
    input alpha_t x_t when ``input_scale`` is alpha)."""

    has_skip = False

    def __init__(self, net, kind, input_scale="none"):
        self.net, self.kind, self.input_scale = net, kind, input_scale
        self.T, self.data_shape = net.T, net.data_shape

    def encode(self, obs, snr, drop):
        return self.net.encode(obs, snr, drop)

    def decode(self, memory, x_in, t):
        from linksim.diffusion.parameterisation import from_x0

        ab = tf.cast(tf.gather(self.net.abar, tf.cast(t, tf.int32))[:, None, None, None], tf.complex64)
        x = x_in / tf.sqrt(ab) if self.input_scale == "alpha" else x_in
        eps = self.net.decode(memory, x, t)
        x0 = (x - tf.sqrt(1.0 - ab) * eps) / tf.sqrt(ab)
        return from_x0(x, x0, tf.sqrt(ab), tf.sqrt(1.0 - ab), self.kind)


@pytest.mark.parametrize("kind,input_scale", [("v", "none"), ("x0", "none"), ("v", "alpha")])
def test_sampler_reads_the_parameterisation_and_the_input_scale(kind, input_scale):
    """The same exact denoiser as eps-, v- or x0-predictor gives the same samples and the
    same clean estimate at t = T."""
    net = _GaussianScoreNet(1.0 + 0.5j, 0.04)
    obs = tf.zeros([8, 1, 1, 1, 2], tf.complex64)
    ref = DiffusionSampler(net)
    other = DiffusionSampler(_Reparameterised(net, kind, input_scale), parameterisation=kind, input_scale=input_scale)
    a = ref(obs, 0.0, 2, 1.0, True, tf.random.Generator.from_seed(6)).numpy()
    b = other(obs, 0.0, 2, 1.0, True, tf.random.Generator.from_seed(6)).numpy()
    assert np.abs(a - b).max() < 1e-3
    a = ref.clean_estimate(obs, 0.0, tf.random.Generator.from_seed(7)).numpy()
    b = other.clean_estimate(obs, 0.0, tf.random.Generator.from_seed(7)).numpy()
    assert np.abs(a - b).max() < 1e-2 * np.abs(a).max()


def test_dm_loss_weights_the_clean_estimates_error():
    """Every (parameterisation, weighting) pair is the weighted x0 error, mean over the
    batch of w(snr_t) |x0_hat - x0|^2 / 2; eps with its own MSE is the original loss."""
    from linksim.diffusion.parameterisation import to_x0
    from linksim.tdd.models import DATA_SCALE, alpha_bar, dm_loss, x0_weight

    class Net:
        T = 20
        has_skip = False

        def __init__(self):
            self.seen = None

        def __call__(self, obs, snr, xt, t, drop=None):
            self.seen = (xt, t)
            return 0.3 * xt + 0.1

    rng0 = np.random.default_rng(1)
    h = tf.constant(_crandn(rng0, 16, 4, 1, 2))
    obs = tf.zeros([16, 1, 1, 1, 2], tf.complex64)
    for kind in ("eps", "v", "x0"):
        for weighting in (None, "x0", "min_snr", "trunc_snr"):
            net = Net()
            loss = float(dm_loss(net, obs, tf.zeros([16]), h, tf.random.Generator.from_seed(2), parameterisation=kind,
                                 weighting=weighting))
            xt, t = net.seen
            ab = alpha_bar(Net.T)[t.numpy().astype(int)]
            a = tf.constant(np.sqrt(ab)[:, None, None, None].astype(np.complex64))
            b = tf.constant(np.sqrt(1 - ab)[:, None, None, None].astype(np.complex64))
            x0_hat = to_x0(xt, net(obs, None, xt, t), a, b, kind)
            err = np.mean(np.abs((x0_hat - h * DATA_SCALE).numpy()) ** 2, axis=(1, 2, 3))
            w = x0_weight(tf.constant(ab / (1 - ab), tf.float32), weighting or kind).numpy()
            assert loss == pytest.approx(float(np.mean(w * err)) / 2, rel=2e-3), (kind, weighting)


def test_wiener_predictor_is_exact_on_a_linear_gaussian_model():
    """y = A h + noise with Gaussian h: the predictor recovers the LMMSE filter of the
    true covariances from samples, and its error variance is the measured one."""
    rng = np.random.default_rng(5)
    n, dy, dh = 40000, 6, 3
    a = _crandn(rng, dy, dh)
    h = _crandn(rng, n, dh)
    y = h @ a.T
    pred = WienerPredictor(y.reshape(n, 1, dy, 1, 1), h.reshape(n, dh, 1, 1))
    s2 = 0.3
    h_test = _crandn(rng, 4000, dh)
    y_test = h_test @ a.T + math.sqrt(s2) * _crandn(rng, 4000, dy)
    est, err = pred(tf.constant(y_test.reshape(4000, 1, dy, 1, 1)), s2)
    exact = y_test @ (a.conj().T @ np.linalg.inv(a @ a.conj().T + s2 * np.eye(dy))).T
    assert np.abs(est.numpy().reshape(4000, dh) - exact).max() < 0.05
    measured = np.mean(np.abs(est.numpy().reshape(4000, dh) - h_test) ** 2)
    assert float(np.mean(err.numpy())) == pytest.approx(measured, rel=0.1)
    # Gaussian-posterior draws: centred on the estimate, with the exact error covariance
    draws = pred.sample(est[:4], s2, 20000, tf.random.Generator.from_seed(8)).numpy().reshape(4, 20000, dh)
    dev = draws - est.numpy()[:4].reshape(4, 1, dh)
    cov = np.einsum("bki,bkj->ij", dev, dev.conj()) / dev.shape[0] / dev.shape[1]
    a_h = a.conj().T.astype(np.complex128)
    exact_cov = np.eye(dh) - a_h @ np.linalg.inv(a @ a_h + s2 * np.eye(dy)) @ a
    assert np.abs(cov - exact_cov).max() < 0.02
    assert np.abs(dev.mean(axis=1)).max() < 0.02


def test_backbone_checkpoint_round_trip_and_null_condition(tmp_path):
    """Save/load gives the same outputs (eager and graph); the dropped condition is one
    null memory whatever the observation; the DM decoder depends on x_t and t."""
    from linksim.diffusion.checkpoints import load_checkpoint, save_checkpoint
    from linksim.diffusion.nets.srs_transformer import SRSTransformer

    shape = (4, 3, 6, 2, 4)
    tf.keras.utils.set_random_seed(0)
    net = SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, diffusion=True, T=10).build_for(shape)
    rng = np.random.default_rng(2)
    obs = tf.constant(_crandn(rng, 3, 4, 3, 2, 4))
    x = tf.constant(_crandn(rng, 3, 6, 2, 4))
    t = tf.constant([1.0, 5.0, 10.0])
    out = net(obs, tf.zeros([3]), x, t).numpy()
    save_checkpoint(tmp_path / "m", net, data_shape=shape, extra={"task": "srs_precoding"})
    loaded, cfg = load_checkpoint(tmp_path / "m", shape)
    assert cfg["config"]["diffusion"] is True
    assert np.allclose(loaded(obs, tf.zeros([3]), x, t).numpy(), out, atol=1e-5)
    graph = tf.function(lambda o, s, xx, tt: loaded(o, s, xx, tt))
    assert np.allclose(graph(obs, tf.zeros([3]), x, t).numpy(), out, rtol=1e-4, atol=1e-5)
    null = net.encode(obs, tf.zeros([3]), drop=tf.constant([True, True, False])).numpy()
    assert np.allclose(null[0], null[1]) and not np.allclose(null[0], null[2])
    assert not np.allclose(net(obs, tf.zeros([3]), x * 2, t).numpy(), out, atol=1e-3)
    assert not np.allclose(net(obs, tf.zeros([3]), x, t[::-1]).numpy(), out, atol=1e-3)


def test_e2e_loss_is_the_received_energy_and_differentiable_through_eigh():
    """The E2E loss equals -sum |H F|^2 / sum |H|^2 with F from the latent's Gramian (the
    true channel as latent gives the SVD energy), and its gradient through eigh stays
    finite on the rank-2 Gramians of a 2-port UE (eight ports: six zero eigenvalues)."""
    from linksim.diffusion.nets.srs_transformer import SRSTransformer
    from linksim.tdd.models import e2e_loss

    rng = np.random.default_rng(6)
    h = tf.constant(_crandn(rng, 4, 6, 2, 8))

    class Oracle:
        def __call__(self, obs, snr):
            return h

    sv = np.linalg.svd(h.numpy(), compute_uv=False)
    assert float(e2e_loss(Oracle(), None, None, h)) == pytest.approx(-np.sum(sv ** 2) / np.sum(np.abs(h.numpy()) ** 2), rel=1e-4)
    tf.keras.utils.set_random_seed(0)
    net = SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1).build_for((4, 3, 6, 2, 8))
    obs = tf.constant(_crandn(rng, 4, 4, 3, 2, 8))
    with tf.GradientTape() as tape:
        loss = e2e_loss(net, obs, tf.zeros([4]), h)
    grads = tape.gradient(loss, net.trainable_variables)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads if g is not None)
    assert -1.0 <= float(loss) < 0.0


def _twins(diffusion: bool):
    """The same small backbone without and with the hold-last skip connection (same
    weights), its geometry and observations."""
    from linksim.diffusion.nets.srs_transformer import SRSTransformer
    from linksim.tdd.observation import hold_last_index

    geo = srs_geometry(SRSPrecoding(history=6, num_prb=8, num_hops=4))
    shape = (geo.history, geo.prb_per_hop, geo.num_prb, 2, 4)
    nets = []
    for skip in (None, hold_last_index(geo)):
        tf.keras.utils.set_random_seed(0)
        nets.append(SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, diffusion=diffusion, T=10,
                                   skip_index=skip).build_for(shape))
    for a, b in zip(nets[0].weights, nets[1].weights):
        b.assign(a)
    obs = tf.constant(_crandn(np.random.default_rng(3), 5, *shape[:2], 2, 4))
    return nets, geo, obs


def test_skip_connection_adds_hold_last_to_sl_and_e2e_outputs():
    (plain, skip), geo, obs = _twins(False)
    snr = tf.zeros([5])
    held = hold_last(obs, geo).numpy()
    assert np.abs(skip.skip(obs).numpy() - held).max() == 0
    assert np.abs(plain.skip(obs).numpy()).max() == 0
    np.testing.assert_allclose(skip(obs, snr).numpy(), plain(obs, snr).numpy() + held, atol=1e-5)
    with pytest.raises(ValueError, match="skip_index needs 8 token indices"):
        type(skip)(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, skip_index=[0] * 7).build_for(skip.data_shape)


def test_skip_connection_dm_diffuses_the_residual_and_samples_the_channel():
    """A DM with the skip: its loss on h is the plain DM's loss on h - hold-last, and its
    samples and clean estimate are the plain DM's plus hold-last (same weights, same
    random draws)."""
    from linksim.tdd.models import dm_loss

    (plain, skip), geo, obs = _twins(True)
    snr = tf.zeros([5])
    held = hold_last(obs, geo)
    h = tf.constant(_crandn(np.random.default_rng(4), 5, 8, 2, 4))
    for kind in ("eps", "v"):
        a = float(dm_loss(skip, obs, snr, h, tf.random.Generator.from_seed(2), parameterisation=kind))
        b = float(dm_loss(plain, obs, snr, h - held, tf.random.Generator.from_seed(2), parameterisation=kind))
        assert a == pytest.approx(b, rel=1e-5), kind
    s_skip, s_plain = DiffusionSampler(skip, parameterisation="v"), DiffusionSampler(plain, parameterisation="v")
    a = s_skip(obs, 0.0, 3, 1.0, True, tf.random.Generator.from_seed(5)).numpy()
    b = s_plain(obs, 0.0, 3, 1.0, True, tf.random.Generator.from_seed(5)).numpy()
    np.testing.assert_allclose(a, b + held.numpy()[:, None], atol=1e-4)
    a = s_skip.clean_estimate(obs, 0.0, tf.random.Generator.from_seed(6)).numpy()
    b = s_plain.clean_estimate(obs, 0.0, tf.random.Generator.from_seed(6)).numpy()
    np.testing.assert_allclose(a, b + held.numpy(), atol=1e-4)


def test_skip_connection_round_trips_and_init_from_sl_needs_the_same_skip(tmp_path):
    from linksim.diffusion.checkpoints import load_checkpoint, save_checkpoint
    from linksim.training.srs_precoding import init_from_sl

    (plain, skip), geo, obs = _twins(False)
    save_checkpoint(tmp_path / "sl", skip, data_shape=skip.data_shape, extra={"task": "srs_precoding", "model": "sl"})
    loaded, _ = load_checkpoint(tmp_path / "sl", skip.data_shape)
    assert loaded.cfg["skip_index"] == skip.cfg["skip_index"]
    np.testing.assert_allclose(loaded(obs, tf.zeros([5])).numpy(), skip(obs, tf.zeros([5])).numpy(), atol=1e-5)
    (dm_plain, dm_skip), _, _ = _twins(True)
    assert init_from_sl(dm_skip, str(tmp_path / "sl"), skip.data_shape, "v") > 0
    with pytest.raises(ValueError, match="another network.skip"):
        init_from_sl(dm_plain, str(tmp_path / "sl"), skip.data_shape, "v")


def test_prb_history_queries_carry_each_prbs_own_observations_only(tmp_path):
    """With ``query_index`` the memory ends with one token per PRB built from that PRB's
    observations: perturbing one observed (occasion, PRB) token changes exactly the query
    tokens of the PRB it sounds; the null memory replaces them too; the index survives a
    checkpoint round trip and init_from_sl refuses an SL with other queries."""
    from linksim.diffusion.nets.srs_transformer import SRSTransformer
    from linksim.tdd.observation import prb_history_index

    geo = srs_geometry(SRSPrecoding(history=6, num_prb=8, num_hops=4))
    rows = prb_history_index(geo)
    assert rows[0] == [4, -1] and rows[4] == [8, 0]   # PRB 4: occasion 4 (newest), then occasion 0
    shape = (geo.history, geo.prb_per_hop, geo.num_prb, 2, 4)
    tf.keras.utils.set_random_seed(0)
    net = SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, query_index=rows).build_for(shape)
    obs = _crandn(np.random.default_rng(3), 2, *shape[:2], 2, 4)
    LP = shape[0] * shape[1]
    base = net.encode(tf.constant(obs), tf.zeros([2])).numpy()
    assert base.shape == (2, LP + 8, 16)
    bumped = obs.copy()
    bumped[:, 0, 1] += 1.0                             # occasion 0, position 1: token 1 = PRB 5
    moved = np.abs(net.encode(tf.constant(bumped), tf.zeros([2])).numpy() - base).max(axis=(0, 2))[LP:]
    assert [i for i, m in enumerate(moved) if m > 1e-6] == [5]
    null = net.encode(tf.constant(obs), tf.zeros([2]), drop=tf.constant([True, False])).numpy()
    assert np.allclose(null[0, LP:], null[0, 0]) and np.allclose(null[1], base[1])
    with pytest.raises(ValueError, match="query_index needs 8 rows"):
        SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, query_index=rows[:7]).build_for(shape)
    from linksim.diffusion.checkpoints import load_checkpoint, save_checkpoint
    from linksim.training.srs_precoding import init_from_sl

    save_checkpoint(tmp_path / "sl", net, data_shape=shape, extra={"task": "srs_precoding", "model": "sl"})
    loaded, _ = load_checkpoint(tmp_path / "sl", shape)
    np.testing.assert_allclose(loaded.encode(tf.constant(obs), tf.zeros([2])).numpy(), base, atol=1e-5)
    dm = SRSTransformer(d_model=16, heads=2, ff=32, enc_layers=1, dec_layers=1, diffusion=True, T=10).build_for(shape)
    with pytest.raises(ValueError, match="another network.queries"):
        init_from_sl(dm, str(tmp_path / "sl"), shape, "v")
