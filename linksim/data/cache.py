"""The one cache of linksim: where it keeps what it can recompute (channel draws of every
family, data sets, fits, eigendecompositions), how a file is named from what it holds
(:func:`keyed_path`), read or made (:func:`load_or_make`), and written so that concurrent
runs never read a partial one (:func:`write_cache_file`)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

__all__ = ["default_cache_dir", "write_cache_file", "key_digest", "keyed_path", "load_or_make"]

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


def key_digest(spec: dict, digits: int = 16) -> str:
    """Hex digest of a JSON-able ``spec`` (keys sorted): what a cache file holds."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()[:digits]


def keyed_path(prefix: str, spec: dict, suffix: str, cache_dir=None, digits: int = 16) -> Path:
    """``<cache_dir>/<prefix>-<digest of spec><suffix>`` (default folder:
    :func:`default_cache_dir`)."""
    return Path(cache_dir or default_cache_dir()) / f"{prefix}-{key_digest(spec, digits)}{suffix}"


def load_or_make(path: Path, make: Callable, read: Callable, write: Callable | None = None,
                 store: Callable | None = None):
    """``read(path)`` when the file exists and ``read`` accepts it, else ``value = make()``,
    kept with ``write(f, value)`` (one file, through :func:`write_cache_file`) or
    ``store(path, value)`` (a value that writes its own files, each atomically). ``read``
    returns None (or raises OSError / ValueError / KeyError) for a file it cannot use (a
    damaged file or one of another shape): it is made again."""
    path = Path(path)
    if path.is_file():
        try:
            value = read(path)
        except (OSError, ValueError, KeyError):
            value = None
        if value is not None:
            return value
    value = make()
    if store is not None:
        store(path, value)
    else:
        write_cache_file(path, lambda f: write(f, value))
    return value
