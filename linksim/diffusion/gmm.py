r"""Gaussian-mixture channel prior on a subspace: EM fit and the exact posterior for
element-wise observations.

Model, for complex vectors of ``d`` entries (a channel ``Na x Nc`` flattened)::

    h = U z + w,   z ~ sum_k pi_k CN(0, Sigma_k),   w ~ CN(0, floor * I_d)

``U`` [d, R] has orthonormal columns: the dominant eigenvectors of the training
covariance, ``R`` the smallest rank that keeps all but ``energy_tol`` of the energy
(3GPP CDL channels of 8 x 72 need R ~ 16 for one profile and < 96 for all 15 CDL
environments). ``floor`` is the mean energy per dimension left outside ``U``.

Observation, element-wise (Card A's first estimate, or a diffusion state)::

    x = a * h + sqrt(b2) * n,   n ~ CN(0, I_d),   a >= 0, b2 >= 0

Given component ``k``, ``x ~ CN(0, S_k)`` with ``S_k = A U Sigma_k U^H A + D``,
``D = diag(floor a^2 + b2)``. With ``Sigma_k = L_k L_k^H``, ``Q = U^H A D^-1 A U`` and
``M_k = I + L_k^H Q L_k`` (R x R, at least I), Woodbury gives everything in R dims:

* ``c_k = L_k^H U^H A D^-1 x``; ``x^H S_k^-1 x = x^H D^-1 x - c_k^H M_k^-1 c_k``;
  ``log det S_k = log det D + log det M_k``;
* ``E[z | x, k] = L_k M_k^-1 c_k``, ``Cov[z | x, k] = P_k = L_k M_k^-1 L_k^H``;
* ``E[h | x, k] = (b2/D) U E[z|x,k] + floor (a/D) x``;
  ``Var[h_i | x, k] = (b2_i/D_i)^2 (U P_k U^H)_ii + floor b2_i/D_i``.

The mixture posterior weighs the components by their responsibilities
``r_k = softmax_k(log pi_k - x^H S_k^-1 x - log det S_k)``; its mean is the conditional
mean estimate (CME) and its variance ``sum_k r_k (Var_k + |m_k|^2) - |m|^2`` the
posterior variance per entry. :meth:`GaussianMixturePrior.posterior` also returns the
part of that variance caused by the observation noise (``G_k diag(b2) G_k^H`` for the
linear estimate ``m_k = G_k x`` of each component, weighted by ``r_k``): estimates of two
OFDM symbols with independent noise share the rest of their error, which is what time
interpolation needs to know.

With one component and ``U`` of full rank this is the LMMSE estimator with the training
covariance; with several it is the Gaussian-mixture CME (a mixture of LMMSE filters).
:class:`MixtureDenoiser` uses it as an exact denoiser for diffusion states.
"""

from __future__ import annotations

import math
import time

import numpy as np
import tensorflow as tf

__all__ = ["GaussianMixturePrior", "fit_gmm", "MixtureDenoiser", "DATA_SCALE"]

#: Diffusion data are real tensors with unit variance per real entry: ``sqrt(2) * h``
#: for channels ``h`` with unit average power per complex entry.
DATA_SCALE = math.sqrt(2.0)


