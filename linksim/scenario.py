"""YAML scenario -> validated, typed :class:`Scenario` objects.

A scenario is plain YAML data. :func:`load_scenario` reads it, applies ``--set``
overrides, validates it with pydantic (unknown keys are rejected with a did-you-mean
hint) and checks cross-field consistency. The problems are raised as one
:class:`~linksim.errors.UserError`, one line per problem naming the file (or the ``--set``
override that set the field), the dotted field and what is allowed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from .config import (
    MAX_NAME,
    FolderName,
    Strict,
    apply_overrides,
    get_dotted,
    loc_to_path,
    problems_error,
    pydantic_problem,
    pydantic_problems,
    read_yaml,
    resolve_path,
    set_dotted,
)
from .data.masks import read_mask
from .errors import UserError, allowed, clip, did_you_mean, echo
from .links.registry import family, receiver_family, receiver_table
from .metrics import METRICS
from .narrowband.config import Narrowband
from .narrowband.config import check as check_narrowband
from .receivers.contract import check_family
from .reconstruction import RECONSTRUCTIONS
from .semcom.config import Semantic
from .semcom.config import check as check_semantic
from .system.config import (
    Antennas,
    Array,
    Carrier,
    Channel,
    Interference,
    Mimo,
    Pilots,
    Source,
)
from .system.config import check as check_ofdm
from .tdd.config import SRSPrecoding
from .tdd.config import check as check_srs_precoding

NOISE_KEYS = ("ebno_db", "snr_db")


# --------------------------------------------------------------------------- sections
class Link(Strict):
    """Coding and modulation."""

    mode: Literal["codeword", "tb", "uncoded", "sounding", "semantic", "narrowband", "srs_precoding"] = Field("codeword", description="codeword: one LDPC codeword per stream and slot; tb: NR transport block (CRC, segmentation) from an MCS index; uncoded: QAM only; sounding: SRS channel sounding, no data; semantic: learned joint source-channel coding of images (section semantic); narrowband: the massive-MIMO pilot link Y = H X + N of Card B (section narrowband); srs_precoding: TDD downlink precoding from aged SRS (Card C, section srs_precoding).")
    ofdm: bool = Field(True, description="false: flat single-carrier link (awgn / rayleigh, SISO) for coding references.")
    bits_per_symbol: Literal[2, 4, 6, 8] = Field(4, description="QAM order as bits per symbol (QPSK=2 ... 256-QAM=8); ignored in tb mode (the MCS sets it).")
    coderate: float = Field(0.5, gt=0.05, le=0.95, description="LDPC code rate (codeword mode).")
    mcs_index: int = Field(10, ge=0, le=28, description="NR MCS index (tb mode).")
    mcs_table: Literal[1, 2] = Field(1, description="NR MCS table (TS 38.214 5.1.3.1-1 / -2) (tb mode).")
    codeword_length: int = Field(1296, ge=24, le=32000, description="Codeword length n in bits when ofdm is false.")
    ldpc_iterations: int = Field(20, ge=1, le=200, description="LDPC belief-propagation iterations.")


class _NamedSpec(BaseModel):
    """A registered name, an optional label and the item's own parameters."""

    model_config = ConfigDict(extra="allow")
    label: Optional[str] = Field(None, description="Name in results and plots (default: name).")

    @property
    def params(self) -> dict:
        return dict(self.model_extra or {})

    @property
    def display(self) -> str:
        return self.label or self.name


class ReconstructionSpec(_NamedSpec):
    """One reconstruction stage after the decoder (image sources)."""

    name: str = Field(description="Registered stage (see `linksim list reconstructions`).")


class ReceiverSpec(_NamedSpec):
    """One receiver: a registered name, an optional label and its own parameters."""

    name: str = Field(description="Registered receiver (see `linksim list receivers`) or module.path:ClassName.")

class Sweep(Strict):
    key: str = Field("ebno_db", description="Swept quantity: ebno_db, snr_db or the dotted path of any numeric scenario key (e.g. channel.delay_spread_ns).")
    values: list[float] = Field(default_factory=lambda: [0.0, 5.0, 10.0], min_length=1, description="Values of the swept key.")
    ebno_db: Optional[float] = Field(None, ge=-50, le=100, description="Fixed Eb/N0 [dB] when the key is neither ebno_db nor snr_db.")
    snr_db: Optional[float] = Field(None, ge=-50, le=100, description="Fixed SNR [dB] when the key is neither ebno_db nor snr_db.")
    batch_size: int = Field(64, ge=1, le=100000, description="Slots (or codewords) per Monte-Carlo batch.")
    max_batches: int = Field(50, ge=1, le=1000000, description="Upper limit of batches per point.")
    target_block_errors: Optional[int] = Field(200, ge=1, description="Stop a point once every receiver has this many block errors (null: run max_batches).")
    stop_bler: Optional[float] = Field(None, gt=0, lt=1, description="Stop the sweep once every receiver's BLER is below this.")

    @field_validator("values")
    @classmethod
    def _finite_and_distinct(cls, v):
        bad = [x for x in v if x != x or x in (float("inf"), float("-inf"))]
        if bad:
            raise ValueError(f"{echo(bad[0])} is not a finite number; allowed: finite numbers")
        repeated = sorted({x for x in v if v.count(x) > 1})
        if repeated:
            raise ValueError(f"{echo(repeated[0])} appears more than once; allowed: distinct values (one point each)")
        return v


