r"""Steppers: the next time ``tau'`` in a generation loop of ``num_steps`` steps (Card A).

A stepper is a plain function ``stepper(tau, tau0, num_steps) -> tau_next`` on tensors
``[batch, ...]`` (axis 0 is the batch; the ℓ1 budget is per sample, over all other axes;
``tau`` and ``tau0`` broadcast to a common shape, a per-sample scalar ``[batch, 1, ...]``
is identical diffusion). Steppers never increase ``tau``, keep the element order, and
reach 0 after ``num_steps`` steps (uniform and water-filling exactly; the sampler also
forces the last step to 0).

* ``uniform``:    :math:`\tau' = \max(\tau - \tau_0/N_G, 0)`
* ``waterfill``:  :math:`\tau' = \min(\tau, L)` with :math:`\sum_i\max(\tau_i - L, 0) =
  \|\tau_0\|_1/N_G` (lower the largest entries first; exact, sort-based)
* ``hybrid(e)``:  :math:`e\cdot\mathrm{uniform} + (1-e)\cdot\mathrm{waterfill}` (eq. 16)

The same three on alpha (``alpha-uniform`` ...) apply the rule to ``u = 1 - alpha(tau)``
(which falls to 0 as alpha rises to 1) and map back with the schedule's inverse.
:func:`get_stepper` selects by name: ``"uniform"``, ``"waterfill"``, ``"hybrid:0.5"``,
``"alpha-uniform"``, ``"alpha-waterfill"``, ``"alpha-hybrid:0.3"`` (a ``tau-`` prefix is
accepted too).
"""

from __future__ import annotations

import functools

import tensorflow as tf

__all__ = [
    "uniform",
    "waterfill",
    "waterfill_level",
    "hybrid",
    "on_alpha",
    "get_stepper",
    "STEPPER_NAMES",
]

STEPPER_NAMES = ("uniform", "waterfill", "hybrid:<e>", "alpha-uniform", "alpha-waterfill",
                 "alpha-hybrid:<e>")

# A remainder below this fraction of one step counts as 0 (float round-off of the sums).
_SNAP = 1e-4


def _common(tau, tau0):
    tau = tf.convert_to_tensor(tau)
    dtype = tau.dtype if tau.dtype.is_floating else tf.float32
    tau = tf.cast(tau, dtype)
    tau0 = tf.cast(tau0, dtype)
    shape = tf.broadcast_dynamic_shape(tf.shape(tau), tf.shape(tau0))
    return tf.broadcast_to(tau, shape), tf.broadcast_to(tau0, shape)


def uniform(tau, tau0, num_steps: int) -> tf.Tensor:
    r"""Uniform stepping :math:`\tau' = \max(\tau - \tau_0/N_G, 0)`.

    Input
    -----
    tau, tau0 : [batch, ...] (broadcastable), float
    num_steps : int
        ``N_G``.

    Output
    ------
    tau_next : [batch, ...], float
    """
    tau, tau0 = _common(tau, tau0)
    step = tau0 / float(num_steps)
    nxt = tau - step
    return tf.where(nxt <= _SNAP * step, tf.zeros_like(nxt), nxt)


def waterfill_level(tau, budget) -> tf.Tensor:
    r"""Per-sample level ``L >= 0`` with :math:`\sum_i \max(\tau_i - L, 0) = b`.

    Sort-based and exact: with :math:`s` sorted descending and :math:`C_k` its cumulative
    sum, the removal with the level at :math:`s_{k+1}` is :math:`r_k = C_k - k s_{k+1}`
    (non-decreasing in ``k``); for the smallest ``k`` with :math:`r_k \ge b`,
    :math:`L = (C_k - b)/k`. If the total is at most ``b`` (to round-off), ``L = 0``.

    Input
    -----
    tau : [batch, n], float
    budget : [batch, 1], float

    Output
    ------
    level : [batch, 1], float
    """
    s = tf.sort(tau, axis=1, direction="DESCENDING")
    csum = tf.cumsum(s, axis=1)
    s_next = tf.concat([s[:, 1:], tf.zeros_like(s[:, :1])], axis=1)
    n = tf.shape(s)[1]
    k = tf.cast(tf.range(1, n + 1), s.dtype)[tf.newaxis, :]
    removal = csum - k * s_next
    count = tf.reduce_sum(tf.cast(removal < budget, tf.int32), axis=1, keepdims=True)
    idx = tf.minimum(count, n - 1)
    c_k = tf.gather(csum, idx, axis=1, batch_dims=1)
    level = (c_k - budget) / tf.cast(idx + 1, s.dtype)
    total = csum[:, -1:]
    done = tf.logical_or(count >= n, total <= budget * (1.0 + _SNAP))
    return tf.where(done, tf.zeros_like(level), tf.maximum(level, 0.0))


