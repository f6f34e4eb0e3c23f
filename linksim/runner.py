"""Sweeps: points x receivers on the same channel realisations, early stop, progress,
incremental and resumable results."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import tensorflow as tf
from sionna.phy import config as sionna_config
from tqdm.auto import tqdm

from .metrics import Accumulator, columns
from .results import RunDir, git_revision, now, package_versions
from .scenario import NOISE_KEYS, Scenario, with_value
from .errors import UserError

QUICK_MAX_BATCHES = 2
QUICK_BATCH_SIZE = 16


def quick_version(s: Scenario) -> Scenario:
    """Tiny version for tests: first and last point, few small batches."""
    data = s.resolved()
    vals = s.sweep.values
    data["sweep"]["values"] = [vals[0], vals[-1]] if len(vals) > 1 else list(vals)
    data["sweep"]["max_batches"] = min(s.sweep.max_batches, QUICK_MAX_BATCHES)
    k = len(s.channel.components())  # a batch holds every mixture component equally
    data["sweep"]["batch_size"] = min(s.sweep.batch_size, -(-QUICK_BATCH_SIZE // k) * k)
    data["output"] = str(s.output_dir) + "-quick"
    return Scenario.model_validate(data)


def select_device(choice: str) -> str:
    """Apply runtime.device and return a description of the device used."""
    gpus = tf.config.list_physical_devices("GPU")
    if choice == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:
            pass  # already initialised; ops are pinned with tf.device below
        gpus = []
    if choice == "gpu" and not gpus:
        raise UserError("no GPU visible to TensorFlow; allowed here: auto, cpu", field="runtime.device")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU:0 {details.get('device_name', '')}".strip()
    return "CPU"


def point_seed(seed: int, index: int) -> int:
    """Seed of point ``index``: every point is reproducible on its own (for --resume)."""
    return (seed * 1_000_003 + 7919 * (index + 1)) % (2**31 - 1)


@dataclass
class PointResult:
    value: float
    rows: list
    wall_s: float
    batches: int


@dataclass
class RunResult:
    run_dir: RunDir
    points: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def _noise(s: Scenario, value: float) -> tuple[str, float]:
    if s.sweep.key in NOISE_KEYS:
        return s.sweep.key, value
    if s.sweep.ebno_db is not None:
        return "ebno_db", s.sweep.ebno_db
    return "snr_db", s.sweep.snr_db


def _done_values(rows: list[dict], key: str, labels: list[str]) -> set[float]:
    seen: dict[float, set] = {}
    for r in rows:
        seen.setdefault(float(r[key]), set()).add(r["receiver"])
    return {v for v, recs in seen.items() if set(labels) <= recs}


def _point_done(accs: dict, s: Scenario) -> bool:
    target = s.sweep.target_block_errors
    if target is None:
        return False
    if s.link.mode == "sounding":
        return False
    key = "block_errors" if s.is_coded else "bit_errors"
    return all(a.sums[key] >= target for a in accs.values())


def run_point(link, s: Scenario, value: float, progress: bool = True) -> tuple[dict, int]:
    """Monte-Carlo at one point. Returns ({label: Accumulator}, batches)."""
    key, nval = _noise(s, value)
    no = link.noise_variance(key, nval)
    accs = {label: Accumulator() for label, _ in link.receivers}
    bar = tqdm(total=s.sweep.max_batches, desc=f"{s.sweep.key}={value:g}", unit="batch",
               disable=not progress, leave=False, dynamic_ncols=True)
    batches = 0
    try:
        for _ in range(s.sweep.max_batches):
            out = link.run_batch(s.sweep.batch_size, no)
            for label, stats in out.items():
                accs[label].add(stats)
            batches += 1
            bar.update(1)
            if s.is_coded:
                bar.set_postfix({lbl: f"{a.bler:.2g}" for lbl, a in accs.items()}, refresh=False)
            if _point_done(accs, s):
                break
    finally:
        bar.close()
    return accs, batches


def run(scenario: Scenario, resume: bool = False, overwrite: bool = False, quick: bool = False,
        progress: bool = True) -> RunResult:
    """Run a scenario's sweep, writing each finished point to its results folder."""
    from .system.link import build_link

    s = quick_version(scenario) if quick else scenario
    device = select_device(s.runtime.device)
    revision = git_revision()  # before --overwrite clears a committed results folder
    run_dir = RunDir.prepare(s.output_dir, s.resolved(), resume=resume, overwrite=overwrite)
    sionna_config.precision = s.precision
    key = s.sweep.key
    labels = [r.display for r in s.receivers]
    cols = columns(key, s.metrics)
    done = _done_values(run_dir.rows(), key, labels) if resume else set()
    meta = run_dir.read_meta() if resume else {}
    meta.update({"name": s.name, "seed": s.seed, "quick": quick, "device": device,
                 "xla": s.runtime.xla, "git_revision": revision, "versions": package_versions()})
    meta.setdefault("started", now())
    meta.setdefault("points", [])
    meta["finished"] = False
    run_dir.write_meta(meta)
    result = RunResult(run_dir)
    structural = key not in NOISE_KEYS
    link = None
    if not structural:
        sionna_config.seed = s.seed
        link = build_link(s)
    stop = _already_stopped(run_dir.rows(), s) if resume else False
    for i, value in enumerate(s.sweep.values):
        if value in done:
            result.skipped.append(value)
            continue
        if stop:
            break
        t0 = time.time()
        if structural:
            sionna_config.seed = s.seed
            point_scenario = with_value(s, key, value)
            link = build_link(point_scenario)
        else:
            point_scenario = s
        sionna_config.seed = point_seed(s.seed, i)
        accs, batches = run_point(link, point_scenario, value, progress)
        slot = getattr(link, "slot_duration", None)
        rows = []
        for label, acc in accs.items():
            row = {"receiver": label, key: value}
            row.update(acc.row(s.metrics, slot))
            rows.append(row)
        run_dir.append_rows(cols, rows)
        wall = time.time() - t0
        meta["points"].append({key: value, "wall_s": round(wall, 3), "batches": batches})
        if getattr(link, "receiver_info", None):
            meta["receivers"] = link.receiver_info
        if getattr(link, "xla_fallback", None):
            meta["xla_fallback"] = link.xla_fallback
        run_dir.write_meta(meta)
        result.points.append(PointResult(value, rows, wall, batches))
        if s.sweep.stop_bler is not None and s.is_coded and all(r["bler"] < s.sweep.stop_bler for r in rows if "bler" in r):
            stop = True
    meta["finished"] = True
    meta["ended"] = now()
    run_dir.write_meta(meta)
    return result


def _already_stopped(rows: list[dict], s: Scenario) -> bool:
    if s.sweep.stop_bler is None or not rows or "bler" not in rows[0]:
        return False
    last = float(rows[-1][s.sweep.key])
    last_rows = [r for r in rows if float(r[s.sweep.key]) == last]
    return all(float(r["bler"]) < s.sweep.stop_bler for r in last_rows)


def summary_table(run_dir: RunDir, key: str, metrics) -> str:
    """A short text table of the run's metrics.csv."""
    rows = run_dir.rows()
    if not rows:
        return "(no finished points)"
    shown = ("ber", "bler", "nmse_db", "err_var_ratio", "se", "goodput_mbps")  # no bounds: keep it short
    cols = ["receiver", key] + [c for c in shown if c in rows[0]] + ["batches"]
    table = [cols] + [[_short(r[c]) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _short(v: str) -> str:
    try:
        x = float(v)
    except ValueError:
        return v
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return v
    if x == int(x) and abs(x) < 1e9:
        return str(int(x))
    return f"{x:.4g}"