class GaussianMixturePrior:
    r"""A fitted prior (see the module docstring). Build with :func:`fit_gmm` or
    :meth:`from_arrays`.

    Parameters
    ----------
    basis : [d, R], complex
        Orthonormal columns ``U``.
    chol : [K, R, R], complex
        Lower Cholesky factors ``L_k`` of the component covariances in ``z``.
    weights : [K], float
        Mixture weights ``pi_k`` (sum 1).
    floor : float
        Variance per entry outside the subspace (>= 0).
    data_shape : tuple of int | None
        Shape of one sample (e.g. ``(Na, Nc)``), ``prod = d``.
    info : dict | None
        Fit record (samples, iterations, log-likelihood, wall time).
    """

    def __init__(self, basis, chol, weights, floor: float, data_shape=None, info=None):
        basis = np.asarray(basis)
        chol = np.asarray(chol)
        weights = np.asarray(weights, np.float64)
        if basis.ndim != 2 or chol.ndim != 3 or chol.shape[1:] != (basis.shape[1],) * 2:
            raise ValueError(f"basis [d, R] and chol [K, R, R] do not fit: {basis.shape}, {chol.shape}")
        if weights.shape != (chol.shape[0],) or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError("weights must be [K], non-negative and sum to 1")
        self.basis = basis.astype(np.complex64)
        self.chol = chol.astype(np.complex64)
        self.weights = weights.astype(np.float32)
        self.floor = float(max(floor, 0.0))
        self.data_shape = tuple(int(s) for s in data_shape) if data_shape is not None else (basis.shape[0],)
        if int(np.prod(self.data_shape)) != basis.shape[0]:
            raise ValueError(f"data_shape {self.data_shape} does not hold {basis.shape[0]} entries")
        self.info = dict(info or {})
        with tf.init_scope():  # eager constants, also when built inside a tf.function
            self._tf = {
                "u": tf.constant(self.basis),
                "l": tf.constant(self.chol),
                "log_w": tf.constant(np.log(np.maximum(self.weights, 1e-30)).astype(np.float32)),
            }

    # -- sizes ----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.basis.shape[0])

    @property
    def rank(self) -> int:
        return int(self.basis.shape[1])

    @property
    def num_components(self) -> int:
        return int(self.chol.shape[0])

    def covariance(self, k: int | None = None) -> np.ndarray:
        """Covariance of ``h`` [d, d] (of component ``k``, or of the mixture)."""
        u = self.basis.astype(np.complex128)
        ks = range(self.num_components) if k is None else [k]
        w = self.weights if k is None else np.ones(1)
        sig = sum(wi * (self.chol[j].astype(np.complex128) @ self.chol[j].conj().T.astype(np.complex128))
                  for wi, j in zip(w, ks))
        return u @ sig @ u.conj().T + self.floor * np.eye(self.dim)

    # -- storage --------------------------------------------------------------------
    def to_arrays(self) -> dict:
        """Plain numpy arrays for a checkpoint (``from_arrays`` rebuilds)."""
        return {"basis": self.basis, "chol": self.chol, "weights": self.weights,
                "floor": np.asarray(self.floor, np.float64),
                "data_shape": np.asarray(self.data_shape, np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict, info=None) -> "GaussianMixturePrior":
        return cls(arrays["basis"], arrays["chol"], arrays["weights"], float(arrays["floor"]),
                   tuple(int(s) for s in arrays["data_shape"]), info)

    # -- posterior --------------------------------------------------------------------
    def posterior(self, x, a, b2, *, variance: bool = True, noise_variance: bool = False):
        r"""Posterior of ``h`` given ``x = a*h + sqrt(b2)*n`` (exact under the model).

        Observations are grouped: all ``n`` observations of a group share ``a`` and
        ``b2`` (one pilot layout and noise level for a whole batch is one group), so the
        R x R algebra runs once per group.

        Input
        -----
        x : [G, n, d], tf.complex64
        a, b2 : [G, 1, d] (or [1, 1, d]), tf.float32
            ``a >= 0``; ``b2 >= 0`` with ``floor*a^2 + b2 > 0`` (a noiseless entry needs a
            positive floor).

        Output
        ------
        dict with
            ``mean`` [G, n, d] complex64 (the CME), ``resp`` [G, n, K] float32,
            ``var`` [G, n, d] float32 (posterior variance per entry, with ``variance``),
            ``var_noise`` [G, n, d] float32 (its noise-induced part, with
            ``noise_variance``).
        """
        u, l, log_w = self._tf["u"], self._tf["l"], self._tf["log_w"]
        x = tf.convert_to_tensor(x, tf.complex64)
        a = tf.cast(a, tf.float32)
        b2 = tf.cast(b2, tf.float32)
        a, b2 = _broadcast_pair(a, b2)
        d_var = self.floor * a * a + b2                               # D      [G,1,d]
        d_var = tf.maximum(d_var, 1e-30)
        at2 = a * a / d_var                                           # A^2 D^-1
        q = _gram(u, at2)                                             # Q      [G,R,R]
        lh = tf.linalg.adjoint(l)                                     # L^H    [K,R,R]
        m = tf.eye(self.rank, dtype=tf.complex64) + tf.matmul(lh[None], tf.matmul(q[:, None], l[None]))
        chol_m = tf.linalg.cholesky(m)                                # [G,K,R,R]
        logdet_m = 2.0 * tf.reduce_sum(tf.math.log(tf.math.real(tf.linalg.diag_part(chol_m))), -1)  # [G,K]

        xw = x * tf.cast(a / d_var, tf.complex64)                     # A D^-1 x     [G,n,d]
        b = tf.einsum("gnd,dr->gnr", xw, tf.math.conj(u))             # U^H A D^-1 x [G,n,R]
        cvec = tf.einsum("krs,gnr->gkns", tf.math.conj(l), b)         # L^H b  [G,K,n,R]: sum_r conj(L_rs) b_r
        sol = tf.linalg.cholesky_solve(chol_m, tf.linalg.matrix_transpose(cvec))  # M^-1 c [G,K,R,n]
        quad_c = tf.math.real(tf.reduce_sum(tf.math.conj(tf.linalg.matrix_transpose(cvec)) * sol, -2))  # [G,K,n]
        quad_x = tf.reduce_sum(tf.abs(x) ** 2 / d_var, -1)           # [G,n]
        loglik = log_w[None, :, None] - (quad_x[:, None] - quad_c) - logdet_m[..., None]  # [G,K,n]
        resp = tf.nn.softmax(loglik, axis=1)                          # [G,K,n]

        mu = tf.matmul(l[None], sol)                                  # E[z|x,k]   [G,K,R,n]
        shrink = tf.cast(b2 / d_var, tf.complex64)                    # b2/D [G,1,d]
        pass_x = tf.cast(self.floor * a / d_var, tf.complex64)       # floor a/D
        uz = tf.einsum("dr,gkrn->gknd", u, mu)                        # U E[z|x,k] [G,K,n,d]
        m_k = shrink[:, None] * uz + pass_x[:, None] * x[:, None]     # E[h|x,k]
        r_c = tf.cast(resp, tf.complex64)[..., None]                  # [G,K,n,1]
        mean = tf.reduce_sum(r_c * m_k, axis=1)                       # [G,n,d]
        out = {"mean": mean, "resp": tf.transpose(resp, [0, 2, 1]), "loglik": loglik}
        if not (variance or noise_variance):
            return out

        # P_k = L M^-1 L^H and its diagonal in h: rowquad(U, P_k)
        p_k = tf.matmul(l[None], tf.linalg.cholesky_solve(chol_m, tf.broadcast_to(lh[None], tf.shape(m))))
        s2 = b2 / d_var                                               # [G,1,d]
        if variance:
            diag_p = _rowquad(u, p_k)                                 # [G,K,d]
            var_k = (s2 * s2) * diag_p + self.floor * s2              # [G,K,d]
            second = tf.reduce_sum(resp[..., None] * (var_k[:, :, None] + tf.abs(m_k) ** 2), axis=1)
            out["var"] = tf.maximum(second - tf.abs(mean) ** 2, 0.0)
        if noise_variance:
            qn = _gram(u, a * a * b2 / (d_var * d_var))               # U^H diag(a^2 b2/D^2) U
            pqp = tf.matmul(p_k, tf.matmul(qn[:, None], p_k))
            t1 = (s2 * s2) * _rowquad(u, pqp)                         # [G,K,d]
            diag_p = _rowquad(u, p_k) if not variance else diag_p
            t2 = 2.0 * self.floor * s2 * (a * a * b2 / (d_var * d_var)) * diag_p
            t3 = self.floor ** 2 * a * a * b2 / (d_var * d_var)
            nv_k = t1 + t2 + t3                                       # [G,K,d]
            out["var_noise"] = tf.einsum("gkn,gkd->gnd", resp, nv_k)
        return out


def _broadcast_pair(a, b2):
    shape = tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b2))
    return tf.broadcast_to(a, shape), tf.broadcast_to(b2, shape)


