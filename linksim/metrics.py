"""Metrics: their names, the raw per-batch sums they need, and their 95 % intervals.

This module owns everything about metrics:

- :data:`METRICS`, the registry of scenario metric names (``Scenario.metrics`` takes its
  allowed values from here), with CSV columns, plot axis and a one-line description;
- :data:`STAT_KEYS`, the raw sums a link returns per receiver and batch;
- the TensorFlow functions that compute those sums (:func:`estimation_stats`,
  :func:`nmse_stats`, :func:`coding_stats`, :func:`se_stats`, :func:`zero_stats`);
  TensorFlow is imported inside them, so that the scenario schema, ``linksim plot`` and
  ``linksim compare`` can use this module without it;
- :class:`Accumulator`, which adds the per-batch sums of one receiver at one point and
  turns them into a metrics.csv row with 95 % intervals.

Intervals (95 %, ``Z = 1.96``):

- BER and BLER: Wilson score interval of ``errors`` out of ``trials`` (:func:`wilson`).
  It treats bits (blocks) as independent trials; bit errors cluster inside a block, and
  blocks of one slot share a channel, so for coded BER the interval is optimistic.
- NMSE, SE, calibration: ratios of sums, ``r = sum_b a_b / sum_b f_b`` over batches
  ``b``; the interval is ``r +- Z sqrt(var)`` with the delta-method variance of the ratio
  estimator, ``var = sum_b (a_b - r f_b)^2 / (n (n - 1) fbar^2)``, from the batch-to-batch
  spread (:func:`ratio_interval`); NaN bounds with fewer than two batches. NMSE bounds are
  converted to dB; a lower linear bound <= 0 becomes ``-inf`` dB (the interval reaches a
  perfect estimate).
- goodput: point value only; it is ``(1 - BLER)`` times a constant, so its interval is
  BLER's, mapped through ``1 - BLER``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.96


@dataclass(frozen=True)
class Metric:
    """One scenario metric.

    Attributes
    ----------
    columns : tuple[str, ...]
        Its metrics.csv columns: the value, then (if it has an interval) ``<value>_lo`` and
        ``<value>_hi``.
    sums : tuple[str, str]
        The raw per-batch sums (:data:`STAT_KEYS`) it is computed from: numerator and
        denominator.
    interval : str
        ``wilson`` (a proportion of counts), ``ratio`` (a ratio of sums, interval from the
        batch spread) or ``none``.
    label : str
        Plot axis label.
    log : bool
        Logarithmic plot axis.
    description : str
        One line for the scenario reference.
    reference : float | None
        Value drawn as a dashed reference line in its figure.
    """

    columns: tuple[str, ...]
    sums: tuple[str, str]
    interval: str
    label: str
    log: bool
    description: str
    reference: float | None = None

    @property
    def column(self) -> str:
        """The value column (also the figure's file name)."""
        return self.columns[0]

    @property
    def bounds(self) -> tuple[str, str] | None:
        """The ``(lower, upper)`` bound columns, or None."""
        return (self.columns[1], self.columns[2]) if len(self.columns) == 3 else None


def _with_bounds(col: str) -> tuple[str, str, str]:
    return (col, f"{col}_lo", f"{col}_hi")


METRICS: dict[str, Metric] = {
    "ber": Metric(_with_bounds("ber"), ("bit_errors", "bits"), "wilson", "BER", True,
                  "bit error rate of the information bits (coded bits for uncoded links); Wilson 95 % interval"),
    "bler": Metric(_with_bounds("bler"), ("block_errors", "blocks"), "wilson", "BLER", True,
                   "block error rate (LDPC codewords, or transport blocks in tb mode); Wilson 95 % interval"),
    "goodput": Metric(("goodput_mbps",), ("info_bits_ok", "slots"), "none", "Goodput [Mbit/s]", False,
                      "information bits of correctly decoded blocks per second (point value; its interval is BLER's through 1 - BLER)"),
    "nmse": Metric(_with_bounds("nmse_db"), ("nmse_err", "nmse_ref"), "ratio", "NMSE [dB]", False,
                   "10 log10 of sum /H_hat - H/^2 over sum /H/^2 (effective channel, all REs; SRS: wideband at evaluation time); 95 % interval from the batch spread"),
    "se": Metric(_with_bounds("se"), ("se_sum", "se_count"), "ratio", "Spectral efficiency [bit/s/Hz]", False,
                 "mean over REs of log2 det(I + (1/no) H_eff^H H_eff) with the true channel and the chosen precoder; 95 % interval from the batch spread"),
    "gcs": Metric(_with_bounds("gcs"), ("gcs_sum", "gcs_count"), "ratio", "GCS", False,
                  "generalised cosine similarity: mean over subcarriers (PRBs) of /tr(H_hat^H H)/ / (/H_hat/_F /H/_F) (link.mode srs_precoding); 95 % interval from the batch spread"),
    "calibration": Metric(_with_bounds("err_var_ratio"), ("ev_reported", "ev_measured"), "ratio",
                          "Reported / measured error variance", False,
                          "err_var_ratio: the receiver's reported error variance summed over data REs, over the measured sum /H_hat - H/^2 there (1 = calibrated); 95 % interval from the batch spread",
                          reference=1.0),
    "image_mse": Metric(_with_bounds("image_mse"), ("img_err", "img_pixels"), "ratio", "Image MSE", True,
                        "mean squared pixel error of the received (reconstructed) images, pixels in [0, 1] (image sources); 95 % interval from the batch spread"),
    "psnr": Metric(_with_bounds("psnr_db"), ("img_err", "img_pixels"), "ratio", "PSNR [dB]", False,
                   "10 log10(1 / image_mse): PSNR of the mean squared error over all images of the point (image sources); 95 % interval from image_mse's"),
    "ssim": Metric(_with_bounds("ssim"), ("ssim_sum", "images"), "ratio", "SSIM", False,
                   "mean SSIM per image (tf.image.ssim, 7x7 Gaussian window, sigma 1.5, pixels in [0, 1]) (image sources); 95 % interval from the batch spread"),
    "accuracy": Metric(_with_bounds("accuracy"), ("class_correct", "images"), "wilson", "Classifier accuracy", False,
                       "share of the reconstructed images that the shipped digit classifier (semantic.classifier) assigns to the digit sent (link.mode semantic); Wilson 95 % interval"),
}

IMAGE_METRICS = ("image_mse", "psnr", "ssim")  # the metrics of received (reconstructed) images

STAT_KEYS = ("bits", "bit_errors", "blocks", "block_errors", "info_bits_ok",
             "nmse_err", "nmse_ref", "se_sum", "se_count", "slots", "ev_reported", "ev_measured",
             "img_err", "img_pixels", "ssim_sum", "images", "gcs_sum", "gcs_count", "class_correct")

COUNT_COLUMNS = ["bits", "bit_errors", "blocks", "block_errors"]

# ratio metrics: value column -> (numerator sum, denominator sum)
RATIOS = {m.column: m.sums for m in METRICS.values() if m.interval == "ratio"}
DB_COLUMNS = ("nmse_db",)  # ratios written in dB
INVERSE_DB_COLUMNS = ("psnr_db",)  # ratios written as -dB (10 log10 of the inverse; the bounds swap)


def metric_names() -> tuple[str, ...]:
    """The allowed values of ``Scenario.metrics``, in registry order."""
    return tuple(METRICS)


def columns(sweep_key: str, metrics) -> list[str]:
    """metrics.csv header: receiver, swept key, raw counts, each requested metric's
    columns (in the order requested), batches."""
    cols = ["receiver", sweep_key] + COUNT_COLUMNS
    for m in metrics:
        cols += METRICS[m].columns
    return cols + ["batches"]


# --------------------------------------------------------------------------- intervals
def wilson(errors: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``errors / trials``; NaN bounds for no
    trials."""
    if trials <= 0:
        return math.nan, math.nan
    p = errors / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    # the closed form gives exactly 0 (1) at k = 0 (k = n); avoid rounding residue there
    lo = 0.0 if errors <= 0 else max(0.0, centre - half)
    hi = 1.0 if errors >= trials else min(1.0, centre + half)
    return lo, hi


def ratio_interval(n: int, sa: float, sf: float, saa: float, sff: float, saf: float,
                   z: float = Z95) -> tuple[float, float, float]:
    """Ratio of sums and its interval from per-batch numerators ``a_b`` and denominators
    ``f_b``.

    Input: number of batches ``n``, ``sum a``, ``sum f``, ``sum a^2``, ``sum f^2``,
    ``sum a f``. Output: ``(r, lo, hi)``; ``r`` is NaN if ``sum f <= 0``, the bounds are
    NaN with fewer than two batches.
    """
    if sf <= 0:
        return math.nan, math.nan, math.nan
    r = sa / sf
    if n < 2:
        return r, math.nan, math.nan
    fbar = sf / n
    spread = max(saa - 2 * r * saf + r * r * sff, 0.0)  # sum_b (a_b - r f_b)^2
    half = z * math.sqrt(spread / (n * (n - 1) * fbar * fbar))
    return r, r - half, r + half


def _db(x: float) -> float:
    """10 log10(x); -inf for x <= 0, NaN stays NaN."""
    if math.isnan(x):
        return math.nan
    return 10 * math.log10(x) if x > 0 else -math.inf


# --------------------------------------------------------------------------- accumulation
class Accumulator:
    """Raw sums of one receiver at one point, and what their intervals need.

    ``sums[k]`` adds the per-batch value of every :data:`STAT_KEYS` entry; for each ratio
    (:data:`RATIOS`) it also keeps the sums of squares and the cross product of the
    per-batch numerator and denominator (``squares[(a, b)] = sum_b a_b b_b``).
    """

    def __init__(self):
        self.sums = {k: 0.0 for k in STAT_KEYS}
        self.squares = {}
        for a, f in RATIOS.values():
            for pair in ((a, a), (f, f), (a, f)):
                self.squares[pair] = 0.0
        self.batches = 0

    def add(self, stats: dict) -> None:
        """Add one batch: ``stats`` maps STAT_KEYS to scalars."""
        for k, v in stats.items():
            self.sums[k] += float(v)
        for (a, b) in self.squares:
            self.squares[(a, b)] += float(stats.get(a, 0.0)) * float(stats.get(b, 0.0))
        self.batches += 1

    def state(self) -> dict:
        """Plain-data copy of the sums (JSON round-trips floats exactly), so that a run
        given more batches later continues from here (:meth:`from_state`)."""
        return {"batches": self.batches, "sums": dict(self.sums),
                "squares": {f"{a}*{b}": v for (a, b), v in self.squares.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "Accumulator":
        acc = cls()
        acc.batches = int(state["batches"])
        acc.sums.update({k: float(v) for k, v in state["sums"].items()})
        for key, v in state["squares"].items():
            a, _, b = key.partition("*")
            acc.squares[(a, b)] = float(v)
        return acc

    def ratio(self, column: str) -> tuple[float, float, float]:
        """``(value, lo, hi)`` of a ratio column (``nmse_db`` in linear scale)."""
        a, f = RATIOS[column]
        s = self.squares
        return ratio_interval(self.batches, self.sums[a], self.sums[f], s[(a, a)], s[(f, f)], s[(a, f)])

    def _rate(self, errors: str, trials: str) -> float:
        n = self.sums[trials]
        return self.sums[errors] / n if n > 0 else math.nan

    @property
    def ber(self) -> float:
        return self._rate("bit_errors", "bits")

    @property
    def bler(self) -> float:
        return self._rate("block_errors", "blocks")

    @property
    def nmse_db(self) -> float:
        r = self.ratio("nmse_db")[0]
        return _db(r) if r > 0 else math.nan

    @property
    def se(self) -> float:
        return self.ratio("se")[0]

    def goodput_mbps(self, slot_duration: float | None) -> float:
        time = self.sums["slots"] * (slot_duration or 0.0)
        return self.sums["info_bits_ok"] / time / 1e6 if time > 0 else math.nan

    def values(self, slot_duration: float | None) -> dict:
        """Every metric column (value and bounds) by name."""
        out = {}
        for m in METRICS.values():
            if m.interval == "wilson":
                out[m.column] = self._rate(*m.sums)
                out.update(zip(m.bounds, wilson(self.sums[m.sums[0]], self.sums[m.sums[1]])))
            elif m.interval == "ratio":
                out.update(zip(m.columns, self.ratio(m.column)))
        for col in DB_COLUMNS:
            # no estimation error at all (the genie receiver): NaN, not -inf
            ok = out[col] > 0
            for c in (col, f"{col}_lo", f"{col}_hi"):
                out[c] = _db(out[c]) if ok else math.nan
        for col in INVERSE_DB_COLUMNS:
            # error-free images: PSNR +inf (the upper bound too)
            value, lo, hi = out[col], out[f"{col}_lo"], out[f"{col}_hi"]
            out[col], out[f"{col}_lo"], out[f"{col}_hi"] = -_db(value), -_db(hi), -_db(lo)
        out["goodput_mbps"] = self.goodput_mbps(slot_duration)
        return out

    def row(self, metrics, slot_duration: float | None) -> dict:
        """CSV fields: raw counts, each requested metric's value and bounds, batches."""
        row = {c: int(self.sums[c]) for c in COUNT_COLUMNS}
        values = self.values(slot_duration)
        for m in metrics:
            for col in METRICS[m].columns:
                row[col] = values[col]
        row["batches"] = self.batches
        return row


def run_batches(link, no: float, batches: int, batch_size: int) -> dict[str, Accumulator]:
    """``batches`` Monte-Carlo batches of ``link`` at noise variance ``no``, summed per
    receiver label (for experiments and tests; the runner adds stopping rules)."""
    acc: dict[str, Accumulator] = {}
    for _ in range(batches):
        for label, stats in link.run_batch(batch_size, no).items():
            acc.setdefault(label, Accumulator()).add(stats)
    return acc
