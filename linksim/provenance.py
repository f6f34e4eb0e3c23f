"""Where a record came from and how it is written: the git revision and package versions
that every run, model card and benchmark records, the time stamp, and the atomic write
(temporary file + rename) that every results file, card and cache goes through.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import platform
import subprocess
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import __version__
from .errors import UserError

__all__ = ["atomic_write", "cannot_write", "git_revision", "package_versions", "now"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


IN_THE_WAY = {errno.EEXIST: "a file stands where the folder should be",
              errno.ENOTDIR: "a file stands where a folder above it should be"}


def cannot_write(err: OSError, where: Path, what: str) -> UserError:
    """An OS error (read-only folder or disk, full disk, a file in the way) as one
    UserError naming ``where``, ``what`` could not be written and why."""
    reason = IN_THE_WAY.get(err.errno) or err.strerror or str(err)
    return UserError(f"cannot write {what} ({reason})", source=str(where))


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename; the file gets the
    usual mode for new files (0666 less the umask), not mkstemp's 0600. An OS error is a
    UserError (:func:`cannot_write`) and leaves no temporary file."""
    path = Path(path)
    try:
        _write_and_rename(path, text)
    except OSError as err:
        raise cannot_write(err, path.parent, path.name) from None


def _write_and_rename(path: Path, text: str) -> None:
    """:func:`atomic_write` itself; the temporary file is removed when a step fails."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            os.chmod(tmp, 0o666 & ~_umask())
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def git_revision(path=None) -> str:
    """Commit of the repository holding ``path`` (default: this package), ``-dirty`` when
    tracked files outside ``results/`` differ from it, or ``unknown``."""
    here = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        # dirty: the code, scenarios or docs differ from the commit; results/ (where runs
        # write, reference runs included) does not count
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ":(top)", ":(top,exclude)results"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict:
    out = {"python": platform.python_version(), "linksim": __version__}
    for name in ("sionna-no-rt", "tensorflow", "numpy", "pydantic"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
