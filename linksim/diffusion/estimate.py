"""Channel estimation with a diffusion prior: observation -> normalised (H~, A) -> point
estimate, error variance and, on request, posterior samples. Shared by the receivers,
training evaluation and the paper-style experiments.

Units: complex channels ``h`` with entries of power ``pi``; a first estimate
``h_bar = M*h + P*n`` with ``n ~ CN(0, 1)`` (``p_std = P`` is the complex noise std).
The network works on ``c*h`` as real ``[..., 2]`` tensors with unit variance per real
entry, ``c = sqrt(2/pi)``. ``pi`` is 1 for models trained with ``data_norm: unit``
(linksim's channels have unit average power per entry) or, for Card A's per-sample
normalisation, estimated from the observation (the receiver knows the received power).

Point estimates (``mode``), all started at the observation's own times ``tau0``:

* ``jump``: one denoiser call, ``D(x_init, tau0)``. With an exact denoiser this *is* the
  conditional mean (CME).
* ``ddim``: the deterministic reverse process (eta = 0) in ``steps`` steps.
* ``mean``: the mean of ``samples`` posterior samples (eta = 1 by default); with an exact
  denoiser its error is (1 + 1/K) times the MMSE.

Error variance (``err_var``): ``posterior``, the backbone prior's exact posterior
variance given the pilot observation (models with a backbone; for identical diffusion
plus the squared distance of its estimate from that posterior's mean, since one time per
estimate is not the observation's own noise model), or ``samples``, the mean squared
distance of ``samples`` posterior samples from the point estimate.

Identical diffusion uses one time per estimate, from the pilot observation (``A, B``) by
``tau_rule``: ``snr-mean`` (the scalar SNR that equals the mean per-element SNR
``A^2/B^2``: the same information per element), ``tau-mean`` (the mean of the
element-wise times) or ``alpha-mean`` (``gamma^-1`` of the mean ``A``).
"""

from __future__ import annotations

import tensorflow as tf

from .forward import observation_rewrite
from .gmm import DATA_SCALE
from .samplers import sample

MODES = ("jump", "ddim", "mean")
ERR_VARS = ("posterior", "samples")
TAU_RULES = ("snr-mean", "tau-mean", "alpha-mean")


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


def normalise_observation(h_bar, mask, p_std, rng=None, power=None):
    """``(x_init [B,Na,Nc,2], a [B,Na,Nc,1], b [B,Na,Nc,1], c [B or 1,1,1])`` for the
    sampler (Card A eq. 2-3).

    Input
    -----
    h_bar : [B, Na, Nc], complex — first estimate (zero where unobserved)
    mask : broadcastable, real {0, 1}
    p_std : broadcastable, real — complex noise std per element (0 where unobserved)
    power : float | None — channel power per entry; None estimates it per sample
    """
    rdt = h_bar.dtype.real_dtype
    if power is None:
        c = tf.sqrt(2.0 / estimate_power(h_bar, mask, p_std))
    else:
        c = tf.fill([1, 1, 1], tf.sqrt(tf.constant(2.0 / float(power), rdt)))
    x = to_real(h_bar * tf.cast(c, h_bar.dtype))
    p_real = tf.cast(p_std, rdt) * c / tf.sqrt(tf.constant(2.0, rdt))
    m = tf.broadcast_to(tf.cast(mask, rdt), tf.shape(h_bar))
    p_real = tf.broadcast_to(p_real, tf.shape(h_bar))
    x_init, a, b = observation_rewrite(x, m[..., None], p_real[..., None], unobserved="noise", rng=rng)
    return x_init, a, b, c


def initial_time(schedule, a):
    """Element-wise initial time ``tau0 = gamma^-1(A)``."""
    return schedule.tau_of_alpha(tf.clip_by_value(a, schedule.alpha_min, 1.0))


def scalar_time(schedule, a, b, rule: str = "snr-mean"):
    """One time per sample [B, 1, 1, 1] from element-wise ``A, B`` [B, ...] (identical
    diffusion; see the module docstring for the rules)."""
    axes = list(range(1, a.shape.rank))
    if rule == "tau-mean":
        return tf.reduce_mean(initial_time(schedule, a), axis=axes, keepdims=True)
    if rule == "alpha-mean":
        return initial_time(schedule, tf.reduce_mean(a, axis=axes, keepdims=True))
    if rule != "snr-mean":
        raise ValueError(f'tau_rule must be one of {TAU_RULES}, got "{rule}"')
    snr = tf.reduce_mean(tf.math.divide_no_nan(a * a, b * b), axis=axes, keepdims=True)
    alpha = tf.sqrt(snr / (1.0 + snr))
    exact = tf.reduce_all(tf.logical_and(b <= 0, a > 0), axis=axes, keepdims=True)
    return tf.where(exact, tf.zeros_like(alpha), initial_time(schedule, alpha))


