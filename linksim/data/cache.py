"""Where linksim keeps what it can recompute (channel draws, data sets, fits,
eigendecompositions), and how a cache file is written so that concurrent runs never read
a partial one."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_cache_dir", "write_cache_file"]

_REPO = Path(__file__).resolve().parents[2]


def write_cache_file(path: Path, write) -> None:
    """Write a cache file through a per-process temporary file and a rename (concurrent
    runs never read a partial file): ``write(f)`` fills the binary file object ``f``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        write(f)
    tmp.replace(path)


def default_cache_dir() -> Path:
    """``$LINKSIM_DATA_CACHE``, else ``data_cache/`` at the repository root (git-ignored)
    when linksim runs from a source checkout, else ``~/.cache/linksim/data``."""
    env = os.environ.get("LINKSIM_DATA_CACHE")
    if env:
        return Path(env)
    if (_REPO / "setup.cfg").is_file() and (_REPO / "linksim").is_dir():
        return _REPO / "data_cache"
    return Path.home() / ".cache" / "linksim" / "data"
