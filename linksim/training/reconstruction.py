"""Training program of the reconstruction stages (Card D, case study 1):
``linksim train scenarios/train/ddpm_digits_cpu.yaml`` (spec ``kind: reconstruction``).

The (clean, received) image pairs come from linksim's own link: the spec names an image
scenario; its link sends the **train** split at SNRs drawn uniformly from
``data.snr_db`` for every code rate of ``data.coderates``, and the decoded images are the
condition. Then either

- ``task: ddpm`` — a conditional DDPM (eps-prediction, linear-beta schedule with ``T``
  steps): ``|eps - net(x_t, t, received)|^2`` with ``x_t = alpha_t x + beta_t eps``;
- ``task: regressor`` — the same backbone without ``x_t`` and ``t``, trained with
  ``|received + net(received) - x|^2`` (the MSE-optimal one-step estimate, as a
  correction of the received image).

The model is measured on the test split (PSNR of the received and of the reconstructed
images per SNR and code rate) and exported with a card to ``linksim/zoo/<name>/``.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import Field, model_validator

from ..config import FolderName, Strict, apply_overrides, read_yaml, validate_model
from ..diffusion.checkpoints import save_checkpoint
from ..diffusion.nets.image import PROFILES, ImageDenoiserNet
from ..diffusion.nets.mixer import count_parameters
from ..diffusion.parameterisation import target
from ..diffusion.schedules import make_schedule
from ..errors import UserError
from ..provenance import atomic_write
from ..scenario import load_scenario, with_value
from . import loop

TASKS = {"ddpm": "reconstruction-ddpm", "regressor": "reconstruction-regressor"}


class PairsSpec(Strict):
    scenario: str = Field(description="Image scenario whose link makes the pairs (path relative to the spec).")
    coderates: list[float] = Field(min_length=1, description="LDPC code rates (link.coderate) the pairs are made with, in equal shares.")
    snr_db: list[float] = Field(min_length=2, max_length=2, description="SNR range [dB]; each batch draws its SNR uniformly.")
    pairs: int = Field(20000, ge=64, description="Training pairs (split over the code rates).")
    batch_size: int = Field(128, ge=1, description="Codewords per link batch.")
    seed: int = Field(0, ge=0)


class NetSpec(Strict):
    profile: Literal["cpu", "paper"] = "cpu"
    width: Optional[int] = Field(None, ge=8, description="Override of the profile's width.")


class DDPMSpec(Strict):
    T: int = Field(200, ge=2, le=4000, description="Diffusion steps of the linear-beta schedule.")
    beta_start: Optional[float] = Field(None, gt=0, lt=1, description="First beta (default 0.1 / T: DDPM's 1e-4 at T = 1000).")
    beta_end: Optional[float] = Field(None, gt=0, lt=1, description="Last beta (default 20 / T: DDPM's 0.02 at T = 1000, so that x_T is noise for any T).")

    @model_validator(mode="after")
    def _scaled(self):
        self.beta_start = self.beta_start or 0.1 / self.T
        self.beta_end = self.beta_end or min(20.0 / self.T, 0.999)
        return self


class OptimSpec(Strict):
    steps: int = Field(3000, ge=1)
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(2e-3, gt=0, le=1)
    seed: int = Field(1, ge=0)


class EvalSpec(Strict):
    snr_db: list[float] = Field(default_factory=lambda: [4.0, 8.0, 12.0], min_length=1)
    num_images: int = Field(400, ge=1, description="Test images per SNR and code rate (at least).")
    steps: int = Field(50, ge=1, description="DDPM sampler steps.")


class ReconstructionTrainSpec(Strict):
    kind: Literal["reconstruction"] = "reconstruction"
    name: FolderName
    task: Literal["ddpm", "regressor"]
    data: PairsSpec
    network: NetSpec = Field(default_factory=NetSpec)
    diffusion: DDPMSpec = Field(default_factory=DDPMSpec)
    training: OptimSpec = Field(default_factory=OptimSpec)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")


def load_spec(path, overrides=None) -> ReconstructionTrainSpec:
    data = apply_overrides(read_yaml(path), list(overrides or []), str(path))
    spec = validate_model(ReconstructionTrainSpec, data, str(path), list(overrides or []))
    scenario = (Path(path).parent / spec.data.scenario).resolve()
    if not scenario.is_file():
        raise UserError(f"file not found: {scenario}", source=str(path), field="data.scenario")
    spec.data.scenario = str(scenario)
    return spec


# ----------------------------------------------------------------------------------------
# pairs from the link
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _pairs_link(scenario_path: str, split: str, coderate: float):
    """The link of an image scenario sending ``split`` at ``coderate``, without
    reconstruction stages (built once: it holds no random state)."""
    from ..links.registry import build_link

    s = load_scenario(scenario_path, [f"source.split={split}", "reconstruction=[]"])
    link = build_link(with_value(s, "link.coderate", coderate))
    if not hasattr(link, "image_pairs"):
        raise UserError("pairs are made by a flat link (link.ofdm: false)", source=scenario_path, field="link.ofdm")
    return link


def link_pairs(scenario_path: str, split: str, coderate: float, snrs_db, batch_size: int, seed: int):
    """(sent, received) images [N, H, W] in [0, 1] and the SNR of each, one link batch
    per entry of ``snrs_db`` (image scenario, ``split`` of the data set)."""
    from sionna.phy import config as sionna_config

    link = _pairs_link(scenario_path, split, float(coderate))
    sent, received, snr = [], [], []
    for i, value in enumerate(snrs_db):
        sionna_config.seed = seed * 100003 + i
        x, x_hat = link.image_pairs(batch_size, link.noise_variance("snr_db", float(value)))
        sent.append(x.numpy())
        received.append(x_hat.numpy())
        snr.append(np.full(len(sent[-1]), value, np.float32))
    return np.concatenate(sent), np.concatenate(received), np.concatenate(snr)


def training_pairs(spec: ReconstructionTrainSpec, progress: bool = True):
    from tqdm.auto import tqdm

    d = spec.data
    rng = np.random.default_rng(d.seed)
    xs, ys = [], []
    per_rate = -(-d.pairs // len(d.coderates))
    bar = tqdm(total=per_rate * len(d.coderates), desc="pairs from the link", unit="image", disable=not progress)
    for j, rate in enumerate(d.coderates):
        got = 0
        while got < per_rate:
            snrs = rng.uniform(d.snr_db[0], d.snr_db[1], 16)
            x, y, _ = link_pairs(d.scenario, "train", rate, snrs, d.batch_size, seed=d.seed * 1000 + j * 100 + len(xs))
            xs.append(x)
            ys.append(y)
            got += len(x)
            bar.update(len(x))
    bar.close()
    return np.concatenate(xs), np.concatenate(ys)


# ----------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------
def build_network(spec: ReconstructionTrainSpec, image_shape) -> ImageDenoiserNet:
    cfg = dict(PROFILES[spec.network.profile])
    if spec.network.width:
        cfg["width"] = spec.network.width
    ddpm = spec.task == "ddpm"
    net = ImageDenoiserNet(T=spec.diffusion.T, cond="image", diffusion=ddpm, zero_output=not ddpm, **cfg)
    return net.build_for(image_shape)


def schedule_config(spec) -> dict:
    d = spec.diffusion
    schedule = make_schedule({"kind": "linear_beta", "T": d.T, "beta_start": d.beta_start, "beta_end": d.beta_end})
    if schedule.alpha_min > 0.05:
        raise UserError(f"x_T keeps alpha(T) = {schedule.alpha_min:.2f} of the image, but sampling starts from pure "
                        "noise: raise diffusion.beta_end or T", field="diffusion.beta_end")
    return schedule.to_config()


def _step_fn(net, spec, optimizer, rng):
    schedule = make_schedule(schedule_config(spec))
    diffusion = spec.task == "ddpm"

    @tf.function(jit_compile=True)
    def step(x, cond):
        b = tf.shape(x)[0]
        if diffusion:
            tau = tf.cast(rng.uniform([b], 1, schedule.T + 1, tf.int32), tf.float32)
            alpha, beta = schedule.alpha_beta(tau[:, None, None, None])
            eps = rng.normal(tf.shape(x))
            xt = alpha * x + beta * eps
            goal = target(x, eps, alpha, beta, "eps")
        else:  # residual: the network learns the correction to the received image
            tau, xt, goal = tf.zeros([b]), x, x - cond
        return loop.gradient_step(optimizer, net, lambda: tf.reduce_mean(tf.square(net(xt, tau, cond) - goal)))

    return step


def train(spec: ReconstructionTrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Make the pairs, train, measure and export; returns the export folder."""
    t0 = time.time()
    x_clean, x_recv = training_pairs(spec, progress)
    pairs_s = time.time() - t0
    shape = x_clean.shape[1:]
    tf.keras.utils.set_random_seed(spec.training.seed)   # the initial weights: seeded, whatever ran before
    net = build_network(spec, shape)
    tr = spec.training
    optimizer = loop.cosine_adam(tr.learning_rate, tr.steps)
    tf.keras.utils.set_random_seed(tr.seed)
    rng = tf.random.Generator.from_seed(tr.seed)
    step = _step_fn(net, spec, optimizer, rng)
    pick = np.random.default_rng(tr.seed)
    signed = lambda a: (2.0 * a - 1.0)[..., None].astype(np.float32)  # noqa: E731

    def batch(_):
        idx = pick.integers(0, len(x_clean), tr.batch_size)
        return tf.constant(signed(x_clean[idx])), tf.constant(signed(x_recv[idx]))

    losses = loop.run_steps(step, batch, tr.steps, spec.name, progress)
    train_s = time.time() - t0
    output = loop.export_dir(spec)
    info = {"name": spec.name, "task": spec.task, "spec": spec.model_dump(mode="json"), "source": source,
            "pairs": len(x_clean), "pairs_s": round(pairs_s, 1), "wall_s": round(train_s, 1),
            "parameters": count_parameters(net), "final_loss": losses[-1][1] if losses else None,
            **loop.provenance()}
    extra = {"task": TASKS[spec.task], "schedule": schedule_config(spec), "parameterisation": "eps", "training": info}
    save_checkpoint(output, net, data_shape=shape, extra=extra)
    info["measured"] = evaluate(output, spec)
    save_checkpoint(output, net, data_shape=shape, extra={**extra, "training": info})
    atomic_write(output / "card.md", model_card(info))
    return output


