"""Narrowband pilot link (Card B): pilots, the exact-Gaussian prior, the likelihood scores
and the deterministic posterior sampler against LMMSE."""

import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion.schedules import linear_beta_schedule
from linksim.narrowband.gaussian_prior import GaussianRowPrior, low_rank_covariance
from linksim.narrowband.likelihoods import uninformative_score
from linksim.narrowband.pilots import PilotOperator, complex_normal, qpsk_pilots
from linksim.narrowband.samplers import posterior_sample

NT, NR = 32, 2


@pytest.fixture
def rng():
    return tf.random.Generator.from_seed(5)


def _nmse_db(h_hat, h):
    return 10 * np.log10(np.sum(np.abs(h_hat - h) ** 2) / np.sum(np.abs(h) ** 2))


def test_pilots_and_operator(rng):
    x = qpsk_pilots(NT, 12, rng, tf.complex128)
    np.testing.assert_allclose(np.abs(x.numpy()), 1.0)
    assert set(np.unique(np.sign(x.numpy().real))) == {-1.0, 1.0}
    op = PilotOperator(x)
    h = complex_normal([3, NR, NT], rng, var=2.0)
    # rows: y_r = X^T h_r, and the SVD factors rebuild A = X^T
    np.testing.assert_allclose(op.forward(h).numpy()[1, 0], x.numpy().T @ h.numpy()[1, 0], atol=1e-12)
    # A^H A h = V diag(s^2) V^H h  and  U^H A h = diag(s) V^H h
    s = tf.cast(op.s, h.dtype)
    np.testing.assert_allclose(op.adjoint(op.forward(h)).numpy(), op.v_(s * s * op.v_h(h)).numpy(), atol=1e-9)
    np.testing.assert_allclose(op.u_h(op.forward(h)).numpy(), (s * op.v_h(h)).numpy(), atol=1e-9)
    y = op.observe(h, 0.25, rng)
    assert abs(np.mean(np.abs((y - op.forward(h)).numpy()) ** 2) - 0.25) < 0.06


def test_gaussian_prior_eps_and_lmmse(rng):
    cov = low_rank_covariance(NT, 6, seed=1)
    assert np.linalg.matrix_rank(cov, tol=0.01) == 6 and abs(np.trace(cov).real - NT) < 1e-9
    prior = GaussianRowPrior(cov)
    h = prior.sample([4000, 1], rng)
    emp = np.einsum("ni,nj->ij", h.numpy()[:, 0], h.numpy()[:, 0].conj()) / 4000
    assert np.abs(emp - cov).max() < 0.25
    # eps = E[xi | h_t]: regression of the drawn xi on h_t has residual orthogonal to h_t
    a, b = 0.6, 0.8
    xi = complex_normal(h.shape, rng)
    h_t = a * h + b * xi
    eps = prior.eps(h_t, a, b)
    assert np.mean(np.abs((xi - eps).numpy()) ** 2) < np.mean(np.abs(xi.numpy()) ** 2) - 0.05
    cross = np.einsum("ni,nj->ij", (xi - eps).numpy()[:, 0], h_t.numpy()[:, 0].conj()) / 4000
    assert np.abs(cross).max() < 0.06
    # LMMSE: empirical NMSE matches the closed form
    op = PilotOperator(qpsk_pilots(NT, 16, rng, tf.complex128))
    y = op.observe(h, 0.1, rng)
    assert abs(_nmse_db(prior.lmmse(y, op, 0.1).numpy(), h.numpy()) - 10 * np.log10(prior.lmmse_nmse(op, 0.1))) < 0.2


