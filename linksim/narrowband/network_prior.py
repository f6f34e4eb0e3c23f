r"""A trained diffusion prior for narrowband channels: the FiLM CNN of a checkpoint as
the complex-domain noise predictor that the samplers of
:mod:`~linksim.narrowband.samplers` take.

A model with a Gaussian backbone (``prior.npz``: the Gaussian fit of its training set,
:class:`~linksim.narrowband.gaussian_prior.GaussianMatrixPrior`) predicts the backbone's
exact noise prediction plus the network's residual, ``eps = eps_G(h_t, t) + g_t net(h_t, t)``
(``g_t`` from ``residual_gate`` in ``config.json``, 1 where absent): without training it is
the Gaussian optimum.

The network works on real tensors with unit variance per real entry:
``x = sqrt(2) [Re h, Im h]`` (channels have unit power per complex entry), so for
``h_t = a h + b xi``, ``xi ~ CN(0, I)``, it predicts ``eps = sqrt(2) [Re xi, Im xi]``.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from ..diffusion.checkpoints import load_checkpoint, load_prior, resolve_model
from ..diffusion.estimate import to_complex as stacked_complex
from ..diffusion.estimate import to_real as stacked_real
from ..diffusion.schedules import linear_beta_schedule
from ..errors import UserError, echo
from ..graph import graph_function
from .gaussian_prior import GaussianMatrixPrior

__all__ = ["DATA_SCALE", "to_real", "to_complex", "NetworkPrior", "TASK"]

DATA_SCALE = math.sqrt(2.0)
TASK = "narrowband-dm"


def to_real(h):
    """[..., Nr, Nt] complex -> [..., Nr, Nt, 2] real, times ``DATA_SCALE``."""
    return DATA_SCALE * stacked_real(h)


def to_complex(x, dtype=tf.complex64):
    """Inverse of :func:`to_real`."""
    return stacked_complex(tf.cast(x, dtype.real_dtype) / DATA_SCALE)


class NetworkPrior:
    """A shipped (or trained) narrowband diffusion model.

    Parameters
    ----------
    name : str
        Zoo name or checkpoint folder.
    shape : (Nr, Nt) the caller needs (checked against the checkpoint).
    eager : call the network eagerly (needed by the ``tweedie-trace`` likelihood).
    network : False drops the network of a model with a Gaussian backbone (the backbone
        alone: the exact denoiser of its Gaussian fit).

    Attributes: ``alpha_bar`` [T+1] (``alpha_bar[0] = 1``), ``T``, ``net``, ``config``,
    ``backbone`` (None without one).

    Input (``eps``) : h_t [B, Nr, Nt] complex, t int (1..T) -> eps_hat [B, Nr, Nt] complex
    """

    def __init__(self, name: str, shape=None, eager: bool = False, network: bool = True):
        path = resolve_model(name)
        self.net, self.config = load_checkpoint(path, shape)
        mixture = load_prior(path, self.config)
        self.backbone = GaussianMatrixPrior.from_mixture(mixture) if mixture is not None else None
        if not network and self.backbone is None:
            raise UserError(f"{path} has no backbone to use without its network", source=str(path), field="backbone")
        self.use_network = bool(network)
        if self.config.get("task") != TASK:
            raise UserError(f"{path} is not a narrowband diffusion model (task {echo(self.config.get('task'))}, "
                            f"allowed: {TASK})", source=str(path), field="task")
        sch = self.config["schedule"]
        self.T = int(sch["T"])
        self.alpha_bar = linear_beta_schedule(self.T, sch["beta_start"], sch["beta_end"])
        self.name = str(name)
        gate = self.config.get("residual_gate") or [1.0] * (self.T + 1)
        if len(gate) != self.T + 1:
            raise UserError(f"residual_gate has {len(gate)} entries, allowed: T + 1 = {self.T + 1}", source=str(path),
                            field="residual_gate")
        self._gate = tf.constant(gate, tf.float32)
        if self.backbone is not None and not any(g > 0 for g in gate[1:]):
            self.use_network = False                                 # gated off at every step: not evaluated
        self._ab = tf.constant(np.sqrt(self.alpha_bar), tf.float32), tf.constant(np.sqrt(1.0 - self.alpha_bar), tf.float32)
        # eager for forward-mode JVPs (tweedie-trace): they do not pass through a tf.function
        self._call = self.net if eager else graph_function(lambda x, t: self.net(x, t), reduce_retracing=True)

    def eps(self, h_t, t):
        dt = h_t.dtype
        h = tf.cast(h_t, tf.complex64)
        out = to_complex(self._call(to_real(h), tf.cast(t, tf.float32))) if self.use_network else 0.0
        if self.backbone is not None:
            i = tf.cast(t, tf.int32)
            out = self.backbone.eps(h, tf.gather(self._ab[0], i), tf.gather(self._ab[1], i)) + \
                tf.cast(tf.gather(self._gate, i), tf.complex64) * out
        return tf.cast(out, dt)

    def denoise(self, h_t, t):
        """One-step Tweedie estimate ``(h_t - b eps) / a`` of the clean channel."""
        a, b = math.sqrt(self.alpha_bar[t]), math.sqrt(1.0 - self.alpha_bar[t])
        return (h_t - tf.cast(b, h_t.dtype) * self.eps(h_t, t)) / tf.cast(a, h_t.dtype)

    def parameters(self) -> int:
        """Trained network parameters (a backbone's basis is fitted, not trained)."""
        return int(sum(np.prod(v.shape) for v in self.net.weights))
