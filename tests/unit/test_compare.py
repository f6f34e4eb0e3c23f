"""linksim compare: NMSE gaps and BLER-target crossings read off a run folder."""

import math

import pytest
import yaml

from linksim.cli import main
from linksim.compare import crossing


def test_crossing_log_linear():
    # BLER 1 -> 0.01 over 1 dB: 0.1 is half-way in the log domain
    assert crossing([0, 1, 2], [1.0, 0.01, 0.001], 0.1) == pytest.approx(0.5)
    assert crossing([0, 1], [0.5, 0.2], 0.1) is None        # never reaches the target
    assert crossing([0, 1], [0.05, 0.01], 0.1) is None      # starts below it
    assert crossing([0, 1, 2], [1.0, math.nan, 0.01], 0.1) == pytest.approx(1.0)  # NaN skipped


def _write_run(path):
    path.mkdir()
    (path / "scenario.yaml").write_text(yaml.safe_dump({"name": "t", "sweep": {"key": "ebno_db"}}))
    rows = ["receiver,ebno_db,blocks,block_errors,bler,nmse_db"]
    for rx, blers, nmse in (("lmmse", (1.0, 0.01, 0.0), -20.0), ("dm", (1.0, 0.1, 0.0), -18.5)):
        for x, b in zip((0, 1, 2), blers):
            rows.append(f"{rx},{x},100,{int(b * 100)},{b},{nmse + x}")
    (path / "metrics.csv").write_text("\n".join(rows) + "\n")


def test_compare_cli(tmp_path, capsys):
    run = tmp_path / "run"
    _write_run(run)
    assert main(["compare", str(run), "--reference", "lmmse"]) == 0
    out = capsys.readouterr().out
    dm_nmse = [line for line in out.splitlines() if line.strip().startswith("dm")][0]
    assert dm_nmse.split()[1:] == ["1.50", "1.50", "1.50"]
    # lmmse crosses 0.1 at 0.5 dB, dm exactly at 1 dB: +0.50 (no bound columns: point values)
    lines = out.splitlines()
    bler = lines[next(i for i, line in enumerate(lines) if line.startswith("ebno_db at BLER")) + 1:]
    assert bler[0].split() == ["receiver", "ebno_db", "at", "BLER", "0.1", "minus", "lmmse"]
    assert bler[1].split() == ["lmmse", "0.50", "+0.00"] and bler[2].split() == ["dm", "1.00", "+0.50"]
    assert main(["compare", str(run), "--reference", "nope"]) == 2
    assert "allowed: lmmse, dm" in capsys.readouterr().err
