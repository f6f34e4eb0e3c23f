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
    model_validator,
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
from .links.registry import receiver_table
from .links.rules import unique_labels
from .metrics import IMAGE_METRICS, METRICS
from .narrowband.config import Narrowband
from .narrowband.config import check as check_narrowband
from .reconstruction import RECONSTRUCTIONS
from .semcom.config import Semantic
from .semcom.config import check as check_semantic
from .tdd.config import SRSPrecoding
from .tdd.config import check as check_srs_precoding

NOISE_KEYS = ("ebno_db", "snr_db")


# --------------------------------------------------------------------------- sections
class Carrier(Strict):
    """OFDM numerology of one slot."""

    carrier_frequency_hz: float = Field(3.5e9, gt=0, le=100e9, description="Carrier frequency [Hz].")
    subcarrier_spacing_khz: Literal[15, 30, 60, 120] = Field(30, description="Subcarrier spacing [kHz].")
    num_prbs: Optional[int] = Field(None, ge=1, le=275, description="Number of PRBs (12 subcarriers each). Give this or fft_size; default 6.")
    fft_size: Optional[int] = Field(None, ge=12, le=4096, description="Number of subcarriers, instead of num_prbs.")
    num_ofdm_symbols: int = Field(14, ge=2, le=14, description="OFDM symbols per slot.")
    cyclic_prefix: Literal["normal", "extended"] = Field("normal", description="Cyclic prefix type (sets the CP length; the frequency-domain channel assumes the CP covers the delay spread).")

    @model_validator(mode="after")
    def _one_size(self):
        if self.num_prbs is not None and self.fft_size is not None:
            raise ValueError("give either num_prbs or fft_size, not both")
        if self.num_prbs is None and self.fft_size is None:
            self.num_prbs = 6
        return self

    @property
    def num_subcarriers(self) -> int:
        return self.fft_size if self.fft_size is not None else 12 * self.num_prbs

    @property
    def cyclic_prefix_length(self) -> int:
        ratio = 144 / 2048 if self.cyclic_prefix == "normal" else 512 / 2048
        return int(round(ratio * self.num_subcarriers))


class Array(Strict):
    """A uniform planar antenna array (3GPP TR 38.901 panel)."""

    rows: int = Field(1, ge=1, le=16, description="Rows of antenna elements.")
    cols: int = Field(1, ge=1, le=64, description="Columns of antenna elements.")
    polarization: Literal["single", "dual"] = Field("single", description="single (V) or dual (cross-polarised) elements.")
    pattern: Literal["omni", "38.901"] = Field("omni", description="Element radiation pattern.")

    @field_validator("pattern", mode="before")
    @classmethod
    def _pattern_as_text(cls, v):
        # YAML reads an unquoted 38.901 as a number
        return "38.901" if isinstance(v, float) and abs(v - 38.901) < 1e-9 else v

    @property
    def num_ant(self) -> int:
        return self.rows * self.cols * (2 if self.polarization == "dual" else 1)


class Antennas(Strict):
    bs: Array = Field(default_factory=lambda: Array(rows=1, cols=4, pattern="38.901"), description="Base-station array.")
    ue: Array = Field(default_factory=Array, description="User-equipment array.")


