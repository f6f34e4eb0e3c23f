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


# --------------------------------------------------------------------------- per-batch sums (TF)
def zero_stats() -> dict:
    """Every STAT_KEYS entry as a float64 zero scalar (a link fills what it measures)."""
    import tensorflow as tf

    return {k: tf.zeros([], tf.float64) for k in STAT_KEYS}


#: The per-row flags a link sets (1.0: finite) and the output each one checks; the link
#: turns a 0 into :class:`~linksim.errors.NonFiniteOutput` before any result is kept.
FINITE_CHECKS = {"finite": "h_hat or err_var", "finite_image": "reconstructed image"}


def all_finite(*tensors):
    """True (a tf.bool scalar) when no entry of the tensors is NaN or inf (complex: in
    either part)."""
    import tensorflow as tf

    ok = tf.constant(True)
    for t in tensors:
        t = tf.convert_to_tensor(t)
        parts = (tf.math.real(t), tf.math.imag(t)) if t.dtype.is_complex else (t,)
        for p in parts:
            ok = tf.logical_and(ok, tf.reduce_all(tf.math.is_finite(p)))
    return ok


def _sq_err(h_hat, h):
    import tensorflow as tf

    return tf.cast(tf.abs(h_hat - h) ** 2, tf.float64)


def nmse_stats(h_hat, h) -> dict:
    """NMSE sums over every element.

    Input: ``h_hat``, ``h`` complex, same shape. Output: ``nmse_err = sum |h_hat - h|^2``,
    ``nmse_ref = sum |h|^2``, float64 scalars.
    """
    import tensorflow as tf

    return {"nmse_err": tf.reduce_sum(_sq_err(h_hat, h)),
            "nmse_ref": tf.reduce_sum(tf.cast(tf.abs(h) ** 2, tf.float64))}


def calibration_stats(h_hat, err_var, h) -> dict:
    """NMSE and error-variance sums over every element (links without data REs:
    narrowband, SRS precoding).

    Input: ``h_hat``, ``h`` complex, same shape; ``err_var`` float, broadcastable to
    ``h_hat``. Output: :func:`nmse_stats` and ``ev_reported = sum of err_var``,
    ``ev_measured = sum |h_hat - h|^2`` (= ``nmse_err``), float64 scalars.
    """
    import tensorflow as tf

    stats = nmse_stats(h_hat, h)
    stats["ev_reported"] = tf.reduce_sum(tf.broadcast_to(tf.cast(err_var, tf.float64), tf.shape(h_hat)))
    stats["ev_measured"] = stats["nmse_err"]
    return stats


def estimation_stats(h_hat, err_var, h, data_mask) -> dict:
    """Channel-estimate sums: NMSE over all REs, calibration over data REs.

    Input
    -----
    h_hat, h : [B, 1, Nr, 1, Ns, S, F], complex — estimate and true (effective) channel.
    err_var : broadcastable to ``h_hat``, float — the receiver's reported error variance
        (a scalar, or e.g. [1, 1, Nr, 1, Ns, S, F]).
    data_mask : [Ns, S, F], float — 1 on the data REs of each stream.

    Output
    ------
    dict of float64 scalars: ``nmse_err``, ``nmse_ref`` (:func:`nmse_stats`),
    ``ev_reported = sum over data REs of err_var``, ``ev_measured = sum over data REs of
    |h_hat - h|^2``.
    """
    import tensorflow as tf

    mask = tf.cast(data_mask, tf.float64)
    err = _sq_err(h_hat, h)
    reported = tf.broadcast_to(tf.cast(err_var, tf.float64), tf.shape(h_hat))
    stats = nmse_stats(h_hat, h)
    stats["ev_reported"] = tf.reduce_sum(reported * mask)
    stats["ev_measured"] = tf.reduce_sum(err * mask)
    return stats


def coding_stats(b, b_hat, blocks_per_slot: int, info_bits_per_block: int) -> dict:
    """Error counts of decoded bits.

    Input: ``b``, ``b_hat`` [..., k] — sent and decoded bits, one block per last-axis row
    (when ``blocks_per_slot > 0``). Output: float64 scalars ``bits``, ``bit_errors`` and,
    for coded links, ``blocks``, ``block_errors`` and ``info_bits_ok`` (information bits
    of correctly decoded blocks).
    """
    import tensorflow as tf

    err = tf.cast(tf.not_equal(b, b_hat), tf.float64)
    stats = {"bits": tf.cast(tf.size(b), tf.float64), "bit_errors": tf.reduce_sum(err)}
    if blocks_per_slot:
        block_err = tf.reduce_any(err > 0, axis=-1)
        blocks = tf.cast(tf.size(block_err), tf.float64)
        n_err = tf.reduce_sum(tf.cast(block_err, tf.float64))
        stats.update(blocks=blocks, block_errors=n_err, info_bits_ok=(blocks - n_err) * info_bits_per_block)
    return stats


def se_stats(se) -> dict:
    """Input: ``se`` [...] spectral efficiency per RE. Output: ``se_sum``, ``se_count``."""
    import tensorflow as tf

    return {"se_sum": tf.reduce_sum(tf.cast(se, tf.float64)), "se_count": tf.cast(tf.size(se), tf.float64)}


def gcs_stats(h_hat, h) -> dict:
    """Generalised cosine similarity per matrix: ``h_hat``, ``h`` [..., M, N] complex.
    Output: ``gcs_sum`` (sum over the leading axes of /tr(h_hat^H h)/ / (/h_hat/_F /h/_F),
    0 where ``h_hat`` is all zero) and ``gcs_count``."""
    import tensorflow as tf

    gcs = tf.cast(gcs_per_matrix(h_hat, h), tf.float64)
    return {"gcs_sum": tf.reduce_sum(gcs), "gcs_count": tf.cast(tf.size(gcs), tf.float64)}


def gcs_per_matrix(a, b):
    """/tr(a^H b)/ / (/a/_F /b/_F) per matrix [..., M, N] -> [...] (real; 0 where a norm is 0)."""
    import tensorflow as tf

    inner = tf.abs(tf.reduce_sum(tf.math.conj(a) * b, axis=[-2, -1]))
    norms = tf.sqrt(tf.reduce_sum(tf.abs(a) ** 2, axis=[-2, -1]) * tf.reduce_sum(tf.abs(b) ** 2, axis=[-2, -1]))
    return tf.math.divide_no_nan(inner, norms)


SSIM_WINDOW = {"filter_size": 7, "filter_sigma": 1.5}  # 8x8 images: TF's default 11x11 window does not fit


def image_stats(x_hat, x) -> dict:
    """Image-quality sums of a batch of images.

    Input: ``x_hat``, ``x`` [M, H, W], float in [0, 1] — received (reconstructed) and sent
    images. Output: float64 scalars ``img_err = sum (x_hat - x)^2``, ``img_pixels``,
    ``ssim_sum`` (sum over images of ``tf.image.ssim`` with :data:`SSIM_WINDOW`) and
    ``images``.
    """
    import tensorflow as tf

    x_hat = tf.cast(x_hat, tf.float32)
    x = tf.cast(x, tf.float32)
    ssim = tf.image.ssim(x_hat[..., None], x[..., None], max_val=1.0, **SSIM_WINDOW)
    return {"img_err": tf.reduce_sum(tf.cast(tf.square(x_hat - x), tf.float64)),
            "img_pixels": tf.cast(tf.size(x), tf.float64),
            "ssim_sum": tf.reduce_sum(tf.cast(ssim, tf.float64)),
            "images": tf.cast(tf.shape(x)[0], tf.float64)}
