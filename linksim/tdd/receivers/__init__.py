"""Receivers of the SRS precoding link (link.mode srs_precoding): one line per receiver,
name -> "module:Class" (see :mod:`linksim.plugins`)."""

from ...plugins import Table

RECEIVERS = Table("srs_precoding receiver", {
    "perfect": "linksim.receivers.genie:PerfectCSI",
    "srs_hold": "linksim.tdd.receivers.classical:HoldLast",
    "wiener": "linksim.tdd.receivers.classical:Wiener",
    "sl": "linksim.tdd.receivers.learned:SupervisedCME",
    "dm": "linksim.tdd.receivers.learned:DiffusionPosterior",
    "e2e": "linksim.tdd.receivers.learned:EndToEnd",
}, base="linksim.receivers.contract:Estimator", group="linksim.srs_receivers")
