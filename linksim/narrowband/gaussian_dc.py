r"""Data consistency through a Gaussian posterior covariance: the step of the default
narrowband posterior sampler (:func:`~linksim.narrowband.samplers.consistent_sample`).

``h = vec(H)`` row-major (``d = Nr Nt``), ``y = vec(Y) = A h + n`` with
``A = I_Nr ⊗ X^T`` (``m = Nr Np`` rows), ``n ~ CN(0, s2 I)``. For a diffusion state
``h_t = a h_0 + b xi`` and a Gaussian surrogate prior ``h_0 ~ CN(0, C)``,
``C = Q diag(lam) Q^H``:

.. math::
    \Sigma_t = \mathrm{Cov}[h_0|h_t] = Q\,\mathrm{diag}(g_t)\,Q^H,\qquad
    g_t = \frac{\lambda b^2}{a^2\lambda + b^2},

and with the prior's Tweedie mean ``mu = E[h_0 | h_t]`` (from the network, or exact):

.. math::
    E[h_0|h_t, y] = \mu + K_t (y - A\mu),\qquad
    K_t = \Sigma_t A^H (A \Sigma_t A^H + s_2 I)^{-1}.

A draw from ``p(h_0 | h_t, y)`` by perturb-and-update: ``h' = mu + Q (sqrt(g_t) z)``,
``n' ~ CN(0, s2 I)``, ``h_0 = h' + K_t (y - A h' - n')``.

Both are exact when the prior *is* the Gaussian ``CN(0, C)`` (then the sampler's chain is
the exact posterior's, whatever its step count). For a learned prior ``mu`` is the
network's and ``Sigma_t`` the Gaussian fit of its training set: a covariance that is right
to second order, where Card B's likelihood uses ``(b/a)^2 I`` (a flat prior) and the
Tweedie-trace one an isotropic ``r_t^2 I``; both overstate the uncertainty of ``h_0`` in
the directions a low-rank prior rules out, so data consistency comes too late
(``results/reference/card_b_sampler_exact/``).

A mixture of surrogates (one per expert, DM-VB) combines the components' updates with the
expert weights ``r`` (exact for a one-hot ``r``); :class:`GaussianEvidence` gives each
surrogate's evidence ``log p(y | k)``, ``y ~ CN(0, A C_k A^H + s2 I)`` (DM-VB's start).

The gains are kept factorised, never formed: per pilot matrix ``B = A Q`` [m, d], and per
step the Cholesky factor ``L_t`` of ``M_t = B G_t B^H + s2 I`` [m, m] (built once per pilot
matrix, noise level and step list in float64: ``M_t`` has a condition number up to ``1e6``
at 30 dB), so that ``K_t r = Q G_t B^H M_t^{-1} r`` costs ``m^2 d`` a step to build and
``m^2 + m d + d^2`` a residual to apply (forming ``K_t`` [d, m] cost about four times more
to build; ``benchmarks/card_b_gain_build.py``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..data.cache import default_cache_dir, load_or_make
from .pilots import complex_normal

__all__ = ["GaussianSurrogate", "GaussianConsistency", "GaussianEvidence"]

_SURROGATES: dict = {}  # digest -> GaussianSurrogate, kept for the process


class GaussianSurrogate:
    """``CN(0, C)`` of ``vec(H)`` by its eigendecomposition (eigenvalues clipped at 0).

    Parameters
    ----------
    cov : [d, d] complex, Hermitian
    """

    def __init__(self, cov):
        cov = np.asarray(cov, dtype=np.complex128)
        lam, q = np.linalg.eigh(0.5 * (cov + cov.conj().T))
        self.lam = np.maximum(lam, 0.0)
        self.q = q

    @classmethod
    def cached(cls, cov, cache_dir=None) -> "GaussianSurrogate":
        """The surrogate of ``cov`` with its eigendecomposition kept for the process and on
        disk in :func:`linksim.data.cache.default_cache_dir`, keyed by the covariance's
        bytes (at ``d = 1024`` one decomposition takes seconds, and every link built from a
        model needs the same one). Equal to ``GaussianSurrogate(cov)``, bit for bit."""
        cov = np.ascontiguousarray(cov, dtype=np.complex128)
        digest = hashlib.sha256(repr(cov.shape).encode() + cov.tobytes()).hexdigest()[:24]
        if digest in _SURROGATES:
            return _SURROGATES[digest]
        def read(path):
            out = cls.__new__(cls)
            with np.load(path, allow_pickle=False) as f:
                out.lam, out.q = f["lam"], f["q"]
            return out if out.lam.shape == cov.shape[:1] and out.q.shape == cov.shape else None

        out = load_or_make(Path(cache_dir or default_cache_dir()) / f"surrogate-{digest}.npz", lambda: cls(cov), read,
                           lambda f, out: np.savez(f, lam=out.lam, q=out.q))
        out.lam.flags.writeable = out.q.flags.writeable = False   # shared by every receiver that asks
        while len(_SURROGATES) >= 8:
            _SURROGATES.pop(next(iter(_SURROGATES)))
        _SURROGATES[digest] = out
        return out

    @property
    def dim(self) -> int:
        return len(self.lam)

    def posterior_var(self, a: float, b: float) -> np.ndarray:
        """``g_t`` [d]: the eigenvalues of ``Cov[h_0 | a h_0 + b xi]``."""
        return self.lam * b * b / (a * a * self.lam + b * b)


def _observe_columns(q: np.ndarray, x: np.ndarray, num_rx: int) -> np.ndarray:
    """``A Q`` [m, d] for ``A = I_Nr ⊗ X^T`` (row-major ``vec``): each column of ``Q``
    read as an ``[Nr, Nt]`` matrix ``H_j``, mapped to ``vec(H_j X)``."""
    d = q.shape[1]
    cols = q.T.reshape(d, num_rx, x.shape[0]) @ x            # [d, Nr, Np]
    return cols.reshape(d, -1).T


class GaussianConsistency:
    """The gains ``K_t`` of one pilot matrix and noise level for the steps of a sampler.

    Parameters
    ----------
    surrogates : list of :class:`GaussianSurrogate` (one per expert; one for a single prior)
    x : [Nt, Np] complex — pilots
    noise_var : float
    num_rx : int — ``Nr``
    alpha_bar : [T+1] — ``alpha_bar[0] = 1``
    steps : list of int — the diffusion steps at which :meth:`mean` / :meth:`sample` are
        called (each in ``1..T``)
    """

    def __init__(self, surrogates, x, noise_var: float, num_rx: int, alpha_bar, steps):
        x = np.asarray(x).astype(np.complex128)
        self.num_rx, (self.num_tx, self.num_pilots) = int(num_rx), x.shape
        m = self.num_rx * self.num_pilots
        self.noise_var = float(noise_var)
        self._x = tf.constant(x.astype(np.complex64))
        self._chol, self._var, self._root, self._q, self._obs = {}, {}, {}, [], []
        eye = self.noise_var * np.eye(m)
        for s in surrogates:
            if s.dim != self.num_rx * self.num_tx:
                raise ValueError(f"surrogate of dimension {s.dim}, expected Nr Nt = {self.num_rx * self.num_tx}")
            aq = _observe_columns(s.q, x, self.num_rx)        # B = A Q  [m, d]
            self._q.append(tf.constant(s.q))
            self._obs.append(tf.constant(aq))
            for t in steps:
                a, b = float(np.sqrt(alpha_bar[t])), float(np.sqrt(1.0 - alpha_bar[t]))
                g = s.posterior_var(a, b)
                r = aq * np.sqrt(g)
                chol = np.linalg.cholesky(r @ r.conj().T + eye)                  # M_t = L L^H
                self._chol.setdefault(t, []).append(tf.constant(chol))
                self._var.setdefault(t, []).append(tf.constant(g.astype(np.complex128)[:, None]))
                self._root.setdefault(t, []).append(tf.constant(np.sqrt(g).astype(np.float32)))

    @property
    def num_components(self) -> int:
        return len(self._q)

    def _vec(self, h):
        return tf.reshape(h, [tf.shape(h)[0], -1])

    def _gain(self, k: int, t: int, resid):
        """``K_{t,k} resid`` [B, d] (complex128) for ``resid`` [B, m] complex128."""
        z = tf.linalg.cholesky_solve(self._chol[t][k], tf.transpose(resid))           # M^-1 r   [m, B]
        u = self._var[t][k] * tf.matmul(self._obs[k], z, adjoint_a=True)             # G B^H M^-1 r  [d, B]
        return tf.transpose(tf.matmul(self._q[k], u))

    def _update(self, base, resid, t, weights):
        """``base + sum_k r_k K_{t,k} resid`` with ``resid`` [B, m]; output [B, d]."""
        resid = tf.cast(resid, tf.complex128)
        out = base
        for k in range(self.num_components):
            corr = tf.cast(self._gain(k, t, resid), base.dtype)
            out += corr if weights is None else tf.cast(weights[:, k:k + 1], corr.dtype) * corr
        return out

    def _residual(self, y, h):
        """``vec(Y - H X)`` [B, m] for ``h`` [B, Nr, Nt]."""
        return self._vec(tf.cast(y, h.dtype)) - self._vec(tf.matmul(h, tf.cast(self._x, h.dtype)))

    def mean(self, mu, y, t: int, weights=None):
        """``E[h_0 | h_t, y]`` [B, Nr, Nt] from the prior mean ``mu`` [B, Nr, Nt] and ``y``
        [B, Nr, Np]; ``weights`` [B, K] mixes the components (None: one component)."""
        out = self._update(self._vec(mu), self._residual(y, mu), t, weights)
        return tf.reshape(out, tf.shape(mu))

    def sample(self, mu, y, t: int, rng: tf.random.Generator, weights=None):
        """A draw from ``p(h_0 | h_t, y)`` (perturb and update), same shapes as :meth:`mean`."""
        shape = tf.shape(mu)
        base = self._vec(mu)
        z = complex_normal(tf.shape(base), rng, mu.dtype)
        for k, (q, root) in enumerate(zip(self._q, self._root[t])):
            pert = tf.matmul(z * tf.cast(root, mu.dtype), tf.cast(q, mu.dtype), transpose_b=True)  # (Q (sqrt(g) z))^T per row
            base += pert if weights is None else tf.cast(weights[:, k:k + 1], mu.dtype) * pert
        h_pert = tf.reshape(base, shape)
        resid = self._residual(y, h_pert) - complex_normal([shape[0], self.num_rx * self.num_pilots], rng, mu.dtype,
                                                           self.noise_var)
        return tf.reshape(self._update(base, resid, t, weights), shape)


class GaussianEvidence:
    """``log p(y | k)`` of each surrogate ``CN(0, C_k)`` for the pilots of one pilot matrix
    and noise level: ``vec(Y) ~ CN(0, A C_k A^H + s2 I)``, up to a constant shared by all
    ``k`` (Cholesky factors built once, in float64).

    Parameters
    ----------
    surrogates : list of :class:`GaussianSurrogate`
    x : [Nt, Np] complex — pilots
    noise_var : float
    num_rx : int — ``Nr``

    Input
    -----
    y : [B, Nr, Np], complex

    Output
    ------
    log_evidence : [B, K], tf.float32
    """

    def __init__(self, surrogates, x, noise_var: float, num_rx: int):
        x = np.asarray(x).astype(np.complex128)
        m = int(num_rx) * x.shape[1]
        self._chol, self._logdet = [], []
        for s in surrogates:
            r = _observe_columns(s.q, x, num_rx) * np.sqrt(s.lam)             # A Q Lam^1/2  [m, d]
            chol = np.linalg.cholesky(r @ r.conj().T + float(noise_var) * np.eye(m))
            self._chol.append(tf.constant(chol))
            self._logdet.append(2.0 * float(np.sum(np.log(np.diag(chol).real))))

    def __call__(self, y):
        v = tf.transpose(tf.reshape(tf.cast(y, tf.complex128), [tf.shape(y)[0], -1]))   # [m, B]
        out = [-logdet - tf.reduce_sum(tf.abs(tf.linalg.triangular_solve(chol, v, lower=True)) ** 2, axis=0)
               for chol, logdet in zip(self._chol, self._logdet)]
        return tf.cast(tf.stack(out, axis=1), tf.float32)