def waterfill(tau, tau0, num_steps: int) -> tf.Tensor:
    r"""Water-filling stepping: :math:`\tau' = \min(\tau, L)`, per-sample budget
    :math:`\|\tau_0\|_1/N_G` (see :func:`waterfill_level`). Internals in float64.

    Input
    -----
    tau, tau0 : [batch, ...] (broadcastable; axis 0 is the batch), float
    num_steps : int

    Output
    ------
    tau_next : [batch, ...], float
    """
    tau, tau0 = _common(tau, tau0)
    dtype = tau.dtype
    shape = tf.shape(tau)
    if tau.shape.rank == 0:
        flat_shape = [1, 1]
    else:
        flat_shape = tf.stack([shape[0], -1])
    t = tf.reshape(tf.cast(tau, tf.float64), flat_shape)
    t0 = tf.reshape(tf.cast(tau0, tf.float64), flat_shape)
    budget = tf.reduce_sum(tf.abs(t0), axis=1, keepdims=True) / float(num_steps)
    level = waterfill_level(t, budget)
    nxt = tf.reshape(tf.minimum(t, level), shape)
    return tf.cast(nxt, dtype)


def hybrid(tau, tau0, num_steps: int, eps_s: float = 0.5) -> tf.Tensor:
    r"""Hybrid stepping (eq. 16): ``eps_s*uniform + (1-eps_s)*waterfill``.

    Input
    -----
    tau, tau0 : [batch, ...], float
    num_steps : int
    eps_s : float in [0, 1]
        1 = uniform, 0 = water-filling.

    Output
    ------
    tau_next : [batch, ...], float
    """
    return eps_s * uniform(tau, tau0, num_steps) + (1.0 - eps_s) * waterfill(tau, tau0, num_steps)


def on_alpha(rule, tau, tau0, num_steps: int, schedule) -> tf.Tensor:
    r"""Apply a tau rule to ``u = 1 - alpha(tau)`` and map back: the stepper "on alpha".

    Input
    -----
    rule : callable
        ``uniform``, ``waterfill`` or a ``hybrid`` partial.
    tau, tau0 : [batch, ...], float
    num_steps : int
    schedule : Schedule

    Output
    ------
    tau_next : [batch, ...], float (never above ``tau``)
    """
    tau, tau0 = _common(tau, tau0)
    # u = 1 - alpha via expm1 and back via log1p: exact near alpha = 1 in float32
    u = -tf.math.expm1(schedule.log_alpha(tau))
    u0 = -tf.math.expm1(schedule.log_alpha(tau0))
    u_next = rule(u, u0, num_steps)
    tau_next = schedule.tau_of_log_alpha(tf.math.log1p(-tf.minimum(u_next, 1.0)))
    tau_next = tf.where(u_next <= 0.0, tf.zeros_like(tau_next), tau_next)
    return tf.minimum(tau_next, tau)


def get_stepper(name, schedule=None):
    """A stepper ``(tau, tau0, num_steps) -> tau_next`` from its name.

    Parameters
    ----------
    name : str | callable
        ``"uniform"``, ``"waterfill"``, ``"hybrid:<eps_s>"``, ``"alpha-uniform"``,
        ``"alpha-waterfill"``, ``"alpha-hybrid:<eps_s>"`` (``tau-`` prefix optional); a
        callable is returned unchanged.
    schedule : Schedule | None
        Needed by the ``alpha-`` steppers.
    """
    if callable(name):
        return name
    from linksim.errors import UserError, allowed, did_you_mean

    text = str(name).strip().lower()
    space = "tau"
    for prefix in ("tau-", "alpha-"):
        if text.startswith(prefix):
            space, text = prefix[:-1], text[len(prefix):]
    base, _, arg = text.partition(":")
    if base == "waterfilling":
        base = "waterfill"
    if base == "uniform" and not arg:
        rule = uniform
    elif base == "waterfill" and not arg:
        rule = waterfill
    elif base == "hybrid":
        try:
            eps_s = float(arg) if arg else 0.5
        except ValueError:
            raise UserError(f'bad hybrid weight in stepper "{name}" (use e.g. "hybrid:0.5")')
        if not 0.0 <= eps_s <= 1.0:
            raise UserError(f'hybrid weight must be in [0, 1], got {eps_s} in "{name}"')
        rule = functools.partial(hybrid, eps_s=eps_s)
    else:
        raise UserError(f'unknown stepper "{name}"{did_you_mean(base, STEPPER_NAMES)}; '
                        f"allowed: {allowed(STEPPER_NAMES)}")
    if space == "tau":
        return rule
    if schedule is None:
        raise ValueError(f'stepper "{name}" steps on alpha and needs a schedule')
    return functools.partial(on_alpha, rule, schedule=schedule)
