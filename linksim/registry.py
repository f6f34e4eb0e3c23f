"""Registries: name -> "module:Class", imported lazily (one explicit line per entry).

Receivers come from three places:

- linksim's own table (``linksim/receivers/__init__.py``, one line per receiver);
- installed packages, through the entry-point group ``linksim.receivers``
  (``my_rx = "my_package.module:MyReceiver"``); linksim's own names win a clash;
- any importable class named in a scenario as ``module.path:ClassName``; a module next
  to the scenario file (or in the current folder) is found too.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from .errors import UserError, allowed, did_you_mean, echo

ENTRY_POINT_GROUP = "linksim.receivers"


@dataclass(frozen=True)
class ReceiverEntry:
    """Where a receiver name points: ``target`` "module:Class" and ``origin`` (``linksim``,
    ``entry point of <distribution>`` or ``module path``)."""

    name: str
    target: str
    origin: str


def load_target(target: str):
    """Import ``"package.module:Attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def builtin_receivers() -> dict[str, ReceiverEntry]:
    """linksim's own receivers (the scenario reference documents these)."""
    from .receivers import RECEIVERS

    return {name: ReceiverEntry(name, target, "linksim") for name, target in RECEIVERS.items()}


def plugin_receivers() -> dict[str, ReceiverEntry]:
    """Receivers that installed packages register under :data:`ENTRY_POINT_GROUP`."""
    out = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep.dist, "name", None) or "an installed package"
        out.setdefault(ep.name, ReceiverEntry(ep.name, ep.value, f"entry point of {dist}"))
    return out


def receiver_entries() -> dict[str, ReceiverEntry]:
    """Every registered receiver name (linksim's, then plug-ins'), sorted by name."""
    entries = {**plugin_receivers(), **builtin_receivers()}
    return dict(sorted(entries.items()))


def receiver_names() -> list[str]:
    return list(receiver_entries())


def is_module_path(name: str) -> bool:
    """``module.path:ClassName`` rather than a registered name."""
    return ":" in name


def _import_module_path(name: str, search: list[Path]):
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


def receiver_class(name: str, search: list[Path] | None = None):
    """The receiver class for a scenario's ``name``: a registered name or
    ``module.path:ClassName`` (``search``: folders tried when the module is not
    importable as it is, e.g. the scenario's folder)."""
    from .receivers.base import Receiver

    if is_module_path(name):
        cls = _import_module_path(name, list(search or []) + [Path.cwd()])
    else:
        entries = receiver_entries()
        if name not in entries:
            raise UserError(f"unknown receiver {echo(name)}{did_you_mean(name, entries)}; allowed: {allowed(list(entries))} "
                            "or module.path:ClassName")
        cls = load_target(entries[name].target)
    if not (isinstance(cls, type) and issubclass(cls, Receiver)):
        raise UserError(f"{echo(name)} is not a linksim receiver (a subclass of linksim.receivers.base.Receiver)")
    return cls


def _table_class(name: str, search, table: dict, base: type, what: str):
    """A class from a link's own receiver ``table`` (name -> "module:Class") or
    ``module.path:ClassName``, checked to subclass ``base``."""
    if is_module_path(name):
        cls = _import_module_path(name, list(search or []) + [Path.cwd()])
    elif name in table:
        cls = load_target(table[name])
    else:
        raise UserError(f"unknown {what} {echo(name)}{did_you_mean(name, table)}; allowed: "
                        f"{allowed(list(table))} or module.path:ClassName")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UserError(f"{echo(name)} is not a {what} (a subclass of {base.__module__}.{base.__name__})")
    return cls


def narrowband_receiver_class(name: str, search: list[Path] | None = None):
    """The receiver class of a narrowband pilot link (link.mode narrowband): a name in
    ``linksim/narrowband/receivers/__init__.py`` or ``module.path:ClassName`` (a subclass
    of :class:`~linksim.narrowband.receivers.base.NarrowbandReceiver`)."""
    from .narrowband.receivers import RECEIVERS
    from .narrowband.receivers.base import NarrowbandReceiver

    return _table_class(name, search, RECEIVERS, NarrowbandReceiver, "narrowband receiver")


def srs_receiver_class(name: str, search: list[Path] | None = None):
    """The receiver class of the SRS precoding link (link.mode srs_precoding): a name in
    ``linksim/tdd/receivers/__init__.py`` or ``module.path:ClassName`` (a subclass of
    :class:`~linksim.tdd.receivers.base.SRSReceiver`)."""
    from .tdd.receivers import RECEIVERS
    from .tdd.receivers.base import SRSReceiver

    return _table_class(name, search, RECEIVERS, SRSReceiver, "srs_precoding receiver")


def channel_names() -> list[str]:
    from .scenario import Channel

    return list(Channel.model_fields["model"].annotation.__args__)


def metric_names() -> list[str]:
    from .metrics import metric_names

    return list(metric_names())


def reconstruction_entries() -> dict[str, str]:
    """linksim's reconstruction stages: name -> "module:Class"."""
    from .reconstruction import RECONSTRUCTIONS

    return dict(RECONSTRUCTIONS)


def reconstruction_class(name: str):
    """The reconstruction-stage class registered as ``name``."""
    entries = reconstruction_entries()
    if name not in entries:
        raise UserError(f"unknown reconstruction {echo(name)}{did_you_mean(name, entries)}; allowed: {allowed(list(entries))}")
    return load_target(entries[name])
