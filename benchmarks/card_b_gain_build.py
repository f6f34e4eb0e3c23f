"""Cost of the Gaussian-posterior sampler's set-up: the data-consistency gains of one
pilot matrix and noise level for every sampler step and expert, built factorised (the
Cholesky factor of ``M_t = B G_t B^H + s2 I``, as :mod:`linksim.narrowband.gaussian_dc`
does) and as explicit ``K_t = Q G_t B^H M_t^{-1}`` matrices (the previous build), on the
shipped CDL experts' Gaussian fits; and the applied gains' agreement. Run on this machine
in one process:

    PYTHONPATH=. python benchmarks/card_b_gain_build.py --density 0.5 --snr 30 \
        --out results/reference/card_b_gain_build.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from linksim.narrowband.gaussian_dc import GaussianConsistency, GaussianSurrogate, _observe_columns
from linksim.narrowband.network_prior import NetworkPrior
from linksim.narrowband.pilots import qpsk_pilots
from linksim.narrowband.samplers import sampling_steps
from linksim.provenance import git_revision

EXPERTS = ("nbdm-cdlA-10k-cpu", "nbdm-cdlB-10k-cpu", "nbdm-cdlC-10k-cpu", "nbdm-cdlD-10k-cpu")


def explicit_gains(surrogate, x, noise_var, num_rx, alpha_bar, steps) -> dict:
    """``{t: K_t}`` [d, m] complex128, each solved with ``d`` right-hand sides and formed."""
    aq = _observe_columns(surrogate.q, x, num_rx)
    m = aq.shape[0]
    out = {}
    for t in steps:
        g = surrogate.posterior_var(np.sqrt(alpha_bar[t]), np.sqrt(1.0 - alpha_bar[t]))
        aqg = aq * g
        gram = aqg @ aq.conj().T + noise_var * np.eye(m)
        out[t] = surrogate.q @ np.linalg.solve(0.5 * (gram + gram.conj().T), aqg).conj().T
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--density", type=float, default=0.5, help="pilots per transmit antenna")
    ap.add_argument("--snr", type=float, default=30.0, help="dB")
    ap.add_argument("--steps", type=int, default=20, help="sampler steps")
    ap.add_argument("--out", default=None, help="also write the table to this markdown file")
    args = ap.parse_args()
    priors = [NetworkPrior(n) for n in EXPERTS]
    nr, nt = priors[0].config["channel"]["num_rx"], priors[0].config["channel"]["num_tx"]
    surrogates = [GaussianSurrogate(p.backbone.covariance()) for p in priors]
    x = qpsk_pilots(nt, int(round(args.density * nt)), tf.random.Generator.from_seed(1), tf.complex64).numpy()
    x = x.astype(np.complex128)
    nv = 10.0 ** (-args.snr / 10.0)
    abar, steps = priors[0].alpha_bar, sampling_steps(priors[0].T, args.steps)
    t0 = time.perf_counter()
    fact = GaussianConsistency(surrogates, x, nv, nr, abar, steps)
    t_fact = time.perf_counter() - t0
    t0 = time.perf_counter()
    expl = [explicit_gains(s, x, nv, nr, abar, steps) for s in surrogates]
    t_expl = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    m = nr * x.shape[1]
    resid = tf.constant(rng.standard_normal((8, m)) + 1j * rng.standard_normal((8, m)))
    worst = 0.0
    for k, gains in enumerate(expl):
        for t, gain in gains.items():
            ref = resid.numpy() @ gain.T
            got = fact._gain(k, t, resid).numpy()
            worst = max(worst, float(np.linalg.norm(got - ref) / np.linalg.norm(ref)))
    text = (f"{len(EXPERTS)} experts x {len(steps)} steps, d = {nr * nt}, m = {m}, SNR {args.snr:g} dB, "
            f"git {git_revision()}\n\n"
            "| build | seconds |\n|---|---|\n"
            f"| factorised (Cholesky of M_t) | {t_fact:.1f} |\n| explicit K_t | {t_expl:.1f} |\n\n"
            f"Ratio explicit / factorised: {t_expl / t_fact:.2f}; largest relative difference of the applied "
            f"gains: {worst:.1e}.\n")
    print(text)
    if args.out:
        Path(args.out).write_text(text)

if __name__ == "__main__":
    main()
