"""Card B's posterior sampler against LMMSE on an exact-Gaussian prior (issue: MoE + VB).

Rows of H i.i.d. CN(0, C) with C of rank r (tr C = Nt), QPSK pilots X (Nt x Np), the exact
prior noise prediction (``linksim.narrowband.gaussian_prior``), linear beta 1e-4..0.2,
T = 100, start from noise. With the exact *posterior* score the deterministic sampler ends
at the LMMSE estimate, so the printed gap (sampler NMSE - LMMSE NMSE, dB) is the error of
the likelihood approximation:

  uninformative   Card B: h_0 | h_t ~ CN(h_t/a, (b/a)^2 I)
  tweedie-white   h_0 | h_t ~ CN(mu(h_t), b^2 I), gradient through the prior denoiser
  tweedie-trace   same, variance = the denoiser's average posterior variance (Hutchinson)

Usage::

    python benchmarks/card_b_sampler_gaussian.py [--ranks 8 32 56] [--snrs 0 10 20]
        [--rhos 0.5] [--zetas 1] [--nr 4] [--batch 8] [--out table.md]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import tensorflow as tf

from linksim.diffusion.schedules import linear_beta_schedule
from linksim.narrowband.gaussian_prior import GaussianRowPrior, low_rank_covariance
from linksim.narrowband.pilots import PilotOperator, complex_normal, qpsk_pilots
from linksim.narrowband.samplers import LIKELIHOODS, posterior_sample


def db(x):
    return 10.0 * np.log10(x)


def nmse(h_hat, h):
    err = tf.reduce_sum(tf.abs(h_hat - h) ** 2).numpy()
    return err / tf.reduce_sum(tf.abs(h) ** 2).numpy()


def run(args):
    rng = tf.random.Generator.from_seed(args.seed)
    abar = linear_beta_schedule(args.T, 1e-4, args.beta_end)
    rows = []
    for rank in args.ranks:
        prior = GaussianRowPrior(low_rank_covariance(args.nt, rank, seed=args.seed))
        eps = lambda h, t: prior.eps(h, np.sqrt(abar[t]), np.sqrt(1 - abar[t]))  # noqa: E731
        h = prior.sample([args.batch, args.nr], rng)
        for rho in args.rhos:
            op = PilotOperator(qpsk_pilots(args.nt, int(round(rho * args.nt)), rng, tf.complex128))
            for snr in args.snrs:
                nv = 10.0 ** (-snr / 10.0)
                y = op.observe(h, nv, rng)
                h_init = complex_normal(h.shape, rng)  # h_T ~ CN(0, I)
                lm = nmse(prior.lmmse(y, op, nv), h)
                row = {"rank": rank, "rho": rho, "snr": snr, "lmmse_theory": db(prior.lmmse_nmse(op, nv)),
                       "lmmse": db(lm)}
                for zeta in args.zetas:
                    for lik in args.likelihoods:
                        t0 = time.time()
                        out = posterior_sample(eps, y, op, nv, abar, h_init, zeta=zeta, likelihood=lik, rng=rng)
                        row[f"{lik} z={zeta:g}"] = db(nmse(out, h))
                        row[f"{lik} z={zeta:g} s"] = time.time() - t0
                rows.append(row)
                print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                                if not k.endswith(" s")), flush=True)
    return rows


def table(rows, args):
    cols = [k for k in rows[0] if k not in ("rank", "rho", "snr") and not k.endswith(" s")]
    lines = ["| rank | rho | SNR dB | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
             "|" + "---|" * (3 + len(cols))]
    for r in rows:
        cells = [f"{r['rank']}", f"{r['rho']:g}", f"{r['snr']:g}"]
        cells += [f"{r[c]:.2f}" if c.startswith("lmmse") else f"{r[c]:.2f} ({r[c] - r['lmmse']:+.2f})" for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    head = (f"NMSE in dB (gap to the LMMSE of the same draws in brackets); Nt={args.nt}, Nr={args.nr}, "
            f"{args.batch} channels per cell, T={args.T}, linear beta 1e-4..{args.beta_end}, seed {args.seed}.")
    return head + "\n\n" + "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nt", type=int, default=64)
    p.add_argument("--nr", type=int, default=4)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--ranks", type=int, nargs="+", default=[8, 32, 56])
    p.add_argument("--snrs", type=float, nargs="+", default=[0.0, 10.0, 20.0])
    p.add_argument("--rhos", type=float, nargs="+", default=[0.5])
    p.add_argument("--zetas", type=float, nargs="+", default=[1.0])
    p.add_argument("--likelihoods", nargs="+", default=list(LIKELIHOODS), choices=LIKELIHOODS)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--beta-end", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    text = table(run(args), args)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
