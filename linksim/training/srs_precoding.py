"""Training program of Card C's learned estimators (``kind: srs_precoding`` specs,
``linksim train scenarios/train/srs_precoding/*.yaml``).

Draws (or loads from the cache) the channel set of the spec's ``channel`` section, holds
out a test split, trains the backbone with the estimator's loss (SL: MSE; DM: eps
prediction with condition dropout; E2E: received energy), with a fresh noise draw at a
uniform uplink SNR per example, measures NMSE / GCS / SE on the test split and exports the
checkpoint with a card to ``linksim/zoo/<name>/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tensorflow as tf
from pydantic import Field

from ..config import FolderName, Strict, load_yaml_model
from ..diffusion.checkpoints import save_checkpoint
from ..diffusion.nets.srs_transformer import PROFILES, SRSTransformer, count_parameters
from ..provenance import atomic_write, git_revision
from ..tdd.channels import channel_set, data_shape, srs_geometry
from ..tdd.config import SRSPrecoding
from ..tdd.models import LOSSES
from ..tdd.observation import hold_last_index, observe, prb_history_index
from . import loop

TASK = "srs_precoding"


class DataSpec(Strict):
    num_samples: int = Field(20000, ge=256, le=200000, description="Channel realisations drawn (train + test).")
    test_fraction: float = Field(0.05, gt=0, lt=0.5, description="Share held out for the card's measurements.")
    seed: int = Field(0, ge=0, description="Seed of the channel draw.")


class NetworkSpec(Strict):
    profile: Literal["cpu", "paper"] = Field("cpu", description="Backbone size (linksim.diffusion.nets.srs_transformer.PROFILES).")
    skip: Literal["none", "hold_last"] = Field("none", description="Skip connection: the network predicts the correction "
                                                                "to the hold-last estimate (SL, E2E) or diffuses the "
                                                                "residual h - hold-last (DM); none: the channel itself.")
    queries: Literal["position", "prb_history"] = Field("position", description="What each PRB's decoder query sees: its position, "
                                                                               "or also its own PRB's observations in the history "
                                                                               "(prb_history; per-PRB filtering without cross-attention).")


class DiffusionSpec(Strict):
    T: int = Field(50, ge=2, le=2000, description="Diffusion steps (cosine schedule).")
    p_uncond: float = Field(0.1, ge=0, lt=1, description="Probability of dropping the condition (classifier-free guidance).")
    parameterisation: Literal["eps", "v", "x0"] = Field("eps", description="What the network predicts (the sampler reads it from the checkpoint).")
    weighting: Optional[Literal["eps", "v", "x0", "min_snr", "trunc_snr"]] = Field(
        None, description="Weight of the clean estimate's squared error per step (linksim.tdd.models.WEIGHTINGS); "
                          "default: the parameterisation's own MSE.")
    min_snr_gamma: float = Field(5.0, gt=0, description="gamma of the min_snr weighting.")
    input_scale: Literal["none", "alpha"] = Field("none", description="The decoder sees x_t (none) or alpha_t x_t (alpha: near t = T "
                                                                      "its output depends on the condition alone); linksim.tdd.models.INPUT_SCALES.")
    init_from: Optional[str] = Field(None, description="Zoo name or folder of a trained sl model of the same shape: "
                                                       "the DM starts from its weights (encoder, decoder, head) with "
                                                       "the x_t and t embeddings' outputs zeroed, i.e. as that SL estimator.")


class TrainingSpec(Strict):
    steps: int = Field(4000, ge=1, description="Adam steps.")
    batch_size: int = Field(64, ge=1, description="Realisations per step.")
    learning_rate: float = Field(1e-3, gt=0, description="Initial learning rate (cosine decay to 5 %).")
    snr_db: tuple[float, float] = Field((-12.0, 12.0), description="Uplink SNR range [dB], uniform per example.")
    seed: int = Field(1, ge=0, description="Seed of the batches, noise and initialisation.")


class EvalSpec(Strict):
    snr_db: list[float] = Field(default_factory=lambda: [-10.0, 0.0, 10.0], description="Uplink SNRs of the card's table.")
    num_channels: int = Field(128, ge=1, description="Test realisations per SNR (from the held-out split).")
    samples: int = Field(16, ge=1, le=256, description="DM samples per realisation (Bayesian precoder).")
    seed: int = Field(7, ge=0, description="Seed of the noise and the sampling.")


class SRSTrainSpec(Strict):
    kind: Literal["srs_precoding"] = "srs_precoding"
    name: FolderName = Field(description="Model name (zoo folder).")
    model: Literal["sl", "dm", "e2e"] = Field(description="Estimator: sl (MSE), dm (conditional diffusion), e2e (received energy).")
    channel: SRSPrecoding = Field(default_factory=SRSPrecoding, description="The link's srs_precoding section (its channel and SRS fields).")
    data: DataSpec = Field(default_factory=DataSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    diffusion: DiffusionSpec = Field(default_factory=DiffusionSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")


def load_spec(path, overrides=None) -> SRSTrainSpec:
    return load_yaml_model(SRSTrainSpec, path, overrides)


def build_network(spec: SRSTrainSpec) -> SRSTransformer:
    geo = srs_geometry(spec.channel)
    skip = hold_last_index(geo) if spec.network.skip == "hold_last" else None
    queries = prb_history_index(geo) if spec.network.queries == "prb_history" else None
    return SRSTransformer(diffusion=spec.model == "dm", T=spec.diffusion.T, skip_index=skip, query_index=queries,
                          **PROFILES[spec.network.profile]).build_for(data_shape(spec.channel))


def init_from_sl(net: SRSTransformer, source: str, shape, parameterisation: str) -> int:
    """Copy every variable a trained SL model shares with ``net`` (same checkpoint key and
    shape), zero the DM-only embeddings' outputs (``embed_x`` kernel, ``embed_t2``) and
    scale the head so that the DM's clean estimate starts as the SL estimate at high
    noise: by ``DATA_SCALE`` for x0-prediction (``x0_hat = out``), by ``-DATA_SCALE`` for
    v-prediction (``x0_hat = alpha x_t - beta out``, which also gives ``x_t`` at low
    noise). Returns the number of variables copied."""
    from ..diffusion.checkpoints import load_checkpoint, resolve_model
    from ..tdd.models import DATA_SCALE

    if parameterisation not in ("v", "x0"):
        raise ValueError(f"init_from needs v- or x0-prediction, not {parameterisation!r}")

    sl, cfg = load_checkpoint(resolve_model(source), shape)
    if cfg.get("model") != "sl":
        raise ValueError(f"init_from needs an sl model, {source} is {cfg.get('model')!r}")
    for key, field in (("skip_index", "network.skip"), ("query_index", "network.queries")):
        if sl.cfg.get(key) != net.cfg.get(key):
            raise ValueError(f"init_from: {source} has another {field} than this DM")
    theirs = sl.named_variables()
    copied = 0
    for key, v in net.named_variables().items():
        if key in theirs and tuple(theirs[key].shape) == tuple(v.shape):
            v.assign(theirs[key])
            copied += 1
    for layer in (net.embed_t2,):
        for v in layer.weights:
            v.assign(tf.zeros_like(v))
    net.embed_x.kernel.assign(tf.zeros_like(net.embed_x.kernel))
    scale = DATA_SCALE if parameterisation == "x0" else -DATA_SCALE
    for v in net.head.weights:
        v.assign(v * scale)
    return copied


def split(spec: SRSTrainSpec):
    """``(train, test)``: each a pair ``(obs, target)`` of the cached channel set."""
    obs, target = channel_set(spec.channel, spec.data.num_samples, spec.data.seed)
    n_test = max(1, int(round(spec.data.test_fraction * len(obs))))
    return (obs[n_test:], target[n_test:]), (obs[:n_test], target[:n_test])


def _step_fn(net, spec: SRSTrainSpec, optimizer, rng):
    loss_fn = LOSSES[spec.model]
    d = spec.diffusion
    extra = {"p_uncond": d.p_uncond, "parameterisation": d.parameterisation, "weighting": d.weighting,
             "min_snr_gamma": d.min_snr_gamma, "input_scale": d.input_scale} if spec.model == "dm" else {}
    if spec.model == "e2e":
        extra = {"num_streams": spec.channel.streams}
    lo, hi = spec.training.snr_db
    comb = spec.channel.comb

    @tf.function(jit_compile=spec.model != "e2e")  # eigh has no XLA kernel on the CPU
    def step(obs_clean, h):
        b = tf.shape(h)[0]
        snr = rng.uniform([b], lo, hi)
        no = tf.pow(10.0, -snr / 10.0) * comb / 12.0
        shape = tf.shape(obs_clean)
        noise = tf.complex(rng.normal(shape), rng.normal(shape)) * tf.cast(tf.sqrt(no / 2.0), tf.complex64)[:, None, None, None, None]
        # (the null token only has a gradient in the DM: condition dropout)
        return loop.gradient_step(optimizer, net, lambda: loss_fn(net, obs_clean + noise, snr, h, rng, **extra))

    return step


def train(spec: SRSTrainSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """Draw (or load) the channels, train, measure and export; returns the folder."""
    t0 = time.time()
    prov = loop.provenance()   # of the code that trains (a parallel run may write tracked zoo files meanwhile)
    (obs, target), test = split(spec)
    data_s = time.time() - t0
    tr = spec.training
    tf.keras.utils.set_random_seed(tr.seed)
    net = build_network(spec)
    copied = 0
    if spec.model == "dm" and spec.diffusion.init_from:
        copied = init_from_sl(net, spec.diffusion.init_from, data_shape(spec.channel), spec.diffusion.parameterisation)
    optimizer = loop.cosine_adam(tr.learning_rate, tr.steps)
    rng = tf.random.Generator.from_seed(tr.seed)
    step = _step_fn(net, spec, optimizer, rng)
    pick = np.random.default_rng(tr.seed)

    def batch(_):
        i = pick.integers(0, len(obs), tr.batch_size)
        return tf.constant(obs[i]), tf.constant(target[i])

    losses = loop.run_steps(step, batch, tr.steps, spec.name, progress)
    train_s = time.time() - t0
    output = loop.export_dir(spec)
    info = {"name": spec.name, "model": spec.model, "spec": spec.model_dump(mode="json"), "source": source,
            "samples": len(obs), "test_samples": len(test[0]), "data_s": round(data_s, 1), "wall_s": round(train_s, 1),
            "parameters": count_parameters(net), "final_loss": losses[-1][1] if losses else None,
            "first_loss": losses[0][1] if losses else None,
            **prov,
            "threads": tf.config.threading.get_intra_op_parallelism_threads(), "init_copied": copied}
    extra = {"task": TASK, "model": spec.model, "channel": spec.channel.channel_key(),
             "streams": spec.channel.streams, "diffusion": spec.diffusion.model_dump(), "training": info}
    shape = data_shape(spec.channel)
    save_checkpoint(output, net, data_shape=shape, extra=extra)
    t1 = time.time()
    info["measured"] = evaluate(output, spec, test)
    info["eval_s"] = round(time.time() - t1, 1)
    save_checkpoint(output, net, data_shape=shape, extra={**extra, "training": info})
    atomic_write(output / "card.md", model_card(info))
    return output


def remeasure(spec: SRSTrainSpec) -> Path:
    """Measure a trained model again (same held-out split and evaluation seed) with the
    current estimator code and rewrite its card; the weights stay as trained. The card
    records the revision of the re-measurement."""
    from ..diffusion.checkpoints import load_checkpoint

    output = loop.export_dir(spec)
    net, cfg = load_checkpoint(output, data_shape(spec.channel))
    info = dict(cfg["training"])
    _, test = split(spec)
    t1 = time.time()
    info["measured"] = evaluate(output, spec, test)
    info["eval_s"] = round(time.time() - t1, 1)
    info["remeasured_git_revision"] = git_revision()
    extra = {k: v for k, v in cfg.items() if k in ("task", "model", "channel", "streams", "diffusion")}
    save_checkpoint(output, net, data_shape=data_shape(spec.channel), extra={**extra, "training": info})
    atomic_write(output / "card.md", model_card(info))
    return output


def evaluate(model_dir: Path, spec: SRSTrainSpec, test) -> dict:
    """Per uplink SNR on the held-out split: NMSE [dB] and GCS of the estimator's point
    estimate (DM: the mean of its samples at w = 1) and of the hold-last SRS estimate, and
    the SE [bit/s/Hz] of its precoder (DM: Bayesian precoder from ``samples`` samples)
    next to perfect CSI, at the downlink SNR (uplink + ``dl_snr_offset_db``)."""
    from ..receivers.contract import Estimate
    from ..tdd.estimators import ModelEstimator
    from ..tdd.link import precode_and_measure
    from ..tdd.observation import hold_last

    ev, sec = spec.evaluation, spec.channel
    geo = srs_geometry(sec)
    n = min(ev.num_channels, len(test[0]))
    obs_clean, h = tf.constant(test[0][:n]), tf.constant(test[1][:n])
    est = ModelEstimator(str(model_dir), data_shape(sec), kind=spec.model, samples=ev.samples if spec.model == "dm" else 1)
    rng = tf.random.Generator.from_seed(ev.seed)
    out = {}
    for snr in ev.snr_db:
        no = 10.0 ** (-snr / 10.0)
        y = observe(obs_clean, no, sec.comb, rng)
        dl = 10.0 ** ((snr + sec.dl_snr_offset_db) / 10.0)
        row = {}
        for label, e in (("model", Estimate.of(est(y, snr, rng))), ("srs_hold", Estimate(hold_last(y, geo))),
                         ("perfect", Estimate(h))):
            m = precode_and_measure(e, h, sec.streams, dl)
            row[label] = {k: round(v, 3) for k, v in m.items()}
        out[f"{snr:g} dB"] = row
    return out


def model_card(info: dict) -> str:
    sp = info["spec"]
    ch, ev = sp["channel"], sp["evaluation"]
    d = sp["diffusion"]
    kind = d.get("parameterisation", "eps")
    weighting = d.get("weighting") or kind
    if weighting == "min_snr":
        weighting = f"min_snr (gamma = {d.get('min_snr_gamma')})"
    init = f"; initialised from the SL model `{d['init_from']}`" if d.get("init_from") else ""
    if d.get("input_scale", "none") != "none":
        init += f"; decoder input {d['input_scale']}_t x_t"
    skip = sp["network"].get("skip", "none")
    role = f"the DM diffuses h - {skip}" if info["model"] == "dm" else "the network predicts the correction to it"
    net_skip = "" if skip == "none" else f", skip connection `{skip}` ({role})"
    if sp["network"].get("queries", "position") != "position":
        net_skip += f", decoder queries `{sp['network']['queries']}` (each PRB's query sees that PRB's observations)"
    what = {"sl": "discriminative (MSE) estimate: approximate conditional mean",
            "dm": f"conditional DDPM, {kind}-prediction, loss weighting {weighting}, cosine schedule T = {d['T']}, "
                  f"condition dropped with p = {d['p_uncond']} (classifier-free guidance){init}",
            "e2e": "latent channel -> dominant eigenvectors of its Gramian = precoder, trained on received energy"}[info["model"]]
    speed = SRSPrecoding.model_validate(ch).speed_kmh
    rows = []
    for snr, row in info["measured"].items():
        m, s, p = row["model"], row["srs_hold"], row["perfect"]
        rows.append(f"| {snr} | {m.get('nmse_db', '-')} | {m.get('gcs', '-')} | {m['se']} | {s['nmse_db']} | {s['se']} | {p['se']} |")
    table = "\n".join(rows)
    remeasured = (f"; measured again at git {info['remeasured_git_revision']} (`python -m linksim.training.srs_precoding "
                  f"--remeasure {info['source']}`)") if info.get("remeasured_git_revision") else ""
    return f"""# {info['name']}

