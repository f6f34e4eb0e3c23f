"""Channel estimation with a diffusion prior: observation -> normalised (H~, A) ->
posterior samples -> mean and spread. Shared by the receivers, training evaluation and
the paper-style experiments.

Units: complex channels ``h`` with entries of power ``pi``; a first estimate
``h_bar = M*h + P*n`` with ``n ~ CN(0, 1)`` (``p_std = P`` is the complex noise std).
The network works on ``c*h`` as real ``[..., 2]`` tensors with unit variance per real
entry (``c = sqrt(2/pi)``, Card A's data normalisation); ``pi`` is estimated from the
observation (the receiver knows the received power), so ``p_real = c*P/sqrt(2)``.
"""

from __future__ import annotations

import tensorflow as tf

from .forward import observation_rewrite
from .samplers import sample


def to_real(h):
    """complex [...] -> real [..., 2]"""
    return tf.stack([tf.math.real(h), tf.math.imag(h)], axis=-1)


def to_complex(x):
    """real [..., 2] -> complex [...]"""
    return tf.complex(x[..., 0], x[..., 1])


def estimate_power(h_bar, mask, p_std):
    """Per-sample power of a channel entry from its noisy observed entries [B, 1, 1]."""
    rdt = h_bar.dtype.real_dtype
    mask = tf.broadcast_to(tf.cast(mask, rdt), tf.shape(h_bar))
    p2 = tf.broadcast_to(tf.cast(p_std, rdt) ** 2, tf.shape(h_bar))
    obs = tf.reduce_sum(mask * tf.abs(h_bar) ** 2, axis=[1, 2], keepdims=True)
    noise = tf.reduce_sum(mask * p2, axis=[1, 2], keepdims=True)
    kept = tf.maximum(tf.reduce_sum(mask * mask, axis=[1, 2], keepdims=True), 1.0)
    # subtract the noise, but never trust less than 5 % of the observed power
    return tf.maximum(obs - noise, 0.05 * obs) / kept + 1e-12


def normalise_observation(h_bar, mask, p_std, rng=None):
    """``(x_init [B,Na,Nc,2], a [B,Na,Nc,1], c [B,1,1])`` for the sampler (Card A eq. 2-3).

    Input
    -----
    h_bar : [B, Na, Nc], complex — first estimate (zero where unobserved)
    mask : broadcastable, real {0, 1}
    p_std : broadcastable, real — complex noise std per element (0 where unobserved)
    """
    rdt = h_bar.dtype.real_dtype
    c = tf.sqrt(2.0 / estimate_power(h_bar, mask, p_std))
    x = to_real(h_bar * tf.cast(c, h_bar.dtype))
    p_real = tf.cast(p_std, rdt) * c / tf.sqrt(tf.constant(2.0, rdt))
    m = tf.broadcast_to(tf.cast(mask, rdt), tf.shape(h_bar))
    p_real = tf.broadcast_to(p_real, tf.shape(h_bar))
    x_init, a, _ = observation_rewrite(x, m[..., None], p_real[..., None], unobserved="noise", rng=rng)
    return x_init, a, c


def posterior(denoiser, x_init, a, *, steps: int, stepper: str = "waterfill", eta=None, eps=None,
              num_samples: int = 1, identical: bool = False, rng=None, return_trajectory: bool = False):
    """Posterior samples from ``(x_init, A)``; returns their mean and variance (real units).

    ``identical`` uses one time per sample (the mean of the element-wise initial times):
    identical diffusion as the scalar-time case of the same sampler.

    Output
    ------
    mean, var : [B, Na, Nc, 2]
    trajectory : [steps, B, Na, Nc, 2] clean estimates of the first sample chain (only with
        ``return_trajectory``)
    """
    schedule = denoiser.schedule
    tau0 = schedule.tau_of_alpha(tf.clip_by_value(a, schedule.alpha_min, 1.0))
    if identical:
        tau0 = tf.reduce_mean(tau0, axis=[1, 2, 3], keepdims=True)
    k = int(num_samples)
    xs = tf.tile(x_init, [k, 1, 1, 1])
    taus = tf.tile(tau0, [k, 1, 1, 1])
    out = sample(denoiser, xs, taus, steps, stepper=stepper, eta=eta, eps=eps, rng=rng,
                 return_trajectory=return_trajectory)
    g, traj = out if return_trajectory else (out, None)
    g = tf.reshape(g, tf.concat([[k], tf.shape(x_init)], 0))
    mean = tf.reduce_mean(g, axis=0)
    var = tf.reduce_mean(tf.square(g - mean), axis=0)
    if return_trajectory:
        b = tf.shape(x_init)[0]
        return mean, var, traj[:, :b]
    return mean, var


def estimate_channel(denoiser, h_bar, mask, p_std, **kwargs):
    """Complex posterior-mean estimate and its per-element error variance.

    Input: as :func:`normalise_observation`; kwargs as :func:`posterior`.
    Output: h_hat [B, Na, Nc] complex, err_var [B, Na, Nc] real (complex-entry variance).
    """
    x_init, a, c = normalise_observation(h_bar, mask, p_std, rng=kwargs.get("rng"))
    mean, var = posterior(denoiser, x_init, a, **kwargs)
    h_hat = to_complex(mean) / tf.cast(c, h_bar.dtype)
    err_var = tf.reduce_sum(var, axis=-1) / (c * c)
    return h_hat, err_var
