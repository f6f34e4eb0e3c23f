"""Parts shared by the narrowband diffusion receivers: their parameters, a batched run of
Card B's sampler from ``CN(0, I)`` starts, and the Gaussian-posterior sampler with its
gains kept per pilot matrix and noise level."""

from __future__ import annotations

import tensorflow as tf
from pydantic import Field
from typing import Literal

from ..gaussian_dc import GaussianConsistency, GaussianSurrogate
from ..pilots import complex_normal
from ..samplers import consistent_sample, posterior_sample, sampling_steps
from .base import CalibratedParams

#: The data-consistency scheme of :func:`~linksim.narrowband.samplers.consistent_sample`.
GAUSSIAN = "gaussian-posterior"


class DiffusionParams(CalibratedParams):
    model: str = Field("auto", description="Zoo name or checkpoint folder; auto: the shipped model of the scenario's training sets.")
    likelihood: Literal["gaussian-posterior", "uninformative", "tweedie-white", "tweedie-trace"] = Field("gaussian-posterior", description="Data consistency of the sampler: gaussian-posterior (the clean channel given the diffusion state and the pilots with the posterior covariance of the Gaussian fit of the training set; exact for a Gaussian prior), uninformative (Card B as published), tweedie-white / tweedie-trace (through the prior's denoiser with an isotropic covariance); see docs/methods/moe_vb.md.")
    steps: int = Field(20, ge=2, le=1000, description="gaussian-posterior: sampler steps, evenly spaced in 1..T (T: all of them).")
    samples: int = Field(0, ge=0, le=256, description="gaussian-posterior: the point estimate is the conditional-mean chain (0) or the mean of this many posterior draws.")
    zeta: float = Field(1.0, gt=0, le=100, description="Likelihood weight (Card B's zeta).")
    tweedie_from: float = Field(0.1, ge=0, le=1, description="Tweedie likelihoods only where alpha_bar_t >= this (the uninformative one at noisier steps, where a learned prior's Tweedie mean is unreliable).")
    step_cap: float | None = Field(4.0, gt=0, le=1e6, description="Bound on the Tweedie likelihood's step x curvature (null: none); keeps single realisations from diverging at high SNR (docs/methods/moe_vb.md).")
    calibration_samples: int = Field(32, ge=1, le=10000, description="Fresh channels on which the reported error variance is measured (once per pilots and noise level).")
    allow_mismatch: bool = Field(False, description="Use a model trained for other channel settings or training sets than the scenario's (refused otherwise); the differences are recorded in meta.json.")


def run_sampler(prior_eps, alpha_bar, y, op, no, params, num_samples: int, seed: int, compiled: bool = True):
    """``[num_samples, B, Nr, Nt]`` sampler outputs from independent ``CN(0, I)`` starts
    (all in one batch). Card B's sampler is deterministic and forgets its start: the
    outputs of one ``y`` agree to within -40 dB of the channel power (a test checks it), so they are not posterior samples.
    ``compiled``: each sampler step in a graph (``prior_eps`` traceable, e.g. the
    :meth:`~linksim.narrowband.network_prior.NetworkPrior.eps` of a prior made with
    ``eager=True``)."""
    y = tf.cast(y, tf.complex64)
    b = tf.shape(y)[0]
    rng = tf.random.Generator.from_seed(int(seed))
    nt = op.x.shape[0]
    ys = tf.tile(y, [num_samples, 1, 1])
    h0 = complex_normal([num_samples * int(b), int(y.shape[1]), nt], rng, tf.complex64)
    out = posterior_sample(prior_eps, ys, op, no, alpha_bar, h0, zeta=params.zeta, likelihood=params.likelihood, rng=rng,
                            tweedie_from=params.tweedie_from, step_cap=params.step_cap, compiled=compiled)
    return tf.reshape(out, [num_samples, b, int(y.shape[1]), nt])


class ConsistentSampler:
    """The Gaussian-posterior sampler of one receiver: its surrogates (one per expert),
    the gains of the latest pilot matrix and noise level, and its step list."""

    def __init__(self, surrogates, num_rx: int, alpha_bar, num_steps: int):
        self.surrogates, self.num_rx, self.alpha_bar = list(surrogates), int(num_rx), alpha_bar
        self.steps = sampling_steps(len(alpha_bar) - 1, num_steps)
        self._gains = {}

    def consistency(self, op, no: float) -> GaussianConsistency:
        key = (id(op), float(no))
        if key not in self._gains:  # one pilot matrix and noise level at a time
            self._gains = {key: GaussianConsistency(self.surrogates, op.x.numpy(), no, self.num_rx,
                                                    self.alpha_bar, self.steps)}
        return self._gains[key]

    def __call__(self, prior_eps, y, op, no, seed: int, draws: int = 0, weights=None):
        """``draws = 0``: the conditional-mean chain [1, B, Nr, Nt]; else ``draws``
        posterior samples [draws, B, Nr, Nt] (all in one batch)."""
        y = tf.cast(y, tf.complex64)
        b, nr = int(y.shape[0]), int(y.shape[1])
        reps = max(int(draws), 1)
        rng = tf.random.Generator.from_seed(int(seed))
        h_init = complex_normal([reps * b, nr, op.num_tx], rng, tf.complex64)
        w = None if weights is None else tf.tile(weights, [reps, 1])
        out = consistent_sample(prior_eps, self.consistency(op, no), tf.tile(y, [reps, 1, 1]), self.alpha_bar,
                                self.steps, h_init, stochastic=draws > 0, rng=rng, weights=w)
        return tf.reshape(out, [reps, b, nr, op.num_tx])


def fit_covariance(prior, fallback):
    """The Gaussian fit a sampler's surrogate uses: the model's own backbone (its fitting
    channels, shrinkage and truncation as trained), else ``fallback()`` (the sample
    covariance of the scenario's training set)."""
    return prior.backbone.covariance() if prior.backbone is not None else fallback()


def make_sampler(params, covs, num_rx: int, alpha_bar):
    """The :class:`ConsistentSampler` of a receiver whose ``likelihood`` is
    ``gaussian-posterior`` (``covs``: callable -> the surrogate covariances, one per expert),
    else None (Card B's sampler)."""
    if params.likelihood != GAUSSIAN:
        return None
    return ConsistentSampler([GaussianSurrogate.cached(c) for c in covs()], num_rx, alpha_bar, params.steps)


def run_point(sampler, prior_eps, alpha_bar, y, op, no, params, seed: int, weights=None):
    """The sampler outputs whose mean is the receiver's point estimate [S, B, Nr, Nt]: the
    Gaussian-posterior chain or ``params.samples`` draws, or one run of Card B's sampler."""
    if sampler is not None:
        return sampler(prior_eps, y, op, no, seed, params.samples, weights)
    return run_sampler(prior_eps, alpha_bar, y, op, no, params, 1, seed)
