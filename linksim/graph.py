"""How linksim puts its link code into a TensorFlow graph.

:func:`graph_function` is ``tf.function`` that first traces *without* AutoGraph. Most of
linksim's link code and the Sionna blocks it calls branch and loop on Python values only
(shapes, settings), so AutoGraph's source-to-source conversion has nothing to convert —
yet converting the link's and Sionna's functions costs seconds per process, a large part
of a short run on a CPU (``benchmarks/graph_tracing.py`` measures it). Where the traced
code does branch on a tensor (Sionna's 3GPP UMa/UMi/RMa scenarios do), the plain trace
fails with ``OperatorNotAllowedInGraphError`` before anything runs, and the function is
traced again with AutoGraph, for good. The numbers are the same either way.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["graph_function"]


class _GraphFunction:
    """A ``tf.function`` of ``fn`` without AutoGraph, switching to AutoGraph on the first
    trace that needs it."""

    def __init__(self, fn, kwargs):
        self._source, self._kwargs = fn, kwargs
        self._fn = tf.function(fn, autograph=False, **kwargs)
        self.autograph = False

    def __call__(self, *args, **kwargs):
        try:
            return self._fn(*args, **kwargs)
        except tf.errors.OperatorNotAllowedInGraphError:
            if self.autograph:
                raise
            self._fn = tf.function(self._source, autograph=True, **self._kwargs)
            self.autograph = True
            return self._fn(*args, **kwargs)


def graph_function(fn, **kwargs):
    """``tf.function(fn, **kwargs)``, traced without AutoGraph where the code allows it."""
    return _GraphFunction(fn, kwargs)
