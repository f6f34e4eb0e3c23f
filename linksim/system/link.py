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

import time
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from sionna.phy import Object
from sionna.phy.channel import AWGN, ApplyOFDMChannel
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.mimo import StreamManagement
from sionna.phy.nr import TBDecoder, TBEncoder
from sionna.phy.nr.utils import calculate_tb_size, decode_mcs_index
from sionna.phy.ofdm import KBestDetector, ResourceGridMapper
from sionna.phy.utils import complex_normal, ebnodb2no
from threadpoolctl import threadpool_limits

from .. import precoding
from ..graph import graph_function
from ..links.base import LinkBase, f64
from ..metrics import (
    all_finite,
    coding_stats,
    estimation_stats,
    nmse_stats,
    se_stats,
    zero_stats,
)
from ..receivers import RECEIVERS
from ..receivers.base import LinkContext
from .channels import ChannelGenerator
from .detection import linear_detector
from .grid import build_resource_grid, build_srs
from .images import ImageOutputs, ImageSource
from .syndrome import LDPCSyndrome

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario


class Coding(Object):
    """Information bits <-> coded bits for one slot: LDPC codewords (one per stream),
    an NR transport block (from an MCS index) across all streams, or no coding.

    Input (encode)  : batch_size -> (b [B, 1, Ns, k] or [B, 1, tb], c [B, 1, Ns, n])
    Input (decode)  : llr [B, 1, Ns, n] -> b_hat like b
    Input (decode_flagged) : llr -> (b_hat, ok) with ``ok`` [B, 1, Ns] or [B, 1] bool,
        the decoder's own success flag per block (``flags=True``; None otherwise)

    ``flags``: the decoder also reports each block's success flag as a receiver knows it
    (no genie): the transport block CRC in ``tb`` mode, a zero LDPC syndrome in
    ``codeword`` mode (:class:`~linksim.system.syndrome.LDPCSyndrome`; a second decoder
    returns the codeword bits of the same belief propagation); ``uncoded`` has no flag
    (``ok`` None).

    ``source`` (``shape -> bits``) makes the information bits: random bits by default,
    or an :class:`~linksim.system.images.ImageSource`.
    """

    def __init__(self, scenario: Scenario, bits_per_stream: int, num_bits_per_symbol: int,
                 num_streams: int, precision=None, source=None, flags: bool = False):
        super().__init__(precision=precision)
        link = scenario.link
        self.mode = link.mode
        self.flags = flags and self.mode in ("codeword", "tb")
        self.num_streams = num_streams
        self.n = bits_per_stream
        self._source = source or BinarySource(precision=precision)
        if self.mode == "codeword":
            self.k = int(round(link.coderate * self.n))
            self._enc = LDPC5GEncoder(self.k, self.n, num_bits_per_symbol=num_bits_per_symbol, precision=precision)
            self._dec = LDPC5GDecoder(self._enc, num_iter=link.ldpc_iterations, hard_out=True, precision=precision)
            if self.flags:
                self._dec_cw = LDPC5GDecoder(self._enc, num_iter=link.ldpc_iterations, hard_out=True,
                                             return_infobits=False, precision=precision)
                self._syndrome = LDPCSyndrome(self._enc)
            self.info_bits_per_block = self.k
            self.blocks_per_slot = num_streams
        elif self.mode == "tb":
            q, rate = decode_mcs_index(link.mcs_index, table_index=link.mcs_table,
                                       is_pusch=scenario.channel.direction == "uplink")
            self.coderate = float(rate)
            total = self.n * num_streams
            tb_size = int(calculate_tb_size(int(q), float(rate), num_coded_bits=total,
                                            num_layers=num_streams, return_cw_length=False)[0])
            self._enc = TBEncoder(tb_size, total, float(rate), int(q), num_layers=num_streams,
                                  channel_type="PUSCH" if scenario.channel.direction == "uplink" else "PDSCH",
                                  precision=precision)
            self._dec = TBDecoder(self._enc, num_bp_iter=link.ldpc_iterations, precision=precision)
            self.k = tb_size
            self.info_bits_per_block = tb_size
            self.blocks_per_slot = 1
        else:
            self.k = self.n
            self.info_bits_per_block = 0
            self.blocks_per_slot = 0
        self.compile(False)

    @property
    def rate(self) -> float:
        return self.k * self.blocks_per_slot / (self.n * self.num_streams) if self.blocks_per_slot else 1.0

    def encode(self, batch_size):
        if self.mode == "tb":
            b = self._source([batch_size, 1, self.k])
            c = tf.reshape(self._enc(b), [batch_size, 1, self.num_streams, self.n])
            return b, c
        b = self._source([batch_size, 1, self.num_streams, self.k])
        c = self._enc(b) if self.mode == "codeword" else b
        return b, c

    def compile(self, xla: bool) -> None:
        """Run :meth:`decode` in its own function, under XLA if ``xla`` (belief
        propagation gains ~3x there on a CPU; benchmarks/xla_blocks.py)."""
        self._decode_fn = graph_function(self._decode, jit_compile=xla, reduce_retracing=True) if xla else self._decode

    def decode(self, llr):
        return self._decode_fn(llr)[0]

    def decode_flagged(self, llr):
        return self._decode_fn(llr)

    def _decode(self, llr):
        if self.mode == "tb":
            llr = tf.reshape(llr, [tf.shape(llr)[0], 1, self.num_streams * self.n])
            b_hat, crc_ok = self._dec(llr)
            return b_hat, (crc_ok if self.flags else None)
        if self.mode == "codeword":
            b_hat = self._dec(llr)
            return b_hat, (self._syndrome(b_hat, self._dec_cw(llr)) if self.flags else None)
        return tf.cast(llr > 0, self.rdtype), None