Card C estimator `{info['model']}` trained by `linksim train {info['source']}`.

| | |
|---|---|
| model | {what} |
| network | SRS transformer encoder-decoder (`SRSTransformer`), profile `{sp['network']['profile']}`{net_skip}, {info['parameters']} parameters |
| data | {info['samples']} training + {info['test_samples']} test realisations (seed {sp['data']['seed']}); UMa, {ch['carrier_frequency_ghz']} GHz, {ch['subcarrier_spacing_khz']} kHz, {ch['num_prb']} PRB, {ch['num_hops']} hops, comb {ch['comb']}, SRS every {ch['periodicity_slots']} slots, L = {ch['history']}, precoding {ch['delay_slots']} slots after the last SRS; BS {2 * ch['bs_rows'] * ch['bs_cols']} ports, UE {2 * ch['ue_cols']} ports; UE speed {speed} km/h ({info['data_s']} s to draw or load) |
| training | {sp['training']['steps']} steps, batch {sp['training']['batch_size']}, Adam lr {sp['training']['learning_rate']} (cosine), uplink SNR uniform in {list(sp['training']['snr_db'])} dB, final loss {info['final_loss']} |
| time | {info['wall_s']} s wall on this machine (data included; {info['threads'] or 'all'} TF threads), evaluation {info['eval_s']} s |
{loop.revision_row(info, remeasured)}

