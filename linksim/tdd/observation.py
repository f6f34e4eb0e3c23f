"""The SRS observation model and the hold-last-value estimate.

Each SRS RE gives the LS estimate ``h + n`` (unit-modulus pilot, noise variance ``no`` per
RE and BS antenna; SNR = 1/no since channels have unit mean power). A PRB's
``12 / comb`` SRS REs are averaged into one observation per antenna pair, so the
observation noise variance is ``no * comb / 12``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..data.srs import SRSGeometry


def observation_noise_variance(no: float, comb: int) -> float:
    return float(no) * comb / 12.0


def observe(obs_clean, no: float, comb: int, rng):
    """Noisy observations [B, L, P, Nu, Nb] (complex64) of the clean ones at noise
    variance ``no`` per RE; ``rng`` a ``tf.random.Generator``."""
    sd = np.sqrt(observation_noise_variance(no, comb) / 2.0)
    shape = tf.shape(obs_clean)
    n = tf.complex(rng.normal(shape), rng.normal(shape)) * tf.cast(sd, tf.complex64)
    return tf.cast(obs_clean, tf.complex64) + n


def prb_history_index(geo: SRSGeometry) -> list[list[int]]:
    """Per PRB of the band, the flat token indices ``occasion * P + position`` of its
    observations in the history, newest first, padded with -1 to the longest list (a PRB
    never sounded: all -1)."""
    P = geo.prb_per_hop
    rows = [[] for _ in range(geo.num_prb)]
    for j in range(geo.history - 1, -1, -1):
        for pos, prb in enumerate(geo.prbs_of(j)):
            rows[int(prb)].append(j * P + pos)
    width = max(1, max(len(r) for r in rows))
    return [r + [-1] * (width - len(r)) for r in rows]


def hold_last_index(geo: SRSGeometry) -> list[int]:
    """Per PRB of the band, the flat token index of its newest observation (-1: never
    sounded) — the hold-last estimate as a gather
    (:class:`linksim.diffusion.nets.srs_transformer.SRSTransformer`'s ``skip_index``)."""
    return [row[0] for row in prb_history_index(geo)]


def hold_last(obs, geo: SRSGeometry):
    """Wideband estimate [B, F, Nu, Nb]: each PRB from the latest occasion that sounded it
    (zero for a PRB never sounded)."""
    P = geo.prb_per_hop
    cols = []
    for i in hold_last_index(geo):
        cols.append(tf.zeros_like(obs[:, 0, 0]) if i < 0 else obs[:, i // P, i % P])
    return tf.stack(cols, axis=1)
