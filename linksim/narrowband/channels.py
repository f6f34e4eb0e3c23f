"""Narrowband MIMO channels from Sionna's 3GPP CDL models (Card B's setting).

One channel is the frequency response at the first subcarrier (baseband frequency 0)
between a BS uniform linear array of ``Nt`` elements and a UE ULA of ``Nr`` elements
(half-wavelength spacing, isotropic elements, single vertical polarisation), downlink:
``H`` complex64 ``[Nr, Nt]``. Each draw is an independent CDL realisation (Sionna
randomises the ray coupling and phases of a profile; the cluster angles are the
profile's). Sionna's CDL powers sum to one, so entries have unit average power; the
training sets record their measured mean power (``power``).

Training sets and calibration channels are kept in linksim's cache
(:mod:`linksim.data.cache`) as ``.npy`` files keyed by the generator settings, the profile,
the size and the seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import tensorflow as tf
from sionna.phy import config
from sionna.phy.channel import cir_to_ofdm_channel
from sionna.phy.channel.tr38901 import CDL, PanelArray

from ..data.cache import keyed_path, load_or_make
from ..graph import graph_function

__all__ = ["PROFILES", "NarrowbandCDL", "cached_draws", "training_set"]

PROFILES = ("A", "B", "C", "D", "E")
SPEED_OF_LIGHT = 299792458.0
#: Version of the draw recipe (part of the cache key).
RECIPE = 1


@dataclass(frozen=True)
class NarrowbandCDL:
    """Settings of the channel model (paper defaults: 64 x 16 at 40 GHz, 30 ns, 5 Hz)."""

    num_tx: int = 64
    num_rx: int = 16
    carrier_frequency_ghz: float = 40.0
    delay_spread_ns: float = 30.0
    doppler_hz: float = 5.0

    def _array(self, n: int) -> PanelArray:
        return PanelArray(num_rows_per_panel=1, num_cols_per_panel=n, polarization="single",
                          polarization_type="V", antenna_pattern="omni",
                          carrier_frequency=self.carrier_frequency_ghz * 1e9, precision="single")

    def model(self, profile: str) -> CDL:
        """Sionna's CDL block of ``profile`` (UE speed from the Doppler frequency)."""
        speed = self.doppler_hz * SPEED_OF_LIGHT / (self.carrier_frequency_ghz * 1e9)
        return CDL(profile, self.delay_spread_ns * 1e-9, self.carrier_frequency_ghz * 1e9,
                   self._array(self.num_rx), self._array(self.num_tx), "downlink",
                   min_speed=speed, precision="single")

    def draw(self, profile: str, batch_size: int, cdl: CDL | None = None) -> tf.Tensor:
        """``batch_size`` channels of ``profile`` with Sionna's current random state
        (``sionna.phy.config.seed``): [batch_size, Nr, Nt] complex64."""
        cdl = cdl or self.model(profile)
        a, tau = cdl(batch_size, 1, 1.0)
        h = cir_to_ofdm_channel(tf.zeros([1], tf.float32), a, tau, normalize=False)
        return h[:, 0, :, 0, :, 0, 0]   # [B, num_rx=1, Nr, num_tx=1, Nt, time=1, freq=1]

    def draw_many(self, profile: str, num_samples: int, seed: int, batch: int = 200) -> np.ndarray:
        """``num_samples`` channels of ``profile`` from ``seed`` (deterministic; large sets
        under XLA, which draws them about four times faster once compiled)."""
        config.seed = int(seed)
        cdl = self.model(profile)
        batch = min(batch, num_samples)
        fn = graph_function(lambda: self.draw(profile, batch, cdl), jit_compile=num_samples >= 2000)
        out = [fn().numpy() for _ in range(-(-num_samples // batch))]
        return np.concatenate(out)[:num_samples]

    def key(self) -> dict:
        return asdict(self)


def cached_draws(model: NarrowbandCDL, profile: str, num_samples: int, seed: int, cache_dir=None) -> np.ndarray:
    """``model.draw_many(profile, num_samples, seed)``, kept in linksim's cache
    (:mod:`linksim.data.cache`; a draw is fixed by its settings, so a
    later process loads the same numbers instead of tracing Sionna's CDL again)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown CDL profile {profile!r}")
    spec = {"recipe": RECIPE, "profile": profile, "num_samples": int(num_samples), "seed": int(seed), **model.key()}

    def read(path):
        data = np.load(path, allow_pickle=False)
        return data if data.shape == (num_samples, model.num_rx, model.num_tx) else None

    return load_or_make(keyed_path(f"narrowband-cdl{profile}", spec, ".npy", cache_dir),
                        lambda: model.draw_many(profile, num_samples, seed), read,
                        lambda f, data: np.save(f, data, allow_pickle=False))


def training_set(model: NarrowbandCDL, profile: str, num_samples: int, seed: int, cache_dir=None) -> np.ndarray:
    """The cached training channels of ``profile``: [num_samples, Nr, Nt] complex64.

    A smaller set with the same seed is the first part of a larger one (the scarce
    sets are subsets of the full ones, as in the paper)."""
    return cached_draws(model, profile, max(num_samples, 10000), seed, cache_dir)[:num_samples]