class Runtime(Strict):
    xla: bool = Field(True, description="Compile with XLA where it is faster: transmitter + channel, QAM demapper, LDPC decoder (equaliser and estimators stay in graph mode; diffusion receivers have their own xla key).")
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="auto uses a GPU when TensorFlow sees one.")
    executor: Literal["local", "ray"] = Field("local", description="Where batches run: local (this process) or ray (Ray actors; pip install -e \".[cluster]\"). The numbers do not depend on it.")
    address: Optional[str] = Field(None, description="ray: the cluster to join: auto (the running one, or RAY_ADDRESS), ray://host:port (Ray client) or host:port (from a node of the cluster); null starts a Ray instance on this machine.")
    workers: Optional[int] = Field(None, ge=1, le=10000, description="ray: number of worker actors (null: the cluster's CPUs / cpus_per_worker).")
    cpus_per_worker: int = Field(1, ge=1, le=1024, description="ray: CPU cores (TensorFlow threads) per worker.")
    gpus_per_worker: float = Field(0, ge=0, le=64, description="ray: GPUs per worker (fractions share a GPU); 0 keeps workers on the CPU.")

    @field_validator("address")
    @classmethod
    def _address_form(cls, v):
        if v is not None and not re.fullmatch(r"auto|ray://[^\s:/]+:\d+|[^\s:/]+:\d+", v):
            raise ValueError("allowed: auto, host:port, ray://host:port, or null (start Ray here)")
        return v


MetricName = Literal[tuple(METRICS)]  # the names of the registry in linksim.metrics


class Scenario(Strict):
    """A complete simulation scenario."""

    name: FolderName = Field("scenario", description=f"Run name: the results folder results/<name> unless output is given, so a plain folder name (1 to {MAX_NAME} characters, no slash or backslash, not starting with a dot).")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Seed of every random generator.")
    precision: Literal["single", "double"] = Field("single", description="Floating-point precision.")
    output: Optional[str] = Field(None, description="Results folder (default: results/<name>).")
    carrier: Carrier = Field(default_factory=Carrier, description="OFDM numerology.")
    antennas: Antennas = Field(default_factory=Antennas, description="BS and UE arrays (bs, ue).")
    channel: Channel = Field(default_factory=Channel, description="Propagation channel and link direction.")
    pilots: Pilots = Field(default_factory=Pilots, description="Pilot pattern.")
    interference: Interference = Field(default_factory=Interference, description="Narrowband interferer (OFDM links).")
    link: Link = Field(default_factory=Link, description="Coding and modulation.")
    mimo: Mimo = Field(default_factory=Mimo, description="Streams, precoder, detector.")
    source: Source = Field(default_factory=Source, description="What the link sends (random bits or images).")
    receivers: list[ReceiverSpec] = Field(default_factory=lambda: [ReceiverSpec(name="perfect")], min_length=1, description="Receivers compared on the same realisations.")
    semantic: Semantic = Field(default_factory=Semantic, description="Semantic communication (link.mode semantic).")
    narrowband: Narrowband = Field(default_factory=Narrowband, description="Narrowband massive-MIMO pilot link (link.mode narrowband).")
    srs_precoding: SRSPrecoding = Field(default_factory=SRSPrecoding, description="TDD precoding from SRS under channel ageing (link.mode srs_precoding).")
    reconstruction: list[ReconstructionSpec] = Field(default_factory=list, description="Stages after the decoder (image sources), each applied to every receiver's received images; results rows are then labelled receiver/stage. Empty: the received images as decoded.")
    sweep: Sweep = Field(default_factory=Sweep, description="Swept key, its values and Monte-Carlo limits.")
    metrics: list[MetricName] = Field(default_factory=lambda: ["ber", "bler"], min_length=1, description="Metrics to compute (see below).")
    runtime: Runtime = Field(default_factory=Runtime, description="Compilation and device.")

    # ------------------------------------------------------------------ derived
    @property
    def tx_array(self) -> Array:
        return self.antennas.ue if self.channel.direction == "uplink" else self.antennas.bs

    @property
    def rx_array(self) -> Array:
        return self.antennas.bs if self.channel.direction == "uplink" else self.antennas.ue

    @property
    def mask_shape(self) -> tuple[int, int, int]:
        """The shape a pilot mask file must have: [num_streams, num_ofdm_symbols, num_subcarriers]."""
        return (self.mimo.num_streams, self.carrier.num_ofdm_symbols, self.carrier.num_subcarriers)

    @property
    def output_dir(self) -> Path:
        return Path(self.output) if self.output else Path("results") / self.name

    # ``link.mode`` names one of two things: a link family (narrowband, srs_precoding,
    # semantic) or, in the OFDM family, what the slot carries (codeword, tb, uncoded: the
    # coding axis; sounding: pilots only). Code reads the two axes here, not the mode.
    @property
    def family(self) -> str:
        """The link family that runs the scenario (:func:`linksim.links.registry.family`)."""
        return family(self.link.mode)

    @property
    def carries_bits(self) -> bool:
        """Whether the link sends information bits (bit and block errors, Eb/N0): the OFDM
        data modes codeword, tb and uncoded."""
        return self.link.mode in ("codeword", "tb", "uncoded")

    @property
    def is_coded(self) -> bool:
        """Whether the bits are LDPC-coded (codeword, tb): blocks and block errors."""
        return self.link.mode in ("codeword", "tb")

    @property
    def row_labels(self) -> list[str]:
        """The ``receiver`` column of metrics.csv: the receivers' labels, or
        ``receiver/stage`` for every receiver and reconstruction stage."""
        if self.family == "semantic":
            return [x.display for x in self.semantic.systems]
        if not self.reconstruction:
            return [r.display for r in self.receivers]
        return [f"{r.display}/{c.display}" for r in self.receivers for c in self.reconstruction]

    def resolved(self) -> dict:
        """Plain-data copy with every default filled in (written as scenario.yaml)."""
        data = self.model_dump(mode="json")
        for key in ("receivers", "reconstruction"):
            data[key] = [r.model_dump(mode="json", exclude_none=True) for r in getattr(self, key)]
        return data


