"""Headroom of a channel source: how much better than a Gaussian mixture any prior can do.

A learned prior can only beat the Gaussian-mixture conditional mean (``gmm``) on a channel
source whose realisations are *not* well described by a few Gaussians. This module
measures that before any learning, on the estimation problem of Card A's receivers: one
OFDM symbol of ``Na`` BS antennas x ``Nc`` subcarriers, observed on every ``comb``-th
subcarrier of all antennas with complex Gaussian noise of variance ``10^(-SNR/10)``
(channels have unit power per entry). Estimators, all on the same observations:

``lmmse_pooled``
    LMMSE with the sample covariance of the training channels.
``gmm_K``
    The Gaussian-mixture CME (:func:`linksim.diffusion.gmm.fit_gmm`, EM) for each K.
``genie``
    LMMSE with each realisation's own covariance: for a CDL mixture the covariance of its
    component (environment); for a 38.901 drop (UMa/UMi/RMa) the covariance of that drop
    with its large-scale parameters and its clusters' and rays' delays, angles and powers
    held and the ray phases redrawn (:meth:`ComponentChannel.phase_draws`), by Monte Carlo
    from ``genie_draws`` draws. It is the best estimator linksim can compute that knows
    the realisation's second-order statistics; it is not a strict bound (a drop is not
    Gaussian given its statistics, and a finite Monte-Carlo covariance is noisy), so the
    table also gives it from half the draws: where the two agree, more would not help.

``headroom = min_K NMSE(gmm_K) - NMSE(genie)`` [dB] per SNR, with a 95 % interval from a
paired bootstrap over test realisations. K is chosen on the test set (the most favourable
choice for ``gmm``, so the headroom is not overstated).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .data.channel_specs import resolve_spec
from .data.channels import cached_dataset, make_dataset, sampling_frequency
from .diffusion.gmm import fit_gmm
from .narrowband.linear_gaussian import sample_covariance

__all__ = ["comb_indices", "lmmse_estimate", "genie_test_set", "measure_headroom"]


def comb_indices(shape, comb: int) -> np.ndarray:
    """Flat indices of the observed entries (every ``comb``-th subcarrier, all antennas)."""
    mask = np.zeros(shape, bool)
    mask[..., ::comb] = True
    return np.flatnonzero(mask.reshape(-1))


def lmmse_estimate(cov: np.ndarray, y: np.ndarray, idx: np.ndarray, noise_var: float) -> np.ndarray:
    """LMMSE estimates ``C[:, P] (C[P, P] + s I)^-1 y`` of zero-mean channels.

    Input
    -----
    cov : [d, d], complex — covariance of the flattened channel
    y : [n, |P|], complex — noisy observations of the entries ``idx``
    idx : [|P|], int
    noise_var : float

    Output
    ------
    [n, d], complex128
    """
    c_dp = cov[:, idx]
    c_pp = c_dp[idx] + noise_var * np.eye(len(idx))
    return np.linalg.solve(c_pp, y.T.astype(np.complex128)).T @ c_dp.T


def _is_drop_source(spec) -> bool:
    from .system.channels import TOPOLOGY_MODELS

    comps, _ = resolve_spec(spec)
    return len(comps) == 1 and comps[0].scenario.channel.model in TOPOLOGY_MODELS


def genie_test_set(spec, num_test: int, genie_draws: int, seed: int, *, component_draws: int = 2000,
                   chunk: int = 16, progress: bool = True):
    """Test channels and, per realisation, the covariance a genie knows.

    Output
    ------
    h : [num_test, Na, Nc], complex64
    genie : callable ``genie(i, half=False) -> [d, d]`` covariance of realisation ``i``
        (``half``: from the first half of the draws only)
    info : dict — what the genie was built from
    """
    from tqdm.auto import tqdm

    if not _is_drop_source(spec):
        test = make_dataset(spec, num_test, seed=seed, progress=progress)
        pool = make_dataset(spec, component_draws * max(1, len(test.components)), seed=seed + 1, progress=progress)
        covs = {int(k): (sample_covariance(pool.h[pool.labels == k]),
                         sample_covariance(pool.h[pool.labels == k][: int(np.sum(pool.labels == k)) // 2]))
                for k in np.unique(pool.labels)}
        info = {"kind": "component covariance", "components": test.components,
                "draws_per_component": int(np.min(np.bincount(pool.labels)))}
        return test.h, (lambda i, half=False: covs[int(test.labels[i])][int(half)]), info

    import tensorflow as tf
    from sionna.phy import config

    from .system.channels import ComponentChannel

    scenario = resolve_spec(spec)[0][0].scenario
    config.seed = int(seed)
    channel = ComponentChannel(scenario, precision="single")
    fs = sampling_frequency(scenario)
    uplink = scenario.channel.direction == "uplink"

    @tf.function
    def draw():
        h = channel.phase_draws(chunk, genie_draws + 1, 1, fs)       # [N+1, B, 1, Nr, 1, Nt, 1, F]
        return h[:, :, 0, :, 0, 0, 0] if uplink else h[:, :, 0, 0, 0, :, 0]

    hs, full, half = [], [], []
    t0 = time.perf_counter()
    for _ in tqdm(range(-(-num_test // chunk)), desc="drops", unit="chunk", disable=not progress, leave=False):
        h = draw().numpy()                                             # [N+1, B, Na, Nc]
        for b in range(h.shape[1]):
            hs.append(h[0, b])
            full.append(sample_covariance(h[1:, b]).astype(np.complex64))
            half.append(sample_covariance(h[1: 1 + genie_draws // 2, b]).astype(np.complex64))
    n = num_test
    info = {"kind": "per-drop covariance, ray phases redrawn", "draws_per_drop": genie_draws,
            "seconds": round(time.perf_counter() - t0, 1)}
    covs = (full[:n], half[:n])
    return np.stack(hs[:n]), (lambda i, half=False: covs[int(half)][i].astype(np.complex128)), info


def _nmse_db(err, power):
    return 10 * math.log10(err.sum() / power.sum())


def _interval(err, power, rng, reps=1000):
    n = len(err)
    draws = [_nmse_db(err[j], power[j]) for j in (rng.integers(0, n, n) for _ in range(reps))]
    return [round(float(np.percentile(draws, 2.5)), 2), round(float(np.percentile(draws, 97.5)), 2)]


def _paired_gap(err_a, err_b, rng, reps=1000):
    n = len(err_a)
    gap = 10 * math.log10(err_a.sum() / err_b.sum())
    draws = []
    for _ in range(reps):
        j = rng.integers(0, n, n)
        draws.append(10 * math.log10(err_a[j].sum() / err_b[j].sum()))
    return round(gap, 2), [round(float(np.percentile(draws, 2.5)), 2), round(float(np.percentile(draws, 97.5)), 2)]


def measure_headroom(spec, *, snr_db=(0, 10, 20), components=(1, 4, 16, 64), comb: int = 4,
                     train_samples: int = 8000, num_test: int = 512, genie_draws: int = 512,
                     seed: int = 0, test_seed: int = 1000, progress: bool = True) -> dict:
    """NMSE of LS (linear interpolation), pooled LMMSE, ``gmm`` per K and the genie LMMSE on
    one channel source, and the headroom ``min_K gmm - genie`` (see the module docstring).

    Output
    ------
    dict (JSON-able): ``nmse_db[estimator][snr]`` and ``interval[estimator][snr]`` for
    ``ls_linear``, ``lmmse_pooled``, ``gmm_<K>``, ``genie`` and ``genie_half`` (the genie
    from half the draws), ``headroom_db[snr]`` with ``headroom_interval``, ``best_k[snr]``,
    sizes and times.
    """
    t0 = time.perf_counter()
    train = cached_dataset(spec, train_samples, seed=seed, progress=progress)
    h_test, genie, genie_info = genie_test_set(spec, num_test, genie_draws, test_seed, progress=progress)
    shape = h_test.shape[1:]
    d = int(np.prod(shape))
    idx = comb_indices(shape, comb)
    x = h_test.reshape(len(h_test), d).astype(np.complex128)
    power = np.sum(np.abs(x) ** 2, 1)
    rng = np.random.default_rng(test_seed)
    noise = (rng.standard_normal((len(snr_db), len(x), len(idx)))
             + 1j * rng.standard_normal((len(snr_db), len(x), len(idx)))) / math.sqrt(2)

    pooled = sample_covariance(train.h)
    priors = {k: fit_gmm(train.h, k, seed=seed) for k in components}
    fit_s = {k: p.info["fit_s"] for k, p in priors.items()}

    errs: dict[str, dict[str, np.ndarray]] = {}

    def record(name, snr, est):
        errs.setdefault(name, {})[f"{snr:g}"] = np.sum(np.abs(est - x) ** 2, 1)

    for s, snr in enumerate(snr_db):
        nv = 10 ** (-snr / 10)
        y = x[:, idx] + math.sqrt(nv) * noise[s]
        record("ls_linear", snr, _interp_comb(y, idx, shape, comb))
        record("lmmse_pooled", snr, lmmse_estimate(pooled, y, idx, nv))
        for k, prior in priors.items():
            record(f"gmm_{k}", snr, _gmm_estimate(prior, y, idx, d, nv))
        record("genie", snr, np.concatenate([lmmse_estimate(genie(i), y[i:i + 1], idx, nv) for i in range(len(x))]))
        record("genie_half", snr, np.concatenate(
            [lmmse_estimate(genie(i, half=True), y[i:i + 1], idx, nv) for i in range(len(x))]))

    boot = np.random.default_rng(7)
    out = {"nmse_db": {}, "interval": {}, "headroom_db": {}, "headroom_interval": {}, "best_k": {}}
    for name, per in errs.items():
        out["nmse_db"][name] = {s: round(_nmse_db(e, power), 2) for s, e in per.items()}
        out["interval"][name] = {s: _interval(e, power, boot) for s, e in per.items()}
    for snr in snr_db:
        s = f"{snr:g}"
        best = min(components, key=lambda k: errs[f"gmm_{k}"][s].sum())
        out["best_k"][s] = best
        out["headroom_db"][s], out["headroom_interval"][s] = _paired_gap(errs[f"gmm_{best}"][s], errs["genie"][s], boot)
    out.update({"shape": list(shape), "comb": comb, "train_samples": train_samples, "num_test": len(x),
                "components": list(components), "genie": genie_info, "gmm_fit_s": fit_s,
                "gmm_rank": {k: p.rank for k, p in priors.items()},
                "seconds": round(time.perf_counter() - t0, 1)})
    return out


def _scatter(y, idx, d):
    full = np.zeros((len(y), d), np.complex64)
    full[:, idx] = y
    return full


def _interp_comb(y, idx, shape, comb):
    from .training.channel import interpolate_comb

    return interpolate_comb(_scatter(y, idx, int(np.prod(shape))).reshape(len(y), *shape), comb
                            ).reshape(len(y), -1).astype(np.complex128)


def _gmm_estimate(prior, y, idx, d, noise_var):
    import tensorflow as tf

    a = np.zeros((1, 1, d), np.float32)
    a[..., idx] = 1.0
    b2 = np.ones((1, 1, d), np.float32)
    b2[..., idx] = noise_var
    mean = prior.posterior(tf.constant(_scatter(y, idx, d)[None]), tf.constant(a), tf.constant(b2), variance=False)["mean"]
    return mean.numpy()[0].astype(np.complex128)
