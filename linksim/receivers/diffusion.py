"""Diffusion-model channel estimators (Card A): non-identical and identical diffusion.

Per stream and pilot OFDM symbol the receiver forms a first estimate of the channel over
(receive antennas x subcarriers) — LS at the pilot subcarriers, nothing elsewhere
(``init: pilots``) or Sionna's linearly interpolated LS everywhere (``init: ls_linear``)
— turns it into ``(H~, A)`` and the initial times, and returns (see
:mod:`linksim.diffusion.estimate`):

* ``h_hat``: the point estimate of ``estimate`` — ``jump`` (one denoiser call at the
  observation's own times: the conditional mean for an exact denoiser), ``ddim`` (the
  deterministic reverse process) or ``mean`` (the mean of ``samples`` posterior samples);
* ``err_var``: the model's posterior variance (``posterior``: the exact posterior of its
  prior backbone) or the spread of ``samples`` posterior samples (``samples``);
* on request, posterior samples (:meth:`~linksim.receivers.base.Receiver.posterior_samples`,
  DDIM-eta reverse process with eta = 1 by default).

The pilot symbols are then interpolated linearly in time. Identical diffusion starts
from the interpolated LS estimate with one time per estimate (``tau_rule``).
"""

from __future__ import annotations

from typing import Literal, Optional

import tensorflow as tf
from pydantic import Field, field_validator, model_validator

from ..config import Strict
from ..diffusion.checkpoints import load_denoiser, read_checkpoint_config, resolve_model
from ..diffusion.estimate import estimate_channel, sample_channel
from ..diffusion.steppers import get_stepper
from ..errors import UserError
from .per_symbol import PerSymbolEstimator
from .trained_for import channel_mismatches
from ..graph import graph_function


class DMParams(Strict):
    model: str = Field(description="Trained model: a name in linksim/zoo/ or a checkpoint folder.")
    estimate: Literal["jump", "ddim", "mean"] = Field("jump", description="Point estimate: jump (one denoiser call at the observation's own times), ddim (deterministic reverse process in `steps` steps) or mean (mean of `samples` posterior samples).")
    err_var: Literal["auto", "posterior", "samples"] = Field("auto", description="Error variance: posterior (the exact posterior variance of the model's prior backbone), samples (the spread of `samples` posterior samples around h_hat), or auto (posterior for models with a backbone, else samples).")
    samples: int = Field(8, ge=1, le=256, description="Posterior samples for estimate: mean and err_var: samples.")
    steps: int = Field(10, ge=1, le=1000, description="Reverse-process steps N_G (ddim, mean, posterior samples).")
    stepper: str = Field("waterfill", description="uniform | waterfill | hybrid:<eps_s> (on tau), or alpha-... (on alpha).")
    eta: Optional[float] = Field(1.0, ge=0, le=1, description="DDIM-eta of the posterior samples (1 ancestral, 0 deterministic); give eta or eps.")
    eps: Optional[float] = Field(None, ge=0, le=1, description="The paper's constant epsilon instead of eta.")
    init: Literal["pilots", "ls_linear"] = Field("pilots", description="First estimate: LS at the pilots only, or linearly interpolated LS on every subcarrier.")
    network: bool = Field(True, description="Use the model's network; false keeps its prior backbone alone (the exact denoiser of the fitted Gaussian mixture), for ablations.")
    xla: bool = Field(True, description="Compile the denoising network with XLA (the prior backbone stays in graph mode).")
    allow_mismatch: bool = Field(False, description="Use a model trained on other channels than the scenario's (model, profile, delay spread, direction, subcarrier spacing, BS array; refused otherwise); the differences are recorded in meta.json.")

    @field_validator("stepper")
    @classmethod
    def _known_stepper(cls, v):
        try:
            get_stepper(v)
        except UserError as err:  # pydantic names the field
            raise ValueError(err.message) from None
        return v

    @model_validator(mode="after")
    def _one_noise_rule(self):
        if self.eps is not None:
            self.eta = None
        return self


