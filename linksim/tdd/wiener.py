"""The classical predictor Card C lacks: Wiener (LMMSE) prediction of the downlink
channel at the precoding time from the whole SRS history, with the scenario's joint
space-frequency-time covariance estimated on a training set of channels.

With ``y = vec(obs)`` (every occasion, sounded PRB and antenna pair; noise variance
``s2`` per entry) and ``h = vec(target)``:
``h_hat = R_hy (R_yy + s2 I)^-1 y`` and the error covariance
``R_hh - R_hy (R_yy + s2 I)^-1 R_yh``, whose diagonal is the reported error variance.
The channels have zero mean (uniform phases), so no mean is removed. Under a Gaussian
model, ``CN(h_hat, error covariance)`` is the posterior: :meth:`WienerPredictor.sample`
draws from it (the Bayesian precoder of a classical estimator).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class WienerPredictor:
    """Input of :meth:`__call__`: ``obs`` [B, L, P, Nu, Nb] complex, ``s2`` the observation
    noise variance per entry. Output: ``(h_hat [B, F, Nu, Nb], err_var [F, Nu, Nb])``.

    Parameters
    ----------
    obs, target : training channels [N, L, P, Nu, Nb] and [N, F, Nu, Nb] (noise-free)
    """

    def __init__(self, obs: np.ndarray, target: np.ndarray):
        n = len(obs)
        y = obs.reshape(n, -1).astype(np.complex128)
        h = target.reshape(n, -1).astype(np.complex128)
        self.target_shape = target.shape[1:]
        self.r_yy = y.T @ y.conj() / n          # E[y y^H]
        self.r_hy = h.T @ y.conj() / n          # E[h y^H]
        self.r_hh = h.T @ h.conj() / n          # E[h h^H]
        self.r_hh_diag = np.real(np.diag(self.r_hh))
        self._cache = {}
        self._factor = {}

    def filter(self, s2: float):
        """``(W [Dh, Dy], err_var [Dh])`` at observation noise variance ``s2``."""
        key = round(float(s2), 15)
        if key not in self._cache:
            a = self.r_yy + s2 * np.eye(len(self.r_yy))
            w = np.linalg.solve(a, self.r_hy.conj().T).conj().T    # R_hy A^-1 (A Hermitian)
            err = self.r_hh_diag - np.real(np.sum(w * self.r_hy.conj(), axis=1))
            self._cache = {key: (w.astype(np.complex64), np.maximum(err, 0.0).astype(np.float32))}
        return self._cache[key]

    def sample(self, h_hat, s2: float, k: int, rng):
        """``k`` draws of ``CN(h_hat, error covariance)``: [B, k, F, Nu, Nb] complex64
        (``h_hat`` [B, F, Nu, Nb] from :meth:`__call__` at the same ``s2``)."""
        key = round(float(s2), 15)
        if key not in self._factor:
            w, _ = self.filter(s2)
            cov = self.r_hh - w.astype(np.complex128) @ self.r_hy.conj().T
            cov = (cov + cov.conj().T) / 2
            vals, vecs = np.linalg.eigh(cov)
            self._factor = {key: (vecs * np.sqrt(np.maximum(vals, 0.0))).astype(np.complex64)}  # cov = A A^H
        a = tf.constant(self._factor[key])
        b = int(h_hat.shape[0])
        d = a.shape[0]
        z = tf.complex(rng.normal([b, k, d]), rng.normal([b, k, d])) / np.sqrt(2.0)
        e = tf.matmul(z, a, transpose_b=True)                                  # rows ~ CN(0, A A^H)
        return h_hat[:, None] + tf.reshape(e, [b, k, *self.target_shape])

    def __call__(self, obs, s2: float):
        w, err = self.filter(s2)
        b = int(obs.shape[0])
        y = tf.reshape(tf.cast(obs, tf.complex64), [b, -1])
        h = tf.matmul(y, tf.constant(w), transpose_b=True)
        return tf.reshape(h, [b, *self.target_shape]), tf.constant(err.reshape(self.target_shape))
