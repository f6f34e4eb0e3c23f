"""The digit classifier of the semantic metric (``metrics: [accuracy]``).

A semantic system is judged by what it keeps of an image, not only by its pixels: the
``accuracy`` metric is the share of reconstructed images that this fixed classifier
(:class:`~linksim.diffusion.nets.jscc.DigitClassifier`, trained on the clean train
split of the 8x8 digits, shipped in ``linksim/zoo``) assigns to the digit that was sent.
Its accuracy on the clean test split is its ceiling (in the card). Its training program
is :mod:`linksim.training.classifier` (spec ``kind: classifier``).
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from ..data.images import image_shape
from ..diffusion.checkpoints import (
    load_checkpoint,
    read_checkpoint_config,
    resolve_model,
)
from ..diffusion.nets.jscc import DigitClassifier
from ..errors import UserError
from .system import DATASET

__all__ = ["DEFAULT_CLASSIFIER", "check_classifier", "load_classifier", "correct_count"]

#: The classifier that ``metrics: [accuracy]`` uses unless ``semantic.classifier`` names another.
DEFAULT_CLASSIFIER = "digits-classifier-cpu"


def check_classifier(name=DEFAULT_CLASSIFIER) -> Path:
    """The folder of the classifier ``name``, checked without loading weights: it exists,
    names :class:`DigitClassifier` and was built for the digits' image shape."""
    folder = resolve_model(name)
    config = read_checkpoint_config(folder)
    if config["class"].rpartition(":")[2] != DigitClassifier.__name__:
        raise UserError(f"{config['class']} is not a DigitClassifier", source=str(folder), field="class")
    if tuple(config["data_shape"]) != image_shape(DATASET):
        raise UserError(f"built for images of {tuple(config['data_shape'])}, the digits are {image_shape(DATASET)}",
                        source=str(folder), field="data_shape")
    return folder


def load_classifier(name=DEFAULT_CLASSIFIER) -> DigitClassifier:
    """The classifier ``name`` (a zoo name or a folder), checked to be a
    :class:`DigitClassifier` for the digits' 8x8 images."""
    model, _ = load_checkpoint(check_classifier(name), image_shape(DATASET))
    return model


def correct_count(model: DigitClassifier, x_unit, labels) -> tf.Tensor:
    """Images that ``model`` assigns to their label.

    Input
    -----
    x_unit : [M, H, W], float
        Images in ``[0, 1]``.
    labels : [M], int

    Output
    ------
    count : [], float64
    """
    logits = model(2.0 * tf.cast(x_unit, tf.float32)[..., None] - 1.0)
    hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), tf.cast(labels, tf.int32))
    return tf.reduce_sum(tf.cast(hits, tf.float64))
