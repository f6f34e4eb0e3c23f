r"""Network-output parameterisations (eps / v / x0) for element-wise ``alpha, beta``.

With :math:`x = \alpha\odot h + \beta\odot\xi` and :math:`\alpha^2 + \beta^2 = 1`:

========  ==========================  ===========================  =========================
kind      target                      x0 from output ``o``          eps from output ``o``
========  ==========================  ===========================  =========================
``eps``   :math:`\xi`                 :math:`(x - \beta o)/\alpha`  :math:`o`
``v``     :math:`\alpha\xi-\beta h`   :math:`\alpha x - \beta o`    :math:`\beta x + \alpha o`
``x0``    :math:`h`                   :math:`o`                    :math:`(x - \alpha o)/\beta`
========  ==========================  ===========================  =========================

Divisions are guarded with ``divide_no_nan`` (``alpha = 0`` with ``eps``: x0 -> 0, the
prior mean of normalised data; ``beta = 0`` with ``x0``: eps -> 0). ``v`` needs no
division, which is why Card A uses it.

:class:`Denoiser` wraps a network ``f(x_hat, tau)`` into ``(x, tau) -> x0_hat``. With a
*backbone* (an exact denoiser of a fitted prior, e.g.
:class:`~linksim.diffusion.gmm.MixtureDenoiser`) the network output is a correction in
the chosen parameterisation: ``out_total = out_backbone + out``, i.e.

========  ===================================
kind      x0 with a backbone
========  ===================================
``v``     :math:`x_{0,b} - \beta o`
``x0``    :math:`x_{0,b} + o`
========  ===================================

so a network that outputs 0 leaves the backbone's estimate, and an exact element
(``beta = 0``) keeps it with ``v``.
"""

from __future__ import annotations

import tensorflow as tf

from .forward import normalize_input
from .schedules import Schedule, make_schedule
from ..graph import graph_function

__all__ = ["KINDS", "RESIDUAL_KINDS", "target", "to_x0", "to_eps", "to_v", "from_x0",
           "residual_scale", "residual_target", "Denoiser"]

KINDS = ("eps", "v", "x0")
#: Parameterisations a network on top of a backbone may use (eps would divide by alpha).
RESIDUAL_KINDS = ("v", "x0")


def _check(kind):
    if kind not in KINDS:
        raise ValueError(f'parameterisation must be one of {KINDS}, got "{kind}"')


def target(h, xi, alpha, beta, kind: str = "v") -> tf.Tensor:
    """Training target for ``x = alpha*h + beta*xi``.

    Input
    -----
    h, xi : [batch, ...], float
    alpha, beta : broadcastable to ``h``, float
    kind : "eps" | "v" | "x0"

    Output
    ------
    y : [batch, ...], float
    """
    _check(kind)
    if kind == "eps":
        return xi + tf.zeros_like(h)
    if kind == "v":
        return alpha * xi - beta * h
    return h + tf.zeros_like(xi)


def to_x0(x, out, alpha, beta, kind: str = "v") -> tf.Tensor:
    """Clean estimate from the network output.

    Input
    -----
    x : [batch, ...], float
        Diffusion variable (not the normalised network input).
    out : [batch, ...], float
        Network output.
    alpha, beta : broadcastable to ``x``, float
    kind : "eps" | "v" | "x0"

    Output
    ------
    x0_hat : [batch, ...], float
    """
    _check(kind)
    if kind == "eps":
        return tf.math.divide_no_nan(x - beta * out, alpha + tf.zeros_like(x))
    if kind == "v":
        return alpha * x - beta * out
    return out


def to_eps(x, out, alpha, beta, kind: str = "v") -> tf.Tensor:
    """Noise estimate from the network output (same inputs as :func:`to_x0`).

    Output
    ------
    eps_hat : [batch, ...], float
    """
    _check(kind)
    if kind == "eps":
        return out
    if kind == "v":
        return beta * x + alpha * out
    return tf.math.divide_no_nan(x - alpha * out, beta + tf.zeros_like(x))


def to_v(x, out, alpha, beta, kind: str = "v") -> tf.Tensor:
    """Velocity estimate ``alpha*eps - beta*x0`` from the network output.

    Output
    ------
    v_hat : [batch, ...], float
    """
    _check(kind)
    if kind == "v":
        return out
    return alpha * to_eps(x, out, alpha, beta, kind) - beta * to_x0(x, out, alpha, beta, kind)


def from_x0(x, x0, alpha, beta, kind: str = "v") -> tf.Tensor:
    """The network output that :func:`to_x0` maps to ``x0`` (inverse of ``to_x0``).

    Input
    -----
    x, x0 : [batch, ...], float
    alpha, beta : broadcastable to ``x``, float
    kind : "eps" | "v" | "x0"

    Output
    ------
    out : [batch, ...], float
    """
    _check(kind)
    if kind == "x0":
        return x0
    eps = tf.math.divide_no_nan(x - alpha * x0, beta + tf.zeros_like(x))
    if kind == "eps":
        return eps
    return alpha * eps - beta * x0


