"""Cost of the reconstruction stages after the decoder (Card D), per image.

Measured in one process, on the link of ``scenarios/ddpm_images.yaml`` (64-QAM, LDPC
rate 0.5, AWGN):

1. **The link itself** — ``run_batch`` with ``reconstruction: [none]``: encoding,
   channel, demapping, LDPC decoding and the image metrics, per image.
2. **Each stage** — the stage called on a batch of received images (``--images``,
   taken from the link at ``--snr-db``), per image: ``median`` (SciPy), ``regressor``
   (one network call), ``ddpm`` with ``--steps`` steps and 1 or ``--samples``
   posterior samples. Medians of ``--repeats`` interleaved repeats after a warm-up
   call (tracing and XLA compilation are not counted); the ratio column is the stage's
   time over the link's per image.
3. Device and package versions.

Usage::

    python benchmarks/reconstruction_cost.py [--images 256] [--steps 50] [--samples 8]
        [--snr-db 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
from sionna.phy import config as sionna_config

from environment import device_line, interleave, versions_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from linksim.reconstruction.classical import MedianFilter  # noqa: E402
from linksim.reconstruction.ddpm import DDPMReconstruction  # noqa: E402
from linksim.reconstruction.regressor import RegressorReconstruction  # noqa: E402
from linksim.scenario import load_scenario  # noqa: E402
from linksim.links.registry import build_link  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--snr-db", type=float, default=8.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sionna_config.seed = 3
    s = load_scenario(os.path.join(ROOT, "scenarios", "ddpm_images.yaml"), ["reconstruction=[{name: none}]"])
    link = build_link(s)
    no = link.noise_variance("snr_db", args.snr_db)
    batch = -(-args.images * 512 // 600)  # codewords that carry --images images at rate 0.5
    received = []
    while sum(len(r) for r in received) < args.images:
        received.append(link.image_pairs(batch, no)[1])
    images = tf.concat(received, 0)[: args.images]
    shape = tuple(images.shape[1:])
    stages = {
        "median 3x3": MedianFilter(shape, MedianFilter.Params()),
        "regressor": RegressorReconstruction(shape, RegressorReconstruction.Params()),
        f"ddpm, {args.steps} steps, 1 sample": DDPMReconstruction(shape, DDPMReconstruction.Params(steps=args.steps, samples=1)),
        f"ddpm, {args.steps} steps, {args.samples} samples": DDPMReconstruction(
            shape, DDPMReconstruction.Params(steps=args.steps, samples=args.samples)),
    }
    calls = {"link (none)": lambda: link.run_batch(batch, no)}
    calls.update({name: (lambda st=stage: st(images).numpy()) for name, stage in stages.items()})
    per_call = {name: args.images for name in stages}
    per_call["link (none)"] = batch * 600 // 512
    for fn in calls.values():
        fn()  # warm-up: tracing and XLA compilation
    times = interleave(calls, args.repeats)
    link_ms = statistics.median(times["link (none)"]) / per_call["link (none)"] * 1e3
    print(f"reconstruction cost per 8x8 image ({args.images} images per call, median of {args.repeats})")
    print(f"{'':36s} {'ms / image':>11s} {'x link':>8s}")
    for name in calls:
        ms = statistics.median(times[name]) / per_call[name] * 1e3
        print(f"{name:36s} {ms:11.3f} {ms / link_ms:8.2f}")
    print(device_line("CPU" if not tf.config.list_physical_devices("GPU") else "GPU"))
    print(versions_line())


if __name__ == "__main__":
    main()
