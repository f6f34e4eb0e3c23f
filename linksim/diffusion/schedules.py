"""Noise schedules on a (possibly fractional, possibly element-wise) time ``tau``.

Every schedule is a table of ``log alpha`` on the integer times ``0..T`` with
``alpha(0) = 1`` and ``alpha`` strictly decreasing. Between integers, ``log alpha`` is
interpolated linearly, so a schedule maps any real ``tau`` in ``[0, T]`` to

    alpha(tau) = sqrt(alpha_bar(tau)),   beta(tau) = sqrt(1 - alpha(tau)^2)

(the forward process is ``x = alpha * h + beta * xi``) and has an exact inverse
``tau_of_alpha`` (monotone table search with the same interpolation). Card A's ``gamma``
is such a table; the DDPM linear-beta and the cosine schedules give others.

The table functions (``gamma_log_table``, ``linear_beta_schedule``, ``cosine_schedule``)
are plain numpy; the maps on tensors (``gamma``, ``gamma_inv``, ``Schedule.alpha`` ...)
are element-wise TensorFlow ops that work inside ``tf.function``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = [
    "gamma_log_table",
    "linear_beta_schedule",
    "cosine_schedule",
    "interp_log_alpha",
    "invert_log_alpha",
    "tau_of_log_alpha",
    "gamma",
    "gamma_inv",
    "Schedule",
    "GammaSchedule",
    "LinearBetaSchedule",
    "CosineSchedule",
    "make_schedule",
]


# --------------------------------------------------------------------------------------
# Tables (numpy, float64)
# --------------------------------------------------------------------------------------
def _num_steps(T) -> int:
    T = int(T)
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    return T


def gamma_log_table(T: int, rate: float = 0.2) -> np.ndarray:
    r"""Card A's schedule (eq. 13) as a table of :math:`\log\gamma(\tau)`.

    :math:`\gamma(\tau) = \prod_{i=1}^{\tau}\sqrt{1 - \mathrm{rate}\cdot i/T}`,
    :math:`\gamma(0) = 1`. This equals a DDPM linear-beta schedule with
    ``beta_i = rate * i / T``.

    Parameters
    ----------
    T : int
        Number of diffusion steps (>= 1).
    rate : float
        The ``0.2`` of eq. (13); must satisfy ``0 < rate < 1``.

    Output
    ------
    log_gamma : [T+1], np.float64
        ``log gamma(k)`` for ``k = 0..T``; ``log_gamma[0] = 0``, strictly decreasing.
    """
    T = _num_steps(T)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    i = np.arange(1, T + 1, dtype=np.float64)
    steps = 0.5 * np.log1p(-rate * i / T)
    return np.concatenate([[0.0], np.cumsum(steps)])


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    r"""DDPM linear-beta schedule as a table of :math:`\bar\alpha`.

    ``beta_1..beta_T = linspace(beta_start, beta_end, T)``,
    :math:`\bar\alpha_t = \prod_{i\le t}(1-\beta_i)`, :math:`\bar\alpha_0 = 1` (time 0 is
    clean data; DDPM's step ``t`` is index ``t`` here).

    Output
    ------
    alpha_bar : [T+1], np.float64
        Strictly decreasing from 1.
    """
    T = _num_steps(T)
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    if np.any(betas <= 0) or np.any(betas >= 1):
        raise ValueError("betas must lie in (0, 1)")
    return np.concatenate([[1.0], np.cumprod(1.0 - betas)])


def cosine_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    r"""Cosine schedule (Nichol & Dhariwal) as a table of :math:`\bar\alpha`.

    :math:`f(t) = \cos^2\big(\tfrac{t/T + s}{1 + s}\tfrac{\pi}{2}\big)`,
    :math:`\beta_t = \min(1 - f(t)/f(t-1), \mathrm{max\_beta})`,
    :math:`\bar\alpha_t = \prod_{i\le t}(1-\beta_i)`; the clipping keeps
    :math:`\bar\alpha_T > 0` so that :math:`\log\alpha` stays finite.

    Output
    ------
    alpha_bar : [T+1], np.float64
        Strictly decreasing from 1.
    """
    T = _num_steps(T)
    t = np.arange(T + 1, dtype=np.float64)
    f = np.cos((t / T + s) / (1.0 + s) * np.pi / 2.0) ** 2
    betas = np.clip(1.0 - f[1:] / f[:-1], 1e-12, max_beta)
    return np.concatenate([[1.0], np.cumprod(1.0 - betas)])


# --------------------------------------------------------------------------------------
# Element-wise maps on tensors
# --------------------------------------------------------------------------------------
def interp_log_alpha(tau, log_table) -> tf.Tensor:
    r"""``log alpha(tau)`` by linear interpolation of a table on integer times.

    Input
    -----
    tau : [...], float or int
        Time, clipped to ``[0, T]``; any shape.
    log_table : [T+1], array-like
        ``log alpha`` at ``0..T``.

    Output
    ------
    log_alpha : [...], tf.float (dtype of ``tau``; float32 for integer ``tau``)
    """
    tau = tf.convert_to_tensor(tau)
    dtype = tau.dtype if tau.dtype.is_floating else tf.float32
    tau = tf.cast(tau, dtype)
    table = tf.cast(tf.convert_to_tensor(log_table), dtype)
    T = tf.shape(table)[0] - 1
    tau = tf.clip_by_value(tau, 0.0, tf.cast(T, dtype))
    k = tf.minimum(tf.cast(tf.floor(tau), tf.int32), T - 1)
    frac = tau - tf.cast(k, dtype)
    lo = tf.gather(table, k)
    hi = tf.gather(table, k + 1)
    return lo + frac * (hi - lo)


def invert_log_alpha(alpha, log_table) -> tf.Tensor:
    r"""Inverse of :func:`interp_log_alpha`: the time ``tau`` with ``alpha(tau) = alpha``.

    ``alpha`` is clipped to ``[alpha(T), 1]``; the search is a ``searchsorted`` on the
    (monotone) table, followed by the same log-linear interpolation, so
    ``invert_log_alpha(exp(interp_log_alpha(tau)))`` returns ``tau`` to float precision.
    (Near ``alpha = 1`` a float32 ``alpha`` resolves ``tau`` only coarsely; use
    :func:`tau_of_log_alpha` where ``log alpha`` is known.)

    Input
    -----
    alpha : [...], float
    log_table : [T+1], array-like

    Output
    ------
    tau : [...], same dtype as ``alpha``, in ``[0, T]``
    """
    alpha = tf.convert_to_tensor(alpha)
    dtype = alpha.dtype if alpha.dtype.is_floating else tf.float32
    alpha = tf.cast(alpha, dtype)
    tiny = tf.constant(np.finfo(dtype.as_numpy_dtype).tiny, dtype)
    return tau_of_log_alpha(tf.math.log(tf.maximum(alpha, tiny)), log_table)


def tau_of_log_alpha(log_alpha, log_table) -> tf.Tensor:
    r"""The time ``tau`` with ``log alpha(tau) = log_alpha`` (clipped to the table range).

    Input
    -----
    log_alpha : [...], float
    log_table : [T+1], array-like

    Output
    ------
    tau : [...], dtype of ``log_alpha``, in ``[0, T]``
    """
    log_a = tf.convert_to_tensor(log_alpha)
    dtype = log_a.dtype
    table = tf.cast(tf.convert_to_tensor(log_table), dtype)
    T = tf.shape(table)[0] - 1
    log_a = tf.clip_by_value(log_a, table[-1], 0.0)
    neg = -table  # increasing
    flat = tf.reshape(-log_a, [1, -1])
    k = tf.searchsorted(neg[tf.newaxis, :], flat, side="right") - 1
    k = tf.reshape(tf.clip_by_value(k, 0, T - 1), tf.shape(log_a))
    lo = tf.gather(table, k)
    hi = tf.gather(table, k + 1)
    frac = tf.clip_by_value((lo - log_a) / (lo - hi), 0.0, 1.0)
    return tf.cast(k, dtype) + frac


def gamma(tau, T: int, rate: float = 0.2) -> tf.Tensor:
    r"""Card A's :math:`\gamma(\tau)` (eq. 13), element-wise, fractional ``tau`` allowed.

    Input
    -----
    tau : [...], float or int
        In ``[0, T]`` (clipped).
    T : int
    rate : float

    Output
    ------
    alpha : [...], float (dtype of ``tau``; float32 for integer input)
    """
    return tf.exp(interp_log_alpha(tau, gamma_log_table(T, rate)))


def gamma_inv(alpha, T: int, rate: float = 0.2) -> tf.Tensor:
    r""":math:`\gamma^{-1}`: element-wise time for ``alpha`` (clipped to ``[gamma(T), 1]``).

    Input
    -----
    alpha : [...], float
    T : int
    rate : float

    Output
    ------
    tau : [...], dtype of ``alpha``
    """
    return invert_log_alpha(alpha, gamma_log_table(T, rate))


# --------------------------------------------------------------------------------------
# Uniform interface
# --------------------------------------------------------------------------------------
class Schedule:
    r"""A schedule given by a table of ``log alpha`` on ``0..T`` (see module doc).

    Subclasses only build the table; all maps are shared. Configs round-trip:
    ``make_schedule(s.to_config())`` rebuilds ``s``.

    Parameters
    ----------
    log_alpha_table : array-like, [T+1]
        ``log alpha`` at the integer times; ``table[0] = 0``, strictly decreasing.
    """

    kind = "table"

    def __init__(self, log_alpha_table):
        table = np.asarray(log_alpha_table, dtype=np.float64)
        if table.ndim != 1 or table.shape[0] < 2:
            raise ValueError("log_alpha_table must be 1-D with at least 2 entries")
        if table[0] != 0.0 or np.any(np.diff(table) >= 0) or not np.all(np.isfinite(table)):
            raise ValueError("log_alpha_table must start at 0, be finite and strictly decrease")
        self._log_table = table

    # -- table ---------------------------------------------------------------------
    @property
    def T(self) -> int:
        """Largest time (int)."""
        return self._log_table.shape[0] - 1

    @property
    def log_alpha_table(self) -> np.ndarray:
        """``log alpha`` at ``0..T``, float64 numpy array (copy)."""
        return self._log_table.copy()

    @property
    def alpha_min(self) -> float:
        """``alpha(T)`` (> 0)."""
        return float(np.exp(self._log_table[-1]))

    # -- maps ----------------------------------------------------------------------
    def log_alpha(self, tau) -> tf.Tensor:
        """``log alpha(tau)``; [...] -> [...], float."""
        return interp_log_alpha(tau, self._log_table)

    def alpha(self, tau) -> tf.Tensor:
        """``alpha(tau)`` (= gamma(tau) in Card A); [...] -> [...], float."""
        return tf.exp(self.log_alpha(tau))

    def beta(self, tau) -> tf.Tensor:
        """``beta(tau) = sqrt(1 - alpha^2)``, accurate near ``tau = 0``; [...] -> [...]."""
        return self.alpha_beta(tau)[1]

    def alpha_beta(self, tau):
        """``(alpha, beta)`` of ``tau``; ``beta`` uses ``-expm1(2 log alpha)`` so it is
        exactly 0 at ``tau = 0`` and accurate for small ``tau``.

        Input
        -----
        tau : [...], float or int

        Output
        ------
        alpha, beta : [...], float
        """
        la = self.log_alpha(tau)
        beta = tf.sqrt(tf.maximum(-tf.math.expm1(2.0 * la), 0.0))
        return tf.exp(la), beta

    def alpha_bar(self, tau) -> tf.Tensor:
        """``alpha^2`` (DDPM's cumulative product); [...] -> [...]."""
        return tf.exp(2.0 * self.log_alpha(tau))

    def tau_of_alpha(self, alpha) -> tf.Tensor:
        """Inverse map (= gamma_inv); [...] -> [...], alpha clipped to [alpha(T), 1]."""
        return invert_log_alpha(alpha, self._log_table)

    def tau_of_log_alpha(self, log_alpha) -> tf.Tensor:
        """Inverse map from ``log alpha`` (precise near ``alpha = 1``); [...] -> [...]."""
        return tau_of_log_alpha(log_alpha, self._log_table)

    # Card A names
    gamma = alpha
    gamma_inv = tau_of_alpha

    # -- config --------------------------------------------------------------------
    def to_config(self) -> dict:
        """JSON-able dict; ``make_schedule(cfg)`` / ``type(s).from_config(cfg)`` rebuild."""
        return {"kind": self.kind, "log_alpha_table": self._log_table.tolist()}

    @classmethod
    def from_config(cls, config: dict) -> "Schedule":
        cfg = dict(config)
        kind = cfg.pop("kind", cls.kind)
        if kind != cls.kind:
            return make_schedule(config)
        return cls(**cfg)

    def __eq__(self, other) -> bool:
        return isinstance(other, Schedule) and np.array_equal(self._log_table, other._log_table)

    def __hash__(self):
        return hash(self._log_table.tobytes())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.to_config().items() if k != "kind")
        if len(args) > 80:
            args = f"T={self.T}"
        return f"{type(self).__name__}({args})"


class GammaSchedule(Schedule):
    r"""Card A's :math:`\gamma` schedule (eq. 13).

    Parameters
    ----------
    T : int
        Number of steps (default 1000).
    rate : float
        0.2 in the paper.
    """

    kind = "gamma"

    def __init__(self, T: int = 1000, rate: float = 0.2):
        self.rate = float(rate)
        super().__init__(gamma_log_table(T, self.rate))

    def to_config(self) -> dict:
        return {"kind": self.kind, "T": self.T, "rate": self.rate}


class LinearBetaSchedule(Schedule):
    """DDPM linear-beta schedule (see :func:`linear_beta_schedule`)."""

    kind = "linear_beta"

    def __init__(self, T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        self.beta_start = float(beta_start)
        self.beta_end = float(beta_end)
        super().__init__(0.5 * np.log(linear_beta_schedule(T, self.beta_start, self.beta_end)))

    def to_config(self) -> dict:
        return {"kind": self.kind, "T": self.T, "beta_start": self.beta_start,
                "beta_end": self.beta_end}


class CosineSchedule(Schedule):
    """Cosine schedule (see :func:`cosine_schedule`)."""

    kind = "cosine"

    def __init__(self, T: int = 1000, s: float = 0.008, max_beta: float = 0.999):
        self.s = float(s)
        self.max_beta = float(max_beta)
        super().__init__(0.5 * np.log(cosine_schedule(T, self.s, self.max_beta)))

    def to_config(self) -> dict:
        return {"kind": self.kind, "T": self.T, "s": self.s, "max_beta": self.max_beta}


_KINDS = {c.kind: c for c in (Schedule, GammaSchedule, LinearBetaSchedule, CosineSchedule)}


def make_schedule(config) -> Schedule:
    """Build a schedule from a config dict (``{"kind": "gamma", "T": 1000}``), a kind
    name (``"gamma"``, defaults for the rest) or return a :class:`Schedule` unchanged."""
    if isinstance(config, Schedule):
        return config
    if isinstance(config, str):
        config = {"kind": config}
    cfg = dict(config)
    kind = cfg.pop("kind", "gamma")
    if kind not in _KINDS:
        from linksim.errors import UserError, allowed, did_you_mean

        raise UserError(f'unknown schedule kind "{kind}"{did_you_mean(kind, _KINDS)}; '
                        f"allowed: {allowed(_KINDS)}", field="kind")
    return _KINDS[kind](**cfg)