def _gram(u, w):
    """``U^H diag(w) U`` for weights ``w`` [G, 1, d] -> [G, R, R] complex."""
    wu = tf.cast(w[:, 0, :, None], tf.complex64) * u[None]            # [G,d,R]
    return tf.einsum("dr,gds->grs", tf.math.conj(u), wu)


def _rowquad(u, p):
    """``diag(U P U^H)`` for ``P`` [G, K, R, R] -> [G, K, d] real."""
    up = tf.einsum("dr,gkrs->gkds", u, p)
    return tf.math.real(tf.reduce_sum(up * tf.math.conj(u)[None, None], -1))


# ----------------------------------------------------------------------------------------
# EM fit (numpy, float64)
# ----------------------------------------------------------------------------------------
def _kmeans_init(features, k, rng, iterations=15, restarts=1):
    """Hard assignments from k-means++ on ``features`` [N, F]: the run with the smallest
    within-cluster sum of squares of ``restarts`` runs (one k-means++ draw each)."""
    n = len(features)
    norms = np.sum(features ** 2, 1)
    best, best_cost = None, np.inf
    for _ in range(int(restarts)):
        centres = [features[rng.integers(n)]]
        dist = np.sum((features - centres[0]) ** 2, 1)
        for _j in range(1, k):
            centres.append(features[rng.choice(n, p=dist / dist.sum())])
            dist = np.minimum(dist, np.sum((features - centres[-1]) ** 2, 1))
        centres = np.stack(centres)
        for _it in range(iterations):
            d2 = norms[:, None] - 2 * features @ centres.T + np.sum(centres ** 2, 1)[None]
            assign = np.argmin(d2, 1)
            for j in range(k):
                members = features[assign == j]
                centres[j] = members.mean(0) if len(members) else features[rng.integers(n)]
        cost = float(np.sum((features - centres[assign]) ** 2))
        if cost < best_cost:
            best, best_cost = assign, cost
    return best


