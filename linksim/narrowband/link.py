"""The narrowband pilot link in the chain (link.mode narrowband, Card B): channels of the
test profile, ``Y = H X + N``, every receiver on the same realisations; NMSE, error-variance
calibration and the spectral efficiency of SVD precoding with each estimate."""

from __future__ import annotations

import tensorflow as tf
from sionna.phy import config

from ..graph import graph_function
from ..links.base import LinkBase, f64
from ..precoding import spectral_efficiency, svd_precoder
from ..sums import point_estimate_stats, se_stats, zero_stats
from .channels import NarrowbandCDL
from .pilots import PilotOperator, qpsk_pilots
from .receivers import RECEIVERS
from .receivers.base import NarrowbandContext, NarrowbandObservation

__all__ = ["NarrowbandLink"]


class NarrowbandLink(LinkBase):
    """Input (``run_batch``): batch_size, no (noise variance per entry; SNR = 1/no).
    Output: {receiver label: raw sums (nmse, calibration, se)}.

    The pilot matrix is drawn once from the scenario seed (one per scenario and pilot
    density); channels and noise come from Sionna's random state of the batch."""

    def __init__(self, scenario, precision=None):
        super().__init__(scenario, precision)
        nb = scenario.narrowband
        self.model = NarrowbandCDL(**nb.channel_key())
        self.op = PilotOperator(qpsk_pilots(nb.num_tx, nb.num_pilots, tf.random.Generator.from_seed(scenario.seed), tf.complex64))
        cdl = self.model.model(nb.test_profile)
        self._draw = graph_function(lambda b: self.model.draw(nb.test_profile, b, cdl))
        self._component = nb.profiles.index(nb.test_profile) if nb.test_profile in nb.profiles else -1
        self.context = NarrowbandContext(scenario, self.model, list(nb.profiles),
                                         {p: nb.samples(p) for p in nb.profiles}, nb.training_seed)
        self.receivers = self._table_receivers(RECEIVERS, self.context)
        self._xla_enabled = False
        self._build_step()

    def transmit(self, batch_size: int, no: float) -> dict:
        """One batch: ``h`` [B, Nr, Nt] (test profile), ``y`` [B, Nr, Np], ``x`` [Nt, Np]."""
        h = self._draw(batch_size)
        y = self.op.observe(h, tf.constant(no, tf.float32), config.tf_rng)
        return {"h": h, "y": y, "x": self.op.x, "no": no}

    def _run(self, batch_size, no):
        no = float(no)
        batch = self.transmit(int(batch_size), no)
        h, y = batch["h"], batch["y"]
        genie = {"h": h, "component": tf.fill([tf.shape(h)[0]], self._component)}
        ns = self.scenario.narrowband.streams
        out = {}
        for label, rx in self.receivers:
            est = rx(NarrowbandObservation(y, no, genie if rx.genie else None, config.tf_rng, op=self.op))
            self.check_estimate(label, est)                                    # before the SVD precoder
            stats = zero_stats()
            stats["slots"] = f64(tf.shape(h)[0])
            stats.update(point_estimate_stats(est.h_hat, est.err_var, h))
            f = svd_precoder(est.h_hat, ns)                                    # [B, Nt, Ns]
            stats.update(se_stats(spectral_efficiency(tf.matmul(h, f), tf.constant(1.0 / no, tf.float32))))
            out[label] = stats
        return out

    def _build_step(self):
        self._step = self._run
