"""Same numbers after a redesign? Collects runs against their committed references and
retrained models against their cards into one folder with a summary.

    python benchmarks/redesign_check.py --out results/reference/redesign_check \
        --run srs_precoding=RUN_DIR:REFERENCE_DIR ... --card semcom-ae=NEW_CARD:OLD_CARD ... \
        --before semcom-ae=CARD_RETRAINED_BEFORE_THE_REDESIGN ...

Copies each run's metrics.csv, meta.json and scenario.yaml (``runs/<name>/``; a run given
inside ``<out>/runs/`` is compared where it is, e.g. against another collected run) and each
retrained card (``cards/<name>.md``; a card it is compared with from outside the
repository too, as ``cards/<name>.against.md``; ``--run NAME=RUN:-`` only collects) into
``--out``, compares them with
:mod:`reference_match` and :mod:`card_match`, and writes ``summary.json`` and
``summary.md`` (one row per run: revision of the run and of the reference, values,
identical, within the intervals, misses, verdict; one row per card: revision, rows
identical, largest difference; with ``--before``, the same model retrained at the revision
before the redesign, copied as ``cards/<name>.before.md`` and compared with the new one).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import card_match  # noqa: E402
import reference_match  # noqa: E402

RUN_FILES = ("metrics.csv", "meta.json", "scenario.yaml")


def pair(text: str) -> tuple[str, Path, Path | None]:
    name, _, rest = text.partition("=")
    new, _, old = rest.partition(":")
    if not (name and new and old):
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=NEW:OLD (OLD '-': collect only)")
    return name, Path(new), None if old == "-" else Path(old)


def inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents


def revision_of_run(folder: Path) -> str:
    return json.loads((folder / "meta.json").read_text())["git_revision"][:12]


def revision_of_card(card: Path) -> str:
    m = re.search(r"git ([0-9a-f]{7,40}(?:-dirty)?)", card.read_text())
    return m.group(1)[:12] if m else "?"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--run", type=pair, action="append", default=[])
    p.add_argument("--card", type=pair, action="append", default=[])
    p.add_argument("--before", action="append", default=[], help="NAME=CARD: NAME retrained before the redesign")
    args = p.parse_args(argv)
    out = args.out
    runs, cards = [], []
    for name, new, ref in args.run:
        dest = out / "runs" / name
        if inside(new, out / "runs"):   # a run already collected: compared where it is
            dest = new
        else:
            dest.mkdir(parents=True, exist_ok=True)
            for f in RUN_FILES:
                shutil.copyfile(new / f, dest / f)
        if ref is None:
            continue
        r = reference_match.compare(dest, ref)
        totals = {k: sum(s[k] for s in r["receivers"].values()) for k in ("compared", "identical", "within", "misses")}
        runs.append({"name": name, "run": str(dest), "reference": str(ref), "run_revision": revision_of_run(dest),
                     "reference_revision": revision_of_run(ref), **totals, "allowed_misses": r["allowed_misses"],
                     "match": r["match"], "misses_listed": r["misses"]})
    before = dict(b.split("=", 1) for b in args.before)
    for name, new, old in args.card:
        (out / "cards").mkdir(parents=True, exist_ok=True)
        dest = out / "cards" / f"{name}.md"
        shutil.copyfile(new, dest)
        if not inside(old, Path.cwd()):   # a card outside the repository: kept beside, so the check can be redone
            shutil.copyfile(old, out / "cards" / f"{name}.against.md")
            old = out / "cards" / f"{name}.against.md"
        c = card_match.compare(dest, old)
        row = {"name": name, "retrained": str(dest), "committed": str(old),
               "retrained_revision": revision_of_card(dest), "committed_revision": revision_of_card(old),
               "rows": c["rows"], "identical": c["identical"], "max_abs": c["max_abs"], "differing": c["differing"]}
        if name in before:
            prior = out / "cards" / f"{name}.before.md"
            shutil.copyfile(before[name], prior)
            b = card_match.compare(dest, prior)
            row["before"] = {"revision": revision_of_card(prior), "rows": b["rows"], "identical": b["identical"],
                             "max_abs": b["max_abs"], "differing": b["differing"]}
        cards.append(row)
    (out / "summary.json").write_text(json.dumps({"runs": runs, "cards": cards}, indent=1) + "\n")
    lines = ["# Same numbers after the redesign", "",
             "Written by `benchmarks/redesign_check.py` (see its docstring); the runs and cards are in this folder.", ""]
    if runs:
        lines += ["| run | run at | reference at | values | identical | within the intervals | misses (chance allows) | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {r['run_revision']} | {r['reference_revision']} | {r['compared']} | {r['identical']} | "
                  f"{r['within']} | {r['misses']} ({r['allowed_misses']}) | {'match' if r['match'] else 'no match'} |"
                  for r in runs]
        lines.append("")
    if cards:
        lines += ["| model | retrained at | card made at | table rows | identical | largest difference "
                  "| retrained before the redesign at | rows identical to it | largest difference |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in cards:
            b = c.get("before")
            tail = f"{b['revision']} | {b['identical']} of {b['rows']} | {b['max_abs']:.4g}" if b else "- | - | -"
            lines.append(f"| {c['name']} | {c['retrained_revision']} | {c['committed_revision']} | {c['rows']} | "
                         f"{c['identical']} | {c['max_abs']:.4g} | {tail} |")
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
