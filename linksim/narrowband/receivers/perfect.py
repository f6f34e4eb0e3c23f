"""Perfect CSI (genie): the true channel, zero error."""

from __future__ import annotations

import tensorflow as tf
from pydantic import BaseModel, ConfigDict

from .base import NarrowbandReceiver


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PerfectCSI(NarrowbandReceiver):
    """The true channel (upper reference of the spectral efficiency)."""

    Params = _NoParams
    genie = True
    reports_err_var = True

    def estimate(self, y, op, no, genie=None):
        return genie["h"], tf.zeros([], tf.float32)
