"""A trained semantic system on disk: a folder with ``system.json`` and one checkpoint per
network (``encoder_u0``, ``decoder_u0``, ...); written by :func:`save_system`, checked by
:func:`read_system_config` (no weights loaded) and loaded by :func:`load_system`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..diffusion.checkpoints import load_checkpoint, resolve_model, save_checkpoint
from ..diffusion.nets.image import ImageDenoiserNet
from ..diffusion.nets.jscc import MatchedDecoder, SemanticEncoder
from ..diffusion.schedules import make_schedule
from ..errors import UserError, echo
from .system import KINDS, SemanticSystem

__all__ = ["SYSTEM_FILE", "save_system", "read_system_config", "load_system"]

SYSTEM_FILE = "system.json"
FORMAT = "linksim-semcom"
FORMAT_VERSION = 1


def save_system(system: SemanticSystem, folder, card_info: dict | None = None) -> Path:
    """Write the system to ``folder`` (created): one checkpoint per network and
    ``system.json`` (``card_info``, JSON-able, is stored under ``training``).

    Output
    ------
    folder : Path
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in system.networks.items():
        save_checkpoint(folder / name, model, data_shape=system.data_shape,
                        extra={"semcom": {"kind": system.kind, "k": system.k, "role": name}})
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **system.config(),
            "training": card_info or {}}
    tmp = folder / (SYSTEM_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / SYSTEM_FILE)
    return folder

def read_system_config(folder, expect: dict | None = None) -> dict:
    """Parsed and checked ``system.json`` of a saved system (no weights loaded);
    ``expect`` as in :func:`load_system`."""
    folder = resolve_model(folder)
    source = str(folder)
    file = folder / SYSTEM_FILE
    if not file.is_file():
        raise UserError(f"{SYSTEM_FILE} is missing (not a semantic-communication system)", source=source,
                        field=SYSTEM_FILE)
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{SYSTEM_FILE} is not valid JSON ({e})", source=source, field=SYSTEM_FILE) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f'{SYSTEM_FILE} is not a "{FORMAT}" file', source=source, field="format")
    if meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"format_version {meta.get('format_version')} is not supported (this linksim reads "
                        f"{FORMAT_VERSION})", source=source, field="format_version")
    checks = {"kind": lambda v: v in KINDS, "k": lambda v: isinstance(v, int) and v >= 1,
              "users": lambda v: v in (1, 2),
              "data_shape": lambda v: isinstance(v, list) and len(v) == 2
              and all(isinstance(s, int) and s > 0 for s in v),
              "schedule": lambda v: isinstance(v, dict), "sampler": lambda v: isinstance(v, dict)}
    for key, ok in checks.items():
        if key not in meta or not ok(meta[key]):
            raise UserError(f"{key} is missing or invalid ({echo(meta.get(key))})", source=source, field=key)
    for key, want in (expect or {}).items():
        if meta.get(key) != want:
            raise UserError(f"the system has {key} = {echo(meta.get(key))}, {echo(want)} is needed", source=source,
                            field=key)
    return meta

def load_system(folder, expect: dict | None = None) -> SemanticSystem:
    """Load a system written by :func:`save_system` (a folder or a name in ``linksim/zoo``).

    Parameters
    ----------
    folder : str | Path
    expect : dict | None
        Values the caller needs, e.g. ``{"k": 16, "users": 2, "kind": "dae"}``.

    Raises
    ------
    UserError
        ``source`` = the folder, ``field`` = the field of ``system.json`` (or of
        ``expect``) that does not fit (``k``, ``users``, ``kind``, ``schedule.T``,
        ...); a network's own checkpoint errors (missing, altered, other data shape)
        come from :func:`~linksim.diffusion.checkpoints.load_checkpoint` with the
        network's folder as ``source``.
    """
    folder = resolve_model(folder)
    source = str(folder)
    meta = read_system_config(folder, expect)
    kind, k, users, shape = meta["kind"], meta["k"], meta["users"], tuple(meta["data_shape"])
    try:
        schedule = make_schedule(meta["schedule"])
    except (UserError, ValueError, TypeError) as e:
        raise UserError(f"invalid schedule ({e})", source=source, field="schedule") from None
    # {constructor argument: (value system.json implies, the system.json field)}
    want_enc = {"k": (k, "k"), "variational": (kind == "vae", "kind")}
    want_dec = ({"cond": ("vector", "kind"), "diffusion": (True, "kind"), "cond_dim": (2 * k, "k"),
                 "T": (schedule.T, "schedule.T")} if kind == "dae" else {"k": (k, "k")})
    dec_cls = ImageDenoiserNet if kind == "dae" else MatchedDecoder
    encoders, decoders = [], []
    for u in range(users):
        for role, want, klass, out in (("encoder", want_enc, SemanticEncoder, encoders),
                                       ("decoder", want_dec, dec_cls, decoders)):
            name = f"{role}_u{u}"
            model, _ = load_checkpoint(folder / name, shape)
            if not isinstance(model, klass):
                raise UserError(f"{name} is a {type(model).__name__}, a {kind} system needs a {klass.__name__}",
                                source=source, field="kind")
            cfg = model.get_config()
            for key, (value, field) in want.items():
                if cfg.get(key) != value:
                    raise UserError(f"{SYSTEM_FILE} implies {key} = {echo(value)} for {name}, which was built with "
                                    f"{echo(cfg.get(key))}", source=source, field=field)
            out.append(model)
    sampler = meta["sampler"]
    try:
        return SemanticSystem(kind, k, encoders, decoders, schedule=schedule,
                   sample_steps=sampler.get("sample_steps", 50), eta=sampler.get("eta", 0.0),
                   num_samples=sampler.get("num_samples", 1),
                   parameterisation=sampler.get("parameterisation", "eps"))
    except (TypeError, ValueError) as e:
        raise UserError(f"invalid sampler settings ({e})", source=source, field="sampler") from None
