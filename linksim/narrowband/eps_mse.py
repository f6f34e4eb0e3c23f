r"""Per-timestep noise-prediction error of a narrowband diffusion prior on given channels,
next to the exact Gaussian denoiser of a covariance (the bound a trained expert must
reach: the Gaussian fit of its own training set).

For ``h_t = a_t h + b_t xi``, ``xi ~ CN(0, I)``: ``mse(t) = mean |eps_hat(h_t, t) - xi|^2``
per complex entry, which is the training loss's mean squared error per real entry (the
networks see ``sqrt(2) [Re, Im]``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .pilots import complex_normal

__all__ = ["eps_mse_curve"]


def eps_mse_curve(eps_fns: dict, h, alpha_bar, steps, seed: int = 0, draws: int = 2, batch: int = 256) -> dict:
    """``{name: [mse(t) for t in steps]}`` for each ``eps_fns[name](h_t, t)`` on the
    channels ``h`` [N, Nr, Nt] (the same ``xi`` for every name; ``draws`` noise draws per
    channel and step)."""
    h = tf.constant(np.asarray(h), tf.complex64)
    out = {k: [] for k in eps_fns}
    for t in steps:
        a, b = float(np.sqrt(alpha_bar[t])), float(np.sqrt(1.0 - alpha_bar[t]))
        rng = tf.random.Generator.from_seed(seed * 100003 + int(t))
        sums = dict.fromkeys(eps_fns, 0.0)
        count = 0
        for _ in range(draws):
            for i in range(0, int(h.shape[0]), batch):
                x = h[i:i + batch]
                xi = complex_normal(tf.shape(x), rng, tf.complex64)
                h_t = a * x + b * xi
                for k, fn in eps_fns.items():
                    sums[k] += float(tf.reduce_sum(tf.abs(tf.cast(fn(h_t, t), tf.complex64) - xi) ** 2))
                count += int(tf.size(x))
        for k in eps_fns:
            out[k].append(sums[k] / count)
    return out
