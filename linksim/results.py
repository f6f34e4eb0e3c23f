"""Run folders: ``scenario.yaml`` (resolved), ``meta.json`` and ``metrics.csv``.

Each finished point is appended to metrics.csv atomically (write a temporary file, then
rename), so an interrupted sweep loses nothing and ``--resume`` continues it. While a run
writes into its folder it holds the folder's lock file (:class:`RunLock`), so a second
run into the same folder, ``--overwrite`` included, is refused instead of mixing rows.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import socket
from pathlib import Path

import yaml

from . import strict_yaml
from .errors import UserError, clip, echo
from .growth import check_growth
from .provenance import atomic_write, cannot_write, now


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)
    return str(v)


#: Largest metrics.csv read (a sweep of thousands of points and receivers is far below it).
MAX_METRICS_BYTES = 64 * 2 ** 20


def read_metrics(path: Path) -> list[dict]:
    """Rows of a metrics.csv as dicts of str ([] when there is none). A damaged file is a
    UserError naming it, the line and the column: not UTF-8, a header without
    ``receiver``, a row of another length than the header, or a value other than a number
    (or empty) outside the ``receiver`` column."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_METRICS_BYTES + 1)
    except OSError as err:
        raise UserError(f"cannot read the file ({err.strerror})", source=str(path)) from None
    if len(raw) > MAX_METRICS_BYTES:
        raise UserError(f"larger than {MAX_METRICS_BYTES // 2 ** 20} MB; not a metrics.csv written by linksim",
                        source=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise UserError(f"not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line})", source=str(path)) from None
    table = list(csv.reader(text.splitlines()))
    if not table:
        return []
    header = table[0]
    if "receiver" not in header or len(set(header)) != len(header):
        raise UserError(f"header {clip(','.join(header))} has no receiver column or repeats a column; "
                        "not a metrics.csv written by linksim", source=str(path), field="line 1")
    rows = []
    for n, cells in enumerate(table[1:], start=2):
        if len(cells) != len(header):
            raise UserError(f"{len(cells)} values where the header has {len(header)} columns", source=str(path),
                            field=f"line {n}")
        row = dict(zip(header, cells))
        for col, v in row.items():
            if col != "receiver" and v != "":
                try:
                    float(v)
                except ValueError:
                    raise UserError(f"{echo(v)} is not a number; allowed: a number, nan or empty", source=str(path),
                                    field=f"line {n}, column {col}") from None
        rows.append(row)
    return rows


def check_writable(path: Path) -> None:
    """Raise a UserError if a run could not create or write the results folder ``path``:
    it (or the nearest part of it that exists) must be a folder this process may write to."""
    path = Path(path)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file" if probe == path else f"has the file {probe} where a folder is needed"
        raise UserError(f"the results folder {what}; allowed: a folder path", source=str(path), field="output")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in {probe} (permission denied); allowed: a folder you can write to",
                        source=str(path), field="output")


LOCK_FILE = ".lock"


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _text(path: Path) -> str | None:
    """A small file's text, or None when it is gone."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _lock_holder(text: str) -> dict | None:
    """The ``{pid, host, started}`` of a lock file's text, or None when it is not one."""
    try:
        holder = json.loads(text)
    except ValueError:
        return None
    if not isinstance(holder, dict) or not all(isinstance(holder.get(k), str) for k in ("host", "started")):
        return None
    pid = holder.get("pid")
    return holder if isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid < 2**31 else None


class RunLock:
    """The lock file of a run folder, ``<folder>/.lock``: the pid, host and start time of
    the run writing there, as JSON.

    It is created with O_CREAT | O_EXCL, so of two runs starting together exactly one
    gets it. A lock whose run is gone (on this host, its pid no longer alive: a killed
    run) is stale and taken over; one held by a live pid, by another host or unreadable is
    a UserError naming the holder. :meth:`release` removes it.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self.held = False

    def acquire(self, attempts: int = 3) -> None:
        """Hold the lock (OS errors pass through)."""
        for _ in range(attempts):  # a stale lock is moved aside, then the lock created again
            if self._create():
                return
            text = _text(self.path)
            if text is None:  # released in the meantime
                continue
            holder = _lock_holder(text)
            if holder is None or not self._stale(holder):
                raise UserError(self._held_message(holder), source=str(self.path.parent))
            self._move_aside(text)
        raise UserError(f"other runs keep taking {LOCK_FILE} here; try again", source=str(self.path.parent))

    def release(self) -> None:
        """Remove the lock if this process holds it."""
        if self.held:
            self.held = False
            self.path.unlink(missing_ok=True)

    def _create(self) -> bool:
        """Create the lock file with this process's pid, host and start time; False if it exists."""
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        self.held = True
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": now()}, f)
        except BaseException:
            self.release()
            raise
        return True

    @staticmethod
    def _stale(holder: dict) -> bool:
        """Whether the holder was a process of this host that is gone."""
        return holder["host"] == socket.gethostname() and not _pid_alive(holder["pid"])

    def _move_aside(self, stale: str) -> None:
        """Remove a stale lock: rename it to a name of this process and delete that; should
        the file renamed not be the stale lock (another run took it over first and made
        its own), link it back."""
        aside = self.path.with_name(f"{LOCK_FILE}.{os.getpid()}.stale")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            if _text(aside) != stale:
                with contextlib.suppress(FileExistsError):
                    os.link(aside, self.path)
        finally:
            aside.unlink(missing_ok=True)

    def _held_message(self, holder: dict | None) -> str:
        """Who holds the lock (``holder``; None: unknown) and what to do."""
        if holder is None:
            return (f"{LOCK_FILE} here is not a linksim lock, so another run may be writing here; "
                    f"if none is, delete {self.path}")
        return (f"another run is writing here (pid {holder['pid']} on {clip(holder['host'])}, started "
                f"{clip(holder['started'])}); wait for it to end or give this run another output "
                f"(if it has ended, delete {self.path})")


