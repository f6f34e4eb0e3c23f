"""Semantic communication: deep joint source-channel coding of small images (Case study 2).

An encoder maps each image to ``k`` complex channel symbols (channel bandwidth ratio
``CBR = k / (H W)``); one or two users superpose their latents on an AWGN or block
Rayleigh channel, and each user's decoder reconstructs its image from the equalised
received latent. Three decoders share the encoder architecture:

* ``ae``:  deterministic autoencoder with a matched (mirrored) decoder, MSE loss;
* ``vae``: variational encoder (mean / log-variance heads), matched decoder, MSE + KL;
* ``dae``: diffusion autoencoder, a conditional DDPM decoder conditioned on the received
  latent, trained jointly with the encoder on the denoising loss.

:mod:`linksim.diffusion.nets.jscc` holds the encoder and matched decoder; here
:mod:`.config` is the scenario's ``semantic`` section and its rules, :mod:`.system` the
end-to-end system (:class:`~.system.SemanticSystem`: encode / channel / decode, save /
load), :mod:`.classifier` the digit classifier of the ``accuracy`` metric and :mod:`.link`
the semantic link. The training programs are :mod:`linksim.training.semcom` and
:mod:`linksim.training.classifier`. Importing this package loads nothing (every scenario
reads :mod:`.config`; TensorFlow is loaded by the modules that need it).
"""
