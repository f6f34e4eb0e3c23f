"""One pooled diffusion prior (the paper's "standard DM") with the narrowband posterior
samplers."""

from __future__ import annotations

import tensorflow as tf

from ..network_prior import NetworkPrior
from .base import NarrowbandReceiver, observation_seed
from .diffusion_common import GAUSSIAN, DiffusionParams, fit_covariance, make_sampler, run_point
from .zoo_names import check_model, pooled_name, require


class PooledParams(DiffusionParams):
    pass


class PooledDiffusion(NarrowbandReceiver):
    """Posterior sampling with the model trained on the aggregated training set of every
    profile; ``model: auto`` picks the zoo model of the scenario's training sets.
    Data consistency ``gaussian-posterior`` uses the Gaussian fit of that pooled set (the
    model's backbone where it has one); point
    estimate: its conditional-mean chain or the mean of ``samples`` draws. With Card B's
    likelihoods: one deterministic sampler run (it forgets its start, so no samples)."""

    Params = PooledParams

    @classmethod
    def model_name(cls, nb, params) -> str:
        if params.model != "auto":
            return params.model
        return require(pooled_name({p: nb.samples(p) for p in nb.profiles}), "model",
                       "scenarios/train/moe_vb/pooled_*.yaml")

    @classmethod
    def check_scenario(cls, scenario, params) -> list:
        """The pooled model exists and was trained on this link and the scenario's training
        sets; returns the differences allowed by ``allow_mismatch``."""
        nb = scenario.narrowband
        return check_model(cls.model_name(nb, params), "model", nb, {p: nb.samples(p) for p in nb.profiles},
                           params.allow_mismatch)[1]

    def __init__(self, context, params=None):
        super().__init__(context, params)
        name = self.model_name(context.scenario.narrowband, self.params)
        mismatch = self.check_scenario(context.scenario, self.params)
        gaussian = self.params.likelihood == GAUSSIAN
        # Card B's samplers trace the network into their step graphs (eager here); the
        # Gaussian-posterior sampler calls its compiled forward pass
        self.prior = NetworkPrior(name, context.shape, eager=not gaussian)
        self.sampler = make_sampler(self.params, lambda: [fit_covariance(self.prior, context.covariance)],
                                    context.model.num_rx, self.prior.alpha_bar)
        self.build_info = {"model": name, "parameters": self.prior.parameters(), **({"mismatch": mismatch} if mismatch else {})}

    def estimate(self, y, op, no, genie=None):
        out = run_point(self.sampler, self.prior.eps, self.prior.alpha_bar, y, op, no, self.params,
                        seed=observation_seed(y, self.context.scenario.seed))
        return tf.reduce_mean(out, axis=0), None
