"""Semantic communication in the chain (Card D, case study 2): the link block that sends
the digits test split through the trained systems of ``semantic.systems``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy import config

from ..data.images import load_images, load_labels, to_unit
from ..graph import graph_function
from ..links.base import LinkBase, f64
from ..sums import all_finite, image_stats, zero_stats
from .classifier import correct_count, load_classifier
from .files import load_system
from .system import system_model


class SharedDraws:
    """A stand-in for ``tf.random.Generator`` whose draws depend only on ``seed`` and on
    the order of the calls: every system of a batch gets its own instance with the same
    seed, so all see the same channel gains and noise (and a DDPM decoder the same
    initial noise), as receivers share realisations.

    Input (normal / uniform) : shape, dtype (uniform: minval, maxval) -> tensor
    """

    def __init__(self, seed):
        self.seed = tf.cast(seed, tf.int32)
        self.calls = 0

    def _next(self):
        self.calls += 1
        return tf.stack([self.seed[0], self.seed[1] + self.calls])

    def normal(self, shape, dtype=tf.float32):
        return tf.random.stateless_normal(shape, self._next(), dtype=dtype)

    def uniform(self, shape, minval=0.0, maxval=None, dtype=tf.float32):
        return tf.random.stateless_uniform(shape, self._next(), minval, maxval, dtype=dtype)


class SemanticLink(LinkBase):
    """Images of the digits test split (one per user and batch element) through every
    system of ``semantic.systems`` on the same channel draws.

    Input
    -----
    batch_size : int — images per user
    no : scalar tf.float — noise variance per complex symbol (signal power 1 per user)

    Output
    ------
    dict {system label: dict of raw sums (STAT_KEYS; image sums filled)}
    """

    def __init__(self, scenario, precision=None):
        super().__init__(scenario, precision)
        s = scenario
        sem = s.semantic
        self.fading = s.channel.model
        self.users = sem.users
        self._images = tf.constant(to_unit(load_images(s.source.type, s.source.split)))
        self._labels = tf.constant(load_labels(s.source.type, s.source.split))
        self.classifier = load_classifier(sem.classifier) if "accuracy" in s.metrics else None
        self.systems = []
        self.receiver_info = {}
        for i, spec in enumerate(sem.systems):
            model = system_model(s, i)
            system = load_system(model, expect={"kind": spec.name, "k": sem.num_symbols, "users": sem.users})
            system.sample_steps = spec.sample_steps or system.sample_steps
            system.num_samples = spec.samples or system.num_samples
            self.receiver_info[spec.display] = {"model": model, "parameters": system.count_parameters()["total"]}
            self.systems.append((spec.display, system))
        self.receivers = [(label, None) for label, _ in self.systems]
        self._xla_enabled = False
        self._build_step()

    def _draw(self, batch_size: int):
        """Images ``[U, B, H, W]`` of the batch, their labels ``[U, B]`` and the seed of its
        shared draws."""
        idx = config.tf_rng.uniform([self.users, batch_size], 0, self._images.shape[0], tf.int32)
        seed = config.tf_rng.uniform([2], 0, 2**31 - 1, tf.int32)
        return tf.gather(self._images, idx), tf.gather(self._labels, idx), seed

    def _run(self, batch_size, no):
        x, labels, seed = self._draw(batch_size)
        snr_db = -10.0 * tf.math.log(tf.cast(no, tf.float32)) / tf.math.log(10.0)
        flat = tf.reshape(x, [-1, *x.shape[2:]])
        out = {}
        for label, system in self.systems:
            x_hat = system.transmit(x, snr_db, self.fading, SharedDraws(seed))
            stats = zero_stats()
            stats["slots"] = f64(batch_size)
            stats.update(image_stats(tf.reshape(x_hat, tf.shape(flat)), flat))
            if self.classifier is not None:
                stats["class_correct"] = correct_count(self.classifier, tf.reshape(x_hat, tf.shape(flat)),
                                                       tf.reshape(labels, [-1]))
            stats["finite_image"] = tf.cast(all_finite(x_hat), tf.float64)
            out[label] = stats
        return out

    def example_rows(self, batch_size: int, no: float):
        """Sent images (user 0) and each system's reconstruction of one batch: ``(x,
        {label: x_hat})``, [B, H, W] float in [0, 1] (example grids)."""
        x, _, seed = self._draw(batch_size)
        snr_db = float(-10.0 * np.log10(no))
        return x[0], {label: sysm.transmit(x, snr_db, self.fading, SharedDraws(seed))[0] for label, sysm in self.systems}

    def _build_step(self):
        self._step = graph_function(self._run, reduce_retracing=True)
