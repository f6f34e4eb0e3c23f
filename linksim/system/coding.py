"""Information bits to coded bits and back for one slot: LDPC codewords or NR transport blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf
from sionna.phy import Object
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource
from sionna.phy.nr import TBDecoder, TBEncoder
from sionna.phy.nr.utils import calculate_tb_size, decode_mcs_index

from ..graph import graph_function
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
