r"""A small conditional U-Net for images (Card D): the denoiser of the conditional DDPM
after the decoder, the same backbone as a one-step regressor, and the decoder of the
diffusion autoencoder of semantic communication.

Architecture (``H x W`` images, ``H`` and ``W`` even)::

    [x_t, cond map] -> conv 3x3 (C) -> res(C) -> conv 3x3 stride 2 (2C) -> res(2C) -> res(2C)
                    -> transposed conv stride 2 (C) -> concat skip -> res(C) -> conv 1x1 -> out

Each residual block is two 3x3 convolutions with group norm and SiLU; the time embedding
(sinusoidal features of ``tau / T`` -> dense -> SiLU -> dense) and, for a vector
condition, its embedding are added as a per-channel shift after the first convolution.

The condition is an image (``cond="image"``: concatenated with ``x_t`` as a channel) or a
vector (``cond="vector"``: a dense layer maps it to ``cond_channels`` feature maps that
are concatenated, and it also shifts every block). ``diffusion=False`` drops ``x_t`` and
the time: the network maps the condition alone to its output (the regressor).

The constructor arguments are the whole configuration (``get_config()`` /
``from_config()`` round-trip, JSON-able). Layers carry fixed names, so the checkpoint keys
(:func:`~linksim.diffusion.checkpoints.named_variables`: the layer paths) do not depend on
what else a process built.

Input
-----
x : [B, H, W, 1], float — the diffusion state (ignored with ``diffusion=False``)
tau : [B] or scalar, float — diffusion time in [0, T] (ignored with ``diffusion=False``)
cond : [B, H, W, 1] (image) or [B, cond_dim] (vector), float

Output
------
out : [B, H, W, 1], float
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from .base import CheckpointNet

CONDS = ("image", "vector")


class _ResBlock(keras.layers.Layer):
    def __init__(self, channels: int, groups: int, name: str):
        super().__init__(name=name)
        self.n1 = keras.layers.GroupNormalization(groups, name="n1")
        self.c1 = keras.layers.Conv2D(channels, 3, padding="same", name="c1")
        self.e = keras.layers.Dense(channels, name="emb")
        self.n2 = keras.layers.GroupNormalization(groups, name="n2")
        self.c2 = keras.layers.Conv2D(channels, 3, padding="same", name="c2")
        self.channels = channels

    def build(self, h_shape, emb_shape=None):
        shape = h_shape
        self.n1.build(shape)
        self.c1.build(shape)
        self.e.build(emb_shape)
        out = tuple(shape[:-1]) + (self.channels,)
        self.n2.build(out)
        self.c2.build(out)
        self.skip = None
        if shape[-1] != self.channels:
            self.skip = keras.layers.Conv2D(self.channels, 1, name="skip")
            self.skip.build(shape)
        self.built = True

    def call(self, h, emb):
        r = self.c1(tf.nn.silu(self.n1(h)))
        r = r + self.e(emb)[:, None, None, :]
        r = self.c2(tf.nn.silu(self.n2(r)))
        return (self.skip(h) if self.skip is not None else h) + r


class ImageDenoiserNet(CheckpointNet):
    """Conditional U-Net for small images (see the module docstring).

    Parameters
    ----------
    width : int
        Channels ``C`` at full resolution (``2C`` at half); a multiple of ``groups``.
    groups : int
        Group-norm groups.
    temb_dim : int
        Sinusoidal time features (even).
    T : int
        Largest diffusion time (scales ``tau`` of the embedding).
    cond : "image" | "vector"
    cond_dim : int
        Length of a vector condition.
    cond_channels : int
        Feature maps made from a vector condition.
    diffusion : bool
        False: no ``x`` and no time (one-step regressor).
    out_channels : int
    zero_output : bool
        Zero-initialise the output convolution (a network that predicts a correction
        starts at none).
    """

    def __init__(self, width: int = 32, groups: int = 8, temb_dim: int = 32, T: int = 200,
                 cond: str = "image", cond_dim: int = 0, cond_channels: int = 4,
                 diffusion: bool = True, out_channels: int = 1, zero_output: bool = False, **kwargs):
        kwargs.setdefault("name", "image_denoiser_net")
        super().__init__(**kwargs)
        if cond not in CONDS:
            raise ValueError(f"cond must be one of {CONDS}, got {cond!r}")
        if cond == "vector" and cond_dim < 1:
            raise ValueError("a vector condition needs cond_dim >= 1")
        if width % groups or (2 * width) % groups:
            raise ValueError(f"width ({width}) must be a multiple of groups ({groups})")
        self.width, self.groups, self.temb_dim, self.T = int(width), int(groups), int(temb_dim), int(T)
        self.cond, self.cond_dim, self.cond_channels = cond, int(cond_dim), int(cond_channels)
        self.diffusion, self.out_channels, self.zero_output = bool(diffusion), int(out_channels), bool(zero_output)
        c = self.width
        emb = 4 * c
        self.t1 = keras.layers.Dense(emb, name="t1")
        self.t2 = keras.layers.Dense(emb, name="t2")
        if cond == "vector":
            self.cv = keras.layers.Dense(emb, name="cond_emb")
        self.conv_in = keras.layers.Conv2D(c, 3, padding="same", name="conv_in")
        self.r1 = _ResBlock(c, groups, "r1")
        self.down = keras.layers.Conv2D(2 * c, 3, strides=2, padding="same", name="down")
        self.r2 = _ResBlock(2 * c, groups, "r2")
        self.r3 = _ResBlock(2 * c, groups, "r3")
        self.up = keras.layers.Conv2DTranspose(c, 4, strides=2, padding="same", name="up")
        self.r4 = _ResBlock(c, groups, "r4")
        self.n_out = keras.layers.GroupNormalization(groups, name="n_out")
        self.conv_out = keras.layers.Conv2D(out_channels, 1, name="conv_out",
                                            kernel_initializer="zeros" if zero_output else "glorot_uniform")
        self._data_shape = None

    # -- config ------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"width": self.width, "groups": self.groups, "temb_dim": self.temb_dim, "T": self.T,
                "cond": self.cond, "cond_dim": self.cond_dim, "cond_channels": self.cond_channels,
                "diffusion": self.diffusion, "out_channels": self.out_channels, "zero_output": self.zero_output}

    def build_for(self, data_shape):
        """Create all weights for ``(H, W)`` images (one eager call on zeros)."""
        hgt, wid = (int(s) for s in data_shape)
        if hgt % 2 or wid % 2:
            raise ValueError(f"image sides must be even, got {(hgt, wid)}")
        self._data_shape = (hgt, wid)
        if self.cond == "vector":
            self.cmap = keras.layers.Dense(hgt * wid * self.cond_channels, name="cond_map")
            cond = tf.zeros([1, self.cond_dim])
        else:
            cond = tf.zeros([1, hgt, wid, 1])
        self(tf.zeros([1, hgt, wid, 1]), tf.zeros([1]), cond)
        return self

    # -- forward -----------------------------------------------------------------------
    def _sinusoid(self, t):
        half = self.temb_dim // 2
        freqs = tf.exp(-math.log(1000.0) * tf.range(half, dtype=t.dtype) / float(half))
        arg = 1000.0 * t[:, None] * freqs
        return tf.concat([tf.sin(arg), tf.cos(arg)], axis=-1)

    def call(self, x, tau, cond):
        cond = tf.cast(cond, self.compute_dtype)
        b = tf.shape(cond)[0]
        hgt, wid = self._data_shape
        if self.diffusion:
            tau = tf.broadcast_to(tf.reshape(tf.cast(tau, self.compute_dtype), [-1]), [b])
            emb = self.t2(tf.nn.silu(self.t1(self._sinusoid(tau / float(self.T)))))
        else:
            emb = self.t2(tf.nn.silu(self.t1(tf.zeros([b, self.temb_dim], self.compute_dtype))))
        if self.cond == "vector":
            emb = emb + self.cv(cond)
            cmap = tf.reshape(self.cmap(cond), [b, hgt, wid, self.cond_channels])
        else:
            cmap = cond
        parts = [tf.cast(x, self.compute_dtype), cmap] if self.diffusion else [cmap]
        h0 = self.conv_in(tf.concat(parts, axis=-1))
        h1 = self.r1(h0, emb)
        h = self.r3(self.r2(self.down(h1), emb), emb)
        h = self.r4(tf.concat([self.up(h), h1], axis=-1), emb)
        return self.conv_out(tf.nn.silu(self.n_out(h)))


PROFILES = {
    # ~0.2 M parameters at width 32 (8x8 digits); the paper's MNIST U-Net is larger
    "cpu": {"width": 32, "groups": 8, "temb_dim": 32},
    "paper": {"width": 64, "groups": 8, "temb_dim": 64},
}
