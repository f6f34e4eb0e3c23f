"""Pilot masks read from a file (``pilots.type: mask``; numpy only)."""

from __future__ import annotations

import numpy as np

from ..errors import UserError

__all__ = ["read_mask"]


def read_mask(path, shape: tuple[int, int, int], field: str = "pilots.mask_file") -> np.ndarray:
    """The pilot mask stored in the ``.npy`` file ``path`` as bool ``shape`` =
    [num_streams, num_ofdm_symbols, num_subcarriers]; UserError (naming ``field``) when it
    cannot be read, has another shape, or leaves a stream without a pilot."""
    try:
        mask = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read the mask ({err})", field=field) from None
    if mask.shape != tuple(shape):
        raise UserError(f"mask has shape {mask.shape}; allowed: {tuple(shape)} = [num_streams, num_ofdm_symbols, num_subcarriers]", field=field)
    if not mask.any(axis=(1, 2)).all():
        raise UserError("every stream needs at least one pilot RE", field=field)
    return mask.astype(bool)