class _OFDMLinkBase(LinkBase):
    """What the OFDM family's links share beyond :class:`~linksim.links.base.LinkBase`:
    an image source, channel draws for receiver statistics, Eb/N0 from the coded bits."""

    ebno_resource_grid = None

    def __init__(self, scenario: Scenario, precision=None):
        super().__init__(scenario, precision=precision)
        self._pools = {}  # mixture component (or None) -> channel draws shared by the receivers
        self._draw_fns = {}
        packs_images = scenario.source.type != "bits"
        self.image_source = ImageSource(scenario, precision=self.precision) if packs_images else None
        self.image_outputs = ImageOutputs(scenario, self.image_source) if self.image_source is not None else None
        # the decoder reports each block's success flag to the reconstruction stages
        self.block_flags = bool(packs_images and scenario.reconstruction and scenario.source.pass_correct_blocks)

    def sample_channels(self, n: int, component: int | None = None) -> np.ndarray:
        """``n`` fresh channel draws for receiver statistics (of one mixture component if
        given), never the realisations under test. Receivers share one pool: a receiver
        asking for fewer draws than an earlier one gets the first ``n`` of them."""
        pool = self._pools.get(component)
        have = 0 if pool is None else len(pool)
        if have < n:
            if component not in self._draw_fns:  # trace once per component: tracing costs more than drawing
                self._draw_fns[component] = graph_function(lambda bs: self._draw_batch(bs, component))
            extra = _draw(self._draw_fns[component], n - have)
            pool = extra if pool is None else np.concatenate([pool, extra])
            self._pools[component] = pool
        return pool[:n]

    def _draw_batch(self, batch_size: int, component: int | None):
        """One batch of channel draws [batch_size, Nr, Ns, S', F] for ``sample_channels``."""
        raise NotImplementedError

    def ebno_noise_variance(self, ebno_db: float) -> float:
        return float(ebnodb2no(ebno_db, self.bits_per_symbol, self.coderate, self.ebno_resource_grid))

    def _make_receivers(self, context: LinkContext):
        """``[(label, receiver)]``; ``self.receiver_info[label]`` records each build's wall
        time and what the receiver reports of it (``build_info``, e.g. a fit)."""
        receivers = []
        self.receiver_info = {}
        for spec in self.scenario.receivers:
            cls = RECEIVERS.load(spec.name)
            t0 = time.time()
            # NumPy's BLAS on one thread: covariances and fits (summation order) come out
            # the same whatever the machine's cores or a Ray worker's CPUs
            with threadpool_limits(limits=1, user_api="blas"):
                rx = cls(context, cls.Params.model_validate(spec.params), precision=self.precision)
            self.receiver_info[spec.display] = {"build_s": round(time.time() - t0, 2),
                                                **getattr(rx, "build_info", {})}
            receivers.append((spec.display, rx))
        return receivers

    def _estimate(self, rx, y, no, h, component):
        """``(h_hat, err_var, stats)``: one receiver's estimate, and the stats dict of its
        batch with ``finite`` (1.0 / 0.0) when ``check_finite`` is on."""
        h_hat, err_var = rx(y, no, self._genie(rx, h, component))
        stats = zero_stats()
        stats["slots"] = f64(tf.shape(y)[0])
        if self.check_finite:
            stats["finite"] = tf.cast(all_finite(h_hat, err_var), tf.float64)
        return h_hat, err_var, stats

    @staticmethod
    def _genie(rx, h, component):
        """What a receiver may know beyond the received signal: the true channel and the
        mixture component, for genie receivers only."""
        return {"h": h, "component": component} if rx.genie else None

    def _build_step(self):
        raise NotImplementedError

    def _coding_stats(self, b, b_hat):
        return coding_stats(b, b_hat, self.coding.blocks_per_slot, self.coding.info_bits_per_block)

    def _rows(self, label: str, stats: dict, b, b_hat, ok=None) -> dict:
        """``{row label: stats}`` of one receiver (one row per reconstruction stage with an
        image source; ``ok``: the decoder's per-block success flags, or None)."""
        if self.image_outputs is None:
            return {label: stats}
        return self.image_outputs.rows(label, stats, b, b_hat, ok)

    @property
    def decodes(self) -> bool:
        """Whether the scenario needs the decoded bits."""
        return bool(set(self.scenario.metrics) & {"ber", "bler", "goodput"}) or self.image_source is not None


