"""Card C's three learned estimators on one backbone (:class:`~.backbone.SRSTransformer`):

- ``sl``  — discriminative, trained with MSE: an approximation of the conditional mean.
- ``dm``  — conditional diffusion (DDPM, cosine schedule), trained with the condition
  dropped (null memory) with probability ``p_uncond`` for classifier-free guidance. The
  network predicts eps, v or x0 (:mod:`linksim.diffusion.parameterisation`) and the loss
  weights the error of the clean estimate per step (:data:`WEIGHTINGS`);
  :class:`DiffusionSampler` draws K posterior samples (stochastic or deterministic
  reverse trajectory) with guidance weight w.
- ``e2e`` — a latent channel whose Gramian's dominant eigenvectors are the precoder
  (:func:`linksim.precoding.expected_gramian_precoder`), trained on the received energy ``|H F|_F^2``.

Losses take ``obs`` [B, L, P, Nu, Nb], ``snr_db`` [B], ``h`` [B, F, Nu, Nb] (the target).
A backbone with a skip connection (``SRSTransformer.skip``, e.g. hold-last) makes SL and
E2E predict the correction to it, and the DM diffuse the residual ``h - skip(obs)``
(:func:`dm_loss`; :class:`DiffusionSampler` adds the skip back).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from ..diffusion.parameterisation import KINDS as PARAMETERISATIONS
from ..diffusion.parameterisation import target as param_target
from ..diffusion.parameterisation import to_x0
from ..diffusion.schedules import cosine_schedule
from ..graph import graph_function
from ..precoding import expected_gramian_precoder
from ..sums import gcs_per_matrix

KINDS = ("sl", "dm", "e2e")
DATA_SCALE = math.sqrt(2.0)  # unit-power complex entries -> unit-variance real parts for the DM
#: Clip of the jump-to-clean estimate's real and imaginary parts in the DM's data space
#: (unit variance; |x| > 5 has probability ~1e-6 per Gaussian entry). The cosine schedule
#: ends at beta_T = 0.999, so the first reverse step divides the network's eps error by
#: sqrt(alpha_bar_T) ~ 1e-3: unclipped, an imperfect network's first x0 is off by +39 dB
#: and the trajectory never recovers (standard DDPM practice clips x0 the same way).
X0_CLIP = 5.0
#: Step noise of the DM's ancestral sampler (:class:`DiffusionSampler`).
VARIANCES = ("posterior", "beta")
#: Relative diagonal ramp added to the E2E Gramian (rank Nu < Nb): it separates the zero
#: eigenvalues, whose 1/(lambda_i - lambda_j) terms enter the eigenvector gradient. TF's
#: eigh gradient already zeroes exact ties (the gradient test passes without it); the
#: shipped E2E models were trained and are run with it.
GRAMIAN_JITTER = 1e-4


def _energy(x):
    return tf.reduce_mean(tf.abs(x) ** 2)


def sl_loss(net, obs, snr_db, h, rng=None):
    """Mean squared error of the decoder output (the CME's training loss), normalised by
    the target power."""
    return _energy(net(obs, snr_db) - h) / _energy(h)


def alpha_bar(T: int) -> np.ndarray:
    """Cosine schedule ``alpha_bar`` [T+1] (``alpha_bar[0] = 1``)."""
    return cosine_schedule(T)


def _complex_normal(rng, shape):
    """Real and imaginary parts N(0, 1) (the DM's data space, see :data:`DATA_SCALE`)."""
    return tf.complex(rng.normal(shape), rng.normal(shape))


#: Loss weightings, as the weight of the clean estimate's squared error
#: ``|x0_hat - x0|^2`` at a step of signal-to-noise ratio ``snr = abar / (1 - abar)``:
#: ``eps`` (snr: the eps-MSE), ``v`` (snr + 1: the v-MSE), ``x0`` (1: the x0-MSE),
#: ``min_snr`` (min(snr, gamma), Hang et al.'s min-SNR-gamma) and ``trunc_snr``
#: (max(snr, 1), Salimans & Ho's truncated SNR). With eps-prediction and the ``eps``
#: weighting the steps near t = T, where only the condition informs the estimate, carry
#: almost no weight (snr_T ~ 1e-6).
WEIGHTINGS = ("eps", "v", "x0", "min_snr", "trunc_snr")


def x0_weight(snr, weighting: str, gamma: float = 5.0):
    """Weight of ``|x0_hat - x0|^2`` at ``snr`` (see :data:`WEIGHTINGS`)."""
    if weighting == "eps":
        return snr
    if weighting == "v":
        return snr + 1.0
    if weighting == "x0":
        return tf.ones_like(snr)
    if weighting == "min_snr":
        return tf.minimum(snr, gamma)
    if weighting == "trunc_snr":
        return tf.maximum(snr, 1.0)
    raise ValueError(f'weighting must be one of {WEIGHTINGS}, got "{weighting}"')


#: What the decoder sees of the noisy target: ``none`` — ``x_t`` (unit variance at every
#: step); ``alpha`` — ``alpha_t x_t``, which vanishes as t -> T, so that near t = T the
#: output depends on the condition alone (at t = T, ``x_t`` carries no information on h
#: but, fed at unit scale, perturbs the decoder's queries at random).
INPUT_SCALES = ("none", "alpha")


def decoder_input(x, alpha, input_scale: str = "none"):
    """The noisy target as the decoder sees it (see :data:`INPUT_SCALES`); ``alpha``
    broadcastable to ``x``."""
    if input_scale == "none":
        return x
    if input_scale == "alpha":
        return tf.cast(alpha, x.dtype) * x
    raise ValueError(f'input_scale must be one of {INPUT_SCALES}, got "{input_scale}"')


def dm_loss(net, obs, snr_db, h, rng, p_uncond: float = 0.1, parameterisation: str = "eps",
            weighting: str | None = None, min_snr_gamma: float = 5.0, input_scale: str = "none"):
    """Diffusion loss at a uniform step t in 1..T; the condition is dropped with
    probability ``p_uncond``. The network predicts ``parameterisation``; the squared error
    of its target is weighted so that the clean estimate's error has the weight
    ``x0_weight(snr_t, weighting)`` (``weighting`` None: the parameterisation's own MSE;
    ``eps`` / ``eps`` is the original loss, computed exactly as before)."""
    weighting = weighting or parameterisation
    b = tf.shape(h)[0]
    abar = tf.constant(alpha_bar(net.T), tf.float32)
    t = rng.uniform([b], 1, net.T + 1, tf.int32)
    ab_r = tf.gather(abar, t)
    ab = tf.cast(ab_r, tf.complex64)[:, None, None, None]
    eps = _complex_normal(rng, tf.shape(h))
    x0 = (h - net.skip(obs) if net.has_skip else h) * DATA_SCALE
    xt = tf.sqrt(ab) * x0 + tf.sqrt(1.0 - ab) * eps
    drop = rng.uniform([b]) < p_uncond
    pred = net(obs, snr_db, decoder_input(xt, tf.sqrt(ab), input_scale), tf.cast(t, tf.float32), drop=drop)
    goal = param_target(x0, eps, tf.sqrt(ab), tf.sqrt(1.0 - ab), parameterisation)
    if weighting == parameterisation:
        return _energy(pred - goal) / 2.0
    snr = ab_r / (1.0 - ab_r)
    ratio = x0_weight(snr, weighting, min_snr_gamma) / x0_weight(snr, parameterisation)
    per = tf.reduce_mean(tf.abs(pred - goal) ** 2, axis=[1, 2, 3])
    return tf.reduce_mean(ratio * per) / 2.0


def received_energy(h, f):
    """``|H F|_F^2`` per matrix: h [..., Nu, Nb], f [..., Nb, Ns] -> [...] float."""
    return tf.reduce_sum(tf.abs(tf.matmul(h, f)) ** 2, axis=[-2, -1])


def e2e_loss(net, obs, snr_db, h, rng=None, num_streams: int = 2):
    """Negative received energy with the precoder from the latent channel's Gramian,
    normalised by the channel energy."""
    f = expected_gramian_precoder(net(obs, snr_db)[:, None], num_streams, axis=1, jitter=GRAMIAN_JITTER)
    return -tf.reduce_mean(received_energy(h, f)) / tf.reduce_mean(tf.reduce_sum(tf.abs(h) ** 2, axis=[-2, -1]))


LOSSES = {"sl": sl_loss, "dm": dm_loss, "e2e": e2e_loss}


# --------------------------------------------------------------------------------------
# Diffusion sampling
# --------------------------------------------------------------------------------------
class DiffusionSampler:
    """Reverse DDPM process of a trained ``dm`` backbone.

    ``__call__(obs, snr_db, K, w, stochastic, rng, truth=None)`` -> samples
    [B, K, F, Nu, Nb] complex64 (and, with ``truth`` [B, F, Nu, Nb], a per-step trace:
    dict of arrays [T] — NMSE and GCS of ``x_t`` and of the jump-to-clean ``x0_hat``).

    ``w`` is the classifier-free guidance weight on the network output (eps or v, as the
    model predicts): out = w out(x, c) + (1 - w) out(x, null).
    ``stochastic``: ancestral sampling with the step noise of ``variance`` (``posterior``:
    the variance of q(x_{t-1} | x_t, x_0), beta~_t; ``beta``: beta_t, the larger of DDPM's
    two choices); otherwise only the mean is propagated (deterministic trajectory). The jump-to-clean
    estimate is clipped to ``clip_x0`` per real component (see :data:`X0_CLIP`).
    ``parameterisation``: what the network predicts (the checkpoint's
    ``diffusion.parameterisation``; eps for models trained before the option existed).
    Guidance combines the raw outputs, which equals combining eps for every kind (each
    maps to eps affinely with the same coefficients)."""

    def __init__(self, net, clip_x0: float | None = X0_CLIP, parameterisation: str = "eps", input_scale: str = "none",
                 variance: str = "posterior"):
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f'parameterisation must be one of {PARAMETERISATIONS}, got "{parameterisation}"')
        if variance not in VARIANCES:
            raise ValueError(f'variance must be one of {VARIANCES}, got "{variance}"')
        decoder_input(tf.zeros([1], tf.complex64), 1.0, input_scale)  # checks the kind
        self.input_scale = input_scale
        self.net = net
        self.clip_x0 = clip_x0
        self.parameterisation = parameterisation
        self.variance = variance
        self.T = net.T
        self.abar = alpha_bar(self.T)
        self._encode = graph_function(lambda o, s, d: net.encode(o, s, d), reduce_retracing=True)
        self._out = graph_function(lambda m, x, t: net.decode(m, x, t), reduce_retracing=True)

    def _input(self, x, t: int):
        return decoder_input(x, math.sqrt(self.abar[t]), self.input_scale)

    def to_x0(self, x, out, t: int):
        """Jump-to-clean estimate (unclipped) from the network output at integer step t."""
        ab = self.abar[t]
        if self.parameterisation == "eps":   # the original expression, kept bit-for-bit
            return (x - math.sqrt(1.0 - ab) * out) / math.sqrt(ab)
        return to_x0(x, out, math.sqrt(ab), math.sqrt(1.0 - ab), self.parameterisation)

    def clean_estimate(self, obs, snr_db, rng, drop: bool = False):
        """The jump-to-clean estimate at t = T from a pure-noise ``x_T`` (unclipped),
        [B, F, Nu, Nb] complex64 in the channel's scale: what the condition alone (or the
        null token, ``drop``) tells the network. For a model that uses its condition this
        is close to the conditional mean."""
        b = int(obs.shape[0])
        snr = tf.fill([b], tf.cast(snr_db, tf.float32))
        mem = self._encode(obs, snr, tf.fill([b], bool(drop)))
        _, _, F, nu, nb = self.net.data_shape
        x = _complex_normal(rng, [b, F, nu, nb])
        out = self._out(mem, self._input(x, self.T), tf.fill([b], float(self.T)))
        return self._to_channel(self.to_x0(x, out, self.T), self._skip(obs, 1))

    def _skip(self, obs, K: int):
        """The skip estimate repeated K times [B K, F, Nu, Nb], or None without one."""
        return tf.repeat(self.net.skip(obs), K, axis=0) if self.net.has_skip else None

    @staticmethod
    def _to_channel(x, skip):
        """The channel from the DM's data space (the residual when there is a skip)."""
        return x / DATA_SCALE if skip is None else x / DATA_SCALE + skip

    def __call__(self, obs, snr_db, K: int, w: float, stochastic: bool, rng, truth=None):
        b = int(obs.shape[0])
        snr = tf.fill([b], tf.cast(snr_db, tf.float32))
        mem_c = self._encode(obs, snr, tf.zeros([b], tf.bool))
        mem_c = tf.repeat(mem_c, K, axis=0)
        mem_u = None
        if w < 1.0:
            mem_u = tf.repeat(self._encode(obs, snr, tf.ones([b], tf.bool)), K, axis=0)
        _, _, F, nu, nb = self.net.data_shape
        shape = [b * K, F, nu, nb]
        x = _complex_normal(rng, shape)
        skip = self._skip(obs, K)
        trace = {k: [] for k in ("nmse_xt", "gcs_xt", "nmse_x0", "gcs_x0")} if truth is not None else None
        ref = None if truth is None else tf.repeat(tf.cast(truth, tf.complex64), K, axis=0)
        for t in range(self.T, 0, -1):
            tt = tf.fill([b * K], float(t))
            x_in = self._input(x, t)
            out = self._out(mem_c, x_in, tt)
            if mem_u is not None:
                out = w * out + (1.0 - w) * self._out(mem_u, x_in, tt)
            ab, ab_prev = self.abar[t], self.abar[t - 1]
            x0 = self.to_x0(x, out, t)
            if self.clip_x0 is not None:
                x0 = tf.complex(tf.clip_by_value(tf.math.real(x0), -self.clip_x0, self.clip_x0),
                                tf.clip_by_value(tf.math.imag(x0), -self.clip_x0, self.clip_x0))
            beta = 1.0 - ab / ab_prev
            c0 = math.sqrt(ab_prev) * beta / (1.0 - ab)
            ct = math.sqrt(1.0 - beta) * (1.0 - ab_prev) / (1.0 - ab)
            mean = tf.cast(c0, x.dtype) * x0 + tf.cast(ct, x.dtype) * x
            if trace is not None:
                for name, v in (("xt", x), ("x0", x0)):
                    v = self._to_channel(v, skip)
                    trace[f"nmse_{name}"].append(float(_energy(v - ref) / _energy(ref)))
                    trace[f"gcs_{name}"].append(float(tf.reduce_mean(gcs_per_matrix(v, ref))))
            if stochastic and t > 1:
                sd = math.sqrt(beta * (1.0 - ab_prev) / (1.0 - ab)) if self.variance == "posterior" else math.sqrt(beta)
                mean = mean + tf.cast(sd, x.dtype) * _complex_normal(rng, shape)
            x = mean
        samples = tf.reshape(self._to_channel(x, skip), [b, K, F, nu, nb])
        if trace is None:
            return samples
        return samples, {k: np.asarray(v) for k, v in trace.items()}
