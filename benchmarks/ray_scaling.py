"""What the Ray executor costs and what splitting the cores over workers loses.

One process, one point of a scenario (default: the quickstart link with all its
receivers, diffusion ones included), the same batches (same seeds) through three
executors, timed in turns:

- ``local``            : the local executor (this process, TensorFlow on all cores)
- ``ray 1 x N``        : one Ray worker given all N cores (``cpus_per_worker: N``)
- ``ray N x 1``        : N single-threaded Ray workers (``cpus_per_worker: 1``)

Each is warmed up first (every worker builds its link and traces it), then runs
``--batches`` batches through :func:`linksim.runner.run_point` (the runner's merge, in
batch order) ``--repeats`` times; throughput is slots per second of the median repeat.
The driver's CPU time per batch (``time.process_time`` of this process during a Ray
repeat: submitting, waiting, receiving, merging) bounds the number of workers one driver
can feed: about (seconds per batch of one worker) / (driver CPU seconds per batch).

Usage::

    python benchmarks/ray_scaling.py [--scenario scenarios/quickstart.yaml] [--batches 6]
        [--repeats 3] [--ebno-db 0] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import ray  # noqa: E402

from environment import device_line, versions_line  # noqa: E402
from linksim.executors import LocalExecutor, RayExecutor  # noqa: E402
from linksim.metrics import Accumulator  # noqa: E402
from linksim.runner import _work, run_point, select_device  # noqa: E402
from linksim.scenario import load_scenario  # noqa: E402

GOAL_OVERHEAD = 0.9  # ray 1 x N / local
GOAL_SPLIT = 0.9  # ray N x 1 / local


class Config:
    def __init__(self, name, executor, scenario, value, workers):
        self.name, self.executor, self.s, self.value, self.workers = name, executor, scenario, value, workers
        self.work = _work(scenario, value, None)
        self.times, self.cpu = [], []
        self.counts = None

    def warm_up(self) -> float:
        """Every worker builds its link and runs a first batch."""
        t0 = time.perf_counter()
        for _ in self.executor.batches(self.work, 0, 2 * self.workers):
            pass
        return time.perf_counter() - t0

    def repeat(self) -> None:
        accs = {r.display: Accumulator() for r in self.s.receivers}
        c0, t0 = time.process_time(), time.perf_counter()
        accs, _ = run_point(self.executor, self.work, self.s, self.value, accs, progress=False)
        self.times.append(time.perf_counter() - t0)
        self.cpu.append(time.process_time() - c0)
        counts = {lab: a.state() for lab, a in accs.items()}
        assert self.counts in (None, counts), f"{self.name}: different counts between repeats"
        self.counts = counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--batches", type=int, default=6, help="batches per timed repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ebno-db", type=float, default=0.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args(argv)

    cores = os.cpu_count() or 1
    sweep = [f"sweep.values=[{args.ebno_db}]", f"sweep.max_batches={args.batches}", "sweep.target_block_errors=null"]
    s = load_scenario(args.scenario, args.overrides + sweep)
    if s.sweep.key not in ("ebno_db", "snr_db"):
        sys.exit("ray_scaling times one point of a noise sweep (sweep.key ebno_db or snr_db)")
    device = select_device("cpu")
    ray.init(num_cpus=2 * cores, include_dashboard=False, log_to_driver=False, configure_logging=False)

    def ray_executor(workers, cpus):
        rt = load_scenario(args.scenario, args.overrides + ["runtime.executor=ray", f"runtime.workers={workers}",
                                                            f"runtime.cpus_per_worker={cpus}"]).runtime
        return RayExecutor(rt)

    configs = [Config("local", LocalExecutor(), s, args.ebno_db, 1),
               Config(f"ray 1 x {cores}", ray_executor(1, cores), s, args.ebno_db, 1),
               Config(f"ray {cores} x 1", ray_executor(cores, 1), s, args.ebno_db, cores)]
    t_start = time.perf_counter()
    warm = {c.name: c.warm_up() for c in configs}
    for r in range(args.repeats):  # in turns, the order rotating: background load hits all alike
        k = r % len(configs)
        for c in configs[k:] + configs[:k]:
            c.repeat()

    bs = s.sweep.batch_size
    rate = {c.name: bs * args.batches / statistics.median(c.times) for c in configs}
    local, one, split = configs
    print(f"ray_scaling: {args.scenario}, receivers {', '.join(r.display for r in s.receivers)}; "
          f"{s.sweep.key} {args.ebno_db:g}, batch {bs} slots")
    print(device_line(device))
    print(versions_line() + f", ray {ray.__version__}")
    print(f"timing     : {args.batches} batches x {args.repeats} repeats in turns (median); warm-up "
          + ", ".join(f"{k} {v:.1f} s" for k, v in warm.items()))
    print()
    head = f"{'configuration':<14} {'slots/s':>8} {'s/batch':>8} {'driver CPU ms/batch':>20} {'repeats [s]':>20}"
    print(head)
    print("-" * len(head))
    for c in configs:
        cpu = "" if c is local else f"{1e3 * statistics.median(c.cpu) / args.batches:.1f}"
        reps = " ".join(f"{t:.1f}" for t in c.times)
        print(f"{c.name:<14} {rate[c.name]:>8.1f} {statistics.median(c.times) / args.batches:>8.3f} {cpu:>20} {reps:>20}")
    print()
    same = local.counts == one.counts == split.counts
    print(f"identical counts in every configuration : {'yes' if same else 'NO'}")
    for c in (one, split):
        for lab, st in c.counts.items():
            for part in ("sums", "squares"):
                diff = {k: (v, local.counts[lab][part][k]) for k, v in st[part].items() if v != local.counts[lab][part][k]}
                if diff:
                    print(f"  {c.name} / {lab} {part} differ from local: {diff}")
    r1 = rate[one.name] / rate[local.name]
    r2 = rate[split.name] / rate[local.name]
    print(f"ray 1 worker / local                    : {r1:.3f}  (goal >= {GOAL_OVERHEAD})  "
          f"{'PASS' if r1 >= GOAL_OVERHEAD else 'BELOW GOAL'}")
    print(f"ray {cores} single-threaded workers / local   : {r2:.3f}  (goal >= {GOAL_SPLIT})  "
          f"{'PASS' if r2 >= GOAL_SPLIT else 'BELOW GOAL'}")
    driver = statistics.median(split.cpu) / args.batches
    per_worker = statistics.median(split.times) / args.batches * cores  # one single-threaded worker's s/batch
    print(f"driver CPU per batch ({split.name})      : {1e3 * driver:.1f} ms; one single-threaded worker takes "
          f"{per_worker:.2f} s per batch -> one driver core feeds about {per_worker / driver:.0f} such workers")
    print(f"total wall time: {time.perf_counter() - t_start:.0f} s")
    for c in configs[1:]:
        c.executor.close()
    ray.shutdown()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
