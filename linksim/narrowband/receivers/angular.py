"""The 2-D DFT (angular) domain of ULA channels: ``H = F_r G F_t^H`` with unitary DFT
matrices, and the pilot dictionary of ``vec(Y)`` in that domain."""

from __future__ import annotations

import numpy as np


def dft(n: int) -> np.ndarray:
    """Unitary DFT matrix [n, n] complex128."""
    k = np.arange(n)
    return np.exp(-2j * np.pi * np.outer(k, k) / n) / np.sqrt(n)


def dictionary(x: np.ndarray, num_rx: int) -> np.ndarray:
    """``Phi = F_r ⊗ (X^T conj(F_t))`` [Nr Np, Nr Nt]: ``vec(Y) = Phi vec(G)`` (row-major),
    for ``H = F_r G F_t^H`` and ``Y = H X``."""
    x = np.asarray(x, np.complex128)
    return np.kron(dft(num_rx), x.T @ dft(x.shape[0]).conj())


def to_channel(g, num_rx: int, num_tx: int):
    """``G`` [..., Nr, Nt] -> ``H = F_r G F_t^H``."""
    return dft(num_rx) @ np.asarray(g) @ dft(num_tx).conj().T
