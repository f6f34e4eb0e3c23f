"""Diffusion-model channel estimators (Card A): non-identical and identical diffusion.

Per stream and pilot OFDM symbol the receiver forms a first estimate of the channel over
(receive antennas x subcarriers) — LS at the pilot subcarriers, nothing elsewhere
(``init: pilots``) or Sionna's linearly interpolated LS everywhere (``init: ls_linear``)
— turns it into ``(H~, A)``, draws ``samples`` posterior samples with a trained denoiser
and returns their mean as ``h_hat`` and their spread as ``err_var``; the pilot symbols
are then interpolated linearly in time.
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..diffusion.estimate import estimate_channel
from ..errors import UserError
from .base import Receiver
from .ls import NoiseAwareLS
from .pilots import interpolate_time, pilot_layout


class DMParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="Trained model: a name in linksim/zoo/ or a checkpoint folder.")
    samples: int = Field(4, ge=1, le=256, description="Posterior samples per estimate (h_hat is their mean).")
    steps: int = Field(20, ge=1, le=1000, description="Generation steps N_G.")
    stepper: str = Field("waterfill", description="uniform | waterfill | hybrid:<eps_s> (on tau), or alpha-... (on alpha).")
    eta: Optional[float] = Field(1.0, ge=0, le=1, description="DDIM-eta (1 ancestral, 0 deterministic); give eta or eps.")
    eps: Optional[float] = Field(None, ge=0, le=1, description="The paper's constant epsilon instead of eta.")
    init: Literal["pilots", "ls_linear"] = Field("pilots", description="First estimate: LS at the pilots only, or linearly interpolated LS on every subcarrier.")
    model_error: float = Field(0.0, ge=0, le=1, description="Added to err_var, relative to the channel power (model mismatch).")
    xla: bool = Field(True, description="Compile the sampler with XLA (about 2.3x faster on the CPU for the shipped models).")

    @model_validator(mode="after")
    def _one_noise_rule(self):
        if self.eps is not None:
            self.eta = None
        return self


class DiffusionEstimator(Receiver):
    """Non-identical diffusion channel estimation (element-wise diffusion times)."""

    Params = DMParams
    identical = False

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        from ..diffusion.training import load_denoiser

        rg = context.resource_grid
        self._shape = (context.num_rx_ant, rg.fft_size)
        self.denoiser, self.model_config = load_denoiser(self.params.model, self._shape)
        self._layout = pilot_layout(rg.pilot_pattern)
        self._ls = NoiseAwareLS(rg, interpolation_type=None if self.params.init == "pilots" else "lin",
                                      precision=self.precision)
        p = self.params

        def estimate(h_bar, mask, p_std):
            return estimate_channel(self.denoiser, h_bar, mask, p_std, steps=p.steps, stepper=p.stepper,
                                    eta=p.eta, eps=p.eps, num_samples=p.samples, identical=self.identical)

        # the sampler alone under XLA (the rest of the receiver stays as the caller runs it)
        self._estimate = tf.function(estimate, jit_compile=True) if p.xla else estimate
        self._scatter = []
        for stream in self._layout:
            for ps in stream.symbols:
                e = np.zeros([len(ps.subcarriers), rg.fft_size], np.float32)
                e[np.arange(len(ps.subcarriers)), ps.subcarriers] = 1.0
                self._scatter.append((tf.constant(ps.index, tf.int32), tf.constant(e), ps.symbol))

    @classmethod
    def check_scenario(cls, scenario, params):
        from ..diffusion.checkpoints import read_checkpoint_config
        from ..diffusion.training import resolve_model

        shape = tuple(read_checkpoint_config(resolve_model(params.model))["data_shape"])
        need = (scenario.rx_array.num_ant, scenario.carrier.num_subcarriers)
        if shape != need:
            raise UserError(f"model was trained for shape {shape}, scenario needs {need} (receive antennas x subcarriers)", field="model")

    def _first_estimates(self, y, no):
        """[B*L*Sp, Nr, F] first estimates, mask and complex noise std."""
        h, err = self._ls(y, no)
        err = tf.broadcast_to(err, tf.shape(h))
        obs, masks, stds = [], [], []
        per_stream = [len(s.symbols) for s in self._layout]
        i = 0
        for l, n_sym in enumerate(per_stream):
            for _ in range(n_sym):
                idx, e, sym = self._scatter[i]
                i += 1
                if self.params.init == "pilots":
                    hp = tf.gather(h[:, 0, :, 0, l], idx, axis=-1)  # [B, Nr, |P|]
                    vp = tf.gather(err[:, 0, :, 0, l], idx, axis=-1)
                    obs.append(tf.einsum("brp,pf->brf", hp, tf.cast(e, hp.dtype)))
                    mask = tf.reduce_sum(e, axis=0)
                    stds.append(tf.sqrt(tf.einsum("brp,pf->brf", vp, e)))
                    masks.append(tf.broadcast_to(mask, tf.shape(obs[-1])))
                else:
                    obs.append(h[:, 0, :, 0, l, sym])
                    stds.append(tf.sqrt(err[:, 0, :, 0, l, sym]))
                    masks.append(tf.ones_like(stds[-1]))
        return tf.concat(obs, 0), tf.concat(masks, 0), tf.concat(stds, 0)

    def call(self, y, no, h_genie, component):
        h_bar, mask, p_std = self._first_estimates(y, no)
        p = self.params
        h_hat, var = self._estimate(h_bar, mask, p_std)
        if p.model_error:
            power = tf.reduce_mean(tf.abs(h_hat) ** 2, axis=[1, 2], keepdims=True)
            var = var + p.model_error * power
        b = tf.shape(y)[0]
        outs, vars_ = [], []
        start = 0
        for stream in self._layout:
            n = len(stream.symbols)
            hs = tf.reshape(h_hat[start * b:(start + n) * b], [n, b, self._shape[0], self._shape[1]])
            vs = tf.reshape(var[start * b:(start + n) * b], [n, b, self._shape[0], self._shape[1]])
            start += n
            outs.append(interpolate_time(tf.transpose(hs, [1, 2, 0, 3]), stream.time_interp))  # [B,Nr,S,F]
            vars_.append(interpolate_time(tf.transpose(vs, [1, 2, 0, 3]), stream.time_interp))
        h_out = tf.stack(outs, axis=2)[:, None, :, None]  # [B,1,Nr,1,Ns,S,F]
        v_out = tf.stack(vars_, axis=2)[:, None, :, None]
        return tf.cast(h_out, self.cdtype), tf.cast(v_out, self.rdtype)


class IdenticalParams(DMParams):
    init: Literal["pilots", "ls_linear"] = Field("ls_linear", description="First estimate: LS at the pilots only, or linearly interpolated LS on every subcarrier.")


class IdenticalDiffusionEstimator(DiffusionEstimator):
    """Identical diffusion baseline: the same sampler with one diffusion time per estimate
    (by default started from the linearly interpolated LS estimate)."""

    Params = IdenticalParams
    identical = True
