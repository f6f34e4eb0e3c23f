"""The training program: ``linksim train scenarios/train/NAME.yaml`` (Card A, Algorithm 1).

It draws (or loads from the cache) the channel data set, fits the prior backbone (a
Gaussian mixture, :func:`linksim.diffusion.gmm.fit_gmm`) on the training split, trains
the network with the spec's noise pattern, writes periodic checkpoints and the loss curve
to the work folder (``--resume`` continues from the last one), then measures the test
NMSE and the error-variance calibration the way a receiver uses the model and exports it
with a card to ``linksim/zoo/<name>/``.

With a backbone the network learns a correction to the backbone's estimate (its output
layer starts at 0, so an untrained network leaves the prior's exact CME); a batch holds
``groups`` time patterns, each shared by ``batch_size / groups`` channels, so the
backbone's ``R x R`` algebra runs once per pattern.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import Field, field_validator, model_validator

from ..config import (
    FolderName,
    Strict,
    apply_overrides,
    override_source,
    read_yaml,
    validate_model,
)
from ..diffusion.checkpoints import load_checkpoint, save_checkpoint
from ..diffusion.estimate import estimate_channel, to_real
from ..diffusion.forward import normalize_data
from ..diffusion.gmm import DATA_SCALE, MixtureDenoiser, fit_gmm
from ..diffusion.nets.mixer import PROFILES, count_macs, count_parameters, make_network
from ..diffusion.parameterisation import (
    RESIDUAL_KINDS,
    Denoiser,
    residual_target,
    target,
)
from ..diffusion.schedules import make_schedule
from ..diffusion.steppers import get_stepper
from ..errors import UserError, echo
from ..provenance import atomic_write
from . import loop
from .channel_card import model_card


def _check_stepper(v: str) -> str:
    try:
        get_stepper(v)
    except UserError as err:  # pydantic names the field
        raise ValueError(err.message) from None
    return v


class DataSpec(Strict):
    spec: str | dict = Field("quickstart", description="Data-set preset, scenario path or spec (see linksim.data.channels).")
    num_samples: int = Field(20000, ge=32, description="Channel samples drawn (train + test).")
    test_fraction: float = Field(0.05, gt=0, lt=0.5, description="Share held out for the test NMSE.")
    seed: int = Field(0, ge=0, description="Seed of the data draw.")


class BackboneSpec(Strict):
    kind: Literal["none", "gmm"] = Field("gmm", description="none: the network alone (Card A); gmm: a Gaussian-mixture prior whose exact denoiser the network corrects.")
    num_components: int = Field(1, ge=1, le=64, description="Mixture components (1: the Gaussian prior of the training covariance).")
    max_rank: int = Field(128, ge=1, le=4096, description="Largest subspace dimension of the prior.")
    energy_tol: float = Field(1e-7, gt=0, lt=1, description="Energy share allowed outside the subspace.")
    fit_samples: int = Field(8000, ge=16, description="Training channels used by the EM fit.")
    iterations: int = Field(30, ge=1, le=500, description="Most EM iterations.")


class DiffusionSpec(Strict):
    schedule: dict = Field(default_factory=lambda: {"kind": "gamma", "T": 100}, description="Schedule config.")
    parameterisation: Literal["eps", "v", "x0"] = "v"
    input_norm: Literal["total", "noise"] = "total"
    data_norm: Literal["unit", "sample"] = Field("unit", description="unit: channels keep their unit average power (data = sqrt(2) h); sample: Card A's per-sample normalisation (receivers then estimate the power).")
    pattern: Literal["same", "independent", "periodical", "car-only", "non-directional", "all", "comb", "receiver"] = Field(
        "receiver", description="Training noise pattern of tau (same = identical diffusion; comb/receiver: the receiver's pilot states).")
    continuous: bool = Field(True, description="Fractional training times (and no rounding in the time embedding).")
    comb: list[int] = Field(default_factory=lambda: [4], min_length=1, description="Comb spacings of the comb pattern.")
    snr_db: list[float] = Field(default_factory=lambda: [-10.0, 30.0], min_length=2, max_length=2, description="SNR range [dB] of the comb pattern.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v):
        try:
            make_schedule(v)
        except (UserError, ValueError, TypeError) as err:
            raise ValueError(str(err)) from None
        return v


class TrainingSpec(Strict):
    steps: int = Field(3000, ge=1)
    batch_size: int = Field(64, ge=1)
    groups: int = Field(8, ge=1, description="Distinct time patterns per batch (each shared by batch_size/groups channels).")
    learning_rate: float = Field(2e-3, gt=0, le=1)
    checkpoint_every: int = Field(500, ge=1)
    seed: int = Field(1, ge=0)
    xla: bool = True

    @model_validator(mode="after")
    def _groups(self):
        if self.batch_size % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide batch_size ({self.batch_size})")
        return self


class EvaluationSpec(Strict):
    comb: int = Field(4, ge=1, le=16, description="Observed: every comb-th subcarrier, all antennas (the receiver's pilots).")
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 10.0, 20.0], description="SNR per observed element.")
    num_test: int = Field(256, ge=1)
    mode: Literal["jump", "ddim", "mean"] = Field("jump", description="Point estimate (see linksim.diffusion.estimate).")
    steps: int = Field(10, ge=1)
    stepper: str = "waterfill"
    eta: float = Field(1.0, ge=0, le=1)
    samples: int = Field(8, ge=1)
    identical: bool = False
    tau_rule: Literal["snr-mean", "tau-mean", "alpha-mean"] = "snr-mean"
    init: Literal["pilots", "ls_linear"] = Field("pilots", description="First estimate: the comb only, or linearly interpolated over all subcarriers (as the receivers' init).")

    @field_validator("stepper")
    @classmethod
    def _stepper(cls, v):
        return _check_stepper(v)


class TrainSpec(Strict):
    name: FolderName
    data: DataSpec = Field(default_factory=DataSpec)
    network: dict = Field(default_factory=lambda: {"profile": "cpu"}, description="profile (cpu | paper) and constructor overrides.")
    backbone: BackboneSpec = Field(default_factory=BackboneSpec)
    diffusion: DiffusionSpec = Field(default_factory=DiffusionSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")
    workdir: Optional[str] = Field(None, description="Checkpoints and loss curve (default results/train/<name>).")

    @model_validator(mode="after")
    def _consistent(self):
        if self.backbone.kind != "none":
            if self.diffusion.parameterisation not in RESIDUAL_KINDS:
                raise ValueError(f"a network on a backbone predicts one of {', '.join(RESIDUAL_KINDS)} "
                                 f"(diffusion.parameterisation)")
            if self.diffusion.data_norm != "unit":
                raise ValueError("a backbone prior needs diffusion.data_norm: unit")
        return self


def load_train_spec(path, overrides=None) -> TrainSpec:
    data = read_yaml(path)
    if isinstance(data, dict) and data.get("kind") == "channel":
        data.pop("kind")
    if not data:
        raise UserError("the training spec is empty; it needs at least a name", source=str(path))
    overrides = list(overrides or [])
    data = apply_overrides(data, overrides, str(path))
    spec = validate_model(TrainSpec, data, str(path), overrides)
    profile = spec.network.get("profile", "cpu")
    if profile not in PROFILES:
        raise UserError(f"unknown profile {echo(profile)}; allowed: {', '.join(PROFILES)}",
                        source=override_source("network.profile", str(path), overrides), field="network.profile")
    if isinstance(spec.data.spec, str) and spec.data.spec.endswith(".yaml"):
        spec.data.spec = str((Path(path).parent / spec.data.spec).resolve())
    return spec


# ----------------------------------------------------------------------------------------
# observations as the receivers see them
# ----------------------------------------------------------------------------------------
def comb_observation(shape, comb: int, snr_db: float):
    """Mask and complex noise std of a comb-pilot first estimate (all antennas)."""
    mask = np.zeros(shape, np.float32)
    mask[..., ::comb] = 1.0
    return mask, mask * np.float32(10 ** (-snr_db / 20))


def interpolate_comb(h_bar: np.ndarray, comb: int) -> np.ndarray:
    """Linear interpolation over subcarriers of a comb observation (constant at the edges)."""
    f = np.arange(h_bar.shape[-1])
    p = f[::comb]
    flat = h_bar.reshape(-1, h_bar.shape[-1])
    out = np.stack([np.interp(f, p, r.real[::comb]) + 1j * np.interp(f, p, r.imag[::comb]) for r in flat])
    return out.reshape(h_bar.shape).astype(h_bar.dtype)


def evaluate(den: Denoiser, h_test: np.ndarray, ev: EvaluationSpec, *, power=1.0, seed: int = 5,
             batch: int = 64) -> dict:
    """Test NMSE [dB] and err_var ratio (reported / measured) per SNR, from comb
    observations shared by the batch (as a receiver's pilots)."""
    from ..data.patterns import observe

    rng = tf.random.Generator.from_seed(seed)
    h = tf.constant(h_test[: ev.num_test])
    kw = dict(mode=ev.mode, identical=ev.identical, tau_rule=ev.tau_rule, power=power, steps=ev.steps,
              stepper=ev.stepper, eta=ev.eta, samples=ev.samples, rng=rng,
              err_var="posterior" if den.backbone is not None else "samples")

    @tf.function
    def est(hb, m, p, h0):
        return estimate_channel(den, hb, m, p, h_init=h0, **kw)[:2]

    out = {"nmse_db": {}, "err_var_ratio": {}}
    for snr in ev.snr_db:
        mask, p = comb_observation((1,) + tuple(h.shape[1:]), ev.comb, snr)
        h_bar = observe(h, np.broadcast_to(mask, h.shape), np.broadcast_to(p, h.shape), rng)
        h0 = tf.constant(interpolate_comb(h_bar.numpy(), ev.comb)) if ev.init == "ls_linear" or ev.identical else h_bar
        if ev.init == "ls_linear" and not ev.identical:
            h_bar, mask, p = h0, np.ones_like(mask), np.full_like(p, 10 ** (-snr / 20))
        err = ref = rep = 0.0
        for i in range(0, int(h.shape[0]), batch):
            h_hat, var = est(h_bar[i:i + batch], tf.constant(mask), tf.constant(p), h0[i:i + batch])
            err += float(tf.reduce_sum(tf.abs(h_hat - h[i:i + batch]) ** 2))
            ref += float(tf.reduce_sum(tf.abs(h[i:i + batch]) ** 2))
            rep += float(tf.reduce_sum(tf.broadcast_to(var, tf.shape(h_hat))))
        out["nmse_db"][f"{snr:g}"] = round(10 * math.log10(err / ref), 2)
        out["err_var_ratio"][f"{snr:g}"] = round(rep / err, 3)
    return out


# ----------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------
def build_denoiser(spec: TrainSpec, data_shape, prior=None):
    net_cfg = dict(spec.network)
    profile = net_cfg.pop("profile", "cpu")
    net_cfg.setdefault("schedule", make_schedule(spec.diffusion.schedule).to_config())
    net_cfg.setdefault("round_tau", not spec.diffusion.continuous)
    if prior is not None:
        net_cfg.setdefault("in_features", 2)
        net_cfg.setdefault("zero_output", True)
    net = make_network(profile, **net_cfg)
    net.build_for(tuple(data_shape))
    backbone = MixtureDenoiser(prior, spec.diffusion.schedule) if prior is not None else None
    den = Denoiser(net, spec.diffusion.schedule, spec.diffusion.parameterisation, spec.diffusion.input_norm,
                   backbone=backbone)
    return net, den


def _train_step_fn(net, den: Denoiser, optimizer, spec: TrainSpec, rng):
    """One Adam step on a batch ``h`` [B, Na, Nc, 2] (data units). The batch's noisy
    states and targets are drawn in graph mode (the backbone's complex Cholesky algebra
    runs ~20x slower under XLA on the CPU); the network's update is XLA-compiled when
    ``training.xla``."""
    from ..data.patterns import training_tau

    schedule = den.schedule
    d = spec.diffusion
    groups = spec.training.groups

    @tf.function
    def states(h):
        b, na, nc = h.shape[0], h.shape[1], h.shape[2]
        n = b // groups
        tau_g = training_tau(d.pattern, (groups, na, nc), schedule.T, rng, continuous=d.continuous,
                             schedule=schedule, comb=d.comb, snr_db=d.snr_db)
        tau_g = tf.cast(tau_g, h.dtype)[..., None]                        # [G, Na, Nc, 1]
        tau = tf.repeat(tau_g, n, axis=0)                                 # [B, Na, Nc, 1]
        alpha, beta = schedule.alpha_beta(tau)
        xi = rng.normal(tf.shape(h), dtype=h.dtype)
        x = alpha * h + beta * xi
        if den.backbone is None:
            return x, tau, tf.zeros_like(x), target(h, xi, alpha, beta, den.parameterisation)
        post = den.backbone.denoise_groups(tf.reshape(x, [groups, n, na, nc, 2]), tau_g, variance=False)
        x0_b = to_real(tf.reshape(post["mean"], [b, na, nc]) * DATA_SCALE)
        return x, tau, x0_b, residual_target(h, x0_b, alpha, beta, den.parameterisation)

    @tf.function(jit_compile=spec.training.xla)
    def update(x, tau, x0_b, goal):
        def loss():
            out, _, _ = den.network_output(x, tau, x0_b if den.backbone is not None else None)
            return tf.reduce_mean(tf.square(out - goal))

        return loop.gradient_step(optimizer, net, loss)

    return lambda h: update(*states(h))


def train(spec: TrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Train and export; returns the export folder."""
    from tqdm.auto import tqdm

    from ..data.channels import cached_dataset

    t_start = time.time()
    workdir = Path(spec.workdir or f"results/train/{spec.name}")
    output = loop.export_dir(spec)
    workdir.mkdir(parents=True, exist_ok=True)
    data = cached_dataset(spec.data.spec, spec.data.num_samples, spec.data.seed)
    train_set, test_set = data.train_test_split(spec.data.test_fraction, seed=spec.data.seed)
    shape = train_set.shape
    if spec.diffusion.data_norm == "unit":
        h_train = to_real(tf.constant(train_set.h) * DATA_SCALE).numpy()
    else:
        h_train = to_real(normalize_data(tf.constant(train_set.h))[0]).numpy()
    prior = None
    fit_s = 0.0
    if spec.backbone.kind == "gmm":
        bb = spec.backbone
        t_fit = time.time()
        prior = fit_gmm(train_set.h[: bb.fit_samples], bb.num_components, max_rank=bb.max_rank,
                        energy_tol=bb.energy_tol, iterations=bb.iterations, seed=spec.data.seed, data_shape=shape)
        fit_s = time.time() - t_fit
    net, den = build_denoiser(spec, shape, prior)
    tr = spec.training
    schedule_lr = tf.keras.optimizers.schedules.CosineDecay(tr.learning_rate, tr.steps, alpha=0.05)
    optimizer = tf.keras.optimizers.Adam(schedule_lr)
    optimizer.build(net.trainable_variables)
    rng = tf.random.Generator.from_seed(tr.seed)
    step_fn = _train_step_fn(net, den, optimizer, spec, rng)
    state_path, last = workdir / "state.npz", workdir / "last"
    losses: list[tuple[int, float]] = []
    start = 0
    if resume and state_path.exists():
        state = np.load(state_path, allow_pickle=False)
        start = int(state["step"])
        loaded, _ = load_checkpoint(last, shape)
        for v, w in zip(net.weights, loaded.weights):
            v.assign(w)
        for i, v in enumerate(optimizer.variables):
            v.assign(state[f"opt_{i}"])
        rng.state.assign(state["rng"])
        losses = [tuple(r) for r in np.loadtxt(workdir / "loss.csv", delimiter=",", skiprows=1, ndmin=2)]
        losses = [(int(s), float(l)) for s, l in losses]
    data_rng = np.random.default_rng(tr.seed + start)
    bar = tqdm(total=tr.steps, initial=start, desc=f"train {spec.name}", unit="step", disable=not progress,
               dynamic_ncols=True)
    running = None
    for step in range(start, tr.steps):
        idx = data_rng.integers(0, len(h_train), tr.batch_size)
        loss = float(step_fn(tf.constant(h_train[idx])))
        running = loss if running is None else 0.98 * running + 0.02 * loss
        bar.update(1)
        if (step + 1) % 50 == 0:
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            losses.append((step + 1, running))
        if (step + 1) % tr.checkpoint_every == 0 or step + 1 == tr.steps:
            save_checkpoint(last, net, data_shape=shape, extra={**den.get_config(), "training": {"step": step + 1}})
            np.savez(state_path, step=step + 1, rng=rng.state.numpy(),
                     **{f"opt_{i}": v.numpy() for i, v in enumerate(optimizer.variables)})
            atomic_write(workdir / "loss.csv", "step,loss\n" + "".join(f"{s},{l:.6f}\n" for s, l in losses))
    bar.close()
    train_seconds = time.time() - t_start
    power = 1.0 if spec.diffusion.data_norm == "unit" else None
    measured = {"model": evaluate(den, test_set.h, spec.evaluation, power=power)}
    if prior is not None:
        alone = Denoiser(None, den.schedule, backbone=den.backbone)
        measured["backbone"] = evaluate(alone, test_set.h, spec.evaluation, power=power)
    info = {
        "name": spec.name, "spec": spec.model_dump(mode="json"), "source": source,
        "data": {"spec": data.meta.get("spec"), "shape": list(shape), "train": len(train_set), "test": len(test_set),
                 "components": data.meta.get("components")},
        "steps": tr.steps, "wall_s": round(train_seconds, 1), "backbone_fit_s": round(fit_s, 1),
        "final_loss": round(losses[-1][1], 5) if losses else None,
        "parameters": count_parameters(net), "macs_per_sample": count_macs(net, *shape),
        "measured": measured, "evaluation": spec.evaluation.model_dump(mode="json"),
        **loop.provenance(),
    }
    save_checkpoint(output, net, data_shape=shape, prior=prior,
                    extra={**den.get_config(), "data_norm": spec.diffusion.data_norm, "training": info})
    atomic_write(output / "card.md", model_card(info, prior))
    loop.plot_losses(workdir / "loss.png", losses)
    return output


load_spec = load_train_spec  # the name linksim train calls
