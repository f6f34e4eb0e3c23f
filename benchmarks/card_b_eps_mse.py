"""Per-timestep noise-prediction error of every shipped narrowband diffusion model against
the exact Gaussian denoiser of its own training channels (issue: Card B done right,
item 2): a model is fit to compare priors only when it is at or below that bound.

For each model: 256 fresh channels per profile it was trained on (the evaluation seed of
its spec), every step t = 1..T; the curves go to ``<out>/<model>.csv``, a summary table
(mean over t, t = 1, t = T; model / bound) to ``<out>/summary.md`` and the curves (model /
bound per t) to ``<out>/eps_mse.png``.

    python benchmarks/card_b_eps_mse.py --out results/reference/card_b_eps_mse [--models NAME ...]
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from linksim.diffusion.checkpoints import read_checkpoint_config, resolve_model, zoo_names  # noqa: E402
from linksim.narrowband.linear_gaussian import sample_covariance  # noqa: E402
from linksim.narrowband.network_prior import TASK  # noqa: E402
from linksim.training.narrowband import (NarrowbandTrainSpec, eps_mse_table,  # noqa: E402
                                         training_channels)
from linksim.training.narrowband_card import eps_csv  # noqa: E402


def narrowband_models() -> list[str]:
    return [n for n in zoo_names() if read_checkpoint_config(resolve_model(n)).get("task") == TASK]


def summary_rows(name: str, table: dict) -> list[str]:
    rows = []
    for p, c in table.items():
        m, g = np.asarray(c["model"]), np.asarray(c["gaussian"])
        ok = m.mean() <= g.mean() and m[0] <= g[0]
        rows.append(f"| {name} | CDL-{p} | {m.mean():.4f} / {g.mean():.4f} | {m[0]:.4f} / {g[0]:.4f} | "
                    f"{m[-1]:.4f} / {g[-1]:.4f} | {np.sum(m > g)} of {len(m)} | {'yes' if ok else 'no'} |")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", help="zoo names or folders (default: every narrowband model in the zoo)")
    p.add_argument("--channels", type=int, default=256)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = args.models or narrowband_models()
    rows, curves = [], {}
    for name in tqdm(names, desc="models"):
        cfg = read_checkpoint_config(resolve_model(name))
        spec = NarrowbandTrainSpec(**cfg["training"]["spec"])
        h_fit, _ = training_channels(spec)
        table = eps_mse_table(resolve_model(name), spec, sample_covariance(h_fit), args.channels)
        label = os.path.basename(str(name).rstrip("/"))
        with open(os.path.join(args.out, f"{label}.csv"), "w") as f:
            f.write(eps_csv(table))
        rows += summary_rows(label, table)
        curves[label] = table
    head = ("Noise-prediction error per real entry on fresh channels (model / exact Gaussian denoiser of the "
            f"model's own training channels), {args.channels} channels per profile, one noise draw per channel and "
            "step. 'at or below' = mean over t and t = 1 both at or below the bound.\n\n"
            "| model | profile | mean over t | t = 1 | t = T | steps above the bound | at or below |\n"
            "|---|---|---|---|---|---|---|\n")
    text = head + "\n".join(rows) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, table in curves.items():
        for prof, c in table.items():
            ax.plot(c["t"], np.asarray(c["model"]) / np.asarray(c["gaussian"]), label=f"{label} (CDL-{prof})", lw=1)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("diffusion step t")
    ax.set_ylabel("eps-MSE: model / Gaussian optimum")
    ax.set_yscale("log")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "eps_mse.png"), dpi=120)


if __name__ == "__main__":
    main()
