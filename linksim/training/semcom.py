"""Training program of the semantic-communication systems (:func:`train_semcom`).

A :class:`SemcomTrainSpec` names the system (``system``, ``k`` or ``cbr``, ``users``,
``fading``, the training SNR range, the network profile, the diffusion and sampler
settings); :func:`train_semcom` trains it end-to-end with Adam on the train split of the
8x8 digits (each step draws one SNR per image uniformly in ``snr_db`` [dB], so one model
serves a whole SNR sweep), measures PSNR and SSIM on the test split at every evaluation
SNR and exports the system (:meth:`~.system.SemanticSystem.save`) with a ``card.md``.

With two users each user gets an independent batch of training images; at evaluation
user 0 sends the test split in order and user 1 the same images rolled by half the split
(every pair is two different images), and the metrics pool both users.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Literal, Optional

import keras
import numpy as np
import tensorflow as tf
from pydantic import Field, model_validator

from ..config import StrictTyped
from ..data.images import TEST_SIZE, image_shape, load_images, to_unit
from ..provenance import atomic_write
from ..semcom.files import save_system
from ..semcom.system import DATASET, SemanticSystem, default_schedule
from ..sums import image_stats
from . import loop

__all__ = ["SemcomTrainSpec", "DiffusionSettings", "TrainingSettings", "EvaluationSettings",
           "load_semcom_spec", "train_semcom", "train_step_fn", "evaluate", "condition_check", "image_sums", "model_card",
           "DATASET"]

EVAL_BATCH = 512


class DiffusionSettings(StrictTyped):
    T: int = Field(200, ge=2, le=10000, description="Diffusion steps of training (largest time).")
    schedule: Literal["linear_beta"] = Field(
        "linear_beta", description="DDPM linear betas, rescaled to T: beta from 0.1/T to 20/T (alpha(T) ~ 0.0055).")
    sample_steps: int = Field(50, ge=1, description="Sampler steps at decoding (uniform in time from T to 0).")
    eta: float = Field(0.0, ge=0, le=1, description="DDIM-eta of the sampler: 0 = DDIM (deterministic given the "
                                                     "initial noise), 1 = ancestral DDPM.")
    samples: int = Field(1, ge=1, description="Posterior samples averaged into the point estimate (1 as the paper).")
    parameterisation: Literal["eps", "v", "x0"] = Field(
        "v", description="What the decoder predicts and its loss's target: eps (the paper's noise MSE: the clean-image "
                         "error weighted by alpha^2/beta^2, so the latent gets almost no gradient at large tau), v or x0.")


class TrainingSettings(StrictTyped):
    steps: int = Field(3000, ge=1)
    batch_size: int = Field(128, ge=1, description="Images per user and step.")
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Adam's initial rate (cosine decay to 5 %).")
    seed: int = Field(0, ge=0, description="Seeds the weights, the batches and the channel draws.")


class EvaluationSettings(StrictTyped):
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 5.0, 10.0, 15.0, 20.0], min_length=1)
    num_test: int = Field(TEST_SIZE, ge=1, le=TEST_SIZE, description="Test images (of the test split).")
    seed: int = Field(1, ge=0, description="Seeds the channel and sampler draws of the evaluation.")


class SemcomTrainSpec(StrictTyped):
    """What to train (see the module docstring). Give exactly one of ``k`` and ``cbr``."""

    kind: Literal["semcom"] = "semcom"
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    system: Literal["ae", "vae", "dae"] = Field(description="ae: autoencoder; vae: variational autoencoder; dae: diffusion autoencoder.")
    k: Optional[int] = Field(None, ge=1, description="Complex channel symbols per image.")
    cbr: Optional[float] = Field(None, gt=0, description="Channel bandwidth ratio k / n (n = 64 pixels): "
                                                         "k = round(cbr * 64).")
    users: Literal[1, 2] = 1
    fading: Literal["awgn", "rayleigh"] = "awgn"
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 20.0], min_length=2, max_length=2,
                                description="Training SNR range [min, max] dB, drawn uniformly per image.")
    network: Literal["cpu", "paper"] = Field("cpu", description="Profile of every network.")
    beta_kl: float = Field(1e-3, ge=0, description="vae: weight of the KL term (KL per latent dimension; the "
                                                   "MSE is per pixel on images in [-1, 1]).")
    diffusion: DiffusionSettings = Field(default_factory=DiffusionSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")

    @model_validator(mode="after")
    def _consistent(self):
        if (self.k is None) == (self.cbr is None):
            raise ValueError("give exactly one of k and cbr")
        if self.num_symbols < 1:
            raise ValueError(f"cbr {self.cbr} gives k = 0 symbols for {self.pixels} pixels")
        if self.snr_db[0] > self.snr_db[1]:
            raise ValueError(f"snr_db must be [min, max], got {self.snr_db}")
        return self

    @property
    def pixels(self) -> int:
        """``n``, the pixels per image of the data set (64)."""
        hgt, wid = image_shape(DATASET)
        return hgt * wid

    @property
    def num_symbols(self) -> int:
        """``k`` (given, or ``round(cbr * n)``)."""
        return int(self.k) if self.k is not None else int(round(self.cbr * self.pixels))

    def schedule_config(self) -> dict:
        return default_schedule(self.diffusion.T)


def read_spec(model, path, overrides=None):
    """Read a YAML spec and validate it as ``model`` (``--set key=value`` overrides applied
    first)."""
    from ..config import apply_overrides, read_yaml, validate_model
    from ..errors import UserError

    data = read_yaml(path)
    if not data:
        raise UserError("the training spec is empty; it needs at least a name and a kind", source=str(path))
    overrides = list(overrides or [])
    return validate_model(model, apply_overrides(data, overrides, str(path)), str(path), overrides)


def load_semcom_spec(path, overrides=None) -> SemcomTrainSpec:
    """Read and validate a YAML spec (``--set key=value`` overrides applied first)."""
    return read_spec(SemcomTrainSpec, path, overrides)


# ----------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------
def image_sums(x_hat_unit, x_unit) -> dict:
    """Image-quality sums of a batch (:func:`linksim.sums.image_stats` on any leading axes).

    Input
    -----
    x_hat_unit, x_unit : [..., H, W], float
        Reconstructed and sent images in ``[0, 1]``.

    Output
    ------
    dict of float64 scalars: ``img_err`` (sum of squared errors), ``img_pixels``,
    ``ssim_sum`` (sum of per-image SSIM, 7x7 window, sigma 1.5, ``max_val = 1``),
    ``images``.
    """
    x = tf.convert_to_tensor(x_unit)
    shape = tf.shape(x)[-2:]
    flat = tf.concat([[-1], shape], 0)
    return image_stats(tf.reshape(x_hat_unit, flat), tf.reshape(x, flat))


def user_images(x_unit: np.ndarray, users: int) -> np.ndarray:
    """Test images per user: ``[N, H, W]`` -> ``[U, N, H, W]`` (user ``u`` rolled by
    ``u * N // U``)."""
    n = len(x_unit)
    return np.stack([np.roll(x_unit, -(u * n // users), axis=0) for u in range(users)])


def evaluate(system: SemanticSystem, x_unit: np.ndarray, snr_db, fading: str, seed: int = 1,
             batch: int = EVAL_BATCH) -> dict:
    """PSNR and mean SSIM of ``system`` at each SNR.

    Input
    -----
    x_unit : [N, H, W], float in [0, 1]
        Test images (:func:`user_images` spreads them over the users).
    snr_db : list of float

    Output
    ------
    ``{f"{snr:g}": {"psnr_db", "ssim", "mse"}}`` (pooled over users and images).
    """
    xs = user_images(np.asarray(x_unit, np.float32), system.users)
    rng = tf.random.Generator.from_seed(seed)
    hgt, wid = system.data_shape

    @tf.function(input_signature=[tf.TensorSpec([system.users, None, hgt, wid], tf.float32),
                                  tf.TensorSpec([None], tf.float32)])
    def sums(x, snr):
        return image_sums(system.transmit(x, snr, fading, rng), x)

    out = {}
    for snr in snr_db:
        total = {}
        for i in range(0, xs.shape[1], batch):
            x = tf.constant(xs[:, i:i + batch])
            for key, v in sums(x, tf.fill([x.shape[1]], float(snr))).items():
                total[key] = total.get(key, 0.0) + float(v)
        mse = total["img_err"] / total["img_pixels"]
        out[f"{snr:g}"] = {"psnr_db": round(-10.0 * math.log10(mse), 3) if mse > 0 else math.inf,
                           "ssim": round(total["ssim_sum"] / total["images"], 4), "mse": mse}
    return out


def condition_check(system: SemanticSystem, x_unit: np.ndarray, x_train_unit: np.ndarray, snr_db: float,
                    fading: str, seed: int = 1) -> dict:
    """Does the decoder use the received latent? PSNR [dB] of user 0's images decoded from

    - ``psnr_db``: the received latent;
    - ``psnr_shuffled_db``: the latent received for another image of the batch (a fixed
      derangement; the same channel and sampler draws);
    - ``psnr_mean_image_db``: no decoder at all, the mean image of the train split (the
      trivial estimate that needs no latent).

    Input
    -----
    x_unit : [N, H, W], float in [0, 1]
        Test images (``N >= 2``).
    x_train_unit : [M, H, W], float in [0, 1]
    snr_db : float

    Output
    ------
    dict of float
    """
    xs = tf.constant(user_images(np.asarray(x_unit, np.float32), system.users))
    n = xs.shape[1]
    y = system.channel(system.encode(xs), float(snr_db), fading, tf.random.Generator.from_seed(seed))
    shift = (np.arange(n) + n // 2) % n  # image i gets the latent of image i + n/2
    rng = tf.random.Generator.from_seed(seed + 1)
    decode = tf.function(lambda v: system.decode(v, rng)[0])  # one trace for both latents

    def psnr(latent):
        rng.reset_from_seed(seed + 1)  # the same sampler draws for both
        mse = float(tf.reduce_mean(tf.square(decode(latent) - xs[0])))
        return round(-10.0 * math.log10(mse), 3)

    out = {"psnr_db": psnr(y), "psnr_shuffled_db": psnr(tf.gather(y, shift))}
    mean_image = np.broadcast_to(np.mean(x_train_unit, axis=0), xs.shape[1:])
    out["psnr_mean_image_db"] = round(-10.0 * math.log10(float(np.mean((mean_image - xs[0].numpy()) ** 2))), 3)
    return out


# ----------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------
def train_step_fn(system: SemanticSystem, optimizer, spec: SemcomTrainSpec, rng: tf.random.Generator):
    """One Adam step: ``step(x_unit [U, B, H, W]) -> loss`` (a ``tf.function``; the SNR
    per image is drawn uniformly in ``spec.snr_db`` from ``rng``)."""
    lo, hi = (float(s) for s in spec.snr_db)
    variables = system.trainable_variables

    @tf.function
    def step(x):
        snr = rng.uniform(tf.shape(x)[1:2], lo, hi)
        return loop.gradient_step(optimizer, variables, lambda: system.training_loss(x, snr, spec.fading, rng, spec.beta_kl))

    return step


def build_system(spec: SemcomTrainSpec) -> SemanticSystem:
    """Untrained system of ``spec`` (weights seeded by ``training.seed``)."""
    keras.utils.set_random_seed(spec.training.seed)
    d = spec.diffusion
    shape = image_shape(DATASET)
    return SemanticSystem.create(spec.system, spec.num_symbols, spec.users, spec.network, shape,
                                 schedule=spec.schedule_config(), sample_steps=d.sample_steps, eta=d.eta,
                                 num_samples=d.samples, parameterisation=d.parameterisation)


def train_semcom(spec: SemcomTrainSpec, progress: bool = True, source: str = "") -> Path:
    """Train, evaluate and export the system of ``spec``; returns the export folder.

    Same spec and seed give the same weights on one machine (seeded initialisation,
    batches and channel draws).
    """
    t_start = time.time()
    tr = spec.training
    output = loop.export_dir(spec)
    system = build_system(spec)
    x_train = to_unit(load_images(DATASET, "train"))
    x_test = to_unit(load_images(DATASET, "test"))[: spec.evaluation.num_test]
    optimizer = loop.cosine_adam(tr.learning_rate, tr.steps)
    optimizer.build(system.trainable_variables)
    step = train_step_fn(system, optimizer, spec, tf.random.Generator.from_seed(tr.seed))
    data_rng = np.random.default_rng(tr.seed)

    def batch(_):
        return (tf.constant(x_train[data_rng.integers(0, len(x_train), (spec.users, tr.batch_size))]),)

    t_loop = time.time()
    running = loop.run_steps(step, batch, tr.steps, spec.name, progress, every=25).final
    train_s = time.time() - t_start
    step_s = (time.time() - t_loop) / tr.steps
    t_eval = time.time()
    measured = evaluate(system, x_test, spec.evaluation.snr_db, spec.fading, spec.evaluation.seed)
    guard_snr = float(np.median(spec.evaluation.snr_db))
    guard = {"snr_db": guard_snr, **condition_check(system, x_test, x_train, guard_snr, spec.fading,
                                                     spec.evaluation.seed)}
    info = {
        "name": spec.name, "spec": spec.model_dump(mode="json"), "source": source,
        "data": {"dataset": DATASET, "shape": list(system.data_shape), "train": len(x_train), "test": len(x_test)},
        "k": system.k, "cbr": round(system.k / spec.pixels, 4), "steps": tr.steps,
        "wall_s": round(train_s, 1), "step_s": round(step_s, 4), "eval_s": round(time.time() - t_eval, 1),
        "final_loss": round(running, 6), "parameters": system.count_parameters(), "measured": measured,
        "condition_check": guard,
        **loop.provenance(),
    }
    save_system(system, output, card_info=info)
    atomic_write(output / "card.md", model_card(info))
    return output


def model_card(info: dict) -> str:
    """``card.md`` of an exported system (from the ``info`` that :func:`train_semcom` stores)."""
    sp = info["spec"]
    d = sp["diffusion"]
    params = info["parameters"]
    nets = ", ".join(f"{name} {n}" for name, n in params.items() if name != "total")
    decoder = {"ae": "matched decoder (mirrored transposed convolutions), MSE loss",
               "vae": f"variational encoder (mean / log-variance heads), matched decoder, MSE + {sp['beta_kl']:g} KL",
               "dae": f"conditional DDPM decoder (U-Net, {d.get('parameterisation', 'eps')}-prediction and loss, "
                      f"linear-beta T = {d['T']} rescaled), "
                      f"{d['sample_steps']} sampler steps, eta {d['eta']:g}, {d['samples']} sample(s) averaged"}
    rows = "\n".join(f"| {snr} | {m['psnr_db']} | {m['ssim']} |" for snr, m in info["measured"].items())
    data = info["data"]
    tr = sp["training"]
    return f"""# {info['name']}

Semantic communication (deep JSCC) system trained by `linksim train {info['source']}`.

| | |
|---|---|
| data | `{data['dataset']}` {tuple(data['shape'])} images, {data['train']} train / {data['test']} test |
| system | `{sp['system']}`: {decoder[sp['system']]} |
| channel | k = {info['k']} complex symbols per image (CBR {info['cbr']}), {sp['users']} user(s), {sp['fading']}, training SNR uniform in {sp['snr_db']} dB (the decoder is not told the SNR) |
| networks | profile `{sp['network']}`, {params['total']} parameters ({nets}) |
| training | {info['steps']} steps, batch {tr['batch_size']} per user, Adam lr {tr['learning_rate']:g} (cosine), seed {tr['seed']}, final loss {info['final_loss']} |
| time | {info['wall_s']} s wall ({info['step_s'] * 1e3:.1f} ms per step), evaluation {info['eval_s']} s |
{loop.revision_row(info)}

Measured on the {data['test']} test images{' (both users pooled)' if sp['users'] == 2 else ''}: PSNR = 10 log10(1 / MSE)
with the MSE over all pixels in [0, 1], mean SSIM per image (7x7 Gaussian window, sigma 1.5):

| SNR [dB] | PSNR [dB] | SSIM |
|---|---|---|
{rows}
{_guard_lines(info.get("condition_check"))}"""


def _guard_lines(guard: dict | None) -> str:
    if not guard:
        return ""
    return f"""
Does the decoder use the latent? User 0's test images at {guard['snr_db']:g} dB, PSNR [dB]:

| decoded from | PSNR [dB] |
|---|---|
| the received latent | {guard['psnr_db']} |
| the latent of another image (shuffled) | {guard['psnr_shuffled_db']} |
| no latent: the mean train image | {guard['psnr_mean_image_db']} |
"""


# the names `linksim train` calls (spec kind: semcom)
load_spec = load_semcom_spec


def train(spec: SemcomTrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """``linksim train`` entry: :func:`train_semcom` (``resume`` is not supported: the
    systems train in minutes)."""
    return train_semcom(spec, progress=progress, source=source)
