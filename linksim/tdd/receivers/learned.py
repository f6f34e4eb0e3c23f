"""Card C's learned receivers on the shared backbone: SL (conditional-mean estimate), DM
(posterior samples, Bayesian precoder) and E2E (precoder emitted directly). Each loads a
zoo model (default: the ``cpu`` model trained for the scenario's mobility)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from ...config import Strict
from ...diffusion.checkpoints import trained_differences
from ...errors import UserError, echo
from ...receivers.contract import Estimate
from ..estimators import ModelEstimator
from .base import SRSObservation, SRSReceiver


class _ModelParams(Strict):
    model: Optional[str] = Field(None, description="Zoo name or checkpoint folder (default: srs-<kind>-<mobility>-cpu).")
    allow_mismatch: bool = Field(False, description="Use a model trained for other channel settings than the scenario's (UE speed, carrier, SRS layout, delays, arrays; refused otherwise); the differences are recorded in meta.json.")


class _DMParams(_ModelParams):
    samples: int = Field(16, ge=1, le=256, description="K posterior samples per realisation (1: SVD precoding of one sample).")
    trajectory: Literal["stochastic", "deterministic"] = Field("stochastic", description="Reverse process: ancestral sampling, or the mean only (deterministic).")
    cfg_weight: Optional[float] = Field(None, ge=0, le=1, description="Guidance weight w (default: srs_precoding.cfg_weight).")


class _Learned(SRSReceiver):
    kind = ""
    Params = _ModelParams

    def __init__(self, context, params=None):
        super().__init__(context, params)
        sec = context.section
        self.model = ModelEstimator(self.model_name(sec, self.params), context.shape, self.kind, streams=sec.streams,
                                    **self._options(sec))
        mismatch = self.mismatches({"channel": self.model.channel}, sec)
        self.build_info = {"model": self.model.name, "trained_speed_kmh": self.model.channel.get("ue_speed_kmh"),
                           **({"mismatch": mismatch} if mismatch else {})}

    @classmethod
    def model_name(cls, sec, params) -> str:
        return params.model or f"srs-{cls.kind}-{sec.mobility}-cpu"

    @classmethod
    def check_scenario(cls, scenario, params) -> None:
        """The model exists, is a Card C ``kind`` model and fits the scenario's SRS shape."""
        from ...diffusion.checkpoints import read_checkpoint_config, resolve_model
        from ..channels import data_shape

        sec = scenario.srs_precoding
        path = resolve_model(cls.model_name(sec, params))
        cfg = read_checkpoint_config(path)
        if cfg.get("model") != cls.kind:
            raise UserError(f"{path} is a {echo(cfg.get('model'))} model; allowed here: a {echo(cls.kind)} model",
                            field="params.model")
        need = list(data_shape(sec))
        if list(cfg["data_shape"]) != need:
            raise UserError(f"{path} was trained for (L, P, F, Nu, Nb) = {tuple(cfg['data_shape'])}, the scenario "
                            f"needs {tuple(need)}", field="params.model")
        mismatch = cls.mismatches(cfg, sec)
        if mismatch and not params.allow_mismatch:
            raise UserError(f"{path.name} was trained for other channels ({'; '.join(mismatch)}); allowed: a model "
                            "trained for this scenario, or allow_mismatch: true to use it anyway (recorded in "
                            "meta.json)", field="params.model")

    @staticmethod
    def mismatches(cfg: dict, sec) -> list[str]:
        """The channel settings (``SRSPrecoding.channel_key``) on which the model of
        checkpoint config ``cfg`` and the scenario's section ``sec`` differ."""
        return trained_differences(cfg.get("channel", {}), sec.channel_key())

    def _options(self, sec) -> dict:
        return {}

    def __call__(self, obs: SRSObservation) -> Estimate:
        return Estimate.of(self.model(obs.y, obs.snr_db, obs.rng))


class SupervisedCME(_Learned):
    """SL: the backbone trained with MSE; SVD precoding of its estimate."""

    kind = "sl"


class DiffusionPosterior(_Learned):
    """DM: K posterior samples (Bayesian precoder); the point estimate is their mean."""

    kind = "dm"
    Params = _DMParams

    def _options(self, sec) -> dict:
        p = self.params
        w = sec.cfg_weight if p.cfg_weight is None else p.cfg_weight
        return {"samples": p.samples, "cfg_weight": w, "stochastic": p.trajectory == "stochastic"}


class EndToEnd(_Learned):
    """E2E: the precoder from its latent channel's Gramian (no channel estimate)."""

    kind = "e2e"
