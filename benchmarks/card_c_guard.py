"""Card C guard: does a conditional DM use its SRS history and sample its posterior?
(:mod:`linksim.tdd.guard`.) On fresh realisations (Sionna seeded by ``--seed``, not the
training set) at each uplink SNR: NMSE of the clean estimate at t = T with the condition
and with the null token, of one posterior sample, of the mean of K samples and its
err_var_ratio, beside SL, hold-last and all-zero on the same observations, and the
targets met or missed.

    PYTHONPATH=. python benchmarks/card_c_guard.py --mobility high --dm srs-dm-high-cpu \
        --channels 256 --snr 0 10 --samples 64 --out results/reference/srs_precoding_guard_high
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from linksim.provenance import git_revision, package_versions
from linksim.tdd.config import MOBILITY_KMH, SRSPrecoding
from linksim.tdd.guard import TARGETS, fresh_channels, guard, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mobility", choices=tuple(MOBILITY_KMH), default="high")
    ap.add_argument("--dm", nargs="+", default=None, help="DM zoo names (default srs-dm-<mobility>-cpu)")
    ap.add_argument("--sl", default=None, help="SL zoo name (default srs-sl-<mobility>-cpu)")
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--snr", type=float, nargs="+", default=[0.0])
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--seed", type=int, default=2026, help="seed of the fresh channel draw")
    ap.add_argument("--out", default=None, help="folder for guard.md and guard.json")
    ap.add_argument("--record", action="store_true",
                    help="write the rows into each DM's zoo config (training.guard) and rewrite its card")
    args = ap.parse_args()

    revision = git_revision()   # before this run writes anything (--record edits tracked files)
    sec = SRSPrecoding(mobility=args.mobility)
    dms = args.dm or [f"srs-dm-{args.mobility}-cpu"]
    sl = args.sl or f"srs-sl-{args.mobility}-cpu"
    t0 = time.time()
    obs_clean, h = fresh_channels(sec, args.channels, args.seed)
    rows = []
    for dm in dms:
        for snr in args.snr:
            t1 = time.time()
            g = guard(dm, sl, sec, obs_clean, h, snr, samples=args.samples)
            g["model"], g["seconds"] = dm, round(time.time() - t1, 1)
            rows.append(g)
            print(json.dumps(g), flush=True)
    text = (f"{args.mobility} mobility, {args.channels} fresh realisations (seed {args.seed}), K = {args.samples}; "
            f"NMSE [dB]; SL = {sl}. Targets: " + "; ".join(TARGETS.values()) + ".\n\n" + table(rows, "DM") + "\n")
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "guard.md").write_text(text)
        meta = {"args": vars(args), "rows": rows, "wall_s": round(time.time() - t0, 1),
                "git_revision": revision, "versions": package_versions()}
        (out / "guard.json").write_text(json.dumps(meta, indent=2) + "\n")
    if args.record:
        for dm in dms:
            record(dm, [r for r in rows if r["model"] == dm], sl, args, round(time.time() - t0, 1), revision)


def record(dm: str, rows: list, sl: str, args, wall_s: float, revision: str) -> None:
    """Store the guard rows in the model's config.json (``training.guard``; the weights
    and their hash are untouched) and rewrite its card."""
    from linksim.diffusion.checkpoints import resolve_model
    from linksim.provenance import atomic_write
    from linksim.training.srs_precoding import model_card

    path = resolve_model(dm)
    cfg = json.loads((path / "config.json").read_text())
    cfg["training"]["guard"] = {"rows": rows, "channels": args.channels, "seed": args.seed, "samples": args.samples,
                                "sl": sl, "git_revision": revision, "wall_s": wall_s}
    atomic_write(path / "config.json", json.dumps(cfg, indent=2) + "\n")
    atomic_write(path / "card.md", model_card(cfg["training"]))


if __name__ == "__main__":
    main()
