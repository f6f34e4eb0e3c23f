"""Card B's complexity table: parameters, FLOPs and latency per channel estimate of every
narrowband receiver of a scenario, measured in one run on this machine (Table II of the
paper; FLOPs counted as 2 per real multiply-accumulate, 8 per complex one).

    PYTHONPATH=. python benchmarks/card_b_complexity.py scenarios/moe_vb_balanced.yaml \
        --snr 10 --batch 16 --out results/reference/moe_vb_complexity

Latency: wall time of one batch of ``--batch`` channels divided by the batch (after one
warm-up batch that also builds the filters, tunes lambda and measures the error
variance), and of one channel alone (after one warm-up call of that shape: a compiled
network is traced once more for a new batch size, then serves every size). DM-VB's cost
is per VB iteration, as in the paper (its iterations are recorded next to it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import tensorflow as tf
from sionna.phy import config

from linksim.links.registry import build_link
from linksim.narrowband.receivers.base import NarrowbandObservation
from linksim.narrowband.receivers.diffusion_common import GAUSSIAN
from linksim.scenario import load_scenario


def flops(name, rx, link) -> tuple[int | None, str]:
    """Model FLOPs per estimate and what they count."""
    nb = link.scenario.narrowband
    d, m = nb.num_rx * nb.num_tx, nb.num_rx * nb.num_pilots
    if name in ("lmmse_pooled", "lmmse_genie"):
        return 8 * d * m, "filter W y (the filter is built once per pilots and noise level)"
    if name == "gmm":
        k = rx._weights.shape[0]
        return 8 * k * (d * m + m * m), "K filters and K quadratic forms"
    if name == "perfect":
        return None, "none (the true channel)"
    if name == "ls":
        return 8 * d * nb.num_pilots, "Y times a precomputed Nt x Np matrix"
    if name in ("dm_pooled", "dm_vb"):
        priors = [rx.prior] if name == "dm_pooled" else rx.experts
        if rx.params.likelihood == GAUSSIAN:
            return consistent_flops(rx, priors, d, m)
        passes, what = sampler_passes(rx.params, priors[0].alpha_bar)
        k = len(priors)
        if name == "dm_vb":
            passes += len(rx.params.elbo_steps) + 1          # ELBO and data-consistency terms
            what = f"per VB iteration, {k} experts x ({what} + {len(rx.params.elbo_steps) + 1} for the responsibilities)"
        return 2 * k * passes * priors[0].net.macs(), what
    return None, "iterative (not counted)"


def prior_flops(prior, d: int) -> int:
    """One noise prediction of a narrowband prior: its network pass (when it is evaluated)
    and its Gaussian backbone (project on its R eigenvectors and back)."""
    net = 2 * prior.net.macs() if prior.use_network else 0
    return net + (16 * d * prior.backbone.rank if prior.backbone is not None else 0)


def consistent_flops(rx, priors, d: int, m: int) -> tuple[int, str]:
    """The Gaussian-posterior sampler: per step, each prior's noise prediction and each
    surrogate's factorised gain applied to the residual (``Q G_t B^H M_t^-1 r``: ``m^2 +
    m d + d^2`` complex multiply-accumulates); DM-VB adds its
    responsibilities (ELBO steps and the data-consistency pass per expert)."""
    steps = len(rx.sampler.steps)
    per_step = sum(prior_flops(p, d) for p in priors) + 8 * (m * m + d * m + d * d) * len(priors)
    nets = sum(p.use_network for p in priors)
    what = (f"{steps} steps x ({len(priors)} prior(s), {nets} with its network evaluated, + "
            f"{len(priors)} factorised gain(s))")
    total = steps * per_step
    if hasattr(rx, "experts"):
        total += (len(rx.params.elbo_steps) + 1) * sum(prior_flops(p, d) for p in priors)
        what = f"per VB iteration, {what} + {len(rx.params.elbo_steps) + 1} passes per expert for the responsibilities"
    return total, what


def sampler_passes(params, alpha_bar) -> tuple[int, str]:
    """Forward-pass equivalents of one run of Card B's sampler or a Tweedie variant: a plain
    step is one network pass; a Tweedie step adds the backward pass (counted as 2) and, for
    ``tweedie-trace``, the forward-mode probe (counted as 1)."""
    t = len(alpha_bar) - 1
    if params.likelihood == "uninformative":
        return t, f"{t} steps x 1 pass"
    n_tw = sum(1 for s in range(1, t + 1) if alpha_bar[s] >= params.tweedie_from)
    per = 4 if params.likelihood == "tweedie-trace" else 3
    return (t - n_tw) + per * n_tw, f"{t - n_tw} steps x 1 + {n_tw} Tweedie steps x {per} passes"


def parameters(name, rx) -> int:
    if name == "dm_pooled":
        return rx.prior.parameters()
    if name == "dm_vb":
        return sum(e.parameters() for e in rx.experts)
    return 0


def run(args):
    sets = [f"narrowband.test_profile={args.profile}"]
    if args.receivers:
        sets.append("receivers=[" + ", ".join(f"{{name: {r}}}" for r in args.receivers) + "]")
    s = load_scenario(args.scenario, sets)
    config.seed = s.seed
    link = build_link(s)
    no = 10.0 ** (-args.snr / 10.0)
    batch = link.transmit(args.batch, no)
    rows = []
    for name, rx in link.receivers:
        genie = {"h": batch["h"], "component": tf.zeros([args.batch], tf.int32)} if rx.genie else None
        whole = NarrowbandObservation(batch["y"], no, genie, op=link.op)
        rx(whole)                                                         # warm-up: filters, tuning, err_var
        t0 = time.perf_counter()
        rx(whole)
        per_batch = (time.perf_counter() - t0) / args.batch
        one = NarrowbandObservation(batch["y"][:1], no, {k: v[:1] for k, v in genie.items()} if genie else None,
                                    op=link.op)
        rx(one)                                                           # warm-up of the one-channel shape
        t0 = time.perf_counter()
        rx(one)
        single = time.perf_counter() - t0
        fl, what = flops(name, rx, link)
        row = {"receiver": name, "parameters": parameters(name, rx), "flops": fl, "flops_counted": what,
               "latency_ms_batched": round(1e3 * per_batch, 2), "latency_ms_single": round(1e3 * single, 2)}
        if name == "dm_vb" and rx.last is not None:
            row["vb_iterations"] = int(rx.last["responsibilities"].shape[0])
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--profile", default="A")
    ap.add_argument("--snr", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--receivers", nargs="*", help="receiver names (default: the scenario's)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = run(args)
    dev = tf.config.list_physical_devices("GPU")
    where = f"GPU {dev[0].name}" if dev else f"CPU, {os.cpu_count()} cores"
    lines = [f"Per channel estimate, {where}, batch {args.batch} (and one channel alone), "
             f"CDL-{args.profile}, {args.snr:g} dB:", "",
             "| receiver | parameters | GFLOPs | latency batched [ms] | latency single [ms] | FLOPs counted |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        gf = f"{r['flops'] / 1e9:.3g}" if r["flops"] else "-"
        what = r["flops_counted"]
        if "vb_iterations" in r:
            what += f"; the latency covers all {r['vb_iterations']} VB iterations of the timed call"
        lines.append(f"| {r['receiver']} | {r['parameters']} | {gf} | {r['latency_ms_batched']} | {r['latency_ms_single']} | {what} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "complexity.json").write_text(json.dumps({"device": where, "rows": rows}, indent=1))
        (args.out / "table.md").write_text(text)


if __name__ == "__main__":
    main()
