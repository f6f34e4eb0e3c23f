"""Orthogonal matching pursuit in the 2-D DFT (angular) domain."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from .angular import dictionary, to_channel
from .base import CalibratedParams, NarrowbandReceiver


class OMPParams(CalibratedParams):
    max_atoms: int = Field(64, ge=1, le=4096, description="Most angular atoms (sparsity limit; never more than half the Nr Np observations).")
    stop: float = Field(1.0, gt=0, le=100, description="Stop once the residual energy falls below stop x (expected noise energy Nr Np s2).")


class OMPEstimator(NarrowbandReceiver):
    """Greedy sparse recovery of ``G`` (``H = F_r G F_t^H``): add the atom of ``Phi`` most
    correlated with the residual, least squares on the support, until the residual is at
    the noise level or ``max_atoms`` (at most half the observations); error variance measured on calibration channels."""

    Params = OMPParams

    def estimate(self, y, op, no, genie=None):
        nr, nt = self.context.model.num_rx, self.context.model.num_tx
        phi = dictionary(op.x.numpy(), nr)                                  # [m, d]
        norms = np.linalg.norm(phi, axis=0)
        yv = np.asarray(y).reshape(len(y), -1).astype(np.complex128)
        target = self.params.stop * no * phi.shape[0]
        atoms = min(self.params.max_atoms, phi.shape[0] // 2)   # at most half the observations: no overfit
        g = np.zeros([len(yv), phi.shape[1]], np.complex128)
        for b, yb in enumerate(yv):
            support, resid, coef = [], yb, np.zeros(0)
            while len(support) < atoms and np.vdot(resid, resid).real > target:
                corr = np.abs(phi.conj().T @ resid) / norms
                corr[support] = 0.0
                support.append(int(np.argmax(corr)))
                coef = np.linalg.lstsq(phi[:, support], yb, rcond=None)[0]
                resid = yb - phi[:, support] @ coef
            g[b, support] = coef
        return to_channel(g.reshape(-1, nr, nt), nr, nt).astype(np.complex64), None
