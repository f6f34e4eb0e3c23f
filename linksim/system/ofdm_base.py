"""What the OFDM family's links share beyond the link contract: the image source, channel draws for receiver statistics, Eb/N0 from the coded bits."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from sionna.phy import config
from sionna.phy.utils import ebnodb2no
from threadpoolctl import threadpool_limits

from ..errors import UserError
from ..graph import graph_function
from ..links.base import LinkBase, f64
from ..receivers import RECEIVERS
from ..receivers.base import LinkContext, OFDMObservation
from ..receivers.contract import Estimator
from ..receivers.ls import NoiseAwareLS
from ..sums import all_finite, coding_stats, zero_stats
from .images import ImageOutputs, ImageSource

if TYPE_CHECKING:  # the scenario type, for annotations only: a link never reads the scenario module
    from ..scenario import Scenario


def draw_batches(fn, n: int, batch_size: int = 128) -> np.ndarray:
    """Concatenate ``fn(batch_size)`` over batches until ``n`` samples (one batch size:
    one trace)."""
    out = [fn(batch_size).numpy() for _ in range(-(-n // batch_size))]
    return np.concatenate(out)[:n]


class OFDMLinkBase(LinkBase):
    """What the OFDM family's links share beyond :class:`~linksim.links.base.LinkBase`:
    an image source, channel draws for receiver statistics, Eb/N0 from the coded bits."""

    ebno_resource_grid = None

    def __init__(self, scenario: Scenario, precision=None):
        super().__init__(scenario, precision=precision)
        self._pools = {}  # mixture component (or None) -> channel draws shared by the receivers
        self._draw_fns = {}
        self._ls_view = None  # the LS estimate an OFDMObservation offers (receivers on the shared contract)
        packs_images = scenario.source.type != "bits"
        self.image_source = ImageSource(scenario, precision=self.precision) if packs_images else None
        self.image_outputs = ImageOutputs(scenario, self.image_source) if self.image_source is not None else None
        # the decoder reports each block's success flag to the reconstruction stages
        self.block_flags = bool(packs_images and scenario.reconstruction and scenario.source.pass_correct_blocks)

    def sample_channels(self, n: int, component: int | None = None) -> np.ndarray:
        """``n`` fresh channel draws for receiver statistics (of one mixture component if
        given), never the realisations under test. Receivers share one pool: a receiver
        asking for fewer draws than an earlier one gets the first ``n`` of them."""
        pool = self._pools.get(component)
        have = 0 if pool is None else len(pool)
        if have < n:
            if component not in self._draw_fns:  # trace once per component: tracing costs more than drawing
                self._draw_fns[component] = graph_function(lambda bs: self._draw_batch(bs, component))
            extra = draw_batches(self._draw_fns[component], n - have)
            pool = extra if pool is None else np.concatenate([pool, extra])
            self._pools[component] = pool
        return pool[:n]

    def _draw_batch(self, batch_size: int, component: int | None):
        """One batch of channel draws [batch_size, Nr, Ns, S', F] for ``sample_channels``."""
        raise NotImplementedError

    def ebno_noise_variance(self, ebno_db: float) -> float:
        if not self.scenario.carries_bits:   # the sounding link sends pilots only
            return super().ebno_noise_variance(ebno_db)
        return float(ebnodb2no(ebno_db, self.bits_per_symbol, self.coderate, self.ebno_resource_grid))

    def _make_receivers(self, context: LinkContext):
        """``[(label, receiver)]``; ``self.receiver_info[label]`` records each build's wall
        time and what the receiver reports of it (``build_info``, e.g. a fit)."""
        receivers = []
        self.receiver_info = {}
        for spec in self.scenario.receivers:
            cls = RECEIVERS.load(spec.name)
            params = cls.Params.model_validate(spec.params)
            t0 = time.time()
            # NumPy's BLAS on one thread: covariances and fits (summation order) come out
            # the same whatever the machine's cores or a Ray worker's CPUs
            with threadpool_limits(limits=1, user_api="blas"):
                if issubclass(cls, Estimator):   # the shared contract: Observation -> Estimate
                    rx = cls(context, params)
                    if self._ls_view is None:
                        self._ls_view = NoiseAwareLS(context.resource_grid, interpolation_type="lin",
                                                     precision=self.precision)
                else:
                    rx = cls(context, params, precision=self.precision)
            self.receiver_info[spec.display] = {"build_s": round(time.time() - t0, 2),
                                                **getattr(rx, "build_info", {})}
            receivers.append((spec.display, rx))
        return receivers

    def estimate(self, rx, y, no, h, component):
        """``(h_hat, err_var)`` of receiver ``rx`` (a Sionna-block receiver or one on the
        shared contract) for the received grid ``y`` at noise ``no``; ``h`` and
        ``component`` reach genie receivers only."""
        genie = self._genie(rx, h, component)
        if not isinstance(rx, Estimator):
            return rx(y, no, genie)
        est = rx(OFDMObservation(y, no, genie, config.tf_rng, ls_estimator=self._ls_view))
        if est.h_hat is None or est.err_var is None:
            raise UserError(f"receiver {type(rx).__name__} returned no h_hat or no err_var: the OFDM link's "
                            "detectors need both")
        return est.h_hat, est.err_var

    def _estimate(self, rx, y, no, h, component):
        """``(h_hat, err_var, stats)``: one receiver's estimate, and the stats dict of its
        batch with ``finite`` (1.0 / 0.0) when ``check_finite`` is on."""
        h_hat, err_var = self.estimate(rx, y, no, h, component)
        stats = zero_stats()
        stats["slots"] = f64(tf.shape(y)[0])
        if self.check_finite:
            stats["finite"] = tf.cast(all_finite(h_hat, err_var), tf.float64)
        return h_hat, err_var, stats

    @staticmethod
    def _genie(rx, h, component):
        """What a receiver may know beyond the received signal: the true channel and the
        mixture component, for genie receivers only."""
        return {"h": h, "component": component} if rx.genie else None

    def _build_step(self):
        raise NotImplementedError

    def _coding_stats(self, b, b_hat):
        return coding_stats(b, b_hat, self.coding.blocks_per_slot, self.coding.info_bits_per_block)

    def _rows(self, label: str, stats: dict, b, b_hat, ok=None) -> dict:
        """``{row label: stats}`` of one receiver (one row per reconstruction stage with an
        image source; ``ok``: the decoder's per-block success flags, or None)."""
        if self.image_outputs is None:
            return {label: stats}
        return self.image_outputs.rows(label, stats, b, b_hat, ok)

    @property
    def decodes(self) -> bool:
        """Whether the scenario needs the decoded bits."""
        return bool(set(self.scenario.metrics) & {"ber", "bler", "goodput"}) or self.image_source is not None
