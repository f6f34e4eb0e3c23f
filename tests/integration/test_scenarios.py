"""Every shipped scenario validates and runs end to end (--quick) through the CLI."""

import csv
from pathlib import Path

import pytest

from linksim.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs_quick(path, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(path), "--quick", "--no-progress", "--set", f"output={out}"]) == 0
    run = Path(str(out) + "-quick")
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    import yaml

    scenario = yaml.safe_load(open(path))
    n_points = min(2, len(scenario["sweep"]["values"]))
    assert len(rows) == n_points * len(scenario["receivers"])
    assert (run / "scenario.yaml").is_file() and (run / "meta.json").is_file()
    assert list((run / "figures").glob("*.png"))
    printed = capsys.readouterr().out
    assert "receiver" in printed and "results:" in printed
