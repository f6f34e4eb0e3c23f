r"""Networks of deep joint source-channel coding (semantic communication) on small images.

:class:`SemanticEncoder` (all three systems)::

    x [B, H, W, 1] -> 4 x (conv 3x3 stride 2 "same" -> batch norm -> ReLU) -> flatten
                   -> dense 2k                         (variational=False: the latent)
                   -> dense 2k (mean), dense 2k (logvar)  (variational=True: the VAE heads)

Channels ``width, 2 width, 4 width, 4 width``; for 8x8 images the maps are
8 -> 4 -> 2 -> 1 -> 1. The raw output is not power-normalised: the system applies
:func:`normalise_power` (after the VAE's reparameterisation where there is one).

:class:`MatchedDecoder` (``ae`` and ``vae``) mirrors it::

    v [B, 2k] -> dense -> reshape [B, h4, w4, 4 width]
              -> transposed conv 3x3 (4 width) -> (2 width) -> (width), each with
                 batch norm and ReLU -> transposed conv 3x3 (1 channel) -> tanh

with stride 2 where the encoder halved the size and stride 1 where it did not (8x8:
1 -> 1 -> 2 -> 4 -> 8), so the output is ``[B, H, W, 1]`` in ``[-1, 1]``.

A latent of ``k`` complex symbols is a real vector of length ``2k``: real parts first,
then imaginary parts (:func:`to_real` / :func:`to_complex`).

Both classes follow the checkpoint protocol of :mod:`linksim.diffusion.checkpoints`:
constructor arguments are the whole configuration (``get_config()`` / ``from_config()``,
JSON-able), ``build_for((H, W))`` creates every weight with one call on zeros,
``data_shape`` is the built shape, and the checkpoint keys are the layer paths
(:func:`~linksim.diffusion.checkpoints.named_variables`; batch-norm moving statistics
included). Every layer has a fixed name, so the keys do not depend on what else a process
built.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from .base import CheckpointNet

__all__ = ["SemanticEncoder", "MatchedDecoder", "DigitClassifier", "PROFILES", "CONV_LAYERS", "BN_MOMENTUM",
           "normalise_power", "to_real", "to_complex", "encoder_sizes"]

#: Convolutions of the encoder (and transposed convolutions of the matched decoder).
CONV_LAYERS = 4
#: Batch-norm momentum (0.9 rather than Keras' 0.99: the moving statistics settle within
#: a few hundred steps, so short CPU runs evaluate with sensible statistics).
BN_MOMENTUM = 0.9

PROFILES = {
    # k = 16, 8x8 images: encoder 62.7 k (VAE 64.7 k), matched decoder 62.5 k parameters
    "cpu": {"width": 16},
    # k = 16: encoder 0.97 M (VAE 0.98 M), matched decoder 0.97 M parameters
    "paper": {"width": 64},
}


def _channels(width: int) -> list[int]:
    return [width, 2 * width, 4 * width, 4 * width]


def encoder_sizes(data_shape) -> list[tuple[int, int]]:
    """Feature-map sizes of the encoder: ``[(H, W), after conv 1, ..., after conv 4]``
    (stride 2 with "same" padding: ``ceil(size / 2)``)."""
    sizes = [tuple(int(s) for s in data_shape)]
    for _ in range(CONV_LAYERS):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


def normalise_power(v) -> tf.Tensor:
    r"""Scale each latent so that its ``k`` complex symbols have unit average power.

    ``v * sqrt(k) / ||v||``: the real ``2k``-vector gets squared norm ``k``, i.e.
    :math:`\frac1k\sum_i |z_i|^2 = 1` per image (exactly, not on average over a batch).

    Input
    -----
    v : [..., 2k], float

    Output
    ------
    v_norm : [..., 2k], float
    """
    v = tf.convert_to_tensor(v)
    k = tf.cast(tf.shape(v)[-1] // 2, v.dtype)
    sq = tf.reduce_sum(tf.square(v), axis=-1, keepdims=True)
    tiny = tf.constant(1e-12, v.dtype)
    return v * tf.sqrt(k / tf.maximum(sq, tiny))


def to_complex(v) -> tf.Tensor:
    """Real ``[..., 2k]`` (real parts, then imaginary parts) -> complex64 ``[..., k]``."""
    re, im = tf.split(tf.cast(v, tf.float32), 2, axis=-1)
    return tf.complex(re, im)


def to_real(z) -> tf.Tensor:
    """Complex ``[..., k]`` -> real float32 ``[..., 2k]`` (inverse of :func:`to_complex`)."""
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=-1)


class _Network(CheckpointNet):
    """Shared checkpoint protocol: config round trip, data shape, and building for an
    image input ``[1, H, W, 1]``."""

    def build_for(self, data_shape):
        """Create all weights for ``(H, W)`` images (one eager call on zeros)."""
        hgt, wid = (int(s) for s in data_shape)
        self._data_shape = (hgt, wid)
        self(tf.zeros([1, hgt, wid, 1]))
        return self


def _conv_stack(width: int):
    """The encoder's convolutions and batch norms (channels ``width, 2w, 4w, 4w``)."""
    convs = [keras.layers.Conv2D(c, 3, strides=2, padding="same", name=f"conv{i + 1}")
             for i, c in enumerate(_channels(width))]
    norms = [keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i + 1}") for i in range(CONV_LAYERS)]
    return convs, norms


