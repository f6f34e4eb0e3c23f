"""Receivers that are exact under a zero-mean Gaussian (mixture) prior of ``vec(H)``: the
filters of :class:`~linksim.narrowband.linear_gaussian.GaussianMixtureLinear`, built once
per pilot matrix and noise level; the reported error variance is the posterior one."""

from __future__ import annotations

from abc import abstractmethod

from ..linear_gaussian import GaussianMixtureLinear
from .base import NarrowbandReceiver


class LinearGaussianReceiver(NarrowbandReceiver):
    """Subclasses give :meth:`prior` -> ``(covs [K, d, d], weights [K])`` and may pick the
    component themselves (:meth:`component`)."""

    reports_err_var = True

    def __init__(self, context, params=None):
        super().__init__(context, params)
        self._covs, self._weights = self.prior()
        self._filters = {}

    @abstractmethod
    def prior(self):
        """``(covs, weights)`` of the prior of ``vec(H)``."""

    def component(self, genie):
        """Component index per realisation [B], or None (posterior responsibilities)."""
        return None

    def filters(self, op, no: float) -> GaussianMixtureLinear:
        key = (id(op), no)
        if key not in self._filters:
            self._filters = {key: GaussianMixtureLinear(self._covs, self._weights, op.x.numpy(), no, self.context.model.num_rx)}
        return self._filters[key]

    def estimate(self, y, op, no, genie=None):
        mean, var, _ = self.filters(op, no)(y, self.component(genie))
        return mean, var
