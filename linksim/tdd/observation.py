"""The SRS observation model and the hold-last-value estimate.

Each SRS RE gives the LS estimate ``h + n`` (unit-modulus pilot, noise variance ``no`` per
RE and BS antenna; SNR = 1/no since channels have unit mean power). A PRB's
``12 / comb`` SRS REs are averaged into one observation per antenna pair, so the
observation noise variance is ``no * comb / 12``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .channels import SRSGeometry


def observation_noise_variance(no: float, comb: int) -> float:
    return float(no) * comb / 12.0


def observe(obs_clean, no: float, comb: int, rng):
    """Noisy observations [B, L, P, Nu, Nb] (complex64) of the clean ones at noise
    variance ``no`` per RE; ``rng`` a ``tf.random.Generator``."""
    sd = np.sqrt(observation_noise_variance(no, comb) / 2.0)
    shape = tf.shape(obs_clean)
    n = tf.complex(rng.normal(shape), rng.normal(shape)) * tf.cast(sd, tf.complex64)
    return tf.cast(obs_clean, tf.complex64) + n


def hold_last_index(geo: SRSGeometry) -> list[int]:
    """Per PRB of the band, the flat token index ``occasion * P + position`` of its newest
    observation in the history (-1: never sounded) — the hold-last estimate as a gather
    (:class:`linksim.tdd.backbone.SRSTransformer`'s ``skip_index``)."""
    P = geo.prb_per_hop
    out = []
    for prb, j in enumerate(geo.latest_occasion()):
        out.append(-1 if j < 0 else int(j) * P + int(np.where(geo.prbs_of(j) == prb)[0][0]))
    return out


def hold_last(obs, geo: SRSGeometry):
    """Wideband estimate [B, F, Nu, Nb]: each PRB from the latest occasion that sounded it
    (zero for a PRB never sounded)."""
    P = geo.prb_per_hop
    cols = []
    for i in hold_last_index(geo):
        cols.append(tf.zeros_like(obs[:, 0, 0]) if i < 0 else obs[:, i // P, i % P])
    return tf.stack(cols, axis=1)
