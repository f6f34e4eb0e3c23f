"""Channel generators: frequency responses H[f, t] from Sionna's channel models.

Every generator returns ``h`` of shape
``[batch, num_rx=1, num_rx_ant, num_tx=1, num_tx_ant, num_time_samples, num_subcarriers]``
(complex) sampled at ``num_time_samples`` instants spaced ``1/sampling_frequency`` apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf
from sionna.phy import Block
from sionna.phy.channel import (
    KroneckerModel,
    RayleighBlockFading,
    cir_to_ofdm_channel,
    exp_corr_mat,
    gen_single_sector_topology,
    subcarrier_frequencies,
)
from sionna.phy.channel.tr38901 import CDL, TDL, AntennaArray, RMa, UMa, UMi
from sionna.phy.channel.tr38901.rays import Rays

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario
    from .config import Array


_TOPOLOGY = {"uma": UMa, "umi": UMi, "rma": RMa}
#: Channel models with 38.901 drops (a topology per realisation)
TOPOLOGY_MODELS = tuple(_TOPOLOGY)


def antenna_array(a: Array, carrier_frequency: float, precision=None) -> AntennaArray:
    """A 3GPP TR 38.901 panel from the scenario's array description."""
    return AntennaArray(num_rows=a.rows, num_cols=a.cols, polarization=a.polarization,
                        polarization_type="V" if a.polarization == "single" else "cross",
                        antenna_pattern=a.pattern, carrier_frequency=carrier_frequency,
                        precision=precision)


