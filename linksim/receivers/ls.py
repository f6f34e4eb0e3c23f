"""Least-squares estimation at the pilots with Sionna's interpolators."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sionna.phy.ofdm import LSChannelEstimator

from .base import Receiver


class LSParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interpolation: Literal["nn", "linear"] = Field("linear", description="Interpolation between pilots: nearest neighbour or linear (frequency, then time).")


class LSEstimator(Receiver):
    """LS channel estimate at pilot REs (error variance ``no/|p|^2``), interpolated over
    the grid by Sionna's :class:`~sionna.phy.ofdm.LSChannelEstimator`."""

    Params = LSParams

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        kind = {"nn": "nn", "linear": "lin"}[self.params.interpolation]
        self._est = LSChannelEstimator(context.resource_grid, interpolation_type=kind, precision=self.precision)

    def call(self, y, no, h_genie, component):
        return self._est(y, no)
