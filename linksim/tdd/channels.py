"""Channels of the SRS precoding link: 3GPP UMa (Sionna) between a dual-polarised UE and
a dual-polarised BS panel, sampled at the SRS occasions and at the precoding time.

One realisation gives
- ``obs``    [L, P, Nu, Nb]: per occasion, the channel of each PRB of the sub-band it
  sounds, averaged over the PRB's SRS REs (comb), and
- ``target`` [F, Nu, Nb]: the channel of every PRB (its middle subcarrier) at the
  precoding time, ``delay_slots`` after the last occasion,
both in downlink orientation and scaled so that the mean power of ``obs`` is 1 (the BS
knows the UE's long-term received power). L = history, P = PRBs per sub-band,
F = num_prb, Nu = UE ports, Nb = BS ports.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy.channel import cir_to_ofdm_channel, gen_single_sector_topology
from sionna.phy.channel.tr38901 import AntennaArray, UMa

from ..data.cache import keyed_path, load_or_make
from ..data.srs import SUBCARRIERS_PER_PRB, SRSGeometry

RECIPE = 1  # bump when the way channels are drawn changes (invalidates the cache)


def srs_geometry(sec) -> SRSGeometry:
    """The SRS layout of an ``srs_precoding`` section (comb offset 0)."""
    return SRSGeometry(SUBCARRIERS_PER_PRB * sec.num_prb, sec.comb, sec.num_hops, sec.periodicity_slots, sec.history,
                       sec.delay_slots, 0, sec.subcarrier_spacing_khz)


def data_shape(sec) -> tuple[int, int, int, int, int]:
    """``(L, P, F, Nu, Nb)`` of an ``srs_precoding`` section: occasions kept, PRBs per
    sub-band, PRBs of the band, UE ports, BS ports (what a model is trained for)."""
    geo = srs_geometry(sec)
    return (geo.history, geo.prb_per_hop, geo.num_prb, 2 * sec.ue_cols, 2 * sec.bs_rows * sec.bs_cols)


def panel(rows: int, cols: int, pattern: str, carrier_frequency: float) -> AntennaArray:
    """A dual-polarised (cross) 3GPP panel with half-wavelength spacing."""
    return AntennaArray(num_rows=rows, num_cols=cols, polarization="dual", polarization_type="cross",
                        antenna_pattern=pattern, carrier_frequency=carrier_frequency)


class SRSChannelSource:
    """Draws realisations (see the module docstring) from Sionna's UMa model.

    Parameters
    ----------
    sec : the scenario's ``srs_precoding`` section (its :meth:`channel_key` fields).

    ``draw(n, seed)`` returns numpy ``(obs, target)``, complex64.
    """

    def __init__(self, sec):
        self.key = dict(sec.channel_key())
        self.geo = srs_geometry(sec)
        fc = sec.carrier_frequency_ghz * 1e9
        self.shape = data_shape(sec)
        self.num_ue, self.num_bs = self.shape[3:]
        self._speed = sec.speed_kmh / 3.6
        self._indoor = sec.indoor_probability
        self._model = UMa(carrier_frequency=fc, o2i_model="low",
                          ut_array=panel(1, sec.ue_cols, "omni", fc), bs_array=panel(sec.bs_rows, sec.bs_cols, "38.901", fc),
                          direction="uplink", enable_pathloss=False, enable_shadow_fading=False)
        g = self.geo
        sc = np.concatenate([g.srs_subcarriers().reshape(-1), g.target_subcarriers()])
        centre = 6 * g.num_prb
        self._freqs = tf.constant((sc - centre) * g.subcarrier_spacing_khz * 1e3, tf.float32)
        self._step, self._num_t, self._occ = g.time_grid()

    def batch(self, n: int):
        """``n`` realisations from Sionna's current random state: numpy ``(obs, target)``."""
        g = self.geo
        topology = gen_single_sector_topology(n, 1, "uma", min_ut_velocity=self._speed, max_ut_velocity=self._speed,
                                              indoor_probability=self._indoor)
        self._model.set_topology(*topology)
        a, tau = self._model(self._num_t, 1.0 / (self._step * g.slot_s))
        h = cir_to_ofdm_channel(self._freqs, a, tau, normalize=False)   # [n, 1, Nb, 1, Nu, T, Fsc]
        h = tf.transpose(h[:, 0, :, 0], [0, 3, 4, 2, 1])                # [n, T, Fsc, Nu, Nb] (downlink)
        per = 12 // g.comb
        nsrs = g.num_prb * per
        srs = tf.reshape(h[:, :, :nsrs], [n, self._num_t, g.num_prb, per, self.num_ue, self.num_bs])
        srs = tf.reduce_mean(srs, axis=3)                               # [n, T, F, Nu, Nb]
        obs = tf.stack([tf.gather(srs[:, t], g.prbs_of(j), axis=1) for j, t in enumerate(self._occ)], axis=1)
        target = h[:, -1, nsrs:]                                        # [n, F, Nu, Nb]
        power = tf.reduce_mean(tf.abs(obs) ** 2, axis=[1, 2, 3, 4], keepdims=True)
        scale = tf.cast(tf.math.rsqrt(tf.maximum(power, 1e-30)), obs.dtype)
        return (obs * scale).numpy(), (target * scale[..., 0]).numpy()

    def draw(self, n: int, seed: int, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """``n`` realisations drawn with Sionna's generator seeded by ``seed``."""
        from sionna.phy import config

        state = config.seed
        config.seed = int(seed)
        try:
            parts = [self.batch(min(batch, n - i)) for i in range(0, n, batch)]
        finally:
            if state is not None:
                config.seed = state
        return (np.concatenate([p[0] for p in parts]).astype(np.complex64),
                np.concatenate([p[1] for p in parts]).astype(np.complex64))


def channel_set(sec, num_samples: int, seed: int, cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """The cached channel set ``(obs, target)`` of the section's channel distribution
    (drawn once per key and seed; a smaller set is the first part of a larger one drawn
    with the same seed only when both are drawn at the same size)."""
    spec = {"recipe": RECIPE, "num_samples": int(num_samples), "seed": int(seed), **sec.channel_key()}

    def read(path):
        with np.load(path, allow_pickle=False) as f:
            return f["obs"], f["target"]

    return load_or_make(keyed_path("srs-precoding", spec, ".npz", cache_dir),
                        lambda: SRSChannelSource(sec).draw(num_samples, seed), read,
                        lambda f, pair: np.savez(f, obs=pair[0], target=pair[1]))
