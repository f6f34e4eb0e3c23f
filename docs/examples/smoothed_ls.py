"""Worked example for docs/add-a-receiver.md: LS + frequency smoothing.

Copy this file to ``linksim/receivers/smoothed_ls.py`` and add one line to
``linksim/receivers/__init__.py``::

    "smoothed_ls": "linksim.receivers.smoothed_ls:SmoothedLS",
"""

import tensorflow as tf
from pydantic import BaseModel, ConfigDict, Field

from linksim.receivers.base import Receiver
from linksim.receivers.ls import NoiseAwareLS  # Sionna's LS, also for per-subcarrier noise


class SmoothedLSParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown keys in the YAML are errors
    window: int = Field(3, ge=1, le=31, description="Moving-average width over subcarriers (odd).")


class SmoothedLS(Receiver):
    """LS with linear interpolation, then a moving average over subcarriers."""

    Params = SmoothedLSParams

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        self._ls = NoiseAwareLS(context.resource_grid, interpolation_type="lin",
                                precision=self.precision)

    @classmethod
    def check_scenario(cls, scenario, params):
        from linksim.errors import UserError

        if params.window % 2 == 0:
            raise UserError(f"window must be odd (got {params.window})", field="window")

    def call(self, y, no, genie=None):
        h, err_var = self._ls(y, no)                    # [B,1,Nr,1,Ns,S,F]
        w = self.params.window
        kernel = tf.ones([w, 1, 1], self.rdtype) / w
        flat = tf.reshape(h, [-1, tf.shape(h)[-1], 1])  # smooth along subcarriers
        smooth = lambda x: tf.nn.conv1d(x, kernel, stride=1, padding="SAME")
        h_s = tf.complex(smooth(tf.math.real(flat)), smooth(tf.math.imag(flat)))
        return tf.reshape(h_s, tf.shape(h)), err_var / w
