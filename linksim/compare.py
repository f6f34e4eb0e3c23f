"""Gaps between receivers of one run: NMSE per point and the noise level at a BLER target.

``linksim compare RUN --reference lmmse`` prints, per receiver, the NMSE difference to the
reference receiver at every point and the swept value where its BLER crosses the target
(log-linear interpolation between the two points around the crossing), so statements such
as "within 0.3 dB of LMMSE at 10 % BLER" are read off committed results, not by eye.

When metrics.csv has the BLER bounds (``bler_lo``, ``bler_hi``), the crossing comes with
a 95 % interval: the crossings of the lower-bound and of the upper-bound curves (for a
falling curve the lower-bound curve reaches the target first). The gap to the reference
gets the conservative interval ``[x_lo - ref_hi, x_hi - ref_lo]``. A bound curve that
does not cross the target inside the sweep leaves that end open, printed ``?``.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

from .errors import UserError
from .plotting import load_run


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


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _bler(rows, column: str = "bler") -> list[float]:
    """BLER (or a bound) per point; a zero counts as half an error in the point's blocks
    (so that the log-linear interpolation towards it stays finite)."""
    return [_float(r.get(column)) or 0.5 / max(_float(r["blocks"]), 1.0) for r in rows]


def _table(rows: list[list[str]]) -> list[str]:
    """Right-aligned columns; the first row is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _fmt(x, sign: bool = False) -> str:
    return "?" if x is None else (f"{x:+.2f}" if sign else f"{x:.2f}")


def _minus(a, b):
    return None if a is None or b is None else a - b


def _bler_table(by, labels, key: str, reference: str, target: float, bounds: bool) -> list[str]:
    def at(lab):
        rows = by[lab]
        xs = [float(r[key]) for r in rows]
        if not bounds:
            return crossing(xs, _bler(rows), target), None, None
        return crossing_interval(xs, _bler(rows), _bler(rows, "bler_lo"), _bler(rows, "bler_hi"), target)

    ref, ref_lo, ref_hi = at(reference)
    header = ["receiver", f"{key} at BLER {target:g}" + (" [95 %]" if bounds else ""),
              f"minus {reference}" + (" [conservative]" if bounds else "")]
    table = [header]
    for lab in labels:
        x, lo, hi = at(lab)
        if x is None:
            table.append([lab, "not reached", ""])
            continue
        gap = _minus(x, ref)
        if not bounds:
            table.append([lab, _fmt(x), "" if gap is None else _fmt(gap, True)])
            continue
        cell = f"{_fmt(x)} [{_fmt(lo)}, {_fmt(hi)}]"
        gap_cell = "" if gap is None else \
            f"{_fmt(gap, True)} [{_fmt(_minus(lo, ref_hi), True)}, {_fmt(_minus(hi, ref_lo), True)}]"
        table.append([lab, cell, gap_cell])
    note = "; 95 % interval from the bler_lo / bler_hi curves, ? = outside the sweep" if bounds else ""
    return [f"{key} at BLER {target:g} (log-linear interpolation{note}), and minus {reference}"] + _table(table)


def compare(run_path, reference: str, bler_target: float = 0.1) -> str:
    """Table of NMSE gaps and BLER-target crossings relative to ``reference``."""
    scenario, rows = load_run(Path(run_path))
    key = scenario["sweep"]["key"]
    labels = list(dict.fromkeys(r["receiver"] for r in rows))
    if reference not in labels:
        raise UserError(f"no receiver {reference!r} in this run; allowed: {', '.join(labels)}",
                        source=str(run_path), field="--reference")
    by = {lab: sorted((r for r in rows if r["receiver"] == lab), key=lambda r: float(r[key])) for lab in labels}
    xs = [float(r[key]) for r in by[reference]]
    lines = []
    has_nmse = "nmse_db" in rows[0] and any(r["nmse_db"] not in ("", "nan") for r in rows)
    if has_nmse:
        lines.append(f"NMSE minus {reference} [dB] per {key}")
        table = [["receiver"] + [f"{x:g}" for x in xs]]
        ref = {float(r[key]): _float(r["nmse_db"]) for r in by[reference]}
        for lab in labels:
            if all(math.isnan(_float(r["nmse_db"])) for r in by[lab]):
                continue  # genie receivers have no estimate
            gaps = {float(r[key]): _float(r["nmse_db"]) - ref.get(float(r[key]), math.nan) for r in by[lab]}
            table.append([lab] + [f"{gaps.get(x, math.nan):.2f}" for x in xs])
        lines += _table(table)
    if "bler" in rows[0]:
        bounds = "bler_lo" in rows[0] and "bler_hi" in rows[0]
        lines += _bler_table(by, labels, key, reference, bler_target, bounds)
    return "\n".join(lines)
