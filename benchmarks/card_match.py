"""Does a retrained model reproduce its model card? Compares the numbers of two card.md files.

    python benchmarks/card_match.py RETRAINED_CARD COMMITTED_CARD [--json OUT]

Every table row of both cards is matched by its first cell; the numbers of the rest of
the row are compared in order. Rows that describe the run rather than the model (``time``,
``revision``, ``data``) and durations (``<number> s``, ``ms``) elsewhere are left out. Prints each
row that differs with its largest absolute difference, and a summary line: rows compared,
rows identical, the largest difference. Exit 0 always (the numbers are the answer).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
SECONDS = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)\s*(?:s|ms)\b")   # durations: of the run, not the model
RUN_ROWS = ("time", "revision", "data")


def table_rows(text: str) -> dict[str, list[float]]:
    """``{first cell: [numbers of the other cells]}`` of every markdown table row."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 2 or set(cells[0]) <= set("-: ") or cells[0] in RUN_ROWS:
            continue
        rows[cells[0]] = [float(v) for v in NUMBER.findall(SECONDS.sub("", " | ".join(cells[1:])))]
    return rows


def compare(new: Path, old: Path) -> dict:
    a, b = table_rows(new.read_text()), table_rows(old.read_text())
    common = [k for k in a if k in b]
    diffs = {}
    for k in common:
        if a[k] == b[k]:
            continue
        if len(a[k]) != len(b[k]):
            diffs[k] = {"new": a[k], "old": b[k], "max_abs": None}
        else:
            diffs[k] = {"new": a[k], "old": b[k], "max_abs": max(abs(x - y) for x, y in zip(a[k], b[k]))}
    worst = max((d["max_abs"] for d in diffs.values() if d["max_abs"] is not None), default=0.0)
    return {"retrained": str(new), "committed": str(old), "rows": len(common), "identical": len(common) - len(diffs),
            "only_retrained": [k for k in a if k not in b], "only_committed": [k for k in b if k not in a],
            "differing": diffs, "max_abs": worst}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("retrained", type=Path)
    p.add_argument("committed", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    out = compare(args.retrained, args.committed)
    for k, d in out["differing"].items():
        print(f"differs: {k!r}: {d['new']} vs {d['old']} (max |diff| {d['max_abs']})")
    for k in out["only_retrained"] + out["only_committed"]:
        print(f"in one card only: {k!r}")
    print(f"{out['retrained']} vs {out['committed']}: {out['identical']} of {out['rows']} rows identical, "
          f"largest difference {out['max_abs']:.4g}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
