"""Split-complex layers of the Mixer backbone (tensors ``[..., 2C]``: real half, then
imaginary half); see :mod:`linksim.diffusion.nets.mixer` for the arithmetic."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

__all__ = ["ComplexDense", "ComplexNorm", "RealDense", "MixerUnit", "gelu"]


# --------------------------------------------------------------------------------------
# Building blocks (split-complex tensors [..., 2C]: real half, then imaginary half)
# --------------------------------------------------------------------------------------
def _complex_init(fan_in: int):
    # var(Wr) = var(Wi) = 1/(2 fan_in): a complex layer keeps the input power.
    return keras.initializers.RandomNormal(stddev=math.sqrt(0.5 / max(int(fan_in), 1)))


class ComplexDense(keras.layers.Layer):
    """Complex affine map ``y = W x + b`` along one axis of a split-complex tensor.

    Parameters
    ----------
    units : int
        Output size along ``axis``.
    axis : -1 | 1 | 2
        ``-1``: the feature axis (``[..., 2C_in] -> [..., 2 units]``); ``1`` / ``2``: the
        antenna / subcarrier axis of ``[B, Na, Nc, 2C]`` (token mixing).

    Input
    -----
    x : [B, Na, Nc, 2C] (or [..., 2C_in] for ``axis=-1``), float

    Output
    ------
    y : same rank; ``units`` along ``axis`` (``2 units`` for ``axis=-1``)
    """

    def __init__(self, units: int, axis: int = -1, zero_init: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, 1, 2):
            raise ValueError(f"axis must be -1, 1 or 2, got {axis}")
        self.units = int(units)
        self.axis = int(axis)
        self.zero_init = bool(zero_init)

    def build(self, input_shape):
        if self.axis == -1:
            n_in = int(input_shape[-1]) // 2
        else:
            n_in = int(input_shape[self.axis])
        self.n_in = n_in
        init = "zeros" if self.zero_init else _complex_init(n_in)
        p = self.name
        self.w_re = self.add_weight(name=f"{p}.w_re", shape=(n_in, self.units), initializer=init)
        self.w_im = self.add_weight(name=f"{p}.w_im", shape=(n_in, self.units), initializer=init)
        self.b = self.add_weight(name=f"{p}.b", shape=(2 * self.units,), initializer="zeros")

    def call(self, x):
        if self.axis == -1:
            w = tf.concat([tf.concat([self.w_re, self.w_im], axis=1),
                           tf.concat([-self.w_im, self.w_re], axis=1)], axis=0)
            return tf.tensordot(x, w, axes=[[x.shape.rank - 1], [0]]) + self.b
        # W4[n, r, k, s]: input part r (0 = re, 1 = im) -> output part s
        w4 = tf.stack([tf.stack([self.w_re, self.w_im], axis=-1),
                       tf.stack([-self.w_im, self.w_re], axis=-1)], axis=1)  # [N, 2, K, 2]
        shape = tf.shape(x)
        c = x.shape[-1] // 2
        x5 = tf.reshape(x, tf.concat([shape[:3], [2, c]], axis=0))
        if self.axis == 1:
            y = tf.einsum("bijrc,irks->bkjsc", x5, w4)
            bias = tf.reshape(self.b, [2, self.units])
            bias = tf.transpose(bias)[:, None, :, None]  # [K, 1, 2, 1]
        else:
            y = tf.einsum("bijrc,jrks->biksc", x5, w4)
            bias = tf.transpose(tf.reshape(self.b, [2, self.units]))[:, :, None]  # [K, 2, 1]
        y = y + bias
        out_shape = tf.concat([shape[:self.axis], [self.units], shape[self.axis + 1:]], axis=0)
        return tf.reshape(y, out_shape)


class ComplexNorm(keras.layers.Layer):
    """Complex RMS layer norm over the ``C`` features of each position.

    ``z -> g * z / sqrt(mean_c |z_c|^2 + epsilon) + b`` with a real gain ``g`` ``[C]``
    and a complex bias ``b`` ``[C]`` (a layer norm without the mean subtraction: it
    commutes with a common phase rotation and costs half the passes of a full one).

    Input / Output
    --------------
    x : [..., 2C], float
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        c = int(input_shape[-1]) // 2
        p = self.name
        self.g = self.add_weight(name=f"{p}.g", shape=(c,), initializer="ones")
        self.b = self.add_weight(name=f"{p}.b", shape=(2 * c,), initializer="zeros")

    def call(self, x):
        # mean over the 2C reals = mean |z|^2 / 2
        ms = tf.reduce_mean(tf.square(x), axis=-1, keepdims=True)
        s = tf.math.rsqrt(2.0 * ms + self.epsilon)
        return x * s * tf.concat([self.g, self.g], axis=0) + self.b


class RealDense(keras.layers.Layer):
    """Real dense layer with uniquely named weights (``units``, optional SiLU)."""

    def __init__(self, units: int, activation: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activation

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        p = self.name
        self.w = self.add_weight(name=f"{p}.w", shape=(n_in, self.units),
                                 initializer=keras.initializers.GlorotUniform())
        self.b = self.add_weight(name=f"{p}.b", shape=(self.units,), initializer="zeros")

    def call(self, x):
        y = tf.tensordot(x, self.w, axes=[[x.shape.rank - 1], [0]]) + self.b
        return tf.nn.silu(y) if self.activation == "silu" else y


def gelu(x):
    return tf.nn.gelu(x, approximate=True)


class MixerUnit(keras.layers.Layer):
    """One Mixer layer mixing along ``axis`` (1 = antennas, 2 = subcarriers).

    Input / Output
    --------------
    x : [B, Na, Nc, 2C], float
    """

    def __init__(self, axis: int, hidden: int, channel_hidden: int, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.hidden = int(hidden)
        self.channel_hidden = int(channel_hidden)
        p = self.name
        self.norm1 = ComplexNorm(name=f"{p}_norm1")
        self.norm2 = ComplexNorm(name=f"{p}_norm2")
        self.tok1 = ComplexDense(self.hidden, axis=self.axis, name=f"{p}_tok1")
        self.tok2 = None  # built with the axis length
        self.ch1 = ComplexDense(self.channel_hidden, axis=-1, name=f"{p}_ch1")
        self.ch2 = None

    def build(self, input_shape):
        n = int(input_shape[self.axis])
        width = int(input_shape[-1]) // 2
        p = self.name
        self.tok2 = ComplexDense(n, axis=self.axis, name=f"{p}_tok2")
        self.ch2 = ComplexDense(width, axis=-1, name=f"{p}_ch2")

    def call(self, x):
        y = self.tok2(gelu(self.tok1(self.norm1(x))))
        x = x + y
        y = self.ch2(gelu(self.ch1(self.norm2(x))))
        return x + y
