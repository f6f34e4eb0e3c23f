"""Receivers that estimate one pilot OFDM symbol at a time over (receive antennas x
subcarriers) and interpolate linearly in time (the Gaussian-mixture and diffusion
estimators).

Per stream and pilot OFDM symbol the receiver forms the LS estimate at the pilots and
hands a :class:`PilotObservation` to :meth:`PerSymbolEstimator.estimate_symbol`; the
estimates of the pilot symbols are interpolated linearly in time, their error variances
with :func:`~linksim.receivers.pilots.interpolate_time_var` (noise-induced parts
independent between pilot symbols, the rest shared).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .base import Receiver
from .ls import NoiseAwareLS
from .pilots import interpolate_time, interpolate_time_var, pilot_layout


@dataclass
class PilotObservation:
    """LS first estimate of one pilot OFDM symbol of one stream.

    Attributes
    ----------
    h_bar : [B, Nr, F], complex — LS at the pilot subcarriers, 0 elsewhere
    mask : [1, 1, F], real — 1 on the pilot subcarriers
    noise_var : [B or 1, Nr or 1, F], real — LS error variance at the pilots, 0 elsewhere
    h_linear : [B, Nr, F], complex | None — LS linearly interpolated over the subcarriers
        (receivers with ``linear_ls``)
    linear_var : [B or 1, Nr or 1, F], real | None — its (textbook) error variance
    """

    h_bar: tf.Tensor
    mask: tf.Tensor
    noise_var: tf.Tensor
    h_linear: tf.Tensor | None = None
    linear_var: tf.Tensor | None = None


class PerSymbolEstimator(Receiver):
    """Base of the per-pilot-symbol estimators (see the module docstring).

    Subclasses implement :meth:`estimate_symbol` (and :meth:`sample_symbol` with
    ``offers_samples``); ``linear_ls = True`` adds the linearly interpolated LS estimate
    to each observation.
    """

    linear_ls: bool = False

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        rg = context.resource_grid
        self.data_shape = (context.num_rx_ant, rg.fft_size)
        self._layout = pilot_layout(rg.pilot_pattern)
        self._ls = NoiseAwareLS(rg, interpolation_type=None, precision=self.precision)
        self._ls_lin = NoiseAwareLS(rg, interpolation_type="lin", precision=self.precision) if self.linear_ls else None
        self._symbols = []  # per stream: [(pilot-vector positions, [|P|, F] scatter, mask [1,1,F], symbol)]
        for stream in self._layout:
            entries = []
            for ps in stream.symbols:
                e = np.zeros([len(ps.subcarriers), rg.fft_size], np.float32)
                e[np.arange(len(ps.subcarriers)), ps.subcarriers] = 1.0
                entries.append((tf.constant(ps.index, tf.int32), tf.constant(e),
                                tf.constant(e.sum(0)[None, None]), ps.symbol))
            self._symbols.append(entries)

    # -- observations ------------------------------------------------------------------
    def observations(self, y, no) -> list[list[PilotObservation]]:
        """Per stream, per pilot OFDM symbol, the LS first estimate."""
        h, err = self._ls(y, no)                      # [B,1,Nr,1,Ns,P]; err [1|B,1,1|Nr,1,1|Ns,P]
        if self._ls_lin is not None:
            h_lin, err_lin = self._ls_lin(y, no)       # [B,1,Nr,1,Ns,S,F]
            err_lin = tf.broadcast_to(err_lin, tf.shape(h_lin))
        err = err[:, 0, :, 0]                          # keeps batch dim 1 when shared by the batch
        out = []
        for l, entries in enumerate(self._symbols):
            per = []
            for idx, e, mask, sym in entries:
                hp = tf.gather(h[:, 0, :, 0, l], idx, axis=-1)                    # [B, Nr, |P|]
                vp = tf.gather(err[..., min(l, err.shape[-2] - 1), :], idx, axis=-1)  # [B|1, Nr|1, |P|]
                obs = PilotObservation(
                    h_bar=tf.einsum("brp,pf->brf", hp, tf.cast(e, hp.dtype)),
                    mask=mask,
                    noise_var=tf.einsum("brp,pf->brf", vp, e))
                if self._ls_lin is not None:
                    obs.h_linear = h_lin[:, 0, :, 0, l, sym]
                    obs.linear_var = err_lin[:, 0, :, 0, l, sym]
                per.append(obs)
            out.append(per)
        return out

    # -- subclass hooks -------------------------------------------------------------------
    @abstractmethod
    def estimate_symbol(self, obs: PilotObservation, stream: int):
        """``(h [B, Nr, F] complex, err_var [B|1, Nr, F], err_var_noise [B|1, Nr, F] or
        None)`` for one pilot symbol (``err_var_noise``: the noise-induced part of
        ``err_var``; None treats the whole error as shared between pilot symbols)."""

    def sample_symbol(self, obs: PilotObservation, stream: int, num_samples: int):
        """``num_samples`` posterior samples [K, B, Nr, F] for one pilot symbol."""
        raise NotImplementedError(f"{type(self).__name__} draws no posterior samples")

    # -- assembly -------------------------------------------------------------------------
    def call(self, y, no, genie=None):
        outs, variances = [], []
        for l, per in enumerate(self.observations(y, no)):
            est = [self.estimate_symbol(obs, l) for obs in per]
            shape = tf.shape(est[0][0])                                           # [B, Nr, F]
            h = tf.stack([e[0] for e in est], axis=-2)                            # [B, Nr, Sp, F]
            var = tf.stack([tf.broadcast_to(e[1], shape) for e in est], axis=-2)
            noise = None if est[0][2] is None else tf.stack([tf.broadcast_to(e[2], shape) for e in est], axis=-2)
            t = self._layout[l].time_interp
            outs.append(interpolate_time(h, t))
            variances.append(tf.maximum(interpolate_time_var(var, noise, t), 0.0))
        h_out = tf.stack(outs, axis=2)[:, None, :, None]                          # [B,1,Nr,1,Ns,S,F]
        v_out = tf.stack(variances, axis=2)[:, None, :, None]
        return tf.cast(h_out, self.cdtype), tf.cast(v_out, self.rdtype)

    def posterior_samples(self, y, no, num_samples: int):
        if not self.offers_samples:
            return super().posterior_samples(y, no, num_samples)
        y = tf.cast(y, self.cdtype)
        no = tf.cast(no, self.rdtype)
        outs = []
        for l, per in enumerate(self.observations(y, no)):
            s = tf.stack([self.sample_symbol(obs, l, num_samples) for obs in per], axis=-2)  # [K,B,Nr,Sp,F]
            outs.append(interpolate_time(s, self._layout[l].time_interp))
        return tf.cast(tf.stack(outs, axis=3)[:, :, None, :, None], self.cdtype)        # [K,B,1,Nr,1,Ns,S,F]
