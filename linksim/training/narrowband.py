"""Training program of the narrowband diffusion models (Card B): ``linksim train
scenarios/train/moe_vb/<name>.yaml`` (spec ``kind: narrowband``).

One spec trains one DDPM (eps-prediction, linear beta, ``T`` steps) with Card B's FiLM CNN
on the CDL training channels of ``data.profiles`` (``{profile: samples}``): one profile
makes an expert, several the pooled "standard DM" on the aggregated set.

``network.backbone: gaussian`` adds the Gaussian fit of the fitting channels as a backbone:
the model predicts the backbone's exact noise prediction plus the network's output, whose
last layer starts at zero (so training starts at the Gaussian optimum). With
``data.validation > 0`` that share of the training channels is held out, and the
network's residual is switched off (``residual_gate``) at the steps where it does not
lower the noise-prediction error on them.

The model is measured on fresh channels of each profile: its per-timestep noise-prediction
error against the Gaussian optimum, and the NMSE of the receivers' sampler and of Card B's
sampler with it next to LMMSE with the sample covariance of the same channels; exported
with a card to ``linksim/zoo/<name>/``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import Field, field_validator, model_validator

from ..config import FolderName, Strict, load_yaml_model
from ..diffusion.checkpoints import save_checkpoint
from ..diffusion.nets.film import PROFILES, FiLMDenoiserNet
from ..diffusion.nets.mixer import count_parameters
from ..diffusion.schedules import linear_beta_schedule
from ..narrowband.channels import PROFILES as CDL_PROFILES
from ..narrowband.channels import NarrowbandCDL, training_set
from ..narrowband.eps_mse import eps_mse_curve
from ..narrowband.gaussian_prior import GaussianMatrixPrior
from ..narrowband.linear_gaussian import sample_covariance
from ..narrowband.network_prior import TASK, to_complex, to_real
from ..provenance import atomic_write
from . import loop
from .narrowband_card import eps_csv, model_card

__all__ = ["NarrowbandTrainSpec", "load_spec", "train", "evaluate"]


class ChannelSpec(Strict):
    num_tx: int = Field(64, ge=2, le=1024, description="BS ULA elements Nt.")
    num_rx: int = Field(16, ge=1, le=256, description="UE ULA elements Nr.")
    carrier_frequency_ghz: float = Field(40.0, gt=0, le=100)
    delay_spread_ns: float = Field(30.0, gt=0, le=3000)
    doppler_hz: float = Field(5.0, ge=0, le=10000)

    def model(self) -> NarrowbandCDL:
        return NarrowbandCDL(**self.model_dump())


class DataSpec(Strict):
    profiles: dict[str, int] = Field(description="Training channels per CDL profile ({A: 10000}); one profile: an expert; several: the pooled model.")
    seed: int = Field(0, ge=0, description="Seed of the training channels (the scenarios' receivers use the same sets).")
    validation: float = Field(0.0, ge=0, lt=0.5, description="Share of every profile's training channels held out to choose the residual gate (0: no gate).")

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, v):
        bad = [p for p in v if p not in CDL_PROFILES]
        if bad or not v:
            raise ValueError(f"profiles must be a non-empty map of CDL profiles ({', '.join(CDL_PROFILES)}) to sample counts")
        if any(n < 64 for n in v.values()):
            raise ValueError("at least 64 training channels per profile")
        return v


class NetSpec(Strict):
    profile: Literal["cpu", "paper"] = "cpu"
    width: Optional[int] = Field(None, ge=4, description="Override of the profile's widest feature depth C.")
    backbone: Literal["none", "gaussian"] = Field("none", description="gaussian: the network learns a residual on the exact denoiser of the Gaussian fit of its training channels.")
    energy_tol: Optional[float] = Field(1e-6, gt=0, lt=1, description="Backbone: the eigenvectors kept leave at most this share of the energy to an isotropic floor; null: the tolerance of ENERGY_TOLS whose backbone predicts the noise best on the held-out channels (needs data.validation > 0).")
    shrinkage: Optional[float] = Field(0.0, ge=0, lt=1, description="Backbone: the covariance fitted is (1 - a) S + a (tr S / d) I for the sample covariance S (a: this value); helps when the channels are few against the dimension d; null: the value of SHRINKAGES whose backbone predicts the noise best on the held-out channels (needs data.validation > 0).")


class DiffusionSpec(Strict):
    T: int = Field(100, ge=2, le=2000)
    beta_start: float = Field(1e-4, gt=0, lt=1)
    beta_end: float = Field(0.2, gt=0, lt=1)


class OptimSpec(Strict):
    steps: int = Field(6000, ge=1)
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(2e-3, gt=0, le=1)
    seed: int = Field(1, ge=0)


class EvalSpec(Strict):
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 10.0, 20.0], min_length=1)
    pilot_density: float = Field(0.5, gt=0, le=2)
    num_channels: int = Field(64, ge=1, description="Fresh channels per profile and SNR.")
    seed: int = Field(7, ge=0)


class NarrowbandTrainSpec(Strict):
    kind: Literal["narrowband"] = "narrowband"
    name: FolderName
    channel: ChannelSpec = Field(default_factory=ChannelSpec)
    data: DataSpec
    network: NetSpec = Field(default_factory=NetSpec)
    diffusion: DiffusionSpec = Field(default_factory=DiffusionSpec)
    training: OptimSpec = Field(default_factory=OptimSpec)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")

    @model_validator(mode="after")
    def _held_out_for_the_choice(self):
        net = self.network
        for field in ("energy_tol", "shrinkage"):
            if net.backbone == "gaussian" and getattr(net, field) is None and self.data.validation == 0:
                raise ValueError(f"network.{field}: null chooses it on held-out channels; allowed with "
                                 "data.validation > 0, or give a value")
        return self


def load_spec(path, overrides=None) -> NarrowbandTrainSpec:
    return load_yaml_model(NarrowbandTrainSpec, path, overrides)


def training_channels(spec: NarrowbandTrainSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(fit, held_out)``: the channels the model is fitted on and those held out
    (``data.validation`` of every profile's set, its last ones)."""
    model = spec.channel.model()
    fit, held = [], []
    for p, n in spec.data.profiles.items():
        h = training_set(model, p, n, spec.data.seed)
        keep = n - int(round(spec.data.validation * n))
        fit.append(h[:keep])
        held.append(h[keep:])
    return np.concatenate(fit), np.concatenate(held)


