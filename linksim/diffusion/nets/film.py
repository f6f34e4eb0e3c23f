"""Card B's denoising network: a light CNN on the channel matrix with FiLM time
conditioning.

Input ``x`` [B, Nr, Nt, 2] (real and imaginary parts), ``tau`` [B] or [] (diffusion
step, 1..T). Layers (3x3 convolutions, "same" padding)::

    conv(2 -> C/2) + ReLU -> conv(C/2 -> C)
    -> FiLM: h * (1 + scale(t)) + bias(t)   (t: sinusoidal embedding -> one dense layer)
    -> conv(C -> C/2) + ReLU -> conv(C/2 -> C/4) + ReLU -> conv(C/4 -> 2)

The card writes the FiLM map as ``scale * h + bias``; the ``1 +`` only centres the
initial scale at one (same function class). The output is the predicted noise.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from .base import CheckpointNet

__all__ = ["FiLMDenoiserNet", "PROFILES"]


class FiLMDenoiserNet(CheckpointNet):
    """Card B's FiLM CNN (see the module docstring).

    Parameters
    ----------
    width : int
        Widest feature depth ``C`` (a multiple of 4).
    temb_dim : int
        Sinusoidal time features (even).
    T : int
        Diffusion steps (scales ``tau`` of the embedding).
    """

    def __init__(self, width: int = 32, temb_dim: int = 32, T: int = 100, **kwargs):
        kwargs.setdefault("name", "film_denoiser_net")
        super().__init__(**kwargs)
        if width % 4 or width < 4:
            raise ValueError(f"width must be a positive multiple of 4, got {width}")
        if temb_dim % 2:
            raise ValueError(f"temb_dim must be even, got {temb_dim}")
        self.width, self.temb_dim, self.T = int(width), int(temb_dim), int(T)
        c = self.width
        conv = lambda n, name, act=None: keras.layers.Conv2D(n, 3, padding="same", activation=act, name=name)  # noqa: E731
        self.c1, self.c2 = conv(c // 2, "c1", "relu"), conv(c, "c2")
        self.film = keras.layers.Dense(2 * c, name="film")
        self.c3, self.c4, self.c5 = conv(c // 2, "c3", "relu"), conv(c // 4, "c4", "relu"), conv(2, "c5")
        self._data_shape = None

    def get_config(self) -> dict:
        return {"width": self.width, "temb_dim": self.temb_dim, "T": self.T}

    def build_for(self, data_shape):
        """Create the weights for ``(Nr, Nt)`` channels (one eager call on zeros)."""
        self._data_shape = tuple(int(s) for s in data_shape)
        self(tf.zeros([1, *self._data_shape, 2]), tf.ones([1]))
        return self

    def macs(self) -> int:
        """Multiply-accumulates of one forward pass for one channel (convolutions and the
        FiLM layer; element-wise work not counted)."""
        nr, nt = self._data_shape
        c = self.width
        depths = [2, c // 2, c, c // 2, c // 4, 2]
        conv = sum(9 * a * b for a, b in zip(depths[:-1], depths[1:])) * nr * nt
        return int(conv + self.temb_dim * 2 * c)

    def _sinusoid(self, tau):
        half = self.temb_dim // 2
        freqs = tf.exp(-math.log(1000.0) * tf.range(half, dtype=tau.dtype) / float(half))
        arg = 1000.0 * (tau / float(self.T))[:, None] * freqs
        return tf.concat([tf.sin(arg), tf.cos(arg)], axis=-1)

    def call(self, x, tau):
        x = tf.cast(x, self.compute_dtype)
        b = tf.shape(x)[0]
        tau = tf.broadcast_to(tf.reshape(tf.cast(tau, self.compute_dtype), [-1]), [b])
        scale, bias = tf.split(self.film(self._sinusoid(tau)), 2, axis=-1)      # [B, C] each
        h = self.c2(self.c1(x))
        h = h * (1.0 + scale[:, None, None, :]) + bias[:, None, None, :]
        return self.c5(self.c4(self.c3(h)))


PROFILES = {
    # one expert; the pooled model of Card B takes about K = 4 times the parameters (width x 2)
    "cpu": {"width": 16, "temb_dim": 32},
    "paper": {"width": 64, "temb_dim": 64},
}
