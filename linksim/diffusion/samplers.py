r"""Generation loop of non-identical diffusion (Card A, Algorithm 2 with update (12)).

Per step, with ``tau' = stepper(tau)`` (0 at the last step), ``alpha, beta`` of ``tau``
and ``alpha', beta'`` of ``tau'``, ``D = denoiser(g, tau)`` and fresh ``xi``:

.. math::
    g' = [\alpha' - \varepsilon\,\alpha\odot\beta'/\beta]\odot D
         + \varepsilon\,(\beta'/\beta)\odot g + \sqrt{1-\varepsilon^2}\,\beta'\odot\xi

``eps`` is either the paper's constant (``eps=1``: deterministic DDIM, ``eps=0``: all
fresh noise) or, from ``eta``, the element-wise DDIM-eta value
:math:`\varepsilon = \sqrt{1-\eta^2(1-\alpha^2/\alpha'^2)/\beta^2}` (``eta=0``: DDIM,
``eta=1``: ancestral DDPM, :math:`\varepsilon = \alpha\beta'/(\alpha'\beta)`). Only the
eta form is a consistent discretisation; a constant ``eps < 1`` forgets the observation
as the number of steps grows.

Identical diffusion is the same code with a per-sample scalar ``tau`` (``[batch, 1,...]``
or a scalar) that broadcasts against ``x``.
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from .schedules import make_schedule
from .steppers import get_stepper

__all__ = ["eta_to_eps", "update", "sample"]


def eta_to_eps(alpha, beta, alpha_next, eta) -> tf.Tensor:
    r"""Element-wise :math:`\varepsilon` of DDIM-eta for one step.

    :math:`\varepsilon = \sqrt{1-\eta^2(1-\alpha^2/\alpha'^2)/\beta^2}`, clipped to
    ``[0, 1]``; 1 where ``beta = 0`` (exact element) and where ``alpha' = 0``.

    Input
    -----
    alpha, beta : [...], float
        Current step.
    alpha_next : [...], float
        Next step (``>= alpha``).
    eta : float or broadcastable tensor

    Output
    ------
    eps : [...], float
    """
    eta = tf.cast(eta, alpha.dtype)
    safe_an = tf.where(alpha_next > 0, alpha_next, tf.ones_like(alpha_next))
    ratio = tf.where(alpha_next > 0, tf.square(alpha / safe_an), tf.ones_like(alpha))
    safe_b = tf.where(beta > 0, beta, tf.ones_like(beta))
    frac = tf.where(beta > 0, (1.0 - ratio) / tf.square(safe_b), tf.zeros_like(beta))
    return tf.sqrt(tf.clip_by_value(1.0 - tf.square(eta) * frac, 0.0, 1.0))


def update(g, x0, alpha, beta, alpha_next, beta_next, eps, noise=None) -> tf.Tensor:
    r"""One step of update (12); elements with ``beta = 0`` keep ``g`` (already exact).

    Input
    -----
    g : [batch, ...], float
        Current diffusion variable.
    x0 : [batch, ...], float
        Clean estimate ``D`` of ``g``.
    alpha, beta, alpha_next, beta_next : broadcastable to ``g``, float
    eps : float or broadcastable to ``g``
    noise : [batch, ...], float | None
        Standard normal ``xi``; ``None`` means no fresh noise (only valid for ``eps = 1``).

    Output
    ------
    g_next : [batch, ...], float
    """
    eps = tf.cast(eps, g.dtype)
    r = tf.math.divide_no_nan(beta_next, beta + tf.zeros_like(beta_next))
    g_next = (alpha_next - eps * alpha * r) * x0 + eps * r * g
    if noise is not None:
        g_next += tf.sqrt(tf.maximum(1.0 - tf.square(eps), 0.0)) * beta_next * noise
    return tf.where(beta > 0, g_next, g)


def _is_number(v, value):
    return isinstance(v, numbers.Real) and float(v) == value


def sample(denoiser, x_init, tau_init, steps: int, *, stepper="waterfill", eps=None,
           eta=None, rng=None, schedule=None, return_trajectory: bool = False):
    r"""Run the generation loop from ``(x_init, tau_init)`` down to ``tau = 0``.

    The loop has the Python-int length ``steps`` (it unrolls inside one
    ``tf.function``). Exactly one of ``eps`` and ``eta`` must be given.

    Parameters
    ----------
    denoiser : callable
        ``denoiser(x, tau) -> x0_hat`` (e.g. :class:`~.parameterisation.Denoiser` or
        :class:`~.gaussian.GaussianDenoiser`); must have ``.schedule`` unless
        ``schedule`` is given.
    x_init : [batch, ...], float
        Initial diffusion variable (``H~`` of Card A eq. 3, normalised).
    tau_init : broadcastable to ``x_init``, float
        Initial time ``tau0`` (``schedule.tau_of_alpha(A)``); a per-sample scalar
        ``[batch, 1, ...]`` (or a scalar) is identical diffusion.
    steps : int
        ``N_G`` (>= 1).
    stepper : str | callable
        Name for :func:`~.steppers.get_stepper` or ``(tau, tau0, num_steps) -> tau'``.
    eps : float | tensor | None
        Paper's constant ``epsilon`` in [0, 1].
    eta : float | tensor | None
        DDIM-eta (0 deterministic, 1 ancestral).
    rng : tf.random.Generator | None
        Defaults to ``sionna.phy.config.tf_rng``; not used when no noise is drawn
        (``eps == 1`` or ``eta == 0`` as Python numbers).
    schedule : Schedule | dict | str | None
        Defaults to ``denoiser.schedule``.
    return_trajectory : bool
        Also return the clean estimate of every step.

    Output
    ------
    x : [batch, ...], float
        Generated sample (shape of ``x_init``).
    x0_trajectory : [steps, batch, ...], float
        Only with ``return_trajectory``: ``denoiser(g, tau)`` at each step (its NMSE per
        step is the "NMSE per generation step" curve).
    """
    if (eps is None) == (eta is None):
        raise ValueError("give exactly one of eps (constant) or eta (DDIM-eta)")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    schedule = make_schedule(schedule) if schedule is not None else denoiser.schedule
    step_fn = get_stepper(stepper, schedule)

    g = tf.convert_to_tensor(x_init)
    if not g.dtype.is_floating:
        raise TypeError(f"x_init must be a real float tensor (split complex into re/im), "
                        f"got {g.dtype}")
    dtype = g.dtype
    tau0 = tf.cast(tau_init, dtype)
    tau = tau0
    alpha, beta = schedule.alpha_beta(tau)

    deterministic = _is_number(eps, 1.0) if eps is not None else _is_number(eta, 0.0)
    if not deterministic and rng is None:
        from sionna.phy import config

        rng = config.tf_rng

    trajectory = []
    for k in range(steps):
        if k == steps - 1:
            tau_next = tf.zeros_like(tau)
        else:
            tau_next = step_fn(tau, tau0, steps)
        alpha_next, beta_next = schedule.alpha_beta(tau_next)
        x0 = tf.convert_to_tensor(denoiser(g, tau))
        if return_trajectory:
            trajectory.append(x0)
        if eta is not None:
            e = eta_to_eps(alpha, beta, alpha_next, eta)
        else:
            e = tf.cast(eps, dtype)
        noise = None if deterministic else rng.normal(tf.shape(g), dtype=dtype)
        g = update(g, x0, alpha, beta, alpha_next, beta_next, e, noise)
        tau, alpha, beta = tau_next, alpha_next, beta_next
    if return_trajectory:
        return g, tf.stack(trajectory, axis=0)
    return g
