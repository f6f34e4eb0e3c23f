r"""Denoising networks (Keras models only; no schedule logic beyond the time averaging).

:class:`MixerDenoiserNet` is Card A's backbone: a complex MLP-Mixer with *interleaved
learning* and the *two-dimensional time embedding*.

Data layout
-----------
The network maps ``x_hat`` ``[batch, Na, Nc, 2 F]`` (``F = in_features`` complex input
features in the split layout below; ``F = 1``: real and imaginary part stacked last) and
the element-wise time ``tau`` ``[batch, Na, Nc]`` to an output ``[batch, Na, Nc, 2]``
(whatever the parameterisation asks for: ``v``, ``eps`` or ``x0``). With a prior backbone
(:class:`~linksim.diffusion.parameterisation.Denoiser`) the second feature is the
backbone's clean estimate and the output is a correction to it.

Complex arithmetic
------------------
Every weight is complex and stored as two real matrices ``W = Wr + i Wi``; features are
"split complex" real tensors ``[..., 2C]`` whose first half is the real and second half
the imaginary part. A complex dense layer along the feature axis is one real matmul with
the block matrix ``[[Wr, Wi], [-Wi, Wr]]`` (= ``(Wr + iWi)(xr + i xi)``); along a
token axis (antennas or subcarriers) it is one einsum with ``[Wr | Wi]`` followed by the
recombination ``re = A_re - B_im, im = A_im + B_re``. A complex multiply counts as 4 real
MACs in :func:`count_macs`. The non-linearity is split-complex GELU (GELU on real and
imaginary parts separately). The normalisation is a complex RMS layer norm per
position: divide by the RMS magnitude over the ``C`` features, then a real per-feature
gain and a complex per-feature bias.

Backbone
--------
``lift`` (complex dense ``F`` -> ``width``) -> ``num_blocks`` blocks -> complex layer norm
-> ``proj`` (complex dense ``width`` -> 1; zero-initialised with ``zero_output``, so an
untrained residual network outputs 0) -> ``[batch, Na, Nc, 2]``. A *block* is one
interleaved-learning layer of the paper (its Fig. 2): a subcarrier-domain unit (mixing
along ``Nc``) followed by an antenna-domain unit (mixing along ``Na``). Each unit is a
Mixer layer::

    y = y + TokenMLP_axis(Norm(y))      # complex dense N -> hidden -> N along the axis
    y = y + ChannelMLP(Norm(y))         # complex dense width -> channel_hidden -> width

so the mixing alternates Nc, Na, Nc, Na, ... through the network.

Two-dimensional time embedding
------------------------------
From ``tau`` ``[B, Na, Nc]``: ``tau_c = round(mean over subcarriers)`` ``[B, Na]`` and
``tau_a = round(mean over antennas)`` ``[B, Nc]`` (``embed_avg="tau"``), or the
power average ``round(tau_of_alpha(mean alpha(tau)))`` (``embed_avg="alpha"``, needs
``schedule``); ``round_tau=False`` keeps the averages continuous (the paper rounds). Both vectors go through the same sinusoidal features (``temb_dim``) and
the same two shared SiLU layers (``emb_hidden``); each block has its own head: a dense
layer for the ``tau_a`` tokens and one for the ``tau_c`` tokens, each giving two complex
``width``-vectors per token (two insertion points). The ``tau_a`` embedding varies along
subcarriers (broadcast over antennas), the ``tau_c`` one along antennas. Insertion
points of a block: (1) subcarrier unit input, (2) its output, (3) antenna unit input,
(4) its output:

* ``"row"``: the embedding along the axis the unit mixes: ``tau_a`` at (1), (2);
  ``tau_c`` at (3), (4).
* ``"col"``: the other axis: ``tau_c`` at (1), (2); ``tau_a`` at (3), (4).
* ``"both"``: ``tau_a + tau_c`` at (1) (block input) and (4) (block output) only.

The three modes have the same parameters. A scalar (or per-sample) ``tau`` is
identical diffusion: ``tau_c`` and ``tau_a`` are then constant vectors.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import tensorflow as tf

from ..schedules import make_schedule
from .base import CheckpointNet
from .layers import ComplexDense, ComplexNorm, MixerUnit, RealDense

__all__ = [
    "MixerDenoiserNet",
    "PROFILES",
    "make_network",
    "count_parameters",
    "count_macs",
    "mac_breakdown",
]


EMBED_MODES = ("row", "col", "both")
EMBED_AVGS = ("tau", "alpha")


# --------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------
class MixerDenoiserNet(CheckpointNet):
    r"""Complex interleaved MLP-Mixer with two-dimensional time embedding (Card A).

    See the module docstring for the architecture. The constructor arguments are the
    whole configuration (``get_config()`` / ``from_config()`` round-trip, JSON-able);
    the data shape ``(Na, Nc)`` is not part of it: the token-mixing weights are created
    at the first call (or by :meth:`build_for`).

    Parameters
    ----------
    num_blocks : int
        Interleaved layers (each: one subcarrier-mixing and one antenna-mixing unit).
    width : int
        Complex features per element (``C``).
    hidden : int
        Hidden width of the token-mixing MLPs (both axes).
    channel_hidden : int
        Hidden width of the feature MLPs.
    temb_dim : int
        Sinusoidal time features (even).
    emb_hidden : int
        Width of the two shared embedding layers.
    embed_mode : "row" | "col" | "both"
    embed_avg : "tau" | "alpha"
        Plain time average, or power average (needs ``schedule``).
    schedule : dict | None
        Schedule config (``Schedule.to_config()``) or a schedule object with ``alpha``,
        ``tau_of_alpha`` and ``to_config``; used only for ``embed_avg="alpha"``.
    round_tau : bool
        Round the averaged times to integers (the paper's eq. 17-20).
    max_period : float
        Longest period of the sinusoidal features.
    in_features : int
        Complex input features per element (``x_hat`` has ``2 in_features`` channels:
        the real parts, then the imaginary parts).
    zero_output : bool
        Zero-initialise the output projection (a residual network starts at 0).

    Input
    -----
    x_hat : [B, Na, Nc, 2 in_features], float
        Network input (real parts, then imaginary parts).
    tau : [B, Na, Nc] (also [B, Na, Nc, 1|2], [B, 1, 1(, 1)], [B] or scalar), float
        Element-wise time; a trailing re/im axis is averaged, lower ranks broadcast.

    Output
    ------
    out : [B, Na, Nc, 2], float
    """

    def __init__(self, num_blocks: int = 2, width: int = 4, hidden: int = 32,
                 channel_hidden: int = 16, temb_dim: int = 16, emb_hidden: int = 32,
                 embed_mode: str = "col", embed_avg: str = "tau", schedule=None,
                 round_tau: bool = True, max_period: float = 10000.0, in_features: int = 1,
                 zero_output: bool = False, **kwargs):
        super().__init__(**kwargs)
        if embed_mode not in EMBED_MODES:
            raise ValueError(f'embed_mode must be one of {EMBED_MODES}, got "{embed_mode}"')
        if embed_avg not in EMBED_AVGS:
            raise ValueError(f'embed_avg must be one of {EMBED_AVGS}, got "{embed_avg}"')
        if int(temb_dim) % 2:
            raise ValueError(f"temb_dim must be even, got {temb_dim}")
        for k, v in (("num_blocks", num_blocks), ("width", width), ("hidden", hidden),
                     ("channel_hidden", channel_hidden), ("temb_dim", temb_dim),
                     ("emb_hidden", emb_hidden), ("in_features", in_features)):
            if int(v) < 1:
                raise ValueError(f"{k} must be >= 1, got {v}")
        self.num_blocks = int(num_blocks)
        self.width = int(width)
        self.hidden = int(hidden)
        self.channel_hidden = int(channel_hidden)
        self.temb_dim = int(temb_dim)
        self.emb_hidden = int(emb_hidden)
        self.embed_mode = embed_mode
        self.embed_avg = embed_avg
        self.round_tau = bool(round_tau)
        self.max_period = float(max_period)
        self.in_features = int(in_features)
        self.zero_output = bool(zero_output)
        self._schedule = None
        self._schedule_config = None
        if schedule is not None:
            if isinstance(schedule, dict):
                self._schedule_config = dict(schedule)
                self._schedule = make_schedule(schedule)
            else:
                self._schedule = schedule
                self._schedule_config = schedule.to_config()
        if embed_avg == "alpha" and self._schedule is None:
            raise ValueError('embed_avg="alpha" needs a schedule (e.g. {"kind": "gamma", '
                             '"T": 1000})')

        c = self.width
        self.lift = ComplexDense(c, axis=-1, name="lift")
        self.emb1 = RealDense(self.emb_hidden, activation="silu", name="emb1")
        self.emb2 = RealDense(self.emb_hidden, activation="silu", name="emb2")
        self.units_c, self.units_a, self.heads_a, self.heads_c = [], [], [], []
        for k in range(self.num_blocks):
            self.units_c.append(MixerUnit(2, self.hidden, self.channel_hidden, name=f"b{k}_c"))
            self.units_a.append(MixerUnit(1, self.hidden, self.channel_hidden, name=f"b{k}_a"))
            self.heads_a.append(RealDense(4 * c, name=f"b{k}_head_a"))
            self.heads_c.append(RealDense(4 * c, name=f"b{k}_head_c"))
        self.norm_out = ComplexNorm(name="norm_out")
        self.proj = ComplexDense(1, axis=-1, zero_init=self.zero_output, name="proj")
        self._data_shape = None

    # -- config --------------------------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments as plain JSON-able values (``cls(**cfg)`` rebuilds)."""
        return {"num_blocks": self.num_blocks, "width": self.width, "hidden": self.hidden,
                "channel_hidden": self.channel_hidden, "temb_dim": self.temb_dim,
                "emb_hidden": self.emb_hidden, "embed_mode": self.embed_mode,
                "embed_avg": self.embed_avg,
                "schedule": (dict(self._schedule_config)
                             if self._schedule_config is not None else None),
                "round_tau": self.round_tau, "max_period": self.max_period,
                "in_features": self.in_features, "zero_output": self.zero_output}

    # -- building ------------------------------------------------------------------
    def build_for(self, data_shape):
        """Create all weights for ``data_shape = (Na, Nc)`` (one eager call on zeros)."""
        na, nc = (int(s) for s in data_shape)
        self(tf.zeros([1, na, nc, 2 * self.in_features]), tf.zeros([1, na, nc]))
        return self

    def build(self, x_hat_shape, tau_shape=None):
        x_shape = x_hat_shape
        if len(x_shape) != 4 or x_shape[-1] != 2 * self.in_features:
            raise ValueError(f"x_hat must be [batch, Na, Nc, {2 * self.in_features}], got shape {tuple(x_shape)}")
        self._data_shape = (int(x_shape[1]), int(x_shape[2]))
        self.built = True

    def named_variables(self) -> dict:
        """``{unique name: variable}`` in creation order (checkpoint keys)."""
        out = {}
        for v in self.weights:
            if v.name in out:
                raise RuntimeError(f"duplicate variable name {v.name}")
            out[v.name] = v
        return out

    # -- forward -------------------------------------------------------------------
    def _tau_matrix(self, tau, x):
        tau = tf.cast(tau, x.dtype)
        r = tau.shape.rank
        if r == 4:
            tau = tf.reduce_mean(tau, axis=-1)
        elif r == 1:
            tau = tau[:, None, None]
        elif r not in (0, 3):
            raise ValueError(f"tau must be [B, Na, Nc] (or [B, Na, Nc, 1|2], [B, 1, 1], [B], "
                             f"scalar), got rank {r}")
        return tf.broadcast_to(tau, tf.shape(x)[:3])

    def averaged_times(self, tau):
        """``(tau_c [B, Na], tau_a [B, Nc])`` of a time matrix ``tau`` ``[B, Na, Nc]``."""
        if self.embed_avg == "tau":
            tau_c = tf.reduce_mean(tau, axis=2)
            tau_a = tf.reduce_mean(tau, axis=1)
        else:
            alpha = tf.cast(self._schedule.alpha(tau), tau.dtype)
            tau_c = tf.cast(self._schedule.tau_of_alpha(tf.reduce_mean(alpha, axis=2)), tau.dtype)
            tau_a = tf.cast(self._schedule.tau_of_alpha(tf.reduce_mean(alpha, axis=1)), tau.dtype)
        if self.round_tau:
            tau_c, tau_a = tf.round(tau_c), tf.round(tau_a)
        return tau_c, tau_a

    def _sinusoid(self, t):
        half = self.temb_dim // 2
        freqs = tf.exp(-math.log(self.max_period)
                       * tf.range(half, dtype=t.dtype) / float(half))
        arg = t[..., None] * freqs
        return tf.concat([tf.sin(arg), tf.cos(arg)], axis=-1)

    def __call__(self, x_hat, tau, *args, **kwargs):
        # Keras wants tensors as positional inputs: accept Python / numpy times too.
        return super().__call__(tf.convert_to_tensor(x_hat), tf.convert_to_tensor(tau),
                                *args, **kwargs)

    def call(self, x_hat, tau, training=None):
        if x_hat.shape[-1] != 2 * self.in_features:
            raise ValueError(f"x_hat must be [batch, Na, Nc, {2 * self.in_features}], got shape {tuple(x_hat.shape)}")
        x = tf.cast(x_hat, self.compute_dtype)
        na = x.shape[1]
        tau = tf.stop_gradient(self._tau_matrix(tau, x))
        tau_c, tau_a = self.averaged_times(tau)
        emb = self.emb2(self.emb1(self._sinusoid(tf.concat([tau_c, tau_a], axis=1))))
        emb_c, emb_a = emb[:, :na], emb[:, na:]  # [B, Na, E], [B, Nc, E]

        h = self.lift(x)  # [B, Na, Nc, 2C]
        for k in range(self.num_blocks):
            ea0, ea1 = tf.split(self.heads_a[k](emb_a)[:, None], 2, axis=-1)  # [B,1,Nc,2C]
            ec0, ec1 = tf.split(self.heads_c[k](emb_c)[:, :, None], 2, axis=-1)  # [B,Na,1,2C]
            if self.embed_mode == "both":
                h = self.units_a[k](self.units_c[k](h + ea0 + ec0)) + ea1 + ec1
            else:
                first, second = ((ea0, ea1), (ec0, ec1))
                if self.embed_mode == "col":
                    first, second = second, first
                h = self.units_c[k](h + first[0]) + first[1]
                h = self.units_a[k](h + second[0]) + second[1]
        return self.proj(self.norm_out(h))


# --------------------------------------------------------------------------------------
# Profiles, parameter and MAC counts
# --------------------------------------------------------------------------------------
PROFILES = {
    # 26.1 k parameters, 3.8 MMAC at 8x72; ~0.1 s per Adam step (batch 64) on 2 CPU cores
    "cpu": {"num_blocks": 2, "width": 4, "hidden": 32, "channel_hidden": 16,
            "temb_dim": 16, "emb_hidden": 32},
    # 5 blocks, 616.7 k parameters at 32x64 (paper: 615 k); 1.35 GMAC (paper: 13.9)
    "paper": {"num_blocks": 5, "width": 32, "hidden": 128, "channel_hidden": 128,
              "temb_dim": 128, "emb_hidden": 128},
}


def make_network(profile: str = "cpu", **overrides) -> MixerDenoiserNet:
    """A :class:`MixerDenoiserNet` from a profile name, with constructor overrides."""
    if profile not in PROFILES:
        raise ValueError(f'unknown profile "{profile}"; allowed: {", ".join(PROFILES)}')
    return MixerDenoiserNet(**{**PROFILES[profile], **overrides})


def count_parameters(model) -> int:
    """Number of trainable scalars of a built model."""
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))