def identical_state(x, tau, schedule):
    """Scale a first estimate ``x`` (real, units of ``c*h``) to the diffusion state of
    time ``tau``: ``alpha(tau) * x`` (``x = h + e`` with ``e`` of the matching power)."""
    alpha, _ = schedule.alpha_beta(tau)
    return alpha * x


def posterior_samples(denoiser, x_init, tau0, num_samples: int, *, steps: int, stepper: str = "waterfill",
                      eta=None, eps=None, rng=None, return_trajectory: bool = False):
    """``num_samples`` reverse-process runs from ``(x_init, tau0)`` [K, B, Na, Nc, 2]
    (with ``eta = 1``: posterior samples; ``eta`` defaults to 1 unless ``eps`` is given).

    ``return_trajectory`` also returns the clean estimates of every step of the first
    chain [steps, B, Na, Nc, 2].
    """
    if eta is None and eps is None:
        eta = 1.0
    k = int(num_samples)
    xs = tf.tile(x_init, [k, 1, 1, 1])
    taus = tf.tile(tau0, [k, 1, 1, 1]) if tau0.shape[0] != 1 else tau0
    out = sample(denoiser, xs, taus, steps, stepper=stepper, eta=eta, eps=eps, rng=rng,
                 return_trajectory=return_trajectory)
    g, traj = out if return_trajectory else (out, None)
    g = tf.reshape(g, tf.concat([[k], tf.shape(x_init)], 0))
    if return_trajectory:
        return g, traj[:, :tf.shape(x_init)[0]]
    return g


def point_estimate(denoiser, x_init, tau0, *, mode: str = "jump", steps: int = 10, stepper: str = "waterfill",
                   eta=None, eps=None, samples: int = 8, rng=None):
    """The point estimate [B, Na, Nc, 2] (``mode``: jump | ddim | mean)."""
    if mode == "jump":
        return denoiser(x_init, tau0)
    if mode == "ddim":
        return sample(denoiser, x_init, tau0, steps, stepper=stepper, eta=0.0)
    if mode == "mean":
        return tf.reduce_mean(posterior_samples(denoiser, x_init, tau0, samples, steps=steps, stepper=stepper,
                                                eta=eta, eps=eps, rng=rng), axis=0)
    raise ValueError(f'mode must be one of {MODES}, got "{mode}"')


def backbone_variance(denoiser, x_init, tau0, with_mean: bool = False):
    """Posterior variance and its noise-induced part [B, Na, Nc] (complex-entry
    variance, units of ``h`` for ``c = sqrt(2)``) from the denoiser's backbone prior;
    ``with_mean`` also returns the posterior mean [B, Na, Nc, 2] (units of ``x``)."""
    if getattr(denoiser, "backbone", None) is None:
        raise ValueError('err_var "posterior" needs a model with a prior backbone; use "samples"')
    shared = tau0.shape[0] == 1
    x = x_init[None] if shared else x_init[:, None]
    post = denoiser.backbone.denoise_groups(x, tau0, variance=True, noise_variance=True)
    shape = tf.shape(x_init)[:3]
    out = (tf.reshape(post["var"], shape), tf.reshape(post["var_noise"], shape))
    if with_mean:
        mean = tf.reshape(post["mean"], shape) * DATA_SCALE
        out += (tf.stack([tf.math.real(mean), tf.math.imag(mean)], -1),)
    return out


def _batch_shared(t) -> bool:
    t = tf.convert_to_tensor(t)
    return t.shape.rank < 3 or t.shape[0] == 1


