"""Training program of the narrowband diffusion models (Card B): ``linksim train
scenarios/train/moe_vb/<name>.yaml`` (spec ``kind: narrowband``).

One spec trains one DDPM (eps-prediction, linear beta, ``T`` steps) with Card B's FiLM CNN
on the CDL training channels of ``data.profiles`` (``{profile: samples}``): one profile
makes an expert, several the pooled "standard DM" on the aggregated set. The model is
measured on fresh channels of each profile with Card B's sampler (uninformative-prior
likelihood, ``zeta = 1``) next to the LMMSE estimate with the sample covariance of the same
training channels, and exported with a card to ``linksim/zoo/<name>/``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import __version__
from ..diffusion.checkpoints import ZOO, save_checkpoint
from ..diffusion.networks import count_parameters
from ..diffusion.schedules import linear_beta_schedule
from ..results import atomic_write, git_revision, package_versions
from ..scenario import load_yaml_model
from ..training_loop import cosine_adam, run_steps
from .channels import PROFILES as CDL_PROFILES, NarrowbandCDL, training_set
from .film_cnn import PROFILES, FiLMDenoiserNet
from .network_prior import TASK, to_real

__all__ = ["NarrowbandTrainSpec", "load_spec", "train", "evaluate"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelSpec(_Strict):
    num_tx: int = Field(64, ge=2, le=1024, description="BS ULA elements Nt.")
    num_rx: int = Field(16, ge=1, le=256, description="UE ULA elements Nr.")
    carrier_frequency_ghz: float = Field(40.0, gt=0, le=100)
    delay_spread_ns: float = Field(30.0, gt=0, le=3000)
    doppler_hz: float = Field(5.0, ge=0, le=10000)

    def model(self) -> NarrowbandCDL:
        return NarrowbandCDL(**self.model_dump())


class DataSpec(_Strict):
    profiles: dict[str, int] = Field(description="Training channels per CDL profile ({A: 10000}); one profile: an expert; several: the pooled model.")
    seed: int = Field(0, ge=0, description="Seed of the training channels (the scenarios' receivers use the same sets).")

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, v):
        bad = [p for p in v if p not in CDL_PROFILES]
        if bad or not v:
            raise ValueError(f"profiles must be a non-empty map of CDL profiles ({', '.join(CDL_PROFILES)}) to sample counts")
        if any(n < 64 for n in v.values()):
            raise ValueError("at least 64 training channels per profile")
        return v


class NetSpec(_Strict):
    profile: Literal["cpu", "paper"] = "cpu"
    width: Optional[int] = Field(None, ge=4, description="Override of the profile's widest feature depth C.")


class DiffusionSpec(_Strict):
    T: int = Field(100, ge=2, le=2000)
    beta_start: float = Field(1e-4, gt=0, lt=1)
    beta_end: float = Field(0.2, gt=0, lt=1)


class OptimSpec(_Strict):
    steps: int = Field(6000, ge=1)
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(2e-3, gt=0, le=1)
    seed: int = Field(1, ge=0)


class EvalSpec(_Strict):
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 10.0, 20.0], min_length=1)
    pilot_density: float = Field(0.5, gt=0, le=2)
    num_channels: int = Field(64, ge=1, description="Fresh channels per profile and SNR.")
    seed: int = Field(7, ge=0)


class NarrowbandTrainSpec(_Strict):
    kind: Literal["narrowband"] = "narrowband"
    name: str
    channel: ChannelSpec = Field(default_factory=ChannelSpec)
    data: DataSpec
    network: NetSpec = Field(default_factory=NetSpec)
    diffusion: DiffusionSpec = Field(default_factory=DiffusionSpec)
    training: OptimSpec = Field(default_factory=OptimSpec)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")


def load_spec(path, overrides=None) -> NarrowbandTrainSpec:
    return load_yaml_model(NarrowbandTrainSpec, path, overrides)


def training_channels(spec: NarrowbandTrainSpec) -> np.ndarray:
    model = spec.channel.model()
    return np.concatenate([training_set(model, p, n, spec.data.seed) for p, n in spec.data.profiles.items()])


def build_network(spec: NarrowbandTrainSpec) -> FiLMDenoiserNet:
    cfg = dict(PROFILES[spec.network.profile])
    if spec.network.width:
        cfg["width"] = spec.network.width
    return FiLMDenoiserNet(T=spec.diffusion.T, **cfg).build_for((spec.channel.num_rx, spec.channel.num_tx))


def _step_fn(net, spec: NarrowbandTrainSpec, optimizer, rng):
    d = spec.diffusion
    abar = tf.constant(linear_beta_schedule(d.T, d.beta_start, d.beta_end), tf.float32)

    @tf.function(jit_compile=True)
    def step(x):
        b = tf.shape(x)[0]
        t = rng.uniform([b], 1, d.T + 1, tf.int32)
        ab = tf.gather(abar, t)[:, None, None, None]
        eps = rng.normal(tf.shape(x))
        xt = tf.sqrt(ab) * x + tf.sqrt(1.0 - ab) * eps
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(net(xt, tf.cast(t, tf.float32)) - eps))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    return step


def train(spec: NarrowbandTrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Draw (or load) the training channels, train, measure and export; returns the folder."""
    t0 = time.time()
    h = training_channels(spec)
    data_s = time.time() - t0
    x = to_real(tf.constant(h)).numpy().astype(np.float32)          # [N, Nr, Nt, 2], unit variance per entry
    net = build_network(spec)
    tr = spec.training
    optimizer = cosine_adam(tr.learning_rate, tr.steps)
    tf.keras.utils.set_random_seed(tr.seed)
    rng = tf.random.Generator.from_seed(tr.seed)
    step = _step_fn(net, spec, optimizer, rng)
    pick = np.random.default_rng(tr.seed)
    losses = run_steps(step, lambda _: (tf.constant(x[pick.integers(0, len(x), tr.batch_size)]),), tr.steps,
                       spec.name, progress)
    train_s = time.time() - t0
    output = Path(spec.output) if spec.output else ZOO / spec.name
    d = spec.diffusion
    info = {"name": spec.name, "spec": spec.model_dump(mode="json"), "source": source, "samples": len(h),
            "data_s": round(data_s, 1), "wall_s": round(train_s, 1), "parameters": count_parameters(net),
            "final_loss": losses[-1][1] if losses else None, "linksim": __version__,
            "git_revision": git_revision(), "versions": package_versions()}
    extra = {"task": TASK, "parameterisation": "eps", "data_scale": math.sqrt(2.0),
             "schedule": {"kind": "linear_beta", "T": d.T, "beta_start": d.beta_start, "beta_end": d.beta_end},
             "profiles": spec.data.profiles, "channel": spec.channel.model_dump(), "training": info}
    save_checkpoint(output, net, data_shape=(spec.channel.num_rx, spec.channel.num_tx), extra=extra)
    t1 = time.time()
    info["measured"] = evaluate(output, spec, h)
    info["eval_s"] = round(time.time() - t1, 1)
    save_checkpoint(output, net, data_shape=(spec.channel.num_rx, spec.channel.num_tx), extra={**extra, "training": info})
    atomic_write(output / "card.md", model_card(info))
    return output