def _run_stack(x, convs, norms, training):
    h = x
    for conv, norm in zip(convs, norms):
        h = tf.nn.relu(norm(conv(h), training=training))
    return h


class _Checkpointable(_Network):
    """A network of ``k`` channel symbols and a width."""

    def __init__(self, k: int, width: int, **kwargs):
        super().__init__(**kwargs)
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if int(width) < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        self.k, self.width = int(k), int(width)

    def get_config(self) -> dict:
        return {"k": self.k, "width": self.width}


class SemanticEncoder(_Checkpointable):
    """CNN encoder of an image into ``2k`` reals (see the module docstring).

    Parameters
    ----------
    k : int
        Complex channel symbols per image.
    width : int
        Channels of the first convolution (then ``2w, 4w, 4w``).
    variational : bool
        Two dense heads (mean, log-variance) instead of one (the VAE).

    Input
    -----
    x : [B, H, W, 1], float
        Image in ``[-1, 1]``.
    training : bool
        Batch statistics (and moving-average updates) in the batch norms.

    Output
    ------
    v : [B, 2k], float
        ``variational=False``: the latent before power normalisation.
    (mean, logvar) : ([B, 2k], [B, 2k]), float
        ``variational=True``.
    """

    def __init__(self, k: int, width: int = 16, variational: bool = False, **kwargs):
        kwargs.setdefault("name", "semantic_encoder")
        super().__init__(k, width, **kwargs)
        self.variational = bool(variational)
        self.convs, self.norms = _conv_stack(self.width)
        self.flatten = keras.layers.Flatten(name="flatten")
        if self.variational:
            self.mean = keras.layers.Dense(2 * self.k, name="mean")
            self.logvar = keras.layers.Dense(2 * self.k, name="logvar")
        else:
            self.out = keras.layers.Dense(2 * self.k, name="out")

    def get_config(self) -> dict:
        return {**super().get_config(), "variational": self.variational}

    def call(self, x, training=False):
        h = self.flatten(_run_stack(tf.cast(x, self.compute_dtype), self.convs, self.norms, training))
        if self.variational:
            return self.mean(h), self.logvar(h)
        return self.out(h)

    def moments(self, x, training=False):
        """``(mean, logvar)`` of the latent; ``logvar`` is ``None`` when not variational.

        Input
        -----
        x : [B, H, W, 1], float

        Output
        ------
        mean : [B, 2k], float
        logvar : [B, 2k], float | None
        """
        out = self(x, training=training)
        return out if self.variational else (out, None)


