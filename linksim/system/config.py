"""The OFDM family's scenario sections (carrier, antennas, channel, pilots, interference,
mimo, source) and its rules (link.mode codeword, tb, uncoded, sounding; a flat link
without OFDM). The semantic link reads ``channel`` and ``source`` too."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, ValidationError, field_validator, model_validator

from ..config import Strict, loc_to_path
from ..errors import UserError, allowed, did_you_mean, echo
from ..links.rules import unique_labels
from ..metrics import IMAGE_METRICS, METRICS

__all__ = ["Carrier", "Array", "Antennas", "Channel", "SRS", "Pilots", "Interference", "Mimo", "Source", "check"]


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


def check(s) -> None:
    """The OFDM family's rules for scenario ``s`` (UserError naming the field)."""
    ch, pil, link, mimo = s.channel, s.pilots, s.link, s.mimo
    n_tx, n_rx = s.tx_array.num_ant, s.rx_array.num_ant
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