def evaluate(model_dir: Path, spec: NarrowbandTrainSpec, h_train: np.ndarray) -> dict:
    """NMSE [dB] per profile and SNR on fresh channels: Card B's sampler with this model
    (uninformative likelihood, zeta 1) and the LMMSE estimate with the sample covariance
    of the training channels."""
    from .linear_gaussian import GaussianMixtureLinear, sample_covariance
    from .network_prior import NetworkPrior
    from .pilots import PilotOperator, complex_normal, qpsk_pilots
    from .samplers import posterior_sample

    ev, ch = spec.evaluation, spec.channel
    prior = NetworkPrior(str(model_dir), (ch.num_rx, ch.num_tx))
    rng = tf.random.Generator.from_seed(ev.seed)
    num_pilots = max(1, int(round(ev.pilot_density * ch.num_tx)))
    op = PilotOperator(qpsk_pilots(ch.num_tx, num_pilots, rng, tf.complex64))
    cov = sample_covariance(h_train)
    nmse = lambda a, b: round(float(10 * np.log10(np.sum(np.abs(a - b) ** 2) / np.sum(np.abs(b) ** 2))), 2)  # noqa: E731
    out = {}
    for p in spec.data.profiles:
        h = tf.constant(ch.model().draw_many(p, ev.num_channels, ev.seed + 1))
        for snr in ev.snr_db:
            nv = 10.0 ** (-snr / 10.0)
            y = op.observe(h, nv, rng)
            h_dm = posterior_sample(prior.eps, y, op, nv, prior.alpha_bar, complex_normal(h.shape, rng, tf.complex64))
            h_lm = GaussianMixtureLinear(cov[None], [1.0], op.x.numpy(), nv, ch.num_rx)(y)[0]
            out[f"CDL-{p}, {snr:g} dB"] = {"dm": nmse(h_dm.numpy(), h.numpy()), "lmmse": nmse(h_lm.numpy(), h.numpy())}
    return out


def model_card(info: dict) -> str:
    sp = info["spec"]
    ev = sp["evaluation"]
    rows = "\n".join(f"| {k} | {v['dm']} | {v['lmmse']} |" for k, v in info["measured"].items())
    data = ", ".join(f"CDL-{p}: {n}" for p, n in sp["data"]["profiles"].items())
    ch = sp["channel"]
    return f"""# {info['name']}

Narrowband diffusion prior (Card B) trained by `linksim train {info['source']}`.

| | |
|---|---|
| model | DDPM, eps-prediction, linear beta {sp['diffusion']['beta_start']}..{sp['diffusion']['beta_end']}, T = {sp['diffusion']['T']} |
| network | Card B's FiLM CNN (`FiLMDenoiserNet`), profile `{sp['network']['profile']}`, {info['parameters']} parameters |
| data | {info['samples']} channels ({data}; seed {sp['data']['seed']}), {ch['num_rx']} x {ch['num_tx']} ULAs, {ch['carrier_frequency_ghz']} GHz, {ch['delay_spread_ns']} ns, {ch['doppler_hz']} Hz, first subcarrier ({info['data_s']} s to draw or load) |
| training | {sp['training']['steps']} steps, batch {sp['training']['batch_size']}, Adam lr {sp['training']['learning_rate']} (cosine), final loss {info['final_loss']} |
| time | {info['wall_s']} s wall on this machine (data included), evaluation {info['eval_s']} s |
| revision | linksim {info['linksim']}, git {info['git_revision']} |

NMSE [dB] on {ev['num_channels']} fresh channels per row, pilot density {ev['pilot_density']}
(QPSK pilots): Card B's deterministic sampler with this prior (uninformative-prior
likelihood, zeta = 1, all T steps) and, for reference, LMMSE with the sample covariance of
the same training channels.

| profile, SNR | DM sampler | LMMSE (sample covariance) |
|---|---|---|
{rows}
"""