def prepare(denoiser, h_bar, mask, p_std, *, identical: bool = False, tau_rule: str = "snr-mean",
            h_init=None, power=1.0, rng=None):
    """The sampler's start ``(x_init [B,Na,Nc,2], tau0, c)`` from a first estimate (see
    :func:`estimate_channel` for the inputs). ``tau0`` has batch dim 1 when the
    observation layout is shared by the batch."""
    x_init, a, b, c = normalise_observation(h_bar, mask, p_std, rng=rng, power=power)
    if power is not None and _batch_shared(mask) and _batch_shared(p_std):
        a, b = a[:1], b[:1]  # one pilot layout and noise level for the batch: one time matrix
    schedule = denoiser.schedule
    if not identical:
        return x_init, initial_time(schedule, a), c
    tau0 = scalar_time(schedule, a, b, tau_rule)
    start = h_bar if h_init is None else h_init
    return identical_state(to_real(start * tf.cast(c, start.dtype)), tau0, schedule), tau0, c


def estimate_channel(denoiser, h_bar, mask, p_std, *, mode: str = "jump", err_var: str = "posterior",
                     identical: bool = False, tau_rule: str = "snr-mean", h_init=None, power=1.0,
                     steps: int = 10, stepper: str = "waterfill", eta=None, eps=None, samples: int = 8,
                     rng=None):
    """Point estimate and error variance of a channel from its first estimate.

    Input
    -----
    h_bar, mask, p_std : as :func:`normalise_observation` (the pilot observation); a
        ``mask`` and ``p_std`` with batch dim 1 are shared by the batch (one time
        matrix for all, so a backbone solves once).
    identical : bool — one time per estimate (``tau_rule``), started from ``h_init``
        (e.g. the interpolated LS estimate; default ``h_bar``).
    power : float | None — see :func:`normalise_observation`.
    Other keywords: see the module docstring.

    Output
    ------
    h_hat : [B, Na, Nc], complex
    err_var : [B, Na, Nc], real (complex-entry variance, units of ``h``)
    err_var_noise : [B, Na, Nc], real, or None — the part of ``err_var`` due to the
        observation noise (``err_var="posterior"`` only)
    """
    x_init, tau0, c = prepare(denoiser, h_bar, mask, p_std, identical=identical, tau_rule=tau_rule,
                              h_init=h_init, power=power, rng=rng)
    kw = dict(steps=steps, stepper=stepper, eta=eta, eps=eps, rng=rng)
    mean = point_estimate(denoiser, x_init, tau0, mode=mode, samples=samples, **kw)
    h_hat = to_complex(mean) / tf.cast(c, h_bar.dtype)
    if err_var == "posterior":
        scale = tf.cast(c * c, h_hat.dtype.real_dtype) / 2.0
        if not identical:
            var, var_noise = backbone_variance(denoiser, x_init, tau0)
            return h_hat, var / scale, var_noise / scale
        # One time for all elements is not the pilot observation's own noise model when
        # its error powers differ (a narrowband interferer): the identical estimate's
        # error is then the posterior variance given the element-wise observation plus
        # its squared distance from that posterior's mean (exact for the prior). The
        # distance is counted as noise-driven: independent between pilot symbols.
        x_obs, tau_obs, _ = prepare(denoiser, h_bar, mask, p_std, power=power, rng=rng)
        var, var_noise, cme = backbone_variance(denoiser, x_obs, tau_obs, with_mean=True)
        bias = tf.reduce_sum(tf.square(mean - cme), axis=-1) / 2.0   # complex-entry, units of h at c = sqrt(2)
        return h_hat, (var + bias) / scale, (var_noise + bias) / scale
    if err_var != "samples":
        raise ValueError(f'err_var must be one of {ERR_VARS}, got "{err_var}"')
    draws = posterior_samples(denoiser, x_init, tau0, samples, **kw)
    var = tf.reduce_mean(tf.reduce_sum(tf.square(draws - mean[None]), axis=-1), axis=0) / (c * c)
    return h_hat, var, None


def sample_channel(denoiser, h_bar, mask, p_std, num_samples: int, *, identical: bool = False,
                   tau_rule: str = "snr-mean", h_init=None, power=1.0, steps: int = 10,
                   stepper: str = "waterfill", eta=None, eps=None, rng=None):
    """``num_samples`` posterior samples of the channel [K, B, Na, Nc] complex (inputs as
    :func:`estimate_channel`)."""
    x_init, tau0, c = prepare(denoiser, h_bar, mask, p_std, identical=identical, tau_rule=tau_rule,
                              h_init=h_init, power=power, rng=rng)
    draws = posterior_samples(denoiser, x_init, tau0, num_samples, steps=steps, stepper=stepper,
                              eta=eta, eps=eps, rng=rng)
    return to_complex(draws) / tf.cast(c, h_bar.dtype)[None]
