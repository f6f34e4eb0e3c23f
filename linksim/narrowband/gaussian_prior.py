r"""Exact-Gaussian check of the pilot-link posterior samplers.

Rows of ``H`` i.i.d. ``CN(0, C)`` with a rank-``r`` covariance (``tr C = Nt``, unit
average power per entry). Everything is closed form:

* prior noise prediction at ``h_t = a h_0 + b xi``:
  :math:`\hat\epsilon = b\,S^{-1}h_t`, :math:`S = a^2 C + b^2 I` (so the prior score is
  :math:`-S^{-1}h_t = -\hat\epsilon/b`);
* the LMMSE estimate :math:`\hat h_r = C A^H (A C A^H + \sigma^2 I)^{-1} y_r` and its
  error, the lower bound any sampler is compared with.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .pilots import complex_normal

__all__ = ["low_rank_covariance", "GaussianRowPrior", "GaussianMatrixPrior"]


def low_rank_covariance(num_tx: int, rank: int, seed: int = 0, floor: float = 1e-3) -> np.ndarray:
    """Hermitian covariance with ``rank`` equal dominant eigenvalues, a small ``floor`` on the
    rest (so the LMMSE problem stays well posed), random unitary eigenvectors, ``tr C = Nt``.

    Output
    ------
    cov : [num_tx, num_tx], np.complex128
    """
    if not 1 <= rank <= num_tx:
        raise ValueError(f"rank must lie in 1..{num_tx}")
    rs = np.random.default_rng(seed)
    g = rs.standard_normal((num_tx, num_tx)) + 1j * rs.standard_normal((num_tx, num_tx))
    q, r = np.linalg.qr(g)
    q = q * (np.diag(r) / np.abs(np.diag(r)))
    lam = np.full(num_tx, floor)
    lam[:rank] = 1.0
    lam *= num_tx / lam.sum()
    cov = (q * lam) @ q.conj().T
    return 0.5 * (cov + cov.conj().T)


class GaussianRowPrior:
    r"""``h_r ~ CN(0, C)`` for every row; exact noise prediction and LMMSE.

    Parameters
    ----------
    cov : [Nt, Nt], complex
    dtype : tf.complex64 | tf.complex128
    """

    def __init__(self, cov, dtype=tf.complex128):
        self.dtype = dtype
        self.cov = tf.constant(np.asarray(cov), dtype=dtype)
        self.num_tx = int(self.cov.shape[0])
        lam, q = np.linalg.eigh(np.asarray(cov))
        self._root = tf.constant(q * np.sqrt(np.maximum(lam, 0.0)), dtype=dtype)  # C = R R^H

    def sample(self, shape, rng: tf.random.Generator) -> tf.Tensor:
        """Draws with rows ``CN(0, C)``; ``shape = [..., Nr]`` -> [..., Nr, Nt]."""
        z = complex_normal(list(shape) + [self.num_tx], rng, self.dtype)
        return tf.matmul(z, self._root, transpose_b=True)

    def eps(self, h_t, a, b):
        r"""Exact :math:`E[\xi|h_t]` for ``h_t = a h_0 + b xi``; [..., Nr, Nt] -> same."""
        a = tf.cast(a, self.dtype)
        b = tf.cast(b, self.dtype)
        s = a * a * self.cov + b * b * tf.eye(self.num_tx, dtype=self.dtype)
        # rows: (S^{-1} h_r)^T = h_r^T S^{-T} = h_r^T conj(S^{-1})  (S is Hermitian)
        return b * tf.matmul(h_t, tf.math.conj(tf.linalg.inv(s)))

    def _lmmse_parts(self, op, noise_var):
        """``C A^H`` [Nt, Np] and ``A C A^H + s2 I`` [Np, Np] for ``A = X^T``."""
        a = tf.transpose(tf.cast(op.x, self.dtype))
        cah = tf.matmul(self.cov, a, adjoint_b=True)
        gram = tf.matmul(a, cah) + tf.cast(noise_var, self.dtype) * tf.eye(op.num_pilots, dtype=self.dtype)
        return cah, gram

    def lmmse(self, y, op, noise_var):
        r"""LMMSE estimate of ``H`` from ``Y`` ([..., Nr, Np]) through ``op`` (:class:`PilotOperator`)."""
        cah, gram = self._lmmse_parts(op, noise_var)
        w = tf.matmul(cah, tf.linalg.inv(gram))                            # W = C A^H (A C A^H + s2 I)^-1
        return tf.matmul(tf.cast(y, self.dtype), w, transpose_b=True)     # rows: W y_r

    def lmmse_nmse(self, op, noise_var) -> float:
        """Expected NMSE of :meth:`lmmse` (per row, averaged over rows): ``tr(C - W A C)/tr C``."""
        cah, gram = self._lmmse_parts(op, noise_var)
        err = self.cov - tf.matmul(cah, tf.linalg.solve(gram, tf.linalg.adjoint(cah)))
        return float(tf.math.real(tf.linalg.trace(err)) / tf.math.real(tf.linalg.trace(self.cov)))


class GaussianMatrixPrior:
    r"""``vec(H) ~ CN(0, C)`` (row-major ``vec``, ``d = Nr Nt``) with
    ``C = U diag(lam) U^H + floor (I - U U^H)``: ``U`` [d, R] orthonormal eigenvectors
    (all ``d`` of them, or the dominant ones with the rest at the mean level ``floor``);
    draws and the exact noise prediction of every diffusion step. A row prior
    ``CN(0, C_r)`` is the case ``C = I_Nr ⊗ C_r``. It is the exact-prior harness of the
    samplers and the Gaussian backbone of narrowband diffusion models
    (:meth:`to_mixture` / :meth:`from_mixture` store it as a one-component
    :class:`~linksim.diffusion.gmm.GaussianMixturePrior`).

    Parameters
    ----------
    cov : [d, d], complex (Hermitian, PSD)
    shape : (Nr, Nt), ``Nr Nt = d``
    dtype : tf.complex64 | tf.complex128
    energy_tol : keep the fewest eigenvectors that leave at most this share of the energy
        outside ``U`` (None: all ``d``)
    """

    def __init__(self, cov, shape, dtype=tf.complex64, energy_tol: float | None = None):
        cov = np.asarray(cov, dtype=np.complex128)
        lam, q = np.linalg.eigh(0.5 * (cov + cov.conj().T))
        lam, q = np.maximum(lam[::-1], 0.0), q[:, ::-1]
        rank, floor = len(lam), 0.0
        if energy_tol is not None:
            tail = np.concatenate([np.cumsum(lam[::-1])[::-1][1:], [0.0]])      # energy beyond each rank
            rank = int(np.argmax(tail <= energy_tol * lam.sum())) + 1
            floor = float(tail[rank - 1] / (len(lam) - rank)) if rank < len(lam) else 0.0
        self._set(q[:, :rank], lam[:rank], floor, shape, dtype)

    def _set(self, q, lam, floor, shape, dtype):
        self.shape, self.dtype = tuple(int(v) for v in shape), dtype
        self.lam, self.floor = np.asarray(lam, np.float64), float(floor)
        self.basis = np.asarray(q)
        self._q = tf.constant(self.basis, dtype=dtype)
        self._root = tf.constant(self.basis * np.sqrt(self.lam), dtype=dtype)

    @classmethod
    def from_mixture(cls, prior, dtype=tf.complex64) -> "GaussianMatrixPrior":
        """From a one-component :class:`~linksim.diffusion.gmm.GaussianMixturePrior`
        whose factor is diagonal (as :meth:`to_mixture` writes it)."""
        chol = np.asarray(prior.chol)
        if chol.shape[0] != 1 or np.abs(chol[0] - np.diag(np.diag(chol[0]))).max() > 0:
            raise ValueError("a Gaussian backbone is one component with a diagonal factor")
        self = cls.__new__(cls)
        self._set(prior.basis, np.abs(np.diag(chol[0])) ** 2, prior.floor, prior.data_shape, dtype)
        return self

    def to_mixture(self, info=None):
        """This prior as a one-component :class:`~linksim.diffusion.gmm.GaussianMixturePrior`
        (complex64 basis, diagonal factor) for a checkpoint's ``prior.npz``."""
        from ..diffusion.gmm import GaussianMixturePrior

        chol = np.diag(np.sqrt(self.lam)).astype(np.complex64)[None]
        return GaussianMixturePrior(self.basis.astype(np.complex64), chol, [1.0], self.floor, self.shape, info)

    @property
    def rank(self) -> int:
        return len(self.lam)

    def covariance(self) -> np.ndarray:
        """``C`` [d, d] complex128."""
        q = self.basis.astype(np.complex128)
        return (q * self.lam) @ q.conj().T + self.floor * (np.eye(len(q)) - q @ q.conj().T)

    def sample(self, n: int, rng: tf.random.Generator) -> tf.Tensor:
        """``n`` draws: [n, Nr, Nt]."""
        d = int(self._q.shape[0])
        z = complex_normal([n, self.rank], rng, self.dtype)
        v = tf.matmul(z, self._root, transpose_b=True)
        if self.floor > 0:
            w = complex_normal([n, d], rng, self.dtype, self.floor)
            v += w - tf.matmul(tf.matmul(w, tf.math.conj(self._q)), self._q, transpose_b=True)
        return tf.reshape(v, [n, *self.shape])

    def eps(self, h_t, a, b):
        r"""Exact :math:`E[\xi|h_t] = b S^{-1} h_t`, :math:`S = a^2 C + b^2 I`; [B, Nr, Nt] -> same.
        ``a``, ``b``: python floats, scalars or [B] tensors (one step per channel)."""
        v = tf.reshape(tf.cast(h_t, self.dtype), [tf.shape(h_t)[0], -1])
        real = self.dtype.real_dtype
        a, b = tf.reshape(tf.cast(a, real), [-1, 1]), tf.reshape(tf.cast(b, real), [-1, 1])
        inv = b / (a * a * tf.constant(self.lam, real) + b * b)                   # [R]
        coef = tf.matmul(v, tf.math.conj(self._q))                                # row form of U^H v
        out = tf.matmul(coef * tf.cast(inv, self.dtype), self._q, transpose_b=True)
        if self.rank < int(self._q.shape[0]):                                     # the complement, level floor
            inv_f = tf.cast(b / (a * a * self.floor + b * b), self.dtype)
            out += inv_f * (v - tf.matmul(coef, self._q, transpose_b=True))
        return tf.cast(tf.reshape(out, tf.shape(h_t)), h_t.dtype)
