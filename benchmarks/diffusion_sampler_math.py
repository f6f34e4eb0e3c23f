"""Sampler math without a network: final NMSE vs number of generation steps.

Gaussian data h ~ N(0, C) (known C, tr C = d) and the exact denoiser E[h | x]
(``linksim.diffusion.gaussian``), so every error here is the sampler's own. For each
initialisation (identical: equal noise on all elements, scalar tau0; non-identical: mask +
exponential noise powers + some exact elements) and stepper, prints the final NMSE (dB) of

  eta=1     one DDIM-eta=1 (ancestral) sample        -> should be ~ MMSE + 3 dB
  eta=1 KN  mean of K such samples                  -> should be ~ MMSE
  eta=0     deterministic DDIM (a prior sample)
  eps=e     the paper's constant-eps update (12)    -> eps < 1 drifts away as NG grows

next to the MMSE of the same draws. Usage::

    python benchmarks/diffusion_sampler_math.py [--d 16] [--n-obs 64] [--k 32]
"""

from __future__ import annotations

import argparse
import time


import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from linksim.diffusion import GammaSchedule, sample  # noqa: E402
from linksim.diffusion import gaussian as G  # noqa: E402


def db(x):
    return 10.0 * np.log10(x)


def run(args):
    schedule = GammaSchedule(args.T)
    cov = G.random_covariance(args.d, seed=args.seed)
    den = G.GaussianDenoiser(cov, schedule)
    configs = [("identical", "waterfill")] + [("nonidentical", s) for s in args.steppers]
    for kind, stepper in configs:
        rng = tf.random.Generator.from_seed(args.seed + 1)
        h = G.draw_data(cov, args.n_obs, rng)
        h_tilde, a, b = G.draw_observation(h, kind, rng, snr_db=args.snr_db)
        tau0 = schedule.tau_of_alpha(a)
        mean, _ = G.posterior(cov, h_tilde, a, b)
        mmse = G.nmse(mean, h)
        k = args.k
        x_rep, tau_rep = tf.repeat(h_tilde, k, 0), tf.repeat(tau0, k, 0)
        h_rep = tf.repeat(h, k, 0)
        cols = ["NG", "MMSE", "eta=1", f"eta=1 K{k}", "eta=0"] + [f"eps={e:g}" for e in args.eps]
        print(f"\n{kind} init, {stepper} stepper (d={args.d}, {args.n_obs} obs, "
              f"SNR {args.snr_db:g} dB, T={args.T}): final NMSE [dB]")
        print("  ".join(f"{c:>9}" for c in cols))
        t0 = time.time()
        for ng in args.ng:
            r = tf.random.Generator.from_seed(args.seed + 100 + ng)
            s1 = sample(den, x_rep, tau_rep, ng, stepper=stepper, eta=1.0, rng=r)
            one = G.nmse(s1, h_rep)
            avg = G.nmse(tf.reduce_mean(tf.reshape(s1, [args.n_obs, k, -1]), 1), h)
            ddim = G.nmse(sample(den, h_tilde, tau0, ng, stepper=stepper, eta=0.0), h)
            row = [ng, mmse, one, avg, ddim]
            for e in args.eps:
                row.append(G.nmse(sample(den, h_tilde, tau0, ng, stepper=stepper, eps=e,
                                         rng=r), h))
            print(f"{ng:>9d}  " + "  ".join(f"{db(v):9.2f}" for v in row[1:]))
        print(f"({time.time() - t0:.1f} s)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=16, help="real dimension")
    p.add_argument("--n-obs", type=int, default=64, help="observations (draws of h)")
    p.add_argument("--k", type=int, default=32, help="eta=1 samples per observation")
    p.add_argument("--ng", type=int, nargs="+", default=[5, 10, 20, 50, 100, 200])
    p.add_argument("--eps", type=float, nargs="+", default=[0.4, 0.8, 1.0])
    p.add_argument("--steppers", nargs="+", default=["uniform", "waterfill"],
                   help="steppers for the non-identical initialisation")
    p.add_argument("--snr-db", type=float, default=0.0)
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    run(p.parse_args(argv))


if __name__ == "__main__":
    main()