def test_uninformative_score_is_gradient_of_its_gaussian_likelihood(rng):
    """Card B's SVD formula = d/dh_t* of log CN(y; A h_t / a, c_t A A^H + s2 I)."""
    op = PilotOperator(qpsk_pilots(NT, 12, rng, tf.complex128))
    h_t = complex_normal([2, NR, NT], rng, var=2.0)
    y = complex_normal([2, NR, 12], rng, var=2.0)
    a, b, nv = 0.7, np.sqrt(1 - 0.49), 0.3
    amat = tf.transpose(op.x)
    cov = (b / a) ** 2 * tf.matmul(amat, amat, adjoint_b=True) + nv * tf.eye(12, dtype=tf.complex128)
    inv = tf.linalg.inv(cov)
    with tf.GradientTape() as tape:
        tape.watch(h_t)
        r = y - op.forward(h_t) / a                                      # rows r^T
        ll = -tf.math.real(tf.reduce_sum(tf.matmul(r, tf.transpose(inv)) * tf.math.conj(r)))
    auto = tape.gradient(ll, h_t) / 2
    np.testing.assert_allclose(uninformative_score(h_t, y, op, nv, a, b).numpy(), auto.numpy(), atol=1e-9)


def _gaussian_case(rng):
    """A rank-4 Gaussian prior with its exact noise prediction (``t`` an int or a tensor),
    its schedule, 4 channels, their pilots, observation at noise 0.1 and a start."""
    prior = GaussianRowPrior(low_rank_covariance(NT, 4, seed=2))
    abar = linear_beta_schedule(100, 1e-4, 0.2)
    a_t, b_t = tf.constant(np.sqrt(abar)), tf.constant(np.sqrt(1 - abar))
    eps = lambda x, t: prior.eps(x, tf.gather(a_t, tf.cast(t, tf.int32)), tf.gather(b_t, tf.cast(t, tf.int32)))  # noqa: E731
    h = prior.sample([4, NR], rng)
    op = PilotOperator(qpsk_pilots(NT, 16, rng, tf.complex128))
    y = op.observe(h, 0.1, rng)
    return prior, abar, eps, h, op, y, complex_normal(h.shape, rng)


@pytest.mark.parametrize("likelihood, step_cap, gap_lo, gap_hi", [("uninformative", None, 3.0, 20.0),
                                                                    ("tweedie-trace", None, -0.3, 0.3),
                                                                    ("tweedie-trace", 4.0, -0.3, 0.3)])
def test_sampler_against_lmmse_on_low_rank_prior(rng, likelihood, step_cap, gap_lo, gap_hi):
    """Exact prior score, rank-4 prior: Card B's likelihood lands several dB above LMMSE;
    the Tweedie likelihood closes the gap, with or without the receivers' step cap."""
    prior, abar, eps, h, op, y, h_init = _gaussian_case(rng)
    out = posterior_sample(eps, y, op, 0.1, abar, h_init, likelihood=likelihood, rng=rng, step_cap=step_cap)
    gap = _nmse_db(out.numpy(), h.numpy()) - _nmse_db(prior.lmmse(y, op, 0.1).numpy(), h.numpy())
    assert gap_lo < gap < gap_hi, gap


@pytest.mark.parametrize("step_cap, gap_lo, gap_hi", [(None, 20.0, np.inf), (4.0, -0.5, 2.0)])
def test_step_cap_keeps_a_stiff_tweedie_step_stable(rng, step_cap, gap_lo, gap_hi):
    """Full pilots at 20 dB with zeta = 3 on a rank-4 prior: the explicit step on the Tweedie
    data term overshoots and the chain diverges; the step cap keeps it near LMMSE."""
    prior = GaussianRowPrior(low_rank_covariance(NT, 4, seed=2))
    abar = linear_beta_schedule(100, 1e-4, 0.2)
    eps = lambda x, t: prior.eps(x, np.sqrt(abar[t]), np.sqrt(1 - abar[t]))  # noqa: E731
    h = prior.sample([4, NR], rng)
    op = PilotOperator(qpsk_pilots(NT, NT, rng, tf.complex128))
    y = op.observe(h, 0.01, rng)
    out = posterior_sample(eps, y, op, 0.01, abar, complex_normal(h.shape, rng), zeta=3.0, likelihood="tweedie-trace",
                           rng=rng, step_cap=step_cap)
    gap = _nmse_db(out.numpy(), h.numpy()) - _nmse_db(prior.lmmse(y, op, 0.01).numpy(), h.numpy())
    assert gap_lo < gap < gap_hi, gap


