"""Overhead of linksim's OFDM chain versus the same Sionna blocks written by hand.

Four configurations run in one process, on the same scenario, batch size and Eb/N0:

- ``linksim-xla``   : ``build_link(scenario).run_batch`` with ``runtime.xla: true``
  (transmitter + channel in one XLA function, receivers in graph mode with the demapper
  and the LDPC decoder each in their own XLA function)
- ``hand-written``  : the same Sionna blocks in a plain loop, given the same compilation
- ``linksim-tx-xla``: linksim with XLA on the transmitter + channel only (the chain before
  the receiver parts were compiled)
- ``linksim-graph`` : linksim with ``runtime.xla=false`` (graph mode throughout)

Each configuration is warmed up (traced/compiled) with one batch, then timed over
``--batches`` batches, ``--repeats`` times. Inside a repeat the configurations take turns
batch by batch (the order rotates between repeats), so that background load on a shared
machine hurts all of them alike; throughput is ``batch_size * batches / t`` with ``t`` the
median repeat time.

Usage::

    python benchmarks/chain_overhead.py [--receiver perfect|ls|lmmse] [--batch-size 64]
        [--batches 10] [--repeats 3] [--ebno-db 4] [--set dotted.key=value ...]

The hand-written chain covers the scenarios it can mirror exactly: OFDM, codeword mode,
CDL channel, ``precoder: none``, linear detector.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the table
import tensorflow as tf  # noqa: E402
from sionna.phy import config as sionna_config
from sionna.phy.channel import ApplyOFDMChannel, GenerateOFDMChannel
from sionna.phy.channel.tr38901 import CDL
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.mimo import StreamManagement, lmmse_equalizer, mf_equalizer, zf_equalizer
from sionna.phy.ofdm import LSChannelEstimator, OFDMDetector, ResourceGridMapper
from sionna.phy.utils import ebnodb2no

from environment import device_line, versions_line
from linksim.receivers.lmmse import CovarianceInterpolator
from linksim.runner import select_device
from linksim.scenario import Scenario, load_scenario
from linksim.system.channels import antenna_array
from linksim.system.grid import build_resource_grid
from linksim.links.registry import build_link
from linksim.system.link import OFDMLink

GOAL = 0.95  # linksim throughput / hand-written throughput
GOAL_XLA = 1.8  # linksim with runtime.xla / linksim in graph mode


# --------------------------------------------------------------------------- scenario
def load(path: str, receiver: str, extra: list[str], xla: bool) -> Scenario:
    """The scenario with only ``receiver`` kept (with its parameters from the file) and
    ``runtime.xla`` set."""
    base = load_scenario(path, extra)
    specs = [r for r in base.receivers if r.name == receiver]
    spec = specs[0].model_dump(exclude_none=True) if specs else {"name": receiver}
    overrides = [*extra, f"receivers={json.dumps([spec])}", f"runtime.xla={str(xla).lower()}"]
    return load_scenario(path, overrides)


def check_mirrorable(s: Scenario) -> None:
    problems = []
    if not s.link.ofdm or s.link.mode != "codeword":
        problems.append("link must be OFDM in codeword mode")
    if s.channel.model != "cdl":
        problems.append("channel.model must be cdl")
    if s.mimo.precoder != "none":
        problems.append("mimo.precoder must be none")
    if s.mimo.detector == "kbest":
        problems.append("mimo.detector must be linear (lmmse, zf, mf)")
    if problems:
        sys.exit("the hand-written chain cannot mirror this scenario: " + "; ".join(problems))


# --------------------------------------------------------------------------- reference
class HandWrittenLink:
    """The scenario's chain written directly against Sionna (no linksim blocks at run time).

    Only configuration is shared with linksim: the resource grid with its pilots
    (``build_resource_grid``), the antenna panels (``antenna_array``) and, for ``lmmse``,
    the covariance linksim's receiver measured (fed to the same interpolator).
    """

    def __init__(self, s: Scenario, link: OFDMLink):
        p = s.precision
        c, ch = s.carrier, s.channel
        self.num_streams = s.mimo.num_streams
        self.rg = build_resource_grid(s, p)
        sm = StreamManagement([[1]], self.num_streams)
        bps = s.link.bits_per_symbol
        self.n = int(self.rg.num_data_symbols) * bps
        self.k = int(round(s.link.coderate * self.n))
        self.coderate = self.k / self.n

        # transmitter
        self.source = BinarySource(precision=p)
        self.encoder = LDPC5GEncoder(self.k, self.n, num_bits_per_symbol=bps, precision=p)
        self.mapper = Mapper("qam", bps, precision=p)
        self.rg_mapper = ResourceGridMapper(self.rg, precision=p)

        # channel: CDL sampled once per OFDM symbol, frequency response on the grid
        speed = ch.ue_speed_kmh / 3.6
        fc = c.carrier_frequency_hz
        cdl = CDL(ch.profile, ch.delay_spread_ns * 1e-9, fc,
                  antenna_array(s.antennas.ue, fc, p), antenna_array(s.antennas.bs, fc, p),
                  ch.direction, min_speed=speed, max_speed=speed, precision=p)
        self.gen_channel = GenerateOFDMChannel(cdl, self.rg, normalize_channel=True, precision=p)
        self.apply = ApplyOFDMChannel(precision=p)

        # receiver
        spec = s.receivers[0]
        if spec.name == "perfect":
            self.estimator = None
        elif spec.name == "ls":
            kind = {"nn": "nn", "linear": "lin"}[spec.params.get("interpolation", "linear")]
            self.estimator = LSChannelEstimator(self.rg, interpolation_type=kind, precision=p)
        elif spec.name == "lmmse":
            cov = link.receivers[0][1].covariances[0]  # [Ns, D, D], D = F or Nr*F
            joint = cov.shape[-1] != self.rg.fft_size
            interp = CovarianceInterpolator(self.rg.pilot_pattern, cov, joint, s.rx_array.num_ant)
            self.estimator = LSChannelEstimator(self.rg, interpolator=interp, precision=p)
        else:
            sys.exit(f"no hand-written version of receiver {spec.name!r}")
        # detector: Sionna's equaliser in graph mode, its demapper and the decoder under XLA
        xla = s.runtime.xla
        equalizer = {"lmmse": lmmse_equalizer, "zf": zf_equalizer, "mf": mf_equalizer}[s.mimo.detector]
        demapper = tf.function(Demapper("maxlog", "qam", bps, precision=p), jit_compile=xla)

        def mimo_detector(y, h, cov):
            x_hat, no_eff = equalizer(y, h, cov, precision=p)
            llr = demapper(x_hat, no_eff)
            return tf.reshape(llr, tf.concat([tf.shape(llr)[:-1], [self.num_streams, bps]], 0))

        self.detector = OFDMDetector(mimo_detector, "bit", self.rg, sm, precision=p)
        self.decoder = tf.function(LDPC5GDecoder(self.encoder, num_iter=s.link.ldpc_iterations, hard_out=True,
                                                 precision=p), jit_compile=xla)

        self._tx = tf.function(self._transmit, jit_compile=xla)
        self._rx = tf.function(self._receive)

    def _transmit(self, batch_size, no):
        b = self.source([batch_size, 1, self.num_streams, self.k])
        x = self.rg_mapper(self.mapper(self.encoder(b)))  # [B,1,Ns,S,F]
        h = self.gen_channel(batch_size)[:, :, :, :, :self.num_streams]  # stream i on antenna i
        return b, self.apply(x, h, no), h

    def _receive(self, b, y, h, no):
        if self.estimator is None:
            h_hat, err_var = h, tf.zeros([], no.dtype)
        else:
            h_hat, err_var = self.estimator(y, no)
        b_hat = self.decoder(self.detector(y, h_hat, err_var, no))
        err = tf.not_equal(b, b_hat)
        return (tf.reduce_sum(tf.cast(err, tf.int32)),
                tf.reduce_sum(tf.cast(tf.reduce_any(err, axis=-1), tf.int32)))

    def run_batch(self, batch_size: int, no: float) -> dict[str, float]:
        no_t = tf.constant(no, self.rg.rdtype)
        bit_err, block_err = self._rx(*self._tx(batch_size, no_t), no_t)
        return {"bits": batch_size * self.num_streams * self.k, "bit_errors": int(bit_err),
                "blocks": batch_size * self.num_streams, "block_errors": int(block_err)}


# --------------------------------------------------------------------------- measurement
class Bench:
    """One configuration: a batch function, its timings and its error counts."""

    def __init__(self, name: str, run_batch, coded_bits_per_slot: int):
        self.name = name
        self.run_batch = run_batch
        self.coded_bits_per_slot = coded_bits_per_slot
        self.times: list[float] = []
        self.counts = {"bits": 0.0, "bit_errors": 0.0, "blocks": 0.0, "block_errors": 0.0}

    def warm_up(self) -> float:
        t0 = time.perf_counter()
        self.run_batch()
        return time.perf_counter() - t0

    def start_repeat(self) -> None:
        self.times.append(0.0)

    def timed_batch(self) -> None:
        """One batch, its time added to the current repeat."""
        t0 = time.perf_counter()
        stats = self.run_batch()  # Python numbers: the batch has finished
        self.times[-1] += time.perf_counter() - t0
        for key in self.counts:
            self.counts[key] += stats[key]

    def slots_per_s(self, batch_size: int, batches: int) -> float:
        return batch_size * batches / statistics.median(self.times)

    @property
    def ber(self) -> float:
        return self.counts["bit_errors"] / max(self.counts["bits"], 1)

    @property
    def bler(self) -> float:
        return self.counts["block_errors"] / max(self.counts["blocks"], 1)


def linksim_bench(name: str, s: Scenario, batch_size: int, ebno_db: float):
    sionna_config.seed = s.seed
    link = build_link(s)
    no = link.noise_variance("ebno_db", ebno_db)
    label = link.receivers[0][0]
    bits = link.coding.n * link.num_streams
    return Bench(name, lambda: link.run_batch(batch_size, no)[label], bits), link, no


def tx_only_xla(link: OFDMLink) -> None:
    """Put the receiver parts of an XLA link back in graph mode (demapper and decoder),
    leaving the transmitter + channel under XLA."""
    link._detector = link._make_detector(False)
    link.coding.compile(False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="scenarios/quickstart.yaml")
    ap.add_argument("--receiver", default="perfect", choices=["perfect", "ls", "lmmse"])
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--batches", type=int, default=10, help="batches per timed repeat")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats (median reported)")
    ap.add_argument("--ebno-db", type=float, default=4.0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra scenario override (applied to every configuration)")
    args = ap.parse_args(argv)

    s_xla = load(args.scenario, args.receiver, args.set, xla=True)
    s_graph = load(args.scenario, args.receiver, args.set, xla=False)
    check_mirrorable(s_xla)
    device = select_device(s_xla.runtime.device)
    sionna_config.precision = s_xla.precision

    t0 = time.perf_counter()
    lk_xla, link, no = linksim_bench("linksim (xla)", s_xla, args.batch_size, args.ebno_db)
    lk_graph, _, _ = linksim_bench("linksim (graph)", s_graph, args.batch_size, args.ebno_db)
    lk_tx, tx_link, _ = linksim_bench("linksim (tx xla)", s_xla, args.batch_size, args.ebno_db)
    tx_only_xla(tx_link)
    sionna_config.seed = s_xla.seed
    ref = HandWrittenLink(s_xla, link)
    no_ref = float(ebnodb2no(args.ebno_db, s_xla.link.bits_per_symbol, ref.coderate, ref.rg))
    assert abs(no_ref - no) <= 1e-6 * no, (no_ref, no)
    assert (ref.k, ref.n) == (link.coding.k, link.coding.n)
    hand = Bench("hand-written", lambda: ref.run_batch(args.batch_size, no_ref), ref.n * ref.num_streams)
    benches = [lk_xla, hand, lk_tx, lk_graph]
    build_s = time.perf_counter() - t0

    warm = {b.name: b.warm_up() for b in benches}
    # Interleave batch by batch (A,B,C,A,B,C,...; the order rotates between repeats) so
    # that load from other processes hits every configuration alike.
    for r in range(args.repeats):
        for b in benches:
            b.start_repeat()
        k = r % len(benches)
        order = benches[k:] + benches[:k]
        for _ in range(args.batches):
            for b in order:
                b.timed_batch()

    # ------------------------------------------------------------------ report
    bs, nb = args.batch_size, args.batches
    rate = {b.name: b.slots_per_s(bs, nb) for b in benches}
    print(f"chain_overhead: {args.scenario}, receiver {args.receiver}, Eb/N0 {args.ebno_db:g} dB "
          f"(no = {no:.4g}), precision {s_xla.precision}")
    print(device_line(device))
    print(versions_line())
    print(f"link       : n = {ref.n}, k = {ref.k}, {ref.num_streams} stream(s), {s_xla.rx_array.num_ant} rx ant, "
          f"LDPC {s_xla.link.ldpc_iterations} it., detector {s_xla.mimo.detector}")
    print(f"timing     : batch {bs}, {nb} batches x {args.repeats} interleaved repeats (median); "
          f"build {build_s:.1f} s; warm-up " + ", ".join(f"{k} {v:.1f} s" for k, v in warm.items()))
    print()
    head = f"{'configuration':<16} {'slots/s':>9} {'coded Mbit/s':>13} {'repeats [s]':>22} {'BER':>10} {'BLER':>8}"
    print(head)
    print("-" * len(head))
    for b in benches:
        reps = " ".join(f"{t:.2f}" for t in b.times)
        print(f"{b.name:<16} {rate[b.name]:>9.1f} {rate[b.name] * b.coded_bits_per_slot / 1e6:>13.3f} "
              f"{reps:>22} {b.ber:>10.3e} {b.bler:>8.4f}")
    print()
    ratio = rate[lk_xla.name] / rate[hand.name]
    verdict = "PASS" if ratio >= GOAL else "BELOW GOAL"
    print(f"linksim / hand-written (xla)  : {ratio:.3f}  (goal >= {GOAL})  {verdict}")
    print(f"linksim xla / graph speed-up  : {rate[lk_xla.name] / rate[lk_graph.name]:.2f}x  (goal >= {GOAL_XLA})  "
          f"{'PASS' if rate[lk_xla.name] / rate[lk_graph.name] >= GOAL_XLA else 'BELOW GOAL'}")
    print(f"linksim xla / tx-only xla     : {rate[lk_xla.name] / rate[lk_tx.name]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