class ComponentChannel(Block):
    """Draws channel frequency responses for one channel section (one mixture component).

    Parameters
    ----------
    scenario : Scenario
    precision : "single" | "double" | None

    Input
    -----
    batch_size : int
    num_time_samples : int
    sampling_frequency : float
        Rate of the time samples [Hz] (1/OFDM-symbol duration for a slot).

    Output
    ------
    h : [batch_size, 1, num_rx_ant, 1, num_tx_ant, num_time_samples, num_subcarriers], tf.complex
    """

    def __init__(self, scenario: Scenario, channel=None, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        s = scenario
        ch, c = channel or s.channel, s.carrier
        self._model_name = ch.model
        self._num_rx_ant = s.rx_array.num_ant
        self._num_tx_ant = s.tx_array.num_ant
        self._frequencies = subcarrier_frequencies(c.num_subcarriers, c.subcarrier_spacing_khz * 1e3,
                                                   precision=self.precision)
        self._normalize = not (ch.model in _TOPOLOGY and ch.pathloss)
        self._gain = 10 ** (ch.reference_pathloss_db / 20) if not self._normalize else 1.0
        speed = ch.ue_speed_kmh / 3.6
        fc = c.carrier_frequency_hz
        self._corr = None
        if ch.model in ("rayleigh", "tdl") and (ch.correlation_bs > 0 or ch.correlation_ue > 0):
            r_bs = exp_corr_mat(ch.correlation_bs, s.antennas.bs.num_ant, precision=self.precision)
            r_ue = exp_corr_mat(ch.correlation_ue, s.antennas.ue.num_ant, precision=self.precision)
            r_rx, r_tx = (r_bs, r_ue) if ch.direction == "uplink" else (r_ue, r_bs)
            self._corr = KroneckerModel(r_tx=r_tx, r_rx=r_rx)
        if ch.model == "rayleigh":
            self._model = RayleighBlockFading(1, self._num_rx_ant, 1, self._num_tx_ant, precision=self.precision)
        elif ch.model == "tdl":
            self._model = TDL(ch.profile, ch.delay_spread_ns * 1e-9, fc, min_speed=speed, max_speed=speed,
                              num_rx_ant=self._num_rx_ant, num_tx_ant=self._num_tx_ant, precision=self.precision)
        elif ch.model == "cdl":
            self._model = CDL(ch.profile, ch.delay_spread_ns * 1e-9, fc,
                              antenna_array(s.antennas.ue, fc, self.precision),
                              antenna_array(s.antennas.bs, fc, self.precision),
                              ch.direction, min_speed=speed, max_speed=speed, precision=self.precision)
        elif ch.model in _TOPOLOGY:
            kwargs = dict(carrier_frequency=fc, ut_array=antenna_array(s.antennas.ue, fc, self.precision),
                          bs_array=antenna_array(s.antennas.bs, fc, self.precision),
                          direction=ch.direction, enable_pathloss=ch.pathloss,
                          enable_shadow_fading=ch.pathloss, precision=self.precision)
            if ch.model != "rma":
                kwargs["o2i_model"] = ch.o2i_model
            self._model = _TOPOLOGY[ch.model](**kwargs)
            self._speed = speed
            self._indoor = ch.indoor_probability
        else:  # awgn
            self._model = None

    @property
    def has_time_variation(self) -> bool:
        return self._model_name not in ("awgn", "rayleigh")

    def _cir(self, batch_size, num_time_samples, sampling_frequency):
        if self._model_name in _TOPOLOGY:
            self._new_drops(batch_size)
            return self._model(num_time_samples, sampling_frequency)
        return self._model(batch_size, num_time_samples, sampling_frequency)

    def phase_draws(self, batch_size, num_draws, num_time_samples, sampling_frequency):
        """Small-scale fading of fixed drops (38.901 UMa/UMi/RMa only): ``batch_size`` new
        drops (positions, LoS state, large-scale parameters), their clusters and rays
        (delays, angles, powers, cross-polarisation ratios) drawn once, then ``num_draws``
        channels of each drop with only the random ray phases redrawn (TR 38.901 step 10).
        The draws of one drop share its second-order statistics; their sample covariance
        is that drop's covariance (what a genie estimator knowing the drop would use).

        Output
        ------
        h : [num_draws, batch_size, 1, num_rx_ant, 1, num_tx_ant, num_time_samples, num_subcarriers], tf.complex
        """
        if self._model_name not in _TOPOLOGY:
            raise ValueError(f"phase_draws needs a 38.901 topology model ({sorted(_TOPOLOGY)}), "
                             f"not {self._model_name!r}")
        model = self._model
        self._new_drops(batch_size)
        sampler = model._ray_sampler
        r = sampler(model._lsp)
        # the model transposes the rays' fields in place for the uplink: hand it a copy
        model._ray_sampler = lambda lsp: Rays(r.delays, r.powers, r.aoa, r.aod, r.zoa, r.zod, r.xpr)
        try:
            return tf.map_fn(lambda _: self._frequency_response(*model(num_time_samples, sampling_frequency)),
                             tf.range(int(num_draws)), fn_output_signature=self.cdtype)
        finally:
            model._ray_sampler = sampler

    def _new_drops(self, batch_size):
        self._model.set_topology(*gen_single_sector_topology(
            batch_size, 1, self._model_name, min_ut_velocity=self._speed, max_ut_velocity=self._speed,
            indoor_probability=self._indoor, precision=self.precision))

    def _frequency_response(self, a, tau):
        h = cir_to_ofdm_channel(self._frequencies, a, tau, normalize=self._normalize)
        if self._gain != 1.0:
            h = h * tf.cast(self._gain, h.dtype)
        return h

    def call(self, batch_size, num_time_samples, sampling_frequency):
        shape = [batch_size, 1, self._num_rx_ant, 1, self._num_tx_ant, num_time_samples,
                 int(self._frequencies.shape[0])]
        if self._model is None:
            eye = tf.eye(self._num_rx_ant, self._num_tx_ant, dtype=self.cdtype)
            h = eye[None, None, :, None, :, None, None]
            return tf.broadcast_to(h, shape)
        h = self._frequency_response(*self._cir(batch_size, num_time_samples, sampling_frequency))
        if self._corr is not None:
            # [..., rx_ant, tx_ant] matrices for the Kronecker model (a scalar gain commutes)
            perm = [0, 1, 3, 5, 6, 2, 4]
            h = tf.transpose(h, perm)
            h = self._corr(h)
            h = tf.transpose(h, [0, 1, 5, 2, 6, 3, 4])
        return h


class ChannelGenerator(Block):
    """Channel of a scenario: one component, or a mixture of environments
    (``channel.mixture``) with every batch split evenly over the components (a
    random subset of an even split when their number does not divide the batch).

    Input
    -----
    batch_size, num_time_samples, sampling_frequency : as :class:`ComponentChannel`

    Output
    ------
    h : [batch_size, 1, num_rx_ant, 1, num_tx_ant, num_time_samples, num_subcarriers], tf.complex
        (:meth:`generate` also returns ``component`` [batch_size] tf.int32, the mixture
        component of each realisation, for genie receivers.)
    """

    def __init__(self, scenario: Scenario, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self.components = [ComponentChannel(scenario, ch, precision=precision)
                           for ch in scenario.channel.components()]

    @property
    def num_components(self) -> int:
        return len(self.components)

    def generate(self, batch_size, num_time_samples, sampling_frequency, component=None):
        """``(h, component)``; with ``component`` set, all realisations come from it."""
        if component is not None:
            h = self.components[component](batch_size, num_time_samples, sampling_frequency)
            return h, tf.fill([batch_size], component)
        k = self.num_components
        if k == 1:
            h = self.components[0](batch_size, num_time_samples, sampling_frequency)
            return h, tf.zeros([batch_size], tf.int32)
        chunk = -(-batch_size // k)
        h = tf.concat([c(chunk, num_time_samples, sampling_frequency) for c in self.components], 0)
        labels = tf.repeat(tf.range(k, dtype=tf.int32), chunk)
        if chunk * k != batch_size:
            # a batch that k does not divide keeps a random subset, not the first
            # components' draws (which would leave the last components out every batch)
            keep = tf.random.shuffle(tf.range(chunk * k))[:batch_size]
            return tf.gather(h, keep), tf.gather(labels, keep)
        return h, labels

    def call(self, batch_size, num_time_samples, sampling_frequency):
        return self.generate(batch_size, num_time_samples, sampling_frequency)[0]
