"""The one plug-in mechanism: a :class:`Table` per kind of part, ``name -> "module:Class"``.

Each kind keeps its table beside its code, one explicit line per entry (the receivers of
each link family, the reconstruction stages, the networks a checkpoint may name, the
training programs, the link families). A table is open three ways:

- its own lines (linksim's parts; they win a name clash);
- installed packages, through the table's entry-point group
  (``my_rx = "my_package.module:MyReceiver"`` under ``[options.entry_points]``);
- where the table allows it, any importable class named as ``module.path:ClassName``; a
  module next to the scenario file (or in the current folder) is found too.

Nothing is imported until a name is looked up, so a table costs nothing to hold and a
broken plug-in only breaks the scenarios that use it. ``linksim list`` prints every table.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from .errors import UserError, allowed, did_you_mean, echo

__all__ = ["Entry", "Table", "load_target", "is_module_path", "import_module_path", "first_line"]


@dataclass(frozen=True)
class Entry:
    """Where a name points: ``target`` ("module:Attr", or "module" for a program) and
    ``origin`` (``linksim`` or ``entry point of <distribution>``)."""

    name: str
    target: str
    origin: str


def load_target(target: str):
    """Import ``"package.module:Attr"`` and return the attribute (``"package.module"``:
    the module)."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def is_module_path(name: str) -> bool:
    """``module.path:ClassName`` rather than a registered name."""
    return ":" in name


def import_module_path(name: str, search: list[Path]):
    """The attribute named by ``module.path:ClassName``; when the module is not importable
    as it is, the folders ``search`` are tried (UserError naming what is missing)."""
    module_name, _, attr = name.partition(":")
    if not module_name or not attr.isidentifier():
        raise UserError(f"{echo(name)} is not module.path:ClassName")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is None or not module_name.startswith(err.name):
            raise  # the module itself was found and imports something missing: a real error
        extra = [str(p) for p in search if str(p) not in sys.path]
        if not extra:
            raise UserError(f"cannot import module {echo(module_name)} (not installed and not on the Python path)") from None
        sys.path.extend(extra)  # a module next to the scenario or in the current folder
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as again:
            if again.name is None or not module_name.startswith(again.name):
                raise
            where = ", ".join(extra)
            raise UserError(f"cannot import module {echo(module_name)} (looked in {where} and the installed packages)") from None
    if not hasattr(module, attr):
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type) and not k.startswith("_"))
        raise UserError(f"module {echo(module_name)} has no {echo(attr)}{did_you_mean(attr, classes)}; its classes: {allowed(classes)}")
    return getattr(module, attr)


def first_line(obj) -> str:
    """The first paragraph of ``obj``'s docstring, on one line."""
    return " ".join((obj.__doc__ or "").strip().split("\n\n")[0].split())


class Table:
    """One kind's plug-in table.

    Parameters
    ----------
    kind : str
        What an entry is, as messages name it ("receiver", "narrowband receiver", ...).
    entries : dict[str, str]
        linksim's own entries, name -> "module:Class" (or "module").
    base : str or tuple of str, optional
        "module:Class" every entry must subclass (one of them, for a tuple; checked when
        it is loaded).
    group : str, optional
        Entry-point group through which installed packages add entries.
    module_paths : bool
        Whether a scenario may name ``module.path:ClassName`` directly.
    """

    def __init__(self, kind: str, entries: dict[str, str], *, base: str | tuple[str, ...] | None = None,
                 group: str | None = None, module_paths: bool = True):
        self.kind, self.base, self.group, self.module_paths = kind, base, group, module_paths
        self._own = dict(entries)

    def entries(self) -> dict[str, Entry]:
        """linksim's entries in table order, then installed plug-ins' (sorted); linksim's
        names win a clash."""
        out = {name: Entry(name, target, "linksim") for name, target in self._own.items()}
        if self.group:
            found = {}
            for ep in entry_points(group=self.group):
                dist = getattr(ep.dist, "name", None) or "an installed package"
                found.setdefault(ep.name, Entry(ep.name, ep.value, f"entry point of {dist}"))
            out.update({name: found[name] for name in sorted(found) if name not in out})
        return out

    def names(self) -> list[str]:
        return list(self.entries())

    def builtin(self) -> list[str]:
        """linksim's own names, in table order (the generated reference documents these)."""
        return list(self._own)

    def load(self, name: str, search: list[Path] | None = None):
        """The class (or program module) for ``name``: an entry, or ``module.path:ClassName``
        where the table allows it (``search``: folders tried when the module is not
        importable as it is). UserError for an unknown name or a class of the wrong kind."""
        if self.module_paths and is_module_path(name):
            obj = import_module_path(name, list(search or []) + [Path.cwd()])
        else:
            entries = self.entries()
            if name not in entries:
                alt = " or module.path:ClassName" if self.module_paths else ""
                raise UserError(f"unknown {self.kind} {echo(name)}{did_you_mean(name, entries)}; "
                                f"allowed: {allowed(list(entries))}{alt}")
            obj = load_target(entries[name].target)
        if self.base is not None:
            bases = tuple(load_target(b) for b in ((self.base,) if isinstance(self.base, str) else self.base))
            if not (isinstance(obj, type) and issubclass(obj, bases)):
                names = " or ".join(f"{b.__module__}.{b.__name__}" for b in bases)
                raise UserError(f"{echo(name)} is not a linksim {self.kind} (a subclass of {names})")
        return obj
