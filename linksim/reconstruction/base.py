"""The reconstruction hook: a stage after the decoder that maps received images to
reconstructed ones (Card D)."""

from __future__ import annotations

import tensorflow as tf
from pydantic import BaseModel
from sionna.phy import Block

from ..config import NoParams


class Reconstruction(Block):
    """Abstract reconstruction stage.

    A stage sees only what the receiver has after decoding: the received images (pixels
    from the decoded bits) and, through :meth:`reconstruct`, which pixels the decoder's
    per-block flags (CRC / LDPC syndrome) mark as correct; those pass through unchanged. Randomness (a diffusion sampler's noise) comes from Sionna's
    ``config.tf_rng``, which the runner seeds per batch.

    Subclasses set ``Params`` (a pydantic model of their scenario options) and implement
    :meth:`call`.

    Parameters
    ----------
    image_shape : (int, int)
        ``(H, W)`` of the images.
    params : pydantic.BaseModel
        Validated instance of ``Params``.

    Input
    -----
    images : [M, H, W], tf.float32 in [0, 1]
        Received images.

    Output
    ------
    images : [M, H, W], tf.float32 in [0, 1]
        Reconstructed images.
    """

    Params: type[BaseModel] = NoParams

    def __init__(self, image_shape, params: BaseModel | None = None, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.params = params if params is not None else self.Params()
        self.build_info = {}

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """Raise :class:`~linksim.errors.UserError` if this stage cannot serve the scenario."""

    def call(self, images):
        raise NotImplementedError

    def reconstruct(self, images, known=None):
        """The stage's output with correctly decoded pixels passed through.

        ``known`` [M, H, W] bool (or None: every pixel is the stage's): pixels whose bits
        all come from blocks the decoder flagged correct (CRC / zero LDPC syndrome). Those
        are returned as received, bit for bit; the stage still sees the whole received
        image (its correct pixels are context for the others). A batch whose pixels are
        all known skips the stage.
        """
        if known is None:
            return self(images)
        out = tf.cond(tf.reduce_all(known), lambda: tf.identity(images),
                      lambda: tf.cast(self(images), images.dtype))
        return tf.where(known, images, out)


class NoReconstruction(Reconstruction):
    """The received images as decoded."""

    def call(self, images):
        return images


def load_image_model(name: str, image_shape, task: str):
    """A trained image network (a checkpoint folder or a zoo name) and its config.json,
    checked to be made for ``task`` (``config["task"]``) and ``image_shape``."""
    from ..diffusion.checkpoints import load_checkpoint, resolve_model
    from ..errors import UserError, echo

    path = resolve_model(name)
    net, cfg = load_checkpoint(path, image_shape)
    if cfg.get("task") != task:
        raise UserError(f"model was trained for task {echo(cfg.get('task'))}; this stage needs {echo(task)}",
                        source=str(path), field="task")
    return net, cfg


def to_signed(images):
    """[0, 1] pixels -> the networks' [-1, 1] with a channel axis: [M, H, W] -> [M, H, W, 1]."""
    return (2.0 * images - 1.0)[..., None]


def to_pixels(x):
    """[-1, 1] with a channel axis -> [0, 1] pixels: [M, H, W, 1] -> [M, H, W] (clipped)."""
    import tensorflow as tf

    return tf.clip_by_value((x[..., 0] + 1.0) / 2.0, 0.0, 1.0)
