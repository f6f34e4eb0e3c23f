"""Card C's guard on a conditional DM: does it use its condition and sample its posterior?

On fresh realisations (a Sionna draw with its own seed, not the training set) at an uplink
SNR, with SL's estimate on the same noisy observations as the reference:

- ``clean_cond`` / ``clean_null`` — NMSE [dB] of the jump-to-clean estimate at t = T from
  pure noise, with the condition and with the null token: what the condition alone tells
  the network (for a DM that learned the posterior, about the conditional mean, i.e. SL);
- ``sample`` — NMSE [dB] of one posterior sample (averaged over the K samples): a true
  posterior sample has twice the MMSE, SL + 3.01 dB;
- ``mean`` — NMSE [dB] of the mean of the K samples (MMSE times 1 + 1/K) and
  ``err_var_ratio``: the reported error variance of that mean over the measured one;
- ``sl``, ``hold_last`` and ``zero`` (0 dB by definition) for scale;
- ``gcs_*``: the mean GCS of the clean estimates, the sample mean and SL (in high
  mobility the history says little about the power at the precoding time, NMSE stays
  near 0 dB even for SL, but it says much about the spatial structure).

:data:`TARGETS` states the pass conditions; :func:`verdicts` applies them.
"""

from __future__ import annotations

import math

import tensorflow as tf

from ..sums import gcs_per_matrix
from .channels import SRSChannelSource, data_shape, srs_geometry
from .estimators import ModelEstimator
from .observation import hold_last, observe

__all__ = ["fresh_channels", "guard", "verdicts", "TARGETS", "table"]

#: (label, description): pass conditions, in dB unless stated.
TARGETS = {
    "clean": "clean estimate at t = T within 0.5 dB of SL",
    "sample": "one sample within 1 dB of SL + 3.01 dB",
    "mean": "mean of K samples within 0.5 dB of SL",
    "calibration": "err_var_ratio of the mean in [0.8, 1.25]",
}


def _gcs(h_hat, h) -> float:
    return float(tf.reduce_mean(gcs_per_matrix(tf.cast(h_hat, tf.complex64), tf.cast(h, tf.complex64))))


def _nmse_db(h_hat, h) -> float:
    h_hat = tf.cast(h_hat, tf.complex64)
    h = tf.cast(h, tf.complex64)
    err = float(tf.reduce_sum(tf.abs(h_hat - h) ** 2))
    return 10.0 * math.log10(max(err, 1e-30) / float(tf.reduce_sum(tf.abs(h) ** 2)))


def fresh_channels(sec, n: int, seed: int):
    """``n`` realisations of the section's channel drawn with Sionna seeded by ``seed``:
    numpy ``(obs_clean, h)``."""
    return SRSChannelSource(sec).draw(n, seed)


def guard(dm: str, sl: str, sec, obs_clean, h, snr_db: float, samples: int = 64, seed: int = 5,
          chunk: int = 32, variance: str = "posterior") -> dict:
    """The guard's numbers (see the module docstring) for DM ``dm`` against SL ``sl`` (zoo
    names or folders) on ``obs_clean`` [N, L, P, Nu, Nb], ``h`` [N, F, Nu, Nb] at uplink
    ``snr_db``; ``chunk`` realisations at a time through the sampler (its step noise:
    ``variance``)."""
    shape = data_shape(sec)
    rng = tf.random.Generator.from_seed(seed)
    y = observe(tf.constant(obs_clean), 10.0 ** (-snr_db / 10.0), sec.comb, rng)
    h = tf.constant(h)
    dm_est = ModelEstimator(dm, shape, "dm", samples=samples, variance=variance)
    sl_est = ModelEstimator(sl, shape, "sl")
    sampler = dm_est.sampler
    n = int(h.shape[0])
    cond, null, means, ev, sq_sample = [], [], [], [], 0.0
    for i in range(0, n, chunk):
        yi, hi = y[i:i + chunk], h[i:i + chunk]
        cond.append(sampler.clean_estimate(yi, snr_db, rng))
        null.append(sampler.clean_estimate(yi, snr_db, rng, drop=True))
        est = dm_est(yi, snr_db, rng)
        means.append(est["h_hat"])
        ev.append(est["err_var"])
        sq_sample += float(tf.reduce_sum(tf.abs(est["samples"] - tf.cast(hi, tf.complex64)[:, None]) ** 2)) / samples
    ref = float(tf.reduce_sum(tf.abs(h) ** 2))
    mean, cond, null = tf.concat(means, 0), tf.concat(cond, 0), tf.concat(null, 0)
    measured = float(tf.reduce_sum(tf.abs(mean - h) ** 2))
    sl_h = sl_est(y, snr_db, rng)["h_hat"]
    out = {
        "snr_db": float(snr_db), "channels": n, "samples": int(samples),
        "clean_cond": _nmse_db(cond, h),
        "clean_null": _nmse_db(null, h),
        "sample": 10.0 * math.log10(sq_sample / ref),
        "mean": _nmse_db(mean, h),
        "err_var_ratio": float(tf.reduce_sum(tf.concat(ev, 0))) / measured,
        "sl": _nmse_db(sl_h, h),
        "hold_last": _nmse_db(hold_last(y, srs_geometry(sec)), h),
        "zero": 0.0,
        "gcs_clean_cond": _gcs(cond, h), "gcs_clean_null": _gcs(null, h), "gcs_mean": _gcs(mean, h),
        "gcs_sl": _gcs(sl_h, h),
    }
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def verdicts(g: dict) -> dict:
    """``{target: (met, margin)}`` for one guard row (margin: the number compared)."""
    sl = g["sl"]
    return {
        "clean": (abs(g["clean_cond"] - sl) <= 0.5, round(g["clean_cond"] - sl, 2)),
        "sample": (abs(g["sample"] - (sl + 3.01)) <= 1.0, round(g["sample"] - (sl + 3.01), 2)),
        "mean": (abs(g["mean"] - sl) <= 0.5, round(g["mean"] - sl, 2)),
        "calibration": (0.8 <= g["err_var_ratio"] <= 1.25, round(g["err_var_ratio"], 2)),
    }


def table(rows: list[dict], label: str = "model") -> str:
    """Markdown table of guard rows (one per model and SNR) with the verdicts."""
    head = (f"| {label} | SNR | clean, condition | clean, null | one sample | mean of K | err_var_ratio | SL | "
            "hold-last | all-zero | GCS clean cond / null / mean / SL | targets met |")
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for g in rows:
        v = verdicts(g)
        met = ", ".join(f"{k} {'yes' if ok else 'NO'} ({m:+.2f})" if k != "calibration" else
                        f"{k} {'yes' if ok else 'NO'}" for k, (ok, m) in v.items())
        lines.append(f"| {g.get('model', '')} | {g['snr_db']:g} dB | {g['clean_cond']:.2f} | {g['clean_null']:.2f} | "
                     f"{g['sample']:.2f} | {g['mean']:.2f} (K = {g['samples']}) | {g['err_var_ratio']:.2f} | "
                     f"{g['sl']:.2f} | {g['hold_last']:.2f} | {g['zero']:.2f} | {_gcs_cell(g)} | {met} |")
    return "\n".join(lines)


def _gcs_cell(g: dict) -> str:
    if "gcs_sl" not in g:
        return "-"
    return " / ".join(f"{g[k]:.3f}" for k in ("gcs_clean_cond", "gcs_clean_null", "gcs_mean", "gcs_sl"))