#: Energy tolerances a backbone is chosen from on held-out channels (``energy_tol: null``):
#: with fewer channels than dimensions the smallest sample eigenvalues are near zero, and a
#: floor in their place generalises better.
ENERGY_TOLS = (1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2)
#: Shrinkage weights towards the scaled identity a backbone is chosen from (``shrinkage: null``).
SHRINKAGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
#: Diffusion steps (those within T) on which the candidates are compared.
SELECTION_STEPS = (1, 2, 5, 10, 20, 50, 100)


def shrunk(cov: np.ndarray, a: float) -> np.ndarray:
    """``(1 - a) cov + a (tr cov / d) I``."""
    d = len(cov)
    return (1.0 - a) * cov + a * (np.trace(cov).real / d) * np.eye(d)


def gaussian_backbone(spec: NarrowbandTrainSpec, cov: np.ndarray, h_held=None) -> tuple[GaussianMatrixPrior, dict]:
    """The Gaussian fit ``CN(0, cov)`` of the training channels, shrunk by
    ``network.shrinkage`` and truncated at ``network.energy_tol``; a setting given as null is
    the candidate (:data:`SHRINKAGES`, :data:`ENERGY_TOLS`) whose noise prediction errs least
    on ``h_held``. Returns the backbone and ``{"energy_tol": .., "shrinkage": ..}``."""
    shape = (spec.channel.num_rx, spec.channel.num_tx)
    net = spec.network
    tols = ENERGY_TOLS if net.energy_tol is None else (net.energy_tol,)
    shrinks = SHRINKAGES if net.shrinkage is None else (net.shrinkage,)
    fits = {(t, a): GaussianMatrixPrior(shrunk(cov, a), shape, energy_tol=t) for t in tols for a in shrinks}
    if len(fits) == 1:
        (key, fit), = fits.items()
    else:
        d = spec.diffusion
        abar = linear_beta_schedule(d.T, d.beta_start, d.beta_end)
        fns = {k: (lambda fit: lambda x, t: fit.eps(x, np.sqrt(abar[t]), np.sqrt(1.0 - abar[t])))(f)
               for k, f in fits.items()}
        curve = eps_mse_curve(fns, h_held, abar, [t for t in SELECTION_STEPS if t <= d.T], seed=13, draws=1)
        key = min(curve, key=lambda k: float(np.mean(curve[k])))
        fit = fits[key]
    return fit, {"energy_tol": float(key[0]), "shrinkage": float(key[1])}


def build_network(spec: NarrowbandTrainSpec) -> FiLMDenoiserNet:
    cfg = dict(PROFILES[spec.network.profile])
    if spec.network.width:
        cfg["width"] = spec.network.width
    return FiLMDenoiserNet(T=spec.diffusion.T, **cfg).build_for((spec.channel.num_rx, spec.channel.num_tx))


