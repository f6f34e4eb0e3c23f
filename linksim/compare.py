"""Gaps between receivers of one or more runs: NMSE per point and the noise level at a BLER target.

``linksim compare RUN [RUN ...] --reference lmmse`` prints, per receiver, the NMSE
difference to the reference receiver at every point and the swept value where its BLER
crosses the target (log-linear interpolation between the two points around the crossing),
so statements such as "within 0.3 dB of LMMSE at 10 % BLER" are read off committed
results, not by eye.

Several runs (sweeping the same key) go into one set of tables. A receiver label found in
more than one run is shown as ``<run>/<label>``, ``<run>`` being the run's name (its folder
name where two runs share a name); ``--reference`` takes either form, the bare label only
where it is unambiguous. The NMSE table has a column for every swept value of any run
(``nan`` where a receiver or the reference lacks the point).

When metrics.csv has the BLER bounds (``bler_lo``, ``bler_hi``), the crossing comes with
a 95 % interval: the crossings of the lower-bound and of the upper-bound curves (for a
falling curve the lower-bound curve reaches the target first). The gap to the reference
gets the conservative interval ``[x_lo - ref_hi, x_hi - ref_lo]``. A bound curve that
does not cross the target inside the sweep leaves that end open, printed ``?``.

Resolution: with ``N`` blocks per point, zero block errors still leave BLER up to about
``3 / N`` (the rule of three, the one-sided 95 % upper bound), so a run cannot tell BLERs
below ``3 / N`` apart (``N`` the smallest block count of its points). Each run's
resolution is printed; a curve that does not reach a target below it is marked
``unresolved (needs >= M blocks/point)`` rather than ``not reached``.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from .errors import UserError, allowed, did_you_mean, echo
from .plotting import RULE_OF_THREE, Run, as_float, load_runs


def crossing(xs, ys, target: float) -> float | None:
    """First ``x`` where the decreasing curve ``ys`` falls to ``target`` (log-linear
    interpolation); ``None`` if it never gets there or starts below it."""
    pts = [(float(x), float(y)) for x, y in zip(xs, ys) if not math.isnan(y)]
    for (x0, y0), (x1, y1) in pairwise(pts):
        if y0 >= target > y1:
            f = (math.log(y0) - math.log(target)) / (math.log(y0) - math.log(y1))
            return x0 + f * (x1 - x0)
    return None


def crossing_interval(xs, bler, bler_lo, bler_hi, target: float):
    """``(x, x_lo, x_hi)``: the crossings (:func:`crossing`) of the BLER curve, of its
    lower-bound curve and of its upper-bound curve; each may be None."""
    return crossing(xs, bler, target), crossing(xs, bler_lo, target), crossing(xs, bler_hi, target)


def _bler(rows, column: str = "bler") -> list[float]:
    """BLER (or a bound) per point; a zero counts as half an error in the point's blocks
    (so that the log-linear interpolation towards it stays finite)."""
    return [as_float(r.get(column)) or 0.5 / max(as_float(r.get("blocks")), 1.0) for r in rows]


def _table(rows: list[list[str]]) -> list[str]:
    """Right-aligned columns; the first row is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _fmt(x, sign: bool = False) -> str:
    return "?" if x is None else (f"{x:+.2f}" if sign else f"{x:.2f}")


def _minus(a, b):
    return None if a is None or b is None else a - b


class Curve(NamedTuple):
    """One receiver of one run: its bare label, its run and its rows sorted by the swept value."""

    label: str
    run: Run
    rows: list[dict]


def curves(runs: list[Run], key: str) -> dict[str, Curve]:
    """Every receiver of every run by display label: the bare label, or ``<run>/<label>``
    where the label occurs in more than one run."""
    per_run = [list(dict.fromkeys(r["receiver"] for r in run.rows)) for run in runs]
    count = Counter(lab for labels in per_run for lab in labels)
    out = {}
    for run, labels in zip(runs, per_run):
        for lab in labels:
            rows = sorted((r for r in run.rows if r["receiver"] == lab), key=lambda r: float(r[key]))
            out[f"{run.name}/{lab}" if count[lab] > 1 else lab] = Curve(lab, run, rows)
    return out


def resolve_reference(reference: str, by: dict[str, Curve], source: str | None) -> str:
    """The display label that ``reference`` names (a display label, or a bare label found in
    one run only); a :class:`UserError` listing the allowed labels otherwise."""
    if reference in by:
        return reference
    prefixed = [lab for lab, c in by.items() if c.label == reference]
    if prefixed:
        raise UserError(f"receiver {echo(reference)} is in more than one run; name one of: {allowed(prefixed)}",
                        source=source, field="--reference")
    where = "this run" if len({c.run.path for c in by.values()}) == 1 else "these runs"
    raise UserError(f"no receiver {echo(reference)} in {where}{did_you_mean(reference, by)}; allowed: {allowed(by)}",
                    source=source, field="--reference")


def check_target(target: float) -> None:
    """A :class:`UserError` unless the BLER target is in (0, 1)."""
    if not 0 < target < 1:
        raise UserError(f"the BLER target must be in (0, 1), exclusive; got {target:g}", field="--bler")


