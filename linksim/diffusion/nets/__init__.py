"""Every network linksim trains, one module per architecture, and :data:`NETWORKS`: the
networks a checkpoint may name (see :mod:`linksim.plugins`).

- :mod:`.mixer` — Card A's complex MLP-Mixer over (antennas, subcarriers) (``layers``:
  its split-complex layers);
- :mod:`.film` — the FiLM CNN over a narrowband channel matrix (Card B);
- :mod:`.srs_transformer` — the SRS-history transformer (Card C: SL, DM, E2E);
- :mod:`.image` — the image U-Net-like denoiser (Card D reconstruction);
- :mod:`.jscc` — the semantic encoder, matched decoder and digit classifier (Card D).
"""

from ...plugins import Table

NETWORKS = Table("network", {
    "MixerDenoiserNet": "linksim.diffusion.nets.mixer:MixerDenoiserNet",
    "FiLMDenoiserNet": "linksim.diffusion.nets.film:FiLMDenoiserNet",
    "SRSTransformer": "linksim.diffusion.nets.srs_transformer:SRSTransformer",
    "ImageDenoiserNet": "linksim.diffusion.nets.image:ImageDenoiserNet",
    "SemanticEncoder": "linksim.diffusion.nets.jscc:SemanticEncoder",
    "MatchedDecoder": "linksim.diffusion.nets.jscc:MatchedDecoder",
    "DigitClassifier": "linksim.diffusion.nets.jscc:DigitClassifier",
}, group="linksim.networks", module_paths=False)
