"""Card C, Fig. 6 analogue: NMSE and GCS of the DM's state x_t and of its jump-to-clean
estimate x0_hat at every reverse step, stochastic (ancestral) against deterministic (mean
only) trajectories, one sample per realisation, with the SL model's NMSE / GCS on the
same observations as the reference line.

    PYTHONPATH=. python benchmarks/card_c_trajectories.py --mobility high --snr 0 \
        --channels 128 --out results/reference/srs_precoding_trajectories

Writes ``trajectory.csv`` (variant, step, t, nmse_xt_db, gcs_xt, nmse_x0_db, gcs_x0),
``meta.json`` and ``figures/trajectory.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
import tensorflow as tf
from sionna.phy import config

from linksim.provenance import git_revision, package_versions
from linksim.receivers.contract import Estimate
from linksim.tdd.channels import SRSChannelSource, data_shape
from linksim.tdd.config import MOBILITY_KMH, SRSPrecoding
from linksim.tdd.estimators import ModelEstimator
from linksim.tdd.link import precode_and_measure
from linksim.tdd.models import X0_CLIP, DiffusionSampler
from linksim.tdd.observation import observe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mobility", choices=tuple(MOBILITY_KMH), default="high")
    ap.add_argument("--snr", type=float, default=0.0, help="uplink SNR [dB]")
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--out", default="results/srs_precoding_trajectories")
    ap.add_argument("--clip", type=float, default=X0_CLIP, help="clip of the jump-to-clean estimate (0: none)")
    args = ap.parse_args()

    sec = SRSPrecoding(mobility=args.mobility)
    shape = data_shape(sec)
    config.seed = args.seed
    obs_clean, h = SRSChannelSource(sec).batch(args.channels)
    h = tf.constant(h)
    rng = tf.random.Generator.from_seed(args.seed)
    y = observe(tf.constant(obs_clean), 10 ** (-args.snr / 10), sec.comb, rng)
    dl = 10 ** ((args.snr + sec.dl_snr_offset_db) / 10)

    sl = ModelEstimator(f"srs-sl-{args.mobility}-cpu", shape, "sl")
    ref = precode_and_measure(Estimate.of(sl(y, args.snr, rng)), h, sec.streams, dl)
    rows, summary = [], {"sl": ref}
    for variant in ("stochastic", "deterministic"):
        dm = ModelEstimator(f"srs-dm-{args.mobility}-cpu", shape, "dm", samples=1, stochastic=variant == "stochastic")
        dm.sampler = DiffusionSampler(dm.net, clip_x0=args.clip or None, parameterisation=dm.parameterisation,
                                     input_scale=dm.sampler.input_scale)
        est = dm(y, args.snr, rng, truth=h)
        tr = est["trace"]
        T = len(tr["nmse_xt"])
        for i in range(T):
            rows.append({"variant": variant, "step": i + 1, "t": T - i,
                         "nmse_xt_db": round(10 * math.log10(tr["nmse_xt"][i]), 3), "gcs_xt": round(float(tr["gcs_xt"][i]), 4),
                         "nmse_x0_db": round(10 * math.log10(tr["nmse_x0"][i]), 3), "gcs_x0": round(float(tr["gcs_x0"][i]), 4)})
        summary[f"dm_{variant}"] = precode_and_measure(Estimate.of(est), h, sec.streams, dl)
        best = int(np.argmin(tr["nmse_x0"]))
        summary[f"dm_{variant}"]["best_x0_step"] = best + 1
        summary[f"dm_{variant}"]["best_x0_nmse_db"] = 10 * math.log10(tr["nmse_x0"][best])

    out = Path(args.out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    with open(out / "trajectory.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    meta = {"args": vars(args), "seed": args.seed, "section": sec.model_dump(), "summary": summary,
            "git_revision": git_revision(), "versions": package_versions()}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    plot(rows, ref, out / "figures" / "trajectory.png", args)
    for k, v in summary.items():
        print(k, {a: round(b, 3) if isinstance(b, float) else b for a, b in v.items()})


def plot(rows, ref, path, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    colours = {"stochastic": "tab:red", "deterministic": "tab:blue"}
    for metric, ax, label in (("nmse", axes[0], "NMSE [dB]"), ("gcs", axes[1], "GCS")):
        for variant, c in colours.items():
            sel = [r for r in rows if r["variant"] == variant]
            steps = [r["step"] for r in sel]
            suffix = "_db" if metric == "nmse" else ""
            ax.plot(steps, [r[f"{metric}_xt{suffix}"] for r in sel], color=c, ls="-", label=f"{variant}: x_t")
            ax.plot(steps, [r[f"{metric}_x0{suffix}"] for r in sel], color=c, ls="--", label=f"{variant}: x0 jump")
        ax.axhline(ref["nmse_db"] if metric == "nmse" else ref["gcs"], color="k", ls="-.", label="SL")
        ax.set_xlabel("reverse step (1 = t = T)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"DM reverse trajectories, {args.mobility} mobility, uplink {args.snr:g} dB, {args.channels} channels")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
