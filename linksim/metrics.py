"""Metric accumulators: raw sums per receiver and point, turned into rates at the end.

Sums (see ``STAT_KEYS`` in :mod:`linksim.system.link`): bits, bit_errors, blocks,
block_errors, info_bits_ok, nmse_err, nmse_ref, se_sum, se_count, slots.
"""

from __future__ import annotations

import math

from .system.link import STAT_KEYS

# metric name -> csv column(s) it adds
METRIC_COLUMNS = {
    "ber": ["ber"],
    "bler": ["bler"],
    "goodput": ["goodput_mbps"],
    "nmse": ["nmse_db"],
    "se": ["se"],
}
COUNT_COLUMNS = ["bits", "bit_errors", "blocks", "block_errors"]


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


class Accumulator:
    """Raw sums of one receiver at one point."""

    def __init__(self):
        self.sums = {k: 0.0 for k in STAT_KEYS}
        self.batches = 0

    def add(self, stats: dict) -> None:
        for k, v in stats.items():
            self.sums[k] += float(v)
        self.batches += 1

    @property
    def ber(self) -> float:
        return _ratio(self.sums["bit_errors"], self.sums["bits"])

    @property
    def bler(self) -> float:
        return _ratio(self.sums["block_errors"], self.sums["blocks"])

    @property
    def nmse_db(self) -> float:
        r = _ratio(self.sums["nmse_err"], self.sums["nmse_ref"])
        return 10 * math.log10(r) if r == r and r > 0 else math.nan

    @property
    def se(self) -> float:
        return _ratio(self.sums["se_sum"], self.sums["se_count"])

    def goodput_mbps(self, slot_duration: float | None) -> float:
        if not slot_duration:
            return math.nan
        return _ratio(self.sums["info_bits_ok"], self.sums["slots"] * slot_duration) / 1e6

    def row(self, metrics, slot_duration: float | None) -> dict:
        """CSV fields: raw counts and the requested metrics."""
        row = {c: int(self.sums[c]) for c in COUNT_COLUMNS}
        values = {"ber": self.ber, "bler": self.bler, "nmse_db": self.nmse_db, "se": self.se,
                  "goodput_mbps": self.goodput_mbps(slot_duration)}
        for m in metrics:
            for col in METRIC_COLUMNS[m]:
                row[col] = values[col]
        row["batches"] = self.batches
        return row


def run_batches(link, no: float, batches: int, batch_size: int) -> dict[str, Accumulator]:
    """``batches`` Monte-Carlo batches of ``link`` at noise variance ``no``, summed per
    receiver label (for experiments and tests; the runner adds stopping rules)."""
    acc: dict[str, Accumulator] = {}
    for _ in range(batches):
        for label, stats in link.run_batch(batch_size, no).items():
            acc.setdefault(label, Accumulator()).add(stats)
    return acc


def columns(sweep_key: str, metrics) -> list[str]:
    cols = ["receiver", sweep_key] + COUNT_COLUMNS
    for m in metrics:
        cols += METRIC_COLUMNS[m]
    return cols + ["batches"]