def evaluate(model_dir: Path, spec: ReconstructionTrainSpec) -> dict:
    """PSNR [dB] of the received and of the reconstructed test images per code rate and
    SNR (images of the test split through the same link)."""
    from ..reconstruction.ddpm import DDPMReconstruction
    from ..reconstruction.regressor import RegressorReconstruction
    from ..sums import image_stats

    shape = _pairs_link(spec.data.scenario, "test", float(spec.data.coderates[0])).image_source.image_shape
    if spec.task == "ddpm":
        stage = DDPMReconstruction(shape, DDPMReconstruction.Params(model=str(model_dir), steps=spec.evaluation.steps))
    else:
        stage = RegressorReconstruction(shape, RegressorReconstruction.Params(model=str(model_dir)))
    out = {}
    for rate in spec.data.coderates:
        for snr in spec.evaluation.snr_db:
            x, y = [], []
            i = 0
            while sum(len(a) for a in x) < spec.evaluation.num_images:
                a, b, _ = link_pairs(spec.data.scenario, "test", rate, [snr], spec.data.batch_size, seed=7 + i)
                x.append(a)
                y.append(b)
                i += 1
            x, y = tf.constant(np.concatenate(x)), tf.constant(np.concatenate(y))
            psnr = {}
            for name, img in (("received", y), ("reconstructed", stage(y))):
                st = image_stats(img, x)
                mse = float(st["img_err"]) / float(st["img_pixels"])
                psnr[name] = round(-10 * math.log10(mse), 2) if mse > 0 else "inf (error-free)"
            out[f"rate {rate:g}, {snr:g} dB"] = psnr
    return out


