"""Interrupted runs resume without loss; same scenario + seed -> identical metrics.csv."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linksim.errors import UserError
from linksim.executors import LocalExecutor
from linksim.runner import run
from linksim.scenario import load_scenario

SMALL = ["receivers=[{name: perfect}, {name: ls}]", "sweep.values=[-3,-2,-1,0,1,2]",
         "sweep.batch_size=8", "sweep.max_batches=4", "sweep.target_block_errors=null",
         "runtime.xla=false"]  # graph mode: no XLA compilation in each of the processes


#: One small sweep per link family (3-6 points, a few batches): the receivers and stages
#: whose draws must come from (run seed, point, batch) and nothing else.
FAMILIES = {
    "ofdm": ("quickstart", SMALL),
    "sounding": ("srs_sounding", ["receivers=[{name: perfect}, {name: ls}]", "sweep.values=[-5,0,5]",
                                  "sweep.batch_size=8", "sweep.max_batches=2", "runtime.xla=false"]),
    "narrowband": ("moe_vb_balanced", [
        "narrowband.test_profile=D", "sweep.values=[10,20]", "sweep.batch_size=4", "sweep.max_batches=2",
        "receivers=[{name: ls}, {name: dm_pooled, steps: 4, calibration_samples: 2}, "
        "{name: dm_vb, steps: 4, max_iterations: 2, elbo_steps: [5], calibration_samples: 2}]"]),
    "srs_precoding": ("srs_precoding_low", ["receivers=[{name: srs_hold}, {name: dm, samples: 2}]",
                                            "sweep.values=[-5,0,5]", "sweep.batch_size=8", "sweep.max_batches=2"]),
    "images": ("ddpm_images", ["reconstruction=[{name: none}, {name: ddpm, steps: 5, samples: 2}]",
                               "sweep.values=[0,4,8]", "sweep.batch_size=16", "sweep.max_batches=2"]),
    "semantic": ("semcom", ["semantic.systems=[{name: dae, samples: 2, sample_steps: 5}, {name: vae}]",
                            "sweep.batch_size=16", "sweep.max_batches=2"]),
}


def _cmd(scenario, out, overrides, *extra):
    args = [sys.executable, "-m", "linksim", "run", str(scenario), "--no-progress", "--no-plot",
            "--set", f"output={out}"]
    for o in overrides:
        args += ["--set", o]
    return args + list(extra)


def _data_rows(path: Path) -> int:
    if not path.exists():
        return 0
    return max(0, len(path.read_text().strip().splitlines()) - 1)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_killed_run_resumes_to_identical_metrics(tmp_path, scenario_path, saved_points, family):
    """A run killed (SIGKILL) after its first saved point and resumed in another process
    gives metrics.csv byte-identical to an uninterrupted run: every draw of every receiver
    and stage comes from (seed, point, batch), none from what the process ran before."""
    name, overrides = FAMILIES[family]
    scenario = scenario_path(name)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    local = LocalExecutor()  # the full run and the resume in this process, sharing one link
    full = run(load_scenario(scenario, overrides + [f"output={tmp_path / 'full'}"]), progress=False, executor=local)
    points = len(full.points)
    rows = _data_rows(full.run_dir.metrics_path)

    cut = tmp_path / "cut"
    proc = subprocess.Popen(_cmd(scenario, cut, overrides), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while saved_points(cut) < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = _data_rows(cut / "metrics.csv")
    assert rows // points <= written < rows, f"kill landed after {written} of {rows} rows"

    done = run(load_scenario(scenario, overrides + [f"output={cut}"]), resume=True, progress=False, executor=local)
    assert 1 <= len(done.skipped) < points and len(done.skipped) + len(done.points) == points
    assert (cut / "metrics.csv").read_text() == full.run_dir.metrics_path.read_text()


def test_same_seed_twice_gives_identical_metrics(tmp_path, scenario_path):
    texts = []
    for name in ("a", "b"):
        s = load_scenario(scenario_path("quickstart"), SMALL + ["sweep.values=[-2,0]", f"output={tmp_path / name}",
                                                                "receivers=[{name: perfect}, {name: ls}, {name: lmmse, cov_samples: 64}]"])
        res = run(s, progress=False)
        texts.append(res.run_dir.metrics_path.read_text())
    assert texts[0] == texts[1]
    assert texts[0].count("\n") == 1 + 2 * 3


GROW = ["receivers=[{name: perfect}, {name: ls}]", "sweep.batch_size=8", "sweep.target_block_errors=null"]


def _run(scenario, out, *overrides, resume=False, executor=None):
    s = load_scenario(scenario, GROW + [f"output={out}", *overrides])
    return run(s, resume=resume, progress=False, executor=executor)


def test_grown_run_equals_a_run_made_with_the_larger_setting(tmp_path, scenario_path):
    """--resume with more batches, a larger target and new values in the middle and at the
    end: metrics.csv equals a fresh run's, bit for bit; kept points are not rerun."""
    scenario = scenario_path("quickstart")
    local = LocalExecutor()  # one link for the three runs (a link does not depend on the sweep)
    _run(scenario, tmp_path / "grown", "sweep.values=[-2,2]", "sweep.max_batches=2", executor=local)
    grown = _run(scenario, tmp_path / "grown", "sweep.values=[-2,0,2,4]", "sweep.max_batches=3", resume=True,
                 executor=local)
    assert [(p.value, p.batches_run) for p in grown.points] == [(-2, 1), (0, 3), (2, 1), (4, 3)]  # continued
    assert grown.skipped == []
    fresh = _run(scenario, tmp_path / "fresh", "sweep.values=[-2,0,2,4]", "sweep.max_batches=3", executor=local)
    assert grown.run_dir.metrics_path.read_text() == fresh.run_dir.metrics_path.read_text()
    assert [r["batches"] for r in grown.run_dir.rows()] == ["3"] * 8
    meta = grown.run_dir.read_meta()
    assert meta["resumed_with"][0]["changed"] == ["sweep.values", "sweep.max_batches"]
    again = _run(scenario, tmp_path / "grown", "sweep.values=[-2,0,2,4]", "sweep.max_batches=3", resume=True)
    assert again.points == [] and again.skipped == [-2, 0, 2, 4]


