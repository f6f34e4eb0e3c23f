"""Reference receivers: the hold-last-value SRS estimate (lower reference) and the Wiener
predictor over the SRS history (perfect CSI, the upper bound, is
:class:`linksim.receivers.genie.PerfectCSI`)."""

from __future__ import annotations

import json
import time

from pydantic import Field

from ...config import Strict
from ...receivers.contract import Estimate
from ..channels import channel_set
from ..observation import hold_last, observation_noise_variance
from ..wiener import WienerPredictor
from .base import SRSObservation, SRSReceiver


class HoldLast(SRSReceiver):
    """Each PRB from the latest SRS occasion that sounded it, no processing."""

    def __call__(self, obs: SRSObservation) -> Estimate:
        return Estimate(h_hat=hold_last(obs.y, self.context.geometry))


_PREDICTORS: dict = {}


def wiener_predictor(sec) -> WienerPredictor:
    """The Wiener predictor of a section's training channels, fitted once per process
    and channel set (receivers of one link, e.g. ``wiener`` and ``wiener_k64``, and the
    links of a sweep share it; at most two are kept)."""
    key = (json.dumps(sec.channel_key(), sort_keys=True), sec.training_samples, sec.training_seed)
    if key not in _PREDICTORS:
        while len(_PREDICTORS) >= 2:
            _PREDICTORS.pop(next(iter(_PREDICTORS)))
        _PREDICTORS[key] = WienerPredictor(*channel_set(sec, sec.training_samples, sec.training_seed))
    return _PREDICTORS[key]


class _WienerParams(Strict):
    samples: int = Field(0, ge=0, le=1024, description="0: SVD precoding of the LMMSE estimate; K > 0: also K draws of the Gaussian posterior CN(estimate, error covariance), and the link uses their Bayesian precoder.")


class Wiener(SRSReceiver):
    """LMMSE prediction with the space-frequency-time covariance of
    ``srs_precoding.training_samples`` channels (seed ``training_seed``); with
    ``samples`` > 0 also draws from the Gaussian posterior (Bayesian precoder)."""

    Params = _WienerParams

    def __init__(self, context, params=None):
        super().__init__(context, params)
        t0 = time.time()
        self.predictor = wiener_predictor(context.section)
        self.build_info = {"training_samples": context.section.training_samples, "fit_s": round(time.time() - t0, 2)}

    def __call__(self, obs: SRSObservation) -> Estimate:
        s2 = observation_noise_variance(obs.no, self.context.section.comb)
        h, err = self.predictor(obs.y, s2)
        samples = self.predictor.sample(h, s2, self.params.samples, obs.rng) if self.params.samples else None
        return Estimate(h_hat=h, err_var=err, samples=samples)
