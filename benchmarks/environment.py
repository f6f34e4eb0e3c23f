"""What a benchmark ran on (device, host CPU, load, package versions), and interleaved timing."""

from __future__ import annotations

import os
import platform
import time

from linksim.provenance import package_versions


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "?"


def device_line(device: str) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"device     : {device}  (host CPU: {cpu_name()}, {os.cpu_count()} cores, load avg {load})"


def versions_line() -> str:
    v = package_versions()
    return (f"versions   : python {v['python']}, tensorflow {v['tensorflow']}, sionna-no-rt {v['sionna-no-rt']}, "
            f"numpy {v['numpy']}, linksim {v['linksim']}")


def interleave(benches: dict, repeats: int) -> dict:
    """``{name: fn}`` -> ``{name: [seconds per call]}``: one call each per repeat, the
    order rotating between repeats (background load hits all alike)."""
    names = list(benches)
    times = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            t0 = time.perf_counter()
            benches[n]()
            times[n].append(time.perf_counter() - t0)
    return times
