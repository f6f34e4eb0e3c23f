r"""Gaussian test harness: data with a known covariance and its exact denoiser.

For :math:`h\sim\mathcal N(0, C)` and :math:`x = \alpha\odot h + \beta\odot\xi` with
element-wise ``alpha, beta`` (:math:`A = \mathrm{diag}(\alpha)`,
:math:`B = \mathrm{diag}(\beta)`), the posterior is Gaussian with

.. math::
    E[h|x] = C A S^{-1} x,\quad \mathrm{Cov}[h|x] = C - C A S^{-1} A C,\quad
    S = A C A + B^2 .

``S`` is positive definite whenever ``C`` is (:math:`v^T S v \ge \min(\lambda_{\min}(C),
1)\|v\|^2` since :math:`\alpha^2+\beta^2=1`), so exact elements (``beta = 0``) need no
special case; everything is solved in float64 with a Cholesky factorisation.

Used by the unit tests and ``benchmarks/diffusion_sampler_math.py``: a sampler run with
:class:`GaussianDenoiser` isolates the sampler's own error from the network's.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .forward import observation_rewrite
from .schedules import make_schedule

__all__ = [
    "random_covariance",
    "posterior",
    "GaussianDenoiser",
    "draw_data",
    "draw_observation",
    "nmse",
    "OBSERVATION_KINDS",
]

OBSERVATION_KINDS = ("identical", "nonidentical")


def random_covariance(d: int, decay: float = 0.3, floor: float = 0.02, seed: int = 0):
    r"""A random SPD covariance with a decaying ("low-rank-ish") spectrum, ``tr C = d``.

    Eigenvalues :math:`\propto e^{-\mathrm{decay}\,k} + \mathrm{floor}`, eigenvectors from
    the QR of a seeded Gaussian matrix.

    Output
    ------
    cov : [d, d], np.float64
    """
    rs = np.random.default_rng(seed)
    q, r = np.linalg.qr(rs.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    lam = np.exp(-decay * np.arange(d)) + floor
    lam *= d / lam.sum()
    cov = (q * lam) @ q.T
    return 0.5 * (cov + cov.T)


def posterior(cov, x, alpha, beta):
    r"""Posterior mean and covariance of ``h`` given ``x = alpha*h + beta*xi``.

    Input
    -----
    cov : [d, d], float
    x : [batch, d], float
    alpha, beta : broadcastable to ``[batch, d]``, float

    Output
    ------
    mean : [batch, d], tf.float64
    post_cov : [batch, d, d], tf.float64
    """
    cov = tf.cast(cov, tf.float64)
    x = tf.cast(x, tf.float64)
    shape = tf.shape(x)
    a = tf.broadcast_to(tf.cast(alpha, tf.float64), shape)
    b = tf.broadcast_to(tf.cast(beta, tf.float64), shape)
    ca = cov[tf.newaxis] * a[:, tf.newaxis, :]                  # C A
    s = a[:, :, tf.newaxis] * ca + tf.linalg.diag(b * b)         # A C A + B^2
    chol = tf.linalg.cholesky(s)
    m = tf.linalg.cholesky_solve(chol, x[..., tf.newaxis])
    mean = tf.squeeze(tf.matmul(ca, m), -1)
    w = tf.linalg.cholesky_solve(chol, tf.linalg.matrix_transpose(ca))  # S^-1 A C
    post_cov = cov[tf.newaxis] - tf.matmul(ca, w)
    return mean, post_cov


class GaussianDenoiser:
    r"""Exact denoiser ``(x, tau) -> E[h | x]`` for :math:`h\sim\mathcal N(0, C)`.

    Parameters
    ----------
    cov : [d, d], array-like
    schedule : Schedule | dict | str

    Input
    -----
    x : [batch, ...], float (``prod(...) = d``)
    tau : broadcastable to ``x``, float

    Output
    ------
    x0_hat : [batch, ...], dtype of ``x``
    """

    def __init__(self, cov, schedule):
        self.cov = tf.constant(np.asarray(cov, dtype=np.float64))
        self.schedule = make_schedule(schedule)

    def __call__(self, x, tau):
        x = tf.convert_to_tensor(x)
        shape = tf.shape(x)
        alpha, beta = self.schedule.alpha_beta(tf.cast(tau, x.dtype))
        alpha = tf.broadcast_to(alpha, shape)
        beta = tf.broadcast_to(beta, shape)
        flat = [shape[0], -1]
        mean, _ = posterior(self.cov, tf.reshape(x, flat), tf.reshape(alpha, flat),
                            tf.reshape(beta, flat))
        return tf.cast(tf.reshape(mean, shape), x.dtype)


def draw_data(cov, n: int, rng: tf.random.Generator, dtype=tf.float32) -> tf.Tensor:
    """``n`` draws of ``h ~ N(0, cov)``.

    Output
    ------
    h : [n, d], dtype
    """
    chol = tf.linalg.cholesky(tf.cast(cov, tf.float64))
    z = rng.normal([n, chol.shape[0]], dtype=tf.float64)
    return tf.cast(tf.matmul(z, chol, transpose_b=True), dtype)


def draw_observation(h, kind: str, rng: tf.random.Generator, *, snr_db: float = 0.0,
                     keep: float = 0.6, exact: float = 0.1):
    r"""A first estimate of ``h`` rewritten as ``H~ = A h + B xi`` (Card A eq. 1-3).

    ``"identical"``: every element observed with noise power ``10^(-snr_db/10)``; ``A``
    and ``B`` come back as per-sample scalars ``[n, 1]`` (identical diffusion).
    ``"nonidentical"``: each element kept with probability ``keep`` (masked elements
    carry no noise, ``D = 0``, filled with fresh noise), kept elements have noise power
    ``10^(-snr_db/10) * (0.1 + 0.9 * Exp(1))`` (Card A's "10 % floor + pattern"), and a
    share ``exact`` of the kept elements is noise-free (``B = 0``).

    Input
    -----
    h : [n, d], float
    kind : "identical" | "nonidentical"
    rng : tf.random.Generator

    Output
    ------
    h_tilde : [n, d], float
    a, b : [n, 1] (identical) or [n, d] (non-identical), float
    """
    h = tf.convert_to_tensor(h)
    dtype = h.dtype
    shape = tf.shape(h)
    p2 = 10.0 ** (-snr_db / 10.0)
    if kind == "identical":
        n = shape[0]
        p = tf.fill([n, 1], tf.cast(np.sqrt(p2), dtype))
        mask = tf.ones([n, 1], dtype)
    elif kind == "nonidentical":
        mask = tf.cast(rng.uniform(shape, dtype=dtype) < keep, dtype)
        power = p2 * (0.1 + 0.9 * -tf.math.log(rng.uniform(shape, minval=1e-12, dtype=dtype)))
        noisy = tf.cast(rng.uniform(shape, dtype=dtype) >= exact, dtype)
        p = mask * noisy * tf.sqrt(power)
    else:
        raise ValueError(f"kind must be one of {OBSERVATION_KINDS}, got {kind!r}")
    h_bar = mask * h + p * rng.normal(shape, dtype=dtype)
    h_tilde, a, b = observation_rewrite(h_bar, mask, p, unobserved="noise", rng=rng)
    if kind == "identical":
        a, b = a[:, :1], b[:, :1]
    return h_tilde, a, b


def nmse(estimate, h) -> float:
    """``sum ||estimate - h||^2 / sum ||h||^2`` over everything (a Python float)."""
    e = tf.cast(estimate, tf.float64) - tf.cast(h, tf.float64)
    return float(tf.reduce_sum(e * e) / tf.reduce_sum(tf.cast(h, tf.float64) ** 2))
