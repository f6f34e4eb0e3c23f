"""Does a run reproduce a committed reference run? Compares two metrics.csv files row by row.

    python benchmarks/reference_match.py RUN_DIR REFERENCE_DIR [--json OUT]

For each receiver (row label) and swept point both runs hold, and each metric with a 95 %
interval (``<m>_lo`` / ``<m>_hi`` columns), the two values are

- *identical* when they are equal to the last digit;
- *within the intervals* when their difference is inside the 95 % interval of the
  difference of two independent estimates, ``|a - b| <= sqrt(h_a^2 + h_b^2)`` with ``h``
  each run's half-width (a run that reuses the reference's seed and code is not
  independent of it, so this is the loose side of the check);
- a *miss* otherwise (listed). Two values without spread (both intervals of zero width)
  are within when they agree to a relative 1e-6.

For independent runs about 5 % of the values miss by chance. The runs *match* when the
misses are no more than the 99th percentile of Binomial(values, 0.05). Prints one line per
receiver (values compared, identical, within, misses, the largest
``|a - b| / sqrt(h_a^2 + h_b^2)``), the misses and the verdict; exit 1 when they do not
match.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path


def read_rows(folder: Path) -> tuple[str, dict]:
    """(swept key, {(receiver, point): row}) of a results folder's metrics.csv."""
    with open(folder / "metrics.csv", newline="") as f:
        reader = csv.DictReader(f)
        key = reader.fieldnames[1]
        return key, {(r["receiver"], r[key]): r for r in reader}


def metrics_with_intervals(row: dict) -> list[str]:
    return [m for m in row if f"{m}_lo" in row and f"{m}_hi" in row]


def compare(run: Path, ref: Path) -> dict:
    key_a, rows_a = read_rows(run)
    key_b, rows_b = read_rows(ref)
    if key_a != key_b:
        raise SystemExit(f"{run} sweeps {key_a}, {ref} sweeps {key_b}")
    per_rx, misses = {}, []
    for (rx, point), a in rows_a.items():
        b = rows_b.get((rx, point))
        if b is None:
            continue
        s = per_rx.setdefault(rx, {"compared": 0, "identical": 0, "within": 0, "misses": 0, "max_z": 0.0})
        for m in metrics_with_intervals(a):
            va, vb = float(a[m]), float(b[m])
            if math.isnan(va) and math.isnan(vb):
                continue
            s["compared"] += 1
            if a[m] == b[m]:
                s["identical"] += 1
                s["within"] += 1
                continue
            h = math.hypot((float(a[f"{m}_hi"]) - float(a[f"{m}_lo"])) / 2, (float(b[f"{m}_hi"]) - float(b[f"{m}_lo"])) / 2)
            if h > 0:
                z = abs(va - vb) / h
            else:
                z = 0.0 if abs(va - vb) <= 1e-6 * max(abs(va), abs(vb)) else math.inf
            s["max_z"] = max(s["max_z"], z)
            if z <= 1.0:
                s["within"] += 1
            else:
                s["misses"] += 1
                misses.append({"receiver": rx, key_a: point, "metric": m, "run": va, "reference": vb, "z": round(z, 2)})
    n = sum(s["compared"] for s in per_rx.values())
    return {"run": str(run), "reference": str(ref), "key": key_a, "receivers": per_rx, "misses": misses,
            "values": n, "allowed_misses": allowed_misses(n), "match": len(misses) <= allowed_misses(n)}


def allowed_misses(n: int, p: float = 0.05, level: float = 0.99) -> int:
    """The ``level`` quantile of Binomial(n, p): more misses than this are not chance."""
    cdf, k = 0.0, 0
    while True:
        cdf += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        if cdf >= level:
            return k
        k += 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("reference", type=Path)
    p.add_argument("--json", type=Path, help="also write the comparison here")
    args = p.parse_args(argv)
    out = compare(args.run, args.reference)
    print(f"{args.run} against {args.reference} (per {out['key']}):")
    print(f"{'receiver':>24} {'values':>7} {'identical':>9} {'within':>7} {'misses':>7} {'max |z|':>8}")
    for rx, s in out["receivers"].items():
        print(f"{rx:>24} {s['compared']:>7} {s['identical']:>9} {s['within']:>7} {s['misses']:>7} {s['max_z']:>8.2f}")
    for m in out["misses"]:
        print("miss:", m)
    verdict = "match" if out["match"] else "DO NOT match"
    print(f"{len(out['misses'])} misses of {out['values']} values (chance allows {out['allowed_misses']}): {verdict}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0 if out["match"] else 1


if __name__ == "__main__":
    sys.exit(main())