def _full_config(model_config) -> dict:
    if isinstance(model_config, MixerDenoiserNet):
        return model_config.get_config()
    if isinstance(model_config, str):
        model_config = PROFILES[model_config]
    params = inspect.signature(MixerDenoiserNet.__init__).parameters
    cfg = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    cfg.update(dict(model_config))
    return cfg


def mac_breakdown(model_config, Na: int, Nc: int) -> dict:
    """Analytic multiply-accumulates per sample, by part.

    Counts real MACs of the dense layers (a complex multiply = 4 real MACs); norms,
    activations, additions and the time averaging are not counted.

    Parameters
    ----------
    model_config : dict | str | MixerDenoiserNet
        ``get_config()`` dict, profile name or model.
    Na, Nc : int

    Output
    ------
    dict with ``backbone`` (lift, mixer units, projection), ``embedding_shared`` (the two
    shared layers on the ``Na + Nc`` averaged times), ``embedding_heads`` and ``total``.
    """
    cfg = _full_config(model_config)
    na, nc = int(Na), int(Nc)
    c, h, ch = cfg["width"], cfg["hidden"], cfg["channel_hidden"]
    e, td, nb = cfg["emb_hidden"], cfg["temb_dim"], cfg["num_blocks"]
    n = na * nc
    lift = 4 * cfg.get("in_features", 1) * c * n
    proj = 4 * c * 1 * n
    unit_c = 4 * 2 * nc * h * (na * c) + 4 * 2 * c * ch * n
    unit_a = 4 * 2 * na * h * (nc * c) + 4 * 2 * c * ch * n
    backbone = lift + proj + nb * (unit_c + unit_a)
    shared = (na + nc) * (td * e + e * e)
    heads = nb * (na + nc) * e * 4 * c
    return {"backbone": backbone, "embedding_shared": shared, "embedding_heads": heads,
            "total": backbone + shared + heads}


def count_macs(model_config, Na: int, Nc: int) -> int:
    """Total analytic MACs per sample (see :func:`mac_breakdown`)."""
    return int(mac_breakdown(model_config, Na, Nc)["total"])
