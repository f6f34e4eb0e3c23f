"""Card B's DM-VB: NMSE after each VB iteration and how often the responsibilities pick
the true profile, per test profile and SNR (the paper's Fig. 7(b) and its expert-weight
claim). The iterations run until the responsibilities stop moving at all (tol 1e-9, at
most ``--iterations``), on the channels and noise of the scenario's link, so the numbers
are those a ``linksim run`` of the same scenario sees.

    PYTHONPATH=. python benchmarks/card_b_vb.py scenarios/moe_vb_balanced.yaml \
        --snrs -10 0 10 20 30 --channels 64 --iterations 3 --out results/reference/moe_vb_convergence
    (add ``--init uniform --out results/reference/moe_vb_convergence_uniform`` for Card B's
    start from uniform weights)

Writes ``table.md`` and ``vb.json`` (per profile and SNR: NMSE [dB] per iteration, the
share of channels whose largest responsibility is the true profile, its 95 % Wilson
interval, how many channels each expert got after each iteration, mean iterations to
settle at the receiver's tolerance). ``--set`` overrides scenario keys as in ``linksim
run`` (e.g. ``narrowband.pilot_density=0.125`` on a data-scarce scenario).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sionna.phy import config

from linksim.metrics import wilson
from linksim.narrowband.receivers.dm_vb import VBParams
from linksim.provenance import git_revision
from linksim.scenario import load_scenario, with_value
from linksim.links.registry import build_link


DEFAULT_TOL = VBParams().tol


def run(args):
    rows = []
    base = load_scenario(args.scenario, list(args.set) + ["receivers=[{name: dm_vb, max_iterations: %d, tol: 1e-9, init: %s}]"
                                                          % (args.iterations, args.init)])
    for profile in args.profiles or base.narrowband.profiles:
        s = with_value(base, "narrowband.test_profile", profile)
        config.seed = s.seed
        link = build_link(s)
        vb = dict(link.receivers)["dm_vb"]
        k_true = s.narrowband.profiles.index(profile)
        for snr in args.snrs:
            no = 10.0 ** (-snr / 10.0)
            config.seed = s.seed + int(round(10 * snr)) + 1000
            batch = link.transmit(args.channels, no)
            h = batch["h"].numpy()
            t0 = time.time()
            _, trace = vb.vb(batch["y"], link.op, no)
            wall = time.time() - t0
            est = trace["estimates"].numpy()
            r = trace["responsibilities"].numpy()                             # [I, B, K]
            nmse = [float(10 * np.log10(np.sum(np.abs(e - h) ** 2) / np.sum(np.abs(h) ** 2))) for e in est]
            settle = np.full(r.shape[1], r.shape[0])          # first iteration whose r moved < the default tol
            for i in range(r.shape[0] - 1, 0, -1):
                still = np.max(np.abs(r[i] - r[i - 1]), axis=1) < DEFAULT_TOL
                settle = np.where(still, i + 1, settle)
            picks = [{p: int(np.sum(np.argmax(ri, axis=1) == j)) for j, p in enumerate(s.narrowband.profiles)} for ri in r]
            hits = int(np.sum(np.argmax(r[-1], axis=1) == k_true))
            lo, hi = wilson(args.channels - hits, args.channels)
            row = {"profile": profile, "snr_db": snr, "nmse_db": [round(x, 2) for x in nmse],
                   "correct": round(hits / args.channels, 3), "correct_lo": round(1 - hi, 3), "correct_hi": round(1 - lo, 3),
                   "picked": picks, "settled_at": round(float(np.mean(settle)), 2), "channels": args.channels, "wall_s": round(wall, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def table(rows, iterations) -> str:
    head = ("| profile | SNR dB | " + " | ".join(f"NMSE it {i + 1}" for i in range(iterations))
            + " | true expert picked (95 % CI) | experts picked per iteration | settled at (mean iteration) |")
    lines = [head, "|" + "---|" * (iterations + 5)]
    for r in rows:
        its = r["nmse_db"] + [""] * (iterations - len(r["nmse_db"]))
        lines.append(f"| {r['profile']} | {r['snr_db']:g} | " + " | ".join(str(x) for x in its)
                     + f" | {r['correct']:.2f} ({r['correct_lo']:.2f}-{r['correct_hi']:.2f}) | "
                     + " → ".join(" ".join(f"{p}{n}" for p, n in it.items() if n) for it in r["picked"])
                     + f" | {r['settled_at']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--profiles", nargs="*")
    ap.add_argument("--snrs", type=float, nargs="+", default=[-10.0, 0.0, 10.0, 20.0, 30.0])
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--init", default="evidence", choices=["evidence", "uniform", "experts"],
                    help="DM-VB's start (uniform: Card B as published)")
    ap.add_argument("--set", action="append", default=[], help="scenario override key=value (repeatable)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = run(args)
    text = table(rows, args.iterations)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "vb.json").write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                                                      "git_revision": git_revision(), "rows": rows}, indent=1))
        (args.out / "table.md").write_text(f"DM-VB per iteration, init {args.init} ({args.channels} channels per row, seed "
                                           "of the scenario):\n\n" + text)


if __name__ == "__main__":
    main()
