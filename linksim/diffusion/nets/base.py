"""The checkpoint protocol of every network in :data:`linksim.diffusion.nets.NETWORKS`."""

from __future__ import annotations

import keras

__all__ = ["CheckpointNet"]


class CheckpointNet(keras.Model):
    """A Keras model that :mod:`linksim.diffusion.checkpoints` can save and rebuild: its
    constructor arguments are its whole configuration (``get_config()`` returns them,
    ``from_config`` calls the constructor), and ``build_for(data_shape)`` creates its
    weights for one data shape, which :attr:`data_shape` then reports."""

    _data_shape = None

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    @property
    def data_shape(self):
        """The data shape the network was built for (``None`` before it was built)."""
        return self._data_shape
