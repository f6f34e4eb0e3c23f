"""Interrupted runs resume without loss; same scenario + seed -> identical metrics.csv (kill +
resume per link family: test_resume_families.py)."""

import pytest

from linksim.errors import UserError
from linksim.executors import LocalExecutor
from linksim.runner import run
from linksim.scenario import load_scenario

SMALL = ["receivers=[{name: perfect}, {name: ls}]", "sweep.values=[-2,0,2]",
         "sweep.batch_size=8", "sweep.max_batches=2", "sweep.target_block_errors=null",
         "runtime.xla=false"]  # graph mode: no XLA compilation in each of the processes


@pytest.mark.slow  # test_resume_families.py compares an uninterrupted run with one in other processes
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
    from linksim.executors import batch_seed

    seeds = {batch_seed(s, v, b) for s in (1, 2) for v in (0.0, 0.5, 1.0) for b in range(3)}
    assert len(seeds) == 18
    assert batch_seed(1, 0.5, 2) == batch_seed(1, 0.5, 2)
    assert batch_seed(1, 2, 0) == batch_seed(1, 2.0, 0)  # an int and a float value are one point
