"""The ``semantic`` section of a scenario (link.mode semantic, Card D) and its rules."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from ..config import Strict
from ..errors import UserError, allowed
from ..links.rules import unique_labels
from ..metrics import IMAGE_METRICS

__all__ = ["SemanticSystemSpec", "Semantic", "SEMANTIC_METRICS", "check", "check_models"]

SEMANTIC_METRICS = IMAGE_METRICS + ("accuracy",)

class SemanticSystemSpec(Strict):
    """One semantic-communication system compared in ``semantic.systems``."""

    name: Literal["ae", "vae", "dae"] = Field(description="ae: autoencoder; vae: variational autoencoder; dae: diffusion autoencoder (conditional DDPM decoder).")
    label: Optional[str] = Field(None, description="Name in results and plots (default: name).")
    model: str = Field("auto", description="Checkpoint folder or zoo name; auto: semcom-<name>-k<k>-u<users>-cpu (k = round(cbr x 64)).")
    sample_steps: Optional[int] = Field(None, ge=1, le=1000, description="dae: sampler steps (null: the model's).")
    samples: Optional[int] = Field(None, ge=1, le=64, description="dae: posterior samples averaged per image (null: the model's, 1 as the paper).")

    @property
    def display(self) -> str:
        return self.label or self.name


class Semantic(Strict):
    """Semantic communication (link.mode semantic): learned encoders map each image to k
    complex symbols sent over the flat channel (awgn, or rayleigh block fading with known
    gain); each system's decoder reconstructs the image."""

    cbr: float = Field(0.125, gt=0, le=1, description="Channel bandwidth ratio k / n: k = round(cbr x 64) complex symbols per 8x8 image.")
    users: Literal[1, 2] = Field(1, description="Users superposed on one channel (each with its own encoder, decoder and image).")
    systems: list[SemanticSystemSpec] = Field(default_factory=lambda: [SemanticSystemSpec(name="ae")], min_length=1, description="Systems compared on the same images and channel draws.")
    classifier: str = Field("digits-classifier-cpu", description="metrics: [accuracy]: the digit classifier (zoo name or folder; scenarios/train/semcom/classifier.yaml trains it) that scores the reconstructed images.")

    @property
    def num_symbols(self) -> int:
        return int(round(self.cbr * 64))


def check(s) -> None:
    """The semantic link's rules for scenario ``s`` (UserError naming the field), and that
    the models it would load exist and fit."""
    sem = s.semantic
    if s.source.type == "bits":
        raise UserError("semantic communication sends images: set source.type: digits", field="source.type")
    if s.link.ofdm or s.channel.model not in ("awgn", "rayleigh"):
        raise UserError(f"semantic communication runs on the flat channel: set link.ofdm: false and channel.model "
                        f"awgn or rayleigh (got {s.channel.model})", field="channel.model")
    bad = [m for m in s.metrics if m not in SEMANTIC_METRICS]
    if bad:
        raise UserError(f"semantic communication measures images; allowed metrics: {allowed(SEMANTIC_METRICS)} (got {bad[0]})",
                        field="metrics")
    if s.reconstruction:
        raise UserError("the semantic systems decode images themselves: remove reconstruction", field="reconstruction")
    if sem.num_symbols < 1:
        raise UserError(f"cbr {sem.cbr} gives no channel symbol for 64 pixels (k = round(cbr x 64) >= 1)", field="semantic.cbr")
    if s.sweep.key == "ebno_db" or s.sweep.ebno_db is not None:
        raise UserError("semantic communication has no coded bits: use snr_db", field="sweep.key")
    unique_labels(sem.systems, "semantic.systems")
    check_models(s)


def check_models(s) -> None:
    """The models ``run`` loads exist and fit: every system's (kind, k, users) and, for
    ``accuracy``, the classifier."""
    # imported here, not above: they load TensorFlow, which only a semantic scenario needs
    from .classifier import check_classifier
    from .files import read_system_config
    from .system import system_model

    sem = s.semantic
    for i, spec in enumerate(sem.systems):
        field = f"semantic.systems[{i}].model"
        try:
            read_system_config(system_model(s, i), expect={"kind": spec.name, "k": sem.num_symbols,
                                                                     "users": sem.users})
        except UserError as err:
            raise (err if err.field == field else err.at(field_prefix=field)) from None
    if "accuracy" in s.metrics:
        try:
            check_classifier(sem.classifier)
        except UserError as err:
            raise err.at(field_prefix="semantic.classifier") from None
