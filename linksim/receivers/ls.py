"""Least-squares estimation at the pilots with Sionna's interpolators."""

from typing import Literal

import tensorflow as tf
from pydantic import Field
from sionna.phy.ofdm import LSChannelEstimator
from sionna.phy.utils import flatten_last_dims

from ..config import Strict
from .base import Receiver


class NoiseAwareLS(LSChannelEstimator):
    """Sionna's :class:`~sionna.phy.ofdm.LSChannelEstimator`, also for a noise variance
    that differs between resource elements.

    Input
    -----
    y : [batch_size, num_rx, num_rx_ant, num_ofdm_symbols, fft_size], tf.complex
    no : [], [batch_size, ...] up to rank 3 (as Sionna's), or rank 5 broadcastable to
        ``y`` (per resource element), tf.float

    Output
    ------
    h_hat, err_var : as :class:`~sionna.phy.ofdm.LSChannelEstimator`; with a per-RE
        ``no`` the error variance at each pilot is that pilot's ``no / |p|^2``.
    """

    def call(self, y, no):
        no = tf.convert_to_tensor(no, self.rdtype)
        if no.shape.rank is None or no.shape.rank < 5:
            return super().call(y, no)
        # keep the leading dims of ``no`` (usually 1): a profile shared by the batch stays shared
        grid = tf.concat([tf.shape(no)[:-2], tf.shape(y)[-2:]], 0)
        no_grid = flatten_last_dims(self._remove_nulled_scs(tf.broadcast_to(no, grid)))
        no_pilots = tf.gather(no_grid, self._pilot_ind, axis=-1)
        y_pilots = tf.gather(flatten_last_dims(self._remove_nulled_scs(y)), self._pilot_ind, axis=-1)
        h_hat, err_var = self.estimate_at_pilot_locations(y_pilots, no_pilots)
        if self._interpolation_type is not None:
            h_hat, err_var = self._interpol(h_hat, err_var)
            err_var = tf.maximum(err_var, tf.cast(0, err_var.dtype))
        return h_hat, err_var


class LSParams(Strict):
    interpolation: Literal["nn", "linear"] = Field("linear", description="Interpolation between pilots: nearest neighbour or linear (frequency, then time).")


class LSEstimator(Receiver):
    """LS channel estimate at pilot REs (error variance ``no/|p|^2``), interpolated over
    the grid by Sionna's interpolators."""

    Params = LSParams

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        kind = {"nn": "nn", "linear": "lin"}[self.params.interpolation]
        self._est = NoiseAwareLS(context.resource_grid, interpolation_type=kind, precision=self.precision)

    def call(self, y, no, genie=None):
        return self._est(y, no)