def _step_fn(net, spec: NarrowbandTrainSpec, optimizer, rng, backbone=None):
    d = spec.diffusion
    abar = tf.constant(linear_beta_schedule(d.T, d.beta_start, d.beta_end), tf.float32)

    @tf.function(jit_compile=True)
    def step(x):
        b = tf.shape(x)[0]
        t = rng.uniform([b], 1, d.T + 1, tf.int32)
        ab = tf.gather(abar, t)[:, None, None, None]
        eps = rng.normal(tf.shape(x))
        xt = tf.sqrt(ab) * x + tf.sqrt(1.0 - ab) * eps
        base = 0.0
        if backbone is not None:
            base = to_real(backbone.eps(to_complex(xt), tf.sqrt(ab[:, 0, 0, 0]), tf.sqrt(1.0 - ab[:, 0, 0, 0])))
        return loop.gradient_step(optimizer, net, lambda: tf.reduce_mean(tf.square(base + net(xt, tf.cast(t, tf.float32)) - eps)))

    return step


def train(spec: NarrowbandTrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Draw (or load) the training channels, train, measure and export; returns the folder."""
    t0 = time.time()
    h, h_held = training_channels(spec)
    data_s = time.time() - t0
    x = to_real(tf.constant(h)).numpy().astype(np.float32)          # [N, Nr, Nt, 2], unit variance per entry
    cov = sample_covariance(h)                                       # the Gaussian fit: backbone, bound, LMMSE
    tf.keras.utils.set_random_seed(spec.training.seed)               # the initial weights: seeded, whatever ran before
    net = build_network(spec)
    backbone = None
    chosen = {}
    if spec.network.backbone == "gaussian":
        backbone, chosen = gaussian_backbone(spec, cov, h_held)
        for w in net.c5.weights:                                     # the residual starts at zero
            w.assign(tf.zeros_like(w))
    tr = spec.training
    optimizer = loop.cosine_adam(tr.learning_rate, tr.steps)
    tf.keras.utils.set_random_seed(tr.seed)
    rng = tf.random.Generator.from_seed(tr.seed)
    step = _step_fn(net, spec, optimizer, rng, backbone)
    pick = np.random.default_rng(tr.seed)
    losses = loop.run_steps(step, lambda _: (tf.constant(x[pick.integers(0, len(x), tr.batch_size)]),), tr.steps,
                       spec.name, progress)
    train_s = time.time() - t0
    output = loop.export_dir(spec)
    d = spec.diffusion
    info = {"name": spec.name, "spec": spec.model_dump(mode="json"), "source": source, "samples": len(h),
            "held_out": len(h_held), **chosen,
            "data_s": round(data_s, 1), "wall_s": round(train_s, 1), "parameters": count_parameters(net),
            "final_loss": losses[-1][1] if losses else None, **loop.provenance()}
    extra = {"task": TASK, "parameterisation": "eps", "data_scale": math.sqrt(2.0),
             "schedule": {"kind": "linear_beta", "T": d.T, "beta_start": d.beta_start, "beta_end": d.beta_end},
             "profiles": spec.data.profiles, "fit_samples": {p: n - int(round(spec.data.validation * n))
                                                             for p, n in spec.data.profiles.items()},
             "channel": spec.channel.model_dump(), "training": info}
    shape = (spec.channel.num_rx, spec.channel.num_tx)
    mixture = backbone.to_mixture({"samples": len(h), "rank": backbone.rank}) if backbone is not None else None
    save_checkpoint(output, net, data_shape=shape, extra=extra, prior=mixture)
    if backbone is not None and len(h_held):
        extra["residual_gate"] = residual_gate(output, h_held)
        save_checkpoint(output, net, data_shape=shape, extra=extra, prior=mixture)
    t1 = time.time()
    info["measured"] = evaluate(output, spec, cov)
    info["eps_mse"] = eps_mse_table(output, spec, cov)
    info["eval_s"] = round(time.time() - t1, 1)
    save_checkpoint(output, net, data_shape=shape, extra={**extra, "training": info}, prior=mixture)
    atomic_write(output / "card.md", model_card(info))
    atomic_write(output / "eps_mse.csv", eps_csv(info["eps_mse"]))
    return output



#: Most held-out channels the residual gate is measured on (evenly spaced over the set, so
#: every profile of a pooled model keeps its share).
GATE_CHANNELS = 1000


def residual_gate(model_dir: Path, h_held: np.ndarray) -> list:
    """Per step ``t`` (index 0 unused): 1 where the network's residual lowers the
    noise-prediction error of the backbone alone on the held-out channels (at most
    :data:`GATE_CHANNELS` of them), else 0."""
    from ..narrowband.network_prior import NetworkPrior

    if len(h_held) > GATE_CHANNELS:
        h_held = h_held[np.linspace(0, len(h_held) - 1, GATE_CHANNELS).round().astype(int)]
    full, alone = NetworkPrior(str(model_dir)), NetworkPrior(str(model_dir), network=False)
    steps = list(range(1, full.T + 1))
    curve = eps_mse_curve({"net": full.eps, "backbone": alone.eps}, h_held, full.alpha_bar, steps, seed=11, draws=1)
    return [0.0] + [float(n <= g) for n, g in zip(curve["net"], curve["backbone"])]


def fresh_channels(spec: NarrowbandTrainSpec, profile: str, n: int) -> np.ndarray:
    """``n`` fresh test channels of ``profile`` (the evaluation seed; never a training set)."""
    return spec.channel.model().draw_many(profile, n, spec.evaluation.seed + 1)


def eps_mse_table(model_dir: Path, spec: NarrowbandTrainSpec, cov: np.ndarray, num_channels: int = 256) -> dict:
    """Per profile: the noise-prediction error per step on fresh channels of the model and of
    the exact Gaussian denoiser of the training channels (``{profile: {"t": [...],
    "model": [...], "gaussian": [...]}}``; all ``T`` steps)."""
    from ..narrowband.network_prior import NetworkPrior

    ch = spec.channel
    model = NetworkPrior(str(model_dir), (ch.num_rx, ch.num_tx))
    optimum = GaussianMatrixPrior(cov, (ch.num_rx, ch.num_tx))
    abar = model.alpha_bar
    gauss = lambda x, t: optimum.eps(x, np.sqrt(abar[t]), np.sqrt(1.0 - abar[t]))  # noqa: E731
    steps = list(range(1, model.T + 1))
    out = {}
    for p in spec.data.profiles:
        curve = eps_mse_curve({"model": model.eps, "gaussian": gauss}, fresh_channels(spec, p, num_channels), abar,
                              steps, seed=spec.evaluation.seed, draws=1)
        out[p] = {"t": steps, **{k: [round(v, 6) for v in c] for k, c in curve.items()}}
    return out


def evaluate(model_dir: Path, spec: NarrowbandTrainSpec, cov: np.ndarray) -> dict:
    """NMSE [dB] per profile and SNR on fresh channels: the receivers' default sampler
    (Gaussian-posterior chain, its surrogate the model's backbone where it has one, as in
    the receivers) and Card B's sampler as published (uninformative likelihood, zeta 1)
    with this model, and LMMSE with the sample covariance of the training channels."""
    from ..narrowband.linear_gaussian import GaussianMixtureLinear
    from ..narrowband.network_prior import NetworkPrior
    from ..narrowband.pilots import PilotOperator, complex_normal, qpsk_pilots
    from ..narrowband.receivers.diffusion_common import (
        DiffusionParams,
        fit_covariance,
        make_sampler,
    )
    from ..narrowband.samplers import posterior_sample

    ev, ch = spec.evaluation, spec.channel
    prior = NetworkPrior(str(model_dir), (ch.num_rx, ch.num_tx))
    rng = tf.random.Generator.from_seed(ev.seed)
    num_pilots = max(1, int(round(ev.pilot_density * ch.num_tx)))
    op = PilotOperator(qpsk_pilots(ch.num_tx, num_pilots, rng, tf.complex64))
    sampler = make_sampler(DiffusionParams(), lambda: [fit_covariance(prior, lambda: cov)], ch.num_rx, prior.alpha_bar)
    nmse = lambda a, b: round(float(10 * np.log10(np.sum(np.abs(a - b) ** 2) / np.sum(np.abs(b) ** 2))), 2)  # noqa: E731
    out = {}
    for p in spec.data.profiles:
        h = tf.constant(fresh_channels(spec, p, ev.num_channels))
        for snr in ev.snr_db:
            nv = 10.0 ** (-snr / 10.0)
            y = op.observe(h, nv, rng)
            h_gp = sampler(prior.eps, y, op, nv, seed=ev.seed)[0]
            h_dm = posterior_sample(prior.eps, y, op, nv, prior.alpha_bar, complex_normal(h.shape, rng, tf.complex64))
            h_lm = GaussianMixtureLinear(cov[None], [1.0], op.x.numpy(), nv, ch.num_rx)(y)[0]
            out[f"CDL-{p}, {snr:g} dB"] = {"gp": nmse(h_gp.numpy(), h.numpy()), "dm": nmse(h_dm.numpy(), h.numpy()),
                                          "lmmse": nmse(h_lm.numpy(), h.numpy())}
    return out
