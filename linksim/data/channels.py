"""Channel data sets drawn with Sionna through linksim's scenarios and :class:`ChannelGenerator`.

A sample is the frequency response of one OFDM symbol between the BS array and a
single-antenna UE: ``h`` complex64 ``[N, Na, Nc]`` (BS antennas x subcarriers). The
channel ``[batch, 1, Nr, 1, Nt, S, F]`` of :class:`~linksim.system.channels.ChannelGenerator`
is drawn for a batch of independent *slots* (drops) and the OFDM symbols listed in
``symbols`` are kept from each (default one symbol per slot: samples are independent).

A **spec** says what to draw (it is plain JSON data; a preset name or a scenario path is
short for one):

``scenario``
    Scenario file path, a name in the repository's ``scenarios/`` folder
    (``"quickstart"``), plain scenario data (dict) or a :class:`~linksim.scenario.Scenario`.
``set``
    Dotted overrides of the base scenario, ``{"antennas.bs.cols": 4}`` (or a list of
    ``"key=value"`` strings). Setting ``carrier.fft_size`` clears ``carrier.num_prbs``
    (and the other way round).
``mixture``
    Optional: a preset name (``"cdl-mix"``, ``"3gpp-mix"``, ``"cdl-uma-mix"``) or a list
    of components, each a dict of dotted overrides on top of the base (or
    ``{"label": ..., "set": {...}}``). One component is drawn per chunk of ``batch``
    slots: without ``weights`` every component gets the same number of chunks (up to
    one) in random order, with ``weights`` each chunk is drawn independently with
    these probabilities. The data set keeps, per sample,
    the component index in ``labels`` and the component names in ``meta["components"]``.
``symbols``
    OFDM symbol indices kept per slot (default ``[0]``).

A scenario with ``channel.mixture`` is expanded the same way: one labelled component per
environment, drawn per chunk.

Presets (:data:`PRESETS`): ``quickstart`` (8x72 CDL-C), ``cdl-mix`` (8x72, CDL A-E x
delay spread 30/100/300 ns, 15 components), ``uma`` (8x72 UMa, a new drop per slot),
``3gpp-mix`` (8x72 UMa/UMi/RMa), ``cdl-uma-mix`` (the 15 CDL components and UMa),
``paper-32x64`` (32 BS antennas as a 4x8 single-polarised panel, 64 subcarriers, CDL-C),
``paper-32x64-dual`` (2x8 dual-polarised), ``paper-cdl-mix`` (32x64 with the CDL mixture).

Determinism: the same spec, ``num_samples``, ``seed`` and ``batch`` give identical arrays
(``sionna.phy.config.seed`` is set to ``seed``; the mixture draw uses its own NumPy
generator). Data are stored raw (ChannelGenerator normalises the channel to unit average
gain per antenna pair, so entries have unit power on average); per-sample normalisation
is :func:`linksim.diffusion.normalize_data` (:meth:`ChannelDataset.normalized`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..config import read_yaml, set_dotted
from ..errors import UserError, allowed, did_you_mean, echo
from ..graph import graph_function
from ..provenance import now, package_versions
from ..scenario import Scenario, validate_scenario
from .cache import default_cache_dir, write_cache_file

__all__ = [
    "PRESETS",
    "MIXTURES",
    "ChannelDataset",
    "resolve_spec",
    "make_dataset",
    "cached_dataset",
    "cache_key",
    "default_cache_dir",
]

_REPO = Path(__file__).resolve().parents[2]
#: Version of the generation recipe (chunking, mixture draw, symbol layout); part of the
#: cache key: bump it whenever a change makes the same spec and seed give other data.
RECIPE = 1

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
class _Component:
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


def resolve_spec(spec) -> tuple[list[_Component], dict]:
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
            components.append(_Component(label, s))
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


# --------------------------------------------------------------------------- data set
@dataclass
class ChannelDataset:
    """Channel samples with their mixture labels.

    Attributes
    ----------
    h : np.ndarray, complex64 [N, Na, Nc]
        One OFDM symbol per sample (BS antennas x subcarriers).
    labels : np.ndarray, int32 [N]
        Mixture component of each sample (index into ``meta["components"]``; 0 without a
        mixture).
    slots : np.ndarray, int64 [N]
        Slot (drop) each sample came from; samples of one slot are correlated, so
        :meth:`train_test_split` never separates them.
    meta : dict
        JSON-able: spec, resolved spec, seed, shape, components, versions, created, ...
    """

    h: np.ndarray
    labels: np.ndarray
    slots: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = self.h.shape[0]
        if self.h.ndim != 3 or self.labels.shape != (n,) or self.slots.shape != (n,):
            raise ValueError(f"shapes do not match: h {self.h.shape}, labels {self.labels.shape}, "
                             f"slots {self.slots.shape}")

    def __len__(self) -> int:
        return int(self.h.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """(Na, Nc)."""
        return tuple(int(x) for x in self.h.shape[1:])

    @property
    def components(self) -> list[str]:
        return list(self.meta.get("components", ["base"]))

    def subset(self, index) -> "ChannelDataset":
        """Samples ``index`` (array of indices or boolean mask) as a new data set."""
        index = np.asarray(index)
        meta = dict(self.meta)
        sub = ChannelDataset(self.h[index], self.labels[index], self.slots[index], meta)
        meta["num_samples"] = len(sub)
        return sub

    def train_test_split(self, fraction: float = 0.1, seed: int = 0):
        """Random split by slot: ``(train, test)`` with about ``fraction`` of the samples
        in ``test`` (exactly ``round(fraction * N)`` with one symbol per slot). Disjoint;
        the same ``seed`` gives the same split."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        uniq = np.unique(self.slots)
        rng = np.random.default_rng(seed)
        perm = rng.permutation(uniq)
        per_slot = len(self) / len(uniq)
        n_test_slots = int(round(fraction * len(self) / per_slot))
        n_test_slots = min(max(n_test_slots, 1), len(uniq) - 1)
        test_mask = np.isin(self.slots, perm[:n_test_slots])
        train, test = self.subset(~test_mask), self.subset(test_mask)
        for part, name in ((train, "train"), (test, "test")):
            part.meta["split"] = {"part": name, "fraction": fraction, "seed": seed}
        return train, test

    def normalized(self):
        """Per-sample normalised channels and scales via
        :func:`linksim.diffusion.normalize_data`: ``(h_tilde, scale)`` as NumPy arrays,
        ``h_tilde`` with unit power per real entry."""
        from ..diffusion.forward import normalize_data

        h_t, scale = normalize_data(self.h)
        return h_t.numpy(), scale.numpy()

    # -- files ---------------------------------------------------------------------
    @staticmethod
    def _paths(path) -> tuple[Path, Path]:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        return path, path.with_suffix(".json")

    def save(self, path) -> Path:
        """Write ``path`` (.npz: h, labels, slots) and the JSON sidecar ``path.json``
        (atomically). Returns the .npz path."""
        npz, side = self._paths(path)
        write_cache_file(npz, lambda f: np.savez(f, h=self.h, labels=self.labels, slots=self.slots))
        meta = dict(self.meta)
        meta.pop("cache", None)
        text = json.dumps(meta, indent=1, sort_keys=True).encode("utf-8")
        write_cache_file(side, lambda f: f.write(text))
        return npz

    @classmethod
    def load(cls, path) -> "ChannelDataset":
        """Read a data set written by :meth:`save` (no pickles)."""
        npz, side = cls._paths(path)
        if not npz.is_file():
            raise UserError("data set file not found", source=str(npz))
        with np.load(npz, allow_pickle=False) as f:
            h, labels, slots = f["h"], f["labels"], f["slots"]
        meta = json.loads(side.read_text(encoding="utf-8")) if side.is_file() else {}
        return cls(h, labels, slots, meta)


