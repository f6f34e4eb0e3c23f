"""One-step regressor: the DDPM's backbone trained with MSE to map a received image to
the clean one (the estimate of the conditional mean; the baseline Card D's paper lacks).
The network predicts the correction to the received image (an error-free image needs
none)."""

from __future__ import annotations

import tensorflow as tf
from pydantic import Field

from ..config import Strict
from .base import Reconstruction, load_image_model, to_pixels, to_signed
from ..graph import graph_function

TASK = "reconstruction-regressor"


class RegressorParams(Strict):
    model: str = Field("regressor-digits-cpu", description="Checkpoint folder or zoo name (trained by linksim train, task reconstruction-regressor).")
    xla: bool = Field(True, description="Compile the network with XLA.")


class RegressorReconstruction(Reconstruction):
    """One-step MSE regressor on the DDPM's backbone (estimates the conditional mean)."""

    Params = RegressorParams

    def __init__(self, image_shape, params=None, precision=None, **kwargs):
        super().__init__(image_shape, params, precision, **kwargs)
        self.net, cfg = load_image_model(self.params.model, self.image_shape, TASK)
        self.build_info = {"model": self.params.model}
        self._net = graph_function(lambda c: self.net(c, tf.zeros([tf.shape(c)[0]]), c), jit_compile=self.params.xla)

    def call(self, images):
        cond = to_signed(tf.cast(images, tf.float32))
        return to_pixels(cond + self._net(cond))