def fit_gmm(h, num_components: int = 16, *, max_rank: int = 128, energy_tol: float = 1e-7,
            iterations: int = 30, tol: float = 1e-5, reg: float = 1e-6, seed: int = 0,
            restarts: int = 1, data_shape=None, progress=None) -> GaussianMixturePrior:
    r"""Fit the subspace Gaussian mixture to complex samples by EM.

    Steps: the pooled covariance's eigenvectors give ``U`` (rank from ``energy_tol``,
    at most ``max_rank``) and ``floor``; ``z = U^H h``; k-means++ on the per-sample
    log-power profile of ``z`` (components of zero-mean mixtures differ in how their
    power spreads, not in their means) gives the initial responsibilities (the best of
    ``restarts`` k-means runs by within-cluster sum of squares: one unlucky draw can merge
    two environments into one component and split a third, which EM does not undo); EM with full
    ``R x R`` covariances (each regularised by ``reg`` times its mean eigenvalue) runs
    until the mean log-likelihood gains less than ``tol`` per sample or ``iterations``.

    Parameters
    ----------
    h : [N, ...], complex
        Training channels (flattened per sample).
    num_components : int
    max_rank : int
    energy_tol : float
        Energy share allowed outside the subspace.
    iterations, tol, reg, seed
    restarts : int
        k-means++ initialisations tried (1: one draw, as before this option).
    data_shape : tuple | None
        Recorded in the prior (default ``h.shape[1:]``).
    progress : callable | None
        ``progress(iteration, mean_loglik)`` after each EM iteration.

    Output
    ------
    prior : :class:`GaussianMixturePrior` (``info`` holds samples, rank, iterations,
        final mean log-likelihood and the fit time).
    """
    t0 = time.time()
    h = np.asarray(h)
    data_shape = tuple(data_shape or h.shape[1:])
    x = h.reshape(len(h), -1).astype(np.complex128)
    n, d = x.shape
    k = int(num_components)
    if k < 1 or n < 2 * k:
        raise ValueError(f"need num_components >= 1 and at least 2 samples per component (got {n} for {k})")
    cov = x.T @ x.conj() / n
    lam, vec = np.linalg.eigh(cov)
    lam, vec = np.maximum(lam[::-1], 0.0), vec[:, ::-1]
    total = lam.sum()
    tail = np.concatenate([np.cumsum(lam[::-1])[::-1][1:], [0.0]])  # energy beyond each rank
    rank = int(np.argmax(tail <= energy_tol * total)) + 1
    rank = max(1, min(rank, int(max_rank), d))
    floor = float(tail[rank - 1] / (d - rank)) if rank < d else 0.0
    floor = max(floor, 1e-12 * total / d)
    u = vec[:, :rank]
    z = x @ u.conj()                                                 # [N, R]

    rng = np.random.default_rng(seed)
    if k == 1:
        resp = np.ones([n, 1])
    else:
        p = np.abs(z) ** 2
        feats = np.log(p + 1e-3 * p.mean())
        feats -= feats.mean(1, keepdims=True)
        resp = np.eye(k)[_kmeans_init(feats, k, rng, restarts=restarts)]
    eye = np.eye(rank)
    last = -np.inf
    done = 0
    for it in range(int(iterations)):
        nk = resp.sum(0) + 1e-12
        weights = nk / n
        chols, logdets = [], []
        for j in range(k):
            s = (z * resp[:, j:j + 1]).T @ z.conj() / nk[j]
            s = 0.5 * (s + s.conj().T)
            s += reg * max(np.real(np.trace(s)) / rank, 1e-30) * eye
            c = np.linalg.cholesky(s)
            chols.append(c)
            logdets.append(2.0 * np.sum(np.log(np.real(np.diag(c)))))
        ll = np.empty([n, k])
        for j in range(k):
            y = np.linalg.solve(chols[j], z.T)                         # L^-1 z
            ll[:, j] = np.log(max(weights[j], 1e-300)) - np.sum(np.abs(y) ** 2, 0) - logdets[j]
        top = ll.max(1, keepdims=True)
        e = np.exp(ll - top)
        tot = e.sum(1, keepdims=True)
        resp = e / tot
        mean_ll = float(np.mean(np.log(tot) + top) - rank * math.log(math.pi))
        done = it + 1
        if progress is not None:
            progress(done, mean_ll)
        if k == 1 or mean_ll - last < tol * max(abs(mean_ll), 1.0):
            break
        last = mean_ll
    info = {"samples": int(n), "rank": rank, "num_components": k, "iterations": done,
            "mean_loglik": round(mean_ll, 4), "energy_outside": float(tail[rank - 1] / total),
            "fit_s": round(time.time() - t0, 2)}
    return GaussianMixturePrior(u, np.stack(chols), weights, floor, data_shape, info)


