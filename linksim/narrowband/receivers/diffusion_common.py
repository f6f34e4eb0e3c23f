"""Parts shared by the narrowband diffusion receivers: their parameters and a batched run
of Card B's sampler from ``CN(0, I)`` starts."""

from __future__ import annotations

import tensorflow as tf
from pydantic import Field
from typing import Literal

from ..pilots import complex_normal
from ..samplers import posterior_sample
from .base import CalibratedParams


class DiffusionParams(CalibratedParams):
    model: str = Field("auto", description="Zoo name or checkpoint folder; auto: the shipped model of the scenario's training sets.")
    likelihood: Literal["uninformative", "tweedie-white", "tweedie-trace"] = Field("tweedie-trace", description="Likelihood score of the sampler: uninformative (Card B), tweedie-white / tweedie-trace (through the prior's denoiser; see docs/methods/moe_vb.md).")
    zeta: float = Field(1.0, gt=0, le=100, description="Likelihood weight (Card B's zeta).")
    tweedie_from: float = Field(0.1, ge=0, le=1, description="Tweedie likelihoods only where alpha_bar_t >= this (the uninformative one at noisier steps, where a learned prior's Tweedie mean is unreliable).")
    step_cap: float | None = Field(4.0, gt=0, le=1e6, description="Bound on the Tweedie likelihood's step x curvature (null: none); keeps single realisations from diverging at high SNR (docs/methods/moe_vb.md).")
    calibration_samples: int = Field(32, ge=1, le=10000, description="Fresh channels on which the reported error variance is measured (once per pilots and noise level).")


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
