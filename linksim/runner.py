"""Sweeps: points x receivers on the same channel realisations, early stop, progress,
incremental and resumable results."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import tensorflow as tf
from tqdm.auto import tqdm

from .errors import UserError, echo
from .executors import Work, batch_seed, make_executor
from .metrics import Accumulator, columns
from .provenance import git_revision, now, package_versions
from .results import RunDir
from .scenario import NOISE_KEYS, Scenario, with_value

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


SEEDING = "per-batch"  # recorded in meta.json: how batch seeds derive from the scenario seed


@dataclass
class PointResult:
    value: float
    rows: list
    wall_s: float
    batches: int
    batches_run: int  # in this call (fewer than ``batches`` for a point continued on --resume)


@dataclass
class RunResult:
    run_dir: RunDir
    points: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def noise_setting(s: Scenario, value: float) -> tuple[str, float]:
    """The noise key (``snr_db`` or ``ebno_db``) and its value at the swept ``value``: the
    swept value itself when the sweep is over a noise key, else the scenario's fixed one."""
    if s.sweep.key in NOISE_KEYS:
        return s.sweep.key, value
    if s.sweep.ebno_db is not None:
        return "ebno_db", s.sweep.ebno_db
    return "snr_db", s.sweep.snr_db


def _point_done(accs: dict, s: Scenario) -> bool:
    """Whether a point has all the statistics the scenario asks for."""
    if any(a.batches >= s.sweep.max_batches for a in accs.values()):
        return True
    target = s.sweep.target_block_errors
    if target is None or not s.carries_bits:
        return False
    key = "block_errors" if s.is_coded else "bit_errors"
    return all(a.sums[key] >= target for a in accs.values())


def run_point(executor, work, s: Scenario, value: float, accs: dict, progress: bool = True) -> tuple[dict, dict]:
    """Monte-Carlo at one point, continuing ``accs`` (``{label: Accumulator}`` of the
    batches already done) until :func:`_point_done`. Batch ``b`` runs with
    :func:`~linksim.executors.batch_seed` ``(s.seed, value, b)`` on ``executor``, and the
    batches are merged in index order. Returns the accumulators and the link's ``info`` (see
    :mod:`linksim.executors`)."""
    start = next(iter(accs.values())).batches
    info = {}
    if _point_done(accs, s):
        return accs, info
    bar = tqdm(total=s.sweep.max_batches, initial=start, desc=f"{s.sweep.key}={value:g}", unit="batch",
               disable=not progress, leave=False, dynamic_ncols=True)
    stream = executor.batches(work, start, s.sweep.max_batches)
    try:
        for batch, outcome in stream:
            if "nonfinite" in outcome:
                receiver, what = outcome["nonfinite"]
                seed = batch_seed(s.seed, value, batch)
                raise UserError(f"receiver {echo(receiver)} returned non-finite {what} at {s.sweep.key}={value:g}, "
                                f"batch {batch} (batch seed {seed}); this point is not written, finished points are "
                                "kept (fix the receiver, then --resume)")
            info = outcome["info"]
            for label, stats in outcome["stats"].items():
                accs[label].add(stats)
            bar.update(1)
            if s.is_coded:
                bar.set_postfix({lbl: f"{a.bler:.2g}" for lbl, a in accs.items()}, refresh=False)
            if _point_done(accs, s):
                break
    finally:
        stream.close()  # batches run beyond this point are discarded
        bar.close()
    return accs, info


def _rows(accs: dict, s: Scenario, value: float, slot) -> list[dict]:
    rows = []
    for label, acc in accs.items():
        row = {"receiver": label, s.sweep.key: value}
        row.update(acc.row(s.metrics, slot))
        rows.append(row)
    return rows


def _stops(rows: list[dict], s: Scenario) -> bool:
    """``sweep.stop_bler``: every receiver of this point is below it."""
    if s.sweep.stop_bler is None or not s.is_coded or "bler" not in rows[0]:
        return False
    return all(float(r["bler"]) < s.sweep.stop_bler for r in rows)


def _saved_points(meta: dict, key: str, labels: list[str]) -> dict:
    """``{value: point record}`` of the finished points of an earlier run that kept their
    sums (every receiver present)."""
    out = {}
    for p in meta.get("points", []):
        state = p.get("state") or {}
        if set(labels) <= set(state):
            out[float(p[key])] = p
    return out


def _work(s: Scenario, value: float, scenario_file: str | None) -> "Work":
    paths = [str(Path(scenario_file).resolve().parent)] if scenario_file else []
    return Work(scenario=s.resolved(), noise=noise_setting(s, value), seed_of=(s.seed, value),
                batch_size=s.sweep.batch_size, paths=tuple(paths + [os.getcwd()]))


