"""What an OFDM channel model was trained for, against what a scenario asks of it.

A Card A checkpoint records the data spec it was trained on (``training.data.spec`` in
its ``config.json``: a preset name, a scenario path or a spec dict,
:mod:`linksim.data.channels`). :func:`channel_mismatches` resolves that spec into its
environments and lists each environment of the scenario (each component of a
``channel.mixture``) that none of them matches, on the settings that decide a channel's
statistics per OFDM symbol: the model, its profile and delay spread (CDL/TDL), the link
direction, the subcarrier spacing and the BS array.
"""

from __future__ import annotations

from ..data.channel_specs import resolve_spec
from ..diffusion.checkpoints import trained_differences
from ..errors import UserError, echo

__all__ = ["channel_mismatches"]

_PROFILED = ("cdl", "tdl")


def _environment(channel: dict, carrier: dict, antennas: dict) -> tuple:
    """The settings of one environment that a trained model depends on, as (key, value) pairs."""
    env = {"channel.model": channel["model"]}
    if channel["model"] in _PROFILED:
        env["channel.profile"] = channel["profile"]
        env["channel.delay_spread_ns"] = float(channel["delay_spread_ns"])
    env.update({"channel.direction": channel["direction"],
                "carrier.subcarrier_spacing_khz": carrier["subcarrier_spacing_khz"],
                **{f"antennas.bs.{k}": v for k, v in antennas["bs"].items()}})
    return tuple(env.items())


def _describe(env: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in env if k.startswith("channel."))


def channel_mismatches(cfg: dict, scenario) -> list[str]:
    """One line per environment of ``scenario`` that the model of checkpoint config
    ``cfg`` was not trained on ([] when all were, or when the checkpoint records no data
    spec)."""
    spec = (cfg.get("training") or {}).get("data", {}).get("spec")
    if spec is None:
        return []
    try:
        components, _ = resolve_spec(spec)
    except UserError as err:
        raise UserError(f"the model's training data spec {echo(spec)} no longer resolves ({err.message})",
                        field="model") from None
    trained = {_environment(c.scenario.channel.model_dump(mode="json"), c.scenario.carrier.model_dump(mode="json"),
                            c.scenario.antennas.model_dump(mode="json")) for c in components}
    carrier, antennas = scenario.carrier.model_dump(mode="json"), scenario.antennas.model_dump(mode="json")
    out = []
    for ch in scenario.channel.components():
        env = _environment(ch.model_dump(mode="json"), carrier, antennas)
        if env not in trained:
            near = min(trained, key=lambda t: len(set(t) ^ set(env)))
            out.append(f"{_describe(env)} ({'; '.join(trained_differences(dict(near), env))})")
    return out
