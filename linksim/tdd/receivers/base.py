"""The SRS precoding receiver hook.

A receiver gets the noisy SRS history and returns what it knows of the downlink channel
at the precoding time, as a dict (any subset; the link turns it into a precoder):

- ``h_hat`` [B, F, Nu, Nb] complex64 — point estimate (SVD precoding, NMSE, GCS);
- ``err_var`` broadcastable to ``h_hat`` — its expected squared error (calibration);
- ``samples`` [B, K, F, Nu, Nb] — posterior samples (Bayesian precoder: dominant
  eigenvectors of the mean Gramian; K = 1 is SVD precoding of that sample);
- ``precoder`` [B, F, Nb, Ns] — a precoder emitted directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from ...config import NoParams
from ..channels import SRSGeometry

__all__ = ["SRSContext", "SRSReceiver", "NoParams"]


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


class SRSReceiver(ABC):
    """Abstract SRS precoding receiver.

    Input (``__call__``): ``obs`` [B, L, P, Nu, Nb] complex64 (noisy, per-PRB SRS
    observations), ``snr_db`` (uplink, float), ``rng`` (tf.random.Generator),
    ``genie`` (dict with ``h`` the true target, only for ``genie = True`` receivers).
    Output: dict, see the module docstring.
    """

    Params = NoParams
    genie = False

    def __init__(self, context: SRSContext, params=None):
        self.context = context
        self.params = params if params is not None else self.Params()

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """Raise :class:`~linksim.errors.UserError` when this receiver cannot run the
        scenario (checked by ``linksim validate`` before anything is built)."""

    @property
    def build_info(self) -> dict:
        return {}

    @abstractmethod
    def __call__(self, obs, snr_db: float, rng, genie=None) -> dict:
        ...
