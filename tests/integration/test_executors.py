"""Executors: a Ray run (2 workers, a worker killed, the driver killed + --resume)
writes the same metrics.csv as a local run; several runs share one pool; no Ray -> exit 2."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linksim.cli import main
from linksim.errors import UserError
from linksim.executors import INSTALL_HINT, LocalExecutor, RayExecutor
from linksim.runner import run
from linksim.scenario import load_scenario

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]

TINY = """\
name: tiny
seed: 7
carrier: {num_prbs: 2, num_ofdm_symbols: 14}
antennas:
  bs: {rows: 1, cols: 2, polarization: single, pattern: omni}
  ue: {rows: 1, cols: 1, polarization: single, pattern: omni}
channel: {model: cdl, profile: C, direction: uplink, delay_spread_ns: 100, ue_speed_kmh: 3}
pilots: {type: dmrs, symbols: [2, 11], comb: 2}
link: {mode: codeword, bits_per_symbol: 4, coderate: 0.5}
mimo: {num_streams: 1, precoder: none, detector: lmmse}
receivers:
  - name: perfect
  - name: ls
sweep: {key: ebno_db, values: [0, 2, 4, 6], batch_size: 4, max_batches: 8, target_block_errors: 6}
metrics: [ber, bler, nmse]
runtime: {xla: false}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def local():
    """One local executor for the module's local runs (its link is built once)."""
    return LocalExecutor()


@pytest.fixture(scope="module")
def local_csv(tiny, local, tmp_path_factory):
    """metrics.csv of the local run: what every executor must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("local") / "run"
    result = run(load_scenario(tiny, [f"output={out}"]), progress=False, executor=local)
    batches = [p.batches for p in result.points]
    assert min(batches) < 8 and max(batches) == 8  # early stopping happens at some points, not at all
    return (out / "metrics.csv").read_text()


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance for the module; the executors join it (8 logical CPUs: room
    for every actor of the module, each running one TensorFlow thread)."""
    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def pools(cluster, tiny):
    """A Ray executor with 2 workers (actors kept across the tests of the module; batches
    spread over two workers check the merge order, which one worker would not)."""
    made = {w: RayExecutor(load_scenario(tiny, ["runtime.executor=ray", f"runtime.workers={w}"]).runtime)
            for w in (2,)}
    yield made
    for ex in made.values():
        ex.close()


def _ray_run(tiny, out, executor):
    s = load_scenario(tiny, [f"output={out}", "runtime.executor=ray"])
    return run(s, progress=False, executor=executor)


@pytest.mark.slow  # Ray start-up and two TensorFlow workers: minutes on 2 cores (the pool tests below stay)
@pytest.mark.parametrize("workers", [2])
def test_ray_equals_local(tiny, local_csv, pools, tmp_path, workers):
    result = _ray_run(tiny, tmp_path / "ray", pools[workers])
    assert (tmp_path / "ray" / "metrics.csv").read_text() == local_csv
    meta = json.loads((tmp_path / "ray" / "meta.json").read_text())
    assert meta["runtime"]["executor"] == "ray" and meta["runtime"]["workers"] == workers
    assert [p.batches for p in result.points] == [p["batches"] for p in meta["points"]]


def test_receiver_fits_do_not_depend_on_blas_threads(scenario_path):
    """Ray gives a worker with one CPU one BLAS thread; a local run has all cores. The
    quickstart LMMSE covariance (576 x 576 from 1000 draws) is large enough for NumPy's
    BLAS to split it over threads, which changes its last digits unless the set-up is
    pinned to one thread."""
    import numpy as np
    from sionna.phy import config
    from threadpoolctl import threadpool_limits

    from linksim.links.registry import build_link

    s = load_scenario(scenario_path("quickstart"), ["receivers=[{name: lmmse}]", "runtime.xla=false"])
    covs = []
    for threads in (2, 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            config.seed = s.seed
            covs.append(build_link(s).receivers[0][1].covariances[0])
    np.testing.assert_array_equal(covs[0], covs[1])


#: Columns of metrics.csv that are counts (or ratios of counts): bit for bit on Ray.
COUNTS = ("receiver", "ebno_db", "bits", "bit_errors", "blocks", "block_errors", "ber", "ber_lo", "ber_hi", "bler",
          "bler_lo", "bler_hi", "batches")
#: The documented tolerance of the float sums (NMSE, err_var) between a local run (TensorFlow
#: on all cores) and Ray workers (one thread each): reductions split over other threads.
REL_TOL = 1e-5


@pytest.mark.slow
def test_ray_matches_local_at_the_quickstarts_size(cluster, tmp_path):
    """quickstart --quick (8 x 72, XLA on, every receiver including the diffusion ones),
    locally and on 2 Ray workers: every count identical, every float within REL_TOL
    (docs/user-guide.md states both)."""
    import csv
    import math

    base = ROOT / "scenarios" / "quickstart.yaml"
    run(load_scenario(base, [f"output={tmp_path / 'local'}"]), quick=True, progress=False, executor=LocalExecutor())
    ray_s = load_scenario(base, [f"output={tmp_path / 'ray'}", "runtime.executor=ray", "runtime.workers=2"])
    ex = RayExecutor(ray_s.runtime)
    try:
        run(ray_s, quick=True, progress=False, executor=ex)
    finally:
        ex.close()
    rows = [list(csv.DictReader(open(tmp_path / f"{d}-quick" / "metrics.csv"))) for d in ("local", "ray")]  # --quick folders
    assert len(rows[0]) == len(rows[1]) > 0
    worst = 0.0
    for a, b in zip(*rows):
        assert [a[k] for k in COUNTS] == [b[k] for k in COUNTS], a["receiver"]
        for k in set(a) - set(COUNTS):
            x, y = float(a[k]), float(b[k])
            if math.isnan(x) or math.isnan(y):
                assert math.isnan(x) and math.isnan(y), (a["receiver"], k)
                continue
            assert math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-9), (a["receiver"], a["ebno_db"], k, x, y)
            worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
    print(f"largest relative difference of a float column: {worst:.2g}")


