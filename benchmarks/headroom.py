"""Headroom of each channel source before any learning (:mod:`linksim.headroom`): NMSE of
LS, pooled LMMSE, the Gaussian-mixture CME for each K and the genie LMMSE that knows each
realisation's covariance, on one OFDM symbol (8 BS antennas x 72 subcarriers, comb-4
pilots on all antennas) at each SNR, and ``headroom = best gmm - genie`` with a 95 %
interval. Sources: CDL-C (the quickstart's), the CDL A-E x {30, 100, 300} ns mixture
(mixed_environments), 38.901 UMa drops and UMi drops (uma_drops / umi_drops).

    PYTHONPATH=. python benchmarks/headroom.py --out results/reference/headroom
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from linksim.headroom import measure_headroom
from linksim.provenance import atomic_write, git_revision, package_versions

SOURCES = {
    "CDL-C": "quickstart",
    "CDL mixture": "cdl-mix",
    "UMa drops": "uma",
    "UMi drops": {"scenario": "quickstart", "set": {"channel.model": "umi"}},
}


def table(results: dict) -> str:
    snrs = list(next(iter(results.values()))["headroom_db"])
    lines = ["| source | estimator | " + " | ".join(f"NMSE @ {s} dB" for s in snrs) + " |",
             "|---|---|" + "---|" * len(snrs)]
    for name, r in results.items():
        for est in r["nmse_db"]:
            cells = [f"{r['nmse_db'][est][s]:.2f} [{r['interval'][est][s][0]:.2f}, {r['interval'][est][s][1]:.2f}]"
                     for s in snrs]
            lines.append(f"| {name} | {est} | " + " | ".join(cells) + " |")
        cells = [f"**{r['headroom_db'][s]:.2f}** [{r['headroom_interval'][s][0]:.2f}, "
                 f"{r['headroom_interval'][s][1]:.2f}] (K = {r['best_k'][s]})" for s in snrs]
        lines.append(f"| {name} | **headroom = best gmm − genie** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    ap.add_argument("--snr", type=float, nargs="+", default=[0.0, 10.0, 20.0])
    ap.add_argument("--components", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--train", type=int, default=8000, help="training channels (pooled covariance, EM)")
    ap.add_argument("--test", type=int, default=512, help="test realisations")
    ap.add_argument("--genie-draws", type=int, default=512, help="Monte-Carlo draws per drop")
    ap.add_argument("--out", default=None, help="folder for headroom.md and headroom.json")
    args = ap.parse_args()

    revision = git_revision()
    t0 = time.perf_counter()
    results = {}
    for name in args.sources:
        results[name] = measure_headroom(SOURCES[name], snr_db=tuple(args.snr), components=tuple(args.components),
                                         train_samples=args.train, num_test=args.test,
                                         genie_draws=args.genie_draws)
        r = results[name]
        print(f"{name}: headroom {r['headroom_db']} dB (best K {r['best_k']}), {r['seconds']} s", flush=True)
    md = table(results)
    print(md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"sources": {k: SOURCES[k] for k in args.sources}, "results": results, "git_revision": revision,
                "versions": package_versions(), "wall_s": round(time.perf_counter() - t0, 1),
                "command": "benchmarks/headroom.py " + " ".join(f"{k}={v}" for k, v in vars(args).items())}
        atomic_write(out / "headroom.json", json.dumps(meta, indent=2) + "\n")
        atomic_write(out / "headroom.md", f"# Headroom per channel source (git {revision})\n\n"
                     "NMSE [dB] with 95 % bootstrap intervals; headroom with its paired interval and "
                     "the best K of gmm at that SNR.\n\n" + md)


if __name__ == "__main__":
    main()
