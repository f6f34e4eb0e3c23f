"""Where the pilots are: per stream, the pilot OFDM symbols and, for each, the positions
of its non-zero pilots in Sionna's pilot vector and on the subcarrier axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from sionna.phy.utils import flatten_last_dims


def time_interpolation_matrix(pilot_symbols, num_symbols: int) -> np.ndarray:
    """[num_symbols, len(pilot_symbols)] weights: linear between pilot symbols, nearest outside."""
    p = np.asarray(sorted(pilot_symbols), float)
    t = np.zeros([num_symbols, len(p)])
    for s in range(num_symbols):
        if len(p) == 1 or s <= p[0]:
            t[s, 0] = 1.0
        elif s >= p[-1]:
            t[s, -1] = 1.0
        else:
            k = np.searchsorted(p, s, side="right") - 1
            w = (s - p[k]) / (p[k + 1] - p[k])
            t[s, k], t[s, k + 1] = 1 - w, w
    return t


@dataclass
class PilotSymbol:
    symbol: int
    index: np.ndarray        # positions in the pilot vector of the estimator (num_pilots axis)
    subcarriers: np.ndarray  # their subcarriers


@dataclass
class StreamPilots:
    symbols: list[PilotSymbol]
    time_interp: np.ndarray  # [num_ofdm_symbols, num_pilot_symbols]


def pilot_layout(pilot_pattern) -> list[StreamPilots]:
    """Per-stream pilot layout in the order of Sionna's channel estimators (which gather
    pilots by ``tf.argsort`` of the flattened mask)."""
    mask = np.asarray(pilot_pattern.mask)
    pilots = np.asarray(pilot_pattern.pilots)
    _, ns, num_symbols, num_sc = mask.shape
    num_pilots = pilot_pattern.num_pilot_symbols
    order = tf.argsort(flatten_last_dims(tf.constant(mask)), axis=-1,
                       direction="DESCENDING").numpy()[0, :, :num_pilots]
    out = []
    for l in range(ns):
        sym, sc = np.divmod(order[l], num_sc)
        live = np.abs(pilots[0, l]) > 0
        entries = []
        for s in sorted(set(sym[live].tolist())):
            idx = np.nonzero(live & (sym == s))[0]
            entries.append(PilotSymbol(s, idx, sc[idx]))
        out.append(StreamPilots(entries, time_interpolation_matrix([e.symbol for e in entries], num_symbols)))
    return out


def interpolate_time(per_symbol, time_interp):
    """``[..., num_pilot_symbols, F]`` -> ``[..., num_ofdm_symbols, F]`` with fixed weights."""
    t = tf.constant(time_interp, per_symbol.dtype.real_dtype)
    return tf.einsum("ts,...sf->...tf", tf.cast(t, per_symbol.dtype), per_symbol)


def interpolate_time_var(var, var_noise, time_interp):
    """Error variance after :func:`interpolate_time`: ``[..., Sp, F]`` -> ``[..., S, F]``.

    The estimate at symbol ``s`` is ``sum_j w_sj h_j`` over the pilot symbols ``j``. The
    error of each ``h_j`` has a part caused by its own observation noise
    (``var_noise``, independent between pilot symbols) and a part the observations left
    unresolved (``var - var_noise``, shared by the pilot symbols of a slot whose channel
    does not change). So the variance is ``sum_j w_sj (var_j - var_noise_j) + sum_j
    w_sj^2 var_noise_j``. ``var_noise=None`` treats the whole error as shared (plain
    linear interpolation of ``var``).
    """
    if var_noise is None:
        return interpolate_time(var, time_interp)
    t = tf.constant(time_interp, var.dtype)
    shared = tf.einsum("ts,...sf->...tf", t, var - var_noise)
    return shared + tf.einsum("ts,...sf->...tf", t * t, var_noise)
