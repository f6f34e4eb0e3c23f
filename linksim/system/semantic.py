"""Semantic communication in the chain (Card D, case study 2): the link block that sends
the digits test split through the trained systems of ``semantic.systems``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy import config

from ..data.images import load_images, to_unit
from ..diffusion.checkpoints import ZOO
from ..errors import UserError
from ..metrics import all_finite, image_stats, zero_stats
from ..semcom.system import SemanticSystem
from .link import _f64, _LinkBase
from ..graph import graph_function


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


def system_model(scenario, index: int) -> str:
    """The model that ``semantic.systems[index]`` names (``auto``: the zoo name for the
    scenario's k and users; UserError listing the shipped ratios when there is none)."""
    spec, sem = scenario.semantic.systems[index], scenario.semantic
    if spec.model != "auto":
        return spec.model
    name = f"semcom-{spec.name}-k{sem.num_symbols}-u{sem.users}-cpu"
    if not (ZOO / name).is_dir():
        prefix = f"semcom-{spec.name}-k"
        ks = sorted(int(p.name[len(prefix):].split("-")[0]) for p in ZOO.glob(f"{prefix}*-u{sem.users}-cpu"))
        shipped = ", ".join(f"{k / 64:g}" for k in ks) or "none"
        raise UserError(f"no shipped {spec.name} system for k = {sem.num_symbols} (cbr {sem.cbr:g}) and {sem.users} "
                        f"user(s) ({name}); allowed: semantic.cbr {shipped}, or a model you train "
                        f"(scenarios/train/semcom/{spec.name}.yaml) named in model:", field=f"semantic.systems[{index}].model")
    return name


class SemanticLink(_LinkBase):
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
        self.bits_per_symbol, self.coderate = 2, 1.0  # no coded bits: snr_db only
        self.fading = s.channel.model
        self.users = sem.users
        self._images = tf.constant(to_unit(load_images(s.source.type, s.source.split)))
        self.systems = []
        self.receiver_info = {}
        for i, spec in enumerate(sem.systems):
            model = system_model(s, i)
            system = SemanticSystem.load(model, expect={"kind": spec.name, "k": sem.num_symbols, "users": sem.users})
            system.sample_steps = spec.sample_steps or system.sample_steps
            system.num_samples = spec.samples or system.num_samples
            self.receiver_info[spec.display] = {"model": model, "parameters": system.count_parameters()["total"]}
            self.systems.append((spec.display, system))
        self.receivers = [(label, None) for label, _ in self.systems]
        self._xla_enabled = False
        self._build_step()

    def _draw(self, batch_size: int):
        """Images ``[U, B, H, W]`` of the batch and the seed of its shared draws."""
        idx = config.tf_rng.uniform([self.users, batch_size], 0, self._images.shape[0], tf.int32)
        return tf.gather(self._images, idx), config.tf_rng.uniform([2], 0, 2**31 - 1, tf.int32)

    def _run(self, batch_size, no):
        x, seed = self._draw(batch_size)
        snr_db = -10.0 * tf.math.log(tf.cast(no, tf.float32)) / tf.math.log(10.0)
        flat = tf.reshape(x, [-1, *x.shape[2:]])
        out = {}
        for label, system in self.systems:
            x_hat = system.transmit(x, snr_db, self.fading, SharedDraws(seed))
            stats = zero_stats()
            stats["slots"] = _f64(batch_size)
            stats.update(image_stats(tf.reshape(x_hat, tf.shape(flat)), flat))
            stats["finite_image"] = tf.cast(all_finite(x_hat), tf.float64)
            out[label] = stats
        return out

    def example_rows(self, batch_size: int, no: float):
        """Sent images (user 0) and each system's reconstruction of one batch: ``(x,
        {label: x_hat})``, [B, H, W] float in [0, 1] (example grids)."""
        x, seed = self._draw(batch_size)
        snr_db = float(-10.0 * np.log10(no))
        return x[0], {label: sysm.transmit(x, snr_db, self.fading, SharedDraws(seed))[0] for label, sysm in self.systems}

    def _build_step(self):
        self._step = graph_function(self._run, reduce_retracing=True)