def test_resume_refuses_changes_that_are_not_more_statistics(tmp_path, scenario_path):
    scenario = scenario_path("quickstart")
    _run(scenario, tmp_path / "r", "sweep.values=[0]", "sweep.max_batches=2")
    for override, field in [("sweep.batch_size=16", "sweep.batch_size (was 8, now 16)"),
                            ("sweep.max_batches=1", "sweep.max_batches may only increase"),
                            ("sweep.values=[2]", "sweep.values may only gain values"),
                            ("receivers.1.interpolation=nearest", "receivers[1].interpolation")]:
        with pytest.raises(UserError) as err:
            _run(scenario, tmp_path / "r", "sweep.values=[0]", "sweep.max_batches=2", override, resume=True)
        assert field in str(err.value), str(err.value)


def test_contradictory_or_empty_resume_is_refused(tmp_path, scenario_path, capsys):
    from linksim.cli import main

    base = ["run", str(scenario_path("quickstart")), "--no-progress", "--no-plot", "--set", f"output={tmp_path / 'none'}"]
    assert main(base + ["--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(base + ["--resume", "--overwrite"]) == 2
    assert "give one of them" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_batch_seeds_depend_on_seed_value_and_index_only():
    from linksim.runner import batch_seed

    seeds = {batch_seed(s, v, b) for s in (1, 2) for v in (0.0, 0.5, 1.0) for b in range(3)}
    assert len(seeds) == 18
    assert batch_seed(1, 0.5, 2) == batch_seed(1, 0.5, 2)
    assert batch_seed(1, 2, 0) == batch_seed(1, 2.0, 0)  # an int and a float value are one point