def min_blocks(rows) -> int | None:
    """The smallest positive ``blocks`` count among ``rows``; None without block counts."""
    blocks = [b for b in (as_float(r.get("blocks")) for r in rows) if b > 0]
    return int(min(blocks)) if blocks else None


def blocks_needed(target: float) -> int:
    """Blocks per point for zero errors to bound BLER below ``target`` (rule of three)."""
    return math.ceil(round(RULE_OF_THREE / target, 9))


def _resolution_lines(runs: list[Run]) -> list[str]:
    """Per run, the lowest BLER its block count can resolve."""
    lines = []
    for run in runs:
        n = min_blocks(run.rows)
        if n is None:
            continue
        which = f" ({run.name})" if len(runs) > 1 else ""
        lines.append(f"resolution{which}: with {n} blocks per point the lowest BLER this run can resolve "
                     f"is about 3/{n} = {RULE_OF_THREE / n:.2g} (zero errors: 95 % upper bound)")
    return lines


def _not_reached(target: float, blocks: int | None) -> str:
    """The crossing cell of a curve that does not reach the target inside the sweep."""
    if blocks is not None and target < RULE_OF_THREE / blocks:
        return f"unresolved (needs >= {blocks_needed(target)} blocks/point)"
    return "not reached"


def _below_resolution(target: float, blocks: int | None) -> str:
    """A mark for a crossing found below the run's resolution: it rests on zero-error
    points (counted as half an error), not on measured errors."""
    if blocks is not None and target < RULE_OF_THREE / blocks:
        return " (below resolution)"
    return ""


def _bler_table(by: dict[str, Curve], key: str, reference: str, target: float, bounds: bool) -> list[str]:
    """Title and table of each receiver's crossing of ``target`` and its gap to the
    reference's (with 95 % intervals where ``bounds``)."""
    def at(lab):
        rows = by[lab].rows
        xs = [float(r[key]) for r in rows]
        if not bounds:
            return crossing(xs, _bler(rows), target), None, None
        return crossing_interval(xs, _bler(rows), _bler(rows, "bler_lo"), _bler(rows, "bler_hi"), target)

    ref, ref_lo, ref_hi = at(reference) if reference in by else (None, None, None)
    header = ["receiver", f"{key} at BLER {target:g}" + (" [95 %]" if bounds else ""),
              f"minus {reference}" + (" [conservative]" if bounds else "")]
    table = [header]
    for lab, curve in by.items():
        x, lo, hi = at(lab)
        if x is None:
            table.append([lab, _not_reached(target, min_blocks(curve.run.rows)), ""])
            continue
        gap = _minus(x, ref)
        mark = _below_resolution(target, min_blocks(curve.run.rows))
        if not bounds:
            table.append([lab, _fmt(x) + mark, "" if gap is None else _fmt(gap, True)])
            continue
        cell = f"{_fmt(x)} [{_fmt(lo)}, {_fmt(hi)}]{mark}"
        gap_cell = "" if gap is None else \
            f"{_fmt(gap, True)} [{_fmt(_minus(lo, ref_hi), True)}, {_fmt(_minus(hi, ref_lo), True)}]"
        table.append([lab, cell, gap_cell])
    note = "; 95 % interval from the bler_lo / bler_hi curves, ? = outside the sweep" if bounds else ""
    return [f"{key} at BLER {target:g} (log-linear interpolation{note}), and minus {reference}"] + _table(table)


def _nmse_table(by: dict[str, Curve], key: str, reference: str) -> list[str]:
    """NMSE minus the reference's per swept value (every value of any run); receivers
    without an estimate (genie) are left out."""
    nmse = {lab: {float(r[key]): as_float(r.get("nmse_db")) for r in c.rows} for lab, c in by.items()}
    nmse = {lab: v for lab, v in nmse.items() if not all(math.isnan(y) for y in v.values())}
    xs = sorted({x for v in nmse.values() for x in v})
    ref = nmse.get(reference, {})
    table = [["receiver"] + [f"{key}={x:g}" for x in xs]]
    for lab, v in nmse.items():
        table.append([lab] + [f"{v.get(x, math.nan) - ref.get(x, math.nan):.2f}" for x in xs])
    return [f"NMSE minus {reference} [dB] per {key}"] + _table(table)


def compare(run_paths, reference: str, bler_target: float = 0.1) -> str:
    """Tables of NMSE gaps and BLER-target crossings relative to ``reference``, over one
    run folder or a list of them (same swept key), and each run's BLER resolution."""
    check_target(bler_target)
    if isinstance(run_paths, (str, Path)):
        run_paths = [run_paths]
    runs, key = load_runs(run_paths, "compare")
    by = curves(runs, key)
    reference = resolve_reference(reference, by, str(run_paths[0]) if len(runs) == 1 else "compare")
    lines = []
    if any(not math.isnan(as_float(r.get("nmse_db"))) for run in runs for r in run.rows):
        lines += _nmse_table(by, key, reference)
    coded = {lab: c for lab, c in by.items() if c.rows and "bler" in c.rows[0]}
    if coded:
        bounds = all("bler_lo" in c.rows[0] and "bler_hi" in c.rows[0] for c in coded.values())
        lines += _bler_table(coded, key, reference, bler_target, bounds)
        lines += _resolution_lines([run for run in runs if any(c.run is run for c in coded.values())])
    return "\n".join(lines)