@pytest.mark.parametrize("likelihood", ["uninformative", "tweedie-trace"])
def test_compiled_sampler_equals_the_eager_one(rng, likelihood):
    """Each step in a graph (t, a, b and the step size as tensors) gives the eager chain's
    output: same probes from generators of one seed."""
    _, abar, eps, _, op, y, h_init = _gaussian_case(rng)
    runs = [posterior_sample(eps, y, op, 0.1, abar, h_init, likelihood=likelihood, tweedie_from=0.1,
                             rng=tf.random.Generator.from_seed(3), compiled=c).numpy() for c in (False, True)]
    np.testing.assert_allclose(runs[1], runs[0], atol=1e-9 * np.max(np.abs(runs[0])))


def test_tweedie_score_with_a_flat_prior_is_card_b_score(rng):
    """With eps_hat = 0 the Tweedie mean is h_t/a and its posterior variance (trace probe,
    exact for a multiple of I) is b^2/a^2: the Tweedie score must equal Card B's."""
    from linksim.narrowband.likelihoods import tweedie_score
    from linksim.narrowband.samplers import _probe

    op = PilotOperator(qpsk_pilots(NT, 12, rng, tf.complex128))
    h_t = complex_normal([2, NR, NT], rng, var=2.0)
    y = complex_normal([2, NR, 12], rng, var=2.0)
    a, b, nv = 0.6, 0.8, 0.2
    score, mu = tweedie_score(h_t, y, op, nv, a, b, lambda x: 0.0 * x, "trace", _probe(h_t, rng))
    np.testing.assert_allclose(mu.numpy(), h_t.numpy() / a, atol=1e-12)
    np.testing.assert_allclose(score.numpy(), uninformative_score(h_t, y, op, nv, a, b).numpy(), atol=1e-9)


def test_vec_lmmse_matches_row_lmmse_and_picks_components(rng):
    """GaussianMixtureLinear: with C = I_Nr ⊗ C_row it is the row LMMSE (mean and expected
    error); with two components, each realisation is given to the one it came from."""
    from linksim.narrowband.linear_gaussian import GaussianMixtureLinear

    nt, nr, npil, nv = 16, 2, 8, 0.05
    c_row = low_rank_covariance(nt, 4, seed=1)
    prior = GaussianRowPrior(c_row)
    h = prior.sample([64, nr], rng)
    op = PilotOperator(qpsk_pilots(nt, npil, rng, tf.complex128))
    y = op.observe(h, nv, rng)
    vec = GaussianMixtureLinear(np.kron(np.eye(nr), c_row)[None], [1.0], op.x.numpy(), nv, nr)
    mean, var, _ = vec(y)
    np.testing.assert_allclose(mean.numpy(), prior.lmmse(y, op, nv).numpy(), atol=2e-4)
    expected = prior.lmmse_nmse(op, nv) * np.real(np.trace(c_row)) / nt
    np.testing.assert_allclose(np.mean(var.numpy()), expected, rtol=1e-3)
    # two environments with disjoint angular supports
    c_other = low_rank_covariance(nt, 4, seed=99)
    h2 = GaussianRowPrior(c_other).sample([64, nr], rng)
    y2 = op.observe(h2, nv, rng)
    mix = GaussianMixtureLinear(np.stack([np.kron(np.eye(nr), c) for c in (c_row, c_other)]), [0.5, 0.5],
                                op.x.numpy(), nv, nr)
    r1, r2 = mix(y)[2].numpy(), mix(y2)[2].numpy()
    assert np.mean(r1[:, 0] > 0.5) > 0.95 and np.mean(r2[:, 1] > 0.5) > 0.95
    # the mixture CME of component-1 draws is close to that component's LMMSE
    assert _nmse_db(mix(y)[0].numpy(), h.numpy()) < _nmse_db(mean.numpy(), h.numpy()) + 0.5


