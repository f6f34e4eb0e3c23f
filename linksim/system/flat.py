"""The OFDM family's single-carrier SISO reference link (AWGN or Rayleigh block fading, no OFDM)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf
from sionna.phy.channel import AWGN
from sionna.phy.mapping import Demapper, Mapper
from sionna.phy.utils import complex_normal

from ..graph import graph_function
from ..links.base import f64
from ..sums import zero_stats
from .coding import Coding
from .ofdm_base import OFDMLinkBase

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario


class FlatLink(OFDMLinkBase):
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
