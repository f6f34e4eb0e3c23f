"""Gaussian-mixture conditional mean (the GMM estimator of the issue "Diffusion receivers
that earn their place"), fitted by EM on this link's pooled training channels."""

from __future__ import annotations

import time

import numpy as np
from pydantic import Field

from ...config import Strict
from ...data.cache import keyed_path, load_or_make
from ...diffusion.gmm import GaussianMixturePrior, fit_gmm
from .linear import LinearGaussianReceiver


class GMMParams(Strict):
    components: int = Field(16, ge=1, le=64, description="Mixture components fitted by EM.")
    max_rank: int = Field(256, ge=1, le=4096, description="Largest dimension of the subspace of vec(H) the components live on (the rest is a white floor).")
    energy_tol: float = Field(1e-4, gt=0, lt=1, description="Channel energy share allowed outside that subspace.")
    iterations: int = Field(30, ge=1, le=500, description="Most EM iterations.")
    restarts: int = Field(8, ge=1, le=64, description="k-means++ initialisations of EM; the one with the smallest within-cluster spread is kept (1 draw merged CDL-B with CDL-D and split CDL-A in the balanced training set).")


class GMMEstimator(LinearGaussianReceiver):
    """Mixture of LMMSE filters weighted by the posterior component probabilities (exact
    CME under the fitted mixture); the fit is cached on disk per training sets and
    parameters."""

    Params = GMMParams

    def prior(self):
        p, ctx = self.params, self.context
        key = {"samples": {q: ctx.samples[q] for q in ctx.profiles}, "seed": ctx.training_seed,
               "channel": ctx.model.key(), "params": p.model_dump(), "recipe": 1}
        t0 = time.time()
        fitted = []

        def fit():
            fitted.append(True)
            return fit_gmm(ctx.pooled(), p.components, max_rank=p.max_rank, energy_tol=p.energy_tol,
                           iterations=p.iterations, restarts=p.restarts)

        def read(path):
            with np.load(path, allow_pickle=False) as f:
                return GaussianMixturePrior.from_arrays(dict(f))

        prior = load_or_make(keyed_path("narrowband-gmm", key, ".npz"), fit, read,
                             lambda f, prior: np.savez(f, **prior.to_arrays()))
        self.build_info = {"fit_s": round(time.time() - t0, 2), "cached": not fitted, "rank": prior.rank,
                           "components": prior.num_components}
        covs = np.stack([prior.covariance(k) for k in range(prior.num_components)])
        return covs, prior.weights.astype(np.float64) / prior.weights.sum()
