"""Receiver registry: name -> "module:Class". Add one line per receiver."""

RECEIVERS = {
    "perfect": "linksim.receivers.perfect:PerfectCSI",
    "ls": "linksim.receivers.ls:LSEstimator",
    "lmmse": "linksim.receivers.lmmse:LMMSEEstimator",
    "gmm": "linksim.receivers.gmm:GMMEstimator",
    "nonidentical_dm": "linksim.receivers.diffusion:DiffusionEstimator",
    "identical_dm": "linksim.receivers.diffusion:IdenticalDiffusionEstimator",
}
