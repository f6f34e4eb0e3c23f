"""Per-batch metric sums, computed in TensorFlow inside a link's compiled step: the raw
sums of :data:`linksim.metrics.STAT_KEYS` that :class:`linksim.metrics.Accumulator` turns
into values and intervals. Every sum a link reports is written here."""

from __future__ import annotations

from .metrics import STAT_KEYS

__all__ = ["zero_stats", "FINITE_CHECKS", "all_finite", "nmse_stats", "calibration_stats", "estimation_stats",
           "coding_stats", "se_stats", "gcs_stats", "gcs_per_matrix", "SSIM_WINDOW", "image_stats"]


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


def point_estimate_stats(h_hat, err_var, h) -> dict:
    """:func:`calibration_stats` of a point estimate that reports its error variance,
    :func:`nmse_stats` of one that does not (``err_var`` None)."""
    return nmse_stats(h_hat, h) if err_var is None else calibration_stats(h_hat, err_var, h)


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
