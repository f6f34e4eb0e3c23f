"""Paper-style experiments of Card A on linksim's data, with 95 % intervals.

* Table II — stepper x initialisation pattern: NMSE of the mean of ``--samples``
  posterior samples (DDIM-eta = 1, ``--steps`` steps), the paper's estimator; plus the
  one-call estimate (``jump``, the CME for an exact denoiser) and the prior backbone
  alone (the model without its network) for reference.
* Table III — training pattern x initialisation pattern (``--table3 pattern=model``):
  the jump estimate and (unless ``--table3-jump-only``) the mean of ``--samples``
  samples (water-filling).
* Fig. 7 — NMSE of the clean estimate per generation step of one chain, non-identical
  (element-wise times, water-filling) vs identical diffusion on the ``pilot`` and
  ``salt`` initialisations. The identical baseline is the strongest scalar-time choice:
  every rule (``snr-mean``, ``tau-mean``, ``alpha-mean`` and the oracle ``grid:<tau>``,
  the time of :data:`TAU_GRID` whose one-call estimate is best on the test channels) x
  fill of the unobserved entries (``zero``: the prior mean, ``noise``: fresh noise,
  ``interp``: linear interpolation of each antenna's observed subcarriers) is run and the
  one with the lowest final NMSE is drawn; all of them are written to
  ``fig7_identical.csv``.
* Sampler spread — mean sample variance / posterior variance of the prior backbone and
  one sample's error / the CME's, vs the number of steps (uniform and water-filling) on
  the ``pilot`` initialisation: how many steps posterior samples need.

Intervals: 95 %, ratio estimator over the test channels (each channel is one "batch"
of :func:`linksim.metrics.ratio_interval`). Writes ``OUT/table2.csv``, ``table3.csv``,
``fig7.csv``, ``fig7_identical.csv``, ``fig7.png``, ``spread.csv`` and ``meta.json`` (per
part: the models, settings and git revision of the run that wrote it; ``--parts``
recomputes some parts and keeps the others).

Usage::

    python experiments/nonidentical_tables.py --model nonid-quickstart-cpu \\
        --identical identical-quickstart-cpu [--table3 same=... all=...] --out results/reference/nonidentical
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from linksim.data.channels import cached_dataset
from linksim.data.patterns import EVAL_PATTERNS, evaluation_init, observe
from linksim.diffusion.checkpoints import load_denoiser
from linksim.diffusion.estimate import (backbone_variance, initial_time, normalise_observation,
                                        posterior_samples, scalar_time, to_complex)
from linksim.metrics import ratio_interval
from linksim.provenance import atomic_write, git_revision, package_versions

STEPPERS = ("uniform", "waterfill", "hybrid:0.5", "alpha-uniform", "alpha-waterfill")
RULES = ("snr-mean", "tau-mean", "alpha-mean")
FILLS = ("zero", "noise", "interp")
#: Scalar times tried for identical diffusion, as fractions of T (the oracle "grid" rule)
TAU_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
PARTS = ("table2", "table3", "fig7", "spread")


def nmse_ci(h_hat, h):
    """``(nmse_db, lo, hi)`` over the test channels (axis 0)."""
    e = np.sum(np.abs(h_hat - h) ** 2, axis=(1, 2)).astype(np.float64)
    f = np.sum(np.abs(h) ** 2, axis=(1, 2)).astype(np.float64)
    r, lo, hi = ratio_interval(len(e), e.sum(), f.sum(), (e * e).sum(), (f * f).sum(), (e * f).sum())
    db = lambda x: 10 * math.log10(x) if x > 0 else -math.inf  # noqa: E731
    return db(r), db(lo), db(hi)


def cell(v) -> str:
    return f"{v[0]:.2f},{v[1]:.2f},{v[2]:.2f}"


def interpolate_rows(h_bar, mask):
    """Linear interpolation of each antenna's observed subcarriers (constant beyond the
    first and last; zero for an antenna with none) [B, Na, Nc]."""
    out = np.zeros_like(h_bar)
    f = np.arange(h_bar.shape[-1])
    for i, j in np.ndindex(*h_bar.shape[:2]):
        seen = np.flatnonzero(mask[i, j] > 0)
        if len(seen):
            row = h_bar[i, j, seen]
            out[i, j] = np.interp(f, seen, row.real) + 1j * np.interp(f, seen, row.imag)
    return out


class Problem:
    """Test channels observed by one initialisation pattern, and the sampler's start."""

    def __init__(self, h, init, seed):
        rng = np.random.default_rng(seed)
        self.h = h
        self.mask, self.p = evaluation_init(init, h.shape, rng)
        self.h_bar = observe(h, self.mask, self.p, rng)
        self.tf_rng = tf.random.Generator.from_seed(seed)
        x, a, b, c = normalise_observation(tf.constant(self.h_bar), tf.constant(self.mask), tf.constant(self.p),
                                           rng=self.tf_rng, power=1.0)
        self.x, self.a, self.b, self.c = x, a, b, c

    def start(self, den, identical=False, rule="snr-mean", fill="noise", tau=None):
        """``(x_init, tau0)``: element-wise times, or one time by ``rule`` (or the given
        scalar ``tau``) with the unobserved entries filled by ``fill`` (``zero``: the prior
        mean; ``noise``: fresh noise; ``interp``: linear interpolation over the subcarriers
        of each antenna from its observed entries)."""
        if not identical:
            return self.x, initial_time(den.schedule, self.a)
        if tau is None:
            tau = scalar_time(den.schedule, self.a, self.b, rule)
        else:
            tau = tf.fill([len(self.h), 1, 1, 1], float(tau))
        alpha, _ = den.schedule.alpha_beta(tau)
        observed = tf.constant(self.mask[..., None] > 0)
        h_bar = interpolate_rows(self.h_bar, self.mask) if fill == "interp" else self.h_bar
        h_c = tf.constant(h_bar) * tf.cast(self.c, tf.complex64)
        x = tf.stack([tf.math.real(h_c), tf.math.imag(h_c)], -1)
        if fill == "noise":
            x = tf.where(observed, x, self.tf_rng.normal(tf.shape(x)))
        return alpha * x, tau

    def to_channel(self, x):
        return (to_complex(x) / tf.cast(self.c, tf.complex64)).numpy()


