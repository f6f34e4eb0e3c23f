"""Data sets: Sionna channel samples (generation, caching, splits) and the noise patterns
of the non-identical diffusion receiver (Card A).

Importing this package does not import TensorFlow or Sionna; :mod:`.channels` and
:mod:`.patterns` do.
"""

_CHANNELS = ("PRESETS", "MIXTURES", "ChannelDataset", "resolve_spec", "make_dataset",
             "cached_dataset", "cache_key", "default_cache_dir")
_PATTERNS = ("TRAINING_PATTERNS", "EVAL_PATTERNS", "training_tau", "evaluation_init", "observe",
             "snr_db")

__all__ = list(_CHANNELS + _PATTERNS)


def __getattr__(name):
    if name in _CHANNELS:
        from . import channels

        return getattr(channels, name)
    if name in _PATTERNS:
        from . import patterns

        return getattr(patterns, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
