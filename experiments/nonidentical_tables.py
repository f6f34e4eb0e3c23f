"""Paper-style experiments of Card A on linksim's data: Table II (stepper x
initialisation), Table III (training pattern x initialisation) and Fig. 7 (NMSE per
generation step, identical vs non-identical).

Writes ``OUT/table2.csv``, ``OUT/table3.csv``, ``OUT/fig7.csv`` and ``OUT/fig7.png`` plus
``OUT/meta.json`` (models, data, seed, versions). Usage::

    python experiments/nonidentical_tables.py --models nonid-all-quickstart-cpu \
        [--table3 name=zoo-model ...] --identical identical-quickstart-cpu --out results/reference/nonidentical
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
from linksim.diffusion.estimate import normalise_observation, posterior, to_complex
from linksim.diffusion.training import load_denoiser
from linksim.results import atomic_write, git_revision, package_versions

STEPPERS = ("uniform", "waterfill", "hybrid:0.5", "alpha-uniform", "alpha-waterfill")


def _nmse_db(h_hat, h):
    return 10 * math.log10(float(np.sum(np.abs(h_hat - h) ** 2) / np.sum(np.abs(h) ** 2)))


def run_estimates(den, h, init, *, steps, stepper, eta, samples, identical=False, trajectory=False, seed=3):
    """Posterior-mean NMSE (and per-step NMSE of the first chain's clean estimate)."""
    rng = np.random.default_rng(seed)
    mask, p = evaluation_init(init, h.shape, rng)
    h_bar = observe(h, mask, p, rng)
    tf_rng = tf.random.Generator.from_seed(seed)

    @tf.function
    def go(hb, m, pp):
        x, a, c = normalise_observation(hb, m, pp, rng=tf_rng)
        out = posterior(den, x, a, steps=steps, stepper=stepper, eta=eta, num_samples=samples,
                        identical=identical, rng=tf_rng, return_trajectory=trajectory)
        cc = tf.cast(c, tf.complex64)
        est = to_complex(out[0]) / cc
        traj = to_complex(out[2]) / cc[None] if trajectory else tf.zeros([0])
        return est, traj

    est, traj = go(tf.constant(h_bar), tf.constant(mask), tf.constant(p))
    per_step = [_nmse_db(t, h) for t in traj.numpy()] if trajectory else []
    return _nmse_db(est.numpy(), h), per_step


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="non-identical model (zoo name or folder) for Table II / Fig. 7")
    ap.add_argument("--identical", required=True, help="identical-diffusion model for Fig. 7")
    ap.add_argument("--table3", nargs="*", default=[], metavar="PATTERN=MODEL", help="models trained with other patterns")
    ap.add_argument("--data", default="quickstart")
    ap.add_argument("--num-test", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--eta", type=float, default=1.0)
    ap.add_argument("--out", default="results/reference/nonidentical")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    den, cfg = load_denoiser(args.model)
    shape = tuple(cfg["data_shape"])
    data = cached_dataset(args.data, 20000, 0)
    _, test = data.train_test_split(0.05, seed=0)
    h = test.h[: args.num_test]
    inits = list(EVAL_PATTERNS)
    common = dict(steps=args.steps, eta=args.eta, samples=args.samples)

    rows = ["stepper," + ",".join(inits)]
    for st in STEPPERS:
        vals = [run_estimates(den, h, init, stepper=st, **common)[0] for init in inits]
        rows.append(st + "," + ",".join(f"{v:.2f}" for v in vals))
        print(rows[-1], flush=True)
    atomic_write(out / "table2.csv", "\n".join(rows) + "\n")

    rows = ["training_pattern," + ",".join(inits)]
    for item in [f"all={args.model}"] + list(args.table3):
        pattern, model = item.split("=", 1)
        d, _ = load_denoiser(model, shape)
        vals = [run_estimates(d, h, init, stepper="waterfill", **common)[0] for init in inits]
        rows.append(pattern + "," + ",".join(f"{v:.2f}" for v in vals))
        print(rows[-1], flush=True)
    atomic_write(out / "table3.csv", "\n".join(rows) + "\n")

    den_id, _ = load_denoiser(args.identical, shape)
    curves = {}
    for init in ("pilot", "salt"):
        _, curves[f"non-identical/{init}"] = run_estimates(den, h, init, stepper="waterfill", trajectory=True, **common)
        _, curves[f"identical/{init}"] = run_estimates(den_id, h, init, stepper="uniform", identical=True,
                                                        trajectory=True, **common)
    lines = ["step," + ",".join(curves)]
    for k in range(args.steps):
        lines.append(f"{k + 1}," + ",".join(f"{curves[c][k]:.2f}" for c in curves))
    atomic_write(out / "fig7.csv", "\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, vals in curves.items():
        ax.plot(range(1, len(vals) + 1), vals, label=name, ls="-" if name.startswith("non") else "--")
    ax.set_xlabel("generation step")
    ax.set_ylabel("NMSE of the clean estimate [dB]")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "fig7.png", dpi=130)
    meta = {"model": args.model, "identical": args.identical, "table3": args.table3, "data": args.data,
            "num_test": args.num_test, "steps": args.steps, "samples": args.samples, "eta": args.eta,
            "wall_s": round(time.time() - t0, 1), "git_revision": git_revision(), "versions": package_versions()}
    atomic_write(out / "meta.json", json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
