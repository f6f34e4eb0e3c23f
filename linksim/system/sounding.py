"""The OFDM family's uplink SRS sounding link: NMSE of the wideband channel estimate at the evaluation time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from sionna.phy.channel import ApplyOFDMChannel
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import ResourceGridMapper

from ..graph import graph_function
from ..receivers.base import LinkContext
from ..sums import nmse_stats
from .channels import ChannelGenerator
from .grid import build_resource_grid, build_srs
from .ofdm_base import OFDMLinkBase

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario


class SoundingLink(OFDMLinkBase):
    """Uplink SRS sounding with comb and frequency hopping.

    The UE sends SRS occasions (see :class:`~linksim.data.srs.SRSGeometry`); the channel
    evolves between them (UE speed). Each receiver estimates the channel of every occasion
    from its comb; the wideband estimate takes each subcarrier from the latest occasion
    that sounded it. NMSE is measured against the true channel ``eval_delay_slots`` after
    the last occasion, so it includes channel ageing.
    """

    def __init__(self, scenario: Scenario, precision=None):
        super().__init__(scenario, precision)
        s = scenario
        self.srs = build_srs(s)
        self.rg = build_resource_grid(s, self.precision)
        self.sm = StreamManagement(np.ones([1, 1], int), 1)
        self.channel = ChannelGenerator(s, precision=self.precision)
        self._apply = ApplyOFDMChannel(precision=self.precision)
        self._rg_mapper = ResourceGridMapper(self.rg, precision=self.precision)
        slot = 1e-3 / (s.carrier.subcarrier_spacing_khz / 15)
        self._sampling_frequency = 1.0 / slot
        self._times = tf.constant(self.srs.occasion_slots(), tf.int32)
        self._pick = tf.one_hot(self.srs.latest_occasion(), self.srs.history)
        self._xla_enabled = s.runtime.xla
        self.context = LinkContext(s, self.rg, self.sm, self.sample_channels, self.channel.num_components)
        self.receivers = self._make_receivers(self.context)
        self._build_step()

    def channels(self, batch_size, component=None):
        """Channel at the SRS occasions [B,1,Nr,1,1,J,F], at evaluation [B,1,Nr,F], and
        the mixture component of each realisation [B]."""
        h, comp = self.channel.generate(batch_size, self.srs.num_slots, self._sampling_frequency, component)
        h_occ = tf.gather(h, self._times, axis=5)
        return h_occ, h[:, :, :, 0, 0, -1], comp

    def _draw_batch(self, batch_size, component):
        """Channels at the SRS occasions [B, Nr, 1, J, F]."""
        return self.channels(batch_size, component)[0][:, 0, :, 0]

    def _generate(self, batch_size, no):
        x = self._rg_mapper(tf.zeros([batch_size, 1, 1, self.rg.num_data_symbols], self.cdtype))  # SRS only
        h_occ, h_eval, comp = self.channels(batch_size)
        y = self._apply(x, h_occ, no)
        return x, y, h_occ, h_eval, comp

    def transmit(self, batch_size: int, no: float) -> dict:
        """One batch of SRS occasions, outside a sweep (see :meth:`OFDMLink.transmit`).

        Output
        ------
        dict with ``x`` [B, 1, 1, J, F] the sent grid (SRS only), ``y`` [B, 1, Nr, J, F]
        the received occasions, ``h`` [B, 1, Nr, 1, 1, J, F] the channel at the occasions
        (what receivers estimate), ``h_eval`` [B, 1, Nr, F] the channel at evaluation time
        (what the NMSE compares the wideband estimate with, :meth:`wideband`),
        ``component`` [B] and ``no``.
        """
        no = tf.constant(no, self.rdtype)
        x, y, h_occ, h_eval, comp = self._generate(batch_size, no)
        return {"x": x, "y": y, "h": h_occ, "h_eval": h_eval, "component": comp, "no": no}

    def wideband(self, h_hat):
        """[B,1,Nr,1,1,J,F] per-occasion estimates -> [B,1,Nr,F], each subcarrier from the
        latest occasion that sounded it."""
        pick = tf.cast(self._pick, h_hat.dtype)  # [F, J] one-hot
        return tf.einsum("bnrjf,fj->bnrf", h_hat[:, :, :, 0, 0], pick)

    def _receive(self, x, y, h_occ, h_eval, comp, no):
        out = {}
        for label, rx in self.receivers:
            h_hat, _, stats = self._estimate(rx, y, no, h_occ, comp)
            wb = self.wideband(h_hat)
            stats.update(nmse_stats(wb, h_eval))
            out[label] = stats
        return out

    def _build_step(self):
        gen = self._compile(self._generate, self._xla_enabled)
        rec = graph_function(self._receive, reduce_retracing=True)

        def step(batch_size, no):
            return rec(*gen(batch_size, no), no)

        self._step = step
