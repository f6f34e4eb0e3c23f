"""The ``narrowband`` section of a scenario (link.mode narrowband, Card B) and its rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config import Strict
from ..errors import UserError, allowed, clip, echo
from ..links.rules import pilot_link_rules, unique_labels

__all__ = ["CDLProfile", "Narrowband", "NARROWBAND_METRICS", "check"]

CDLProfile = Literal["A", "B", "C", "D", "E"]


class Narrowband(Strict):
    """Narrowband massive-MIMO pilot link (link.mode narrowband, Card B): one subcarrier of
    Sionna's CDL channel between a BS ULA (num_tx) and a UE ULA (num_rx), downlink; random
    unit-power QPSK pilots X (num_tx x round(pilot_density x num_tx), one draw per
    scenario seed), Y = H X + N at SNR = 1 / noise variance."""

    num_tx: int = Field(64, ge=2, le=1024, description="BS ULA elements Nt (half-wavelength, isotropic).")
    num_rx: int = Field(16, ge=1, le=256, description="UE ULA elements Nr.")
    carrier_frequency_ghz: float = Field(40.0, gt=0, le=100, description="Carrier frequency [GHz].")
    delay_spread_ns: float = Field(30.0, gt=0, le=3000, description="CDL delay spread [ns].")
    doppler_hz: float = Field(5.0, ge=0, le=10000, description="Maximum Doppler [Hz] (sets the UE speed).")
    pilot_density: float = Field(0.5, gt=0, le=2, description="rho = Np / Nt (sweepable); < 1 is under-determined.")
    test_profile: CDLProfile = Field("A", description="CDL profile of the realisations under test (one run per profile: --grid narrowband.test_profile=A,B,C,D).")
    profiles: list[CDLProfile] = Field(default_factory=lambda: ["A", "B", "C", "D"], min_length=1, description="The environments the receivers know: experts, genie covariances and the pooled training set.")
    training_samples: dict[str, int] = Field(default_factory=dict, description="Training channels per profile (default 10000 each); e.g. {D: 1000} makes CDL-D data-scarce. Data-driven receivers fit on these sets; the diffusion models of the zoo were trained on the same sets.")
    training_seed: int = Field(0, ge=0, description="Seed of the training channels (0: the sets the shipped models were trained on).")
    streams: int = Field(4, ge=1, le=64, description="Streams of the SVD precoder whose spectral efficiency (metric se) is measured with the true channel, equal power.")

    def samples(self, profile: str) -> int:
        return int(self.training_samples.get(profile, 10000))

    def channel_key(self) -> dict:
        """The settings of :class:`linksim.narrowband.channels.NarrowbandCDL`."""
        return {k: getattr(self, k) for k in ("num_tx", "num_rx", "carrier_frequency_ghz", "delay_spread_ns", "doppler_hz")}

    @property
    def num_pilots(self) -> int:
        return max(1, int(round(self.pilot_density * self.num_tx)))


NARROWBAND_METRICS = ("nmse", "se", "calibration")


def check(s) -> None:
    """The narrowband link's rules for scenario ``s`` (UserError naming the field)."""
    nb = s.narrowband
    pilot_link_rules(s, "the narrowband pilot link", "channel estimates", NARROWBAND_METRICS)
    for p, n in nb.training_samples.items():
        if p not in nb.profiles:
            raise UserError(f"{echo(p)} is not in narrowband.profiles; allowed: {allowed(nb.profiles)}", field=f"narrowband.training_samples.{clip(p)}")
        if not 64 <= n <= 10000:
            raise UserError(f"{n} training channels; allowed: 64 .. 10000", field=f"narrowband.training_samples.{p}")
    if len(set(nb.profiles)) != len(nb.profiles):
        raise UserError("profiles must be distinct", field="narrowband.profiles")
    if nb.streams > min(nb.num_tx, nb.num_rx):
        raise UserError(f"{nb.streams} streams need at least as many antennas at both ends (num_tx {nb.num_tx}, num_rx {nb.num_rx})",
                        field="narrowband.streams")
    unique_labels(s.receivers, "receivers")