class Channel(Strict):
    """Propagation channel. Channels are normalised to unit average gain per antenna pair
    unless ``pathloss`` is on."""

    model: Literal["awgn", "rayleigh", "tdl", "cdl", "uma", "umi", "rma"] = Field("cdl", description="Channel model.")
    direction: Literal["uplink", "downlink"] = Field("uplink", description="Link direction (uplink: UE transmits, BS receives).")
    profile: Literal["A", "B", "C", "D", "E"] = Field("C", description="TDL/CDL profile.")
    delay_spread_ns: float = Field(100.0, gt=0, le=10000, description="RMS delay spread for TDL/CDL [ns].")
    ue_speed_kmh: float = Field(3.0, ge=0, le=500, description="UE speed [km/h] (TDL/CDL/UMa/UMi/RMa).")
    correlation_bs: float = Field(0.0, ge=0, lt=1, description="Exponential spatial correlation coefficient at the BS (rayleigh, tdl).")
    correlation_ue: float = Field(0.0, ge=0, lt=1, description="Exponential spatial correlation coefficient at the UE (rayleigh, tdl).")
    pathloss: bool = Field(False, description="UMa/UMi/RMa: keep path loss and shadow fading. The SNR then refers to a link with reference_pathloss_db.")
    reference_pathloss_db: float = Field(110.0, ge=0, le=250, description="With pathloss on: the path loss at which the link has the nominal SNR [dB].")
    indoor_probability: float = Field(0.0, ge=0, le=1, description="UMa/UMi/RMa: probability that a dropped UE is indoor.")
    o2i_model: Literal["low", "high"] = Field("low", description="UMa/UMi: outdoor-to-indoor loss model.")
    mixture: Optional[dict[str, list]] = Field(None, description="Mixture of environments: channel keys mapped to lists of values; every combination is one component (e.g. {profile: [A, B], delay_spread_ns: [30, 300]} gives 4). Each batch holds all components in equal shares, and genie receivers know which component each realisation came from.")

    def components(self) -> list["Channel"]:
        """The mixture's components (one: itself, without a mixture)."""
        if not self.mixture:
            return [self]
        import itertools

        keys = list(self.mixture)
        base = self.model_dump(exclude={"mixture"})
        out = []
        for combo in itertools.product(*(self.mixture[k] for k in keys)):
            out.append(Channel.model_validate({**base, **dict(zip(keys, combo))}))
        return out

    @model_validator(mode="after")
    def _check_mixture(self):
        if not self.mixture:
            return self
        allowed_keys = [k for k in Channel.model_fields if k not in ("mixture", "direction")]
        for k, values in self.mixture.items():
            if k not in allowed_keys:
                raise ValueError(f"mixture key {echo(k)} is not a channel key{did_you_mean(k, allowed_keys)}; allowed: {allowed(allowed_keys)}")
            if not values:
                raise ValueError(f"mixture.{k} needs at least one value")
        try:
            self.components()  # every combination must itself be a valid channel
        except ValidationError as err:
            first = err.errors()[0]
            raise ValueError(f"mixture.{loc_to_path(first['loc'])}: {first['msg']}") from None
        return self


class SRS(Strict):
    """Sounding reference signal timing (frequency comb set in ``pilots.comb``)."""

    num_hops: int = Field(1, ge=1, le=16, description="Sub-bands sounded in turn (frequency hopping); 1 = wideband SRS.")
    periodicity_slots: int = Field(1, ge=1, le=80, description="Slots between two SRS occasions.")
    symbol: int = Field(13, ge=0, le=13, description="OFDM symbol carrying the SRS in its slot.")
    eval_delay_slots: int = Field(0, ge=0, le=80, description="Slots between the last SRS occasion and the time the estimate is used (the NMSE is measured there).")


class Pilots(Strict):
    """Pilot layout: DMRS-like symbols with a frequency comb, Sionna's Kronecker pattern,
    an arbitrary mask from a .npy file, or SRS (uplink sounding)."""

    type: Literal["dmrs", "kronecker", "mask", "srs"] = Field("dmrs", description="Pilot pattern type.")
    symbols: list[int] = Field(default_factory=lambda: [2, 11], description="OFDM symbols carrying pilots (dmrs, kronecker).")
    comb: Literal[1, 2, 4] = Field(1, description="Frequency comb: pilots on every comb-th subcarrier (dmrs; srs needs 2 or 4). Streams use successive comb offsets.")
    comb_offset: int = Field(0, ge=0, le=3, description="First pilot subcarrier of stream 0 (< comb).")
    mask_file: Optional[str] = Field(None, description="type mask: .npy boolean array [num_streams, num_ofdm_symbols, num_subcarriers] (path relative to the scenario file).")
    srs: SRS = Field(default_factory=SRS, description="SRS timing (type srs).")


class Interference(Strict):
    """A narrowband interferer: extra Gaussian noise on a few subcarriers (every OFDM
    symbol, every receive antenna), so the error power of a first estimate differs
    between elements by construction."""

    subcarriers: list[int] = Field(default_factory=list, description="Hit subcarriers (indices 0 .. num_subcarriers-1); empty: no interferer.")
    inr_db: float = Field(20.0, ge=-30, le=60, description="Interference-to-noise ratio on a hit subcarrier [dB] (it follows the noise level of the sweep).")
    known: bool = Field(True, description="true: receivers and detector get the per-subcarrier noise-plus-interference variance; false: only its mean over the band (white-noise assumption).")


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


class Mimo(Strict):
    num_streams: int = Field(1, ge=1, le=8, description="Spatial streams (layers).")
    precoder: Literal["none", "svd", "zf", "rzf"] = Field("none", description="Transmit precoder, computed from the true channel (genie CSIT). none: stream i on tx antenna i (antennas beyond num_streams stay silent).")
    rzf_alpha: float = Field(0.1, gt=0, le=100, description="Regularisation of the rzf precoder.")
    detector: Literal["lmmse", "zf", "mf", "kbest"] = Field("lmmse", description="MIMO detector (Sionna's).")
    kbest_k: int = Field(16, ge=1, le=256, description="Candidate list size of the kbest detector.")


