"""Reconstruction-stage registry: name -> "module:Class". Add one line per stage."""

RECONSTRUCTIONS = {
    "none": "linksim.reconstruction.base:NoReconstruction",
    "ddpm": "linksim.reconstruction.ddpm:DDPMReconstruction",
    "regressor": "linksim.reconstruction.regressor:RegressorReconstruction",
    "median": "linksim.reconstruction.classical:MedianFilter",
}
