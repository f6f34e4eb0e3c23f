"""MIMO-OFDM detection with each part compiled where it is fastest.

Sionna's ``LinearDetector`` runs an equaliser and a demapper in one block, so one
compilation mode covers both. On a CPU the LMMSE equaliser (batched small matrix
inverses) is ~4x slower under XLA than in graph mode, while the max-log demapper is
~2x faster under XLA (benchmarks/xla_blocks.py; benchmarks/chain_overhead.py measures
the whole chain).
:func:`linear_detector` builds the same detector from Sionna's parts with the demapper
in its own function, compiled with XLA when asked.
"""

from __future__ import annotations

import tensorflow as tf
from ..graph import graph_function
from sionna.phy import Block
from sionna.phy.mapping import Demapper
from sionna.phy.mimo import lmmse_equalizer, mf_equalizer, zf_equalizer
from sionna.phy.ofdm import OFDMDetector
from sionna.phy.utils import split_dim

EQUALIZERS = {"lmmse": lmmse_equalizer, "zf": zf_equalizer, "mf": mf_equalizer}


class SplitLinearDetector(Block):
    """Linear MIMO detector (equaliser, then max-log demapping of QAM) for Sionna's
    :class:`~sionna.phy.ofdm.OFDMDetector`.

    Input
    -----
    y : [..., M], tf.complex — received signals
    h : [..., M, K], tf.complex — channel matrices
    s : [..., M, M], tf.complex — noise-plus-interference covariance

    Output
    ------
    [..., K, num_bits_per_symbol], tf.float — LLRs of every bit of every stream
    """

    def __init__(self, equalizer: str, num_bits_per_symbol: int, xla: bool, precision=None):
        super().__init__(precision=precision)
        self._equalizer = EQUALIZERS[equalizer]
        self.num_bits_per_symbol = num_bits_per_symbol
        demapper = Demapper("maxlog", "qam", num_bits_per_symbol, precision=precision)
        self._demap = graph_function(demapper, jit_compile=True, reduce_retracing=True) if xla else demapper

    def call(self, y, h, s):
        x_hat, no_eff = self._equalizer(y, h, s, precision=self.precision)
        llr = self._demap(x_hat, no_eff)
        return split_dim(llr, [tf.shape(h)[-1], self.num_bits_per_symbol], tf.rank(llr) - 1)


def linear_detector(equalizer: str, resource_grid, stream_management, num_bits_per_symbol: int,
                    xla: bool, precision=None) -> OFDMDetector:
    """Bit-output OFDM detector equal to Sionna's ``LinearDetector(equalizer, "bit",
    "maxlog", ...)`` for QAM, with the demapper under XLA if ``xla``."""
    return OFDMDetector(SplitLinearDetector(equalizer, num_bits_per_symbol, xla, precision),
                        "bit", resource_grid, stream_management, precision=precision)
