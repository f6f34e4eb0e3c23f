"""What ``--resume`` accepts: the same scenario, or one that only asks for more statistics.

A resumed run may raise ``sweep.max_batches``, raise (or drop) ``sweep.target_block_errors``,
lower (or drop) ``sweep.stop_bler`` and add ``sweep.values``. Every Monte-Carlo batch has
its own seed (scenario seed, swept value, batch index; :func:`linksim.executors.batch_seed`)
and every finished point keeps its raw sums, so the runner continues each point where it
stopped and the result equals a run made with the larger setting from the start. Any
other change is refused, naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import echo
from .executors import POOL_KEYS

GROWTH_RULES = {
    "sweep.max_batches": "may only increase",
    "sweep.target_block_errors": "may only increase (or become null: no target)",
    "sweep.stop_bler": "may only decrease (or become null: no stop)",
    "sweep.values": "may only gain values",
}
# the folder itself, and where batches run (not what they compute: per-batch seeds)
IGNORED = ("output",) + tuple(f"runtime.{k}" for k in POOL_KEYS)
MAX_SHOWN = 5  # refused fields named in the message


def leaf_changes(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths where two plain-data trees differ (``receivers[1].steps``); lists of
    scalars count as one leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            out += leaf_changes(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return out
    nested = isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
        and any(isinstance(v, (dict, list)) for v in old + new)
    if nested:
        return [c for i, (a, b) in enumerate(zip(old, new)) for c in leaf_changes(a, b, f"{path}[{i}]")]
    return [] if old == new else [path]


def _grows(field: str, old: Any, new: Any) -> bool:
    if field == "sweep.max_batches":
        return new >= old
    if field == "sweep.target_block_errors":
        return new is None or (old is not None and new >= old)
    if field == "sweep.stop_bler":
        return new is None or (old is not None and new <= old)
    if field == "sweep.values":
        return {float(v) for v in old} <= {float(v) for v in new}
    return False


def _get(data: Any, path: str) -> Any:
    """The value at a path of :func:`leaf_changes` (None where it does not exist)."""
    node = data
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def check_growth(previous: dict, resolved: dict) -> list[str]:
    """The changes from ``previous`` to ``resolved`` (resolved scenarios) that ``--resume``
    accepts; raises ValueError naming every refused field."""
    changes = [c for c in leaf_changes(previous, resolved) if c not in IGNORED]
    refused = []
    for field in changes:
        if field not in GROWTH_RULES:
            refused.append(f"{field} (was {echo(_get(previous, field))}, now {echo(_get(resolved, field))})")
        elif not _grows(field, _get(previous, field), _get(resolved, field)):
            refused.append(f"{field} {GROWTH_RULES[field]} (was {echo(_get(previous, field))}, now {echo(_get(resolved, field))})")
    if refused:
        allowed = "; ".join(f"{k} {v}" for k, v in GROWTH_RULES.items())
        shown = ", ".join(refused[:MAX_SHOWN]) + (f" and {len(refused) - MAX_SHOWN} more" if len(refused) > MAX_SHOWN else "")
        raise ValueError(f"--resume continues the same scenario or adds statistics; changed: {shown}. "
                         f"Allowed on --resume: {allowed}. Start a new run (another output folder, or --overwrite) for other changes")
    return changes
