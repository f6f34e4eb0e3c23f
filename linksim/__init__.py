"""linksim: link-level 5G NR MIMO-OFDM simulation on Sionna PHY with diffusion receivers."""

__version__ = "0.1.0"
