"""Network checkpoints: a folder with ``config.json`` and ``weights.npz``.

``config.json`` holds everything needed to rebuild the network and to check that it
fits the job::

    {
      "format": "linksim-checkpoint", "format_version": 1,
      "class": "linksim.diffusion.nets.mixer:MixerDenoiserNet",
      "config": {...constructor arguments...},
      "data_shape": [8, 72],
      "variables": {"lift.w_re": [1, 4], ...},
      "weights_file": "weights.npz", "weights_sha256": "...",
      "linksim_version": "0.1.0",
      ...extra: "parameterisation", "schedule", "input_norm", "training": {...}
    }

``weights.npz`` holds one plain numpy array per model variable (``np.savez``; loaded with
``allow_pickle=False``): no pickle and no Keras file format. A model with a prior
backbone also has ``prior.npz`` (:meth:`GaussianMixturePrior.to_arrays`), recorded in
``config.json`` as ``"backbone": {"kind": "gmm", "file": "prior.npz", "sha256": ...}``.

Model lookup lives here too: :func:`resolve_model` (a folder or a name in
``linksim/zoo/``) and :func:`load_denoiser` (checkpoint -> ready
:class:`~linksim.diffusion.parameterisation.Denoiser`). The class is resolved only
from :data:`linksim.diffusion.nets.NETWORKS` (never imported from a path in the
file). Loading checks the files, the sha256 of the weights, the data shape and every
variable name and shape, and raises :class:`linksim.errors.UserError` naming the
checkpoint (``source``) and the mismatching item (``field``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from linksim.errors import UserError, allowed, did_you_mean, echo

from .nets import NETWORKS

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint_config", "trained_differences", "load_prior",
           "resolve_model", "load_denoiser", "zoo_names", "ZOO",
           "named_variables", "CONFIG_FILE", "WEIGHTS_FILE", "PRIOR_FILE", "NETWORK_MODULE"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.npz"
PRIOR_FILE = "prior.npz"
#: Shipped models.
ZOO = Path(__file__).resolve().parents[1] / "zoo"
FORMAT = "linksim-checkpoint"
FORMAT_VERSION = 1
#: The class path prefix of checkpoints written before the networks moved to ``nets/``
#: (``linksim.diffusion.networks:<name in NETWORKS>``); still read.
NETWORK_MODULE = "linksim.diffusion.networks"
_RESERVED = ("format", "format_version", "class", "config", "data_shape", "variables",
             "weights_file", "weights_sha256", "linksim_version", "backbone")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _plain(value):
    """JSON-able copy (numpy scalars/arrays -> Python, tuples -> lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "to_config"):  # e.g. a Schedule
        return _plain(value.to_config())
    return value


def _class_path(model) -> str:
    """``module:Class`` of ``model``, which must be a network of :data:`NETWORKS`."""
    cls = type(model)
    path = f"{cls.__module__}:{cls.__name__}"
    entries = NETWORKS.entries()
    if path not in {e.target for e in entries.values()}:
        raise ValueError(f"{path} is not a registered network; register it in "
                         f"linksim.diffusion.nets.NETWORKS (allowed: {allowed(list(entries))})")
    return path


def _resolve_class(class_path, source):
    """The network class a checkpoint names: a target of :data:`NETWORKS` (or the older
    ``linksim.diffusion.networks:<name>``); nothing else is ever imported."""
    entries = NETWORKS.entries()
    known = {e.target: name for name, e in entries.items()}
    names = {**known, **{f"{NETWORK_MODULE}:{name}": name for name in entries}}
    if not isinstance(class_path, str) or class_path not in names:
        hint = did_you_mean(class_path, list(known))
        raise UserError(f'class "{class_path}" is not allowed{hint}; '
                        f"allowed: {allowed(list(known))}", source=source, field="class")
    return NETWORKS.load(names[class_path])


def named_variables(model) -> dict:
    """``{checkpoint key: variable}``: the model's own ``named_variables()``, else each
    variable's layer path without the model's name (unique when every layer has a fixed
    name, independent of what else a process built)."""
    if hasattr(model, "named_variables"):
        return dict(model.named_variables())
    out = {}
    for v in model.weights:
        key = v.path.split("/", 1)[-1].replace("/", ".")
        if key in out:
            raise RuntimeError(f"duplicate variable name {key}")
        out[key] = v
    return out


