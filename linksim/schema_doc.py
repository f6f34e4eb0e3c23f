"""Scenario reference generated from the schema (``python -m linksim.schema_doc``).

``docs/scenario-reference.md`` is this module's output; a test fails when they differ,
so the reference cannot drift from the code.
"""

from __future__ import annotations

import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import scenario as sc
from .links.registry import RECEIVER_TABLES
from .metrics import METRICS
from .narrowband.config import Narrowband
from .plugins import first_line
from .reconstruction import RECONSTRUCTIONS
from .semcom.config import Semantic, SemanticSystemSpec
from .system import config as ofdm
from .tdd.config import SRSPrecoding

SECTIONS = [
    ("carrier", ofdm.Carrier), ("antennas.bs / antennas.ue", ofdm.Array), ("channel", ofdm.Channel),
    ("pilots", ofdm.Pilots), ("pilots.srs", ofdm.SRS), ("link", sc.Link), ("mimo", ofdm.Mimo),
    ("source", ofdm.Source), ("semantic", Semantic), ("semantic.systems[]", SemanticSystemSpec),
    ("narrowband", Narrowband), ("srs_precoding", SRSPrecoding),
    ("sweep", sc.Sweep), ("runtime", sc.Runtime),
]


def _type_text(ann) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return " \\| ".join(_type_text(a) for a in inner) + " \\| `null`"
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "section"
    return getattr(ann, "__name__", str(ann))


def _range_text(field) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "min length")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def _default_text(field) -> str:
    if field.default is not PydanticUndefined:
        v = field.default
    elif field.default_factory is not None:
        v = field.default_factory()
    else:
        return "required"
    if isinstance(v, BaseModel):
        return "(section)"
    if isinstance(v, list):
        v = [x.model_dump(exclude_none=True) if isinstance(x, BaseModel) else x for x in v]
    return f"`{v}`" if v is not None else "`null`"


def model_table(model: type[BaseModel], prefix: str = "") -> list[str]:
    lines = ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        ann = _type_text(field.annotation)
        lines.append(f"| `{prefix}{name}` | {ann} | {_default_text(field)} | {_range_text(field)} | "
                     f"{(field.description or '').replace('|', '/')} |")
    return lines


def _table_entries(table, names, what: str) -> list[str]:
    """A heading, the first docstring paragraph and the parameter table of each of
    ``names`` (linksim's own entries of the plug-in ``table``)."""
    out = []
    for name in names:
        cls = table.load(name)
        out += ["", f"### {what} `{name}`", "", first_line(cls), ""]
        out += model_table(cls.Params) if cls.Params.model_fields else ["No parameters."]
    return out


def render() -> str:
    out = ["# Scenario reference", "",
           "Generated from the scenario's sections (`linksim/scenario.py` composes them; each",
           "link family's sections are in its `config.py`: `system/` for the OFDM link,",
           "`narrowband/`, `tdd/`, `semcom/`) and the receivers' parameter models by",
           "`python -m linksim.schema_doc >",
           "docs/scenario-reference.md`; a test keeps it in step with the code. Unknown keys",
           "are errors. Any numeric key can be swept",
           "with `sweep.key: section.key`, and any key set from the command line with",
           "`--set section.key=value` (values are read as YAML).", "",
           "## Top level", ""]
    top = [(n, f) for n, f in sc.Scenario.model_fields.items()]
    out += ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, field in top:
        out.append(f"| `{name}` | {_type_text(field.annotation)} | {_default_text(field)} | "
                   f"{_range_text(field)} | {(field.description or '').replace('|', '/')} |")
    for title, model in SECTIONS:
        out += ["", f"## `{title}`", ""]
        doc = (model.__doc__ or "").strip()
        if doc and not doc.startswith("!!!") and "Usage docs" not in doc:
            out += [" ".join(doc.split()), ""]
        out += model_table(model)
    out += ["", "## `receivers[]`", "",
            "A list; each entry names a receiver and may set its parameters next to `name`",
            "and `label`. All receivers of a scenario see the same channel realisations.",
            "`name` is one of linksim's receivers below, one that an installed package",
            "registers (entry-point group `linksim.receivers`; `linksim list receivers` shows",
            "them), or `module.path:ClassName` of any importable receiver class (a module next",
            "to the scenario file is found too): a Sionna-block `Receiver` or a receiver on the",
            "shared contract that serves the OFDM family; see docs/add-a-receiver.md.", ""]
    out += model_table(sc.ReceiverSpec)
    out += _table_entries(RECEIVER_TABLES["ofdm"], sorted(RECEIVER_TABLES["ofdm"].builtin()), "receiver")
    out += ["", "## `receivers[]` of the narrowband pilot link", "",
            "With `link.mode: narrowband` the receivers come from their own table",
            "(`linksim/narrowband/receivers/__init__.py`, `linksim list narrowband-receivers`;",
            "installed packages add entries under the entry-point group",
            "`linksim.narrowband_receivers`; `module.path:ClassName` of a receiver on the",
            "shared contract (`linksim.receivers.contract.Estimator`) that serves the narrowband",
            "family works too, see docs/add-a-receiver.md). Unless noted, the reported error",
            "variance is measured once per pilot matrix and noise level on fresh calibration",
            "channels of every profile (`calibration_samples`)."]
    nb = RECEIVER_TABLES["narrowband"]
    out += _table_entries(nb, nb.builtin(), "narrowband receiver")
    out += ["", "## `receivers[]` of the SRS precoding link", "",
            "With `link.mode: srs_precoding` the receivers come from their own table",
            "(`linksim/tdd/receivers/__init__.py`, `linksim list srs-receivers`; installed",
            "packages add entries under the entry-point group `linksim.srs_receivers`;",
            "`module.path:ClassName` of a receiver on the shared contract that serves the",
            "srs_precoding family works too). Each returns a point estimate, posterior",
            "samples or a precoder; the link precodes with SVD of the estimate, the Bayesian",
            "precoder of the samples, or the precoder itself."]
    srs = RECEIVER_TABLES["srs_precoding"]
    out += _table_entries(srs, srs.builtin(), "srs_precoding receiver")
    out += ["", "## `reconstruction[]`", "",
            "A list of stages after the decoder (image sources only); each entry names a stage",
            "and may set its parameters next to `name` and `label`. Every stage gets every",
            "receiver's received images; metrics.csv has one row per receiver/stage",
            "(`linksim list reconstructions`; table: `linksim/reconstruction/__init__.py`;",
            "installed packages add stages under the entry-point group `linksim.reconstructions`,",
            "and `module.path:ClassName` of a `Reconstruction` subclass works too).", ""]
    out += model_table(sc.ReconstructionSpec)
    out += _table_entries(RECONSTRUCTIONS, RECONSTRUCTIONS.builtin(), "reconstruction")
    out += ["", "## `metrics`", "", "Any of: " + ", ".join(f"`{m}`" for m in METRICS) + ".", "",
            "Error rates carry a Wilson 95 % interval, ratio metrics a 95 % interval from the",
            "batch-to-batch spread (delta method); bounds are the `_lo` / `_hi` columns.", "",
            "| metric | csv columns | meaning |", "|---|---|---|"]
    out += [f"| {name} | {', '.join(f'`{c}`' for c in m.columns)} | {m.description.replace('|', '/')} |"
            for name, m in METRICS.items()]
    out += [""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
