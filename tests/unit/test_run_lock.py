"""The lock file of a run folder: one run writes into a results folder at a time.

A second run into a folder whose lock a live process holds is refused (``--overwrite``
included) naming the holder; a lock left by a killed run (its pid gone) is taken over;
the lock is removed when the run ends, also on an error. The runs here send a few
uncoded bits over AWGN (half a second).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from linksim.cli import main
from linksim.errors import UserError
from linksim.results import LOCK_FILE, RunDir
from linksim.runner import SEEDING, run
from linksim.scenario import load_scenario

STARTED = "2026-01-02T03:04:05+00:00"
TINY = {"name": "tiny", "antennas": {"bs": {"rows": 1, "cols": 1}, "ue": {"rows": 1, "cols": 1}},
        "channel": {"model": "awgn"}, "link": {"ofdm": False, "mode": "uncoded", "bits_per_symbol": 2},
        "receivers": [{"name": "perfect"}], "metrics": ["ber"],
        "sweep": {"key": "snr_db", "values": [2.0], "batch_size": 4, "max_batches": 1, "target_block_errors": None},
        "runtime": {"xla": False}}
OLD_ROWS = "receiver,snr_db,ber\nperfect,2.0,0.5\n"


@pytest.fixture
def tiny(tmp_path) -> tuple[Path, Path]:
    """A tiny scenario file and its results folder, which holds the rows of an earlier run."""
    out = tmp_path / "out"
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "output": str(out)}, sort_keys=False))
    out.mkdir()
    (out / "metrics.csv").write_text(OLD_ROWS)
    return path, out


@pytest.fixture
def live_pid():
    """The pid of a process that stays alive during the test."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def ended_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lock(folder: Path, pid: int, host: str | None = None) -> str:
    """A lock file in ``folder`` as a run with ``pid`` on ``host`` leaves it; its text."""
    text = json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": STARTED})
    (folder / LOCK_FILE).write_text(text)
    return text


def run_cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flags", [[], ["--overwrite"], ["--resume"]])
def test_second_run_refused_while_a_live_run_holds_the_lock(tiny, capsys, live_pid, flags):
    path, out = tiny
    lock = write_lock(out, live_pid)
    code, err = run_cli(["run", str(path), "--no-progress", "--no-plot", *flags], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith(f"linksim: error: {out}: another run is writing here (pid {live_pid} on "
                          f"{socket.gethostname()}, started {STARTED})"), err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE, "metrics.csv"]  # nothing deleted or written
    assert (out / "metrics.csv").read_text() == OLD_ROWS and (out / LOCK_FILE).read_text() == lock


def test_lock_of_another_host_is_not_taken_over(tmp_path):
    """Its pid cannot be checked from here: the lock holds."""
    write_lock(tmp_path, ended_pid(), host="elsewhere")
    with pytest.raises(UserError, match="another run is writing here .pid [0-9]+ on elsewhere"):
        RunDir.prepare(tmp_path, {}, resume=False, overwrite=True)


@pytest.mark.parametrize("text", ["", "{not json", '{"pid": 0, "host": "h", "started": "s"}'])
def test_unreadable_lock_holds(tmp_path, text):
    (tmp_path / LOCK_FILE).write_text(text)
    with pytest.raises(UserError, match=f"not a linksim lock.*delete {tmp_path / LOCK_FILE}"):
        RunDir.prepare(tmp_path, {}, resume=False, overwrite=True)
    assert (tmp_path / LOCK_FILE).read_text() == text


def test_one_folder_one_run_in_one_process(tmp_path):
    with RunDir.prepare(tmp_path, {}, resume=False, overwrite=False):
        with pytest.raises(UserError, match=f"pid {os.getpid()} "):
            RunDir.prepare(tmp_path, {}, resume=False, overwrite=True)
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_FILE).exists()


def test_stale_lock_is_taken_over(tiny, capsys, monkeypatch):
    """A killed run's lock (its pid gone) is replaced by this run's, which holds it while
    the points are written and removes it at the end."""
    path, out = tiny
    write_lock(out, ended_pid())
    holders = []
    write_point = RunDir.write_point

    def recording(self, *args):
        holders.append(json.loads((self.path / LOCK_FILE).read_text())["pid"])
        write_point(self, *args)

    monkeypatch.setattr(RunDir, "write_point", recording)
    code, err = run_cli(["run", str(path), "--no-progress", "--no-plot", "--overwrite"], capsys)
    assert code == 0, err
    assert holders == [os.getpid()]
    assert not (out / LOCK_FILE).exists() and not list(out.glob(f"{LOCK_FILE}*"))
    assert (out / "metrics.csv").read_text() != OLD_ROWS  # the old rows were replaced, not mixed in


def test_take_over_keeps_a_lock_made_in_the_meantime(tmp_path):
    """Another run took the stale lock over first: the lock it made is put back."""
    from linksim.results import RunLock

    stale = json.dumps({"pid": ended_pid(), "host": socket.gethostname(), "started": STARTED})
    fresh = write_lock(tmp_path, os.getpid())
    RunLock(tmp_path)._move_aside(stale)
    assert (tmp_path / LOCK_FILE).read_text() == fresh
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_FILE]


def test_lock_removed_when_a_run_fails(tiny):
    """The run stops after locking (an earlier run made with another seeding): no lock stays."""
    path, out = tiny
    s = load_scenario(path)
    (out / "scenario.yaml").write_text(yaml.safe_dump(s.resolved(), sort_keys=False))
    (out / "meta.json").write_text(json.dumps({"points": [{"snr_db": 2.0}], "seeding": "per-point"}))
    assert SEEDING != "per-point"
    with pytest.raises(UserError, match="older linksim"):
        run(s, resume=True, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "metrics.csv", "scenario.yaml"]


def test_lock_removed_when_a_check_refuses(tiny):
    path, out = tiny
    with pytest.raises(UserError, match="results already exist"):
        RunDir.prepare(out, {}, resume=False, overwrite=False)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv"]
