"""Which blocks of the OFDM chain gain from XLA: each timed in graph mode and under XLA.

On one batch of the scenario's link (default: the quickstart with its LMMSE receiver),
each block runs in its own ``tf.function`` with ``jit_compile`` False and True, on the
same inputs, in turns; the median of ``--repeats`` calls is printed with the ratio. This
is how ``runtime.xla`` was split (linksim/system/link.py): XLA for the transmitter +
channel, the demapper and the LDPC decoder; graph mode for the equaliser.

Usage::

    python benchmarks/xla_blocks.py [--scenario scenarios/quickstart.yaml] [--batch 32]
        [--repeats 7] [--ebno-db 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
from sionna.phy import config as sionna_config  # noqa: E402
from sionna.phy.mapping import Demapper  # noqa: E402
from sionna.phy.mimo import lmmse_equalizer  # noqa: E402

from environment import device_line, interleave, versions_line  # noqa: E402
from linksim.runner import select_device  # noqa: E402
from linksim.scenario import load_scenario  # noqa: E402
from linksim.links.registry import build_link  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--ebno-db", type=float, default=0.0)
    args = ap.parse_args(argv)

    s = load_scenario(args.scenario, ["receivers=[{name: lmmse}]", "runtime.xla=false"])
    device = select_device("cpu")
    sionna_config.seed = s.seed
    link = build_link(s)
    rx = link.receivers[0][1]
    no = tf.constant(link.noise_variance("ebno_db", args.ebno_db), link.rdtype)
    b, x, y, h, comp, se = link._generate(args.batch, no)
    h_hat, err_var = rx(y, no)
    llr = link._detector(y, h_hat, err_var, no)
    # the equaliser's and the demapper's inputs, with the detector's shapes: [B, RE, Nr] etc.
    n_re = args.batch * link.rg.num_data_symbols
    nr, ns = link.num_rx_ant, link.num_streams
    y_eq = tf.complex(tf.random.normal([n_re, nr]), tf.random.normal([n_re, nr]))
    h_eq = tf.complex(tf.random.normal([n_re, nr, ns]), tf.random.normal([n_re, nr, ns]))
    s_eq = tf.eye(nr, batch_shape=[n_re], dtype=y_eq.dtype)
    x_hat, no_eff = lmmse_equalizer(y_eq, h_eq, s_eq)
    demapper = Demapper("maxlog", "qam", link.bits_per_symbol)

    blocks = {
        "transmitter + channel": (lambda bs, n: link._generate(bs, n), (args.batch, no)),
        "channel estimate (lmmse)": (lambda yy, n: rx(yy, n), (y, no)),
        "LMMSE equaliser": (lambda a, b_, c: lmmse_equalizer(a, b_, c), (y_eq, h_eq, s_eq)),
        "max-log demapper": (lambda a, b_: demapper(a, b_), (x_hat, no_eff)),
        "LDPC decoder": (link.coding._decode, (llr,)),
    }
    fns, first = {}, {}
    for name, (fn, inputs) in blocks.items():
        for xla in (False, True):
            f = tf.function(fn, jit_compile=xla)
            t0 = time.perf_counter()
            f(*inputs)
            first[(name, xla)] = time.perf_counter() - t0
            fns[(name, xla)] = lambda f=f, inputs=inputs: f(*inputs)
    times = interleave(fns, args.repeats)

    print(f"xla_blocks: {args.scenario}, batch {args.batch} slots ({n_re} data REs), "
          f"{nr} rx antennas, {ns} stream(s), {link.bits_per_symbol} bits/symbol, n = {link.coding.n}")
    print(device_line(device))
    print(versions_line())
    print(f"timing     : median of {args.repeats} calls in turns; first call = trace (+ compile)")
    print()
    head = f"{'block':<26} {'graph [ms]':>10} {'xla [ms]':>9} {'graph/xla':>9} {'first call graph / xla [s]':>27}"
    print(head)
    print("-" * len(head))
    for name in blocks:
        g, x_ = (1e3 * statistics.median(times[(name, v)]) for v in (False, True))
        firsts = f"{first[(name, False)]:.1f} / {first[(name, True)]:.1f}"
        print(f"{name:<26} {g:>10.1f} {x_:>9.1f} {g / x_:>9.2f} {firsts:>27}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
