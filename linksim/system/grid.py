"""Resource grid and pilot patterns: DMRS-like combs, Sionna's Kronecker pattern,
arbitrary masks and SRS (comb + frequency hopping, :mod:`linksim.data.srs`), which Sionna
lacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sionna.phy.ofdm import PilotPattern, ResourceGrid

from ..data.masks import read_mask
from ..data.srs import SRSGeometry
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


def build_srs(s: Scenario) -> SRSGeometry:
    """The SRS layout of a sounding scenario: one occasion per sub-band
    (``history = num_hops``), the estimate used ``eval_delay_slots`` after the last."""
    p, c = s.pilots, s.carrier
    return SRSGeometry(c.num_subcarriers, p.comb, p.srs.num_hops, p.srs.periodicity_slots, p.srs.num_hops,
                       p.srs.eval_delay_slots, p.comb_offset, c.subcarrier_spacing_khz)


def build_resource_grid(s: Scenario, precision=None) -> ResourceGrid:
    """The data link's resource grid with its pilot pattern.

    For sounding the grid's "OFDM symbols" are the SRS occasions
    (:class:`~linksim.data.srs.SRSGeometry`), its pilots the SRS mask: any channel estimator
    written for Sionna's :class:`~sionna.phy.ofdm.PilotPattern` runs on SRS.
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
        pattern = pilots_from_mask(srs.mask()[None, None], precision=precision)
        return ResourceGrid(num_ofdm_symbols=srs.history, pilot_pattern=pattern, **common)
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


__all__ = ["build_resource_grid", "build_srs", "dmrs_mask", "pilots_from_mask"]
