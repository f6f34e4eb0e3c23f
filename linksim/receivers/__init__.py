"""Receivers of the OFDM slot link (link.mode codeword / tb / uncoded / sounding): one
line per receiver, name -> "module:Class" (see :mod:`linksim.plugins`)."""

from ..plugins import Table

RECEIVERS = Table("receiver", {
    "perfect": "linksim.receivers.genie:PerfectCSI",
    "ls": "linksim.receivers.ls:LSEstimator",
    "lmmse": "linksim.receivers.lmmse:LMMSEEstimator",
    "gmm": "linksim.receivers.gmm:GMMEstimator",
    "nonidentical_dm": "linksim.receivers.diffusion:DiffusionEstimator",
    "identical_dm": "linksim.receivers.diffusion:IdenticalDiffusionEstimator",
}, base=("linksim.receivers.base:Receiver", "linksim.receivers.contract:Estimator"), group="linksim.receivers")