# The two Ray failure paths (a worker or the driver killed) are the slowest tests of the
# suite (a Ray kill, restart and resume each); they run with -m slow, outside the 15-minute
# suite. The local kill + --resume stays in CI (test_resume.py).
@pytest.mark.slow
def test_worker_killed_mid_sweep(tiny, local_csv, pools, tmp_path):
    """SIGKILL one of two workers after the first merged batch: its batches run again on
    the others and on its replacement; the numbers do not change."""
    ex = pools[2]
    victim = ray.get(ex.actors[0].pid.remote())
    batches = ex.batches
    killed = []

    def batches_then_kill(*args, **kwargs):
        for item in batches(*args, **kwargs):
            if not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            yield item

    ex.batches = batches_then_kill
    try:
        _ray_run(tiny, tmp_path / "ray", ex)
    finally:
        del ex.batches
    assert killed and ex.replaced >= 1
    assert victim not in ray.get([a.pid.remote() for a in ex.actors])
    assert (tmp_path / "ray" / "metrics.csv").read_text() == local_csv


@pytest.mark.slow
def test_driver_killed_then_resume(tiny, local, cluster, pools, tmp_path, saved_points):
    """``linksim run`` on Ray killed (SIGKILL) after its first point; ``--resume`` finishes
    the sweep with the numbers of an uninterrupted run."""
    out = tmp_path / "ray"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "linksim", "run", str(tiny), "--no-progress", "--no-plot",
           "--set", f"output={out}", "--set", "runtime.executor=ray", "--set", f"runtime.address={cluster}",
           "--set", "runtime.workers=1", "--set", "sweep.max_batches=16", "--set", "sweep.target_block_errors=null"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and saved_points(out) < 1:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    meta = json.loads((out / "meta.json").read_text())
    assert not meta["finished"] and len(meta["points"]) < 4  # killed mid-sweep
    s = load_scenario(tiny, [f"output={out}", "runtime.executor=ray", "sweep.max_batches=16",
                             "sweep.target_block_errors=null"])
    resumed = run(s, resume=True, progress=False, executor=pools[2])
    assert len(resumed.skipped) == len(meta["points"]) >= 1  # the finished points are kept, not rerun
    fresh = tmp_path / "local"
    run(load_scenario(tiny, [f"output={fresh}", "sweep.max_batches=16", "sweep.target_block_errors=null"]),
        progress=False, executor=local)
    assert (out / "metrics.csv").read_text() == (fresh / "metrics.csv").read_text()


def test_job_shares_one_pool(tiny, local_csv, tmp_path, capsys, monkeypatch):
    """``linksim run a.yaml b.yaml --grid ...``: one executor for all four runs; each grid
    run equals the same scenario run on its own."""
    import linksim.executors as executors

    made = []
    real = executors.make_executor
    monkeypatch.setattr(executors, "make_executor", lambda rt: made.append(rt) or real(rt))
    files = []
    for name in ("a", "b"):
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(TINY.replace("name: tiny", f"name: {name}\noutput: {tmp_path / name}"))
    grid = ["--grid", "sweep.batch_size=4,3", "--set", "sweep.values=[0,2]"]  # two points: the first two of local_csv
    assert main(["run", *map(str, files), "--no-progress", "--no-plot", *grid, "--set", f"output={tmp_path / 'x'}"]) == 2
    assert "same results folder" in capsys.readouterr().err  # both files would write to x-sweep.batch_size=4
    assert main(["run", *map(str, files), "--no-progress", "--no-plot", *grid]) == 0
    assert len(made) == 1
    first_two = "".join(local_csv.splitlines(keepends=True)[:5])  # header + 2 points x 2 receivers
    for name in ("a", "b"):
        assert (tmp_path / f"{name}-sweep.batch_size=4" / "metrics.csv").read_text() == first_two
        assert (tmp_path / f"{name}-sweep.batch_size=3" / "metrics.csv").read_text() != first_two


def test_more_workers_than_the_cluster_holds_is_refused(cluster, tiny):
    rt = load_scenario(tiny, ["runtime.executor=ray", "runtime.workers=5", "runtime.cpus_per_worker=2",
                              "runtime.gpus_per_worker=0.5"]).runtime
    with pytest.raises(UserError) as err:
        RayExecutor(rt)
    text = str(err.value)
    assert "runtime.workers: 5 workers x 2 CPUs" in text and "<= 8" in text
    assert "runtime.gpus_per_worker" in text


def test_missing_ray_exits_2_with_hint(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert main(["run", str(tiny), "--no-progress", "--no-plot", "--set", f"output={tmp_path / 'r'}",
                 "--set", "runtime.executor=ray"]) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[cluster]"' in err and "runtime.executor" in err and INSTALL_HINT in err


def test_runs_of_one_job_must_agree_on_the_pool(tiny, tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("name: tiny", f"name: other\noutput: {tmp_path / 'other'}").replace(
        "runtime: {xla: false}", "runtime: {xla: false, executor: ray}"))
    assert main(["run", str(tiny), str(other), "--no-progress"]) == 2
    assert "runtime.executor" in capsys.readouterr().err
