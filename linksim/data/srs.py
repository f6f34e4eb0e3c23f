"""The SRS layout every family uses: a comb in frequency, hopping over sub-bands in time.

Occasion ``j`` (0 = the oldest of the ``history`` kept) happens in slot
``j * periodicity_slots`` and sounds sub-band :meth:`SRSGeometry.hop_of` ``(j)`` on
subcarriers ``comb_offset + comb * k`` of that sub-band; the last occasion sounds the last
sub-band. The estimate is used ``delay_slots`` after the last occasion.

- The OFDM sounding link (``link.mode: sounding``) keeps one occasion per sub-band
  (``history = num_hops``) and lays the occasions out as the "OFDM symbols" of a Sionna
  resource grid (its pilot pattern is :meth:`SRSGeometry.mask`).
- The SRS precoding link (``link.mode: srs_precoding``) keeps ``history`` occasions and
  works per PRB (:meth:`SRSGeometry.prbs_of`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SRSGeometry", "SUBCARRIERS_PER_PRB"]

SUBCARRIERS_PER_PRB = 12


@dataclass(frozen=True)
class SRSGeometry:
    """Timing and frequency layout of the SRS occasions a receiver keeps.

    Parameters
    ----------
    num_subcarriers : int — the sounded band (``12 * num_prb``)
    comb : int — SRS on every ``comb``-th subcarrier
    num_hops : int — sub-bands the band is split into, one per occasion in turn
    periodicity_slots : int — slots between occasions
    history : int — occasions kept (the last one sounds the last sub-band)
    delay_slots : int — slots from the last occasion to the use of the estimate
    comb_offset : int — first SRS subcarrier of a sub-band
    subcarrier_spacing_khz : int
    """

    num_subcarriers: int
    comb: int
    num_hops: int
    periodicity_slots: int
    history: int
    delay_slots: int = 0
    comb_offset: int = 0
    subcarrier_spacing_khz: int = 30

    def __post_init__(self):
        if self.num_subcarriers % (self.num_hops * self.comb):
            raise ValueError("num_subcarriers must split into num_hops sub-bands of whole combs")

    # time
    def hop_of(self, occasion: int) -> int:
        """Sub-band sounded by occasion ``occasion`` (0 = oldest kept)."""
        return (occasion - self.history) % self.num_hops

    def occasion_slots(self) -> np.ndarray:
        """[history] slot of each occasion (the first at slot 0)."""
        return np.arange(self.history) * self.periodicity_slots

    @property
    def eval_slot(self) -> int:
        """The slot in which the estimate is used."""
        return int(self.occasion_slots()[-1] + self.delay_slots)

    @property
    def num_slots(self) -> int:
        """Slots spanned from the first occasion to the evaluation time (inclusive)."""
        return self.eval_slot + 1

    @property
    def slot_s(self) -> float:
        return 1e-3 * 15 / self.subcarrier_spacing_khz

    def time_grid(self) -> tuple[int, int, list[int]]:
        """``(step_slots, num_samples, occasion_indices)``: a uniform grid holding every
        occasion and the evaluation time (its last sample)."""
        step = math.gcd(self.periodicity_slots, self.delay_slots) if self.delay_slots else self.periodicity_slots
        return step, self.eval_slot // step + 1, [int(t) // step for t in self.occasion_slots()]

    # subcarriers
    @property
    def subband_size(self) -> int:
        return self.num_subcarriers // self.num_hops

    def subband(self, hop: int) -> np.ndarray:
        """Subcarrier indices of sub-band ``hop``."""
        return np.arange(hop * self.subband_size, (hop + 1) * self.subband_size)

    def mask(self) -> np.ndarray:
        """[history, num_subcarriers] bool: the SRS REs of each occasion."""
        m = np.zeros([self.history, self.num_subcarriers], bool)
        for j in range(self.history):
            m[j, self.subband(self.hop_of(j))[self.comb_offset::self.comb]] = True
        return m

    def latest_occasion(self) -> np.ndarray:
        """[num_subcarriers] int: the most recent occasion that sounded each subcarrier's
        sub-band (-1: never)."""
        owner = -np.ones(self.num_subcarriers, int)
        for j in range(self.history):
            owner[self.subband(self.hop_of(j))] = j
        return owner

    # PRBs
    @property
    def num_prb(self) -> int:
        return self.num_subcarriers // SUBCARRIERS_PER_PRB

    @property
    def prb_per_hop(self) -> int:
        return self.num_prb // self.num_hops

    def prbs_of(self, occasion: int) -> np.ndarray:
        """PRB indices sounded by occasion ``occasion``."""
        start = self.hop_of(occasion) * self.prb_per_hop
        return np.arange(start, start + self.prb_per_hop)

    def latest_occasion_of_prbs(self) -> np.ndarray:
        """[num_prb] the most recent occasion that sounded each PRB (-1: never)."""
        owner = -np.ones(self.num_prb, int)
        for j in range(self.history):
            owner[self.prbs_of(j)] = j
        return owner

    def srs_subcarriers(self) -> np.ndarray:
        """[num_prb, 12 / comb] subcarrier indices of each PRB's SRS REs."""
        per = SUBCARRIERS_PER_PRB // self.comb
        return SUBCARRIERS_PER_PRB * np.arange(self.num_prb)[:, None] + self.comb_offset + self.comb * np.arange(per)[None, :]

    def target_subcarriers(self) -> np.ndarray:
        """[num_prb] the middle subcarrier of each PRB (where a precoder is evaluated)."""
        return SUBCARRIERS_PER_PRB * np.arange(self.num_prb) + SUBCARRIERS_PER_PRB // 2
