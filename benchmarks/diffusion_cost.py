"""Cost of diffusion channel estimation: sampler throughput and added time per link batch.

Measured in one process:

1. **Sampler throughput** — channels per second of ``estimate_channel`` (normalisation,
   ``posterior``, de-normalisation) with ``--steps`` generation steps (N_G, default 50),
   one posterior sample per channel, waterfill stepper, eta = 1, on a batch of
   ``--batch`` comb-4 observations (every 4th subcarrier on all antennas, 10 dB per
   observed element, as ``comb_observation`` in training). The whole estimate is traced
   once into one graph ``tf.function`` and run as it is and inside one
   ``tf.function(jit_compile=True)`` (XLA); both are reported with the XLA speed-up, and
   the one-off costs (trace, graph optimisation, XLA compile of the unrolled loop). The network is a profile's network with random
   weights (the training defaults: gamma schedule, v-prediction) or, with ``--model``, a
   trained checkpoint (its shape then comes from the checkpoint). Parameters, analytic
   MACs per network call (``count_macs``) and the GMAC/s that the timing implies are also
   printed.
2. **Time per Monte-Carlo batch** — only with a ``--model`` whose shape matches the
   scenario (receive antennas x subcarriers): the quickstart link with receivers
   ``[lmmse]`` and ``[lmmse, nonidentical_dm]`` (the diffusion receiver with its default
   parameters), ``link.run_batch(--link-batch, no)`` timed for both; the difference is the
   time the diffusion receiver adds per batch and per slot.
3. Device and package versions.

Every configuration is warmed up (traced / compiled) once, then timed ``--repeats`` times;
the configurations take turns call by call (the order rotates between repeats) so that
background load hits them alike, and the medians are reported (as chain_overhead.py).

Usage::

    python benchmarks/diffusion_cost.py [--profile cpu|paper|both] [--shape auto|NAxNC]
        [--model PATH|zoo-name] [--steps 50] [--batch N] [--repeats N]
        [--link-batch 32] [--link-repeats 3] [--ebno-db 4] [--set dotted.key=value ...]

``--shape auto`` (default) is 8x72 (the quickstart grid) for the cpu profile and 32x64
(the paper's size) for the paper profile, so ``--profile both`` measures cpu at 8x72 and
paper at 32x64; an explicit ``--shape`` applies to every profile. Without a GPU the paper
profile (1.35 GMAC per network call at 32x64) runs with a small batch and few repeats
(``--paper-batch``, ``--paper-repeats``); meaningful paper-profile numbers need a GPU.

Most of the wall time is one-off: tracing the unrolled 50-step loop and compiling it
(on 2 shared CPU cores about 20 s trace + 25 s graph optimisation + 80-100 s XLA compile
for the cpu profile, ~5 min for the paper profile), so the default run takes about 3 min
there and ``--profile both`` about 10-12 min.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the table
import numpy as np
import tensorflow as tf
from sionna.phy import config as sionna_config

from environment import device_line, versions_line
from linksim.diffusion.estimate import estimate_channel
from linksim.diffusion.networks import PROFILES, count_macs, count_parameters
from linksim.diffusion.checkpoints import load_denoiser
from linksim.train import TrainSpec, build_denoiser, comb_observation
from linksim.runner import select_device
from linksim.scenario import load_scenario
from linksim.system.link import build_link

NATURAL_SHAPE = {"cpu": (8, 72), "paper": (32, 64)}


# --------------------------------------------------------------------------- helpers
def parse_shape(text: str):
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"shape must be NAxNC (e.g. 8x72, 32x64) or auto, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def fmt_shape(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def profile_of(net_config: dict) -> str:
    """Profile name whose settings the network config matches, else ``custom``."""
    for name, prof in PROFILES.items():
        if all(net_config.get(k) == v for k, v in prof.items()):
            return name
    return "custom"


def interleave(benches: dict, repeats: int) -> dict:
    """``{name: fn}`` -> ``{name: [seconds per call]}``: one call each per repeat, the
    order rotating between repeats."""
    names = list(benches)
    times = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            t0 = time.perf_counter()
            benches[n]()
            times[n].append(time.perf_counter() - t0)
    return times


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- part 1
def make_denoiser(profile: str | None, shape, model: str | None):
    """``(denoiser, network, label, shape)``: a trained checkpoint or a random-weight
    network of ``profile`` (training defaults for schedule and parameterisation)."""
    if model:
        den, cfg = load_denoiser(model)
        shape = tuple(int(s) for s in cfg["data_shape"])
        label = f"{model} (profile {profile_of(cfg['config'])}, trained)"
        return den, den.network, label, shape
    spec = TrainSpec(name=f"bench-{profile}", network={"profile": profile})
    net, den = build_denoiser(spec, shape)
    return den, net, f"{profile} (random weights)", tuple(shape)


def sampler_bench(den, net, label, shape, *, steps: int, batch: int, repeats: int, comb: int,
                  snr_db: float, seed: int) -> dict:
    na, nc = shape
    rs = np.random.default_rng(seed)
    cn = lambda: ((rs.standard_normal([batch, na, nc]) + 1j * rs.standard_normal([batch, na, nc]))
                  / np.sqrt(2)).astype(np.complex64)
    mask, p_std = comb_observation((batch, na, nc), comb, snr_db)
    h_bar = tf.constant(mask * cn() + p_std * cn())  # unit-power channel, comb observation
    mask, p_std = tf.constant(mask), tf.constant(p_std)
    rng = tf.random.Generator.from_seed(seed)

    def estimate(hb, m, p):
        return estimate_channel(den, hb, m, p, steps=steps, stepper="waterfill", eta=1.0,
                                num_samples=1, rng=rng)

    # Trace the unrolled NG-step loop once; the XLA function compiles that same graph
    # (tracing it a second time would cost as much again).
    t0 = time.perf_counter()
    graph = tf.function(estimate).get_concrete_function(h_bar, mask, p_std)
    warm = {"trace": time.perf_counter() - t0}
    fns = {"graph": graph, "xla": tf.function(lambda *a: graph(*a), jit_compile=True)}
    benches = {name: (lambda f=f: f(h_bar, mask, p_std)[0].numpy()) for name, f in fns.items()}
    failed = {}
    for name in list(benches):
        try:
            warm[name] = timed(benches[name])
        except Exception as err:  # noqa: BLE001 -- report, measure the rest
            failed[name] = f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"
            del benches[name]
    times = interleave(benches, repeats)
    macs = count_macs(net, na, nc)
    return {"label": label, "shape": shape, "batch": batch, "steps": steps, "repeats": repeats,
            "params": count_parameters(net), "macs": macs, "warm": warm, "failed": failed,
            "times": times, "median": {n: statistics.median(t) for n, t in times.items()}}


def print_sampler(r: dict) -> None:
    b, steps = r["batch"], r["steps"]
    print(f"--- sampler: {r['label']}, shape {fmt_shape(r['shape'])}")
    print(f"network    : {r['params']:,} parameters, {r['macs'] / 1e6:.2f} MMAC per network call "
          f"(per channel per step), {r['macs'] * steps / 1e9:.3f} GMAC per channel at NG = {steps}")
    print(f"timing     : batch {b}, NG = {steps}, 1 sample, waterfill, eta 1, comb-4 @ 10 dB; "
          f"{r['repeats']} interleaved repeats (median)")
    print("first call : " + ", ".join(f"{k} {v:.1f} s" for k, v in r["warm"].items())
          + "  (trace once; first graph call = graph optimisation; first xla call = XLA compile)")
    head = f"{'mode':<7} {'s/call':>8} {'channels/s':>11} {'ms/channel':>11} {'net calls/s':>12} {'GMAC/s':>8}  repeats [s]"
    print(head)
    print("-" * len(head))
    for name, t in r["median"].items():
        reps = " ".join(f"{x:.2f}" for x in r["times"][name])
        print(f"{name:<7} {t:>8.3f} {b / t:>11.1f} {1e3 * t / b:>11.2f} {b * steps / t:>12.0f} "
              f"{r['macs'] * steps * b / t / 1e9:>8.2f}  {reps}")
    for name, why in r["failed"].items():
        print(f"{name:<7} FAILED: {why}")
    if len(r["median"]) == 2:
        print(f"XLA / graph speed-up: {r['median']['graph'] / r['median']['xla']:.2f}x")
    print()


# --------------------------------------------------------------------------- part 2
def link_bench(args, model: str, model_shape, sampler_result: dict | None) -> None:
    base = load_scenario(args.scenario, args.set)
    need = (base.rx_array.num_ant, base.carrier.num_subcarriers)
    print(f"--- link: {args.scenario}, receivers [lmmse] vs [lmmse, nonidentical_dm]")
    if tuple(model_shape) != need:
        print(f"skipped: the model's shape {fmt_shape(model_shape)} is not the scenario's {fmt_shape(need)} "
              f"(receive antennas x subcarriers)\n")
        return
    rx_base = [{"name": "lmmse"}]
    dm = {"name": "nonidentical_dm", "model": model}
    dm.update({k: v for k, v in (("samples", args.dm_samples), ("steps", args.dm_steps)) if v is not None})
    rx_dm = rx_base + [dm]
    links = {}
    t0 = time.perf_counter()
    for name, rx in (("lmmse", rx_base), ("lmmse+dm", rx_dm)):
        s = load_scenario(args.scenario, [*args.set, f"receivers={json.dumps(rx)}"])
        sionna_config.seed = s.seed
        links[name] = build_link(s)
    build_s = time.perf_counter() - t0
    link = links["lmmse+dm"]
    dm = dict(link.receivers)["nonidentical_dm"]
    p = dm.params
    est_per_slot = sum(len(st.symbols) for st in dm._layout)
    no = link.noise_variance("ebno_db", args.ebno_db)
    bs = args.link_batch
    benches = {n: (lambda lk=lk: lk.run_batch(bs, no)) for n, lk in links.items()}
    warm = {n: timed(f) for n, f in benches.items()}
    times = interleave(benches, args.link_repeats)
    med = {n: statistics.median(t) for n, t in times.items()}
    added = statistics.median([d - b for d, b in zip(times["lmmse+dm"], times["lmmse"])])
    chains = bs * est_per_slot * p.samples
    print(f"diffusion  : {p.model}; samples {p.samples}, steps {p.steps}, stepper {p.stepper}, "
          f"eta {p.eta}, eps {p.eps}, init {p.init}; {est_per_slot} estimates per slot "
          f"(pilot symbols x streams) -> {chains} sample chains x {p.steps} steps per batch")
    print(f"timing     : batch {bs} slots, Eb/N0 {args.ebno_db:g} dB, runtime.xla {link.scenario.runtime.xla} "
          f"(receivers in graph mode; diffusion samplers under XLA unless xla: false); {args.link_repeats} interleaved repeats (median); "
          f"build {build_s:.1f} s; warm-up " + ", ".join(f"{k} {v:.1f} s" for k, v in warm.items()))
    head = f"{'receivers':<10} {'s/batch':>8} {'ms/slot':>8}  repeats [s]"
    print(head)
    print("-" * len(head))
    for n, t in med.items():
        print(f"{n:<10} {t:>8.3f} {1e3 * t / bs:>8.1f}  " + " ".join(f"{x:.2f}" for x in times[n]))
    print(f"added by nonidentical_dm: {added:.3f} s per batch, {1e3 * added / bs:.1f} ms per slot "
          f"(median of paired differences)")
    if sampler_result and "graph" in sampler_result["median"]:
        r = sampler_result
        per_chain_step = r["median"]["graph"] / (r["batch"] * r["steps"])
        print(f"predicted from the sampler's graph throughput: {chains * p.steps * per_chain_step:.3f} s per batch")
    print()


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="cpu", choices=["cpu", "paper", "both"],
                    help="network profile with random weights (ignored with --model)")
    ap.add_argument("--shape", default="auto",
                    help="NAxNC (e.g. 8x72, 32x64); auto: 8x72 for cpu, 32x64 for paper")
    ap.add_argument("--model", default=None, help="checkpoint folder or zoo name (its shape is used)")
    ap.add_argument("--steps", type=int, default=50, help="generation steps NG")
    ap.add_argument("--batch", type=int, default=64, help="channels per sampler call")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved sampler repeats (median)")
    ap.add_argument("--paper-batch", type=int, default=None,
                    help="batch of the paper profile (default: --batch on a GPU, at most 8 on the CPU)")
    ap.add_argument("--paper-repeats", type=int, default=None,
                    help="repeats of the paper profile (default: --repeats on a GPU, at most 2 on the CPU)")
    ap.add_argument("--comb", type=int, default=4)
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--link-batch", type=int, default=32, help="slots per link.run_batch")
    ap.add_argument("--link-repeats", type=int, default=3, help="interleaved link repeats (median)")
    ap.add_argument("--ebno-db", type=float, default=4.0)
    ap.add_argument("--dm-samples", type=int, default=None, help="receiver samples in the link part (default: receiver default)")
    ap.add_argument("--dm-steps", type=int, default=None, help="receiver steps in the link part (default: receiver default)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra scenario override for the link part")
    args = ap.parse_args(argv)
    shape_arg = None if args.shape == "auto" else parse_shape(args.shape)

    device = select_device("auto")
    gpus = tf.config.list_physical_devices("GPU")
    print(f"diffusion_cost: {'model ' + args.model if args.model else 'profile ' + args.profile}")
    print(device_line(device))
    print(f"GPU        : {'TensorFlow sees ' + ', '.join(g.name for g in gpus) if gpus else 'none visible to TensorFlow'}"
          f"{'' if gpus else ' -- paper-profile GPU numbers need a lent GPU; CPU numbers below'}")
    print(versions_line())
    print()

    t_start = time.perf_counter()
    if args.model:
        runs = [(None, None)]
    else:
        profiles = ["cpu", "paper"] if args.profile == "both" else [args.profile]
        runs = [(pr, shape_arg or NATURAL_SHAPE[pr]) for pr in profiles]
    sampler_results = []
    model_shape = None
    for profile, shape in runs:
        den, net, label, shape = make_denoiser(profile, shape, args.model)
        model_shape = shape
        batch, repeats = args.batch, args.repeats
        if profile == "paper":
            batch = args.paper_batch or (args.batch if gpus else min(args.batch, 8))
            repeats = args.paper_repeats or (args.repeats if gpus else min(args.repeats, 2))
        r = sampler_bench(den, net, label, shape, steps=args.steps, batch=batch, repeats=repeats,
                          comb=args.comb, snr_db=args.snr_db, seed=args.seed)
        print_sampler(r)
        sampler_results.append(r)

    if args.model:
        link_bench(args, args.model, model_shape, sampler_results[0])
    else:
        print("--- link: skipped (needs a trained model of the scenario's shape: --model PATH|zoo-name)\n")
    print(f"total wall time: {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
