"""Channel data specs: what a channel data set is drawn from (a preset name, a scenario
path or name, scenario data, a :class:`~linksim.scenario.Scenario`, or a mixture of
them; the format is in :mod:`linksim.data.channels`), resolved into validated
scenarios, one per component."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import read_yaml, set_dotted
from ..errors import UserError, allowed, did_you_mean, echo
from ..scenario import Scenario, validate_scenario

__all__ = ["PRESETS", "MIXTURES", "resolve_spec", "Component"]

_REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- presets
_CDL_MIX = [
    {"label": f"CDL-{p}/{ds}ns",
     "set": {"channel.model": "cdl", "channel.profile": p, "channel.delay_spread_ns": ds}}
    for p in "ABCDE" for ds in (30, 100, 300)
]
_3GPP_MIX = [{"label": m.upper(), "set": {"channel.model": m}} for m in ("uma", "umi", "rma")]

#: Named mixtures (lists of components).
MIXTURES: dict[str, list[dict]] = {
    "cdl-mix": _CDL_MIX,
    "3gpp-mix": _3GPP_MIX,
    "cdl-uma-mix": _CDL_MIX + [{"label": "UMA", "set": {"channel.model": "uma"}}],
}

_PAPER = {"antennas.bs.rows": 4, "antennas.bs.cols": 8, "antennas.bs.polarization": "single",
          "carrier.fft_size": 64}

#: Named specs.
PRESETS: dict[str, dict] = {
    "quickstart": {"scenario": "quickstart"},
    "cdl-mix": {"scenario": "quickstart", "mixture": "cdl-mix"},
    "uma": {"scenario": "quickstart", "set": {"channel.model": "uma"}},
    "3gpp-mix": {"scenario": "quickstart", "mixture": "3gpp-mix"},
    "cdl-uma-mix": {"scenario": "quickstart", "mixture": "cdl-uma-mix"},
    "paper-32x64": {"scenario": "quickstart", "set": dict(_PAPER)},
    "paper-32x64-dual": {"scenario": "quickstart",
                         "set": {**_PAPER, "antennas.bs.rows": 2, "antennas.bs.polarization": "dual"}},
    "paper-cdl-mix": {"scenario": "quickstart", "set": dict(_PAPER), "mixture": "cdl-mix"},
}

_SPEC_KEYS = ("scenario", "set", "mixture", "weights", "symbols")
# the scenario sections that decide the channel (the rest does not enter the cache key)
_CHANNEL_SECTIONS = ("carrier", "antennas", "channel")


# --------------------------------------------------------------------------- spec
@dataclass
class Component:
    label: str
    scenario: Scenario

    def channel_data(self) -> dict:
        data = self.scenario.resolved()
        return {k: data[k] for k in _CHANNEL_SECTIONS}


def _scenario_data(source) -> tuple[dict, str, Path | None]:
    """(plain data, source name, base dir) of a scenario reference."""
    if isinstance(source, Scenario):
        return source.resolved(), f"<scenario {source.name}>", None
    if isinstance(source, dict):
        return copy.deepcopy(source), "<scenario data>", None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.suffix and not path.exists():
            for folder in (Path.cwd() / "scenarios", _REPO / "scenarios"):
                cand = folder / f"{path.name}.yaml"
                if cand.is_file():
                    path = cand
                    break
        return read_yaml(path), str(path), path.parent
    raise UserError(f"a scenario is a path, a name, plain data or a Scenario (got {type(source).__name__})",
                    source="spec", field="scenario")


def _as_override_list(overrides, field_name: str) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return list(overrides.items())
    if isinstance(overrides, (list, tuple)):
        from ..config import parse_override

        return [parse_override(o) if isinstance(o, str) else tuple(o) for o in overrides]
    raise UserError("overrides are a mapping {dotted.key: value} or a list of 'key=value' strings",
                    source="spec", field=field_name)


def _apply(data: dict, overrides: list[tuple[str, Any]], field_name: str) -> dict:
    data = copy.deepcopy(data)
    for key, value in overrides:
        try:
            set_dotted(data, key, value)
        except UserError as err:
            raise err.at(source="spec", field_prefix=field_name) from None
        # a size given one way clears the other
        if key == "carrier.fft_size" and value is not None:
            set_dotted(data, "carrier.num_prbs", None)
        elif key == "carrier.num_prbs" and value is not None:
            set_dotted(data, "carrier.fft_size", None)
    return data


def _canonical(spec) -> dict:
    """Spec as a dict (preset names and scenario paths expanded to specs)."""
    if isinstance(spec, Scenario):
        return {"scenario": spec}
    if isinstance(spec, (str, Path)):
        if str(spec) in PRESETS:
            return copy.deepcopy(PRESETS[str(spec)])
        return {"scenario": str(spec)}
    if not isinstance(spec, dict):
        raise UserError(f"a data spec is a preset name ({allowed(PRESETS)}), a scenario path or a dict",
                        source="spec")
    unknown = [k for k in spec if k not in _SPEC_KEYS]
    if unknown:
        raise UserError(f"unknown key{did_you_mean(unknown[0], _SPEC_KEYS)}; allowed keys: {allowed(_SPEC_KEYS)}",
                        source="spec", field=str(unknown[0]))
    return dict(spec)


def _check_component(s: Scenario, source: str) -> None:
    if s.antennas.ue.num_ant != 1:
        raise UserError("channel data sets need a single-antenna UE (H is BS antennas x subcarriers)",
                        source=source, field="antennas.ue")
    if not s.link.ofdm:
        raise UserError("channel data sets need an OFDM link", source=source, field="link.ofdm")


def _expand_channel_mixture(label: str, s: Scenario, source: str, base_dir, single: bool):
    """A scenario whose ``channel.mixture`` lists environments becomes one component per
    environment (drawn per chunk, labelled), instead of ChannelGenerator's split of every
    batch, so labels stay per sample."""
    mixture = getattr(s.channel, "mixture", None)
    if not mixture:
        return [(label, s)]
    out = []
    for ch in s.channel.components():
        data = s.resolved()
        data["channel"] = ch.model_dump(mode="json")
        name = ",".join(f"{k}={getattr(ch, k)}" for k in mixture)
        out.append((name if single else f"{label}/{name}",
                    validate_scenario(data, source=f"{source} [{name}]", base_dir=base_dir)))
    return out


def resolve_spec(spec) -> tuple[list[Component], dict]:
    """Validate a spec; returns the components (label + validated Scenario) and the
    JSON-able resolved spec (the part that decides the data, used for the cache key).

    Raises :class:`~linksim.errors.UserError` on a bad spec or scenario.
    """
    spec = _canonical(spec)
    base, source, base_dir = _scenario_data(spec.get("scenario", "quickstart"))
    if not isinstance(base, dict):
        raise UserError("a scenario is a YAML mapping of sections", source=source)
    base = _apply(base, _as_override_list(spec.get("set"), "set"), "set")
    # the receivers play no part in channel data (and a model-based one may not fit a
    # reshaped grid): validate the channel with the genie receiver only
    base["receivers"] = [{"name": "perfect"}]
    mixture = spec.get("mixture")
    if mixture is None:
        comps = [{"label": "base", "set": {}}]
    elif isinstance(mixture, str):
        if mixture not in MIXTURES:
            raise UserError(f"unknown mixture {echo(mixture)}{did_you_mean(mixture, MIXTURES)}; allowed: {allowed(MIXTURES)}",
                            source="spec", field="mixture")
        comps = MIXTURES[mixture]
    elif isinstance(mixture, (list, tuple)) and mixture:
        comps = []
        for i, c in enumerate(mixture):
            if isinstance(c, dict) and set(c) <= {"label", "set"} and "set" in c:
                comps.append({"label": str(c.get("label") or i), "set": c["set"]})
            elif isinstance(c, dict):
                label = ",".join(f"{k}={v}" for k, v in c.items())
                comps.append({"label": label, "set": c})
            else:
                raise UserError("a mixture component is a dict of dotted overrides", source="spec",
                                field=f"mixture[{i}]")
    else:
        raise UserError(f"mixture is a preset name ({allowed(MIXTURES)}) or a non-empty list", source="spec",
                        field="mixture")
    components = []
    for i, c in enumerate(comps):
        data = _apply(base, _as_override_list(c["set"], f"mixture[{i}]"), f"mixture[{i}]")
        s = validate_scenario(data, source=f"{source} [{c['label']}]", base_dir=base_dir)
        for label, s in _expand_channel_mixture(c["label"], s, source, base_dir, single=len(comps) == 1):
            _check_component(s, source)
            components.append(Component(label, s))
    shapes = {(c.scenario.antennas.bs.num_ant, c.scenario.carrier.num_subcarriers) for c in components}
    if len(shapes) != 1:
        raise UserError(f"all mixture components must have the same BS antennas x subcarriers (got {sorted(shapes)})",
                        source="spec", field="mixture")
    weights = spec.get("weights")
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(components),) or np.any(w < 0) or w.sum() <= 0:
            raise UserError(f"weights must be {len(components)} non-negative numbers, not all 0", source="spec",
                            field="weights")
        weights = (w / w.sum()).tolist()
    num_symbols = {c.scenario.carrier.num_ofdm_symbols for c in components}
    symbols = spec.get("symbols", [0])
    if isinstance(symbols, int):
        symbols = [symbols]
    symbols = [int(x) for x in symbols]
    if not symbols or len(set(symbols)) != len(symbols) or min(symbols) < 0 or max(symbols) >= min(num_symbols):
        raise UserError(f"symbols must be distinct OFDM symbol indices in 0..{min(num_symbols) - 1}",
                        source="spec", field="symbols")
    resolved = {
        "components": [{"label": c.label, **c.channel_data()} for c in components],
        "weights": weights,
        "symbols": symbols,
    }
    return components, resolved
