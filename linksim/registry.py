"""Registries: name -> "module:Class", imported lazily (one explicit line per entry).

The tables themselves live next to what they register (``linksim/receivers/__init__.py``);
this module only resolves them.
"""

from __future__ import annotations

import importlib

from .errors import UserError, allowed, did_you_mean


def load_target(target: str):
    """Import ``"package.module:Attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def receiver_names() -> list[str]:
    from .receivers import RECEIVERS

    return sorted(RECEIVERS)


def receiver_class(name: str):
    """The receiver class registered under ``name``."""
    from .receivers import RECEIVERS

    if name not in RECEIVERS:
        raise UserError(f"unknown receiver {name!r}{did_you_mean(name, RECEIVERS)}; allowed: {allowed(sorted(RECEIVERS))}")
    return load_target(RECEIVERS[name])


def channel_names() -> list[str]:
    from .scenario import Channel

    return list(Channel.model_fields["model"].annotation.__args__)


def metric_names() -> list[str]:
    from .metrics import metric_names

    return list(metric_names())
