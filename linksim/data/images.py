"""Image data sets that ship inside an installed package (nothing is downloaded).

``digits``: scikit-learn's bundled 8x8 hand-written digits (1797 images, 17 grey levels
0..16, extra ``images``: ``pip install -e ".[images]"``). Pixels are mapped to 8-bit
values ``round(v * 255 / 16)`` and sent as 8 bits each (most significant first); models
see them as floats in [0, 1] (``pixel / 255``).

The split is fixed: a seeded permutation (seed 0) of the 1797 images; the first
``TEST_SIZE`` are the test split (what ``linksim run`` sends), the rest train the
reconstruction and semantic-communication models.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import UserError, echo

DATASETS = ("digits",)
BITS_PER_PIXEL = 8
TEST_SIZE = 397
SPLITS = ("train", "test")
INSTALL_HINT = 'the digits data set needs scikit-learn: pip install -e ".[images]"'


@lru_cache(maxsize=None)
def _digits_uint8() -> np.ndarray:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UserError(INSTALL_HINT, field="source.type") from None
    raw = load_digits().images  # float64 0..16, [1797, 8, 8]
    return np.round(raw * (255.0 / 16.0)).astype(np.uint8)


def load_images(name: str = "digits", split: str = "test") -> np.ndarray:
    """The images of one split as uint8 ``[N, H, W]`` (a copy)."""
    images = _digits_uint8()
    return images[_split_index(name, split)].copy()


def _split_index(name: str, split: str) -> np.ndarray:
    """Indices of ``split`` among the data set's images (checked: ``name``, ``split``): a
    seeded permutation, test first."""
    if name not in DATASETS:
        raise UserError(f"unknown image data set {echo(name)}; allowed: {', '.join(DATASETS)}", field="source.type")
    if split not in SPLITS:
        raise UserError(f"unknown split {echo(split)}; allowed: {', '.join(SPLITS)}", field="source.split")
    order = np.random.default_rng(0).permutation(len(_digits_labels()))
    return order[:TEST_SIZE] if split == "test" else order[TEST_SIZE:]


@lru_cache(maxsize=None)
def _digits_labels() -> np.ndarray:
    _digits_uint8()  # the install hint when scikit-learn is missing
    from sklearn.datasets import load_digits

    return load_digits().target.astype(np.int32)


def load_labels(name: str = "digits", split: str = "test") -> np.ndarray:
    """The class of every image of one split (the digit 0..9), int32 ``[N]``, in the order
    of :func:`load_images`."""
    return _digits_labels()[_split_index(name, split)].copy()


def image_shape(name: str = "digits") -> tuple[int, int]:
    return tuple(load_images(name, "test").shape[1:])


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]."""
    return images.astype(np.float32) / 255.0


def to_bits(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W]`` -> bits float32 ``[N, H*W*8]`` (MSB first)."""
    flat = images.reshape(len(images), -1)
    return np.unpackbits(flat[..., None], axis=-1).reshape(len(images), -1).astype(np.float32)