def residual_scale(alpha, beta, kind: str = "v"):
    """``s`` with ``x0_hat = x0_backbone + s * out`` (see the module table)."""
    if kind not in RESIDUAL_KINDS:
        raise ValueError(f'a network on a backbone predicts one of {RESIDUAL_KINDS}, got "{kind}"')
    return -beta if kind == "v" else tf.ones_like(beta)


def residual_target(h, x0_backbone, alpha, beta, kind: str = "v") -> tf.Tensor:
    """Training target of the correction: ``(h - x0_backbone) / s`` (0 where ``s = 0``).

    Input
    -----
    h, x0_backbone : [batch, ...], float
    alpha, beta : broadcastable to ``h``, float
    kind : "v" | "x0"

    Output
    ------
    out : [batch, ...], float
    """
    s = residual_scale(alpha, beta, kind) + tf.zeros_like(h)
    return tf.math.divide_no_nan(h - x0_backbone, s)


class Denoiser:
    r"""``(x, tau) -> x0_hat`` from a network ``f(x_hat, tau)`` (and an optional backbone).

    ``alpha, beta = schedule.alpha_beta(tau)``, ``x_hat = normalize_input(x, beta,
    input_norm)``, ``out = network(x_hat, tau)``, ``x0_hat = to_x0(x, out, alpha, beta,
    parameterisation)``. The network never sees the schedule logic.

    With ``backbone`` (an exact denoiser ``(x, tau) -> x0`` of a fitted prior): the
    network also sees the backbone's estimate ``x0_b`` (its input is ``[x_hat, x0_b]``,
    two complex features) and corrects it, ``x0_hat = x0_b + residual_scale * out``.
    ``network=None`` is the backbone alone.

    Parameters
    ----------
    network : callable | None
        ``network(x_hat, tau) -> out`` (a Keras model or any function).
    schedule : Schedule | dict | str
    parameterisation : "eps" | "v" | "x0"
    input_norm : "total" | "noise"
    beta_min : float
        Floor on ``beta`` for ``input_norm="noise"``.
    broadcast_tau : bool
        Pass ``tau`` broadcast to the shape of ``x`` (else as given; a per-sample scalar
        ``[batch, 1, ...]`` for identical diffusion).
    backbone : callable | None
        E.g. :class:`~linksim.diffusion.gmm.MixtureDenoiser` on the same schedule.

    Input
    -----
    x : [batch, ...], float
    tau : broadcastable to ``x``, float

    Output
    ------
    x0_hat : [batch, ...], float
    """

    def __init__(self, network, schedule, parameterisation: str = "v",
                 input_norm: str = "total", beta_min: float = 1e-2,
                 broadcast_tau: bool = False, backbone=None):
        _check(parameterisation)
        if network is None and backbone is None:
            raise ValueError("a denoiser needs a network, a backbone or both")
        if backbone is not None and network is not None:
            residual_scale(0.0, 0.0, parameterisation)  # checks the kind
        self.network = network
        self.schedule: Schedule = make_schedule(schedule)
        self.parameterisation = parameterisation
        self.input_norm = input_norm
        self.beta_min = float(beta_min)
        self.broadcast_tau = bool(broadcast_tau)
        self.backbone = backbone
        self._net = network

    def compile_network(self) -> "Denoiser":
        """Run the network under XLA (inside whatever function calls the denoiser); the
        backbone stays in graph mode, where TensorFlow's complex Cholesky algebra is
        much faster on the CPU."""
        if self.network is not None:
            self._net = graph_function(lambda x_hat, tau: self.network(x_hat, tau), jit_compile=True)
        return self

    def network_output(self, x, tau, x0_backbone=None):
        """Raw network output and ``(alpha, beta)`` for ``(x, tau)`` (``x0_backbone``:
        the backbone's estimate, needed when there is a backbone)."""
        tau = tf.cast(tau, x.dtype)
        alpha, beta = self.schedule.alpha_beta(tau)
        x_hat = normalize_input(x, beta, self.input_norm, self.beta_min)
        if self.backbone is not None:
            x_hat = tf.stack([x_hat[..., 0], x0_backbone[..., 0], x_hat[..., 1], x0_backbone[..., 1]], -1)
        if self.broadcast_tau:
            tau = tf.broadcast_to(tau, tf.shape(x))
        return self._net(x_hat, tau), alpha, beta

    def __call__(self, x, tau):
        if self.backbone is None:
            out, alpha, beta = self.network_output(x, tau)
            return to_x0(x, out, alpha, beta, self.parameterisation)
        x0_b = tf.cast(self.backbone(x, tau), x.dtype)
        if self.network is None:
            return x0_b
        out, alpha, beta = self.network_output(x, tau, x0_b)
        return x0_b + residual_scale(alpha, beta, self.parameterisation) * out

    def get_config(self) -> dict:
        """Schedule, parameterisation and normalisation (the network is saved apart)."""
        return {"schedule": self.schedule.to_config(),
                "parameterisation": self.parameterisation,
                "input_norm": self.input_norm, "beta_min": self.beta_min,
                "broadcast_tau": self.broadcast_tau}
