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


# --------------------------------------------------------------------------- several runs
def _run(path, name="t", key="ebno_db", curves=(), xs=(0, 1, 2), blocks=100):
    """A run folder: ``curves`` = ``[(receiver, BLER per x, NMSE at x = 0)]``."""
    path.mkdir()
    (path / "scenario.yaml").write_text(yaml.safe_dump({"name": name, "sweep": {"key": key}}))
    rows = [f"receiver,{key},blocks,block_errors,bler,nmse_db"]
    for rx, blers, nmse in curves:
        for x, b in zip(xs, blers):
            rows.append(f"{rx},{x},{blocks},{round(b * blocks)},{b},{nmse + x}")
    (path / "metrics.csv").write_text("\n".join(rows) + "\n")
    return path


def _two_runs(tmp_path, name_b="b"):
    a = _run(tmp_path / "run_a", "a", curves=[("lmmse", (1.0, 0.01, 0.0), -20.0), ("dm", (1.0, 0.1, 0.0), -18.5)])
    b = _run(tmp_path / "run_b", name_b, curves=[("lmmse", (1.0, 0.2, 0.05), -19.0)], xs=(0, 2, 4), blocks=1000)
    return a, b


TITLES = ("NMSE minus", "ebno_db at BLER", "resolution")


def _table_after(out, title_start):
    """The rows (split on whitespace) of the table under the title line ``title_start``,
    up to the next title."""
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(title_start))
    rows = []
    for line in lines[i + 1:]:
        if line.startswith(TITLES):
            break
        rows.append(line.split())
    return rows


def test_compare_several_runs_prefixes_shared_labels(tmp_path, capsys):
    a, b = _two_runs(tmp_path)
    assert main(["compare", str(a), str(b), "--reference", "a/lmmse"]) == 0
    out = capsys.readouterr().out
    nmse = _table_after(out, "NMSE minus a/lmmse")
    # header names the key at every swept value of either run (the union)
    assert nmse[0] == ["receiver", "ebno_db=0", "ebno_db=1", "ebno_db=2", "ebno_db=4"]
    rows = {r[0]: r[1:] for r in nmse[1:]}
    assert set(rows) == {"a/lmmse", "dm", "b/lmmse"}  # dm is only in run a: no prefix
    assert rows["dm"] == ["1.50", "1.50", "1.50", "nan"]
    assert rows["b/lmmse"] == ["1.00", "nan", "1.00", "nan"]  # run b has no point at 1
    bler = _table_after(out, "ebno_db at BLER 0.1")
    assert bler[0][:2] == ["receiver", "ebno_db"]
    cells = {r[0]: r[1:] for r in bler[1:]}
    assert cells["a/lmmse"] == ["0.50", "+0.00"] and cells["dm"] == ["1.00", "+0.50"]
    # run b: 1 at 0 dB, 0.2 at 2 dB, 0.05 at 4 dB: crosses 0.1 at 2 + 2 log 2 / log 4 = 3 dB
    assert cells["b/lmmse"] == ["3.00", "+2.50"]
    # an unprefixed label found in one run only is a valid reference
    assert main(["compare", str(a), str(b), "--reference", "dm"]) == 0
    assert "NMSE minus dm [dB]" in capsys.readouterr().out


def test_compare_runs_with_one_name_are_told_apart_by_folder(tmp_path, capsys):
    a, b = _two_runs(tmp_path, name_b="a")
    assert main(["compare", str(a), str(b), "--reference", "run_b/lmmse"]) == 0
    out = capsys.readouterr().out
    labels = [r[0] for r in _table_after(out, "NMSE minus run_b/lmmse")[1:]]
    assert labels == ["run_a/lmmse", "dm", "run_b/lmmse"]


def test_compare_reference_errors(tmp_path, capsys):
    a, b = _two_runs(tmp_path)
    assert main(["compare", str(a), str(b), "--reference", "lmmse"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--reference" in err and "more than one run" in err
    assert err.endswith("name one of: a/lmmse, b/lmmse")
    assert main(["compare", str(a), "--reference", "lmse"]) == 2
    err = capsys.readouterr().err.strip()
    assert '(did you mean "lmmse"?)' in err and err.endswith("allowed: lmmse, dm")


def test_compare_runs_must_sweep_one_key(tmp_path, capsys):
    a = _run(tmp_path / "run_a", "a", curves=[("lmmse", (1.0, 0.01, 0.0), -20.0)])
    b = _run(tmp_path / "run_b", "b", key="snr_db", curves=[("lmmse", (1.0, 0.01, 0.0), -20.0)])
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "a sweeps ebno_db" in err and "b sweeps snr_db" in err


@pytest.mark.parametrize("target", ["10", "1", "0", "-0.1", "nan"])
def test_compare_bler_target_must_be_a_probability(tmp_path, capsys, target):
    run = _run(tmp_path / "run", curves=[("lmmse", (1.0, 0.01, 0.0), -20.0)])
    assert main(["compare", str(run), "--bler", target]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--bler" in err and "(0, 1)" in err


def test_compare_states_resolution_and_unresolved_targets(tmp_path, capsys):
    run = _run(tmp_path / "run", curves=[("lmmse", (1.0, 0.01, 0.0), -20.0), ("dm", (1.0, 0.5, 0.2), -18.5)])
    # one point with fewer blocks: the smallest count sets the resolution
    text = (run / "metrics.csv").read_text().replace("dm,2,100,20,0.2", "dm,2,60,12,0.2")
    (run / "metrics.csv").write_text(text)
    assert main(["compare", str(run), "--bler", "0.1"]) == 0
    out = capsys.readouterr().out
    assert ("resolution: with 60 blocks per point the lowest BLER this run can resolve is about 3/60 = 0.05"
            in out)
    cells = {r[0]: " ".join(r[1:]) for r in _table_after(out, "ebno_db at BLER 0.1")[1:]}
    assert cells["dm"] == "not reached"  # 0.1 is above the resolution: the curve just stops short
    assert main(["compare", str(run), "--bler", "0.001"]) == 0
    out = capsys.readouterr().out
    cells = {r[0]: " ".join(r[1:]) for r in _table_after(out, "ebno_db at BLER 0.001")[1:]}
    assert cells["dm"] == cells["lmmse"] == "unresolved (needs >= 3000 blocks/point)"
    # lmmse's zero-error point (counted as half an error) gives a crossing of 0.02, below 3/60
    assert main(["compare", str(run), "--bler", "0.02"]) == 0
    cells = {r[0]: " ".join(r[1:]) for r in _table_after(capsys.readouterr().out, "ebno_db at BLER 0.02")[1:]}
    assert "(below resolution)" in cells["lmmse"] and cells["dm"].startswith("unresolved")