def run(den, prob: Problem, *, mode, steps=10, samples=4, stepper="waterfill", identical=False, rule="snr-mean",
        fill="noise", tau=None, trajectory=False, batch=64):
    """Estimates (and per-step clean estimates of the first chain) for all test channels."""
    outs, trajs = [], []

    @tf.function
    def go(x, tau):
        if mode == "jump":
            return den(x, tau), tf.zeros([0])
        out = posterior_samples(den, x, tau, samples, steps=steps, stepper=stepper, eta=1.0, rng=prob.tf_rng,
                                return_trajectory=trajectory)
        draws, traj = out if trajectory else (out, tf.zeros([0]))
        return tf.reduce_mean(draws, axis=0), traj

    x_all, tau_all = prob.start(den, identical, rule, fill, tau)
    for i in range(0, len(prob.h), batch):
        tau = tau_all[i:i + batch] if tau_all.shape[0] != 1 else tau_all
        est, traj = go(x_all[i:i + batch], tau)
        outs.append(est)
        trajs.append(traj)
    est = prob.to_channel(tf.concat(outs, 0))
    if not trajectory:
        return est, None
    traj = tf.concat(trajs, 1)  # [steps, N, Na, Nc, 2]
    return est, [prob.to_channel(t) for t in traj]


def nmse_rows(prefix, den, problems, args, **kw):
    """One CSV line ``prefix,init,nmse_db,lo,hi`` per initialisation pattern."""
    lines = []
    for init, prob in problems.items():
        est, _ = run(den, prob, steps=args.steps, samples=args.samples, **kw)
        lines.append(f"{prefix},{init},{cell(nmse_ci(est, prob.h))}")
        print(lines[-1], flush=True)
    return lines