# --------------------------------------------------------------------------- generation
def _sampling_frequency(s: Scenario) -> float:
    from ..system.grid import build_resource_grid

    return 1.0 / build_resource_grid(s).ofdm_symbol_duration


_FN_CACHE: dict[str, Any] = {}


def _component_fn(comp: _Component, batch: int, num_time: int, xla: bool):
    """A compiled ``() -> h [batch, Na, S, Nc]`` for one component (XLA falls back to graph).
    Kept per process, so a second data set of the same component does not recompile."""
    key = json.dumps([comp.channel_data(), batch, num_time, xla], sort_keys=True)
    if key not in _FN_CACHE:
        if len(_FN_CACHE) >= 64:
            _FN_CACHE.pop(next(iter(_FN_CACHE)))
        _FN_CACHE[key] = _build_component_fn(comp, batch, num_time, xla)
    return _FN_CACHE[key]


def _build_component_fn(comp: _Component, batch: int, num_time: int, xla: bool):
    import tensorflow as tf

    from ..system.channels import ChannelGenerator

    s = comp.scenario
    gen = ChannelGenerator(s, precision="single")
    fs = _sampling_frequency(s)
    uplink = s.channel.direction == "uplink"

    def draw():
        h = gen(batch, num_time, fs)  # [B, 1, Nr, 1, Nt, S, F]
        h = h[:, 0, :, 0, 0] if uplink else h[:, 0, 0, 0]  # [B, Na, S, F]
        return tf.cast(h, tf.complex64)

    state = {"fn": graph_function(draw, jit_compile=xla), "xla": xla}

    def call():
        try:
            return state["fn"]().numpy()
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, NotImplementedError):
            if not state["xla"]:
                raise
            state["fn"], state["xla"] = graph_function(draw, jit_compile=False), False
            return state["fn"]().numpy()

    call.state = state
    return call


