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

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import UserError
from ..graph import graph_function
from ..provenance import now, package_versions
from ..scenario import Scenario
from .cache import default_cache_dir, load_or_make, write_cache_file
from .channel_specs import MIXTURES, PRESETS, Component, resolve_spec  # noqa: F401 (MIXTURES, PRESETS: this module's API)

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

#: Version of the generation recipe (chunking, mixture draw, symbol layout); part of the
#: cache key: bump it whenever a change makes the same spec and seed give other data.
RECIPE = 1

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
def sampling_frequency(s: Scenario) -> float:
    from ..system.grid import build_resource_grid

    return 1.0 / build_resource_grid(s).ofdm_symbol_duration


_FN_CACHE: dict[str, Any] = {}


def _component_fn(comp: Component, batch: int, num_time: int, xla: bool):
    """A compiled ``() -> h [batch, Na, S, Nc]`` for one component (XLA falls back to graph).
    Kept per process, so a second data set of the same component does not recompile."""
    key = json.dumps([comp.channel_data(), batch, num_time, xla], sort_keys=True)
    if key not in _FN_CACHE:
        if len(_FN_CACHE) >= 64:
            _FN_CACHE.pop(next(iter(_FN_CACHE)))
        _FN_CACHE[key] = _build_component_fn(comp, batch, num_time, xla)
    return _FN_CACHE[key]


def _build_component_fn(comp: Component, batch: int, num_time: int, xla: bool):
    import tensorflow as tf

    from ..system.channels import ChannelGenerator

    s = comp.scenario
    gen = ChannelGenerator(s, precision="single")
    fs = sampling_frequency(s)
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
    made = []

    def make():
        ds = make_dataset(spec, num_samples, seed, batch=batch, xla=xla, progress=progress)
        ds.meta["cache_key"] = key
        made.append(ds)
        return ds

    ds = load_or_make(path, make, ChannelDataset.load, store=lambda p, ds: ds.save(p))
    ds.meta["cache"] = {"path": str(path), "hit": not made}
    return ds
