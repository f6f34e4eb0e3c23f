"""The ``srs_precoding`` section of a scenario (link.mode srs_precoding, Card C) and its rules."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from ..config import Strict
from ..errors import UserError
from ..links.rules import pilot_link_rules, unique_labels

__all__ = ["MOBILITY_KMH", "SRSPrecoding", "SRS_PRECODING_METRICS", "check"]

MOBILITY_KMH = {"minimal": 0.5, "low": 3.0, "high": 30.0}  # UE speed presets of link.mode srs_precoding (Card C)


class SRSPrecoding(Strict):
    """TDD downlink precoding from uplink SRS under channel ageing (link.mode
    srs_precoding, Card C): 3GPP UMa (Sionna), dual-polarised BS panel and UE; the UE
    sounds SRS with a comb over one sub-band per occasion (frequency hopping); the BS keeps
    the last ``history`` occasions and precodes the downlink ``delay_slots`` after the
    last one. The swept SNR is the uplink SNR per SRS RE and BS antenna; the channel of
    every realisation is scaled to unit mean power over its SRS history (known RSRP)."""

    mobility: Literal["minimal", "low", "high"] = Field("low", description="UE speed preset: minimal = 0.5 km/h (low uncertainty: at the default delays the sounded sub-bands keep a Clarke fading correlation of 0.99 down to 0.94), low = 3 km/h, high = 30 km/h (outdoor UEs).")
    ue_speed_kmh: Optional[float] = Field(None, ge=0, le=500, description="UE speed [km/h]; overrides the mobility preset.")
    carrier_frequency_ghz: float = Field(3.5, gt=0, le=100, description="Carrier frequency [GHz].")
    subcarrier_spacing_khz: Literal[15, 30, 60] = Field(30, description="Subcarrier spacing [kHz] (slot = 1 ms * 15 / scs).")
    num_prb: int = Field(48, ge=4, le=275, description="PRBs of the band; the precoder and the metrics are per PRB.")
    num_hops: int = Field(4, ge=1, le=16, description="Sub-bands sounded in turn (SRS frequency hopping); must divide num_prb.")
    comb: Literal[2, 4] = Field(4, description="SRS comb: every comb-th subcarrier; a PRB's 12 / comb SRS REs are averaged into one observation.")
    periodicity_slots: int = Field(20, ge=1, le=2560, description="Slots between two SRS occasions (20 slots = 10 ms at 30 kHz).")
    history: int = Field(8, ge=1, le=32, description="SRS occasions the BS keeps (L); occasion j sounds sub-band j mod num_hops, the last one sub-band num_hops - 1.")
    delay_slots: int = Field(40, ge=0, le=2560, description="Slots from the last SRS occasion to the downlink precoding time (40 slots = 20 ms at 30 kHz).")
    bs_rows: int = Field(2, ge=1, le=16, description="Rows of the BS panel (dual-polarised, 0.5 wavelength, 3GPP 38.901 element): 2 x rows x cols ports.")
    bs_cols: int = Field(2, ge=1, le=16, description="Columns of the BS panel.")
    ue_cols: int = Field(1, ge=1, le=4, description="Columns of the UE panel (one row, dual-polarised, omni element): 2 x cols ports.")
    indoor_probability: float = Field(0.0, ge=0, le=1, description="Share of indoor UEs in the UMa drop.")
    streams: int = Field(2, ge=1, le=8, description="Downlink streams Ns (equal power).")
    dl_snr_offset_db: float = Field(10.0, ge=-30, le=40, description="Downlink SNR = swept uplink SNR + this offset [dB] (the spectral efficiency uses it).")
    cfg_weight: float = Field(1.0, ge=0, le=1, description="Classifier-free guidance weight w of the diffusion receivers (1 = conditional, 0 = unconditional prior; sweepable: sweep.key srs_precoding.cfg_weight).")
    training_samples: int = Field(20000, ge=256, le=200000, description="Channels of the training set that data-driven receivers without a zoo model fit on (wiener covariances); drawn with training_seed.")
    training_seed: int = Field(0, ge=0, description="Seed of the training channels (0: the set the shipped models were trained on).")

    @property
    def speed_kmh(self) -> float:
        return MOBILITY_KMH[self.mobility] if self.ue_speed_kmh is None else float(self.ue_speed_kmh)

    def channel_key(self) -> dict:
        """What the channel distribution depends on (cache keys, model compatibility)."""
        keys = ("carrier_frequency_ghz", "subcarrier_spacing_khz", "num_prb", "num_hops", "comb", "periodicity_slots",
                "history", "delay_slots", "bs_rows", "bs_cols", "ue_cols", "indoor_probability")
        return {"ue_speed_kmh": self.speed_kmh, **{k: getattr(self, k) for k in keys}}


SRS_PRECODING_METRICS = ("se", "nmse", "gcs", "calibration")


def check(s) -> None:
    """The SRS precoding link's rules for scenario ``s`` (UserError naming the field)."""
    sec = s.srs_precoding
    pilot_link_rules(s, "the SRS precoding link", "precoders and channel estimates", SRS_PRECODING_METRICS)
    if sec.num_prb % sec.num_hops:
        raise UserError(f"{sec.num_prb} PRBs do not split into {sec.num_hops} hops; allowed: a divisor of num_prb",
                        field="srs_precoding.num_hops")
    if sec.streams > min(2 * sec.ue_cols, 2 * sec.bs_rows * sec.bs_cols):
        raise UserError(f"{sec.streams} streams need at least as many ports at both ends (UE {2 * sec.ue_cols}, "
                        f"BS {2 * sec.bs_rows * sec.bs_cols})", field="srs_precoding.streams")
    unique_labels(s.receivers, "receivers")
