r"""Noise-perturbed likelihood scores :math:`\nabla_{h_t^*}\log p(Y|h_t)` for the pilot link.

All scores use the Wirtinger convention of the prior score (:math:`-S^{-1}h` for
``CN(0, S)``), so they add to it directly. ``h_t = a h_0 + b xi`` with ``a^2 + b^2 = 1``.

* :func:`uninformative_score` — Card B: ``h_0 | h_t ~ CN(h_t/a, c_t I)``,
  :math:`c_t=b^2/a^2` (a flat prior), closed form through the SVD of ``A``.
* :func:`tweedie_score` — ``h_0 | h_t ~ CN(mu(h_t), r_t^2 I)`` with ``mu`` the prior
  denoiser's Tweedie mean and the gradient taken *through* the denoiser (one backward pass),
  so data consistency acts on the denoised channel and only in directions the prior allows.
  ``r_t^2`` is ``"white"`` (the posterior variance of a unit-power white prior, ``b^2``) or
  ``"trace"`` (the denoiser's own average posterior variance ``(b^2/a) tr(d mu/d h_t)/n``,
  one Hutchinson probe by forward-mode differentiation).

``w_max`` caps the likelihood's per-direction weight ``1/(r_t^2 s^2 + sigma^2)``; the
sampler sets it so that its explicit step on the data term stays stable (see
:func:`~linksim.narrowband.samplers.posterior_sample`).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["uninformative_score", "tweedie_score", "TWEEDIE_VARIANCES"]

TWEEDIE_VARIANCES = ("white", "trace")


def uninformative_score(h_t, y, op, noise_var, a, b):
    r"""Card B's likelihood score.

    .. math:: \frac1a V S^H(\sigma^2 + c_t S^2)^{-1}(U^H y - S V^H h_t/a)

    Input
    -----
    h_t : [..., Nr, Nt], complex
    y : [..., Nr, Np], complex
    op : :class:`~linksim.narrowband.pilots.PilotOperator`
    noise_var, a, b : scalars or broadcastable to ``[..., 1, 1]``, float

    Output
    ------
    score : [..., Nr, Nt], complex
    """
    dt = h_t.dtype
    a = tf.cast(a, dt)
    c = tf.cast(b, dt) ** 2 / a ** 2
    s = tf.cast(op.s, dt)
    gain = s / (tf.cast(noise_var, dt) + c * s * s)
    resid = op.u_h(tf.cast(y, dt)) - s * op.v_h(h_t) / a
    return op.v_(gain * resid) / a


def tweedie_score(h_t, y, op, noise_var, a, b, prior_eps, variance: str = "white", probe=None, w_max=None):
    r"""Likelihood score through the prior's Tweedie mean (see module doc).

    Input
    -----
    h_t, y, op, noise_var, a, b : as :func:`uninformative_score`
    prior_eps : callable ``h_t -> eps_hat`` ([..., Nr, Nt] complex), differentiable
    variance : ``"white"`` | ``"trace"``
    probe : [..., Nr, Nt] complex, the Hutchinson probe for ``"trace"`` (unit power)
    w_max : float scalar or None, the largest weight ``1/(r_t^2 s^2 + sigma^2)``

    Output
    ------
    score : [..., Nr, Nt], complex
    x0 : [..., Nr, Nt], complex — the prior's Tweedie mean ``mu(h_t)``
    """
    if variance not in TWEEDIE_VARIANCES:
        raise ValueError(f"variance must be one of {TWEEDIE_VARIANCES}, not {variance!r}")
    dt = h_t.dtype
    real = dt.real_dtype
    a_c, b_c = tf.cast(a, dt), tf.cast(b, dt)
    b2 = tf.cast(b, real) ** 2
    with tf.GradientTape() as tape:
        tape.watch(h_t)
        if variance == "trace":
            with tf.autodiff.ForwardAccumulator(h_t, probe) as acc:
                mu = (h_t - b_c * prior_eps(h_t)) / a_c
            n = tf.cast(tf.reduce_prod(tf.shape(h_t)[-2:]), real)       # tr(J)/n ~ Re p^H J p / n
            frac = tf.math.real(tf.reduce_sum(tf.math.conj(probe) * acc.jvp(mu), axis=[-2, -1], keepdims=True)) / n
            r2 = tf.stop_gradient(b2 / tf.cast(a, real) * tf.maximum(frac, 0.0))
        else:
            mu = (h_t - b_c * prior_eps(h_t)) / a_c
            r2 = b2
        w = 1.0 / (r2 * op.s * op.s + tf.cast(noise_var, real))       # [..., 1, m] or [m]
        if w_max is not None:
            w = tf.minimum(w, tf.cast(w_max, real))
        resid = op.u_h(tf.cast(y, dt) - op.forward(mu))
        loglik = -tf.reduce_sum(w * tf.math.real(resid * tf.math.conj(resid)))   # |r|^2 without abs: no NaN gradient at 0
    grad = tape.gradient(loglik, h_t)       # TF: dL/dRe + i dL/dIm = 2 dL/dh*
    return grad / 2.0, mu
