"""Zoo names of the shipped narrowband diffusion models for a scenario's training sets."""

from __future__ import annotations

from ...diffusion.checkpoints import ZOO, read_checkpoint_config, resolve_model, trained_differences
from ...errors import UserError, echo


def _size(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def expert_name(profile: str, samples: int, profile_kind: str = "cpu") -> str:
    """``nbdm-cdl<P>-<n>k-<profile>``: the expert trained on ``samples`` channels of ``profile``."""
    return f"nbdm-cdl{profile}-{_size(samples)}-{profile_kind}"


def pooled_name(samples: dict, profile_kind: str = "cpu") -> str:
    """The pooled model of the aggregated set: ``balanced`` (10 000 each) or ``scarce<P>``
    (one profile with 1 000, the rest 10 000)."""
    scarce = [p for p, n in samples.items() if n != 10000]
    if not scarce:
        return f"nbdm-pooled-balanced-{profile_kind}"
    if len(scarce) == 1 and samples[scarce[0]] == 1000:
        return f"nbdm-pooled-scarce{scarce[0]}-{profile_kind}"
    return f"nbdm-pooled-custom-{profile_kind}"


def require(name: str, field: str, hint: str) -> str:
    """``name`` if it is shipped, else a UserError naming ``field``."""
    if (ZOO / name).is_dir():
        return name
    raise UserError(f"no shipped model {name} for these training sets; allowed: a model you train ({hint}) named in "
                    f"{field}", field=field)


def check_model(name: str, field: str, nb, profiles: dict, allow_mismatch: bool = False) -> tuple[dict, list]:
    """``(config, mismatches)`` of the narrowband diffusion model ``name`` for the
    scenario's ``narrowband`` section ``nb``: it exists, is a Card B model, and was trained
    on this link's channel settings and on ``profiles`` ({profile: training channels}).
    A mismatch is a UserError naming ``field`` and the differences unless
    ``allow_mismatch`` (then the caller records them)."""
    try:
        path = resolve_model(name)
    except UserError as err:
        raise UserError(err.message, field=field) from None
    cfg = read_checkpoint_config(path)
    if cfg.get("task") != "narrowband-dm":
        raise UserError(f"{path} is a {echo(cfg.get('task'))} model; allowed here: a narrowband-dm model "
                        "(linksim train scenarios/train/moe_vb/...)", field=field)
    trained_ch, trained = cfg.get("channel", {}), cfg.get("profiles", {})
    mism = trained_differences(trained_ch, nb.channel_key())
    mism += [f"CDL-{p} training channels trained {trained.get(p, 0)}, scenario {profiles.get(p, 0)}"
             for p in sorted(set(trained) | set(profiles)) if trained.get(p, 0) != profiles.get(p, 0)]
    if mism and not allow_mismatch:
        raise UserError(f"{path.name} was trained for other settings ({'; '.join(mism)}); allowed: a model trained "
                        "for this scenario, or allow_mismatch: true to use it anyway (recorded in meta.json)", field=field)
    return cfg, mism
