"""Training of diffusion denoisers (Card A, Algorithm 1) from a YAML training spec.

``linksim train scenarios/train/NAME.yaml`` draws (or loads from the cache) the channel
data set, trains the network with the spec's noise pattern, writes periodic checkpoints
and the loss curve to the work folder (``--resume`` continues from the last one), then
measures the test NMSE and exports the model with a card to ``linksim/zoo/<name>/``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..errors import UserError
from ..results import atomic_write, git_revision, package_versions
from ..scenario import read_yaml, validate_model
from .checkpoints import load_checkpoint, save_checkpoint
from .estimate import estimate_channel, to_real
from .forward import normalize_data
from .networks import PROFILES, count_macs, count_parameters, make_network
from .parameterisation import Denoiser, target
from .schedules import make_schedule

ZOO = Path(__file__).resolve().parents[1] / "zoo"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    spec: str | dict = Field("quickstart", description="Data-set preset, scenario path or spec (see linksim.data.channels).")
    num_samples: int = Field(20000, ge=32, description="Channel samples drawn (train + test).")
    test_fraction: float = Field(0.05, gt=0, lt=0.5, description="Share held out for the test NMSE.")
    seed: int = Field(0, ge=0, description="Seed of the data draw.")


class DiffusionSpec(_Strict):
    schedule: dict = Field(default_factory=lambda: {"kind": "gamma", "T": 1000}, description="Schedule config.")
    parameterisation: Literal["eps", "v", "x0"] = "v"
    input_norm: Literal["total", "noise"] = "total"
    pattern: Literal["same", "independent", "periodical", "car-only", "non-directional", "all"] = Field(
        "all", description="Training noise pattern of tau (same = identical diffusion).")


class TrainingSpec(_Strict):
    steps: int = Field(3000, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(2e-3, gt=0, le=1)
    checkpoint_every: int = Field(500, ge=1)
    seed: int = Field(1, ge=0)
    xla: bool = True


class EvaluationSpec(_Strict):
    comb: int = Field(4, ge=1, le=16, description="Observed: every comb-th subcarrier, all antennas (the receiver's pilots).")
    snr_db: list[float] = Field(default_factory=lambda: [0.0, 10.0, 20.0], description="SNR per observed element.")
    num_test: int = Field(256, ge=1)
    steps: int = Field(20, ge=1)
    stepper: str = "waterfill"
    eta: float = Field(1.0, ge=0, le=1)
    num_samples: int = Field(4, ge=1)
    identical: bool = False
    init: Literal["pilots", "ls_linear"] = Field("pilots", description="First estimate: the comb only, or linearly interpolated over all subcarriers (as the receivers' init).")


class TrainSpec(_Strict):
    name: str
    data: DataSpec = Field(default_factory=DataSpec)
    network: dict = Field(default_factory=lambda: {"profile": "cpu"}, description="profile (cpu | paper) and constructor overrides.")
    diffusion: DiffusionSpec = Field(default_factory=DiffusionSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")
    workdir: Optional[str] = Field(None, description="Checkpoints and loss curve (default results/train/<name>).")


def load_train_spec(path, overrides=None) -> TrainSpec:
    from ..scenario import apply_overrides

    data = apply_overrides(read_yaml(path), overrides or [], str(path))
    spec = validate_model(TrainSpec, data, str(path))
    profile = spec.network.get("profile", "cpu")
    if profile not in PROFILES:
        raise UserError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}", source=str(path), field="network.profile")
    try:
        make_schedule(spec.diffusion.schedule)
    except (UserError, ValueError, TypeError) as err:
        raise UserError(str(err), source=str(path), field="diffusion.schedule") from None
    if isinstance(spec.data.spec, str) and spec.data.spec.endswith(".yaml"):
        spec.data.spec = str((Path(path).parent / spec.data.spec).resolve())
    return spec


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


def build_denoiser(spec: TrainSpec, data_shape):
    net_cfg = dict(spec.network)
    profile = net_cfg.pop("profile", "cpu")
    net_cfg.setdefault("schedule", make_schedule(spec.diffusion.schedule).to_config())
    net = make_network(profile, **net_cfg)
    net.build_for(tuple(data_shape))
    den = Denoiser(net, spec.diffusion.schedule, spec.diffusion.parameterisation, spec.diffusion.input_norm)
    return net, den


def resolve_model(name) -> Path:
    """Checkpoint folder of a model given as a folder path or a name in linksim/zoo/."""
    p = Path(name)
    if not p.exists() and (ZOO / str(name)).exists():
        p = ZOO / str(name)
    if not p.exists():
        names = sorted(d.name for d in ZOO.iterdir() if d.is_dir()) if ZOO.exists() else []
        raise UserError(f"no model {str(name)!r}; allowed: a checkpoint folder or one of {', '.join(names) or '(empty zoo)'}",
                        field="model")
    return p


def load_denoiser(path, expected_shape=None) -> tuple[Denoiser, dict]:
    """A :class:`Denoiser` from a checkpoint folder or a zoo name."""
    net, cfg = load_checkpoint(resolve_model(path), expected_shape)
    den = Denoiser(net, cfg["schedule"], cfg.get("parameterisation", "v"), cfg.get("input_norm", "total"),
                   cfg.get("beta_min", 1e-2))
    return den, cfg


def _train_step_fn(net, den: Denoiser, optimizer, pattern: str, rng):
    from ..data.patterns import training_tau

    schedule = den.schedule

    def step(h):  # h: [B, Na, Nc, 2] normalised
        shape = tf.shape(h)
        tau = tf.cast(training_tau(pattern, h.shape[:3], schedule.T, rng), h.dtype)[..., None]
        alpha, beta = schedule.alpha_beta(tau)
        xi = rng.normal(shape, dtype=h.dtype)
        x = alpha * h + beta * xi
        with tf.GradientTape() as tape:
            out, _, _ = den.network_output(x, tau)
            loss = tf.reduce_mean(tf.square(out - target(h, xi, alpha, beta, den.parameterisation)))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    return step


def evaluate(den: Denoiser, h_test: np.ndarray, ev: EvaluationSpec, seed: int = 5, batch: int = 64) -> dict:
    """Test NMSE [dB] of the posterior-mean estimate from comb observations, per SNR."""
    from ..data.patterns import observe

    rng = tf.random.Generator.from_seed(seed)
    h = tf.constant(h_test[: ev.num_test])
    out = {}
    fn = tf.function(lambda hb, m, p: estimate_channel(den, hb, m, p, steps=ev.steps, stepper=ev.stepper,
                                                       eta=ev.eta, num_samples=ev.num_samples,
                                                       identical=ev.identical, rng=rng)[0])
    for snr in ev.snr_db:
        mask, p = comb_observation(h.shape, ev.comb, snr)
        h_bar = observe(h, mask, p, rng)
        if ev.init == "ls_linear":
            h_bar = tf.constant(interpolate_comb(h_bar.numpy(), ev.comb))
            mask, p = np.ones_like(mask), np.full_like(p, 10 ** (-snr / 20))
        err = den_err = 0.0
        for i in range(0, int(h.shape[0]), batch):
            h_hat = fn(h_bar[i:i + batch], mask[i:i + batch], p[i:i + batch])
            err += float(tf.reduce_sum(tf.abs(h_hat - h[i:i + batch]) ** 2))
            den_err += float(tf.reduce_sum(tf.abs(h[i:i + batch]) ** 2))
        out[f"{snr:g}"] = round(10 * math.log10(err / den_err), 2)
    return out


def train(spec: TrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Train and export; returns the export folder."""
    from tqdm.auto import tqdm

    from ..data.channels import cached_dataset

    t_start = time.time()
    workdir = Path(spec.workdir or f"results/train/{spec.name}")
    output = Path(spec.output) if spec.output else ZOO / spec.name
    workdir.mkdir(parents=True, exist_ok=True)
    data = cached_dataset(spec.data.spec, spec.data.num_samples, spec.data.seed)
    train_set, test_set = data.train_test_split(spec.data.test_fraction, seed=spec.data.seed)
    shape = train_set.shape
    h_train = normalize_data(tf.constant(train_set.h))[0]
    h_train = to_real(h_train).numpy()
    net, den = build_denoiser(spec, shape)
    tr = spec.training
    schedule_lr = tf.keras.optimizers.schedules.CosineDecay(tr.learning_rate, tr.steps, alpha=0.05)
    optimizer = tf.keras.optimizers.Adam(schedule_lr)
    optimizer.build(net.trainable_variables)
    rng = tf.random.Generator.from_seed(tr.seed)
    step_fn = tf.function(_train_step_fn(net, den, optimizer, spec.diffusion.pattern, rng), jit_compile=tr.xla)
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
    nmse = evaluate(den, test_set.h, spec.evaluation)
    info = {
        "name": spec.name, "spec": spec.model_dump(mode="json"), "source": source,
        "data": {"spec": data.meta.get("spec"), "shape": list(shape), "train": len(train_set), "test": len(test_set),
                 "components": data.meta.get("components")},
        "steps": tr.steps, "wall_s": round(train_seconds, 1), "final_loss": round(losses[-1][1], 5) if losses else None,
        "parameters": count_parameters(net), "macs_per_sample": count_macs(net, *shape),
        "test_nmse_db": nmse, "evaluation": spec.evaluation.model_dump(mode="json"),
        "linksim": __version__, "git_revision": git_revision(), "versions": package_versions(),
    }
    save_checkpoint(output, net, data_shape=shape, extra={**den.get_config(), "training": info})
    atomic_write(output / "card.md", model_card(info))
    _plot_loss(workdir, losses)
    return output


