"""What AutoGraph costs a run: the link's graphs built with and without it.

linksim builds its graphs with ``linksim.graph.graph_function`` (``tf.function`` with
``autograph=False``). This script builds the scenario's link and runs its first batch (the
trace) and a second one, once with the shipped ``graph_function`` and once with AutoGraph
switched back on, each in a fresh Python process (AutoGraph caches its conversions per
process), ``--repeats`` times in turns; it prints the medians, their ratio, and whether the
two variants gave the same numbers (same seed, so they must).

Usage::

    python benchmarks/graph_tracing.py [--scenario scenarios/quickstart.yaml] [--batch 16]
        [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _one(scenario: str, batch: int, autograph: bool) -> dict:
    """In this process: build the link, run two batches; times and the first batch's stats."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    t0 = time.perf_counter()
    import tensorflow as tf
    from sionna.phy import config

    import linksim.graph
    if autograph:
        linksim.graph.graph_function = lambda fn, **kw: tf.function(fn, autograph=True, **kw)
    from linksim.scenario import load_scenario
    from linksim.links.registry import build_link

    t1 = time.perf_counter()
    s = load_scenario(scenario)
    config.seed = s.seed
    link = build_link(s)
    no = link.noise_variance(s.sweep.key, s.sweep.values[0])
    t2 = time.perf_counter()
    first = link.run_batch(batch, no)
    t3 = time.perf_counter()
    link.run_batch(batch, no)
    t4 = time.perf_counter()
    return {"import": t1 - t0, "build": t2 - t1, "first_batch": t3 - t2, "second_batch": t4 - t3,
            "stats": {r: {k: float(v) for k, v in st.items()} for r, st in first.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", choices=["plain", "autograph"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_one(args.scenario, args.batch, args.child == "autograph")))
        return 0

    sys.path.insert(0, HERE)
    from environment import device_line, versions_line

    runs = {"plain": [], "autograph": []}
    for r in range(args.repeats):
        for variant in (["plain", "autograph"] if r % 2 == 0 else ["autograph", "plain"]):
            out = subprocess.run([sys.executable, __file__, "--scenario", args.scenario, "--batch", str(args.batch),
                                  "--child", variant], capture_output=True, text=True, check=True)
            runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    import tensorflow as tf

    print(device_line("GPU" if tf.config.list_physical_devices("GPU") else "CPU"))
    print(versions_line())
    print(f"scenario   : {args.scenario}, batch {args.batch}, {args.repeats} fresh processes per variant, "
          "median seconds")
    print(f"{'phase':<14}{'no AutoGraph':>14}{'AutoGraph':>12}{'ratio':>8}")
    for phase in ("build", "first_batch", "second_batch"):
        a = statistics.median(x[phase] for x in runs["plain"])
        b = statistics.median(x[phase] for x in runs["autograph"])
        print(f"{phase:<14}{a:>14.2f}{b:>12.2f}{b / a:>8.2f}")
    same = all(x["stats"] == runs["plain"][0]["stats"] for v in runs.values() for x in v)
    print(f"same numbers in every process: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
