"""The optimiser and the step loop shared by the training programs: Adam with a cosine
learning-rate decay, and a loop with a tqdm bar and a running loss."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["cosine_adam", "run_steps"]


def cosine_adam(learning_rate: float, steps: int):
    """Adam whose learning rate decays by a cosine to 5 % over ``steps``."""
    return tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05))


def run_steps(step, batch, steps: int, name: str, progress: bool = True, every: int = 50) -> list:
    """Call ``step(*batch(i))`` for ``i < steps`` (``step`` returns the loss); returns
    ``[(i + 1, running loss)]`` every ``every`` steps (running: 0.98 / 0.02 average)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc=f"train {name}", unit="step", disable=not progress, dynamic_ncols=True)
    running, losses = None, []
    for i in range(steps):
        loss = float(step(*batch(i)))
        running = loss if running is None else 0.98 * running + 0.02 * loss
        bar.update(1)
        if (i + 1) % every == 0:
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            losses.append((i + 1, round(running, 5)))
    bar.close()
    return losses
