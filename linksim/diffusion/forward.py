"""Element-wise (non-identical) forward process and the normalisations of Card A.

Conventions: tensors are ``[batch, ...]``; "per sample" means over all axes but the
first. ``alpha``/``beta`` broadcast against ``x`` (a per-sample scalar ``[batch, 1, ...]``
or a plain scalar is identical diffusion). Diffusion runs on real tensors with a standard
normal ``xi`` per real entry; complex channels are split into (re, im) first.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = [
    "diffuse",
    "observation_rewrite",
    "normalize_input",
    "normalize_data",
    "denormalize_data",
    "INPUT_NORMS",
]

INPUT_NORMS = ("total", "noise")


def _sample_axes(x):
    return tf.range(1, tf.rank(x))


def diffuse(h, xi, alpha, beta) -> tf.Tensor:
    r"""Forward process :math:`x = \alpha\odot h + \beta\odot\xi`.

    Input
    -----
    h : [batch, ...], float
        Clean (normalised) data.
    xi : [batch, ...], float
        Standard normal noise.
    alpha, beta : broadcastable to ``h``, float
        ``alpha^2 + beta^2 = 1`` element-wise.

    Output
    ------
    x : [batch, ...], float
    """
    return alpha * h + beta * xi


def observation_rewrite(h_bar, mask, p_std, *, unobserved: str = "zero", rng=None):
    r"""Rewrite an observation :math:`\bar H = M\odot H + P\odot N` (Card A, eq. 2-3).

    :math:`D = \sqrt{M^2 + P^2}`, :math:`\tilde H = \bar H / D`, :math:`A = M / D`,
    :math:`B = P / D`, so :math:`\tilde H = A\odot H + B\odot N` with
    :math:`A^2 + B^2 = 1`. The noise ``N`` must be standard normal per real entry in the
    units of ``H`` (i.e. ``p_std`` is the noise std per real entry after the data
    normalisation). Masked elements (``M = 0``, ``P > 0``) give ``A = 0, B = 1`` (pure
    noise); exact elements (``P = 0``, ``M > 0``) give ``A = 1, B = 0``.

    Guard ``D = 0`` (``M = 0`` and ``P = 0``: no sample and no noise statement): such an
    element carries no information, so it is treated as unobserved: ``A = 0, B = 1``, and
    ``H~`` is ``0`` (``unobserved="zero"``; an exact denoiser ignores it since ``A = 0``)
    or a fresh standard normal draw (``unobserved="noise"``, needs ``rng`` or uses
    Sionna's generator), which is what the forward process at ``A = 0`` would give and
    what a deterministic (DDIM) sampler needs to reproduce the prior there.

    Input
    -----
    h_bar : [batch, ...], float or complex
        First estimate.
    mask : broadcastable to ``h_bar``, float (real, >= 0; usually in {0, 1})
    p_std : broadcastable to ``h_bar``, float (>= 0)
    unobserved : "zero" | "noise"
    rng : tf.random.Generator | None

    Output
    ------
    h_tilde : [batch, ...], dtype of ``h_bar``
    a : [batch, ...], real float
        ``A``; the initial time is ``tau0 = schedule.tau_of_alpha(a)``.
    b : [batch, ...], real float
        ``B``.
    """
    h_bar = tf.convert_to_tensor(h_bar)
    rdtype = h_bar.dtype.real_dtype
    mask = tf.cast(mask, rdtype)
    p_std = tf.cast(p_std, rdtype)
    shape = tf.shape(h_bar)
    mask = tf.broadcast_to(mask, shape)
    p_std = tf.broadcast_to(p_std, shape)
    d = tf.sqrt(mask * mask + p_std * p_std)
    observed = d > 0
    safe_d = tf.where(observed, d, tf.ones_like(d))
    a = tf.where(observed, mask / safe_d, tf.zeros_like(d))
    b = tf.where(observed, p_std / safe_d, tf.ones_like(d))
    h_tilde = h_bar / tf.cast(safe_d, h_bar.dtype)
    if unobserved == "zero":
        fill = tf.zeros_like(h_tilde)
    elif unobserved == "noise":
        if rng is None:
            from sionna.phy import config

            rng = config.tf_rng
        if h_bar.dtype.is_complex:
            fill = tf.complex(rng.normal(shape, dtype=rdtype), rng.normal(shape, dtype=rdtype))
        else:
            fill = rng.normal(shape, dtype=rdtype)
    else:
        raise ValueError(f'unobserved must be "zero" or "noise", got "{unobserved}"')
    h_tilde = tf.where(observed, h_tilde, fill)
    return h_tilde, a, b


def normalize_input(x, beta, mode: str = "total", beta_min: float = 1e-2) -> tf.Tensor:
    r"""Network input from the diffusion variable (Card A, "identical total/noise power").

    ``"total"``: :math:`\hat x = x`.
    ``"noise"``: :math:`\hat x = \sqrt d\,\|\beta^{-1}\|^{-1}\beta^{-1}\odot x`, per sample,
    with :math:`d` the number of elements per sample. ``beta`` is floored at
    ``beta_min`` first so exact elements (``beta = 0``) give a large but finite weight; use
    the same ``beta_min`` in training and generation.

    Input
    -----
    x : [batch, ...], float
    beta : broadcastable to ``x``, float
    mode : "total" | "noise"
    beta_min : float

    Output
    ------
    x_hat : [batch, ...], float
    """
    if mode == "total":
        return x
    if mode != "noise":
        raise ValueError(f'input normalisation must be one of {INPUT_NORMS}, got "{mode}"')
    inv = 1.0 / tf.maximum(tf.broadcast_to(tf.cast(beta, x.dtype), tf.shape(x)), beta_min)
    axes = _sample_axes(x)
    d = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), x.dtype)
    norm = tf.sqrt(tf.reduce_sum(inv * inv, axis=axes, keepdims=True))
    return tf.sqrt(d) / norm * inv * x


def normalize_data(h):
    r"""Per-sample power normalisation :math:`\tilde h = \sqrt d\, h / \|h\|_2`.

    ``d`` is the number of real entries per sample (twice the element count for complex
    ``h``). A sample with ``||h|| = 0`` stays 0 (scale 0).

    Input
    -----
    h : [batch, ...], float or complex

    Output
    ------
    h_tilde : [batch, ...], dtype of ``h``
    scale : [batch, 1, ..., 1], real float
        ``||h|| / sqrt(d)``; :func:`denormalize_data` multiplies it back.
    """
    h = tf.convert_to_tensor(h)
    rdtype = h.dtype.real_dtype
    mag2 = tf.math.real(h * tf.math.conj(h)) if h.dtype.is_complex else h * h
    axes = _sample_axes(h)
    d = tf.cast(tf.reduce_prod(tf.shape(h)[1:]), rdtype)
    if h.dtype.is_complex:
        d = 2.0 * d
    scale = tf.sqrt(tf.reduce_sum(mag2, axis=axes, keepdims=True) / d)
    inv = tf.math.divide_no_nan(tf.ones_like(scale), scale)
    return h * tf.cast(inv, h.dtype), scale


def denormalize_data(h_tilde, scale) -> tf.Tensor:
    """Inverse of :func:`normalize_data`: ``h = scale * h_tilde``.

    Input
    -----
    h_tilde : [batch, ...], float or complex
    scale : [batch, 1, ..., 1], real float

    Output
    ------
    h : [batch, ...], dtype of ``h_tilde``
    """
    return h_tilde * tf.cast(scale, h_tilde.dtype)
