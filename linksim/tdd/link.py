"""The SRS precoding link in the chain (link.mode srs_precoding, Card C).

Per batch: UMa channels at the SRS occasions and at the precoding time
(:class:`~.channels.SRSChannelSource`, Sionna's random state of the batch), noisy SRS
observations at the swept uplink SNR, every receiver on the same realisations; each
receiver's output becomes a precoder (:func:`precoder_of`) whose spectral efficiency is
measured with the true channel at the downlink SNR (uplink + ``dl_snr_offset_db``), equal
power over ``streams``; NMSE, GCS and the error-variance calibration of the point estimate.
"""

from __future__ import annotations

import math

import tensorflow as tf
from sionna.phy import config

from ..links.base import LinkBase, f64
from ..precoding import expected_gramian_precoder, spectral_efficiency
from ..receivers.contract import Estimate
from ..sums import gcs_stats, point_estimate_stats, se_stats, zero_stats
from .channels import SRSChannelSource, srs_geometry
from .observation import observe
from .receivers import RECEIVERS
from .receivers.base import SRSContext, SRSObservation

__all__ = ["PrecodingLink", "precoder_of", "measure", "precode_and_measure"]


def precoder_of(est: Estimate, streams: int):
    """The precoder [B, F, Nb, Ns] of a receiver's output: its own, else the Bayesian
    precoder of its samples, else SVD precoding of its point estimate."""
    if est.precoder is not None:
        return est.precoder
    if est.samples is not None:
        return expected_gramian_precoder(est.samples, streams, axis=1)
    return expected_gramian_precoder(est.h_hat[:, None], streams, axis=1)


def measure(est: Estimate, h, streams: int, dl_snr) -> dict:
    """Raw sums of one receiver's output against the true channel ``h`` [B, F, Nu, Nb]:
    SE of its precoder, NMSE / GCS of its point estimate and the error-variance
    calibration when it reports one."""
    stats = zero_stats()
    f = precoder_of(est, streams)
    stats.update(se_stats(spectral_efficiency(tf.matmul(h, f), tf.constant(dl_snr, tf.float32))))
    if est.h_hat is not None:
        h_hat = tf.cast(est.h_hat, h.dtype)
        stats.update(point_estimate_stats(h_hat, est.err_var, h))
        stats.update(gcs_stats(h_hat, h))
    return stats


def precode_and_measure(est: Estimate, h, streams: int, dl_snr: float) -> dict:
    """:func:`measure` as values: ``se``, and ``nmse_db`` / ``gcs`` where defined."""
    s = {k: float(v) for k, v in measure(est, h, streams, dl_snr).items()}
    out = {"se": s["se_sum"] / s["se_count"]}
    if s["nmse_ref"] > 0:
        out["nmse_db"] = 10 * math.log10(max(s["nmse_err"], 1e-30) / s["nmse_ref"])
        out["gcs"] = s["gcs_sum"] / s["gcs_count"]
    return out


class PrecodingLink(LinkBase):
    """Input (``run_batch``): batch_size, no (uplink noise variance per SRS RE; SNR = 1/no).
    Output: {receiver label: raw sums (se, nmse, gcs, calibration)}."""

    def __init__(self, scenario, precision=None):
        super().__init__(scenario, precision)
        sec = scenario.srs_precoding
        self.section = sec
        self.geometry = srs_geometry(sec)
        self.source = SRSChannelSource(sec)
        self.context = SRSContext(scenario, self.geometry, self.source.shape)
        self.receivers = self._table_receivers(RECEIVERS, self.context)
        self._xla_enabled = False
        self._build_step()

    def transmit(self, batch_size: int, no: float) -> dict:
        """One batch: ``obs`` [B, L, P, Nu, Nb] noisy SRS observations, ``obs_clean`` the
        same without noise, ``h`` [B, F, Nu, Nb] the downlink channel at the precoding time."""
        obs_clean, h = self.source.batch(int(batch_size))
        obs = observe(tf.constant(obs_clean), float(no), self.section.comb, config.tf_rng)
        return {"obs": obs, "obs_clean": obs_clean, "h": tf.constant(h), "no": float(no)}

    def _run(self, batch_size, no):
        no = float(no)
        snr_db = -10.0 * math.log10(no)
        dl_snr = 10.0 ** ((snr_db + self.section.dl_snr_offset_db) / 10.0)
        batch = self.transmit(batch_size, no)
        h, obs = batch["h"], batch["obs"]
        out = {}
        for label, rx in self.receivers:
            est = rx(SRSObservation(obs, no, {"h": h} if rx.genie else None, config.tf_rng, geometry=self.geometry))
            self.check_estimate(label, est)                                    # before any eigendecomposition
            stats = measure(est, h, self.section.streams, dl_snr)
            stats["slots"] = f64(tf.shape(h)[0])
            out[label] = stats
        return out

    def _build_step(self):
        self._step = self._run
