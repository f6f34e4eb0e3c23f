r"""Pilots and their observation operator.

``Y = H X + N`` with ``X`` in C^{Nt x Np} random unit-power QPSK and ``N ~ CN(0, s2 I)``.
Row ``r`` of ``H`` is seen as ``y_r = A h_r + n_r`` with ``A = X^T``. :class:`PilotOperator`
holds the thin SVD ``A = U diag(s) V^H`` (one per pilot matrix) and applies ``A``, ``A^H``
and the SVD factors in row form, i.e. to ``[..., Nr, Nt]`` / ``[..., Nr, Np]`` tensors.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["complex_normal", "qpsk_pilots", "PilotOperator"]


def complex_normal(shape, rng: tf.random.Generator, dtype=tf.complex128, var=1.0) -> tf.Tensor:
    """Draws of ``CN(0, var)`` (real and imaginary parts each of variance ``var/2``).

    Output
    ------
    z : ``shape``, ``dtype``; ``var`` may be a tensor broadcastable to ``shape``.
    """
    real = tf.as_dtype(dtype).real_dtype
    std = tf.sqrt(tf.cast(var, real) / 2.0)
    return tf.complex(std * rng.normal(shape, dtype=real), std * rng.normal(shape, dtype=real))


def qpsk_pilots(num_tx: int, num_pilots: int, rng: tf.random.Generator, dtype=tf.complex64) -> tf.Tensor:
    """Random unit-power QPSK pilot matrix.

    Output
    ------
    x : [num_tx, num_pilots], ``dtype``; every entry in ``(+-1 +- 1j)/sqrt(2)``.
    """
    bits = rng.uniform([2, num_tx, num_pilots], 0, 2, dtype=tf.int32)
    sym = tf.cast(1 - 2 * bits, tf.float64) / np.sqrt(2.0)
    return tf.cast(tf.complex(sym[0], sym[1]), dtype)


class PilotOperator:
    r"""``A = X^T`` for one pilot matrix ``X`` ([Nt, Np]) and its thin SVD (``s`` real,
    ``u`` [Np, m], ``v`` [Nt, m], ``m = min(Nt, Np)``).

    Row form: ``h`` is ``[..., Nr, Nt]`` (rows ``h_r``), ``y`` is ``[..., Nr, Np]``.
    """

    def __init__(self, x):
        self.x = tf.convert_to_tensor(x)
        s, u, v = tf.linalg.svd(tf.transpose(self.x))    # A = X^T = U diag(s) V^H
        self.s = s                                        # [m = min(Nt, Np)], real
        self.u = u                                        # [Np, m]
        self.v = v                                        # [Nt, m]

    @property
    def num_tx(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_pilots(self) -> int:
        return int(self.x.shape[1])

    def forward(self, h):
        """Noise-free pilots ``A h_r`` per row: ``H X``; [..., Nr, Nt] -> [..., Nr, Np]."""
        return tf.matmul(h, self.x)

    def adjoint(self, y):
        """``A^H y_r`` per row: ``Y X^H``; [..., Nr, Np] -> [..., Nr, Nt]."""
        return tf.matmul(y, self.x, adjoint_b=True)

    def u_h(self, y):
        """``U^H y_r`` per row; [..., Nr, Np] -> [..., Nr, m]."""
        return tf.matmul(y, tf.math.conj(self.u))

    def v_h(self, h):
        """``V^H h_r`` per row; [..., Nr, Nt] -> [..., Nr, m]."""
        return tf.matmul(h, tf.math.conj(self.v))

    def v_(self, z):
        """``V z_r`` per row; [..., Nr, m] -> [..., Nr, Nt]."""
        return tf.matmul(z, self.v, transpose_b=True)

    def observe(self, h, noise_var, rng: tf.random.Generator):
        """``Y = H X + N``, ``N ~ CN(0, noise_var)`` per entry; [..., Nr, Nt] -> [..., Nr, Np]."""
        y = self.forward(h)
        return y + complex_normal(tf.shape(y), rng, y.dtype, noise_var)