def model_card(info: dict) -> str:
    sp = info["spec"]
    rows = "\n".join(f"| {k} | {v['received']} | {v['reconstructed']} |" for k, v in info["measured"].items())
    what = ("conditional DDPM (eps-prediction, linear beta "
            f"{sp['diffusion']['beta_start']}..{sp['diffusion']['beta_end']}, T = {sp['diffusion']['T']}); "
            f"measured with {sp['evaluation']['steps']} ancestral sampler steps, one sample per image"
            if info["task"] == "ddpm" else "one-step regressor (the same U-Net without x_t and t) predicting the correction to the received image, MSE loss")
    return f"""# {info['name']}

Image reconstruction stage trained by `linksim train {info['source']}`.

| | |
|---|---|
| model | {what} |
| network | conditional U-Net (`ImageDenoiserNet`), profile `{sp['network']['profile']}`, {info['parameters']} parameters |
| data | {info['pairs']} (clean, received) pairs of the digits train split from the link of `{Path(sp['data']['scenario']).name}` at code rates {sp['data']['coderates']}, SNR uniform in {sp['data']['snr_db']} dB ({info['pairs_s']} s) |
| training | {sp['training']['steps']} steps, batch {sp['training']['batch_size']}, Adam lr {sp['training']['learning_rate']} (cosine), final loss {info['final_loss']} |
| time | {info['wall_s']} s wall on this machine (pairs included; 2 CPU cores for the cpu profile) |
{loop.revision_row(info)}

PSNR [dB] of the test split through the same link (at least {sp['evaluation']['num_images']} images per row):

| code rate, SNR | received | reconstructed |
|---|---|---|
{rows}
"""

