"""Card B's sampler on CDL data with the expert of the true profile: the likelihood
variants (uninformative = Card B's, tweedie-white, tweedie-trace) against the genie LMMSE
of the same channels, per profile and SNR. Decides which likelihood dm_vb uses (the
exact-Gaussian check is ``card_b_sampler_gaussian.py``).

    PYTHONPATH=. python benchmarks/card_b_likelihoods_cdl.py scenarios/moe_vb_balanced.yaml \
        --snrs 0 10 20 --channels 32 --out results/reference/moe_vb_likelihoods
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from sionna.phy import config

from linksim.narrowband.network_prior import NetworkPrior
from linksim.narrowband.receivers.diffusion_common import DiffusionParams, run_sampler
from linksim.narrowband.receivers.zoo_names import expert_name
from linksim.scenario import load_scenario, with_value
from linksim.system.link import build_link

# (likelihood, zeta, step_cap): the first four without the step cap (as first measured), then
# the receivers' default tweedie-trace with it
VARIANTS = [("uninformative", 1.0, None), ("uninformative", 3.0, None), ("tweedie-white", 1.0, None),
            ("tweedie-trace", 1.0, None), ("tweedie-trace", 1.0, DiffusionParams().step_cap)]


def label(lik, zeta, cap):
    return f"{lik} z={zeta:g}" + (f" cap={cap:g}" if cap else "")


def nmse_db(a, h):
    return float(10 * np.log10(np.sum(np.abs(np.asarray(a) - h) ** 2) / np.sum(np.abs(h) ** 2)))


def run(args):
    base = load_scenario(args.scenario, ["receivers=[{name: lmmse_genie}]"])
    rows = []
    for profile in args.profiles or base.narrowband.profiles:
        s = with_value(base, "narrowband.test_profile", profile)
        config.seed = s.seed
        link = build_link(s)
        genie = dict(link.receivers)["lmmse_genie"]
        name = expert_name(profile, s.narrowband.samples(profile))
        priors = {False: NetworkPrior(name, link.context.shape), True: NetworkPrior(name, link.context.shape, eager=True)}
        for snr in args.snrs:
            no = 10.0 ** (-snr / 10.0)
            config.seed = s.seed + int(round(10 * snr)) + 2000
            batch = link.transmit(args.channels, no)
            h = batch["h"].numpy()
            comp = tf.fill([args.channels], s.narrowband.profiles.index(profile))
            row = {"profile": profile, "snr_db": snr, "expert": name,
                   "lmmse_genie": round(nmse_db(genie(batch["y"], link.op, no, {"h": batch["h"], "component": comp})[0], h), 2)}
            for lik, zeta, cap in VARIANTS:
                params = DiffusionParams(likelihood=lik, zeta=zeta, step_cap=cap)
                prior = priors[lik == "tweedie-trace"]
                out = run_sampler(prior.eps, prior.alpha_bar, batch["y"], link.op, no, params, 1, seed=args.seed)[0]
                row[label(lik, zeta, cap)] = round(nmse_db(out, h), 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--profiles", nargs="*")
    ap.add_argument("--snrs", type=float, nargs="+", default=[0.0, 10.0, 20.0])
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = run(args)
    cols = ["lmmse_genie"] + [label(*v) for v in VARIANTS]
    lines = [f"NMSE [dB], {args.channels} channels per row, the expert of the true profile, tweedie likelihoods "
             f"from alpha_bar >= {DiffusionParams().tweedie_from} (uninformative before):", "",
             "| profile | SNR dB | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 2)]
    lines += [f"| {r['profile']} | {r['snr_db']:g} | " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "likelihoods.json").write_text(json.dumps(rows, indent=1))
        (args.out / "table.md").write_text(text)


if __name__ == "__main__":
    main()
