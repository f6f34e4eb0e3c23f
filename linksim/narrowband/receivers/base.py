"""The narrowband receivers on the shared contract (:mod:`linksim.receivers.contract`):
the observation ``Y = H X + N`` (:class:`NarrowbandObservation`) and the family's hook
(:class:`NarrowbandReceiver`: an estimator for ``Y = H X + N`` whose error variance is
measured on calibration channels unless it reports its own)."""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from pydantic import BaseModel, Field

from ...config import Strict
from ...receivers.contract import Estimate, Estimator, Observation
from ..channels import NarrowbandCDL, cached_draws, training_set
from ..linear_gaussian import sample_covariance
from ..pilots import complex_normal

__all__ = ["NarrowbandContext", "NarrowbandObservation", "NarrowbandReceiver", "CalibratedParams"]

#: Seed offset of the calibration channels (never the training sets or the test draws).
_CALIBRATION_SEED = 1_000_003
_CALIBRATION: dict = {}


@dataclass
class NarrowbandContext:
    """What a receiver may know about the link when it is built.

    Attributes
    ----------
    scenario : Scenario
    model : NarrowbandCDL — the channel generator settings
    profiles : list of str — the environments of ``narrowband.profiles``
    samples : dict — training channels per profile (``narrowband.training_samples``)
    training_seed : int
    """

    scenario: object
    model: NarrowbandCDL
    profiles: list
    samples: dict
    training_seed: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return (self.model.num_rx, self.model.num_tx)

    def training(self, profile: str) -> np.ndarray:
        """The training channels of ``profile`` [n, Nr, Nt] complex64 (the first ``n`` of
        the cached 10 000)."""
        return training_set(self.model, profile, self.samples[profile], self.training_seed)

    def pooled(self) -> np.ndarray:
        """The aggregated training set of every profile (each with its own size)."""
        return np.concatenate([self.training(p) for p in self.profiles])

    def covariance(self, profile: str | None = None) -> np.ndarray:
        """Sample covariance of ``vec(H)`` [d, d] complex128 of ``profile``'s training set
        (None: the pooled set), computed once per context: the LMMSE receivers and the
        diffusion samplers' Gaussian surrogates share it."""
        cache = self.__dict__.setdefault("_covariances", {})
        if profile not in cache:
            cache[profile] = sample_covariance(self.pooled() if profile is None else self.training(profile))
        return cache[profile]

    def calibration_channels(self, n: int, profile: str | None = None) -> np.ndarray:
        """``n`` fresh channels, equal shares of every profile (or of ``profile`` alone),
        from their own seed (for error-variance calibration; not the training sets, not the
        test draws)."""
        seed = self.scenario.seed + _CALIBRATION_SEED
        profiles = self.profiles if profile is None else [profile]
        key = (tuple(sorted(self.model.key().items())), tuple(profiles), int(n), seed)
        if key not in _CALIBRATION:  # kept for the process: links of a sweep over pilot density share them
            per = -(-n // len(profiles))
            h = np.concatenate([cached_draws(self.model, p, per, seed + self.profiles.index(p)) for p in profiles])
            while len(_CALIBRATION) >= 8:
                _CALIBRATION.pop(next(iter(_CALIBRATION)))
            _CALIBRATION[key] = h[np.random.default_rng(seed).permutation(len(h))[:n]]
        return _CALIBRATION[key]


@dataclass
class NarrowbandObservation(Observation):
    """One batch of the narrowband link: ``y`` [B, Nr, Np] complex64 received pilots,
    ``no`` the noise variance per entry, ``op`` the pilot matrix ``X`` [Nt, Np]
    (:class:`~linksim.narrowband.pilots.PilotOperator`); the channel to estimate is ``H``
    [B, Nr, Nt] (``genie["h"]``, with ``genie["component"]`` [B] the index of the test
    profile in the context's profiles)."""

    op: object = None

    def ls(self):
        """``Y X^+`` (minimum-norm least squares through the pilots' SVD) and its noise
        error per entry, ``no * sum(1 / s_i^2) / Nt``."""
        s = tf.cast(self.op.s, tf.complex64)
        h_ls = self.op.v_(self.op.u_h(tf.cast(self.y, tf.complex64)) / s)
        err = float(self.no) * float(tf.reduce_sum(1.0 / tf.square(self.op.s))) / self.op.num_tx
        return h_ls, tf.constant(err, tf.float32)


class CalibratedParams(Strict):
    """Parameters of a receiver whose error variance is measured on calibration channels."""

    calibration_samples: int = Field(64, ge=1, le=10000, description="Fresh channels (all profiles, equal shares) on which the reported error variance is measured, once per pilot matrix and noise level.")


class NarrowbandReceiver(Estimator):
    """Abstract narrowband channel estimator (the family's form of
    :class:`~linksim.receivers.contract.Estimator`).

    Contract: ``h_hat`` is the receiver's point estimate; ``err_var`` is calibrated (on average the real squared error per
    entry); only ``genie`` receivers get the true channel and the index of the test
    profile in ``context.profiles``; ``offers_samples`` receivers draw posterior samples.

    Subclasses implement :meth:`estimate`. It returns the estimate and either its error
    variance (set ``reports_err_var = True``) or ``None``; with ``None`` the error variance is the mean squared error
    per entry of the same estimator on ``calibration_samples`` fresh channels at the same
    pilots and noise level (measured once and kept).

    Input (``__call__``): :class:`NarrowbandObservation`.
    Output: :class:`~linksim.receivers.contract.Estimate` with ``h_hat`` [B, Nr, Nt]
    tf.complex64 and ``err_var`` broadcastable to it, tf.float32.

    :meth:`estimate` gets the observation's parts: ``y`` [B, Nr, Np] tf.complex64, ``op``
    the :class:`~linksim.narrowband.pilots.PilotOperator`, ``no`` (float) and ``genie``
    (``{"h": [B, Nr, Nt], "component": [B] int32}`` for genie receivers, else None).
    """

    Params: type[BaseModel] = CalibratedParams
    families = ("narrowband",)
    reports_err_var: bool = False   # True: estimate() returns its own error variance

    def __init__(self, context: NarrowbandContext, params: BaseModel | None = None):
        super().__init__(context, params)
        self._err_var: dict = {}

    @abstractmethod
    def estimate(self, y, op, no: float, genie=None):
        """``(h_hat, err_var or None)`` for ``y`` [B, Nr, Np]."""

    def __call__(self, obs: NarrowbandObservation) -> Estimate:
        no, op = float(obs.no), obs.op
        # the calibration run first: what a receiver keeps of its latest call is of this one
        measured = None if self.reports_err_var else self.measured_err_var(op, no)
        h_hat, err_var = self.estimate(obs.y, op, no, obs.genie)
        return Estimate(tf.cast(h_hat, tf.complex64), tf.cast(measured if err_var is None else err_var, tf.float32))

    def measured_err_var(self, op, no: float) -> tf.Tensor:
        """Mean squared error per entry on the calibration channels (scalar)."""
        key = (id(op), no)
        if key not in self._err_var:
            h = tf.constant(self.context.calibration_channels(self.params.calibration_samples))
            rng = tf.random.Generator.from_seed(self.context.scenario.seed + _CALIBRATION_SEED)
            y = op.observe(h, no, rng)
            h_hat, _ = self.estimate(y, op, no, None)
            self._err_var[key] = tf.reduce_mean(tf.abs(tf.cast(h_hat, tf.complex64) - h) ** 2)
        return self._err_var[key]

    def posterior_samples(self, y, op, no: float, num_samples: int):
        """``[num_samples, B, Nr, Nt]`` posterior samples (``offers_samples`` receivers)."""
        raise NotImplementedError(f"{type(self).__name__} draws no posterior samples")


def observation_seed(y, base: int) -> int:
    """A sampler seed from the observation itself and ``base`` (the scenario seed): the
    same ``y`` gets the same seed whatever ran before in the process, so a resumed or
    re-ordered run draws the same sampler noise (``y`` is fixed by run seed, point and
    batch)."""
    digest = hashlib.sha256(np.ascontiguousarray(np.asarray(y)).tobytes()).digest()
    return (int.from_bytes(digest[:6], "little") + 7919 * int(base)) % (2 ** 62)


def initial_noise(shape, seed) -> tf.Tensor:
    """``CN(0, I)`` start of a sampler from a stateless seed pair."""
    g = tf.random.Generator.from_seed(int(seed))
    return complex_normal(shape, g, tf.complex64)
