r"""Exact estimators of the whole channel matrix under Gaussian (mixture) priors.

``h = vec(H)`` row-major (``h[r Nt + t] = H[r, t]``, ``d = Nr Nt``) and
``y = vec(Y) = A h + n`` with ``A = I_Nr ⊗ X^T`` ([Nr Np, d]), ``n ~ CN(0, s2 I)``.
For a component ``h ~ CN(0, C_k)``:

* ``S_k = A C_k A^H + s2 I``, ``W_k = C_k A^H S_k^-1`` (the LMMSE filter);
* ``E[h | y, k] = W_k y``, ``diag Cov[h | y, k] = diag(C_k - W_k A C_k)``;
* ``log p(y | k) = -y^H S_k^-1 y - log det S_k - Nr Np log(pi)``.

A mixture weighs the components by ``r_k ∝ pi_k p(y|k)`` (the conditional mean is the
``r``-weighted mean of the component means; its variance adds the spread of the means).
Used by ``lmmse_genie`` (one component per environment, the true one picked),
``lmmse_pooled`` (one component) and ``gmm`` (a fitted mixture).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["sample_covariance", "GaussianMixtureLinear"]


def sample_covariance(h) -> np.ndarray:
    """``mean h h^H`` of [N, Nr, Nt] channels, as [d, d] complex128 (row-major vec)."""
    x = np.asarray(h).reshape(len(h), -1).astype(np.complex128)
    return x.T @ x.conj() / len(x)


def _obs_parts(cov: np.ndarray, x: np.ndarray, num_rx: int):
    """``C A^H`` [d, Nr Np] and ``A C A^H`` [Nr Np, Nr Np] for ``A = I ⊗ X^T``."""
    nt, np_ = x.shape
    c4 = cov.reshape(num_rx, nt, num_rx, nt)
    cah = np.einsum("rtsu,uq->rtsq", c4, x.conj()).reshape(num_rx * nt, num_rx * np_)
    acah = np.einsum("tp,rtsq->rpsq", x, cah.reshape(num_rx, nt, num_rx, np_)).reshape(num_rx * np_, num_rx * np_)
    return cah, acah


class GaussianMixtureLinear:
    """Posterior of ``h`` given ``y`` for a zero-mean Gaussian mixture prior and one pilot
    matrix and noise level (the filters are built once per ``(X, s2)``).

    Parameters
    ----------
    covs : [K, d, d] complex — component covariances ``C_k``
    weights : [K] — mixture weights (sum 1)
    x : [Nt, Np] complex — pilots
    noise_var : float
    num_rx : int — ``Nr``

    Input (``__call__``) : y [B, Nr, Np] complex; ``component`` [B] int (optional: use
    that component alone, the genie case)

    Output : mean [B, Nr, Nt] complex64, var [B, Nr, Nt] float32 (posterior variance per
    entry), resp [B, K] float32 (responsibilities)
    """

    def __init__(self, covs, weights, x, noise_var: float, num_rx: int):
        x = np.asarray(x).astype(np.complex128)
        self.num_rx, (self.num_tx, self.num_pilots) = int(num_rx), x.shape
        m = self.num_rx * self.num_pilots
        self.log_w = np.log(np.maximum(np.asarray(weights, np.float64), 1e-300))
        filters, post_var, prec, logdet = [], [], [], []
        for c in covs:
            cah, acah = _obs_parts(np.asarray(c), x, self.num_rx)
            s = acah + float(noise_var) * np.eye(m)
            chol = np.linalg.cholesky(0.5 * (s + s.conj().T))
            s_inv = np.linalg.inv(s)
            w = cah @ s_inv                                                       # [d, m]
            filters.append(w)
            post_var.append(np.maximum(np.real(np.diag(c) - np.einsum("im,im->i", w, cah.conj())), 0.0))
            prec.append(s_inv)
            logdet.append(2.0 * np.sum(np.log(np.real(np.diag(chol)))))
        self.w = tf.constant(np.stack(filters).astype(np.complex64))                 # [K, d, m]
        self.post_var = tf.constant(np.stack(post_var).astype(np.float32))           # [K, d]
        self.prec = tf.constant(np.stack(prec).astype(np.complex64))                 # [K, m, m]
        self.const = tf.constant((self.log_w - np.asarray(logdet)).astype(np.float32))  # [K]

    @property
    def num_components(self) -> int:
        return int(self.w.shape[0])

    def __call__(self, y, component=None):
        b = tf.shape(y)[0]
        yv = tf.reshape(tf.cast(y, tf.complex64), [b, -1])                          # [B, m]
        means = tf.einsum("kdm,bm->bkd", self.w, yv)                               # [B, K, d]
        if component is not None:
            resp = tf.one_hot(component, self.num_components, dtype=tf.float32)
        else:
            quad = tf.math.real(tf.einsum("bm,kmn,bn->bk", tf.math.conj(yv), self.prec, yv))
            resp = tf.nn.softmax(self.const[None] - quad, axis=-1)                 # [B, K]
        rc = tf.cast(resp, tf.complex64)[..., None]
        mean = tf.reduce_sum(rc * means, axis=1)                                   # [B, d]
        spread = tf.reduce_sum(resp[..., None] * tf.abs(means - mean[:, None]) ** 2, axis=1)
        var = tf.einsum("bk,kd->bd", resp, self.post_var) + spread
        shape = [b, self.num_rx, self.num_tx]
        return tf.reshape(mean, shape), tf.reshape(var, shape), resp
