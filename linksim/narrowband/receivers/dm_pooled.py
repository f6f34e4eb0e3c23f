"""Card B's sampler with one pooled diffusion prior (the paper's "standard DM")."""

from __future__ import annotations

from ..network_prior import NetworkPrior
from .base import NarrowbandReceiver
from .diffusion_common import DiffusionParams, run_sampler
from .zoo_names import pooled_name, require


class PooledParams(DiffusionParams):
    pass


class PooledDiffusion(NarrowbandReceiver):
    """Deterministic posterior sampling (Card B) with the model trained on the aggregated
    training set of every profile; ``model: auto`` picks the zoo model of the scenario's
    training sets. Point estimate: one sampler run (the sampler is deterministic and
    forgets its start, so it offers no posterior samples)."""

    Params = PooledParams

    def __init__(self, context, params=None):
        super().__init__(context, params)
        name = self.params.model
        if name == "auto":
            name = require(pooled_name({p: context.samples[p] for p in context.profiles}), "model",
                           "scenarios/train/moe_vb/pooled_*.yaml")
        self.prior = NetworkPrior(name, context.shape, eager=True)  # traced in the sampler's step graphs
        self.build_info = {"model": name, "parameters": self.prior.parameters()}
        self._calls = 0

    def estimate(self, y, op, no, genie=None):
        self._calls += 1
        out = run_sampler(self.prior.eps, self.prior.alpha_bar, y, op, no, self.params, 1,
                          seed=self.context.scenario.seed * 7919 + self._calls)
        return out[0], None