# --------------------------------------------------------------------------- consistency
def _check_consistency(s: Scenario) -> None:
    """Cross-field rules: the runtime's, then those of the family that runs ``link.mode``.
    Raises UserError(field=...) on the first violation."""
    rt = s.runtime
    if rt.executor == "ray" and rt.device == "gpu" and not rt.gpus_per_worker:
        raise UserError("ray workers see GPUs only when they ask for them: set runtime.gpus_per_worker > 0, "
                        "or runtime.device: auto or cpu", field="runtime.device")
    FAMILY_RULES[s.family](s)


#: The cross-field rules of each link family (each in the family's config module).
FAMILY_RULES = {"ofdm": check_ofdm, "narrowband": check_narrowband, "srs_precoding": check_srs_precoding,
                "semantic": check_semantic}


# --------------------------------------------------------------------------- validation
def validate_scenario(data: Any, source: str = "<scenario>", base_dir: Path | None = None,
                      overrides: Sequence[str] = ()) -> Scenario:
    """Validate plain data into a :class:`Scenario` (raises UserError).

    Lists every schema problem; once the schema holds, the first problem of each group of
    cross-field checks (consistency, sweep, receivers, files). ``overrides``: the ``--set``
    strings already applied to ``data``, named as the source of the fields they set.
    """
    if not isinstance(data, dict):
        raise UserError("a scenario is a YAML mapping of sections (carrier, channel, ...)", source=source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise problems_error(pydantic_problems(err, Scenario), source, overrides) from None
    checks = (_check_consistency, _check_sweep, lambda s: _check_receivers(s, base_dir), _check_reconstruction,
              lambda s: _check_files(s, base_dir))
    problems = []
    for check in checks:
        try:
            check(scenario)
        except UserError as err:
            problems.append(err)
    if problems:
        raise problems_error(problems, source, overrides)
    return scenario


def _check_sweep(s: Scenario) -> None:
    """The swept key is a noise key or a numeric scenario key, the noise level is given
    exactly once, and every swept value validates."""
    sw = s.sweep
    if sw.key in NOISE_KEYS:
        if sw.ebno_db is not None or sw.snr_db is not None:
            raise UserError(f"the sweep sets {sw.key} itself: remove sweep.ebno_db / sweep.snr_db", field="sweep")
        return
    value = _sweep_key_value(s)
    if (sw.ebno_db is None) == (sw.snr_db is None):
        raise UserError(f"sweeping {sw.key} needs the noise level: give exactly one of sweep.ebno_db, sweep.snr_db", field="sweep")
    for i, v in enumerate(sw.values):
        data = s.resolved()
        set_dotted(data, sw.key, int(v) if isinstance(value, int) else v)
        try:
            Scenario.model_validate(data)
        except ValidationError as err:
            msg = pydantic_problem(err.errors()[0], Scenario).message
            raise UserError(f"value {v} for {sw.key}: {msg}", field=f"sweep.values[{i}]") from None


def _sweep_key_value(s: Scenario) -> int | float:
    """The scenario's value of the (non-noise) swept key."""
    key = s.sweep.key
    try:
        value = get_dotted(s, key)
    except (KeyError, IndexError, ValueError):
        hint = _sweep_key_hint(s, key)
        raise UserError(f"{echo(key)} is not a scenario key{hint}; allowed: ebno_db, snr_db or a dotted numeric key", field="sweep.key") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = did_you_mean(key.rsplit(".", 1)[-1], NOISE_KEYS)
        raise UserError(f"{echo(key)} is not a numeric scalar key (it holds {type(value).__name__}){hint}", field="sweep.key")
    return value


def _sweep_key_hint(s: Scenario, key: str) -> str:
    """Did-you-mean for an unknown swept key: a close noise key wins, then a numeric key
    outside the sweep section, then a noise key close to the key's last part (sweep.snr)."""
    numeric = [k for k in numeric_keys(s.resolved()) if not k.startswith("sweep.")]
    return (did_you_mean(key, NOISE_KEYS) or did_you_mean(key, numeric)
            or did_you_mean(key.rsplit(".", 1)[-1], NOISE_KEYS))


def numeric_keys(data, prefix: str = "") -> list[str]:
    """Dotted paths of every numeric scalar in plain scenario data."""
    out = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for k, v in items:
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, (dict, list)):
            out += numeric_keys(v, path)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(path)
    return out