Measured on {ev['num_channels']} held-out realisations per row (uplink SNR; downlink SNR
= uplink + {ch['dl_snr_offset_db']} dB; {ch['streams']} streams, equal power). NMSE and GCS
are those of the point estimate (DM: the mean of its {ev['samples']} stochastic samples at w = 1;
E2E: none, its latent is not an estimate); SE uses the model's precoder (SL: SVD of the estimate; DM: Bayesian
precoder from {ev['samples']} samples; E2E: its own).

| uplink SNR | NMSE [dB] | GCS | SE | hold-last NMSE [dB] | hold-last SE | perfect-CSI SE |
|---|---|---|---|---|---|---|
{table}
{guard_section(info)}"""


def guard_section(info: dict) -> str:
    """The card's guard section (``info["guard"]``, written by benchmarks/card_c_guard.py
    --record), or nothing."""
    g = info.get("guard")
    if not g:
        return ""
    from ..tdd.guard import TARGETS, table

    return f"""
## Guard: does the DM use its condition? (`benchmarks/card_c_guard.py`)

{g['channels']} fresh realisations (Sionna seed {g['seed']}, not the training set), NMSE [dB]
on the same noisy observations; SL = `{g['sl']}`; measured at git {g['git_revision']}
in {g['wall_s']} s. Clean estimate: the jump-to-clean estimate at t = T from pure noise
(unclipped), with the condition and with the null token. Targets: {'; '.join(TARGETS.values())}.

{table(g['rows'], 'model')}
"""


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Measure trained Card C models again and rewrite their cards.")
    ap.add_argument("--remeasure", nargs="+", required=True, metavar="SPEC", help="training spec YAML files")
    for path in ap.parse_args().remeasure:
        print(remeasure(load_spec(path)))