def _write_npz(path: Path, arrays: dict) -> str:
    """Write ``arrays`` atomically (deflated: a backbone's diagonal factor is mostly zeros) to
    ``path``; returns the file's sha256."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    os.replace(tmp, path)
    return _sha256(path)


def save_checkpoint(path, model, *, data_shape, extra: dict | None = None, prior=None) -> Path:
    """Write ``model`` to the folder ``path`` (created; existing files are replaced).

    Parameters
    ----------
    path : str | Path
        Checkpoint folder.
    model : keras.Model
        A built network whose class is in ``linksim.diffusion.nets.NETWORKS``.
    data_shape : sequence of int
        ``(Na, Nc)`` the model was trained for; must match the built model.
    extra : dict | None
        More JSON-able entries, e.g. ``{"parameterisation": "v", "schedule": {...},
        "input_norm": "total", "training": {"scenario": ..., "steps": ..., "nmse": ...}}``
        (``Denoiser.get_config()`` gives the first ones). Reserved keys
        (``class``, ``config``, ``data_shape``, ...) are refused.
    prior : GaussianMixturePrior | None
        Backbone prior, written to ``prior.npz``.

    Output
    ------
    path : Path
    """
    import linksim

    path = Path(path)
    data_shape = [int(s) for s in data_shape]
    extra = dict(extra or {})
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise ValueError(f"extra may not set reserved keys {clash}")
    class_path = _class_path(model)
    built_shape = getattr(model, "data_shape", None)
    if built_shape is None or not model.weights:
        raise ValueError("the model is not built; call it once (or model.build_for(shape))")
    if list(built_shape) != data_shape:
        raise ValueError(f"data_shape {tuple(data_shape)} does not match the model's "
                         f"{tuple(built_shape)}")
    variables = named_variables(model)
    arrays = {k: np.asarray(v.numpy()) for k, v in variables.items()}

    path.mkdir(parents=True, exist_ok=True)
    weights_sha = _write_npz(path / WEIGHTS_FILE, arrays)

    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": class_path,
        "config": _plain(model.get_config()),
        "data_shape": data_shape,
        "variables": {k: list(a.shape) for k, a in arrays.items()},
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": weights_sha,
        "linksim_version": linksim.__version__,
    }
    if prior is not None:
        if tuple(prior.data_shape) != tuple(data_shape):
            raise ValueError(f"prior data_shape {prior.data_shape} != {tuple(data_shape)}")
        config["backbone"] = {"kind": "gmm", "file": PRIOR_FILE,
                              "sha256": _write_npz(path / PRIOR_FILE, prior.to_arrays()),
                              "num_components": prior.num_components, "rank": prior.rank,
                              "floor": prior.floor, "fit": _plain(prior.info)}
    elif (path / PRIOR_FILE).exists():
        (path / PRIOR_FILE).unlink()
    config.update(_plain(extra))
    text = json.dumps(config, indent=2, allow_nan=True)
    tmp = path / (CONFIG_FILE + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path / CONFIG_FILE)
    return path


def trained_differences(trained: dict, wanted) -> list[str]:
    """``"<key> trained <value>, scenario <value>"`` for each item of ``wanted`` (a mapping
    or (key, value) pairs: what the scenario asks) that a model's training record
    ``trained`` does not match; [] when it matches."""
    items = wanted.items() if isinstance(wanted, dict) else wanted
    return [f"{k} trained {echo(trained.get(k))}, scenario {echo(v)}" for k, v in items if trained.get(k) != v]


def read_checkpoint_config(path) -> dict:
    """Read and check ``config.json`` of a checkpoint folder (no weights loaded)."""
    path = Path(path)
    source = str(path)
    if not path.is_dir():
        raise UserError("checkpoint folder not found" if not path.exists()
                        else "a checkpoint is a folder (with config.json and weights.npz)",
                        source=source)
    cfg_file = path / CONFIG_FILE
    if not cfg_file.is_file():
        raise UserError(f"{CONFIG_FILE} is missing", source=source, field=CONFIG_FILE)
    try:
        config = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{CONFIG_FILE} is not valid JSON ({e})", source=source,
                        field=CONFIG_FILE) from None
    if not isinstance(config, dict):
        raise UserError(f"{CONFIG_FILE} must hold a JSON object", source=source,
                        field=CONFIG_FILE)
    if config.get("format") != FORMAT:
        raise UserError(f'not a linksim checkpoint (format "{config.get("format")}", '
                        f'expected "{FORMAT}")', source=source, field="format")
    if config.get("format_version") != FORMAT_VERSION:
        raise UserError(f"checkpoint format_version {config.get('format_version')} is not "
                        f"supported (this linksim reads {FORMAT_VERSION})", source=source,
                        field="format_version")
    for key in ("class", "config", "data_shape", "weights_sha256"):
        if key not in config:
            raise UserError(f"{CONFIG_FILE} has no {key}", source=source, field=key)
    shape = config["data_shape"]
    if not (isinstance(shape, list) and shape and all(isinstance(s, int) and s > 0
                                                      for s in shape)):
        raise UserError(f"data_shape must be a list of positive integers, got {echo(shape)}",
                        source=source, field="data_shape")
    if not isinstance(config["config"], dict):
        raise UserError("config must be a JSON object of constructor arguments",
                        source=source, field="config")
    return config


def load_checkpoint(path, expected_shape=None):
    """Load a checkpoint folder written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str | Path
        Checkpoint folder.
    expected_shape : sequence of int | None
        Data shape the caller needs (e.g. ``(Na, Nc)`` of the scenario); checked against
        the recorded ``data_shape``.

    Output
    ------
    model : keras.Model
        Built network with the saved weights.
    config : dict
        The parsed ``config.json``.

    Raises
    ------
    UserError
        ``source`` = the checkpoint path, ``field`` = what mismatched (``config.json``,
        ``weights.npz``, ``weights_sha256``, ``data_shape``, ``class``, ``config``,
        ``variables.<name>``).
    """
    path = Path(path)
    source = str(path)
    config = read_checkpoint_config(path)
    shape = tuple(config["data_shape"])
    if expected_shape is not None and tuple(int(s) for s in expected_shape) != shape:
        need = tuple(int(s) for s in expected_shape)
        raise UserError(f"model was trained for shape {shape}, scenario needs {need}",
                        source=source, field="data_shape")
    cls = _resolve_class(config["class"], source)

    weights = path / config.get("weights_file", WEIGHTS_FILE)
    if weights.name != WEIGHTS_FILE or not weights.is_file():
        raise UserError(f"{WEIGHTS_FILE} is missing", source=source, field=WEIGHTS_FILE)
    digest = _sha256(weights)
    if digest != config["weights_sha256"]:
        raise UserError(f"{WEIGHTS_FILE} was altered: sha256 {digest} != "
                        f"{config['weights_sha256']} (recorded in {CONFIG_FILE})",
                        source=source, field="weights_sha256")

    try:
        model = cls.from_config(dict(config["config"]))
    except (TypeError, ValueError) as e:
        raise UserError(f"cannot build {config['class']} from its config: {e}",
                        source=source, field="config") from None
    try:
        model.build_for(shape)
    except (TypeError, ValueError) as e:
        raise UserError(f"cannot build the network for data_shape {shape}: {e}",
                        source=source, field="data_shape") from None
    variables = named_variables(model)

    try:
        with np.load(weights, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"{WEIGHTS_FILE} cannot be read without pickle ({e})",
                        source=source, field=WEIGHTS_FILE) from None
    missing = [k for k in variables if k not in arrays]
    if missing:
        raise UserError(f"{WEIGHTS_FILE} lacks {len(missing)} variable(s) of the network: "
                        f"{', '.join(missing[:5])}", source=source,
                        field=f"variables.{missing[0]}")
    unexpected = [k for k in arrays if k not in variables]
    if unexpected:
        raise UserError(f"{WEIGHTS_FILE} has {len(unexpected)} variable(s) the network does "
                        f"not: {', '.join(unexpected[:5])}", source=source,
                        field=f"variables.{unexpected[0]}")
    for name, var in variables.items():
        a = arrays[name]
        if tuple(a.shape) != tuple(var.shape):
            raise UserError(f"variable {name} has shape {tuple(a.shape)} in {WEIGHTS_FILE}, "
                            f"the network needs {tuple(var.shape)}", source=source,
                            field=f"variables.{name}")
        if a.dtype.kind not in "fiu":
            raise UserError(f"variable {name} has dtype {a.dtype}, expected a float array",
                            source=source, field=f"variables.{name}")
    for name, var in variables.items():
        var.assign(arrays[name].astype(var.dtype))
    return model, config


def load_prior(path, config: dict | None = None):
    """The backbone prior of a checkpoint folder, checked (``None`` without one).

    Raises :class:`UserError` (``field`` = ``backbone...``) when the file is missing,
    altered (sha256) or does not fit the recorded data shape.
    """
    from .gmm import GaussianMixturePrior

    path = Path(path)
    source = str(path)
    config = config if config is not None else read_checkpoint_config(path)
    spec = config.get("backbone")
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("kind") != "gmm" or spec.get("file") != PRIOR_FILE:
        raise UserError(f'backbone must be {{"kind": "gmm", "file": "{PRIOR_FILE}", ...}}', source=source,
                        field="backbone")
    file = path / PRIOR_FILE
    if not file.is_file():
        raise UserError(f"{PRIOR_FILE} is missing", source=source, field="backbone.file")
    digest = _sha256(file)
    if digest != spec.get("sha256"):
        raise UserError(f"{PRIOR_FILE} was altered: sha256 {digest} != {spec.get('sha256')} "
                        f"(recorded in {CONFIG_FILE})", source=source, field="backbone.sha256")
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        prior = GaussianMixturePrior.from_arrays(arrays, spec.get("fit"))
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise UserError(f"{PRIOR_FILE} is not a valid prior ({e})", source=source, field="backbone.file") from None
    if tuple(prior.data_shape) != tuple(config["data_shape"]):
        raise UserError(f"prior has data shape {prior.data_shape}, the model {tuple(config['data_shape'])}",
                        source=source, field="backbone.data_shape")
    return prior


def zoo_names() -> list[str]:
    """Names of the shipped models."""
    return sorted(d.name for d in ZOO.iterdir() if (d / CONFIG_FILE).is_file()) if ZOO.is_dir() else []


def resolve_model(name) -> Path:
    """Checkpoint folder of a model given as a folder path or a name in linksim/zoo/
    (an unknown one is matched by its last path part against the zoo names). A name the
    OS cannot look up (too long, a NUL byte) is not found, as ``os.path.exists`` says."""
    p = Path(name)
    if not os.path.exists(p) and os.path.exists(ZOO / str(name)):
        p = ZOO / str(name)
    if not os.path.exists(p):
        names = zoo_names()
        raise UserError(f"no model {echo(str(name))}{did_you_mean(p.name, names)}; allowed: a checkpoint folder "
                        f"or one of {', '.join(names) or '(empty zoo)'}", field="model")
    return p


def load_denoiser(name, expected_shape=None, *, network: bool = True):
    """A ready :class:`~linksim.diffusion.parameterisation.Denoiser` from a checkpoint
    folder or a zoo name, and its parsed ``config.json``.

    ``network=False`` drops the learned network of a model with a backbone (the backbone
    alone: the exact denoiser of its fitted prior).
    """
    from .gmm import MixtureDenoiser
    from .parameterisation import Denoiser

    path = resolve_model(name)
    net, cfg = load_checkpoint(path, expected_shape)
    prior = load_prior(path, cfg)
    backbone = MixtureDenoiser(prior, cfg["schedule"]) if prior is not None else None
    if not network and backbone is None:
        raise UserError("the model has no backbone to use without its network", source=str(path),
                        field="backbone")
    den = Denoiser(net if network else None, cfg["schedule"], cfg.get("parameterisation", "v"),
                   cfg.get("input_norm", "total"), cfg.get("beta_min", 1e-2), backbone=backbone)
    return den, cfg