class MatchedDecoder(_Checkpointable):
    """Decoder mirroring :class:`SemanticEncoder` (see the module docstring).

    Parameters
    ----------
    k : int
        Complex channel symbols per image (input length ``2k``).
    width : int
        The encoder's ``width``.

    Input
    -----
    v : [B, 2k], float
        Received (equalised) latent as reals.
    training : bool

    Output
    ------
    x : [B, H, W, 1], float
        Image in ``[-1, 1]`` (tanh).
    """

    def __init__(self, k: int, width: int = 16, **kwargs):
        kwargs.setdefault("name", "matched_decoder")
        super().__init__(k, width, **kwargs)
        self._bottom = None

    def build_for(self, data_shape):
        """Create all weights for ``(H, W)`` images (one eager call on zeros).

        The layers are made here: the strides mirror the encoder's size changes; shapes
        the mirror cannot restore exactly (odd sides above 1) raise ``ValueError``.
        """
        sizes = encoder_sizes(data_shape)
        for i in range(CONV_LAYERS):
            big, small = sizes[CONV_LAYERS - 1 - i], sizes[CONV_LAYERS - i]
            if any(bg not in (sm, 2 * sm) for bg, sm in zip(big, small)):
                raise ValueError(f"the matched decoder cannot restore {sizes[0]} (encoder sizes {sizes}); "
                                 "use sides that are powers of 2")
        self._data_shape, self._bottom = sizes[0], sizes[-1]
        chans = _channels(self.width)
        self.dense = keras.layers.Dense(sizes[-1][0] * sizes[-1][1] * chans[-1], name="dense")
        self.deconvs, self.norms = [], []
        out_chans = chans[::-1][1:] + [1]  # 4w, 2w, w, 1
        for i, c in enumerate(out_chans):
            big, small = sizes[CONV_LAYERS - 1 - i], sizes[CONV_LAYERS - i]
            strides = tuple(2 if bg != sm else 1 for bg, sm in zip(big, small))
            self.deconvs.append(keras.layers.Conv2DTranspose(c, 3, strides=strides, padding="same",
                                                             name=f"deconv{i + 1}"))
            if i < CONV_LAYERS - 1:
                self.norms.append(keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i + 1}"))
        self(tf.zeros([1, 2 * self.k]))
        return self

    def call(self, v, training=False):
        b = tf.shape(v)[0]
        h4, w4 = self._bottom
        h = tf.reshape(self.dense(tf.cast(v, self.compute_dtype)), [b, h4, w4, _channels(self.width)[-1]])
        for i, deconv in enumerate(self.deconvs):
            h = deconv(h)
            if i < CONV_LAYERS - 1:
                h = tf.nn.relu(self.norms[i](h, training=training))
        return tf.tanh(h)


class DigitClassifier(_Network):
    """Image classifier of the semantic metric: the encoder's convolution stack (4 x conv
    3x3 stride 2, batch norm, ReLU; channels ``width, 2w, 4w, 4w``) and a dense head of
    ``classes`` logits. It scores what a semantic system keeps of an image: the share of
    reconstructed images it assigns to the class of the image sent.

    Parameters
    ----------
    classes : int
        Number of classes (10 digits).
    width : int
        Channels of the first convolution.

    Input
    -----
    x : [B, H, W, 1], float
        Image in ``[-1, 1]``.
    training : bool
        Batch statistics in the batch norms.

    Output
    ------
    logits : [B, classes], float
    """

    def __init__(self, classes: int = 10, width: int = 16, **kwargs):
        kwargs.setdefault("name", "digit_classifier")
        super().__init__(**kwargs)
        if int(classes) < 2 or int(width) < 1:
            raise ValueError(f"classes must be >= 2 and width >= 1, got {classes} and {width}")
        self.classes, self.width = int(classes), int(width)
        self.convs, self.norms = _conv_stack(self.width)
        self.flatten = keras.layers.Flatten(name="flatten")
        self.out = keras.layers.Dense(self.classes, name="logits")

    def get_config(self) -> dict:
        return {"classes": self.classes, "width": self.width}

    def call(self, x, training=False):
        return self.out(self.flatten(_run_stack(tf.cast(x, self.compute_dtype), self.convs, self.norms, training)))