def _matrix_case(rng, snr_db=20.0, rank=16):
    """A full (not row-separable) covariance of ``vec(H)``, rank ``rank`` of ``NR NT`` plus
    a floor, its exact prior, 64 channels drawn from it, half-density pilots."""
    from linksim.narrowband.gaussian_prior import GaussianMatrixPrior

    cov = low_rank_covariance(NR * NT, rank, seed=3)
    prior = GaussianMatrixPrior(cov, (NR, NT))
    h = prior.sample(64, rng)
    op = PilotOperator(qpsk_pilots(NT, NT // 2, rng, tf.complex64))
    nv = 10.0 ** (-snr_db / 10.0)
    return prior, cov, h, op, nv, op.observe(h, nv, rng)


def test_gaussian_posterior_sampler_reaches_lmmse_with_the_exact_prior(rng):
    """Fed the exact prior score, the Gaussian-posterior sampler's conditional-mean chain is
    the LMMSE estimate (whatever its step count) and one draw has twice its error
    (+3.01 dB); on the same case the previous default (tweedie-trace) is more than 1 dB off."""
    from linksim.narrowband.gaussian_dc import GaussianConsistency, GaussianSurrogate
    from linksim.narrowband.linear_gaussian import GaussianMixtureLinear
    from linksim.narrowband.samplers import consistent_sample, sampling_steps

    prior, cov, h, op, nv, y = _matrix_case(rng)
    abar = linear_beta_schedule(100, 1e-4, 0.2)
    eps = lambda x, t: prior.eps(x, np.sqrt(abar[t]), np.sqrt(1 - abar[t]))  # noqa: E731
    lmmse = _nmse_db(GaussianMixtureLinear(cov[None], [1.0], op.x.numpy(), nv, NR)(y)[0].numpy(), h.numpy())
    h_init = complex_normal(h.shape, rng, tf.complex64)
    for num_steps in (100, 12):
        steps = sampling_steps(100, num_steps)
        dc = GaussianConsistency([GaussianSurrogate(cov)], op.x.numpy(), nv, NR, abar, steps)
        chain = consistent_sample(eps, dc, y, abar, steps, h_init)
        assert abs(_nmse_db(chain.numpy(), h.numpy()) - lmmse) < 0.05, num_steps
        draw = consistent_sample(eps, dc, y, abar, steps, h_init, stochastic=True, rng=rng)
        assert 2.3 < _nmse_db(draw.numpy(), h.numpy()) - lmmse < 3.7, num_steps
    old = posterior_sample(eps, y, op, nv, abar, h_init, likelihood="tweedie-trace", rng=rng, tweedie_from=0.1,
                           step_cap=4.0)
    assert _nmse_db(old.numpy(), h.numpy()) - lmmse > 1.0


def test_sampling_steps():
    from linksim.narrowband.samplers import sampling_steps

    assert sampling_steps(100, 100) == list(range(100, 0, -1))
    s = sampling_steps(100, 20)
    assert s[0] == 100 and s[-1] == 1 and len(s) == 20 and all(a > b for a, b in zip(s, s[1:]))
    assert sampling_steps(10, 500) == list(range(10, 0, -1))


def test_gaussian_backbone_model_loads_with_its_gate():
    """The shipped Gaussian-backbone expert: its noise prediction is the backbone's plus the
    gated residual; where the gate is off (every step: the residual did not beat the
    Gaussian fit on held-out channels) the model is the backbone alone."""
    from linksim.narrowband.network_prior import NetworkPrior

    full = NetworkPrior("nbdm-cdlC-10k-cpu")
    alone = NetworkPrior("nbdm-cdlC-10k-cpu", network=False)
    assert full.backbone is not None and full.backbone.rank < 16 * 64 and full.backbone.floor > 0
    gate = full.config["residual_gate"]
    assert len(gate) == full.T + 1
    h = complex_normal([2, 16, 64], tf.random.Generator.from_seed(1), tf.complex64)
    for t in (1, 50, 100):
        a, b = np.sqrt(full.alpha_bar[t]), np.sqrt(1 - full.alpha_bar[t])
        np.testing.assert_allclose(alone.eps(h, t).numpy(), full.backbone.eps(h, a, b).numpy(), atol=1e-6)
        if gate[t] == 0:
            np.testing.assert_allclose(full.eps(h, t).numpy(), alone.eps(h, t).numpy(), atol=1e-6)
    # the network itself is not zero: the gate, not an untrained residual, switches it off
    assert float(tf.reduce_max(tf.abs(full.net(tf.zeros([1, 16, 64, 2]) + 0.3, tf.constant([10.0]))))) > 1e-4


def test_cached_surrogate_equals_the_decomposition_and_survives_a_damaged_file(tmp_path, monkeypatch):
    """The eigendecomposition kept on disk is the one computed, bit for bit: a later process
    (an empty memory cache) loads it, and a damaged or foreign file is recomputed."""
    from linksim.narrowband import gaussian_dc
    from linksim.narrowband.gaussian_dc import GaussianSurrogate

    a = np.random.default_rng(1).standard_normal((24, 24)) + 1j * np.random.default_rng(2).standard_normal((24, 24))
    cov = a @ a.conj().T
    ref = GaussianSurrogate(cov)
    monkeypatch.setattr(gaussian_dc, "_SURROGATES", {})
    first = GaussianSurrogate.cached(cov, tmp_path)
    files = list(tmp_path.glob("surrogate-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob(".*"))  # written atomically, no tmp left
    assert GaussianSurrogate.cached(cov, tmp_path) is first     # the process keeps it
    monkeypatch.setattr(gaussian_dc, "_SURROGATES", {})         # a new process
    loaded = GaussianSurrogate.cached(cov, tmp_path)
    assert loaded is not first
    for s in (first, loaded):
        assert np.array_equal(s.lam, ref.lam) and np.array_equal(s.q, ref.q)
        with pytest.raises(ValueError):
            s.q[0, 0] = 0                                         # shared: read-only
    for damage in (b"not an npz", None):
        monkeypatch.setattr(gaussian_dc, "_SURROGATES", {})
        if damage is None:                                       # a decomposition of another size
            with open(files[0], "wb") as f:
                np.savez(f, lam=ref.lam[:3], q=ref.q[:3, :3])
        else:
            files[0].write_bytes(damage)
        again = GaussianSurrogate.cached(cov, tmp_path)
        assert np.array_equal(again.lam, ref.lam) and np.array_equal(again.q, ref.q)
    other = GaussianSurrogate.cached(cov + np.eye(24), tmp_path)
    assert len(list(tmp_path.glob("surrogate-*.npz"))) == 2 and not np.array_equal(other.lam, ref.lam)


def test_cached_draws_are_the_draws_and_serve_what_is_on_disk(tmp_path):
    from linksim.narrowband.channels import NarrowbandCDL, cached_draws

    model = NarrowbandCDL(num_tx=4, num_rx=2)
    drawn = model.draw_many("A", 3, seed=7)
    assert np.array_equal(cached_draws(model, "A", 3, 7, tmp_path), drawn)
    (path,) = tmp_path.glob("narrowband-cdlA-*.npy")
    np.save(path, drawn * 2)                                      # what is on disk is what is served
    assert np.array_equal(cached_draws(model, "A", 3, 7, tmp_path), drawn * 2)
    np.save(path, drawn[:2])                                      # a file of another size is redrawn
    assert np.array_equal(cached_draws(model, "A", 3, 7, tmp_path), drawn)
    with pytest.raises(ValueError, match="unknown CDL profile"):
        cached_draws(model, "F", 3, 7, tmp_path)
