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
expert weights ``r`` (exact for a one-hot ``r``).

The gains ``K_t`` are built once per pilot matrix, noise level and step list, in float64
(``A Sigma_t A^H + s2 I`` has a condition number up to ``1e6`` at 30 dB), and kept as
complex64 ``[d, m]`` matrices.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .pilots import complex_normal

__all__ = ["GaussianSurrogate", "GaussianConsistency"]


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
        self._gain, self._root, self._q = {}, {}, []
        for s in surrogates:
            if s.dim != self.num_rx * self.num_tx:
                raise ValueError(f"surrogate of dimension {s.dim}, expected Nr Nt = {self.num_rx * self.num_tx}")
            aq = _observe_columns(s.q, x, self.num_rx)        # [m, d]
            self._q.append(tf.constant(s.q.astype(np.complex64)))
            for t in steps:
                a, b = float(np.sqrt(alpha_bar[t])), float(np.sqrt(1.0 - alpha_bar[t]))
                g = s.posterior_var(a, b)
                aqg = aq * g                                  # A Q G   [m, d]
                gram = aqg @ aq.conj().T + self.noise_var * np.eye(m)
                w = np.linalg.solve(0.5 * (gram + gram.conj().T), aqg)      # M^-1 A Q G  [m, d]
                gain = s.q @ w.conj().T                       # Q G Q^H A^H M^-1 = K_t  [d, m]
                self._gain.setdefault(t, []).append(tf.constant(gain.astype(np.complex64)))
                self._root.setdefault(t, []).append(tf.constant(np.sqrt(g).astype(np.float32)))

    @property
    def num_components(self) -> int:
        return len(self._q)

    def _vec(self, h):
        return tf.reshape(h, [tf.shape(h)[0], -1])

    def _update(self, base, resid, t, weights):
        """``base + sum_k r_k K_{t,k} resid`` with ``resid`` [B, m]; output [B, d]."""
        out = base
        for k, gain in enumerate(self._gain[t]):
            corr = tf.matmul(resid, gain, transpose_b=True)
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
            pert = tf.matmul(z * tf.cast(root, mu.dtype), q, transpose_b=True)     # (Q (sqrt(g) z))^T per row
            base += pert if weights is None else tf.cast(weights[:, k:k + 1], mu.dtype) * pert
        h_pert = tf.reshape(base, shape)
        resid = self._residual(y, h_pert) - complex_normal([shape[0], self.num_rx * self.num_pilots], rng, mu.dtype,
                                                           self.noise_var)
        return tf.reshape(self._update(base, resid, t, weights), shape)
