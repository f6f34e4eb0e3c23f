"""SRS precoding receiver registry (link.mode srs_precoding): name -> "module:Class". Add
one line per receiver."""

RECEIVERS = {
    "perfect": "linksim.tdd.receivers.classical:PerfectCSI",
    "srs_hold": "linksim.tdd.receivers.classical:HoldLast",
    "wiener": "linksim.tdd.receivers.classical:Wiener",
    "sl": "linksim.tdd.receivers.learned:SupervisedCME",
    "dm": "linksim.tdd.receivers.learned:DiffusionPosterior",
    "e2e": "linksim.tdd.receivers.learned:EndToEnd",
}