# ----------------------------------------------------------------------------------------
# The prior as a diffusion denoiser
# ----------------------------------------------------------------------------------------
class MixtureDenoiser:
    r"""Exact denoiser ``(x, tau) -> E[h~ | x]`` of a :class:`GaussianMixturePrior` for
    diffusion states ``x = alpha*h~ + beta*xi`` (real ``[..., Na, Nc, 2]``, ``h~ =
    DATA_SCALE * h``, element-wise ``alpha, beta`` from ``schedule``).

    A ``tau`` whose batch dim is 1 is shared by the whole batch (one group: the R x R
    algebra runs once); otherwise every sample is its own group.
    :meth:`denoise_groups` takes explicit groups.

    Input
    -----
    x : [B, Na, Nc, 2], float
    tau : [1 or B, Na, Nc(, 1)], [1 or B, 1, 1(, 1)] or scalar, float

    Output
    ------
    x0 : [B, Na, Nc, 2], float (dtype of ``x``)
    """

    def __init__(self, prior: GaussianMixturePrior, schedule):
        from .schedules import make_schedule

        self.prior = prior
        self.schedule = make_schedule(schedule)

    def _obs(self, tau, shape):
        """``a, b2`` [G, 1, d] of the complex observation ``x_c / DATA_SCALE``."""
        tau = tf.cast(tau, tf.float32)
        if tau.shape.rank == 4:
            tau = tau[..., 0]
        elif tau.shape.rank == 0:
            tau = tf.reshape(tau, [1, 1, 1])
        alpha, beta = self.schedule.alpha_beta(tau)
        lead = tf.shape(alpha)[:1]
        alpha = tf.broadcast_to(alpha, tf.concat([lead, shape], 0))
        beta = tf.broadcast_to(beta, tf.concat([lead, shape], 0))
        flat = tf.concat([lead, [1, -1]], 0)
        return tf.reshape(alpha, flat), tf.reshape(beta * beta, flat)

    def denoise_groups(self, x, tau, **kwargs):
        """``x`` [G, n, Na, Nc, 2] with ``tau`` [G, ...] per group -> the posterior dict
        of :meth:`GaussianMixturePrior.posterior` (complex units of ``h``)."""
        shape = tf.shape(x)
        xc = tf.complex(x[..., 0], x[..., 1]) / DATA_SCALE
        xc = tf.reshape(xc, tf.concat([shape[:2], [-1]], 0))
        a, b2 = self._obs(tau, shape[2:4])
        return self.prior.posterior(xc, a, b2, **kwargs)

    def __call__(self, x, tau):
        x = tf.convert_to_tensor(x)
        tau = tf.convert_to_tensor(tau)
        shared = tau.shape.rank == 0 or tau.shape[0] == 1
        grouped = x[None] if shared else x[:, None]
        mean = self.denoise_groups(tf.cast(grouped, tf.float32), tau if shared else tau,
                                   variance=False)["mean"]
        mean = tf.reshape(mean, tf.shape(x)[:3]) * DATA_SCALE
        return tf.cast(tf.stack([tf.math.real(mean), tf.math.imag(mean)], -1), x.dtype)
