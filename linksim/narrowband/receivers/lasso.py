"""LASSO in the 2-D DFT (angular) domain, solved by FISTA."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from pydantic import Field

from .angular import dft
from .base import CalibratedParams, NarrowbandReceiver


class LassoParams(CalibratedParams):
    iterations: int = Field(200, ge=1, le=10000, description="FISTA iterations.")
    kappas: list[float] = Field(default_factory=lambda: [0.003, 0.01, 0.03, 0.1, 0.3], min_length=1, description="Candidate lambda / lambda_max (lambda_max: the smallest lambda with the all-zero solution, per realisation); the one with the lowest NMSE on the calibration channels is used at each pilot matrix and noise level.")


class LassoEstimator(NarrowbandReceiver):
    """``min_G 1/2 |Y - F_r G F_t^H X|^2 + lambda |G|_1`` by FISTA (complex soft
    thresholding, step ``1 / |X|_2^2``); ``lambda`` tuned on calibration channels;
    error variance measured there too."""

    Params = LassoParams

    def __init__(self, context, params=None):
        super().__init__(context, params)
        self._kappa = {}
        nr, nt = context.model.num_rx, context.model.num_tx
        self._fr = tf.constant(dft(nr).astype(np.complex64))
        self._ft = tf.constant(dft(nt).astype(np.complex64))

    def _fista(self, y, x, kappa):
        fr, ft = self._fr, self._ft
        y = tf.cast(y, tf.complex64)
        forward = lambda g: tf.matmul(tf.matmul(fr, g) @ tf.linalg.adjoint(ft), x)            # noqa: E731
        adjoint = lambda r: tf.linalg.adjoint(fr) @ tf.matmul(r, x, adjoint_b=True) @ ft      # noqa: E731
        step = 1.0 / float(np.linalg.norm(x.numpy(), 2) ** 2)
        grad0 = adjoint(y)
        lam = kappa * tf.reduce_max(tf.abs(grad0), axis=[1, 2], keepdims=True)             # [B, 1, 1]
        g = tf.zeros_like(grad0)
        z, t = g, 1.0
        for _ in range(self.params.iterations):
            v = z + tf.cast(step, tf.complex64) * adjoint(y - forward(z))
            mag = tf.abs(v)
            shrink = tf.maximum(mag - step * lam, 0.0) / tf.maximum(mag, 1e-30)
            g_new = v * tf.cast(shrink, tf.complex64)
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = g_new + tf.cast((t - 1.0) / t_new, tf.complex64) * (g_new - g)
            g, t = g_new, t_new
        return tf.matmul(fr, g) @ tf.linalg.adjoint(ft)

    def kappa(self, op, no: float) -> float:
        """The tuned ``lambda / lambda_max`` at these pilots and noise level."""
        key = (id(op), no)
        if key not in self._kappa:
            h = tf.constant(self.context.calibration_channels(self.params.calibration_samples))
            y = op.observe(h, no, tf.random.Generator.from_seed(self.context.scenario.seed + 5))
            x = tf.cast(op.x, tf.complex64)
            errs = [float(tf.reduce_mean(tf.abs(self._fista(y, x, k) - h) ** 2)) for k in self.params.kappas]
            self._kappa[key] = self.params.kappas[int(np.argmin(errs))]
            self.build_info.setdefault("kappa", {})[f"{no:.3g}"] = self._kappa[key]
        return self._kappa[key]

    def estimate(self, y, op, no, genie=None):
        return self._fista(y, tf.cast(op.x, tf.complex64), self.kappa(op, no)), None