def table2(den, backbone, problems, args):
    lines = ["estimator,init,nmse_db,nmse_db_lo,nmse_db_hi"]
    rows = [(f"mean of {args.samples} ({st})", den, dict(mode="mean", stepper=st)) for st in STEPPERS]
    rows += [("jump", den, dict(mode="jump")), ("backbone alone (jump)", backbone, dict(mode="jump"))]
    for label, d, kw in rows:
        lines += nmse_rows(label, d, problems, args, **kw)
    return lines


def table3(models, problems, shape, args):
    lines = ["training_pattern,estimator,init,nmse_db,nmse_db_lo,nmse_db_hi"]
    for pattern, name in models:
        d, _ = load_denoiser(name, shape)
        estimators = [("jump", dict(mode="jump"))]
        if not args.table3_jump_only:
            estimators.append((f"mean of {args.samples}", dict(mode="mean")))
        for label, kw in estimators:
            lines += nmse_rows(f"{pattern},{label}", d, problems, args, **kw)
    return lines


def fig7(den, den_id, problems, args):
    curves, alternatives = {}, ["init,rule,fill,final_nmse_db,lo,hi"]
    for init in ("pilot", "salt"):
        prob = problems[init]
        kw = dict(mode="mean", steps=args.steps, samples=1, trajectory=True)
        _, traj = run(den, prob, stepper="waterfill", **kw)
        curves[f"non-identical/{init}"] = [nmse_ci(t, prob.h) for t in traj]
        best = None
        for fill in FILLS:
            # the oracle rule: the scalar time whose one-call estimate is best on these channels
            t_grid = min((f * den_id.schedule.T for f in TAU_GRID), key=lambda t: nmse_ci(
                run(den_id, prob, mode="jump", identical=True, fill=fill, tau=t)[0], prob.h)[0])
            for rule in RULES + (f"grid:{t_grid:g}",):
                tau = t_grid if rule.startswith("grid") else None
                est, traj = run(den_id, prob, stepper="uniform", identical=True, rule=rule, fill=fill, tau=tau, **kw)
                final = nmse_ci(est, prob.h)
                alternatives.append(f"{init},{rule},{fill},{cell(final)}")
                print(alternatives[-1], flush=True)
                if best is None or final[0] < best[0][0]:
                    best = (final, rule, fill, traj)
        curves[f"identical ({best[1]}; {best[2]} fill)/{init}"] = [nmse_ci(t, prob.h) for t in best[3]]  # no comma: a CSV header
    names = list(curves)
    lines = ["step," + ",".join(f"{n},{n} lo,{n} hi" for n in names)]
    for k in range(args.steps):
        lines.append(f"{k + 1}," + ",".join(cell(curves[n][k]) for n in names))
    return lines, alternatives, curves


def plot_fig7(curves, path):
    import matplotlib.pyplot as plt

    from linksim.plotting import save_curves

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colors = {"pilot": "tab:blue", "salt": "tab:orange"}
    for name, vals in curves.items():
        init = name.rsplit("/", 1)[1]
        steps = np.arange(1, len(vals) + 1)
        y = np.array([v[0] for v in vals])
        err = np.array([[v[0] - v[1], v[2] - v[0]] for v in vals]).T
        ax.errorbar(steps, y, yerr=np.nan_to_num(err, posinf=0), label=name, color=colors[init],
                    ls="-" if name.startswith("non") else "--", marker="o" if name.startswith("non") else "s",
                    ms=3, capsize=2)
    save_curves(fig, ax, path, "generation step", "NMSE of the clean estimate [dB]")


