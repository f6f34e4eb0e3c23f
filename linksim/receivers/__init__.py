"""Receiver registry: name -> "module:Class". Add one line per receiver."""

RECEIVERS = {
    "perfect": "linksim.receivers.perfect:PerfectCSI",
    "ls": "linksim.receivers.ls:LSEstimator",
    "lmmse": "linksim.receivers.lmmse:LMMSEEstimator",
    "nonidentical_dm": "linksim.receivers.diffusion:DiffusionEstimator",
    "identical_dm": "linksim.receivers.diffusion:IdenticalDiffusionEstimator",
}
