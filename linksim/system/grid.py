"""Resource grid and pilot patterns: DMRS-like combs, Sionna's Kronecker pattern,
arbitrary masks and SRS (comb + frequency hopping), which Sionna lacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sionna.phy.ofdm import PilotPattern, ResourceGrid

from ..data.masks import read_mask
from ..errors import UserError

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario

_PILOT_SEED = 20240101  # pilot sequences are part of the waveform, not of the Monte-Carlo


def qpsk_sequence(shape, seed: int = _PILOT_SEED) -> np.ndarray:
    """Unit-power QPSK symbols (deterministic)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=tuple(shape) + (2,))
    return ((1 - 2 * bits[..., 0]) + 1j * (1 - 2 * bits[..., 1])) / np.sqrt(2)


def pilots_from_mask(mask: np.ndarray, values_mask: np.ndarray | None = None, precision=None) -> PilotPattern:
    """A Sionna PilotPattern from a reserved-RE ``mask`` [num_tx, num_streams, S, F].

    ``values_mask`` (same shape, default ``mask``) says where a stream sends a non-zero
    pilot; reserved REs outside it carry zeros (orthogonality between streams).
    """
    mask = mask.astype(bool)
    values_mask = mask if values_mask is None else values_mask.astype(bool)
    counts = mask.reshape(mask.shape[0], mask.shape[1], -1).sum(-1)
    if counts.min() != counts.max():
        raise UserError("every stream needs the same number of pilot REs", field="pilots")
    num = int(counts.max())
    seq = qpsk_sequence(mask.shape[:2] + (num,))
    pilots = np.zeros(mask.shape[:2] + (num,), np.complex64)
    for t in range(mask.shape[0]):
        for s in range(mask.shape[1]):
            # Sionna orders pilots by the flattened (symbol, subcarrier) position
            flat_mask = mask[t, s].reshape(-1)
            flat_vals = values_mask[t, s].reshape(-1)[flat_mask]
            pilots[t, s] = np.where(flat_vals, seq[t, s], 0)
    return PilotPattern(mask.astype(np.int32), pilots.astype(np.complex64), precision=precision)


def dmrs_mask(num_streams: int, num_symbols: int, num_subcarriers: int, symbols, comb: int, comb_offset: int):
    """DMRS-like layout: whole pilot symbols reserved; stream l sends pilots on
    subcarriers ``(f - comb_offset) % spacing == l`` with ``spacing = max(comb, streams)``."""
    spacing = max(comb, num_streams)
    reserved = np.zeros([1, num_streams, num_symbols, num_subcarriers], bool)
    values = np.zeros_like(reserved)
    f = np.arange(num_subcarriers)
    for l in range(num_streams):
        on = ((f - comb_offset) % spacing) == (l % spacing)
        for sym in symbols:
            reserved[0, l, sym, :] = True
            values[0, l, sym, on] = True
    return reserved, values


class SRSPattern:
    """Sounding reference signal: comb in frequency, hopping over sub-bands in time.

    Occasion ``j`` happens in slot ``j * periodicity_slots`` and sounds sub-band
    ``j % num_hops`` on subcarriers ``comb_offset + comb * k`` of that sub-band. The BS
    keeps the last ``num_hops`` occasions (one per sub-band) and uses the wideband
    estimate ``eval_delay_slots`` after the last one.

    The occasions are laid out as the "OFDM symbols" of a Sionna resource grid, so any
    channel estimator written for :class:`~sionna.phy.ofdm.PilotPattern` runs on SRS.
    """

    def __init__(self, num_subcarriers: int, comb: int, comb_offset: int, num_hops: int,
                 periodicity_slots: int, eval_delay_slots: int):
        if num_subcarriers % (num_hops * comb):
            raise ValueError("num_subcarriers must split into num_hops sub-bands of whole combs")
        self.num_subcarriers = num_subcarriers
        self.comb = comb
        self.comb_offset = comb_offset
        self.num_hops = num_hops
        self.periodicity_slots = periodicity_slots
        self.eval_delay_slots = eval_delay_slots
        self.subband_size = num_subcarriers // num_hops

    @property
    def num_occasions(self) -> int:
        return self.num_hops

    @property
    def occasion_slots(self) -> np.ndarray:
        return np.arange(self.num_occasions) * self.periodicity_slots

    @property
    def eval_slot(self) -> int:
        return int(self.occasion_slots[-1] + self.eval_delay_slots)

    @property
    def num_slots(self) -> int:
        """Slots spanned from the first occasion to the evaluation time (inclusive)."""
        return self.eval_slot + 1

    def subband(self, hop: int) -> np.ndarray:
        return np.arange(hop * self.subband_size, (hop + 1) * self.subband_size)

    def mask(self) -> np.ndarray:
        """[num_occasions, num_subcarriers] bool: the SRS REs of each occasion."""
        m = np.zeros([self.num_occasions, self.num_subcarriers], bool)
        for j in range(self.num_occasions):
            sb = self.subband(j % self.num_hops)
            m[j, sb[self.comb_offset::self.comb]] = True
        return m

    def latest_occasion(self) -> np.ndarray:
        """[num_subcarriers] int: the most recent occasion that sounded each subcarrier."""
        owner = np.zeros(self.num_subcarriers, int)
        for j in range(self.num_occasions):
            owner[self.subband(j % self.num_hops)] = j
        return owner

    def pilot_pattern(self, precision=None) -> PilotPattern:
        m = self.mask()[None, None]
        return pilots_from_mask(m, precision=precision)


def build_srs(s: Scenario) -> SRSPattern:
    p = s.pilots
    return SRSPattern(s.carrier.num_subcarriers, p.comb, p.comb_offset, p.srs.num_hops,
                      p.srs.periodicity_slots, p.srs.eval_delay_slots)


def build_resource_grid(s: Scenario, precision=None) -> ResourceGrid:
    """The data link's resource grid with its pilot pattern.

    For sounding the grid's "OFDM symbols" are the SRS occasions (see :class:`SRSPattern`).
    """
    c = s.carrier
    ns = s.mimo.num_streams
    scs = c.subcarrier_spacing_khz * 1e3
    common = dict(fft_size=c.num_subcarriers, subcarrier_spacing=scs, num_tx=1,
                  num_streams_per_tx=ns, cyclic_prefix_length=c.cyclic_prefix_length,
                  precision=precision)
    p = s.pilots
    if p.type == "srs":
        srs = build_srs(s)
        return ResourceGrid(num_ofdm_symbols=srs.num_occasions, pilot_pattern=srs.pilot_pattern(precision), **common)
    if p.type == "kronecker":
        rg = ResourceGrid(num_ofdm_symbols=c.num_ofdm_symbols, pilot_pattern="kronecker",
                          pilot_ofdm_symbol_indices=list(p.symbols), **common)
        return rg
    if p.type == "dmrs":
        reserved, values = dmrs_mask(ns, c.num_ofdm_symbols, c.num_subcarriers, p.symbols, p.comb, p.comb_offset)
        pattern = pilots_from_mask(reserved, values, precision)
    else:
        pattern = pilots_from_mask(read_mask(s.pilots.mask_file, s.mask_shape)[None], precision=precision)
    return ResourceGrid(num_ofdm_symbols=c.num_ofdm_symbols, pilot_pattern=pattern, **common)


__all__ = ["SRSPattern", "build_resource_grid", "build_srs", "dmrs_mask", "pilots_from_mask"]