def spread(den, prob, steps_list, args):
    var, _ = backbone_variance(den, prob.x, initial_time(den.schedule, prob.a))
    post_var = float(np.mean(var.numpy())) / 1.0  # units of h (c = sqrt(2))
    mmse = np.mean(np.abs(run(den, prob, mode="jump")[0] - prob.h) ** 2)
    lines = ["stepper,steps,spread_over_posterior_var,one_sample_err_over_jump_err,mean_err_over_jump_err"]
    for stepper in ("uniform", "waterfill"):
        for steps in steps_list:
            x, tau = prob.start(den)
            draws = []
            for i in range(0, len(prob.h), 64):
                t = tau[i:i + 64] if tau.shape[0] != 1 else tau
                draws.append(posterior_samples(den, x[i:i + 64], t, args.spread_samples, steps=steps,
                                               stepper=stepper, eta=1.0, rng=prob.tf_rng))
            d = np.stack([prob.to_channel(g) for g in tf.concat(draws, 1)])       # [K, N, Na, Nc]
            k = d.shape[0]
            sp = float(np.mean(np.var(d, axis=0))) * k / (k - 1) / post_var
            one = np.mean(np.abs(d[0] - prob.h) ** 2) / mmse
            mean = np.mean(np.abs(d.mean(0) - prob.h) ** 2) / mmse
            lines.append(f"{stepper},{steps},{sp:.3f},{one:.3f},{mean:.3f}")
            print(lines[-1], flush=True)
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="non-identical model (zoo name or folder) for Table II / Fig. 7")
    ap.add_argument("--identical", required=True, help="identical-diffusion model for Fig. 7")
    ap.add_argument("--table3", nargs="*", default=[], metavar="PATTERN=MODEL", help="models of other training patterns")
    ap.add_argument("--table3-jump-only", action="store_true", help="Table III with the one-call estimate only")
    ap.add_argument("--data", default="quickstart")
    ap.add_argument("--data-size", type=int, default=20000, help="channels drawn (5 %% of the slots are the test set)")
    ap.add_argument("--data-seed", type=int, default=0,
                    help="seed of that draw (use one the model was not trained on when its training set is larger)")
    ap.add_argument("--num-test", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--spread-steps", type=int, nargs="*", default=[5, 10, 20, 50, 100])
    ap.add_argument("--spread-samples", type=int, default=16)
    ap.add_argument("--out", default="results/reference/nonidentical")
    ap.add_argument("--parts", nargs="*", default=list(PARTS), choices=PARTS,
                    help="what to (re)compute; the other parts' files are kept")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    den, cfg = load_denoiser(args.model)
    backbone, _ = load_denoiser(args.model, network=False)
    shape = tuple(cfg["data_shape"])
    _, test = cached_dataset(args.data, args.data_size, args.data_seed).train_test_split(0.05, seed=0)
    h = test.h[: args.num_test]
    problems = {init: Problem(h, init, seed=3) for init in EVAL_PATTERNS}

    parts = {}
    if "table2" in args.parts:
        atomic_write(out / "table2.csv", "\n".join(table2(den, backbone, problems, args)) + "\n")
        parts["table2"] = {"model": args.model}
    models = [(p.split("=", 1)[0], p.split("=", 1)[1]) for p in args.table3]
    if models and "table3" in args.parts:
        atomic_write(out / "table3.csv", "\n".join(table3(models, problems, shape, args)) + "\n")
        parts["table3"] = {"models": args.table3, "jump_only": args.table3_jump_only}
    if "fig7" in args.parts:
        den_id, _ = load_denoiser(args.identical, shape)
        lines, alternatives, curves = fig7(den, den_id, problems, args)
        atomic_write(out / "fig7.csv", "\n".join(lines) + "\n")
        atomic_write(out / "fig7_identical.csv", "\n".join(alternatives) + "\n")
        plot_fig7(curves, out / "fig7.png")
        parts["fig7"] = {"model": args.model, "identical": args.identical}
    if "spread" in args.parts:
        atomic_write(out / "spread.csv", "\n".join(spread(den, problems["pilot"], args.spread_steps, args)) + "\n")
        parts["spread"] = {"model": args.model, "steps": args.spread_steps, "samples": args.spread_samples,
                           "init": "pilot"}
    run_info = {"data": args.data, "data_size": args.data_size, "data_seed": args.data_seed, "num_test": args.num_test, "steps": args.steps, "samples": args.samples,
                "interval": "95 %, ratio estimator over the test channels", "wall_s": round(time.time() - t0, 1),
                "git_revision": git_revision(), "versions": package_versions()}
    meta_path = out / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta = meta if "parts" in meta else {"parts": {}}
    for name, info in parts.items():  # each part records the run that wrote its files
        meta["parts"][name] = {**info, **run_info}
    atomic_write(meta_path, json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