class RunDir:
    """One run's results folder; :meth:`prepare` locks it and :meth:`close` (or the end of a
    ``with`` block) unlocks it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metrics_path = self.path / "metrics.csv"
        self.meta_path = self.path / "meta.json"
        self.scenario_path = self.path / "scenario.yaml"
        self.lock = RunLock(self.path)

    @classmethod
    def prepare(cls, path: Path, resolved: dict, resume: bool, overwrite: bool) -> "RunDir":
        """Create (or reopen with ``resume``) the folder and write scenario.yaml.

        ``resume`` needs an earlier run here, made with the same scenario or one that only
        asks for more statistics (:mod:`linksim.growth`); ``resume`` and ``overwrite``
        exclude each other. The accepted changes are in :attr:`grown`. The folder stays
        locked (:class:`RunLock`) until :meth:`close`; a folder locked by another run, or
        an OS error on it (:func:`cannot_write`), is a UserError.
        """
        run = cls(path)
        if resume and overwrite:
            raise UserError("--resume continues the run in this folder and --overwrite deletes it: give one of them",
                            source=str(run.path))
        if resume and not run.has_run():
            raise UserError("nothing to resume: no earlier run in this folder (leave out --resume to start one)",
                            source=str(run.path))
        with run.os_errors():
            run.path.mkdir(parents=True, exist_ok=True)
            run.lock.acquire()
            try:
                run.start(resolved, resume, overwrite)
            except BaseException:
                run.lock.release()
                raise
        return run

    def close(self) -> None:
        """Unlock the folder (when this run locked it)."""
        with self.os_errors():
            self.lock.release()

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def has_run(self) -> bool:
        """Whether an earlier run wrote here (its metrics.csv or meta.json)."""
        return self.metrics_path.exists() or self.meta_path.exists()

    @contextlib.contextmanager
    def os_errors(self):
        """Turn an OS error on this folder into a UserError (:func:`cannot_write`)."""
        try:
            yield
        except OSError as err:
            raise cannot_write(err, self.path, "the results folder") from None

    def start(self, resolved: dict, resume: bool, overwrite: bool) -> None:
        """Check an earlier run against the flags (and, on ``resume``, its scenario against
        ``resolved``), delete its results on ``overwrite``, and write scenario.yaml."""
        if self.has_run() and not (resume or overwrite):
            raise UserError("results already exist here; use --resume to continue or --overwrite to start again",
                            source=str(self.path))
        self.grown = []
        if resume and self.scenario_path.exists():
            try:
                previous = strict_yaml.read_file(self.scenario_path)
            except strict_yaml.YamlProblem as err:
                raise UserError(err.message, source=str(self.scenario_path), field=err.where) from None
            try:
                self.grown = check_growth(previous, resolved)
            except ValueError as err:
                raise UserError(str(err), source=str(self.path)) from None
        if overwrite:
            for p in (self.metrics_path, self.meta_path):
                p.unlink(missing_ok=True)
        atomic_write(self.scenario_path, yaml.safe_dump(resolved, sort_keys=False))

    # metrics ----------------------------------------------------------------
    def rows(self) -> list[dict]:
        return read_metrics(self.metrics_path)

    def write_point(self, columns: list[str], key: str, order: list[float], rows: list[dict]) -> None:
        """Write the rows of one point (replacing earlier rows at its ``key`` value),
        atomically, keeping the points in ``order`` (the sweep's values)."""
        value = float(rows[0][key])
        kept = [r for r in self.rows() if float(r[key]) != value]
        fresh = [{k: _fmt(v) for k, v in r.items()} for r in rows]
        rank = {float(v): i for i, v in enumerate(order)}
        merged = sorted(kept + fresh, key=lambda r: rank.get(float(r[key]), len(rank)))  # stable: receiver order kept
        lines = [",".join(columns)] + [",".join(_csv_escape(r.get(c, "")) for c in columns) for r in merged]
        atomic_write(self.metrics_path, "\n".join(lines) + "\n")

    # meta -------------------------------------------------------------------
    def read_meta(self) -> dict:
        if not self.meta_path.exists():
            return {}
        with open(self.meta_path, encoding="utf-8") as f:
            return json.load(f)

    def write_meta(self, meta: dict) -> None:
        atomic_write(self.meta_path, json.dumps(meta, indent=2, sort_keys=False) + "\n")


def _csv_escape(v) -> str:
    v = str(v)
    return f'"{v}"' if ("," in v or '"' in v) else v

