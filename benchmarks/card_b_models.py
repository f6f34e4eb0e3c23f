"""Card B's shipped narrowband models read off their checkpoints (nothing is trained or
simulated here): per model its training channels, residual steps, time and revision, at
how many diffusion steps its network's residual is switched on, its noise-prediction
error against the exact Gaussian denoiser of its training set (mean over t, t = 1,
t = T; the worst step), and the NMSE of the receivers' sampler and of Card B's sampler
with it next to LMMSE with the sample covariance at 10 dB (from the card's evaluation).

    PYTHONPATH=. python benchmarks/card_b_models.py [--out results/reference/moe_vb_models.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ZOO = Path(__file__).resolve().parents[1] / "linksim" / "zoo"


def model_rows(names) -> list[dict]:
    """One dict per model from its ``config.json``."""
    rows = []
    for name in names:
        cfg = json.loads((ZOO / name / "config.json").read_text())
        tr = cfg["training"]
        gate = cfg.get("residual_gate") or []
        if "eps_mse" not in tr:                    # trained before the curve was recorded
            rows.append({"model": name, "missing": True})
            continue
        for p, c in tr["eps_mse"].items():
            m, g = np.asarray(c["model"]), np.asarray(c["gaussian"])
            at10 = tr["measured"].get(f"CDL-{p}, 10 dB", {})
            rows.append({
                "model": name, "profile": p, "fit": cfg["fit_samples"][p], "steps": tr["spec"]["training"]["steps"],
                "wall_s": tr["wall_s"], "revision": tr["git_revision"][:7], "gate_on": int(sum(gate[1:])),
                "T": len(m), "mean": (m.mean(), g.mean()), "t1": (m[0], g[0]), "tT": (m[-1], g[-1]),
                "worst": float(np.max(m / np.maximum(g, 1e-12))), "nmse10": (at10.get("gp"), at10.get("dm"), at10.get("lmmse"))})
    return rows


def markdown(rows) -> str:
    lines = ["| model | profile | fitting channels | residual steps | wall [s] | revision | residual on at | "
             "ε-MSE mean over t (model / Gaussian) | t = 1 | t = T | worst step, model / Gaussian | "
             "NMSE at 10 dB: default sampler / Card B's / LMMSE [dB] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("missing"):
            lines.append(f"| `{r['model']}` | not retrained on a backbone (no curve in its card) |" + " |" * 10)
            continue
        n = r["nmse10"]
        lines.append(f"| `{r['model']}` | {r['profile']} | {r['fit']} | {r['steps']} | {r['wall_s']:.0f} | "
                     f"{r['revision']} | {r['gate_on']} of {r['T']} steps | {r['mean'][0]:.4f} / {r['mean'][1]:.4f} | "
                     f"{r['t1'][0]:.4f} / {r['t1'][1]:.4f} | {r['tT'][0]:.2e} / {r['tT'][1]:.2e} | "
                     f"{r['worst']:.4f} | {n[0]} / {n[1]} / {n[2]} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    names = sorted(p.name for p in ZOO.glob("nbdm-*-cpu"))
    text = ("Shipped narrowband models: noise-prediction error on 256 fresh channels per profile "
            "(the cards' `eps_mse.csv`), NMSE on 64 fresh channels per row (ρ = 0.5).\n\n" + markdown(model_rows(names)))
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
