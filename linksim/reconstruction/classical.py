"""Classical image denoising: SciPy's median filter."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from typing import Optional

from pydantic import Field

from ..config import Strict
from .base import Reconstruction


class MedianParams(Strict):
    size: int = Field(3, ge=2, le=7, description="Side of the square median window [pixels].")
    threshold: Optional[float] = Field(None, gt=0, le=1, description="Switching median: replace only pixels that differ from their window's median by more than this (pixel scale [0, 1]); null: every pixel (plain median).")


class MedianFilter(Reconstruction):
    """``scipy.ndimage.median_filter`` per image (window ``size`` x ``size``, image edges
    mirrored). Bit errors in a pixel's high bits are impulses: the median removes isolated
    ones but also thins the strokes of small images; with ``threshold`` only outliers are
    replaced (a switching median filter)."""

    Params = MedianParams

    def _filter(self, images: np.ndarray) -> np.ndarray:
        from scipy.ndimage import median_filter

        size = (1, self.params.size, self.params.size)  # never across images
        med = median_filter(images, size=size, mode="reflect")
        if self.params.threshold is not None:
            med = np.where(np.abs(images - med) > self.params.threshold, med, images)
        return med.astype(np.float32)

    def call(self, images):
        out = tf.numpy_function(self._filter, [tf.cast(images, tf.float32)], tf.float32, stateful=False)
        return tf.ensure_shape(out, images.shape)
