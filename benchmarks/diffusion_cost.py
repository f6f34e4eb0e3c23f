"""Cost of the diffusion channel estimators: per estimate and per link slot.

Measured in one process:

1. **Estimator throughput** — channels per second of one denoiser call at the
   observation's own times (``estimate: jump``, the receivers' default point estimate,
   with the prior backbone's posterior variance) and of one posterior sample by the
   reverse process (``--steps`` steps, eta = 1, water-filling), each on a batch of
   ``--batch`` comb-4 observations (every 4th subcarrier of all antennas, ``--snr-db``
   per observed element). With ``--model`` a trained checkpoint (backbone + network);
   without, a profile's network with random weights and no backbone (then only the
   reverse process is timed). Graph mode and XLA, medians of interleaved repeats.
2. **Added time per link slot** — the scenario's link (default the quickstart) with
   receivers ``[lmmse]`` and ``[lmmse, X]`` for each receiver ``X`` of the scenario other
   than perfect/ls/lmmse, ``link.run_batch(--link-batch)`` timed in turns; the median of
   the paired differences is what ``X`` adds per batch and per slot.
3. Device and package versions.

Usage::

    python benchmarks/diffusion_cost.py [--model nonid-quickstart-cpu] [--profile cpu|paper]
        [--steps 50] [--batch 64] [--repeats 3] [--scenario scenarios/quickstart.yaml]
        [--link-batch 32] [--link-repeats 5] [--ebno-db 4] [--no-link]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the table
import numpy as np
import tensorflow as tf
from sionna.phy import config as sionna_config

from environment import device_line, interleave, versions_line
from linksim.diffusion.checkpoints import load_denoiser
from linksim.diffusion.estimate import estimate_channel
from linksim.diffusion.nets.mixer import count_macs, count_parameters
from linksim.runner import select_device
from linksim.scenario import load_scenario
from linksim.links.registry import build_link
from linksim.training.channel import TrainSpec, build_denoiser, comb_observation

NATURAL_SHAPE = {"cpu": (8, 72), "paper": (32, 64)}
BASELINES = ("perfect", "ls", "lmmse")


def estimator_part(args, gpus) -> None:
    if args.model:
        den, cfg = load_denoiser(args.model)
        shape = tuple(cfg["data_shape"])
        label = f"{args.model} (trained{', prior backbone ' + str(cfg['backbone']['num_components']) + ' components' if den.backbone else ''})"
        power = 1.0 if cfg.get("data_norm") == "unit" else None
    else:
        shape = NATURAL_SHAPE[args.profile]
        _, den = build_denoiser(TrainSpec(name="bench", network={"profile": args.profile},
                                          backbone={"kind": "none"}), shape)
        label = f"profile {args.profile} (random weights, no backbone)"
        power = 1.0
    batch = args.batch if (gpus or args.profile == "cpu" or args.model) else min(args.batch, 8)
    na, nc = shape
    rs = np.random.default_rng(args.seed)
    cn = lambda: ((rs.standard_normal([batch, na, nc]) + 1j * rs.standard_normal([batch, na, nc]))  # noqa: E731
                  / np.sqrt(2)).astype(np.complex64)
    mask, p_std = comb_observation((1, na, nc), 4, args.snr_db)
    h_bar = tf.constant(mask * cn() + p_std * cn())
    mask, p_std = tf.constant(mask), tf.constant(p_std)
    rng = tf.random.Generator.from_seed(args.seed)
    modes = {f"sample ({args.steps} steps)": dict(mode="mean", samples=1, steps=args.steps, err_var="samples")}
    if den.backbone is not None:
        modes = {"jump + posterior var": dict(mode="jump", err_var="posterior"), **modes}
    benches, first = {}, {}
    for name, kw in modes.items():
        fn = lambda hb, m, p, kw=kw: estimate_channel(den, hb, m, p, power=power, stepper="waterfill",  # noqa: E731
                                                      eta=1.0, rng=rng, **kw)[0]
        for comp, f in (("graph", tf.function(fn)), ("xla", tf.function(fn, jit_compile=True))):
            key = f"{name}, {comp}"
            t0 = time.perf_counter()
            f(h_bar, mask, p_std).numpy()
            first[key] = time.perf_counter() - t0
            benches[key] = lambda f=f: f(h_bar, mask, p_std).numpy()
    times = interleave(benches, args.repeats)
    net = den.network
    macs = count_macs(net, na, nc) if net is not None else 0
    print(f"--- estimator: {label}, shape {na}x{nc}")
    if net is not None:
        print(f"network    : {count_parameters(net):,} parameters, {macs / 1e6:.2f} MMAC per call")
    if den.backbone is not None:
        pr = den.backbone.prior
        print(f"backbone   : {pr.num_components} components on a rank-{pr.rank} subspace")
    print(f"timing     : batch {batch} comb-4 observations @ {args.snr_db:g} dB, {args.repeats} interleaved "
          "repeats (median); first call = trace + compile")
    head = f"{'estimate':<34} {'s/call':>8} {'ms/channel':>11} {'first call [s]':>15}"
    print(head)
    print("-" * len(head))
    for key, t in times.items():
        med = statistics.median(t)
        print(f"{key:<34} {med:>8.3f} {1e3 * med / batch:>11.3f} {first[key]:>15.1f}")
    print()


def link_part(args) -> None:
    base = load_scenario(args.scenario)
    extra = [r.model_dump(exclude_none=True) for r in base.receivers if r.name not in BASELINES]
    if not extra:
        print(f"--- link: {args.scenario} has no receiver besides {', '.join(BASELINES)}\n")
        return
    configs = {"lmmse": [{"name": "lmmse"}]}
    for r in extra:
        configs[r.get("label") or r["name"]] = [{"name": "lmmse"}, r]
    links, build = {}, {}
    for name, rx in configs.items():
        s = load_scenario(args.scenario, [f"receivers={json.dumps(rx)}"])
        sionna_config.seed = s.seed
        t0 = time.perf_counter()
        links[name] = build_link(s)
        build[name] = time.perf_counter() - t0
    no = links["lmmse"].noise_variance("ebno_db", args.ebno_db)
    bs = args.link_batch
    benches = {n: (lambda lk=lk: lk.run_batch(bs, no)) for n, lk in links.items()}
    for f in benches.values():
        f()  # trace and compile
    times = interleave(benches, args.link_repeats)
    print(f"--- link: {args.scenario}, receivers [lmmse] vs [lmmse, X]; batch {bs} slots, "
          f"Eb/N0 {args.ebno_db:g} dB, {args.link_repeats} interleaved repeats (median)")
    head = f"{'X':<18} {'set-up [s]':>10} {'s/batch':>8} {'added ms/slot':>14}  added per repeat [ms/slot]"
    print(head)
    print("-" * len(head))
    for name, t in times.items():
        if name == "lmmse":
            print(f"{'(lmmse alone)':<18} {build[name]:>10.1f} {statistics.median(t):>8.3f}")
            continue
        diffs = [d - b for d, b in zip(t, times["lmmse"])]
        print(f"{name:<18} {build[name]:>10.1f} {statistics.median(t):>8.3f} {1e3 * statistics.median(diffs) / bs:>14.2f}  "
              + " ".join(f"{1e3 * d / bs:.2f}" for d in diffs))
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="checkpoint folder or zoo name")
    ap.add_argument("--profile", default="cpu", choices=["cpu", "paper"], help="random-weight network (without --model)")
    ap.add_argument("--steps", type=int, default=50, help="reverse-process steps of one posterior sample")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--link-batch", type=int, default=32)
    ap.add_argument("--link-repeats", type=int, default=5)
    ap.add_argument("--ebno-db", type=float, default=4.0)
    ap.add_argument("--no-link", action="store_true")
    args = ap.parse_args(argv)
    device = select_device("auto")
    gpus = tf.config.list_physical_devices("GPU")
    print("diffusion_cost")
    print(device_line(device))
    print(versions_line())
    print()
    t0 = time.perf_counter()
    estimator_part(args, gpus)
    if not args.no_link:
        link_part(args)
    print(f"total wall time: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