class OFDMLink(_OFDMLinkBase):
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


class FlatLink(_OFDMLinkBase):
    """Single-carrier SISO link: coded QAM over AWGN or Rayleigh block fading (one
    coefficient per codeword), coherent detection with perfect CSI."""

    def __init__(self, scenario: Scenario, precision=None):
        super().__init__(scenario, precision)
        s = scenario
        self.bits_per_symbol = s.link.bits_per_symbol
        n = s.link.codeword_length - s.link.codeword_length % self.bits_per_symbol
        self.coding = Coding(s, n, self.bits_per_symbol, 1, precision=self.precision, source=self.image_source,
                             flags=self.block_flags)
        self.coderate = self.coding.rate
        self._mapper = Mapper("qam", self.bits_per_symbol, precision=self.precision)
        self._demapper = Demapper("maxlog", "qam", self.bits_per_symbol, precision=self.precision)
        self._awgn = AWGN(precision=self.precision)
        self._fading = s.channel.model == "rayleigh"
        self._xla_enabled = s.runtime.xla
        self.receivers = [(spec.display, None) for spec in s.receivers]
        self._build_step()

    def _run(self, batch_size, no):
        b, c = self.coding.encode(batch_size)
        x = self._mapper(c)  # [B,1,1,n/q]
        if self._fading:
            h = complex_normal([batch_size, 1, 1, 1], precision=self.precision)
        else:
            h = tf.ones([batch_size, 1, 1, 1], self.cdtype)
        y = self._awgn(h * x, no)
        no_eff = no / tf.abs(h) ** 2
        llr = self._demapper(y / h, no_eff)
        b_hat, ok = self.coding.decode_flagged(llr)
        stats = zero_stats()
        stats["slots"] = f64(batch_size)
        stats.update(self._coding_stats(b, b_hat))
        return b, b_hat, ok, stats

    def _outputs(self, b, b_hat, ok, stats):
        out = {}
        for label, _ in self.receivers:
            out.update(self._rows(label, stats, b, b_hat, ok))
        return out

    def _build_step(self):
        """The link under XLA; image reconstruction stages in graph mode (a stage may call
        NumPy, and compiles its own networks)."""
        run = self._compile(self._run, self._xla_enabled)
        outputs = self._outputs if self.image_outputs is None else graph_function(self._outputs, reduce_retracing=True)
        self._step = lambda batch_size, no: outputs(*run(batch_size, no))
        self._run_compiled = run

    def image_pairs(self, batch_size: int, no: float):
        """Sent and decoded images of one batch (image sources): ``(x, x_hat)``, each
        [M, H, W] float in [0, 1] (the training pairs of the reconstruction stages)."""
        b, b_hat, _, _ = self._run_compiled(batch_size, tf.constant(no, self.rdtype))
        return self.image_source.images(b), self.image_source.images(b_hat)

    def example_rows(self, batch_size: int, no: float):
        """Sent images and what each receiver/stage row makes of them in one batch:
        ``(x, {row label: x_hat})``, [M, H, W] float in [0, 1] (example grids; correctly
        decoded pixels pass through as in the sweep)."""
        b, b_hat, ok, _ = self._run_compiled(batch_size, tf.constant(no, self.rdtype))
        x, x_hat = self.image_source.images(b), self.image_source.images(b_hat)
        known = self.image_source.known_pixels(b_hat, ok)
        label = self.receivers[0][0]
        rows = {f"{label}/{name}": stage.reconstruct(x_hat, known) for name, stage in self.image_outputs.stages}
        return x, rows or {label: x_hat}


class SoundingLink(_OFDMLinkBase):
    """Uplink SRS sounding with comb and frequency hopping.

    The UE sends SRS occasions (see :class:`~linksim.system.grid.SRSPattern`); the channel
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
        self.bits_per_symbol, self.coderate = 2, 1.0
        slot = 1e-3 / (s.carrier.subcarrier_spacing_khz / 15)
        self._sampling_frequency = 1.0 / slot
        self._times = tf.constant(self.srs.occasion_slots, tf.int32)
        self._pick = tf.one_hot(self.srs.latest_occasion(), self.srs.num_occasions)
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


def _draw(fn, n: int, batch_size: int = 128) -> np.ndarray:
    """Concatenate ``fn(batch_size)`` over batches until ``n`` samples (one batch size:
    one trace)."""
    out = [fn(batch_size).numpy() for _ in range(-(-n // batch_size))]
    return np.concatenate(out)[:n]


def ofdm_link(scenario: Scenario):
    """The OFDM family's link block for a scenario (``link.mode`` codeword, tb, uncoded or
    sounding; a flat link without OFDM when ``link.ofdm`` is off)."""
    if not scenario.link.ofdm:
        return FlatLink(scenario)
    if scenario.link.mode == "sounding":
        return SoundingLink(scenario)
    return OFDMLink(scenario)
