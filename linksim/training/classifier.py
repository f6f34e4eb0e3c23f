"""The training program of the digit classifier (spec ``kind: classifier``; the metric
itself is :mod:`linksim.semcom.classifier`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal, Optional

import keras
import numpy as np
import tensorflow as tf
from pydantic import Field

from ..config import StrictTyped
from ..data.images import image_shape, load_images, load_labels, to_unit
from ..diffusion.checkpoints import save_checkpoint
from ..diffusion.nets.jscc import PROFILES, DigitClassifier
from ..provenance import atomic_write
from ..semcom.classifier import correct_count
from ..semcom.system import DATASET
from . import loop
from .semcom import TrainingSettings, read_spec

__all__ = ["ClassifierSpec", "load_spec", "train"]


class ClassifierSpec(StrictTyped):
    """What to train: ``linksim train scenarios/train/digits_classifier_cpu.yaml``."""

    kind: Literal["classifier"] = "classifier"
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    network: Literal["cpu", "paper"] = Field("cpu", description="Width profile (the semantic encoder's).")
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    output: Optional[str] = Field(None, description="Export folder (default linksim/zoo/<name>).")


def _accuracy(model, x_unit, labels) -> float:
    return float(correct_count(model, tf.constant(x_unit), tf.constant(labels))) / len(labels)


def train(spec: ClassifierSpec, resume: bool = False, progress: bool = True, source: str = "") -> Path:
    """``linksim train`` entry: train on the clean train split (cross-entropy, Adam with a
    cosine rate), measure the accuracy on the test split, export with ``card.md``
    (``resume`` is not supported: it trains in about a minute)."""
    t_start = time.time()
    tr = spec.training
    keras.utils.set_random_seed(tr.seed)
    x_train, y_train = to_unit(load_images(DATASET, "train")), load_labels(DATASET, "train")
    x_test, y_test = to_unit(load_images(DATASET, "test")), load_labels(DATASET, "test")
    model = DigitClassifier(10, PROFILES[spec.network]["width"]).build_for(image_shape(DATASET))
    optimizer = loop.cosine_adam(tr.learning_rate, tr.steps)

    @tf.function
    def step(x, y):
        def loss():
            logits = model(2.0 * x[..., None] - 1.0, training=True)
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))

        return loop.gradient_step(optimizer, model, loss)

    rng = np.random.default_rng(tr.seed)

    def batch(_):
        idx = rng.integers(0, len(x_train), tr.batch_size)
        return tf.constant(x_train[idx]), tf.constant(y_train[idx])

    running = loop.run_steps(step, batch, tr.steps, spec.name, progress).final
    wall = time.time() - t_start
    info = {"name": spec.name, "spec": spec.model_dump(mode="json"), "source": source, "steps": tr.steps,
            "wall_s": round(wall, 1), "final_loss": round(running, 6),
            "parameters": int(sum(int(tf.size(v)) for v in model.trainable_variables)),
            "test_accuracy": round(_accuracy(model, x_test, y_test), 4),
            "train_accuracy": round(_accuracy(model, x_train, y_train), 4),
            "majority_accuracy": round(float(np.max(np.bincount(y_test))) / len(y_test), 4),
            "data": {"dataset": DATASET, "train": len(x_train), "test": len(x_test)},
            **loop.provenance()}
    output = loop.export_dir(spec)
    save_checkpoint(output, model, data_shape=image_shape(DATASET), extra={"training": info})
    atomic_write(output / "card.md", _card(info))
    return output


def _card(info: dict) -> str:
    tr = info["spec"]["training"]
    return f"""# {info['name']}

Digit classifier of the semantic metric `accuracy`, trained by `linksim train {info['source']}`.

| | |
|---|---|
| data | `{info['data']['dataset']}` 8x8 images, {info['data']['train']} train (clean) / {info['data']['test']} test |
| network | 4 x (conv 3x3 stride 2, batch norm, ReLU), dense 10 logits; profile `{info['spec']['network']}`, {info['parameters']} parameters |
| training | {info['steps']} steps, batch {tr['batch_size']}, Adam lr {tr['learning_rate']:g} (cosine), cross-entropy, seed {tr['seed']}, final loss {info['final_loss']} |
| time | {info['wall_s']} s wall |
{loop.revision_row(info)}

| accuracy | |
|---|---|
| clean test images (the metric's ceiling) | {info['test_accuracy']} |
| clean train images | {info['train_accuracy']} |
| always the most frequent test digit (the trivial baseline) | {info['majority_accuracy']} |
"""


def load_spec(path, overrides=None) -> ClassifierSpec:
    """Read and validate a YAML spec (``--set key=value`` overrides applied first)."""
    return read_spec(ClassifierSpec, path, overrides)
