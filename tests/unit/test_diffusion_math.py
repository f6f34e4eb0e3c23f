"""Diffusion core math: schedules, steppers, parameterisations and the sampler.

The sampler is checked without any training, on Gaussian data with the exact denoiser
(``linksim.diffusion.gaussian``): first-step estimate = MMSE, DDIM-eta=1 gives posterior
samples (mean -> MMSE, one sample ~ 2x MMSE), eta=0 maps the initial marginal onto the
prior, and the paper's constant eps < 1 gets worse with more steps.
"""



import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion import (CosineSchedule, Denoiser, GammaSchedule, LinearBetaSchedule,
                               from_x0, gamma, gamma_inv, get_stepper, hybrid,
                               make_schedule, normalize_data, denormalize_data,
                               normalize_input, observation_rewrite, sample, target,
                               to_eps, to_v, to_x0, uniform, waterfill)
from linksim.diffusion import gaussian as G

T = 1000
D = 16


@pytest.fixture(scope="module")
def schedule():
    return GammaSchedule(T)


@pytest.fixture(scope="module")
def cov():
    return G.random_covariance(D, seed=3)


@pytest.fixture(scope="module")
def denoiser(cov, schedule):
    return G.GaussianDenoiser(cov, schedule)


def rng_(seed):
    return tf.random.Generator.from_seed(seed)


def mmse_problem(cov, schedule, kind, n, seed):
    """h, observation, tau0 and the closed-form posterior (float64)."""
    rng = rng_(seed)
    h = G.draw_data(cov, n, rng)
    h_tilde, a, b = G.draw_observation(h, kind, rng)
    mean, post_cov = G.posterior(cov, h_tilde, a, b)
    mmse = float(tf.reduce_mean(tf.linalg.trace(post_cov)))  # per sample, E||h||^2 = D
    return h, h_tilde, a, b, schedule.tau_of_alpha(a), mean, mmse


# ------------------------------------------------------------------------- schedules
def test_gamma_basic_and_inverse(schedule):
    taus = tf.range(T + 1, dtype=tf.float32)
    g = gamma(taus, T).numpy()
    assert g[0] == 1.0
    assert np.all(np.diff(g) <= 0)
    assert g[-1] > 0
    np.testing.assert_allclose(g[:4], [1.0, np.sqrt(1 - 0.2 / T),
                                       np.sqrt((1 - 0.2 / T) * (1 - 0.4 / T)),
                                       np.sqrt((1 - 0.2 / T) * (1 - 0.4 / T) * (1 - 0.6 / T))],
                               rtol=1e-6)
    # integer and fractional times, integer dtype input too
    frac = tf.constant([0.0, 0.25, 1.0, 3.5, 17.3, 250.0, 512.75, 999.9, 1000.0])
    back = gamma_inv(gamma(frac, T), T).numpy()
    # float32 alpha near 1 resolves tau to ~6e-8 / |dalpha/dtau| ~ 1e-3 at tau ~ 0
    np.testing.assert_allclose(back, frac.numpy(), atol=2e-3, rtol=1e-4)
    np.testing.assert_allclose(gamma_inv(gamma(tf.range(T + 1), T), T).numpy(),
                               np.arange(T + 1), atol=2e-3, rtol=1e-4)
    # log-linear interpolation between integers
    la = np.log(gamma(tf.constant([3.0, 4.0, 3.25]), T).numpy().astype(np.float64))
    np.testing.assert_allclose(la[2], 0.75 * la[0] + 0.25 * la[1], rtol=1e-4)
    # clipping of alpha to [gamma(T), 1]
    clip = gamma_inv(tf.constant([0.0, 1.0, 2.0]), T).numpy()
    np.testing.assert_allclose(clip, [T, 0.0, 0.0])
    # beta exact at 0 and accurate near 0
    a, b = schedule.alpha_beta(tf.constant([0.0, 1.0]))
    assert b.numpy()[0] == 0.0
    np.testing.assert_allclose(b.numpy()[1], np.sqrt(0.2 / T), rtol=1e-4)


