"""LMMSE channel estimation with covariances measured on channel samples of the scenario."""

from __future__ import annotations

from typing import Literal

import numpy as np
import tensorflow as tf
from pydantic import Field
from sionna.phy.ofdm.channel_estimation import BaseChannelInterpolator
from sionna.phy.utils import expand_to_rank

from ..config import Strict
from .base import Receiver
from .ls import NoiseAwareLS
from .pilots import interpolate_time, interpolate_time_var, pilot_layout


class LMMSEParams(Strict):
    dims: Literal["auto", "freq", "space_freq"] = Field("auto", description="Covariance over subcarriers (freq) or jointly over receive antennas and subcarriers (space_freq); auto picks space_freq up to 2048 dimensions.")
    cov_samples: int = Field(1000, ge=16, le=100000, description="Channel realisations drawn to estimate the covariance (per component with genie_components).")
    genie_components: bool = Field(False, description="Genie bound for channel mixtures: one covariance per mixture component, each realisation filtered with the covariance of the component it came from.")


def sample_covariance(h: np.ndarray, joint_space: bool) -> np.ndarray:
    """Per-stream covariance from samples ``h`` [n, num_rx_ant, num_streams, S, F].

    Returns [num_streams, D, D] with D = F, or D = num_rx_ant * F when ``joint_space``.
    """
    n, nr, ns, S, F = h.shape
    out = []
    for l in range(ns):
        x = h[:, :, l]  # [n, nr, S, F]
        if joint_space:
            v = np.transpose(x, [0, 2, 1, 3]).reshape(n * S, nr * F)
        else:
            v = x.reshape(n * nr * S, F)
        out.append(v.T @ v.conj() / v.shape[0])
    return np.stack(out).astype(np.complex64)