class DiffusionEstimator(PerSymbolEstimator):
    """Non-identical diffusion channel estimation (element-wise diffusion times)."""

    Params = DMParams
    identical = False
    offers_samples = True

    @property
    def linear_ls(self) -> bool:
        return self.identical or self.params.init == "ls_linear"

    def __init__(self, context, params=None, precision=None, **kwargs):
        super().__init__(context, params, precision=precision, **kwargs)
        self.denoiser, self.model_config = load_denoiser(self.params.model, self.data_shape,
                                                         network=self.params.network)
        p = self.params
        mismatch = channel_mismatches(self.model_config, context.scenario)
        self.build_info = {"mismatch": mismatch} if mismatch else {}
        err_var = p.err_var
        if err_var == "auto":
            err_var = "posterior" if self.denoiser.backbone is not None else "samples"
        self._kw = dict(identical=self.identical, tau_rule=getattr(p, "tau_rule", "snr-mean"),
                        power=1.0 if self.model_config.get("data_norm") == "unit" else None,
                        steps=p.steps, stepper=p.stepper, eta=p.eta, eps=p.eps)

        def estimate(h_bar, mask, p_std, h_init):
            return estimate_channel(self.denoiser, h_bar, mask, p_std, h_init=h_init, mode=p.estimate,
                                    err_var=err_var, samples=p.samples, **self._kw)

        if p.xla:
            self.denoiser.compile_network()
        # graph mode; the network alone under XLA (the prior backbone's complex Cholesky
        # algebra is ~20x slower under XLA on the CPU)
        self._estimate = graph_function(estimate)

    @classmethod
    def check_scenario(cls, scenario, params):
        path = resolve_model(params.model)
        cfg = read_checkpoint_config(path)
        shape = tuple(cfg["data_shape"])
        need = (scenario.rx_array.num_ant, scenario.carrier.num_subcarriers)
        if shape != need:
            raise UserError(f"model was trained for shape {shape}, scenario needs {need} (receive antennas x subcarriers)", field="model")
        if params.err_var == "posterior" and "backbone" not in cfg:
            raise UserError("err_var posterior needs a model with a prior backbone; allowed for this model: samples",
                            field="err_var")
        if not params.network and "backbone" not in cfg:
            raise UserError("network false keeps the prior backbone alone, and this model has none; allowed: true",
                            field="network")
        if cfg.get("data_norm") == "unit" and scenario.channel.pathloss:
            raise UserError("the model assumes channels of unit average power; allowed: channel.pathloss false",
                            field="model")
        mismatch = channel_mismatches(cfg, scenario)
        if mismatch and not params.allow_mismatch:
            raise UserError(f"{path.name} was not trained on {'; '.join(mismatch)}; allowed: a model trained on the "
                            "scenario's channels, or allow_mismatch: true to use it anyway (recorded in meta.json)",
                            field="model")

    def _inputs(self, obs):
        """First estimate, mask, noise std and start of one pilot symbol."""
        if self.params.init == "ls_linear" and not self.identical:
            ones = tf.ones_like(obs.mask)
            return obs.h_linear, ones, tf.sqrt(obs.linear_var), obs.h_linear
        start = obs.h_linear if self.linear_ls else obs.h_bar
        return obs.h_bar, obs.mask, tf.sqrt(obs.noise_var), start

    def estimate_symbol(self, obs, stream):
        return self._estimate(*self._inputs(obs))

    def sample_symbol(self, obs, stream, num_samples):
        h_bar, mask, p_std, start = self._inputs(obs)
        return sample_channel(self.denoiser, h_bar, mask, p_std, int(num_samples), h_init=start, **self._kw)


class IdenticalParams(DMParams):
    init: Literal["pilots", "ls_linear"] = Field("ls_linear", description="Start: the LS estimate at the pilots only, or linearly interpolated LS on every subcarrier.")
    tau_rule: Literal["snr-mean", "tau-mean", "alpha-mean"] = Field("snr-mean", description="The one diffusion time from the pilot observation: snr-mean (its mean per-element SNR), tau-mean (mean of the element-wise times) or alpha-mean (time of the mean A).")


class IdenticalDiffusionEstimator(DiffusionEstimator):
    """Identical diffusion baseline: the same sampler with one diffusion time per estimate
    (by default started from the linearly interpolated LS estimate, at the time whose SNR
    is the mean per-element SNR of the pilot observation)."""

    Params = IdenticalParams
    identical = True