def test_schedule_family_and_config():
    # Card A's gamma is the linear-beta schedule with beta_i = 0.2 i / T
    lin = LinearBetaSchedule(50, beta_start=0.2 / 50, beta_end=0.2)
    np.testing.assert_allclose(lin.log_alpha_table, GammaSchedule(50).log_alpha_table,
                               atol=1e-12)
    for sch in (GammaSchedule(200, rate=0.1), LinearBetaSchedule(100), CosineSchedule(100)):
        cfg = sch.to_config()
        assert make_schedule(cfg) == sch and type(sch).from_config(cfg) == sch
        tau = tf.constant([0.0, 0.5, 7.0, 42.25, float(sch.T)])
        alpha = sch.alpha(tau)
        assert np.all(np.diff(alpha.numpy()) < 0)
        np.testing.assert_allclose(sch.tau_of_alpha(alpha).numpy(), tau.numpy(), atol=5e-3)
        a, b = sch.alpha_beta(tau)
        np.testing.assert_allclose((a * a + b * b).numpy(), 1.0, atol=1e-6)


# --------------------------------------------------------------------------- forward
def test_observation_rewrite_and_normalisations():
    h_bar = tf.constant([[1.0, 2.0, 3.0, 4.0]])
    mask = tf.constant([[1.0, 0.0, 1.0, 0.0]])
    p = tf.constant([[0.5, 0.7, 0.0, 0.0]])
    h_tilde, a, b = observation_rewrite(h_bar, mask, p)
    np.testing.assert_allclose((a * a + b * b).numpy(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(a.numpy(), [[1 / np.sqrt(1.25), 0, 1, 0]], rtol=1e-6)
    np.testing.assert_allclose(h_tilde.numpy(), [[1 / np.sqrt(1.25), 2 / 0.7, 3, 0]],
                               rtol=1e-6)  # D = 0 -> unobserved, 0
    h_noise, _, _ = observation_rewrite(h_bar, mask, p, unobserved="noise", rng=rng_(0))
    assert h_noise.numpy()[0, 3] != 0.0
    # noise-power input: ||x_hat|| = sqrt(d) per sample, exact elements finite
    x = rng_(1).normal([3, 4, 5])
    beta = tf.concat([tf.zeros([3, 4, 1]), tf.fill([3, 4, 4], 0.5)], -1)
    x_hat = normalize_input(x, beta, "noise")
    np.testing.assert_allclose(tf.norm(tf.reshape(x_hat, [3, -1]), axis=1).numpy() /
                               tf.norm(tf.reshape(x * tf.where(beta > 0, 2.0, 100.0), [3, -1]),
                                       axis=1).numpy() * np.linalg.norm(
                                   np.where(beta.numpy()[0] > 0, 2.0, 100.0)),
                               np.sqrt(20.0), rtol=1e-5)
    assert normalize_input(x, beta, "total") is x
    # data normalisation, complex
    hc = tf.complex(rng_(2).normal([2, 3, 4]), rng_(3).normal([2, 3, 4]))
    ht, scale = normalize_data(hc)
    np.testing.assert_allclose(tf.reduce_sum(tf.abs(ht) ** 2, [1, 2]).numpy(), 24.0, rtol=1e-5)
    np.testing.assert_allclose(denormalize_data(ht, scale).numpy(), hc.numpy(), rtol=1e-5,
                               atol=1e-6)


# ------------------------------------------------------------------- parameterisation
@pytest.mark.parametrize("kind", ["eps", "v", "x0"])
def test_parameterisation_round_trip(kind, schedule):
    rng = rng_(4)
    h, xi = rng.normal([4, 8]), rng.normal([4, 8])
    alpha, beta = schedule.alpha_beta(rng.uniform([4, 8], 0.0, 200.0))  # eps: x0 /alpha
    x = alpha * h + beta * xi
    y = target(h, xi, alpha, beta, kind)
    np.testing.assert_allclose(to_x0(x, y, alpha, beta, kind).numpy(), h.numpy(), atol=1e-4)
    np.testing.assert_allclose(to_eps(x, y, alpha, beta, kind).numpy(), xi.numpy(), atol=2e-4)
    np.testing.assert_allclose(to_v(x, y, alpha, beta, kind).numpy(),
                               (alpha * xi - beta * h).numpy(), atol=1e-4)
    np.testing.assert_allclose(from_x0(x, h, alpha, beta, kind).numpy(), y.numpy(), atol=2e-4)


def test_denoiser_wrapper_matches_exact(denoiser, schedule):
    def v_network(x_hat, tau):  # "total" input norm: x_hat = x
        alpha, beta = schedule.alpha_beta(tau)
        return from_x0(x_hat, denoiser(x_hat, tau), alpha, beta, "v")

    wrapped = Denoiser(v_network, schedule.to_config(), "v", "total")
    x = rng_(5).normal([6, D])
    tau = rng_(6).uniform([6, D], 0.0, 300.0)
    np.testing.assert_allclose(wrapped(x, tau).numpy(), denoiser(x, tau).numpy(), atol=1e-5)


# --------------------------------------------------------------------------- steppers
def test_waterfill_and_uniform_properties():
    rng = rng_(7)
    tau0 = tf.floor(rng.uniform([5, 4, 6], 0.0, 1000.0)) * tf.cast(
        rng.uniform([5, 4, 6]) < 0.8, tf.float32)          # ties at 0 and a spread
    tau0 = tf.concat([tau0[:4], tf.fill([1, 4, 6], 300.0)], 0)  # one "identical" sample
    for ng in (1, 7, 50):
        tau_u, tau_w = tau0, tau0
        budget = tf.reduce_sum(tau0, [1, 2]).numpy() / ng
        for _ in range(ng):
            nxt = waterfill(tau_w, tau0, ng)
            t, n = tau_w.numpy().reshape(5, -1), nxt.numpy().reshape(5, -1)
            assert np.all(n <= t)
            removed = (t - n).sum(1)
            hit_zero = n.max(1) == 0
            np.testing.assert_allclose(removed[~hit_zero], budget[~hit_zero], rtol=1e-4)
            assert np.all(removed[hit_zero] <= budget[hit_zero] * (1 + 1e-4))
            for row_t, row_n in zip(t, n):  # order kept
                order = np.argsort(row_t, kind="stable")
                assert np.all(np.diff(row_n[order]) >= 0)
            tau_w = nxt
            nxt_u = uniform(tau_u, tau0, ng)
            assert np.all(nxt_u.numpy() <= tau_u.numpy())
            tau_u = nxt_u
        assert np.all(tau_w.numpy() == 0) and np.all(tau_u.numpy() == 0)
    # identical special case: scalar tau per sample gives the same path as broadcasting it
    t_s = tf.constant([[300.0], [40.0]])
    t_f = tf.broadcast_to(t_s, [2, 9])
    for step in (uniform, waterfill, get_stepper("hybrid:0.3")):
        np.testing.assert_allclose(tf.broadcast_to(step(t_s, t_s, 10), [2, 9]).numpy(),
                                   step(t_f, t_f, 10).numpy(), rtol=1e-6)


def test_waterfill_lowers_the_largest_times_to_one_level():
    """Water-filling's defining property: the budget ||tau0||_1 / NG comes off the largest
    entries, which all end at one common level L; entries below L do not move (a
    proportional stepper keeps the order and the budget too, and fails this)."""
    tau0 = tf.constant([[10.0, 8.0, 3.0, 1.0, 8.0, 0.0]])
    # NG = 3: budget 30 / 3 = 10; (10 - L) + 2 (8 - L) = 10 -> L = 16/3
    nxt = waterfill(tau0, tau0, 3).numpy()[0]
    np.testing.assert_allclose(nxt, [16 / 3, 16 / 3, 3.0, 1.0, 16 / 3, 0.0], rtol=1e-6)
    # next step: budget 10 again; 3 (16/3 - L) + (3 - L) = 10 -> L = 9/4
    nxt2 = waterfill(tf.constant(nxt[None]), tau0, 3).numpy()[0]
    np.testing.assert_allclose(nxt2, [2.25, 2.25, 2.25, 1.0, 2.25, 0.0], rtol=1e-5)
    rng = rng_(11)
    tau0 = rng.uniform([8, 40], 0.0, 100.0)
    for ng in (2, 5, 20):
        t = waterfill(tau0, tau0, ng).numpy()
        t0 = tau0.numpy()
        for row, row0 in zip(t, t0):
            moved = row < row0 - 1e-5
            level = row[moved]
            assert moved.any() and np.allclose(level, level[0], atol=1e-4)      # one level
            assert np.all(row0[~moved] <= level[0] + 1e-4)                        # nothing above it stays
            np.testing.assert_allclose((row0 - row).sum(), row0.sum() / ng, rtol=1e-4)  # budget kept


def test_ddim_eta_matches_the_closed_form():
    """Update (12) with the element-wise eps of DDIM-eta equals the DDIM step
    g' = alpha' D + sqrt(beta'^2 - s^2) eps_hat + s xi, s = eta (beta'/beta) sqrt(1 - alpha^2/alpha'^2),
    eps_hat = (g - alpha D)/beta, for every eta in [0, 1]."""
    from linksim.diffusion.samplers import eta_to_eps, update

    rng = rng_(12)
    shape = [4, 7]
    alpha = rng.uniform(shape, 0.05, 0.9)
    alpha_next = tf.minimum(alpha + rng.uniform(shape, 0.01, 0.5), 0.999)
    beta, beta_next = tf.sqrt(1 - alpha ** 2), tf.sqrt(1 - alpha_next ** 2)
    g, d0, xi = rng.normal(shape), rng.normal(shape), rng.normal(shape)
    for eta in (0.0, 0.3, 0.7, 1.0):
        eps = eta_to_eps(alpha, beta, alpha_next, eta)
        got = update(g, d0, alpha, beta, alpha_next, beta_next, eps, xi)
        s = eta * beta_next / beta * tf.sqrt(1 - alpha ** 2 / alpha_next ** 2)
        want = alpha_next * d0 + tf.sqrt(beta_next ** 2 - s ** 2) * (g - alpha * d0) / beta + s * xi
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    # eta = 1 is ancestral DDPM: eps = alpha beta' / (alpha' beta)
    np.testing.assert_allclose(eta_to_eps(alpha, beta, alpha_next, 1.0).numpy(),
                               (alpha * beta_next / (alpha_next * beta)).numpy(), rtol=1e-4)


def test_stepper_names_hybrid_and_alpha(schedule):
    tau0 = tf.constant([[1000.0, 500.0, 100.0, 0.0, 20.0]])
    np.testing.assert_allclose(get_stepper("hybrid:0.5")(tau0, tau0, 10).numpy(),
                               hybrid(tau0, tau0, 10, 0.5).numpy())
    for name in ("alpha-uniform", "alpha-waterfill", "alpha-hybrid:0.3", "tau-waterfill"):
        step = get_stepper(name, schedule)
        tau = tau0
        for _ in range(12):
            nxt = step(tau, tau0, 12)
            assert np.all(nxt.numpy() <= tau.numpy() + 1e-6)
            if "hybrid" not in name:  # a hybrid's uniform part uses tau0, not tau
                order = np.argsort(tau.numpy()[0], kind="stable")
                assert np.all(np.diff(nxt.numpy()[0][order]) >= -1e-4), name
            tau = nxt
        if "hybrid" not in name:
            assert np.all(tau.numpy() == 0), name
    with pytest.raises(Exception, match="waterfill"):
        get_stepper("waterfil")


# ------------------------------------------------------------------ sampler (Gaussian)
@pytest.mark.parametrize("kind", ["identical", "nonidentical"])
@pytest.mark.parametrize("stepper", ["uniform", "waterfill"])
def test_first_step_is_mmse(kind, stepper, cov, schedule, denoiser):
    h, h_tilde, a, b, tau0, mean, _ = mmse_problem(cov, schedule, kind, 64, seed=10)
    if kind == "identical":
        assert tau0.shape == (64, 1)
    else:
        assert np.any(b.numpy() == 0) and np.any(a.numpy() == 0)
    _, traj = sample(denoiser, h_tilde, tau0, 3, stepper=stepper, eta=1.0, rng=rng_(11),
                     return_trajectory=True)
    assert traj.shape == (3, 64, D)
    np.testing.assert_allclose(traj[0].numpy(), mean.numpy(), atol=2e-4 * np.abs(mean).max())


@pytest.mark.parametrize("kind,stepper,steps", [("identical", "uniform", 50),
                                                ("identical", "waterfill", 50),
                                                ("nonidentical", "uniform", 100),
                                                ("nonidentical", "waterfill", 100)])
def test_ddpm_eta1_gives_posterior_samples(kind, stepper, steps, cov, schedule, denoiser):
    n, k = 32, 64
    h, h_tilde, a, b, tau0, mean, mmse = mmse_problem(cov, schedule, kind, n, seed=20)
    out = sample(denoiser, tf.repeat(h_tilde, k, 0), tf.repeat(tau0, k, 0), steps,
                 stepper=stepper, eta=1.0, rng=rng_(21))
    out = tf.cast(tf.reshape(out, [n, k, D]), tf.float64)
    h64 = tf.cast(h, tf.float64)
    one = float(tf.reduce_mean(tf.reduce_sum((out - h64[:, None]) ** 2, -1)))
    avg = tf.reduce_mean(out, 1)
    mean_dev = float(tf.reduce_mean(tf.reduce_sum((avg - mean) ** 2, -1)))
    # mean of K samples -> MMSE estimate (deviation ~ spread / K ~ 1.5 % of MMSE)
    assert mean_dev < 0.04 * mmse, (mean_dev / mmse)
    # one posterior sample has error ~ 2 x MMSE (finite-NG DDPM slightly under-disperses)
    assert 0.85 < one / (2 * mmse) < 1.08, one / (2 * mmse)


@pytest.mark.parametrize("kind,stepper", [("identical", "waterfill"),
                                          ("nonidentical", "uniform"),
                                          ("nonidentical", "waterfill")])
def test_ddim_eta0_maps_onto_prior(kind, stepper, cov, schedule, denoiser):
    n = 6000
    h, h_tilde, a, b, tau0, _, _ = mmse_problem(cov, schedule, kind, n, seed=30)
    out = sample(denoiser, h_tilde, tau0, 60, stepper=stepper, eta=0.0).numpy()
    emp = out.T.astype(np.float64) @ out / n
    rel = np.linalg.norm(emp - cov) / np.linalg.norm(cov)
    assert rel < 0.1, rel
    assert abs(np.trace(emp) / D - 1) < 0.1


def test_constant_eps_forgets_observation(cov, schedule, denoiser):
    h, h_tilde, a, b, tau0, _, mmse = mmse_problem(cov, schedule, "identical", 256, seed=40)
    err = {}
    for ng in (10, 200):
        out = sample(denoiser, h_tilde, tau0, ng, stepper="uniform", eps=0.4, rng=rng_(41))
        err[ng] = G.nmse(out, h)
    assert err[200] > err[10] > 0


def test_scalar_tau_is_identical_case_and_graph_mode(cov, schedule, denoiser):
    h, h_tilde, a, b, tau0, _, _ = mmse_problem(cov, schedule, "identical", 16, seed=50)
    ref = sample(denoiser, h_tilde, tau0, 8, stepper="waterfill", eta=0.0)
    full = sample(denoiser, h_tilde, tf.broadcast_to(tau0, [16, D]), 8, stepper="waterfill",
                  eta=0.0)
    np.testing.assert_allclose(full.numpy(), ref.numpy(), atol=1e-5)

    @tf.function
    def run(x, t):
        return sample(denoiser, x, t, 8, stepper="waterfill", eta=0.5, rng=rng_g)

    rng_g = rng_(51)
    out = run(h_tilde, tau0)
    assert out.shape == (16, D) and np.all(np.isfinite(out.numpy()))
    with pytest.raises(ValueError):
        sample(denoiser, h_tilde, tau0, 8, eps=0.5, eta=0.5)