def run(scenario: Scenario, resume: bool = False, overwrite: bool = False, quick: bool = False,
        progress: bool = True, executor=None, scenario_file: str | None = None) -> RunResult:
    """Run a scenario's sweep, writing each finished point to its results folder.

    With ``resume``, finished points are kept and points that now need more batches
    (:mod:`linksim.growth`) continue from their saved sums. Batches run on ``executor``
    (:mod:`linksim.executors`; default: the one ``runtime.executor`` names, closed at the
    end); ``scenario_file`` is where ``module:Class`` receivers are looked for.
    """
    s = quick_version(scenario) if quick else scenario
    where = executor.name if executor is not None else s.runtime.executor
    if where == "local":
        device = select_device(s.runtime.device)
    else:  # the workers' devices: Ray gives each worker its GPUs (or none)
        device = f"{where} workers, {s.runtime.gpus_per_worker:g} GPU(s) each"
    revision = git_revision()  # before --overwrite clears a committed results folder
    run_dir = RunDir.prepare(s.output_dir, s.resolved(), resume=resume, overwrite=overwrite)
    with run_dir:  # holds the folder's lock until the run ends, also on an error
        key = s.sweep.key
        labels = s.row_labels
        cols = columns(key, s.metrics)
        meta = run_dir.read_meta() if resume else {}
        if resume and meta.get("points") and meta.get("seeding") != SEEDING:
            raise UserError("this run was made by an older linksim that seeded whole points, not batches: it cannot be "
                            "continued; start it again with --overwrite", source=str(run_dir.path))
        saved = _saved_points(meta, key, labels)
        own = executor is None
        executor = make_executor(s.runtime) if own else executor  # closed below when made here
        meta.update({"name": s.name, "seed": s.seed, "seeding": SEEDING, "quick": quick, "device": device,
                     "xla": s.runtime.xla, "runtime": executor.describe(), "git_revision": revision,
                     "versions": package_versions()})
        meta.setdefault("started", now())
        if run_dir.grown:
            meta.setdefault("resumed_with", []).append({"at": now(), "changed": run_dir.grown})
        meta["points"] = [saved[float(v)] for v in s.sweep.values if float(v) in saved]
        meta["finished"] = False
        run_dir.write_meta(meta)
        result = RunResult(run_dir)
        structural = key not in NOISE_KEYS
        try:
            for value in s.sweep.values:
                record = saved.get(float(value))
                accs = {lab: Accumulator.from_state(record["state"][lab]) for lab in labels} if record else None
                point_scenario = with_value(s, key, value) if structural else s
                if accs is not None and _point_done(accs, point_scenario):
                    result.skipped.append(value)
                    rows = _rows(accs, s, value, record.get("slot_s"))
                else:
                    t0 = time.time()
                    done_before = record["batches"] if record else 0
                    accs = accs or {label: Accumulator() for label in labels}
                    work = _work(point_scenario, value, scenario_file)
                    accs, info = run_point(executor, work, point_scenario, value, accs, progress)
                    slot = info.get("slot_s", (record or {}).get("slot_s"))
                    rows = _rows(accs, s, value, slot)
                    run_dir.write_point(cols, key, s.sweep.values, rows)
                    wall = time.time() - t0 + (record or {}).get("wall_s", 0.0)
                    record = {key: value, "wall_s": round(wall, 3), "batches": next(iter(accs.values())).batches,
                              "slot_s": slot, "state": {lab: acc.state() for lab, acc in accs.items()}}
                    meta["points"] = [p for p in meta["points"] if float(p[key]) != float(value)] + [record]
                    meta["points"].sort(key=lambda p: s.sweep.values.index(p[key]) if p[key] in s.sweep.values else 0)
                    for part in ("receivers", "reconstruction"):
                        if info.get(part):
                            meta[part] = info[part]
                    if info.get("xla_fallback"):
                        meta["xla_fallback"] = info["xla_fallback"]
                    meta["runtime"] = executor.describe()
                    run_dir.write_meta(meta)
                    result.points.append(PointResult(value, rows, wall, record["batches"], record["batches"] - done_before))
                if _stops(rows, s):
                    break
        finally:
            if own:
                executor.close()
        meta["finished"] = True
        meta["ended"] = now()
        run_dir.write_meta(meta)
    return result


def summary_table(run_dir: RunDir, key: str, metrics) -> str:
    """A short text table of the run's metrics.csv."""
    rows = run_dir.rows()
    if not rows:
        return "(no finished points)"
    shown = ("ber", "bler", "nmse_db", "err_var_ratio", "se", "goodput_mbps", "psnr_db", "ssim")  # no bounds: keep it short
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
