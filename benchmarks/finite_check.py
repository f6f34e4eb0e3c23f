"""Cost of the non-finite check on receiver outputs (``link.check_finite``).

Every batch, the runner checks that each receiver's ``h_hat`` and ``err_var`` are finite
(a diverging sampler must not write NaN NMSE and garbage BER as if measured). This
script builds the scenario's link twice in one process, with and without the check, times
``link.run_batch`` of both in turns and prints the median time per batch of each and
their ratio (goal: the check costs < 2 % of a batch).

Usage::

    python benchmarks/finite_check.py [--scenario scenarios/quickstart.yaml]
        [--batch 32] [--repeats 15] [--ebno-db 4] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from sionna.phy import config as sionna_config  # noqa: E402

from environment import device_line, interleave, versions_line  # noqa: E402
from linksim.runner import select_device  # noqa: E402
from linksim.scenario import load_scenario  # noqa: E402
from linksim.links.registry import build_link  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="scenarios/quickstart.yaml")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--ebno-db", type=float, default=4.0)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args(argv)

    s = load_scenario(args.scenario, args.overrides)
    device = select_device(s.runtime.device)
    links = {}
    for checked in (False, True):
        sionna_config.seed = s.seed
        link = build_link(s)
        link.check_finite = checked
        link._build_step()  # the flag is read when the step is traced
        links["with check" if checked else "without check"] = link
    no = next(iter(links.values())).noise_variance("ebno_db", args.ebno_db)
    benches = {name: (lambda lk=lk: lk.run_batch(args.batch, no)) for name, lk in links.items()}
    interleave(benches, 2)  # trace and warm up
    times = interleave(benches, args.repeats)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(device_line(device))
    print(versions_line())
    print(f"scenario   : {args.scenario} {' '.join(args.overrides)}; receivers "
          f"{', '.join(label for label, _ in links['with check'].receivers)}; batch {args.batch} slots, "
          f"{args.repeats} interleaved repeats")
    for name, m in med.items():
        print(f"{name:14s}: {m * 1e3:8.1f} ms per batch (median)")
    ratio = med["with check"] / med["without check"]
    print(f"ratio      : with / without = {ratio:.4f} (check costs {100 * (ratio - 1):+.2f} % of a batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
