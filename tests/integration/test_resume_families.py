"""Every link family: a run killed mid-sweep and resumed gives the metrics.csv of an
uninterrupted run, byte for byte (a file of its own, so that pytest-xdist's loadfile puts
these subprocess runs beside the other resume tests, not after them)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linksim.executors import LocalExecutor
from linksim.runner import run
from linksim.scenario import load_scenario

from test_resume import SMALL  # the OFDM sweep of the other resume tests

#: One small sweep per link family (2-3 points, a few batches): the receivers and stages
#: whose draws must come from (run seed, point, batch) and nothing else.
FAMILIES = {
    "ofdm": ("quickstart", SMALL),
    # on CDL: Sionna's UMa traces with AutoGraph (about half a minute a process); UMa runs
    # here in Card C's channel source, and in the OFDM chain in the -m slow quick runs of
    # srs_sounding and uma_downlink_svd
    "sounding": ("srs_sounding", ["receivers=[{name: perfect}, {name: ls}]", "sweep.values=[-5,0,5]",
                                  "sweep.batch_size=8", "sweep.max_batches=2", "runtime.xla=false",
                                  "channel.model=cdl"]),
    "narrowband": ("moe_vb_balanced", [
        "narrowband.test_profile=D", "sweep.values=[10,20]", "sweep.batch_size=2", "sweep.max_batches=1",
        "receivers=[{name: dm_pooled, steps: 4, calibration_samples: 2}, "
        "{name: dm_vb, steps: 4, max_iterations: 2, elbo_steps: [5], calibration_samples: 2}]"]),
    # every SRS receiver (the quick runs of the scenarios are -m slow): the Wiener predictor
    # fitted on 256 channels, its Gaussian-posterior samples, SL, the DM's samples, E2E; the
    # minimal preset, whose models have the hold-last skip and the PRB-history queries (the
    # same receivers load the low and high models: test_srs_dm_condition.py)
    "srs_precoding": ("srs_precoding_minimal", [
        "receivers=[{name: perfect}, {name: srs_hold}, {name: wiener}, {name: wiener, label: wiener_k4, samples: 4}, "
        "{name: sl}, {name: dm, samples: 2}, {name: e2e}]", "srs_precoding.training_samples=256",
        "sweep.values=[-5,5]", "sweep.batch_size=8", "sweep.max_batches=2"]),
    "images": ("ddpm_images", ["reconstruction=[{name: none}, {name: ddpm, steps: 5, samples: 2}]",
                               "sweep.values=[0,8]", "sweep.batch_size=16", "sweep.max_batches=2"]),
    "semantic": ("semcom", ["semantic.systems=[{name: dae, samples: 2, sample_steps: 5}, {name: vae}]",
                            "sweep.values=[0.0625,0.125]", "sweep.batch_size=16", "sweep.max_batches=2"]),
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