def _plot_loss(workdir: Path, losses):
    if not losses:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([s for s, _ in losses], [l for _, l in losses])
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (EMA)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(workdir / "loss.png", dpi=120)
    plt.close(fig)


def model_card(info: dict) -> str:
    sp = info["spec"]
    ev = info["evaluation"]
    nmse = "\n".join(f"| {snr} | {v} |" for snr, v in info["test_nmse_db"].items())
    return f"""# {info['name']}

Diffusion denoiser trained by `linksim train {info['source']}`.

| | |
|---|---|
| data | `{json.dumps(info['data']['spec'])}`, shape {tuple(info['data']['shape'])}, {info['data']['train']} train / {info['data']['test']} test samples |
| network | MLP-Mixer, profile `{sp['network'].get('profile', 'cpu')}`, {info['parameters']} parameters, {info['macs_per_sample'] / 1e6:.2f} MMAC per sample |
| diffusion | schedule `{json.dumps(sp['diffusion']['schedule'])}`, {sp['diffusion']['parameterisation']}-prediction, input norm `{sp['diffusion']['input_norm']}`, training pattern `{sp['diffusion']['pattern']}` |
| training | {info['steps']} steps, batch {sp['training']['batch_size']}, Adam lr {sp['training']['learning_rate']} (cosine), final loss {info['final_loss']}, {info['wall_s']} s wall |
| revision | linksim {info['linksim']}, git {info['git_revision']} |

Measured test NMSE [dB] (posterior mean of {ev['num_samples']} samples, {ev['steps']} steps, stepper
`{ev['stepper']}`, eta {ev['eta']}, {'identical' if ev['identical'] else 'non-identical'} diffusion) from a
first estimate on every {ev['comb']}th subcarrier of all antennas (init `{ev['init']}`), noise at the
given SNR per observed element, on {ev['num_test']} held-out samples:

| SNR [dB] | NMSE [dB] |
|---|---|
{nmse}
"""
