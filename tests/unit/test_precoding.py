"""Precoders and spectral efficiency against NumPy."""

import numpy as np
import tensorflow as tf

from linksim import precoding


def _channels(shape, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)).astype(np.complex64)


def test_svd_precoder_spans_dominant_right_singular_vectors():
    h = _channels([5, 2, 4])
    f = precoding.svd_precoder(tf.constant(h), 2).numpy()
    for k in range(h.shape[0]):
        v = np.linalg.svd(h[k])[2].conj().T[:, :2]
        # same column spaces, unit-norm columns, first entry real and >= 0
        np.testing.assert_allclose(np.abs(v.conj().T @ f[k]), np.eye(2), atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(f[k], axis=0), 1.0, atol=1e-5)
        assert np.all(np.abs(f[k][0].imag) < 1e-5) and np.all(f[k][0].real >= 0)


def test_expected_gramian_precoder_reduces_to_svd_for_one_sample():
    h = _channels([3, 2, 4], seed=1)
    f_svd = precoding.svd_precoder(tf.constant(h), 2).numpy()
    f_bayes = precoding.expected_gramian_precoder(tf.constant(h[None]), 2, axis=0).numpy()
    np.testing.assert_allclose(f_bayes, f_svd, atol=1e-4)


def test_expected_gramian_precoder_uses_the_mean_gramian():
    samples = _channels([16, 2, 4], seed=2)  # K samples of one channel
    f = precoding.expected_gramian_precoder(tf.constant(samples), 1, axis=0).numpy()
    g = np.mean([s.conj().T @ s for s in samples], axis=0)
    top = np.linalg.eigh(g)[1][:, -1:]
    np.testing.assert_allclose(np.abs(top.conj().T @ f), [[1.0]], atol=1e-4)


def test_spectral_efficiency_matches_logdet():
    h = _channels([4, 3, 2], seed=3)
    snr = 7.0
    se = precoding.spectral_efficiency(tf.constant(h), tf.constant(snr, tf.float32)).numpy()
    ref = [np.log2(np.linalg.det(np.eye(2) + snr / 2 * hk.conj().T @ hk).real) for hk in h]
    np.testing.assert_allclose(se, ref, rtol=1e-4)
