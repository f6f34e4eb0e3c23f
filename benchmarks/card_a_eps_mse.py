"""Card A: what a trained denoiser learned, against what is possible — the error of its
clean estimate per diffusion time on fresh channels, beside the exact denoisers of

* its backbone alone (the Gaussian mixture it corrects),
* the Gaussian of its training set (LMMSE with the pooled covariance: the
  "Gaussian optimum" a learned prior must beat to have learned anything beyond it),
* the genie (LMMSE with each realisation's own covariance, :mod:`linksim.headroom`: for
  38.901 drops the drop's covariance with its rays held and their phases redrawn).

States ``x = alpha h~ + beta xi`` with one time for all entries (``h~ = sqrt(2) h``); the
per-entry SNR of the state is ``alpha^2 / beta^2``. The clean-estimate NMSE is the
eps-MSE times ``beta^2 / alpha^2`` up to the data scale, so the ratio model / bound is the
same for both; it is printed per time. A model that learned the source's structure sits
between its backbone and the genie; one that learned nothing sits on its backbone.

    PYTHONPATH=. python benchmarks/card_a_eps_mse.py --model nonid-uma-cpu --data uma \
        --out results/reference/card_a_eps_mse_uma
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from linksim.data.channels import cached_dataset
from linksim.diffusion.checkpoints import load_denoiser
from linksim.diffusion.gmm import DATA_SCALE
from linksim.headroom import genie_test_set
from linksim.narrowband.linear_gaussian import sample_covariance
from linksim.provenance import atomic_write, git_revision, package_versions

SNR_DB = (-10, -5, 0, 5, 10, 15, 20, 25, 30)


def _gaussian_denoise(lam, vec, y, noise_var):
    """E[h | y = h + n] for h ~ CN(0, V diag(lam) V^H), n ~ CN(0, noise_var I); y [n, d]."""
    return ((y @ vec.conj()) * (lam / (lam + noise_var))) @ vec.T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="uma", help="data preset of the model (its training source)")
    ap.add_argument("--test", type=int, default=256)
    ap.add_argument("--genie-draws", type=int, default=256)
    ap.add_argument("--train", type=int, default=8000, help="training channels for the pooled covariance")
    ap.add_argument("--seed", type=int, default=1000, help="seed of the fresh test draw")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    revision = git_revision()
    t0 = time.perf_counter()
    den, cfg = load_denoiser(args.model)
    backbone, _ = load_denoiser(args.model, network=False)
    h, genie, genie_info = genie_test_set(args.data, args.test, args.genie_draws, args.seed)
    n, shape = len(h), h.shape[1:]
    d = int(np.prod(shape))
    x = h.reshape(n, d).astype(np.complex128)
    lam_p, vec_p = np.linalg.eigh(sample_covariance(cached_dataset(args.data, args.train, seed=0).h))
    eig = [np.linalg.eigh(genie(i)) for i in range(n)]
    power = np.sum(np.abs(x) ** 2)
    rng = np.random.default_rng(args.seed)
    noise = (rng.standard_normal((n, d)) + 1j * rng.standard_normal((n, d))) / math.sqrt(2)
    rows = []
    for snr in SNR_DB:
        ab = 10 ** (snr / 20)                                  # alpha / beta
        alpha = ab / math.sqrt(1 + ab * ab)
        beta = math.sqrt(1 - alpha * alpha)
        tau = den.schedule.tau_of_alpha(tf.constant(alpha, tf.float32))
        y = x + noise / ab                                     # x_t / (alpha sqrt 2): h + CN(0, beta^2/alpha^2)
        state = alpha * DATA_SCALE * x + beta * DATA_SCALE * noise   # real entries: alpha h~ + beta xi
        s = tf.constant(np.stack([state.real, state.imag], -1).reshape(n, *shape, 2), tf.float32)
        t = tf.fill([n, 1, 1, 1], float(tau))
        est = {}
        for name, dn in (("model", den), ("backbone", backbone)):
            out = dn(s, t).numpy()
            est[name] = (out[..., 0] + 1j * out[..., 1]).reshape(n, d) / DATA_SCALE
        est["gaussian"] = _gaussian_denoise(lam_p, vec_p, y, 1 / ab ** 2)
        est["genie"] = np.concatenate([_gaussian_denoise(*eig[i], y[i:i + 1], 1 / ab ** 2) for i in range(n)])
        row = {"snr_db": snr, "tau": round(float(tau), 3)}
        for name, e in est.items():
            row[f"{name}_nmse_db"] = round(10 * math.log10(np.sum(np.abs(e - x) ** 2) / power), 2)
        row["model_over_gaussian_db"] = round(row["model_nmse_db"] - row["gaussian_nmse_db"], 2)
        row["model_over_backbone_db"] = round(row["model_nmse_db"] - row["backbone_nmse_db"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    header = list(rows[0])
    md = ["| state SNR [dB] | τ | model | backbone alone | Gaussian of its training set | genie | model − Gaussian | model − backbone |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['snr_db']} | {r['tau']} | {r['model_nmse_db']:.2f} | {r['backbone_nmse_db']:.2f} | "
                  f"{r['gaussian_nmse_db']:.2f} | {r['genie_nmse_db']:.2f} | {r['model_over_gaussian_db']:+.2f} | "
                  f"{r['model_over_backbone_db']:+.2f} |")
    print("\n".join(md))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "denoising.csv", ",".join(header) + "\n"
                     + "\n".join(",".join(str(r[k]) for k in header) for r in rows) + "\n")
        atomic_write(out / "denoising.md", f"# {args.model}: clean-estimate NMSE [dB] per diffusion time "
                     f"(git {revision})\n\n{n} fresh channels of `{args.data}` (seed {args.seed}); one time for "
                     "all entries.\n\n" + "\n".join(md) + "\n")
        meta = {"model": args.model, "data": args.data, "test": n, "genie": genie_info, "train": args.train,
                "seed": args.seed, "git_revision": revision, "versions": package_versions(),
                "wall_s": round(time.perf_counter() - t0, 1)}
        atomic_write(out / "meta.json", json.dumps(meta, indent=2) + "\n")
        _plot(rows, out / "denoising.png", args.model)


def _plot(rows, path, model):
    import matplotlib.pyplot as plt

    from linksim.plotting import save_curves

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    snr = [r["snr_db"] for r in rows]
    for key, label, style in (("model", model, "o-"), ("backbone", "backbone alone (mixture)", "s--"),
                              ("gaussian", "Gaussian of the training set", "^:"), ("genie", "genie", "d-.")):
        ax.plot(snr, [r[f"{key}_nmse_db"] for r in rows], style, label=label, ms=4)
    save_curves(fig, ax, path, "SNR of the diffusion state α²/β² [dB]", "NMSE of the clean estimate [dB]")


if __name__ == "__main__":
    main()
