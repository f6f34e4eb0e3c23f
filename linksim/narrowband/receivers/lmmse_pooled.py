"""LMMSE with the sample covariance of the aggregated training set (all profiles)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..linear_gaussian import sample_covariance
from .linear import LinearGaussianReceiver


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PooledLMMSE(LinearGaussianReceiver):
    """One Gaussian prior for every environment: the sample covariance of ``vec(H)`` over
    the pooled training channels (each profile with its scenario size)."""

    Params = _NoParams

    def prior(self):
        h = self.context.pooled()
        self.build_info = {"samples": len(h)}
        return sample_covariance(h)[None], [1.0]
