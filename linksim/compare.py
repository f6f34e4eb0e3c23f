"""Gaps between receivers of one run: NMSE per point and the noise level at a BLER target.

``linksim compare RUN --reference lmmse`` prints, per receiver, the NMSE difference to the
reference receiver at every point and the swept value where its BLER crosses the target
(log-linear interpolation between the two points around the crossing), so statements such
as "within 0.3 dB of LMMSE at 10 % BLER" are read off committed results, not by eye.
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


def _bler(rows) -> list[float]:
    """BLER per point; a point without block errors counts half an error (so that the
    log-linear interpolation towards it stays finite)."""
    return [float(r["bler"]) or 0.5 / max(float(r["blocks"]), 1.0) for r in rows]


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
        lines.append("receiver".rjust(16) + "".join(f"{x:>8g}" for x in xs))
        ref = {float(r[key]): float(r["nmse_db"]) for r in by[reference]}
        for lab in labels:
            if all(math.isnan(float(r["nmse_db"])) for r in by[lab]):
                continue  # genie receivers have no estimate
            gaps = {float(r[key]): float(r["nmse_db"]) - ref.get(float(r[key]), math.nan) for r in by[lab]}
            lines.append(lab.rjust(16) + "".join(f"{gaps.get(x, math.nan):>8.2f}" for x in xs))
    if "bler" in rows[0]:
        lines.append(f"{key} at BLER {bler_target:g} (log-linear interpolation), and minus {reference}")
        at_ref = crossing(xs, _bler(by[reference]), bler_target)
        for lab in labels:
            x = crossing([float(r[key]) for r in by[lab]], _bler(by[lab]), bler_target)
            gap = "" if x is None or at_ref is None else f"{x - at_ref:+.2f}"
            lines.append(f"{lab:>16}  {'not reached' if x is None else f'{x:.2f}':>11}  {gap}")
    return "\n".join(lines)