def _check_receivers(s: Scenario, base_dir: Path | None = None) -> None:
    table, link_family = receiver_table(s.link.mode), receiver_family(s.link.mode)

    def lookup(name: str):
        cls = table.load(name, search=[base_dir] if base_dir else None)
        check_family(cls, link_family, name)
        return cls

    _check_entries(s, "receivers", lookup)


def _check_entries(s: Scenario, section: str, lookup) -> None:
    """Every entry of the list ``section`` names a class ``lookup`` finds, its parameters
    validate, and the class accepts the scenario."""
    for i, spec in enumerate(getattr(s, section)):
        try:
            cls = lookup(spec.name)
        except UserError as err:
            raise err.at(field_prefix=f"{section}[{i}].name") from None
        _check_params(cls, spec, f"{section}[{i}]")
        try:
            cls.check_scenario(s, cls.Params.model_validate(spec.params))
        except UserError as err:
            raise err.at(field_prefix=f"{section}[{i}]") from None


def _check_params(cls, spec, where: str) -> None:
    """``spec``'s own parameters validate against ``cls.Params`` (UserError naming
    ``where.<param>``)."""
    try:
        cls.Params.model_validate(spec.params)
    except ValidationError as err:
        first = err.errors()[0]
        loc = first["loc"]
        names = list(cls.Params.model_fields)
        if first["type"] == "extra_forbidden":
            msg = f"unknown parameter for {spec.name}{did_you_mean(loc[-1], names)}; allowed: {allowed(['name', 'label'] + names)}"
        else:
            msg = first["msg"] + (f" (got {echo(first.get('input'))})" if "input" in first else "")
        raise UserError(msg, field=f"{where}.{loc_to_path(loc)}") from None


def _check_reconstruction(s: Scenario) -> None:
    _check_entries(s, "reconstruction", RECONSTRUCTIONS.load)


def _check_files(s: Scenario, base_dir: Path | None) -> None:
    if s.pilots.type == "mask" and s.pilots.mask_file:
        path = resolve_path(s.pilots.mask_file, base_dir)
        if not os.path.isfile(path):  # False for a path the OS cannot look up (too long, a NUL byte)
            raise UserError(f"file not found: {clip(path)}", field="pilots.mask_file")
        s.pilots.mask_file = str(path)
        read_mask(s.pilots.mask_file, s.mask_shape)


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file.

    Parameters
    ----------
    path : str | Path
        YAML file.
    overrides : list[str]
        ``dotted.key=value`` strings, applied in order before validation.
    """
    data = read_yaml(path)
    if data == {}:
        raise UserError("the scenario file is empty; a scenario needs at least its receivers (see scenarios/quickstart.yaml)",
                        source=str(path))
    overrides = list(overrides or [])
    data = apply_overrides(data, overrides, source=str(path))
    return validate_scenario(data, source=str(path), base_dir=Path(path).parent, overrides=overrides)


def with_value(s: Scenario, key: str, value: float) -> Scenario:
    """A copy of ``s`` with the dotted scalar ``key`` set to ``value``."""
    data = s.resolved()
    current = get_dotted(s, key)
    set_dotted(data, key, int(value) if isinstance(current, int) and not isinstance(current, bool) else value)
    return Scenario.model_validate(data)