class Source(Strict):
    """What the link sends in its information bits."""

    type: Literal["bits", "digits"] = Field("bits", description="bits: uniform random bits; digits: scikit-learn's bundled 8x8 hand-written digits, 8 bits per pixel (MSB first), packed back to back into the information bits of a batch (the rest random); needs pip install -e \".[images]\".")
    split: Literal["test", "train"] = Field("test", description="digits: the fixed split that is sent (train: the images the reconstruction models learn from).")
    pass_correct_blocks: bool = Field(True, description="digits with reconstruction stages: the decoder reports each block's success flag (tb: the transport block CRC; codeword: a zero LDPC syndrome; uncoded: none), and every pixel whose bits all come from blocks that passed is returned as received, bit for bit, by every stage (a batch that passed entirely skips the stages). false: the stages work on every pixel, correct or not (the setting of the Card D paper).")


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

    @property
    def is_coded(self) -> bool:
        return self.link.mode in ("codeword", "tb")

    @property
    def row_labels(self) -> list[str]:
        """The ``receiver`` column of metrics.csv: the receivers' labels, or
        ``receiver/stage`` for every receiver and reconstruction stage."""
        if self.link.mode == "semantic":
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
    """Cross-field rules. Raises UserError(field=...) on the first violation."""
    ch, pil, link, mimo = s.channel, s.pilots, s.link, s.mimo
    n_tx, n_rx = s.tx_array.num_ant, s.rx_array.num_ant
    if link.mode == "semantic":
        check_semantic(s)
        return
    if link.mode == "narrowband":
        check_narrowband(s)
        return
    if link.mode == "srs_precoding":
        check_srs_precoding(s)
        return
    if not link.ofdm:
        if ch.model not in ("awgn", "rayleigh"):
            raise UserError(f"a link without OFDM needs a flat channel; allowed: awgn, rayleigh (got {ch.model})", field="channel.model")
        if n_tx != 1 or n_rx != 1:
            raise UserError("a link without OFDM is single-antenna: set antennas.bs and antennas.ue to 1 element", field="antennas")
        if link.mode in ("tb", "sounding"):
            raise UserError("a link without OFDM supports mode codeword or uncoded", field="link.mode")
        n = link.codeword_length - link.codeword_length % link.bits_per_symbol
        if link.mode == "codeword" and round(link.coderate * n) < n / 5:
            raise UserError(f"5G LDPC needs k >= n/5: {round(link.coderate * n)} information bits of n = {n} "
                            f"(raise the code rate to at least 0.2, or codeword_length to a multiple of 5 x "
                            f"{link.bits_per_symbol})", field="link.coderate")
        bad = [r.name for r in s.receivers if r.name != "perfect"]
        if bad:
            raise UserError(f"a link without OFDM has no pilots; allowed receivers: perfect (got {bad[0]})", field="receivers")
        bad = [m for m in s.metrics if m in ("nmse", "se", "calibration")]
        if bad:
            raise UserError(f"nmse, se and calibration need an OFDM link; allowed here: ber, bler, goodput (got {bad[0]})", field="metrics")
    rt = s.runtime
    if rt.executor == "ray" and rt.device == "gpu" and not rt.gpus_per_worker:
        raise UserError("ray workers see GPUs only when they ask for them: set runtime.gpus_per_worker > 0, "
                        "or runtime.device: auto or cpu", field="runtime.device")
    if mimo.num_streams > min(n_tx, n_rx):
        raise UserError(f"{mimo.num_streams} streams need at least as many antennas at both ends (tx {n_tx}, rx {n_rx})", field="mimo.num_streams")
    if mimo.precoder in ("zf", "rzf") and mimo.num_streams != n_rx:
        raise UserError(f"zf/rzf precoding sends one stream per receive antenna: num_streams must be {n_rx}", field="mimo.num_streams")
    if ch.model == "awgn" and link.ofdm and n_rx < n_tx:
        raise UserError("the awgn channel connects tx antenna i to rx antenna i: needs rx antennas >= tx antennas", field="channel.model")
    # pilots
    if pil.type == "srs":
        if ch.direction != "uplink":
            raise UserError("SRS is sent by the UE: it needs channel.direction: uplink", field="pilots.type")
        if pil.comb not in (2, 4):
            raise UserError(f"SRS uses comb 2 or 4 (got {pil.comb})", field="pilots.comb")
        if link.mode != "sounding":
            raise UserError("SRS pilots are for channel sounding: set link.mode: sounding", field="link.mode")
        if s.carrier.num_subcarriers % (pil.srs.num_hops * pil.comb):
            raise UserError(f"{s.carrier.num_subcarriers} subcarriers do not split into {pil.srs.num_hops} hops of comb {pil.comb}", field="pilots.srs.num_hops")
        if pil.srs.symbol >= s.carrier.num_ofdm_symbols:
            raise UserError(f"must be < num_ofdm_symbols ({s.carrier.num_ofdm_symbols})", field="pilots.srs.symbol")
    elif link.mode == "sounding":
        raise UserError("sounding mode needs pilots.type: srs", field="link.mode")
    if link.mode == "sounding":
        bad = [m for m in s.metrics if m != "nmse"]
        if bad:
            raise UserError(f"sounding measures the channel estimate only; allowed metrics: nmse (got {bad[0]})", field="metrics")
        if mimo.num_streams != 1 or mimo.precoder != "none":
            raise UserError("sounding uses one SRS port per UE antenna without precoding: needs a single-antenna UE", field="mimo.num_streams")
    if link.ofdm and pil.type in ("dmrs", "kronecker"):
        for i, sym in enumerate(pil.symbols):
            if not 0 <= sym < s.carrier.num_ofdm_symbols:
                raise UserError(f"pilot symbol {sym} outside 0..{s.carrier.num_ofdm_symbols - 1}", field=f"pilots.symbols[{i}]")
        if len(set(pil.symbols)) != len(pil.symbols) or not pil.symbols:
            raise UserError("pilot symbols must be distinct and non-empty", field="pilots.symbols")
        if len(pil.symbols) >= s.carrier.num_ofdm_symbols:
            raise UserError("no OFDM symbol left for data", field="pilots.symbols")
    if pil.comb_offset >= pil.comb:
        raise UserError(f"must be smaller than comb ({pil.comb})", field="pilots.comb_offset")
    if pil.type == "dmrs" and pil.comb > 1 and mimo.num_streams > pil.comb:
        raise UserError(f"streams are separated by comb offsets: comb {pil.comb} carries at most {pil.comb} streams", field="pilots.comb")
    if pil.type == "mask" and not pil.mask_file:
        raise UserError("pilots.type mask needs a mask_file (.npy)", field="pilots.mask_file")
    hit = s.interference.subcarriers
    if hit:
        if not link.ofdm or link.mode == "sounding":
            raise UserError("a narrowband interferer needs an OFDM data link (link.ofdm: true, mode codeword, tb or uncoded)", field="interference.subcarriers")
        bad = [k for k in hit if not 0 <= k < s.carrier.num_subcarriers]
        if bad:
            raise UserError(f"subcarrier {bad[0]} outside 0..{s.carrier.num_subcarriers - 1}", field="interference.subcarriers")
        if len(set(hit)) != len(hit):
            raise UserError("subcarriers must be distinct", field="interference.subcarriers")
        if "se" in s.metrics:
            raise UserError("the spectral efficiency assumes white noise; allowed metrics with an interferer: ber, bler, goodput, nmse, calibration", field="metrics")
    if link.mode == "uncoded" and "bler" in s.metrics:
        raise UserError("an uncoded link has no blocks; allowed metrics: ber, nmse, se, calibration", field="metrics")
    # sweep (the swept key and the noise level: _check_sweep)
    sw = s.sweep
    if link.mode in ("uncoded", "sounding") and (sw.key == "ebno_db" or sw.ebno_db is not None):
        raise UserError("Eb/N0 needs coded information bits: use snr_db for uncoded and sounding links", field="sweep.key")
    k = len(ch.components())
    if k > 1 and sw.batch_size % k:
        raise UserError(f"every batch holds all {k} mixture components equally: batch_size must be a multiple of {k} (got {sw.batch_size})", field="sweep.batch_size")
    for section in ("receivers", "reconstruction"):
        unique_labels(getattr(s, section), section)
    if "accuracy" in s.metrics:
        raise UserError(f"accuracy scores the images a semantic system reconstructs (link.mode semantic); allowed "
                        f"metrics here: {allowed([m for m in METRICS if m != 'accuracy'])}", field="metrics")
    image_metrics = [m for m in s.metrics if m in IMAGE_METRICS]
    if s.source.type == "bits":
        if image_metrics:
            raise UserError(f"{image_metrics[0]} measures images: set source.type: digits, or allowed metrics here: "
                            f"{allowed([m for m in METRICS if m not in IMAGE_METRICS])}", field="metrics")
        if s.reconstruction:
            raise UserError("reconstruction stages work on images: set source.type: digits, or remove reconstruction",
                            field="reconstruction")
    elif link.mode == "sounding":
        raise UserError("a sounding link sends no data; allowed link.mode with an image source: codeword, tb, uncoded",
                        field="source.type")


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
    table = receiver_table(s.link.mode)
    _check_entries(s, "receivers", lambda name: table.load(name, search=[base_dir] if base_dir else None))


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
