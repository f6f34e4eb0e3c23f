"""Card C: which DM parameterisation and loss weighting make the DM use its condition?
Short trainings of the high-mobility DM (same data, seed and steps; only the
``diffusion`` options differ), each measured with the guard (:mod:`linksim.tdd.guard`)
on fresh realisations at 0 dB.

    PYTHONPATH=. python benchmarks/card_c_parameterisation.py --steps 2000 \
        --out results/reference/srs_precoding_parameterisation
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from linksim.provenance import git_revision, package_versions
from linksim.tdd.config import SRSPrecoding
from linksim.tdd.guard import fresh_channels, guard, table
from linksim.training.srs_precoding import load_spec, train

#: label -> diffusion overrides
VARIANTS = {
    "eps (eps-MSE, the original)": {"parameterisation": "eps"},
    "v (v-MSE)": {"parameterisation": "v"},
    "x0 (x0-MSE)": {"parameterisation": "x0"},
    "v, min-SNR-5": {"parameterisation": "v", "weighting": "min_snr"},
    "v (v-MSE), SL init": {"parameterisation": "v", "init_from": "srs-sl-high-cpu"},
    "x0 (x0-MSE), SL init": {"parameterisation": "x0", "init_from": "srs-sl-high-cpu"},
    "v (v-MSE), SL init, input alpha x_t": {"parameterisation": "v", "init_from": "srs-sl-high-cpu", "input_scale": "alpha"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default="scenarios/train/srs_precoding/dm_high_cpu.yaml")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--snr", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=2026, help="seed of the fresh channel draw")
    ap.add_argument("--only", nargs="*", default=None, help="labels to run (default: all)")
    ap.add_argument("--out", default="results/srs_precoding_parameterisation")
    ap.add_argument("--models", default="/tmp/srs_precoding_parameterisation", help="where the trained variants go")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sec = SRSPrecoding(mobility="high")
    obs_clean, h = fresh_channels(sec, args.channels, args.seed)
    rows = []
    for label, diff in VARIANTS.items():
        if args.only and label not in args.only:
            continue
        overrides = [f"training.steps={args.steps}", f"output={Path(args.models) / str(len(rows))}",
                     "evaluation.snr_db=[0]", "evaluation.num_channels=16"]
        base = {"parameterisation": "eps", "weighting": "null", "init_from": "null", "input_scale": "none"}  # whatever the spec sets
        overrides += [f"diffusion.{k}={v}" for k, v in {**base, **diff}.items()]
        spec = load_spec(args.spec, overrides)
        t0 = time.time()
        folder = train(spec, progress=False, source=args.spec)
        train_s = round(time.time() - t0, 1)
        g = guard(str(folder), "srs-sl-high-cpu", sec, obs_clean, h, args.snr, samples=args.samples)
        g["model"], g["train_s"] = label, train_s
        rows.append(g)
        print(json.dumps(g), flush=True)
    text = (f"High mobility, {args.steps} steps each (batch 64, lr 1e-3 cosine, seed 1), {args.channels} fresh "
            f"realisations (seed {args.seed}) at {args.snr:g} dB, K = {args.samples}; NMSE [dB].\n\n"
            + table(rows, "variant") + "\n")
    print(text)
    (out / "comparison.md").write_text(text)
    (out / "comparison.json").write_text(json.dumps({"args": vars(args), "rows": rows, "git_revision": git_revision(),
                                                     "versions": package_versions()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
