"""The Gaussian-mixture prior: exact posterior, EM fit, use as a diffusion denoiser, and
checkpoints that carry it."""

import json

import numpy as np
import pytest
import tensorflow as tf

from linksim.diffusion import GammaSchedule
from linksim.diffusion.checkpoints import PRIOR_FILE, load_denoiser, load_prior, save_checkpoint
from linksim.diffusion.gmm import DATA_SCALE, GaussianMixturePrior, MixtureDenoiser, fit_gmm
from linksim.diffusion.nets.mixer import make_network
from linksim.errors import UserError


def _cn(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def _random_prior(d=12, r=5, k=3, floor=0.05, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(_cn(rng, (d, d)))
    chols = []
    for _ in range(k):
        a = _cn(rng, (r, r))
        chols.append(np.linalg.cholesky(a @ a.conj().T / r + 0.1 * np.eye(r)))
    w = rng.uniform(0.2, 1.0, k)
    return GaussianMixturePrior(q[:, :r], np.stack(chols), w / w.sum(), floor)


def _brute_force(prior, x, a, b2):
    """Posterior by dense linear algebra in the full space (complex128)."""
    d = prior.dim
    A, B2 = np.diag(a), np.diag(b2)
    lls, means, vars_, noise = [], [], [], []
    for k in range(prior.num_components):
        c = prior.covariance(k)
        s = A @ c @ A + B2
        si = np.linalg.inv(s)
        g = c @ A @ si
        lls.append(np.log(prior.weights[k]) - np.real(x.conj() @ si @ x) - np.log(np.real(np.linalg.det(s))))
        means.append(g @ x)
        vars_.append(np.real(np.diag(c - g @ A @ c)))
        noise.append(np.real(np.diag(g @ B2 @ g.conj().T)))
    lls = np.array(lls)
    r = np.exp(lls - lls.max())
    r /= r.sum()
    mean = sum(r[k] * means[k] for k in range(len(r)))
    var = sum(r[k] * (vars_[k] + np.abs(means[k]) ** 2) for k in range(len(r))) - np.abs(mean) ** 2
    return r, mean, var, sum(r[k] * noise[k] for k in range(len(r))), d


def test_posterior_matches_dense_linear_algebra():
    prior = _random_prior()
    rng = np.random.default_rng(1)
    g, n, d = 2, 3, prior.dim
    x = _cn(rng, (g, n, d)) * 2
    a = rng.uniform(0, 1, (g, 1, d))
    a[0, 0, :3] = 0.0        # unobserved entries
    b2 = rng.uniform(0.1, 1, (g, 1, d))
    b2[1, 0, :2] = 0.0       # noiseless entries (the floor keeps S invertible)
    out = prior.posterior(tf.constant(x, tf.complex64), tf.constant(a, tf.float32), tf.constant(b2, tf.float32),
                          variance=True, noise_variance=True)
    for gi in range(g):
        for i in range(n):
            r, mean, var, noise, _ = _brute_force(prior, x[gi, i], a[gi, 0], b2[gi, 0])
            np.testing.assert_allclose(out["resp"].numpy()[gi, i], r, atol=2e-4)
            np.testing.assert_allclose(out["mean"].numpy()[gi, i], mean, rtol=2e-3, atol=2e-4)
            np.testing.assert_allclose(out["var"].numpy()[gi, i], var, rtol=2e-3, atol=2e-4)
            np.testing.assert_allclose(out["var_noise"].numpy()[gi, i], noise, rtol=2e-3, atol=2e-4)


def _draw(prior, n, rng):
    """Samples of the prior and their component."""
    w = prior.weights.astype(np.float64)
    comp = rng.choice(prior.num_components, size=n, p=w / w.sum())
    z = np.einsum("nrs,ns->nr", prior.chol.astype(np.complex128)[comp], _cn(rng, (n, prior.rank)))
    h = z @ prior.basis.T.astype(np.complex128) + np.sqrt(prior.floor) * _cn(rng, (n, prior.dim))
    return h, comp


def test_em_recovers_a_two_component_mixture():
    rng = np.random.default_rng(3)
    d = 24
    q, _ = np.linalg.qr(_cn(rng, (d, d)))
    # two components on different 4-dim subspaces of a shared 8-dim one
    chols = np.zeros([2, 8, 8], complex)
    chols[0, :4, :4] = np.eye(4) * 1.5
    chols[1, 4:, 4:] = np.eye(4) * 1.5
    chols += 1e-3 * np.eye(8)
    truth = GaussianMixturePrior(q[:, :8], chols, np.array([0.4, 0.6]), 1e-9)
    h, comp = _draw(truth, 4000, rng)
    fitted = fit_gmm(h, 2, seed=0)
    assert fitted.rank == 8                      # energy tolerance finds the 8-dim subspace
    test, test_comp = _draw(truth, 500, rng)
    ones = tf.ones([1, 1, d])
    post = fitted.posterior(tf.constant(test[None], tf.complex64), ones, 1e-2 * ones, variance=False)
    pick = post["resp"].numpy()[0].argmax(1)
    agree = max(np.mean(pick == test_comp), np.mean(pick != test_comp))   # labels may swap
    assert agree > 0.98
    np.testing.assert_allclose(sorted(fitted.weights), [0.4, 0.6], atol=0.04)


def test_kmeans_restarts_keep_environments_apart():
    """Four environments, each with its power on its own 4 of 16 directions. For seed 8 one
    k-means++ draw starts EM with two environments in one component (and one split), and
    four EM iterations keep it there; the best of 8 draws by within-cluster spread finds
    the four (the balanced CDL set had the same failure: CDL-B merged with CDL-D)."""
    rng = np.random.default_rng(7)
    d, k, n = 16, 4, 500
    q, _ = np.linalg.qr(_cn(rng, (d, d)))
    h, label = [], np.repeat(np.arange(k), n)
    for j in range(k):
        power = np.full(d, 0.05)
        power[4 * j:4 * j + 4] = 2.0
        h.append((_cn(rng, (n, d)) * np.sqrt(power)) @ q.T)
    h = np.concatenate(h)
    ones = tf.ones([1, 1, d])

    def purity(restarts):
        prior = fit_gmm(h, k, seed=8, restarts=restarts, iterations=4, energy_tol=1e-9)
        pick = prior.posterior(tf.constant(h[None], tf.complex64), ones, 1e-2 * ones, variance=False)["resp"]
        pick = pick.numpy()[0].argmax(1)
        return sum(np.bincount(label[pick == j], minlength=k).max() for j in range(k)) / len(label)

    assert purity(1) < 0.8                         # the failure the restarts are for
    assert purity(8) > 0.99


def test_one_full_rank_component_is_lmmse():
    rng = np.random.default_rng(4)
    d = 10
    m = _cn(rng, (d, d))
    cov = m @ m.conj().T / d + 0.05 * np.eye(d)
    h = np.linalg.cholesky(cov) @ _cn(rng, (d, 20000))
    prior = fit_gmm(h.T, 1, energy_tol=1e-12)
    assert prior.rank == d
    sample_cov = h @ h.conj().T / h.shape[1]
    mask = (np.arange(d) % 3 == 0).astype(np.float64)
    s2 = 0.1
    x = (h[:, :5].T + np.sqrt(s2) * _cn(rng, (5, d))) * mask
    post = prior.posterior(tf.constant(x[None], tf.complex64), tf.constant(mask[None, None], tf.float32),
                           tf.constant(np.where(mask > 0, s2, 1.0)[None, None], tf.float32))
    p = np.nonzero(mask)[0]
    w = sample_cov[:, p] @ np.linalg.inv(sample_cov[np.ix_(p, p)] + s2 * np.eye(len(p)))
    np.testing.assert_allclose(post["mean"].numpy()[0], x[:, p] @ w.T, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(post["var"].numpy()[0, 0], np.real(np.diag(sample_cov - w @ sample_cov[p, :])),
                               rtol=1e-3, atol=1e-4)


def test_mixture_denoiser_shared_and_per_sample_times_agree():
    prior = _random_prior(d=12, r=5, k=2)
    prior.data_shape = (3, 4)
    den = MixtureDenoiser(prior, GammaSchedule(100))
    rng = np.random.default_rng(5)
    x = tf.constant(rng.standard_normal((4, 3, 4, 2)), tf.float32)
    tau = tf.constant(rng.uniform(0, 100, (1, 3, 4, 1)), tf.float32)
    shared = den(x, tau).numpy()
    per_sample = den(x, tf.tile(tau, [4, 1, 1, 1])).numpy()
    np.testing.assert_allclose(shared, per_sample, rtol=1e-4, atol=1e-5)
    # units: x0 is sqrt(2) times the complex CME of x / sqrt(2)
    alpha, beta = den.schedule.alpha_beta(tau[0, ..., 0])
    xc = tf.complex(x[..., 0], x[..., 1]) / DATA_SCALE
    post = prior.posterior(tf.reshape(xc, [1, 4, 12]), tf.reshape(alpha, [1, 1, 12]),
                           tf.reshape(beta ** 2, [1, 1, 12]), variance=False)
    np.testing.assert_allclose(shared[..., 0], np.real(post["mean"].numpy()[0]).reshape(4, 3, 4) * DATA_SCALE,
                               rtol=1e-4, atol=1e-5)


def test_checkpoint_carries_the_prior(tmp_path):
    prior = _random_prior(d=12, r=5, k=2)
    prior.data_shape = (3, 4)
    net = make_network("cpu", in_features=2, zero_output=True).build_for((3, 4))
    path = save_checkpoint(tmp_path / "m", net, data_shape=(3, 4), prior=prior,
                           extra={"schedule": {"kind": "gamma", "T": 100}, "parameterisation": "v",
                                  "data_norm": "unit"})
    loaded = load_prior(path)
    np.testing.assert_array_equal(loaded.basis, prior.basis)
    den, cfg = load_denoiser(path, (3, 4))
    alone, _ = load_denoiser(path, (3, 4), network=False)
    x = tf.random.normal([2, 3, 4, 2])
    tau = tf.fill([1, 3, 4, 1], 30.0)
    # a zero-initialised residual network leaves the backbone's estimate
    np.testing.assert_allclose(den(x, tau).numpy(), alone(x, tau).numpy(), atol=1e-6)
    assert cfg["backbone"]["num_components"] == 2
    # an altered prior file is refused, naming the field
    with open(path / PRIOR_FILE, "ab") as f:
        f.write(b"x")
    with pytest.raises(UserError, match="altered") as err:
        load_prior(path)
    assert err.value.field == "backbone.sha256"
    # a config that records a prior of another shape is refused
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["backbone"]["file"] == PRIOR_FILE
