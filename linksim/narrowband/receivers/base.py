"""The narrowband receiver hook: a channel estimator for ``Y = H X + N`` with the output
contract of the OFDM receivers (estimate + calibrated error variance; posterior samples
on request)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from pydantic import BaseModel, Field

from ...config import Strict
from ..channels import NarrowbandCDL, cached_draws, training_set
from ..linear_gaussian import sample_covariance
from ..pilots import complex_normal

__all__ = ["NarrowbandContext", "NarrowbandReceiver", "CalibratedParams"]

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


class CalibratedParams(Strict):
    """Parameters of a receiver whose error variance is measured on calibration channels."""

    calibration_samples: int = Field(64, ge=1, le=10000, description="Fresh channels (all profiles, equal shares) on which the reported error variance is measured, once per pilot matrix and noise level.")


class NarrowbandReceiver(ABC):
    """Abstract narrowband channel estimator.

    Contract (as :class:`linksim.receivers.base.Receiver`): ``h_hat`` is the receiver's
    point estimate; ``err_var`` is calibrated (on average the real squared error per
    entry); only ``genie`` receivers get the true channel and the index of the test
    profile in ``context.profiles``; ``offers_samples`` receivers draw posterior samples.

    Subclasses implement :meth:`estimate`. It returns the estimate and either its error
    variance (set ``reports_err_var = True``) or ``None``; with ``None`` the error variance is the mean squared error
    per entry of the same estimator on ``calibration_samples`` fresh channels at the same
    pilots and noise level (measured once and kept).

    Input (``__call__``)
    --------------------
    y : [B, Nr, Np], tf.complex64 — received pilots
    op : :class:`~linksim.narrowband.pilots.PilotOperator` — the pilot matrix ``X``
    no : float — noise variance per entry
    genie : dict | None — ``{"h": [B, Nr, Nt], "component": [B] int32}`` (genie receivers)

    Output
    ------
    h_hat : [B, Nr, Nt], tf.complex64
    err_var : broadcastable to ``h_hat``, tf.float32
    """

    Params: type[BaseModel] = CalibratedParams
    genie: bool = False
    offers_samples: bool = False
    reports_err_var: bool = False   # True: estimate() returns its own error variance

    def __init__(self, context: NarrowbandContext, params: BaseModel | None = None):
        self.context = context
        self.params = params if params is not None else self.Params()
        self.build_info: dict = {}
        self._err_var: dict = {}

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """Raise :class:`~linksim.errors.UserError` if the receiver cannot serve the scenario."""

    @abstractmethod
    def estimate(self, y, op, no: float, genie=None):
        """``(h_hat, err_var or None)`` for ``y`` [B, Nr, Np]."""

    def __call__(self, y, op, no: float, genie=None):
        # the calibration run first: what a receiver keeps of its latest call is of this one
        measured = None if self.reports_err_var else self.measured_err_var(op, float(no))
        h_hat, err_var = self.estimate(y, op, float(no), genie)
        return tf.cast(h_hat, tf.complex64), tf.cast(measured if err_var is None else err_var, tf.float32)

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
