"""Gaussian-mixture conditional-mean channel estimation (a mixture of LMMSE filters)."""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf
from pydantic import Field

from ..config import Strict
from ..diffusion.gmm import fit_gmm
from .per_symbol import PerSymbolEstimator


class GMMParams(Strict):
    components: int = Field(16, ge=1, le=64, description="Mixture components fitted by EM (1: LMMSE with the sample covariance on its dominant subspace).")
    fit_samples: int = Field(4000, ge=16, le=100000, description="Channel draws for the fit, each from its own slot (not those under test).")
    max_rank: int = Field(128, ge=1, le=4096, description="Largest dimension of the subspace the components live on (receive antennas x subcarriers).")
    energy_tol: float = Field(1e-7, gt=0, lt=1, description="Channel energy share allowed outside that subspace.")
    iterations: int = Field(30, ge=1, le=500, description="Most EM iterations.")


class GMMEstimator(PerSymbolEstimator):
    """Gaussian-mixture conditional-mean estimator: a mixture of LMMSE filters weighted by
    the posterior probabilities of the components, fitted by EM on channel samples of the
    scenario (not the realisations under test)."""

    Params = GMMParams

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        p = self.params
        t0 = time.time()
        draws = context.sample_channels(p.fit_samples)                 # [n, Nr, Ns, S', F]
        self.priors = []
        for l in range(len(self._layout)):
            h = np.transpose(draws[:, :, l], [0, 2, 1, 3]).reshape(-1, *self.data_shape)  # [n S', Nr, F]
            self.priors.append(fit_gmm(h, p.components, max_rank=p.max_rank, energy_tol=p.energy_tol,
                                       iterations=p.iterations, data_shape=self.data_shape))
        fits = [pr.info for pr in self.priors]
        self.build_info = {"fit_s": round(time.time() - t0, 2), "components": p.components,
                           "rank": [f["rank"] for f in fits], "iterations": [f["iterations"] for f in fits],
                           "samples": [f["samples"] for f in fits]}

    def estimate_symbol(self, obs, stream):
        prior = self.priors[stream]
        shape = tf.shape(obs.h_bar)                                    # [B, Nr, F]
        mask = tf.broadcast_to(obs.mask, tf.concat([[1], shape[1:]], 0))
        b2 = tf.where(mask > 0, obs.noise_var, tf.ones_like(obs.noise_var))  # no observation: pure noise
        grouped = obs.noise_var.shape[0] != 1                          # a noise level per realisation
        x = tf.reshape(obs.h_bar, [-1, 1, prior.dim] if grouped else [1, -1, prior.dim])
        a = tf.reshape(mask, [1, 1, prior.dim])
        b2 = tf.reshape(tf.broadcast_to(b2, tf.concat([tf.shape(b2)[:1], shape[1:]], 0)), [-1, 1, prior.dim])
        post = prior.posterior(x, a, b2, variance=True, noise_variance=True)
        back = lambda t: tf.reshape(t, shape)  # noqa: E731
        return back(post["mean"]), back(post["var"]), back(post["var_noise"])
