"""The SRS precoding receivers on the shared contract (:mod:`linksim.receivers.contract`).

A receiver gets the noisy SRS history (:class:`SRSObservation`) and returns what it knows
of the downlink channel at the precoding time as an
:class:`~linksim.receivers.contract.Estimate` (any subset; the link turns it into a
precoder):

- ``h_hat`` [B, F, Nu, Nb] complex64 — point estimate (SVD precoding, NMSE, GCS);
- ``err_var`` broadcastable to ``h_hat`` — its expected squared error (calibration);
- ``samples`` [B, K, F, Nu, Nb] — posterior samples (Bayesian precoder: dominant
  eigenvectors of the mean Gramian; K = 1 is SVD precoding of that sample);
- ``precoder`` [B, F, Nb, Ns] — a precoder emitted directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from ...config import NoParams
from ...data.srs import SRSGeometry
from ...receivers.contract import Estimator, Observation
from ..observation import hold_last, observation_noise_variance

__all__ = ["SRSContext", "SRSObservation", "SRSReceiver", "NoParams"]


@dataclass
class SRSContext:
    """What a receiver may know when it is built: the scenario, its ``srs_precoding``
    section, the SRS geometry and the data shape ``(L, P, F, Nu, Nb)``."""

    scenario: object
    geometry: SRSGeometry
    shape: tuple

    @property
    def section(self):
        return self.scenario.srs_precoding


@dataclass
class SRSObservation(Observation):
    """One batch of the SRS precoding link: ``y`` [B, L, P, Nu, Nb] complex64, the noisy
    per-PRB SRS observations of the last ``L`` occasions; ``no`` the uplink noise
    variance per SRS RE; the channel to estimate is the downlink channel at the precoding
    time [B, F, Nu, Nb] (``genie["h"]``)."""

    geometry: SRSGeometry = None

    def ls(self):
        """Hold-last (each PRB from the latest occasion that sounded it) and the noise
        variance of one observation, ``no * comb / 12`` (the channel's ageing since that
        occasion is not in it)."""
        err = observation_noise_variance(self.no, self.geometry.comb)
        return hold_last(self.y, self.geometry), tf.constant(err, tf.float32)


class SRSReceiver(Estimator):
    """Abstract SRS precoding receiver (the family's form of
    :class:`~linksim.receivers.contract.Estimator`).

    Input (``__call__``): :class:`SRSObservation` (``obs.rng`` the batch's
    ``tf.random.Generator``; ``obs.genie = {"h": ...}`` only for ``genie = True``
    receivers). Output: :class:`~linksim.receivers.contract.Estimate`, see the module
    docstring.
    """

    families = ("srs_precoding",)

    def __init__(self, context: SRSContext, params=None):
        super().__init__(context, params)
