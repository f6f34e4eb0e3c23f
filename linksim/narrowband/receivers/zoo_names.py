"""Zoo names of the shipped narrowband diffusion models for a scenario's training sets."""

from __future__ import annotations

from ...diffusion.checkpoints import ZOO
from ...errors import UserError


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
