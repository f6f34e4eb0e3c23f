"""LMMSE with the sample covariance of the aggregated training set (all profiles)."""

from __future__ import annotations


from ...config import NoParams
from .linear import LinearGaussianReceiver


class PooledLMMSE(LinearGaussianReceiver):
    """One Gaussian prior for every environment: the sample covariance of ``vec(H)`` over
    the pooled training channels (each profile with its scenario size)."""

    Params = NoParams

    def prior(self):
        self.build_info = {"samples": sum(self.context.samples[p] for p in self.context.profiles)}
        return self.context.covariance()[None], [1.0]
