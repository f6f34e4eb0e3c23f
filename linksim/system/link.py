"""The simulated links as Sionna blocks.

A link draws one batch of transmissions and channel realisations and runs **every
receiver of the scenario on the same realisations**. It returns raw error counts and
sums per receiver (see :mod:`linksim.metrics`), never averages.

- :class:`OFDMLink` — MIMO-OFDM slot: LDPC/TB coding, QAM, pilots, precoding, a Sionna
  channel model, per-receiver channel estimation, Sionna's MIMO detector, LDPC decoding.
- :class:`FlatLink` — single-carrier SISO reference (AWGN / Rayleigh block fading).
- :class:`SoundingLink` — uplink SRS sounding; NMSE of the wideband estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from sionna.phy.channel import ApplyOFDMChannel
from sionna.phy.mapping import Mapper
from sionna.phy.mimo import StreamManagement
from sionna.phy.nr.utils import decode_mcs_index
from sionna.phy.ofdm import KBestDetector, ResourceGridMapper

from .. import precoding
from ..graph import graph_function
from ..receivers.base import LinkContext
from ..sums import estimation_stats, se_stats
from .channels import ChannelGenerator
from .coding import Coding
from .detection import linear_detector
from .flat import FlatLink
from .grid import build_resource_grid
from .ofdm_base import OFDMLinkBase
from .sounding import SoundingLink

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario


class OFDMLink(OFDMLinkBase):
    """One MIMO-OFDM slot per batch element (see module docstring).

    Input
    -----
    batch_size : int
    no : scalar tf.float — noise variance per RE

    Output
    ------
    dict {receiver label: dict of raw sums (STAT_KEYS)}
    """

    def __init__(self, scenario: Scenario, precision=None):
        super().__init__(scenario, precision)
        s = scenario
        self.num_streams = s.mimo.num_streams
        self.num_tx_ant = s.tx_array.num_ant
        self.num_rx_ant = s.rx_array.num_ant
        self.rg = build_resource_grid(s, self.precision)
        self.ebno_resource_grid = self.rg
        self.sm = StreamManagement(np.ones([1, 1], int), self.num_streams)
        self.channel = ChannelGenerator(s, precision=self.precision)
        self._apply = ApplyOFDMChannel(precision=self.precision)
        self.bits_per_symbol = s.link.bits_per_symbol
        n = self.rg.num_data_symbols * self.bits_per_symbol
        if s.link.mode == "tb":
            q, _ = decode_mcs_index(s.link.mcs_index, table_index=s.link.mcs_table,
                                    is_pusch=s.channel.direction == "uplink")
            self.bits_per_symbol = int(q)
            n = self.rg.num_data_symbols * self.bits_per_symbol
        self.coding = Coding(s, int(n), self.bits_per_symbol, self.num_streams, precision=self.precision,
                             source=self.image_source, flags=self.block_flags)
        self.coderate = self.coding.rate
        self._mapper = Mapper("qam", self.bits_per_symbol, precision=self.precision)
        self._rg_mapper = ResourceGridMapper(self.rg, precision=self.precision)
        self._sampling_frequency = 1.0 / self.rg.ofdm_symbol_duration
        self.slot_duration = self.rg.num_ofdm_symbols * self.rg.ofdm_symbol_duration
        self.metrics = set(s.metrics)
        # [Ns, S, F] 1 on the data REs of each stream (calibration is measured there)
        self._data_mask = tf.constant(1 - np.asarray(self.rg.pilot_pattern.mask)[0], tf.float64)
        self._xla_enabled = s.runtime.xla
        self._set_interference(s.interference)
        self.context = LinkContext(s, self.rg, self.sm, self.sample_channels, self.channel.num_components)
        self.receivers = self._make_receivers(self.context)
        self._build_step()

    # blocks ----------------------------------------------------------------
    def _set_interference(self, itf):
        """Per-subcarrier noise-plus-interference variance relative to ``no``."""
        profile = np.ones([self.rg.fft_size], np.float32)
        profile[itf.subcarriers] += np.float32(10 ** (itf.inr_db / 10))
        self.noise_profile = tf.constant(profile, self.rdtype) if itf.subcarriers else None
        self._known_profile = itf.known

    def _channel_noise(self, no):
        """Noise variance for the channel: [] or [1, 1, 1, 1, F] per subcarrier."""
        if self.noise_profile is None:
            return no
        return tf.reshape(no * self.noise_profile, [1, 1, 1, 1, -1])

    def _receiver_noise(self, no):
        """What receivers know: the per-subcarrier variance, or (``known: false``) its
        mean over the band."""
        if self.noise_profile is None:
            return no
        if self._known_profile:
            return self._channel_noise(no)
        return no * tf.reduce_mean(self.noise_profile)

    def _whitening(self):
        """Sionna's detector takes one noise level per antenna: with a known interferer,
        each subcarrier is whitened first (y and h_hat scaled by sqrt(no / no_f), err_var
        by its square), which leaves the per-RE LMMSE problem unchanged. Returns the
        per-subcarrier power weight ``no / no_f`` [F], or None."""
        if self.noise_profile is not None and self._known_profile:
            return 1.0 / self.noise_profile
        return None

    def precoder(self, h):
        """Precoder per RE from the true channel: [B, S, F, Nt, Ns]."""
        hm = tf.transpose(h[:, 0, :, 0], [0, 3, 4, 1, 2])  # [B, S, F, Nr, Nt]
        m = self.scenario.mimo
        if m.precoder == "svd":
            return precoding.svd_precoder(hm, self.num_streams), hm
        if m.precoder in ("zf", "rzf"):
            alpha = 0.0 if m.precoder == "zf" else m.rzf_alpha
            return precoding.rzf_precoder(hm, alpha), hm
        return precoding.identity_precoder(hm, self.num_streams), hm

    def channels(self, batch_size, component=None, num_symbols=None):
        """True channel ``h`` [B,1,Nr,1,Nt,S,F], effective channel ``h_eff``
        [B,1,Nr,1,Ns,S,F] after precoding, the precoder ``f`` [B,S,F,Nt,Ns] and the
        mixture component of each realisation [B]; ``S`` is the slot's OFDM symbols or
        ``num_symbols``."""
        h, comp = self.channel.generate(batch_size, num_symbols or self.rg.num_ofdm_symbols,
                                        self._sampling_frequency, component)
        f, hm = self.precoder(h)
        h_eff = tf.matmul(hm, f)  # [B,S,F,Nr,Ns]
        h_eff = tf.transpose(h_eff, [0, 3, 4, 1, 2])[:, None, :, None]
        return h, h_eff, f, comp

    def _draw_batch(self, batch_size, component):
        """Effective channels [B, Nr, Ns, 1, F], each from its own slot at one OFDM symbol:
        the receivers' statistics are over space and frequency (the channel is stationary
        in time), and a one-symbol draw costs a slot's 1/S."""
        return self.channels(batch_size, component, num_symbols=1)[1][:, 0, :, 0]

    def transmit(self, batch_size: int, no: float) -> dict:
        """One batch through the transmitter and the channel, outside a sweep (to call a
        receiver, draw its posterior samples, look at the channel).

        Output
        ------
        dict with ``bits`` [B, 1, Ns, k] the information bits, ``x`` [B, 1, Ns, S, F] the
        transmitted resource grid per stream (before precoding), ``y`` [B, 1, Nr, S, F] the
        received grid, ``h`` [B, 1, Nr, 1, Ns, S, F] the effective channel (after
        precoding), ``component`` [B] the mixture component of each slot, and ``no``
        the noise variance as the receivers know it (per subcarrier with a known
        interferer): call a receiver as ``rx(out["y"], out["no"])``.
        """
        no = tf.constant(no, self.rdtype)
        b, x, y, h_eff, comp, _ = self._generate(batch_size, no)
        return {"bits": b, "x": x, "y": y, "h": h_eff, "component": comp, "no": self._receiver_noise(no)}

    def _generate(self, batch_size, no):
        b, c = self.coding.encode(batch_size)
        x = self._rg_mapper(self._mapper(c))  # [B,1,Ns,S,F]
        h, h_eff, f, comp = self.channels(batch_size)
        x_ant = tf.einsum("bsftl,blsf->btsf", f, x[:, 0])[:, None]  # [B,1,Nt,S,F]
        y = self._apply(x_ant, h, self._channel_noise(no))
        se = None
        if "se" in self.metrics:
            he = tf.transpose(h_eff[:, 0, :, 0], [0, 3, 4, 1, 2])  # [B,S,F,Nr,Ns]
            se = precoding.spectral_efficiency(he, tf.cast(self.num_streams, no.dtype) / no)
        return b, x, y, h_eff, comp, se

    def _receive(self, b, x, y, h_eff, comp, se, no):
        out = {}
        rx_no = self._receiver_noise(no)
        w2 = self._whitening()
        if w2 is not None:
            w = tf.cast(tf.sqrt(w2), y.dtype)
            y_det, det_no = y * w, no
        else:
            y_det, det_no = y, rx_no
        for label, rx in self.receivers:
            h_hat, err_var, stats = self._estimate(rx, y, rx_no, h_eff, comp)
            if self.metrics & {"nmse", "calibration"}:
                stats.update(estimation_stats(h_hat, err_var, h_eff, self._data_mask))
            if se is not None:
                stats.update(se_stats(se))
            if self.decodes:
                if w2 is not None:
                    h_hat, err_var = h_hat * w, err_var * w2
                llr = self._detector(y_det, h_hat, err_var, det_no)
                b_hat, ok = self.coding.decode_flagged(llr)
                stats.update(self._coding_stats(b, b_hat))
                out.update(self._rows(label, stats, b, b_hat, ok))
            else:
                out[label] = stats
        return out

    def _make_detector(self, xla: bool):
        s = self.scenario
        if s.mimo.detector == "kbest":
            return KBestDetector("bit", self.num_streams, s.mimo.kbest_k, self.rg, self.sm,
                                 "qam", self.bits_per_symbol, precision=self.precision)
        return linear_detector(s.mimo.detector, self.rg, self.sm, self.bits_per_symbol, xla, self.precision)

    def _build_step(self):
        """Transmitter + channel under XLA; receivers in graph mode, with the demapper and
        the LDPC decoder each in their own XLA function (``runtime.xla``)."""
        xla = self._xla_enabled
        self._detector = self._make_detector(xla)
        self.coding.compile(xla)
        gen = self._compile(self._generate, xla)
        rec = graph_function(self._receive, reduce_retracing=True)

        def step(batch_size, no):
            return rec(*gen(batch_size, no), no)

        self._step = step


def ofdm_link(scenario: Scenario):
    """The OFDM family's link block for a scenario (``link.mode`` codeword, tb, uncoded or
    sounding; a flat link without OFDM when ``link.ofdm`` is off)."""
    if not scenario.link.ofdm:
        return FlatLink(scenario)
    if scenario.link.mode == "sounding":
        return SoundingLink(scenario)
    return OFDMLink(scenario)
