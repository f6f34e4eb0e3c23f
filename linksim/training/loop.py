"""What every training program shares: Adam with a cosine learning-rate decay, one
gradient step, the step loop with a tqdm bar and a running loss, the export folder, the
provenance a model records and its card's revision line. A program supplies its data,
network, loss and evaluation."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from .. import __version__
from ..diffusion.checkpoints import ZOO
from ..provenance import git_revision, package_versions

__all__ = ["cosine_adam", "gradient_step", "run_steps", "plot_losses", "export_dir", "provenance", "revision_row"]


def cosine_adam(learning_rate: float, steps: int):
    """Adam whose learning rate decays by a cosine to 5 % over ``steps``."""
    return tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05))


def gradient_step(optimizer, trainable, loss_fn):
    """``loss = loss_fn()`` under a gradient tape and one optimiser step on ``trainable``
    (a model or layer, whose variables are read after the loss, so a model built by its
    first call trains too; or a list of variables); variables without a gradient are left
    alone. Returns the loss."""
    with tf.GradientTape() as tape:
        loss = loss_fn()
    variables = trainable.trainable_variables if hasattr(trainable, "trainable_variables") else trainable
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
    return loss


class LossCurve(list):
    """``[(step, running loss)]`` (rounded to 5 digits) with ``final``: the running loss
    after the last step, unrounded (None before any step)."""

    final = None


def run_steps(step, batch, steps: int, name: str, progress: bool = True, every: int = 50) -> LossCurve:
    """Call ``step(*batch(i))`` for ``i < steps`` (``step`` returns the loss); returns
    ``[(i + 1, running loss)]`` every ``every`` steps (running: 0.98 / 0.02 average) as a
    :class:`LossCurve`."""
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc=f"train {name}", unit="step", disable=not progress, dynamic_ncols=True)
    running, losses = None, LossCurve()
    for i in range(steps):
        loss = float(step(*batch(i)))
        running = loss if running is None else 0.98 * running + 0.02 * loss
        bar.update(1)
        if (i + 1) % every == 0:
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            losses.append((i + 1, round(running, 5)))
    bar.close()
    losses.final = running
    return losses


def export_dir(spec) -> Path:
    """Where a spec's model is exported: its ``output``, else ``linksim/zoo/<name>``."""
    return Path(spec.output) if spec.output else ZOO / spec.name


def provenance() -> dict:
    """What a model records of the code that trained it: linksim's version, the git
    revision and the package versions."""
    return {"linksim": __version__, "git_revision": git_revision(), "versions": package_versions()}


def revision_row(info: dict, extra: str = "") -> str:
    """The card's revision line of a model's ``info`` (:func:`provenance`)."""
    return f"| revision | linksim {info['linksim']}, git {info['git_revision']}{extra} |"


def plot_losses(path: Path, losses) -> None:
    """The running loss of :func:`run_steps` against the step, log scale, as a PNG at
    ``path`` (nothing for an empty curve)."""
    if not losses:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([s for s, _ in losses], [v for _, v in losses])
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (EMA)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
