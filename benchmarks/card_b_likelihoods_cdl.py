"""The narrowband samplers on CDL data with the expert of the true profile: Card B's sampler
with its likelihood variants (uninformative = Card B's, tweedie-white, tweedie-trace) and
the Gaussian-posterior sampler (its conditional-mean chain at several step counts, the mean
of 8 draws, one draw) against the genie LMMSE of the same channels, per profile and SNR.
Decides which sampler the diffusion receivers use (the exact-Gaussian check is
``card_b_sampler_exact.py``).

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

from linksim.links.registry import build_link
from linksim.narrowband.linear_gaussian import sample_covariance
from linksim.narrowband.network_prior import NetworkPrior
from linksim.narrowband.receivers.base import NarrowbandObservation
from linksim.narrowband.receivers.diffusion_common import (
    DiffusionParams,
    make_sampler,
    run_sampler,
)
from linksim.narrowband.receivers.zoo_names import expert_name
from linksim.scenario import load_scenario, with_value

# (likelihood, zeta, step_cap): the first four without the step cap (as first measured), then
# the receivers' default tweedie-trace with it
VARIANTS = [("uninformative", 1.0, None), ("uninformative", 3.0, None), ("tweedie-white", 1.0, None),
            ("tweedie-trace", 1.0, None), ("tweedie-trace", 1.0, DiffusionParams().step_cap)]


# Gaussian-posterior sampler: (steps, samples); samples 0 is the conditional-mean chain,
# (steps, -1) one posterior draw
GAUSSIAN_VARIANTS = [(20, 0), (50, 0), (100, 0), (20, 8), (20, -1)]


def gaussian_label(steps, samples):
    what = "chain" if samples == 0 else ("1 draw" if samples < 0 else f"mean of {samples}")
    return f"gaussian-posterior {steps} steps {what}"


def label(lik, zeta, cap):
    return f"{lik} z={zeta:g}" + (f" cap={cap:g}" if cap else "")


def chosen(variants, name, wanted):
    """The variants whose label is in ``wanted`` (all when ``wanted`` is empty)."""
    return [v for v in variants if not wanted or name(*v) in wanted]


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
        cov = sample_covariance(link.context.training(profile))
        samplers = {st: make_sampler(DiffusionParams(steps=st), lambda: [cov], link.context.model.num_rx,
                                     priors[False].alpha_bar)
                    for st in {v[0] for v in chosen(GAUSSIAN_VARIANTS, gaussian_label, args.variants)}}
        for snr in args.snrs:
            no = 10.0 ** (-snr / 10.0)
            config.seed = s.seed + int(round(10 * snr)) + 2000
            batch = link.transmit(args.channels, no)
            h = batch["h"].numpy()
            comp = tf.fill([args.channels], s.narrowband.profiles.index(profile))
            row = {"profile": profile, "snr_db": snr, "expert": name,
                   "lmmse_genie": round(nmse_db(genie(NarrowbandObservation(batch["y"], no, {"h": batch["h"], "component": comp}, op=link.op)).h_hat, h), 2)}
            for lik, zeta, cap in chosen(VARIANTS, label, args.variants):
                params = DiffusionParams(likelihood=lik, zeta=zeta, step_cap=cap)
                prior = priors[lik == "tweedie-trace"]
                out = run_sampler(prior.eps, prior.alpha_bar, batch["y"], link.op, no, params, 1, seed=args.seed)[0]
                row[label(lik, zeta, cap)] = round(nmse_db(out, h), 2)
            for steps, samples in chosen(GAUSSIAN_VARIANTS, gaussian_label, args.variants):
                draws = 1 if samples < 0 else samples
                out = samplers[steps](priors[False].eps, batch["y"], link.op, no, args.seed, draws)
                out = out[0] if samples < 0 else tf.reduce_mean(out, axis=0)
                row[gaussian_label(steps, samples)] = round(nmse_db(out, h), 2)
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
    ap.add_argument("--variants", nargs="*", default=[], help="column labels to run (default: all)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = run(args)
    cols = ["lmmse_genie"] + [label(*v) for v in chosen(VARIANTS, label, args.variants)] + \
        [gaussian_label(*v) for v in chosen(GAUSSIAN_VARIANTS, gaussian_label, args.variants)]
    lines = [f"NMSE [dB], {args.channels} channels per row, the expert of the true profile, tweedie likelihoods "
             f"from alpha_bar >= {DiffusionParams().tweedie_from} (uninformative before); gaussian-posterior: the "
             f"Gaussian fit of the profile's training set as the data-consistency covariance:", "",
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