class CovarianceInterpolator(BaseChannelInterpolator):
    """LMMSE interpolation with a fixed covariance, computed once.

    Per stream and pilot OFDM symbol: ``h = R[:, P] (R[P, P] + s2 I)^-1 y_P`` over the
    subcarriers (or receive antennas x subcarriers), then linear interpolation in time;
    the error variance ``diag(R - W R[P, :])`` (``W`` the filter) is interpolated with
    its noise-induced part ``diag(W diag(s2) W^H)`` independent between pilot symbols
    (:func:`~linksim.receivers.pilots.interpolate_time_var`).
    With ``white`` noise, ``R[P, P]`` is eigendecomposed once at construction and a call
    only rescales by the noise level ``s2``; otherwise a call solves
    ``(R[P, P] + diag(s2_P))`` with the per-pilot error variances, once per entry of
    ``err_var``'s batch dim (once per call when the noise profile is shared).

    Input
    -----
    h_hat : [batch_size, 1, num_rx_ant, 1, num_streams, num_pilots], tf.complex
        LS estimates at the pilot REs.
    err_var : broadcastable to ``h_hat``, tf.float
        Their error variance (``white``: one level per call is assumed, its mean over the
        live pilots is used).

    Output
    ------
    h_hat : [batch_size, 1, num_rx_ant, 1, num_streams, num_ofdm_symbols, fft_size], tf.complex
    err_var : same shape, tf.float
    """

    def __init__(self, pilot_pattern, cov: np.ndarray, joint_space: bool, num_rx_ant: int,
                 white: bool = True):
        self._joint = joint_space
        self._white = bool(white)
        self._nr = num_rx_ant
        self._F = int(np.asarray(pilot_pattern.mask).shape[-1])
        self._streams = []
        for l, stream in enumerate(pilot_layout(pilot_pattern)):
            R = cov[l]
            per_symbol = []
            for ps in stream.symbols:
                P = ps.subcarriers
                rows = (np.arange(num_rx_ant)[:, None] * self._F + P[None, :]).reshape(-1) if joint_space else P
                entry = dict(idx=tf.constant(ps.index, tf.int32), r_pf=tf.constant(R[rows, :]))
                if self._white:
                    # (R_pp + s2 I)^-1 R_pf = U diag(1/(lam + s2)) U^H R_pf: decompose once, so
                    # a call only rescales by the noise level
                    lam, u = np.linalg.eigh(R[np.ix_(rows, rows)].astype(np.complex128))
                    entry.update(lam=tf.constant(np.maximum(lam, 0).astype(np.float32)),
                                 u=tf.constant(u.astype(np.complex64)),
                                 uh_r=tf.constant((u.conj().T @ R[rows, :]).astype(np.complex64)))
                else:
                    entry.update(r_pp=tf.constant(R[np.ix_(rows, rows)]))
                per_symbol.append(entry)
            self._streams.append(dict(per_symbol=per_symbol, t=stream.time_interp,
                                      r_diag=tf.constant(np.real(np.diag(R)).astype(np.float32))))

    def __call__(self, h_hat, err_var):
        # keep the batch dim of err_var (1 when the noise profile is shared by the batch):
        # the non-white solve then runs once per call, not once per realisation
        err_var = expand_to_rank(err_var, h_hat.shape.rank, 0)
        err_var = tf.broadcast_to(err_var, tf.concat([tf.shape(err_var)[:1], tf.shape(h_hat)[1:]], 0))
        b = tf.shape(h_hat)[0]
        outputs, variances = [], []
        for l, st in enumerate(self._streams):
            y_l = h_hat[..., 0, l, :]  # [B, 1, Nr, num_pilots]
            est, var, var_n = [], [], []
            for ps in st["per_symbol"]:
                obs = tf.gather(y_l, ps["idx"], axis=-1)  # [B, 1, Nr, |P|]
                if self._joint:
                    obs = tf.reshape(obs, [b, 1, -1])  # [B,1,Nr*|P|]
                # error variance at the live pilots only (the pilot vector also holds the
                # silent positions of other streams' combs)
                s2_p = tf.gather(err_var[..., 0, l, :], ps["idx"], axis=-1)  # [B, 1, Nr, |P|]
                if self._white:
                    s2 = tf.cast(tf.reduce_mean(s2_p), tf.float32)
                    inv = tf.cast(1.0 / (ps["lam"] + s2), tf.complex64)
                    x = tf.matmul(ps["u"], inv[:, None] * ps["uh_r"])  # (R_pp + s2 I)^-1 R_pf  [|P|, D]
                else:
                    s2_p = tf.reshape(s2_p, [tf.shape(s2_p)[0], 1, -1]) if self._joint else s2_p
                    a = ps["r_pp"] + tf.linalg.diag(tf.cast(s2_p, tf.complex64))
                    x = tf.linalg.solve(a, tf.broadcast_to(ps["r_pf"], tf.concat([tf.shape(a)[:-1], tf.shape(ps["r_pf"])[-1:]], 0)))
                e = tf.linalg.matvec(x, tf.cast(obs, x.dtype), adjoint_a=True)  # [B,1,(Nr*)D]
                v = st["r_diag"] - tf.math.real(tf.reduce_sum(tf.math.conj(x) * ps["r_pf"], axis=-2))
                # noise-induced part: sum_p |W_fp|^2 s2_p  (x = W^H)
                s2_col = s2 if self._white else s2_p[..., :, None]
                vn = tf.reduce_sum(tf.abs(x) ** 2 * s2_col, axis=-2)
                if self._joint:
                    e = tf.reshape(e, [b, 1, self._nr, self._F])
                    v = tf.reshape(v, tf.concat([tf.shape(v)[:-1], [self._nr, self._F]], 0))
                    vn = tf.reshape(vn, tf.concat([tf.shape(vn)[:-1], [self._nr, self._F]], 0))
                est.append(e)
                var.append(v if not self._white else tf.broadcast_to(v, [self._nr, self._F]))
                var_n.append(vn if not self._white else tf.broadcast_to(vn, [self._nr, self._F]))
            est = tf.stack(est, axis=-2)  # [B,1,Nr,Sp,F]
            var = tf.maximum(tf.stack(var, axis=-2), 0.0)  # white: [Nr,Sp,F]; else [B or 1,1,Nr,Sp,F]
            var_n = tf.minimum(tf.stack(var_n, axis=-2), var)
            outputs.append(interpolate_time(est, st["t"]))
            variances.append(interpolate_time_var(var, var_n, st["t"]))
        h = tf.stack(outputs, axis=3)[:, :, :, None]  # [B,1,Nr,1,Ns,S,F]
        if self._white:
            v = tf.stack(variances, axis=1)[None, None, :, None]  # [1,1,Nr,1,Ns,S,F]
        else:
            v = tf.stack(variances, axis=3)[:, :, :, None]  # [B or 1,1,Nr,1,Ns,S,F]
        return h, tf.cast(v, h_hat.dtype.real_dtype)


class LMMSEEstimator(Receiver):
    """LS at the pilots followed by LMMSE interpolation with the scenario's covariance,
    measured once on ``cov_samples`` channel realisations (not those under test)."""

    Params = LMMSEParams

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        self.genie = self.params.genie_components  # knows each realisation's component
        rg = context.resource_grid
        joint = self.params.dims == "space_freq" or (
            self.params.dims == "auto" and context.num_rx_ant * rg.fft_size <= 2048)
        components = range(context.num_components) if self.params.genie_components else [None]
        self.covariances = [sample_covariance(context.sample_channels(self.params.cov_samples, k), joint)
                            for k in components]
        self._interps = [CovarianceInterpolator(rg.pilot_pattern, cov, joint, context.num_rx_ant,
                                                white=not context.per_re_noise)
                         for cov in self.covariances]
        self._ls = NoiseAwareLS(rg, interpolation_type=None, precision=self.precision)

    def call(self, y, no, genie=None):
        h_p, err_p = self._ls(y, no)
        if len(self._interps) == 1:
            return self._interps[0](h_p, err_p)
        component = genie["component"]
        # genie: every component's estimate, then each realisation takes its own
        outs = [interp(h_p, err_p) for interp in self._interps]
        h = tf.stack([o[0] for o in outs], 1)
        v = tf.stack([tf.broadcast_to(o[1], tf.shape(o[0])) for o in outs], 1)
        return (tf.gather(h, component, axis=1, batch_dims=1),
                tf.gather(v, component, axis=1, batch_dims=1))
