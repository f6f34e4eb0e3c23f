"""Card C: is the DM's narrow posterior (err_var_ratio of the sample mean below 0.8) the
sampler's step noise or the network? The guard (:mod:`linksim.tdd.guard`) of each shipped
DM on the same fresh realisations with DDPM's two step variances: beta~_t (the posterior
variance of q(x_{t-1} | x_t, x_0), what the receivers use) and beta_t (the larger one).

    PYTHONPATH=. python benchmarks/card_c_sampler_variance.py --channels 128 --samples 16 \
        --out results/reference/card_c_sampler_variance
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from linksim.provenance import git_revision, package_versions
from linksim.tdd.config import MOBILITY_KMH, SRSPrecoding
from linksim.tdd.guard import fresh_channels, guard, table
from linksim.tdd.models import VARIANCES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mobility", nargs="+", choices=tuple(MOBILITY_KMH), default=["high", "low"])
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--snr", type=float, default=0.0)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--seed", type=int, default=2026, help="seed of the fresh channel draw")
    ap.add_argument("--out", default="results/card_c_sampler_variance")
    args = ap.parse_args()

    revision = git_revision()
    rows = []
    for mobility in args.mobility:
        sec = SRSPrecoding(mobility=mobility)
        obs_clean, h = fresh_channels(sec, args.channels, args.seed)
        for variance in VARIANCES:
            t0 = time.time()
            g = guard(f"srs-dm-{mobility}-cpu", f"srs-sl-{mobility}-cpu", sec, obs_clean, h, args.snr,
                      samples=args.samples, variance=variance)
            g["model"], g["variance"], g["seconds"] = f"srs-dm-{mobility}-cpu, {variance}", variance, round(time.time() - t0, 1)
            rows.append(g)
            print(json.dumps(g), flush=True)
    text = (f"Step noise of the DM sampler: beta~_t (`posterior`, the receivers' default) or beta_t (`beta`). "
            f"{args.channels} fresh realisations (seed {args.seed}) per mobility at {args.snr:g} dB, "
            f"K = {args.samples}; NMSE [dB].\n\n" + table(rows, "DM, step noise") + "\n")
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.md").write_text(text)
    (out / "comparison.json").write_text(json.dumps({"args": vars(args), "rows": rows, "git_revision": revision,
                                                     "versions": package_versions()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
