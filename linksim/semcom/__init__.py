"""Semantic communication: deep joint source-channel coding of small images (Case study 2).

An encoder maps each image to ``k`` complex channel symbols (channel bandwidth ratio
``CBR = k / (H W)``); one or two users superpose their latents on an AWGN or block
Rayleigh channel, and each user's decoder reconstructs its image from the equalised
received latent. Three decoders share the encoder architecture:

* ``ae``:  deterministic autoencoder with a matched (mirrored) decoder, MSE loss;
* ``vae``: variational encoder (mean / log-variance heads), matched decoder, MSE + KL;
* ``dae``: diffusion autoencoder, a conditional DDPM decoder conditioned on the received
  latent, trained jointly with the encoder on the denoising loss.

:mod:`linksim.diffusion.nets.jscc` holds the encoder and matched decoder, :mod:`.system` the end-to-end system
(:class:`SemanticSystem`: encode / channel / decode, save / load) and :mod:`.training`
the training program (:func:`~linksim.training.semcom.train_semcom`; imported on its own, so
that the link does not load the training code).
"""

from ..diffusion.nets.jscc import PROFILES, MatchedDecoder, SemanticEncoder, normalise_power, to_complex, to_real
from .system import FADINGS, KINDS, SemanticSystem, apply_channel, default_schedule

__all__ = ["PROFILES", "MatchedDecoder", "SemanticEncoder", "normalise_power", "to_complex",
           "to_real", "FADINGS", "KINDS", "SemanticSystem", "apply_channel", "default_schedule"]