#: Number of data sets generated in this process (the cache tests read it).
GENERATED = 0


def make_dataset(spec, num_samples: int, seed: int = 0, batch: int = 128, *, xla: bool = True,
                 progress: bool = True) -> ChannelDataset:
    """Draw ``num_samples`` channel samples.

    Parameters
    ----------
    spec : dict | str | Scenario
        See the module docstring (preset name, scenario path, Scenario or spec dict).
    num_samples : int
    seed : int
        Sets ``sionna.phy.config.seed``; same spec/num_samples/seed/batch -> same data.
    batch : int
        Slots drawn per chunk (one mixture component per chunk).
    xla : bool
        Compile the channel draw with XLA (falls back to graph mode where it fails).
        XLA draws other random numbers than graph mode, so it is part of the cache key;
        it is about 3x faster for large sets but compiles for a few seconds per
        mixture component (use ``xla=False`` for tiny sets).
    progress : bool
        Show a tqdm bar with ETA.

    Output
    ------
    ChannelDataset with ``h`` complex64 [num_samples, Na, Nc].
    """
    global GENERATED
    from sionna.phy import config
    from tqdm.auto import tqdm

    num_samples, batch = int(num_samples), int(batch)
    if num_samples < 1 or batch < 1:
        raise UserError("num_samples and batch must be >= 1", source="make_dataset")
    components, resolved = resolve_spec(spec)
    symbols = resolved["symbols"]
    k = len(symbols)
    num_time = max(symbols) + 1
    config.seed = int(seed)
    mix_rng = np.random.default_rng([int(seed), 0x6D6978])
    num_chunks = -(-num_samples // (batch * k))
    if len(components) == 1:
        order = np.zeros(num_chunks, np.int64)
    elif resolved["weights"] is None:  # balanced: counts differ by at most one chunk
        order = mix_rng.permutation(np.arange(num_chunks) % len(components))
    else:
        order = mix_rng.choice(len(components), size=num_chunks, p=resolved["weights"])
    fns: dict[int, Any] = {}
    hs, labels, slots = [], [], []
    done, slot0 = 0, 0
    t0 = time.perf_counter()
    bar = tqdm(total=num_samples, unit="sample", desc="channels", disable=not progress, leave=False)
    try:
        for c in order:
            c = int(c)
            if c not in fns:
                fns[c] = _component_fn(components[c], batch, num_time, xla)
            h = fns[c]()[:, :, symbols]  # [B, Na, k, F]
            h = np.transpose(h, (0, 2, 1, 3)).reshape(batch * k, h.shape[1], h.shape[3])
            take = min(num_samples - done, h.shape[0])
            hs.append(h[:take])
            labels.append(np.full(take, c, np.int32))
            slots.append(slot0 + np.arange(take, dtype=np.int64) // k)
            slot0 += batch
            done += take
            bar.update(take)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    GENERATED += 1
    h = np.ascontiguousarray(np.concatenate(hs), dtype=np.complex64)
    spec_json = _jsonable_spec(spec)
    meta = {
        "spec": spec_json,
        "resolved": resolved,
        "components": [c.label for c in components],
        "num_samples": num_samples,
        "seed": int(seed),
        "batch": batch,
        "shape": list(h.shape),
        "dtype": "complex64",
        "axes": ["sample", "bs_antenna", "subcarrier"],
        "recipe": RECIPE,
        "xla": xla,
        "xla_used": all(fn.state["xla"] for fn in fns.values()),
        "versions": package_versions(),
        "created": now(),
        "generation_seconds": round(seconds, 3),
        "mean_power": float(np.mean(np.abs(h) ** 2)),
    }
    return ChannelDataset(h, np.concatenate(labels), np.concatenate(slots), meta)


def _jsonable_spec(spec):
    if isinstance(spec, Scenario):
        return {"scenario": spec.resolved()}
    if isinstance(spec, Path):
        return str(spec)
    if isinstance(spec, dict):
        out = dict(spec)
        if isinstance(out.get("scenario"), Scenario):
            out["scenario"] = out["scenario"].resolved()
        if isinstance(out.get("scenario"), Path):
            out["scenario"] = str(out["scenario"])
        return json.loads(json.dumps(out, default=str))
    return spec


# --------------------------------------------------------------------------- cache
def cache_key(spec, num_samples: int, seed: int, batch: int = 128, xla: bool = True) -> str:
    """Hex key of (resolved spec, num_samples, seed, batch, xla, :data:`RECIPE`, linksim
    version). The resolved spec holds only the channel-relevant scenario sections, so
    editing a scenario file's carrier / antennas / channel changes the key and editing
    its sweep or receivers does not."""
    _, resolved = resolve_spec(spec)
    blob = json.dumps({"resolved": resolved, "num_samples": int(num_samples), "seed": int(seed),
                       "batch": int(batch), "xla": bool(xla), "recipe": RECIPE,
                       "linksim": __version__}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _cache_name(spec) -> str:
    name = spec if isinstance(spec, str) and spec in PRESETS else None
    if name is None and isinstance(spec, (str, Path)):
        name = Path(spec).stem
    if name is None:
        name = "data"
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]


def cached_dataset(spec, num_samples: int, seed: int = 0, cache_dir=None, batch: int = 128, *,
                   xla: bool = True, progress: bool = True) -> ChannelDataset:
    """:func:`make_dataset`, stored under ``cache_dir`` (default :func:`default_cache_dir`)
    as ``<name>-<key>.npz`` + ``.json``; a later call with the same key loads the file.
    ``meta["cache"]`` says ``{"path", "hit"}``."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(spec, num_samples, seed, batch, xla)
    path = cache_dir / f"{_cache_name(spec)}-{key}.npz"
    if path.is_file():
        try:
            ds = ChannelDataset.load(path)
            ds.meta["cache"] = {"path": str(path), "hit": True}
            return ds
        except (OSError, ValueError, KeyError):
            pass  # damaged file: generate again
    ds = make_dataset(spec, num_samples, seed, batch=batch, xla=xla, progress=progress)
    ds.meta["cache_key"] = key
    ds.save(path)
    ds.meta["cache"] = {"path": str(path), "hit": False}
    return ds
