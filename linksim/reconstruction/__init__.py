"""Reconstruction stages after the decoder: one line per stage, name -> "module:Class"
(see :mod:`linksim.plugins`)."""

from ..plugins import Table

RECONSTRUCTIONS = Table("reconstruction", {
    "none": "linksim.reconstruction.base:NoReconstruction",
    "ddpm": "linksim.reconstruction.ddpm:DDPMReconstruction",
    "regressor": "linksim.reconstruction.regressor:RegressorReconstruction",
    "median": "linksim.reconstruction.classical:MedianFilter",
}, base="linksim.reconstruction.base:Reconstruction", group="linksim.reconstructions")
