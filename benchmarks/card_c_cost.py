"""Card C: cost of one precoder per receiver, measured in one run on this machine: wall
time of the receiver's output and its precoder for a batch of realisations, divided by
the batch (after one warm-up batch that traces the graphs and fits the Wiener filter),
with the network passes each one needs.

    PYTHONPATH=. python benchmarks/card_c_cost.py scenarios/srs_precoding_high.yaml \
        --batch 64 --snr 0 --out results/reference/srs_precoding_cost
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import tensorflow as tf
from sionna.phy import config

from linksim.links.registry import build_link
from linksim.provenance import git_revision, package_versions
from linksim.scenario import load_scenario
from linksim.tdd.link import precoder_of
from linksim.tdd.receivers.base import SRSObservation


def passes(rx) -> str:
    model = getattr(rx, "model", None)
    if model is None:
        if type(rx).__name__ != "Wiener":
            return "none"
        k = rx.params.samples
        draws = f" + {k} Gaussian draws (768 x 768 factor, built once per SNR)" if k else ""
        return "one matrix product (filter built once per SNR)" + draws
    if model.kind != "dm":
        return "1 encoder + 1 decoder pass"
    k, t = model.samples, model.net.T
    per = 2 if model.cfg_weight < 1 else 1
    return f"1 encoder + {t} x {per} decoder passes on {k} sample(s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--snr", type=float, default=0.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    s = load_scenario(args.scenario)
    config.seed = s.seed
    link = build_link(s)
    batch = link.transmit(args.batch, 10 ** (-args.snr / 10))
    genie = {"h": batch["h"]}
    rows = []
    for label, rx in link.receivers:
        def run():
            est = rx(SRSObservation(batch["obs"], batch["no"], genie if rx.genie else None, config.tf_rng,
                                    geometry=link.geometry))
            return precoder_of(est, s.srs_precoding.streams).numpy()

        run()  # warm-up: tracing, filters
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            run()
        ms = (time.perf_counter() - t0) / args.repeats / args.batch * 1e3
        rows.append({"receiver": label, "ms_per_precoder": round(ms, 3), "passes": passes(rx)})
    print(f"| receiver | ms per precoder (batch {args.batch}) | network passes |\n|---|---|---|")
    for r in rows:
        print(f"| {r['receiver']} | {r['ms_per_precoder']} | {r['passes']} |")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"scenario": args.scenario, "batch": args.batch, "snr_db": args.snr, "repeats": args.repeats,
                "cpu_count": os.cpu_count(), "devices": [d.name for d in tf.config.list_logical_devices()],
                "rows": rows, "git_revision": git_revision(), "versions": package_versions()}
        (out / "cost.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
