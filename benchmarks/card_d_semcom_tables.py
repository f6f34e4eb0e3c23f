"""Markdown tables of committed semantic-communication runs (Card D, case 2), for the note.

    python benchmarks/card_d_semcom_tables.py results/reference/semcom-semantic.users=1 \
        results/reference/semcom-semantic.users=2 --out results/reference/semcom_tables.md

One table per run and metric (PSNR, SSIM, classifier accuracy where the run has it):
systems as rows, the swept values as columns, 95 % intervals in brackets; then, per run,
the gap of the DAE's mean of K samples (row ``dae-mean8``) and of one sample (``dae``) to
the AE at every swept value, with the AE's and the DAE's intervals.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

METRICS = [("psnr_db", "PSNR [dB]", 2), ("ssim", "SSIM", 3), ("accuracy", "classifier accuracy", 3)]


def _rows(run: Path) -> tuple[str, list[dict]]:
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    key = list(rows[0])[1]
    return key, rows


def _cell(r: dict, col: str, digits: int) -> str:
    v, lo, hi = (float(r[c]) for c in (col, f"{col}_lo", f"{col}_hi"))
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def tables(run: Path) -> str:
    key, rows = _rows(run)
    xs = list(dict.fromkeys(r[key] for r in rows))
    systems = list(dict.fromkeys(r["receiver"] for r in rows))
    at = {(r["receiver"], r[key]): r for r in rows}
    out = []
    for col, title, digits in METRICS:
        if col not in rows[0]:
            continue
        out += [f"{title}, `{run.name}` (columns: {key}):", "", "| system | " + " | ".join(xs) + " |",
                "|---|" + "---|" * len(xs)]
        out += [f"| {s} | " + " | ".join(_cell(at[(s, x)], col, digits) for x in xs) + " |" for s in systems]
        out.append("")
    if "ae" in systems:
        out += [f"Gap to the AE [dB PSNR], `{run.name}`:", "", "| system | " + " | ".join(xs) + " |",
                "|---|" + "---|" * len(xs)]
        for s in (s for s in systems if s.startswith("dae")):
            gaps = []
            for x in xs:
                d, a = at[(s, x)], at[("ae", x)]
                apart = float(d["psnr_db_hi"]) < float(a["psnr_db_lo"]) or float(d["psnr_db_lo"]) > float(a["psnr_db_hi"])
                gaps.append(f"{float(d['psnr_db']) - float(a['psnr_db']):+.2f}{'' if apart else ' (intervals overlap)'}")
            out.append(f"| {s} | " + " | ".join(gaps) + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    text = "# Semantic-communication tables (Card D, case 2)\n\nMade by `python benchmarks/card_d_semcom_tables.py " \
           + " ".join(str(r) for r in args.runs) + "`.\n\n" + "\n".join(tables(r) for r in args.runs)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
