"""The narrowband posterior samplers fed the exact Gaussian prior score, against LMMSE with
the same covariance (issue: Card B done right, item 1).

Priors ``vec(H) ~ CN(0, C)``:

* ``CDL-A`` ... ``CDL-D``: ``C`` the sample covariance of the profile's training set
  (10 000 channels, 64 x 16, the scenarios' defaults);
* ``rank-r``: rows i.i.d. ``CN(0, C_r)`` with ``C_r`` of rank ``r`` (the theory cases of
  ``linksim.narrowband.gaussian_prior.low_rank_covariance``), ``C = I ⊗ C_r``, 64 x 4.

Test channels are drawn from the prior itself, so LMMSE is the MMSE. Per cell (prior, pilot
density, SNR): LMMSE, the default sampler (``gaussian-posterior``: its conditional-mean
chain = the receivers' point estimate, and one posterior draw, whose error is twice the
MMSE for an exact sampler), Card B's sampler as published (``uninformative``, zeta 1, all
T steps) and, on request (``--columns``), the previous default ``tweedie-trace``
(tweedie_from 0.1, step cap 4).
NMSE over the cell's channels with its 95 % interval (delta method over channels).

Usage::

    python benchmarks/card_b_sampler_exact.py --out results/reference/card_b_sampler_exact
        [--priors A B C D rank-8 rank-32 rank-56] [--snrs -10 0 10 20 30]
        [--rhos 0.125 0.25 0.5 1] [--channels 64] [--steps 50]
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from linksim.diffusion.schedules import linear_beta_schedule
from linksim.metrics import ratio_interval
from linksim.narrowband.channels import NarrowbandCDL, training_set
from linksim.narrowband.gaussian_dc import GaussianConsistency, GaussianSurrogate
from linksim.narrowband.gaussian_prior import GaussianMatrixPrior, low_rank_covariance
from linksim.narrowband.linear_gaussian import GaussianMixtureLinear, sample_covariance
from linksim.narrowband.pilots import PilotOperator, complex_normal, qpsk_pilots
from linksim.narrowband.receivers.diffusion_common import DiffusionParams
from linksim.narrowband.samplers import consistent_sample, posterior_sample, sampling_steps

#: Columns: label -> how the cell's estimate is made (see :func:`estimates`).
ESTIMATORS = ("lmmse", "gp-mean", "gp-sample", "card-b", "tweedie-trace")


def covariance(name: str, nt: int):
    """``(C [d, d], (Nr, Nt))`` of a prior name."""
    if name.startswith("rank-"):
        nr = 4
        return np.kron(np.eye(nr), low_rank_covariance(nt, int(name[5:]), seed=0)), (nr, nt)
    model = NarrowbandCDL(num_tx=nt)
    return sample_covariance(training_set(model, name, 10000, 0)), (model.num_rx, nt)


def estimates(prior, cov, h, y, op, nv, abar, steps, rng, columns=ESTIMATORS):
    """The estimates of ``h`` from ``y`` of ``columns``."""
    nr, nt = prior.shape
    eps = lambda x, t: prior.eps(x, np.sqrt(abar[t]), np.sqrt(1.0 - abar[t]))  # noqa: E731
    h_init = complex_normal(h.shape, rng, tf.complex64)
    mean, _, _ = GaussianMixtureLinear(cov[None], [1.0], op.x.numpy(), nv, nr)(y)
    dc = GaussianConsistency([GaussianSurrogate(cov)], op.x.numpy(), nv, nr, abar, steps)
    make = {"lmmse": lambda: mean,
            "gp-mean": lambda: consistent_sample(eps, dc, y, abar, steps, h_init),
            "gp-sample": lambda: consistent_sample(eps, dc, y, abar, steps, h_init, stochastic=True, rng=rng),
            "card-b": lambda: posterior_sample(eps, y, op, nv, abar, h_init, likelihood="uninformative"),
            "tweedie-trace": lambda: posterior_sample(eps, y, op, nv, abar, h_init, likelihood="tweedie-trace",
                                                      rng=rng, tweedie_from=0.1, step_cap=4.0)}
    return {k: make[k]() for k in columns}


def nmse_interval(h_hat, h):
    """NMSE in dB with its 95 % interval over channels (ratio of sums, delta method)."""
    e = tf.reduce_sum(tf.abs(tf.cast(h_hat, tf.complex64) - h) ** 2, axis=[1, 2]).numpy().astype(np.float64)
    p = tf.reduce_sum(tf.abs(h) ** 2, axis=[1, 2]).numpy().astype(np.float64)
    r, lo, hi = ratio_interval(len(e), e.sum(), p.sum(), (e * e).sum(), (p * p).sum(), (e * p).sum())
    db = lambda v: 10 * np.log10(v) if v > 0 else -np.inf  # noqa: E731
    return db(r), db(lo), db(hi)


def run(args):
    abar = linear_beta_schedule(100, 1e-4, 0.2)
    steps = sampling_steps(100, args.steps)
    rows = []
    cells = [(p, rho, snr) for p in args.priors for rho in args.rhos for snr in args.snrs]
    bar = tqdm(total=len(cells), desc="cells")
    for name in args.priors:
        cov, shape = covariance(name, args.nt)
        prior = GaussianMatrixPrior(cov, shape)
        rng = tf.random.Generator.from_seed(args.seed)
        h = prior.sample(args.channels, rng)
        for rho in args.rhos:
            op = PilotOperator(qpsk_pilots(args.nt, max(1, int(round(rho * args.nt))), rng, tf.complex64))
            for snr in args.snrs:
                nv = 10.0 ** (-snr / 10.0)
                y = op.observe(h, nv, rng)
                t0 = time.time()
                out = estimates(prior, cov, h, y, op, nv, abar, steps, rng, args.columns)
                row = {"prior": name, "rho": rho, "snr_db": snr}
                for k in args.columns:
                    row[k], row[f"{k}_lo"], row[f"{k}_hi"] = nmse_interval(out[k], h)
                row["seconds"] = time.time() - t0
                rows.append(row)
                bar.update()
                bar.set_postfix_str(f"{name} rho={rho:g} {snr:g} dB: gp-mean {row['gp-mean'] - row['lmmse']:+.2f} dB")
    bar.close()
    return rows


def table(rows, args) -> str:
    head = (f"NMSE in dB [95 % interval] over {args.channels} channels drawn from each prior; in brackets after the "
            f"sampler columns their gap to the LMMSE of the same draws. Linear beta 1e-4..0.2, T = 100; "
            f"gaussian-posterior with {args.steps} steps; seed {args.seed}.")
    cols = list(args.columns)
    lines = ["| prior | rho | SNR dB | " + " | ".join(cols) + " |", "|" + "---|" * (3 + len(cols))]
    for r in rows:
        cells = [r["prior"], f"{r['rho']:g}", f"{r['snr_db']:g}"]
        for c in cols:
            text = f"{r[c]:.2f} [{r[c + '_lo']:.2f}, {r[c + '_hi']:.2f}]"
            if c != "lmmse":
                text += f" ({r[c] - r['lmmse']:+.2f})"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    gp = [r["gp-mean"] - r["lmmse"] for r in rows]
    gs = [r["gp-sample"] - r["lmmse"] for r in rows]
    summary = (f"\nOver all {len(rows)} cells: gaussian-posterior point estimate {min(gp):+.2f} ... {max(gp):+.2f} dB from "
               f"LMMSE; one posterior draw {min(gs):+.2f} ... {max(gs):+.2f} dB (exact: +3.01)")
    for c in ("card-b", "tweedie-trace"):
        if c in cols:
            gap = [r[c] - r["lmmse"] for r in rows]
            summary += f"; {c} {min(gap):+.2f} ... {max(gap):+.2f} dB"
    summary += ".\n"
    return head + "\n\n" + "\n".join(lines) + "\n" + summary


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--priors", nargs="+", default=["A", "B", "C", "D", "rank-8", "rank-32", "rank-56"])
    p.add_argument("--snrs", type=float, nargs="+", default=[-10.0, 0.0, 10.0, 20.0, 30.0])
    p.add_argument("--rhos", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0])
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--columns", nargs="+", default=["lmmse", "gp-mean", "gp-sample", "card-b"], choices=ESTIMATORS,
                   help="estimators (lmmse and gp-mean / gp-sample always needed for the summary)")
    p.add_argument("--steps", type=int, default=DiffusionParams().steps)
    p.add_argument("--nt", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="folder for table.md and table.csv")
    args = p.parse_args()
    rows = run(args)
    text = table(rows, args)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "table.md"), "w") as f:
            f.write(text)
        with open(os.path.join(args.out, "table.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
