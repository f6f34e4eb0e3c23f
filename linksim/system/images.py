"""Images as the link's payload (Card D): pixel bits packed into the information bits,
and the reconstruction stages after the decoder."""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf
from sionna.phy import Object, config
from sionna.phy.mapping import BinarySource

from ..data.images import BITS_PER_PIXEL, load_images, to_bits
from ..errors import UserError
from ..reconstruction import RECONSTRUCTIONS
from ..sums import all_finite, image_stats


class ImageSource(Object):
    """Information bits that carry images of the scenario's data set.

    A batch of information bits ``b`` of any static shape holds ``M = size(b) // bits
    per image`` whole images back to back (drawn uniformly from ``source.split``, with
    Sionna's ``config.tf_rng``), then random bits; a transport block or codeword may hold
    parts of two images.

    Input (call) : shape, list of int -> b float [shape]
    Input (images) : b [shape] -> images [M, H, W] float in [0, 1]
    """

    def __init__(self, scenario, precision=None):
        super().__init__(precision=precision)
        images = load_images(scenario.source.type, scenario.source.split)
        self.image_shape = tuple(images.shape[1:])
        self.bits_per_image = int(np.prod(self.image_shape)) * BITS_PER_PIXEL
        self.num_images = len(images)
        self._bits = tf.constant(to_bits(images), self.rdtype)  # [N, bits per image]
        self._weights = tf.constant(2.0 ** np.arange(BITS_PER_PIXEL - 1, -1, -1) / 255.0, tf.float32)
        self._random = BinarySource(precision=precision)

    def images_in(self, shape) -> int:
        """Whole images in information bits of ``shape``."""
        count = int(np.prod(shape)) // self.bits_per_image
        if count < 1:
            raise UserError(f"a batch carries {int(np.prod(shape))} information bits, fewer than one image "
                            f"({self.bits_per_image} bits): raise sweep.batch_size or the code rate",
                            field="sweep.batch_size")
        return count

    def __call__(self, shape):
        shape = [int(s) for s in shape]
        m = self.images_in(shape)
        idx = config.tf_rng.uniform([m], 0, self.num_images, tf.int32)
        bits = tf.reshape(tf.gather(self._bits, idx), [-1])
        rest = int(np.prod(shape)) - m * self.bits_per_image
        if rest:
            bits = tf.concat([bits, tf.reshape(self._random([rest]), [-1])], axis=0)
        return tf.reshape(bits, shape)

    def images(self, b):
        """The images carried by bits ``b`` (sent or decoded)."""
        m = self.images_in(b.shape)
        bits = tf.reshape(tf.cast(b, tf.float32), [-1])[: m * self.bits_per_image]
        pixels = tf.reshape(bits, [m, -1, BITS_PER_PIXEL]) @ self._weights[:, None]
        return tf.reshape(pixels, [m, *self.image_shape])

    def known_pixels(self, b, ok):
        """Which pixels of :meth:`images` ``(b)`` are known to be correct: every bit of the
        pixel comes from a block whose decoder flag ``ok`` is set.

        Input: ``b`` [..., k] bits, one block per last-axis row; ``ok`` [...] bool, one
        flag per block, or None (no flags: nothing is known). Output: [M, H, W] bool, or
        None. A pixel (or image) whose bits straddle two blocks needs both flags.
        """
        if ok is None:
            return None
        m = self.images_in(b.shape)
        k = int(b.shape[-1])
        bit_ok = tf.repeat(tf.reshape(ok, [-1]), k)[: m * self.bits_per_image]  # the flag of each bit's block
        pixel_ok = tf.reduce_all(tf.reshape(bit_ok, [m, -1, BITS_PER_PIXEL]), axis=-1)
        return tf.reshape(pixel_ok, [m, *self.image_shape])


class ImageOutputs:
    """Per-receiver results with an image source: the received images go through every
    reconstruction stage; each stage is one row, ``receiver/stage`` (the receiver's label
    alone without stages). With the decoder's per-block flags, every pixel whose bits all
    come from blocks that passed (CRC / zero syndrome) is returned as received
    (:meth:`~linksim.reconstruction.base.Reconstruction.reconstruct`)."""

    def __init__(self, scenario, source: ImageSource):
        self.source = source
        self.stages = []
        self.info = {}
        for spec in scenario.reconstruction:
            cls = RECONSTRUCTIONS.load(spec.name)
            t0 = time.time()
            stage = cls(source.image_shape, cls.Params.model_validate(spec.params))
            self.info[spec.display] = {"build_s": round(time.time() - t0, 2), **stage.build_info}
            self.stages.append((spec.display, stage))

    def rows(self, label: str, stats: dict, b, b_hat, ok=None) -> dict:
        """``{row label: stats}`` of one receiver: its bit/block ``stats`` plus the image
        sums of each stage's output (``ok``: the decoder's per-block success flags, or
        None: the stages work on every pixel)."""
        sent = self.source.images(b)
        received = self.source.images(b_hat)
        if not self.stages:
            return {label: {**stats, **image_stats(received, sent)}}
        known = self.source.known_pixels(b_hat, ok)
        rows = {}
        for name, stage in self.stages:
            out = stage.reconstruct(received, known)
            rows[f"{label}/{name}"] = {**stats, **image_stats(out, sent), "finite_image": tf.cast(all_finite(out), tf.float64)}
        return rows


def example_images(link, noise_key: str, values, count: int = 8, seed: int = 0) -> dict:
    """Sent and received (reconstructed) images of one batch per swept noise value, for
    example grids: ``{"sent": [count, H, W], "rows": {value: {row label: [count, H,
    W]}}}`` (``link.example_rows``; the same images at every value)."""
    from sionna.phy import config as sionna_config

    out = {"rows": {}}
    for value in values:
        sionna_config.seed = seed
        x, rows = link.example_rows(32, link.noise_variance(noise_key, float(value)))
        out["sent"] = x.numpy()[:count]
        out["rows"][value] = {label: img.numpy()[:count] for label, img in rows.items()}
    return out
