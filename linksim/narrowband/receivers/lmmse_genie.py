"""Genie LMMSE: the sample covariance of the true profile's training set."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ...config import NoParams
from ...errors import UserError
from .linear import LinearGaussianReceiver


class GenieLMMSE(LinearGaussianReceiver):
    """LMMSE with the covariance of the environment the channel came from (known to the
    genie): one sample covariance per profile of ``narrowband.profiles``."""

    Params = NoParams
    genie = True

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        nb = scenario.narrowband
        if nb.test_profile not in nb.profiles:
            raise UserError(f"the genie knows the profiles of narrowband.profiles only; allowed test_profile: "
                            f"{', '.join(nb.profiles)}", field="name")

    def prior(self):
        covs = [self.context.covariance(p) for p in self.context.profiles]
        self.build_info = {"samples": {p: self.context.samples[p] for p in self.context.profiles}}
        return np.stack(covs), np.full(len(covs), 1.0 / len(covs))

    def component(self, genie):
        return tf.cast(genie["component"], tf.int32)
