"""Perfect CSI: one receiver, registered in the OFDM, narrowband and SRS precoding
tables."""

from __future__ import annotations

import tensorflow as tf

from .contract import Estimate, Estimator, Observation


class PerfectCSI(Estimator):
    """The true channel, zero error (genie; the upper reference of the spectral
    efficiency)."""

    families = ("ofdm", "narrowband", "srs_precoding")
    genie = True

    def __call__(self, obs: Observation) -> Estimate:
        h = obs.genie["h"]
        return Estimate(h_hat=h, err_var=tf.zeros([], h.dtype.real_dtype))
