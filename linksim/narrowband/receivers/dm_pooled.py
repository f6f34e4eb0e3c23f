"""Card B's sampler with one pooled diffusion prior (the paper's "standard DM")."""

from __future__ import annotations

import tensorflow as tf

from ..network_prior import NetworkPrior
from .base import NarrowbandReceiver
from .diffusion_common import DiffusionParams, run_sampler
from .zoo_names import pooled_name, require


class PooledParams(DiffusionParams):
    pass


class PooledDiffusion(NarrowbandReceiver):
    """Deterministic posterior sampling (Card B) with the model trained on the aggregated
    training set of every profile; ``model: auto`` picks the zoo model of the scenario's
    training sets. Point estimate: the mean of ``samples`` sampler runs."""

    Params = PooledParams
    offers_samples = True

    def __init__(self, context, params=None):
        super().__init__(context, params)
        name = self.params.model
        if name == "auto":
            name = require(pooled_name({p: context.samples[p] for p in context.profiles}), "model",
                           "scenarios/train/moe_vb/pooled_*.yaml")
        self.prior = NetworkPrior(name, context.shape, eager=self.params.likelihood == "tweedie-trace")
        self.build_info = {"model": name, "parameters": self.prior.parameters()}
        self._calls = 0

    def posterior_samples(self, y, op, no, num_samples: int):
        self._calls += 1
        return run_sampler(self.prior.eps, self.prior.alpha_bar, y, op, no, self.params, num_samples,
                           seed=self.context.scenario.seed * 7919 + self._calls)

    def estimate(self, y, op, no, genie=None):
        return tf.reduce_mean(self.posterior_samples(y, op, no, self.params.samples), axis=0), None
