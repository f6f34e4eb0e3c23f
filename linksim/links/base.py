"""The link contract every link family implements.

A link is a Sionna ``Block`` built from a validated scenario. It draws one batch of
transmissions and channel realisations and runs **every receiver of the scenario on the
same realisations**; :meth:`LinkBase.run_batch` returns raw sums per receiver (the keys of
:mod:`linksim.metrics`), never averages, after checking that every receiver's output was
finite. A family supplies ``_build_step`` (which sets ``self._step(batch_size, no)``, a
compiled function returning ``{label: {sum key: tensor}}``) and, for coded links,
:meth:`LinkBase.ebno_noise_variance`.
"""

from __future__ import annotations

import time

import tensorflow as tf
from sionna.phy import Block

from ..errors import NonFiniteOutput
from ..graph import graph_function
from ..sums import FINITE_CHECKS, all_finite

__all__ = ["LinkBase", "f64"]


def f64(x):
    """``x`` as float64 (metric sums are accumulated in double precision)."""
    return tf.cast(x, tf.float64)


class LinkBase(Block):
    """Common parts of every link: noise level from the swept key, graph/XLA compilation
    with a fallback, the finite check, receivers built from a family's table.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (its ``precision`` unless ``precision`` is given).
    """

    image_outputs = None  # reconstructed-image outputs (OFDM links with an image source)
    _xla_enabled = False

    def __init__(self, scenario, precision=None):
        super().__init__(precision=precision or scenario.precision)
        self.scenario = scenario
        self.xla_fallback = None
        self.check_finite = True  # every batch: each receiver's outputs are finite
        self.receiver_info = {}

    def noise_variance(self, key: str, value: float) -> float:
        """Noise variance per resource element for ``snr_db`` or ``ebno_db`` = value."""
        if key == "snr_db":
            return float(10 ** (-value / 10))
        return self.ebno_noise_variance(value)

    def ebno_noise_variance(self, ebno_db: float) -> float:
        """Noise variance for an Eb/N0 (links with coded bits only; scenario validation
        allows ``ebno_db`` only for them)."""
        raise NotImplementedError(f"{type(self).__name__} has no coded bits: sweep snr_db")

    def _compile(self, fn, xla: bool):
        return graph_function(fn, jit_compile=xla, reduce_retracing=True)

    def _build_step(self):
        raise NotImplementedError

    def run_batch(self, batch_size: int, no: float) -> dict[str, dict[str, float]]:
        """One Monte-Carlo batch; returns {receiver label: {stat: value}}."""
        no_t = tf.constant(no, self.rdtype)
        try:
            out = self._step(batch_size, no_t)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, NotImplementedError) as err:
            if not self._xla_enabled:
                raise
            # XLA could not compile a block of this scenario: fall back to graph mode once
            self.xla_fallback = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
            self._xla_enabled = False
            self._build_step()
            out = self._step(batch_size, no_t)
        out = {label: {k: float(v) for k, v in stats.items()} for label, stats in out.items()}
        for label, stats in out.items():
            for key, what in FINITE_CHECKS.items():
                if stats.pop(key, 1.0) != 1.0:
                    raise NonFiniteOutput(label, what)
        return out

    def call(self, batch_size, no):
        return self._step(batch_size, no)

    def check_estimate(self, label: str, est) -> None:
        """NonFiniteOutput naming ``label`` and its outputs unless every output of the
        :class:`~linksim.receivers.contract.Estimate` ``est`` is finite (eager links; the
        compiled OFDM step sums its check into the batch's statistics instead)."""
        outputs = est.outputs()
        if self.check_finite and not bool(all_finite(*outputs.values())):
            raise NonFiniteOutput(label, " or ".join(outputs))

    def _table_receivers(self, table, context):
        """``[(label, receiver)]`` built from the family's receiver ``table``
        (:class:`~linksim.plugins.Table`), each with ``context``; ``self.receiver_info[label]``:
        build wall time and ``build_info``."""
        receivers = []
        self.receiver_info = {}
        for spec in self.scenario.receivers:
            cls = table.load(spec.name)
            t0 = time.time()
            rx = cls(context, cls.Params.model_validate(spec.params))
            self.receiver_info[spec.display] = {"build_s": round(time.time() - t0, 2), **rx.build_info}
            receivers.append((spec.display, rx))
        return receivers
