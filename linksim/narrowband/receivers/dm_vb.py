r"""Card B's DM-VB: a mixture of expert diffusion priors (one per profile) with variational
Bayes over the expert weights.

Start (``init``): the responsibilities from the experts' Gaussian fits' evidence of the
pilots (default), uniform (Card B as published), or each expert's own estimate scored.
Per realisation, alternate until the responsibilities ``r`` settle:

* ``q(h)``: Card B's sampler with the prior noise prediction ``sum_k r_k eps_k`` -> ``h_hat``;
* ``q(z)``: ``ln r_k = E[ln pi_k] + ELBO_k(h_hat) + DC_k(h_hat)``, ``r = softmax``, with
  ``ELBO_k = -sum_{t in S} w_t |eps - eps_k(a_t h_hat + b_t eps, t)|^2`` (one draw ``eps``,
  ``w_t = (T/|S|) (SNR_{t-1} - SNR_t) / (2 SNR_t)``, ``SNR_t = abar_t / (1 - abar_t)``: the
  diffusion ELBO's weights in noise units, squared norm over real entries) and
  ``DC_k = -|Y - h_k X|^2 / s2`` where ``h_k`` is expert ``k``'s one-step denoising of
  ``h_hat`` re-noised to step ``t'``;
* ``q(pi) = Dir(alpha0 + r)``, ``E[ln pi_k] = psi(alpha_k) - psi(sum_j alpha_j)``.

Error variance: per expert ``k``, the mean squared error of the sampler with expert ``k``
alone on ``calibration_samples`` fresh channels of profile ``k`` (once per pilot matrix and
noise level); a realisation reports ``sum_k r_k ev_k`` with its final responsibilities.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from pydantic import Field
from typing import Literal

from ...errors import UserError
from ..gaussian_dc import GaussianEvidence, GaussianSurrogate
from ..network_prior import NetworkPrior, to_real
from ..pilots import complex_normal
from .base import NarrowbandReceiver, observation_seed
from .diffusion_common import GAUSSIAN, DiffusionParams, fit_covariance, make_sampler, run_point, run_sampler
from .zoo_names import check_model, expert_name, require


class VBParams(DiffusionParams):
    models: dict[str, str] = Field(default_factory=dict, description="Expert per profile ({A: zoo name or folder}); missing profiles: the shipped expert of the scenario's training-set size.")
    max_iterations: int = Field(5, ge=1, le=50, description="Most VB iterations (each runs the sampler once).")
    tol: float = Field(0.01, gt=0, lt=1, description="Stop once no responsibility changes by more than this.")
    alpha0: float = Field(1.0, gt=0, le=1e6, description="Dirichlet concentration of the expert-weight prior (1: no preference).")
    elbo_steps: list[int] = Field(default_factory=lambda: [5, 10, 20, 40, 60, 80], min_length=1, description="Diffusion steps S of the ELBO term.")
    dc_step: int = Field(10, ge=1, description="Re-noising step t' of the data-consistency term.")
    calibration_samples: int = Field(32, ge=1, le=10000, description="Fresh channels of each profile on which that expert's error variance is measured (once per pilots and noise level); a realisation reports the responsibility-weighted sum.")
    init: Literal["evidence", "uniform", "experts"] = Field("evidence", description="First responsibilities: evidence: each expert's Gaussian fit scores the pilots, log p(y | k) for y ~ CN(0, A C_k A^H + s2 I) (exact for Gaussian experts; one Cholesky factor per expert and noise level); uniform (Card B as published: from CDL-C pilots the uniform mixture's first estimate is blurred and the VB settles on the broadest expert, CDL-B, see docs/methods/moe_vb.md); experts: each expert's sampler run alone and scored (ELBO + data consistency) on its own estimate (K sampler runs more).")


def _e_ln_pi(conc):
    """``E[ln pi_k]`` under ``Dir(conc)`` [B, K]: ``psi(alpha_k) - psi(sum_j alpha_j)``."""
    return tf.math.digamma(conc) - tf.math.digamma(tf.reduce_sum(conc, axis=1, keepdims=True))


class DiffusionVB(NarrowbandReceiver):
    """Mixture-of-experts diffusion with variational Bayes (Card B). Point estimate: the
    sampler output of the last iteration (``gaussian-posterior``: its conditional-mean
    chain or the mean of ``samples`` draws, each expert's Gaussian fit weighted by the
    responsibilities; Card B's likelihoods: one deterministic run); ``last`` keeps the responsibilities and the
    estimate of every iteration of the latest call (for the convergence and expert-pick
    statistics)."""

    Params = VBParams
    reports_err_var = True

    @classmethod
    def expert_names(cls, nb, params) -> dict:
        """{profile: model name}: the scenario's choice or the shipped expert of its training set."""
        return {p: params.models.get(p) or require(expert_name(p, nb.samples(p)), f"models.{p}",
                                                    "scenarios/train/moe_vb/expert_*.yaml") for p in nb.profiles}

    @classmethod
    def check_scenario(cls, scenario, params) -> dict:
        """Each expert exists, was trained on this link and on its profile's training set
        alone, and its schedule holds ``elbo_steps`` and ``dc_step``; returns the
        differences allowed by ``allow_mismatch`` per profile."""
        nb = scenario.narrowband
        out = {}
        for p, name in cls.expert_names(nb, params).items():
            cfg, mism = check_model(name, f"models.{p}", nb, {p: nb.samples(p)}, params.allow_mismatch)
            T = int(cfg.get("schedule", {}).get("T", 0))
            late = [t for t in [*params.elbo_steps, params.dc_step] if t > T]
            if late:
                raise UserError(f"step {late[0]} is beyond the expert {name}'s T = {T}; allowed: 1..{T}",
                                field="elbo_steps" if late[0] in params.elbo_steps else "dc_step")
            if mism:
                out[p] = mism
        return out

    def __init__(self, context, params=None):
        super().__init__(context, params)
        self.experts = []
        names = self.expert_names(context.scenario.narrowband, self.params)
        mismatch = self.check_scenario(context.scenario, self.params)
        for p in context.profiles:
            name = names[p]
            # Card B's samplers trace the networks into their step graphs (eager here)
            self.experts.append(NetworkPrior(name, context.shape, eager=self.params.likelihood != GAUSSIAN))
        abars = {tuple(np.round(e.alpha_bar, 12)) for e in self.experts}
        if len(abars) != 1:
            raise ValueError("the experts must share one diffusion schedule")
        self.alpha_bar = self.experts[0].alpha_bar
        covs = lambda: [fit_covariance(e, lambda p=p: context.covariance(p))  # noqa: E731
                        for e, p in zip(self.experts, context.profiles)]
        self.sampler = make_sampler(self.params, covs, context.model.num_rx, self.alpha_bar)
        self._surrogates = None
        if self.params.init == "evidence":
            self._surrogates = (self.sampler.surrogates if self.sampler is not None else
                                [GaussianSurrogate.cached(c) for c in covs()])
        self._evidence = {}
        self.build_info = {"models": names, "parameters": sum(e.parameters() for e in self.experts),
                           **({"mismatch": mismatch} if mismatch else {})}
        self.last = None
        self._expert_ev = {}

    # -- pieces ----------------------------------------------------------------------------
    def _mixture_eps(self, r):
        """Prior noise prediction with per-realisation weights ``r`` [B, K] (tiled over
        sampler starts); experts of weight zero throughout are not run."""
        active = [k for k in range(len(self.experts)) if float(tf.reduce_max(r[:, k])) > 0.0]

        def eps(h, t):
            reps = tf.shape(h)[0] // tf.shape(r)[0]
            w = tf.cast(tf.tile(r, [reps, 1]), h.dtype)
            out = 0.0
            for k in active:
                out += w[:, k, None, None] * self.experts[k].eps(h, t)
            return out
        return eps

    def _run(self, r, y, op, no, seed, starts: int = 1):
        """Sampler outputs [S, B, Nr, Nt] with expert weights ``r`` [B, K]: the
        Gaussian-posterior sampler (its surrogates mixed with ``r``), or Card B's sampler
        from ``starts`` starts."""
        if self.sampler is None:
            return run_sampler(self._mixture_eps(r), self.alpha_bar, y, op, no, self.params, starts, seed)
        return run_point(self.sampler, self._mixture_eps(r), self.alpha_bar, y, op, no, self.params, seed, weights=r)

    def _scores(self, h_hat, y, op, no, rng, experts=None):
        """ELBO_k + DC_k [B, K] of the estimate ``h_hat`` [B, Nr, Nt]; ``experts``: the
        indices to score (default all; the output then has one column per index)."""
        experts = [self.experts[j] for j in experts] if experts is not None else self.experts
        abar = self.alpha_bar
        steps = [t for t in self.params.elbo_steps if 1 <= t < len(abar)]
        snr = lambda t: abar[t] / (1.0 - abar[t]) if t > 0 else math.inf  # noqa: E731
        xi = complex_normal(h_hat.shape, rng, tf.complex64)
        elbo = []
        for e in experts:
            acc = 0.0
            for t in steps:
                a, b = math.sqrt(abar[t]), math.sqrt(1.0 - abar[t])
                prev = snr(t - 1) if t > 1 else abar[0] / max(1.0 - abar[1], 1e-12)
                w = (len(abar) - 1) / len(steps) * (prev - snr(t)) / (2.0 * snr(t))
                err = to_real(xi - e.eps(a * h_hat + b * xi, t))
                acc += w * tf.reduce_sum(err ** 2, axis=[1, 2, 3])
            elbo.append(-acc)
        tp = min(self.params.dc_step, len(abar) - 1)
        a, b = math.sqrt(abar[tp]), math.sqrt(1.0 - abar[tp])
        xi = complex_normal(h_hat.shape, rng, tf.complex64)
        dc = [-tf.reduce_sum(tf.abs(y - op.forward(e.denoise(a * h_hat + b * xi, tp))) ** 2, axis=[1, 2]) / no
              for e in experts]
        return tf.stack(elbo, axis=1), tf.stack(dc, axis=1)

    def _experts_init(self, y, op, no, rng, seed, conc):
        """Responsibilities from each expert's own estimate: expert ``k``'s sampler alone,
        then ``ELBO_k + DC_k`` of that estimate by expert ``k`` alone."""
        b, k = int(y.shape[0]), len(self.experts)
        own = []
        for j in range(k):
            one_hot = tf.one_hot(tf.fill([b], j), k)
            h_j = tf.reduce_mean(self._run(one_hot, y, op, no, seed - 31 * (j + 1)), axis=0)
            elbo, dc = self._scores(h_j, y, op, no, rng, experts=[j])
            own.append(elbo[:, 0] + dc[:, 0])
        return tf.nn.softmax(_e_ln_pi(conc) + tf.stack(own, axis=1), axis=1)

    def vb(self, y, op, no, num_samples: int = 1):
        """Run DM-VB. Output: the sampler outputs [S, B, Nr, Nt] of the last iteration
        (``num_samples`` starts), and a dict with ``responsibilities`` [iterations, B, K]
        and ``estimates`` [iterations, B, Nr, Nt] (the mean over starts after each
        iteration)."""
        seed = observation_seed(y, self.context.scenario.seed)
        rng = tf.random.Generator.from_seed(seed + 1)
        y = tf.cast(y, tf.complex64)
        b, k = int(y.shape[0]), len(self.experts)
        conc = tf.fill([b, k], float(self.params.alpha0))
        r = tf.fill([b, k], 1.0 / k)
        if self.params.init == "experts":
            r = self._experts_init(y, op, no, rng, seed, conc)
        elif self.params.init == "evidence":
            r = tf.nn.softmax(_e_ln_pi(conc) + self.evidence(op, no)(y), axis=1)
        hist_r, hist_h = [], []
        for it in range(self.params.max_iterations):
            samples = self._run(r, y, op, no, seed + 17 * it, num_samples)
            h_hat = tf.reduce_mean(samples, axis=0)
            elbo, dc = self._scores(h_hat, y, op, no, rng)
            r_new = tf.nn.softmax(_e_ln_pi(conc) + elbo + dc, axis=1)
            conc = self.params.alpha0 + r_new
            hist_r.append(r_new)
            hist_h.append(h_hat)
            settled = float(tf.reduce_max(tf.abs(r_new - r))) < self.params.tol
            r = r_new
            if settled:
                break
        self.last = {"responsibilities": tf.stack(hist_r), "estimates": tf.stack(hist_h)}
        return samples, self.last

    def evidence(self, op, no: float) -> GaussianEvidence:
        """The experts' Gaussian-fit evidence of the pilots (one pilot matrix and noise level kept)."""
        key = (id(op), float(no))
        if key not in self._evidence:
            self._evidence = {key: GaussianEvidence(self._surrogates, op.x.numpy(), no, self.context.model.num_rx)}
        return self._evidence[key]

    def expert_err_var(self, op, no: float) -> tf.Tensor:
        """Mean squared error per entry [K] of the sampler with each expert alone on fresh
        channels of its own profile."""
        key = (id(op), float(no))
        if key not in self._expert_ev:
            k, evs = len(self.experts), []
            for j, p in enumerate(self.context.profiles):
                h = tf.constant(self.context.calibration_channels(self.params.calibration_samples, profile=p))
                rng = tf.random.Generator.from_seed(self.context.scenario.seed + 104729 * (j + 1))
                y = op.observe(h, no, rng)
                one_hot = tf.one_hot(tf.fill([int(h.shape[0])], j), k)
                h_hat = tf.reduce_mean(self._run(one_hot, y, op, no, self.context.scenario.seed + j), axis=0)
                evs.append(tf.reduce_mean(tf.abs(h_hat - h) ** 2))
            self._expert_ev = {key: tf.stack(evs)}
        return self._expert_ev[key]

    def estimate(self, y, op, no, genie=None):
        ev = self.expert_err_var(op, no)               # first: ``last`` keeps the test call's VB trace
        outputs, last = self.vb(y, op, no)
        r = last["responsibilities"][-1]               # [B, K]
        return tf.reduce_mean(outputs, axis=0), tf.reduce_sum(r * ev[None], axis=1)[:, None, None]
