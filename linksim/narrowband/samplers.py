r"""Card B's deterministic posterior sampler for the pilot link, as a plain function.

From ``t = T`` down to 1 (DDPM indices, ``alpha_t = abar_t / abar_{t-1}``), no noise:

.. math::
    h_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big[h_t + (1-\alpha_t)\big(s_{prior}(h_t, t)
              + \zeta\, s_{lik}(h_t, t)\big)\Big],\qquad s_{prior} = -\hat\epsilon/\sqrt{1-\bar\alpha_t}.

With the exact posterior score this step is exactly :math:`E[h_{t-1}|h_t, Y]` (one-step
Tweedie), so for a Gaussian prior the chain ends at the LMMSE estimate; any gap to LMMSE
measures the likelihood approximation (``benchmarks/card_b_sampler_gaussian.py``).

The Tweedie likelihoods' data term is stiff: its curvature in ``h_t`` is at most
``s_max^2 w / a^2`` (the denoiser's Jacobian is at most ``1/a`` where the prior variance
dominates; ``s_max`` the pilots' largest singular value, ``w = 1/(r_t^2 s^2 + sigma^2)``).
At high SNR and a small ``r_t^2`` the explicit step ``(1 - alpha_t) zeta`` times that
curvature exceeds 2 and single realisations diverge (seen on CDL-D at 10-30 dB).
``step_cap`` bounds the product: ``w <= step_cap a^2 / ((1 - alpha_t) zeta s_max^2)``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..graph import graph_function
from .likelihoods import tweedie_score, uninformative_score
from .pilots import complex_normal

__all__ = ["LIKELIHOODS", "posterior_sample", "sampling_steps", "consistent_sample"]

LIKELIHOODS = ("uninformative", "tweedie-white", "tweedie-trace")


def posterior_sample(prior_eps, y, op, noise_var, alpha_bar, h_init, *, zeta: float = 1.0,
                     likelihood: str = "uninformative", rng: tf.random.Generator | None = None,
                     tweedie_from: float = 0.0, step_cap: float | None = None, compiled: bool = False):
    r"""Run the sampler from ``h_init`` (``= h_T``) to ``h_0``.

    Input
    -----
    prior_eps : callable ``(h_t, t) -> eps_hat``; ``t`` in ``1..T``, a python int (a float32
        scalar tensor where ``compiled``)
    y : [..., Nr, Np], complex
    op : :class:`~linksim.narrowband.pilots.PilotOperator`
    noise_var : float or [..., 1, 1]
    alpha_bar : [T+1] array, ``alpha_bar[0] = 1``
    h_init : [..., Nr, Nt], complex
    zeta : likelihood weight (Card B's ζ)
    likelihood : one of :data:`LIKELIHOODS`
    rng : generator for the Hutchinson probes of ``"tweedie-trace"``
    tweedie_from : the Tweedie likelihoods are used where ``alpha_bar_t >= tweedie_from``
        only, the uninformative one at noisier steps (a learned prior's Tweedie mean
        ``(h_t - b eps_hat)/a`` amplifies the network's error by ``1/a``)
    step_cap : bound on the Tweedie data term's step x curvature (module doc); None: no bound
    compiled : run each step in a graph (traced once per step kind and call). ``prior_eps``
        must then be traceable and call no ``tf.function`` of its own where the likelihood
        is ``"tweedie-trace"`` (forward-mode differentiation does not pass into one).

    Output
    ------
    h0 : [..., Nr, Nt], complex
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, not {likelihood!r}")
    abar = np.asarray(alpha_bar, dtype=np.float64)
    h = tf.convert_to_tensor(h_init)
    dt = h.dtype
    variance = likelihood.split("-", 1)[-1]

    def update(h, eps, lik, b, step):
        score = -eps / tf.cast(b, dt) + tf.cast(zeta, dt) * lik
        return (h + tf.cast(step, dt) * score) / tf.cast(tf.sqrt(1.0 - tf.cast(step, dt.real_dtype)), dt)

    def plain_step(h, t, a, b, step):
        return update(h, prior_eps(h, t), uninformative_score(h, y, op, noise_var, a, b), b, step)

    s_max2 = float(np.max(np.asarray(op.s, dtype=np.float64))) ** 2

    def tweedie_step(h, t, a, b, step, probe):
        w_max = None if step_cap is None else step_cap * a ** 2 / (step * zeta * s_max2)
        lik, mu = tweedie_score(h, y, op, noise_var, a, b, lambda x: prior_eps(x, t), variance, probe, w_max)
        return update(h, (h - tf.cast(a, dt) * mu) / tf.cast(b, dt), lik, b, step)

    if compiled:
        plain_step, tweedie_step = graph_function(plain_step), graph_function(tweedie_step)
    for t in range(len(abar) - 1, 0, -1):
        a, b = float(np.sqrt(abar[t])), float(np.sqrt(1.0 - abar[t]))
        step = 1.0 - abar[t] / abar[t - 1]
        args = (h, t, a, b, step)
        if compiled:  # tensors: one trace serves every step
            args = (h, tf.constant(t, tf.float32), *(tf.constant(v, dt.real_dtype) for v in (a, b, step)))
        if likelihood == "uninformative" or abar[t] < tweedie_from:
            h = plain_step(*args)
        else:
            h = tweedie_step(*args, _probe(h, rng) if variance == "trace" else None)
    return h


def _probe(h, rng):
    """Unit-power Hutchinson probe, independent per sample: random QPSK entries (``E[p p^H] = I``)."""
    real = h.dtype.real_dtype
    signs = tf.cast(rng.uniform([2] + h.shape.as_list(), 0, 2, dtype=tf.int32) * 2 - 1, real)
    return tf.complex(signs[0], signs[1]) / np.sqrt(2.0)


def sampling_steps(T: int, num_steps: int) -> list[int]:
    """``num_steps`` diffusion steps from ``T`` down to 1, evenly spaced (``T`` first, 1
    last; all ``T`` steps when ``num_steps >= T``)."""
    n = max(2, min(int(num_steps), int(T)))
    return sorted({int(round(v)) for v in np.linspace(T, 1, n)}, reverse=True)


def consistent_sample(prior_eps, consistency, y, alpha_bar, steps, h_init, *, stochastic: bool = False,
                      rng: tf.random.Generator | None = None, weights=None):
    r"""Posterior sampling with Gaussian-covariance data consistency (the default sampler of
    the narrowband diffusion receivers; :mod:`~linksim.narrowband.gaussian_dc`).

    Per step ``t -> s`` of ``steps`` (then ``s = 0``): the prior's Tweedie mean
    ``mu = (h_t - b eps_hat)/a``; the clean channel given ``h_t`` and ``y``,
    ``x0 = E[h_0 | h_t, y]`` (``stochastic=False``) or a draw from ``p(h_0 | h_t, y)``
    (``stochastic=True``); then the DDPM step from ``q(h_s | h_t, h_0 = x0)``: its mean
    (deterministic chain) or a draw.

    With the exact posterior of ``h_0`` the deterministic chain is ``E[h_s | h_t, y]`` at
    every step, so for a Gaussian prior it ends at the LMMSE estimate (given ``h_T``, which
    carries no information for ``alpha_bar_T -> 0``), and the stochastic chain draws exact
    posterior samples — for any step list. For a learned prior both are approximations.

    Input
    -----
    prior_eps : callable ``(h_t, t) -> eps_hat``, ``t`` a python int in ``1..T``
    consistency : :class:`~linksim.narrowband.gaussian_dc.GaussianConsistency` built for
        ``steps``, the pilots of ``y`` and its noise level
    y : [B, Nr, Np], complex
    alpha_bar : [T+1] array, ``alpha_bar[0] = 1``
    steps : decreasing list of steps in ``1..T`` (:func:`sampling_steps`)
    h_init : [B, Nr, Nt], complex — ``h_T``
    stochastic : draw a posterior sample (True) or run the conditional-mean chain
    rng : tf.random.Generator (``stochastic``)
    weights : [B, K] float or None — expert weights (a mixture of surrogates)

    Output
    ------
    h0 : [B, Nr, Nt], complex
    """
    abar = np.asarray(alpha_bar, dtype=np.float64)
    h = tf.convert_to_tensor(h_init)
    dt = h.dtype
    seq = [int(t) for t in steps] + [0]
    for t, s in zip(seq[:-1], seq[1:]):
        a, b = float(np.sqrt(abar[t])), float(np.sqrt(1.0 - abar[t]))
        mu = (h - tf.cast(b, dt) * tf.cast(prior_eps(h, t), dt)) / tf.cast(a, dt)
        x0 = consistency.sample(mu, y, t, rng, weights) if stochastic else consistency.mean(mu, y, t, weights)
        if s == 0:
            return x0
        ats = abar[t] / abar[s]                                    # alpha_{t|s}
        c0 = np.sqrt(abar[s]) * (1.0 - ats) / (1.0 - abar[t])
        ch = np.sqrt(ats) * (1.0 - abar[s]) / (1.0 - abar[t])
        h = tf.cast(c0, dt) * x0 + tf.cast(ch, dt) * h
        if stochastic:
            h += complex_normal(tf.shape(h), rng, dt, (1.0 - abar[s]) * (1.0 - ats) / (1.0 - abar[t]))
    return h
