"""Precoders: SVD (dominant right singular vectors), ZF/RZF (Sionna's matrix),
and the spectral efficiency of a precoded link.

All functions work on per-resource-element channel matrices ``h`` of shape
``[..., num_rx_ant, num_tx_ant]`` and return precoders ``[..., num_tx_ant, num_streams]``.
"""

from __future__ import annotations

import tensorflow as tf
from sionna.phy.mimo import rzf_precoding_matrix


def svd_precoder(h, num_streams: int):
    """``F = V[:, :num_streams]`` with unit-norm columns; each column's phase is fixed
    (first entry real, non-negative) so that F varies smoothly over frequency."""
    _, _, v = tf.linalg.svd(h)
    f = v[..., :num_streams]
    first = f[..., :1, :]
    phase = tf.math.divide_no_nan(tf.math.conj(first), tf.cast(tf.abs(first), first.dtype))
    return f * phase


def expected_gramian_precoder(h_samples, num_streams: int, axis: int = 0, jitter: float = 0.0):
    """Bayesian precoder: dominant eigenvectors of ``G = mean_k H_k^H H_k`` over the
    sample axis (K = 1 is SVD precoding of one estimate).

    ``jitter`` adds ``jitter * mean(diag G) * diag(1/Nb, 2/Nb, ..., 1)`` to ``G``: it
    splits equal (e.g. zero) eigenvalues before the eigendecomposition (Card C's E2E
    trains through it)."""
    g = tf.reduce_mean(tf.matmul(h_samples, h_samples, adjoint_a=True), axis=axis)
    if jitter:
        nb = g.shape[-1]
        scale = tf.reduce_mean(tf.math.real(tf.linalg.diag_part(g)), axis=-1, keepdims=True)
        ramp = tf.range(1, nb + 1, dtype=scale.dtype) / nb
        g = g + tf.linalg.diag(tf.cast(jitter * scale * ramp, g.dtype))
    _, vecs = tf.linalg.eigh(g)
    f = tf.reverse(vecs, axis=[-1])[..., :num_streams]
    first = f[..., :1, :]
    phase = tf.math.divide_no_nan(tf.math.conj(first), tf.cast(tf.abs(first), first.dtype))
    return f * phase


def rzf_precoder(h, alpha: float = 0.0):
    """(R)ZF precoder with unit-norm columns (one stream per receive antenna)."""
    return rzf_precoding_matrix(h, alpha)


def identity_precoder(h, num_streams: int):
    """No precoding: stream i on tx antenna i."""
    shape = tf.concat([tf.shape(h)[:-2], [tf.shape(h)[-1], num_streams]], 0)
    eye = tf.eye(tf.shape(h)[-1], num_streams, dtype=h.dtype)
    return tf.broadcast_to(eye, shape)


def spectral_efficiency(h_eff, snr):
    """``log2 det(I + snr/Ns H_eff^H H_eff)`` per RE [bit/s/Hz].

    Input
    -----
    h_eff : [..., num_rx_ant, num_streams], tf.complex
        Channel after precoding (true channel).
    snr : scalar tf.float
        Transmit SNR (total power 1 / noise variance), split evenly over the streams.
    """
    ns = tf.shape(h_eff)[-1]
    g = tf.matmul(h_eff, h_eff, adjoint_a=True)
    scale = tf.cast(snr / tf.cast(ns, snr.dtype), g.dtype)
    m = tf.eye(ns, dtype=g.dtype) + scale * g
    return tf.math.real(tf.linalg.logdet(m)) / tf.math.log(tf.constant(2.0, snr.dtype))
