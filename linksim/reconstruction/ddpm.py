"""Conditional DDPM after the decoder (Card D, case study 1): the received image is the
condition (a second input channel of the denoiser), sampling starts from pure noise at
``tau = T`` and runs ``steps`` steps of :func:`linksim.diffusion.samplers.sample`
(``eta = 1``: ancestral DDPM steps; ``eta = 0``: DDIM). The stage returns the average of
``samples`` posterior samples (default 8: an estimate of the conditional mean, the
MSE-optimal point estimate); ``samples: 1`` is one posterior sample, as in the paper."""

from __future__ import annotations

import tensorflow as tf
from pydantic import Field
from sionna.phy import config

from ..config import Strict
from ..diffusion.parameterisation import to_x0
from ..diffusion.samplers import sample
from ..diffusion.schedules import make_schedule
from .base import Reconstruction, load_image_model, to_pixels, to_signed
from ..graph import graph_function

TASK = "reconstruction-ddpm"


class DDPMParams(Strict):
    model: str = Field("ddpm-digits-cpu", description="Checkpoint folder or zoo name (trained by linksim train, task reconstruction-ddpm).")
    steps: int = Field(50, ge=1, le=1000, description="Sampler steps from tau = T to 0 (uniform in tau).")
    eta: float = Field(1.0, ge=0, le=1, description="1: ancestral DDPM steps; 0: deterministic DDIM.")
    samples: int = Field(8, ge=1, le=64, description="Posterior samples averaged per image: the default 8 estimates the conditional mean (the MSE-optimal point estimate) at 8x the cost of one sample; 1: one posterior sample, as the paper.")
    xla: bool = Field(True, description="Compile the denoiser with XLA.")


class DDPMReconstruction(Reconstruction):
    """Conditional DDPM after the decoder: the received image is the condition, sampling
    starts from pure noise (Card D); the mean of ``samples`` posterior samples (default 8)
    or one sample."""

    Params = DDPMParams

    def __init__(self, image_shape, params=None, precision=None, **kwargs):
        super().__init__(image_shape, params, precision, **kwargs)
        self.net, cfg = load_image_model(self.params.model, self.image_shape, TASK)
        self.schedule = make_schedule(cfg["schedule"])
        self.parameterisation = cfg.get("parameterisation", "eps")
        self.build_info = {"model": self.params.model, "T": self.schedule.T}
        self._net = graph_function(lambda x, tau, c: self.net(x, tau, c), jit_compile=self.params.xla)

    def denoiser(self, cond):
        """``(g, tau) -> x0`` for the condition ``cond`` [N, H, W, 1] in [-1, 1], clipped to
        the data range."""

        def x0(g, tau):
            alpha, beta = self.schedule.alpha_beta(tau)
            out = self._net(g, tf.reshape(tau, [-1]), cond)
            return tf.clip_by_value(to_x0(g, out, alpha, beta, self.parameterisation), -1.0, 1.0)

        x0.schedule = self.schedule
        return x0

    def posterior_samples(self, images, num_samples: int):
        """``num_samples`` reconstructions per image: [num_samples, M, H, W] in [0, 1]."""
        cond = to_signed(tf.cast(images, tf.float32))
        m = tf.shape(cond)[0]
        cond = tf.tile(cond, [num_samples, 1, 1, 1])
        x_init = config.tf_rng.normal(tf.shape(cond))
        tau0 = tf.fill([tf.shape(cond)[0], 1, 1, 1], float(self.schedule.T))
        x = sample(self.denoiser(cond), x_init, tau0, self.params.steps, stepper="uniform",
                   eta=self.params.eta, rng=config.tf_rng, schedule=self.schedule)
        return tf.reshape(to_pixels(x), tf.concat([[num_samples, m], self.image_shape], 0))

    def call(self, images):
        return tf.reduce_mean(self.posterior_samples(images, self.params.samples), axis=0)
