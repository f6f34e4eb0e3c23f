"""Regularised least squares (Card B's RLS baseline)."""

from __future__ import annotations

from typing import Optional

import tensorflow as tf
from pydantic import Field

from .base import CalibratedParams, NarrowbandReceiver


class RLSParams(CalibratedParams):
    regularisation: Optional[float] = Field(None, gt=0, description="lambda of (X X^H + lambda I)^-1; null: the noise variance (the LMMSE filter of an i.i.d. unit-power channel).")


class RegularisedLS(NarrowbandReceiver):
    """``H_hat = Y X^H (X X^H + lambda I)^-1``; error variance measured on calibration
    channels."""

    Params = RLSParams

    def estimate(self, y, op, no, genie=None):
        x = tf.cast(op.x, tf.complex64)
        lam = self.params.regularisation or no
        gram = tf.matmul(x, x, adjoint_b=True) + tf.cast(lam, tf.complex64) * tf.eye(x.shape[0], dtype=tf.complex64)
        w = tf.linalg.solve(gram, x)                                       # (X X^H + lam I)^-1 X, [Nt, Np]
        return tf.matmul(tf.cast(y, tf.complex64), w, adjoint_b=True), None  # Y X^H (X X^H + lam I)^-1
