"""Receivers of the narrowband pilot link (link.mode narrowband): one line per receiver,
name -> "module:Class" (see :mod:`linksim.plugins`)."""

from ...plugins import Table

RECEIVERS = Table("narrowband receiver", {
    "perfect": "linksim.receivers.genie:PerfectCSI",
    "ls": "linksim.narrowband.receivers.ls:RegularisedLS",
    "lmmse_pooled": "linksim.narrowband.receivers.lmmse_pooled:PooledLMMSE",
    "lmmse_genie": "linksim.narrowband.receivers.lmmse_genie:GenieLMMSE",
    "lasso": "linksim.narrowband.receivers.lasso:LassoEstimator",
    "omp": "linksim.narrowband.receivers.omp:OMPEstimator",
    "gmm": "linksim.narrowband.receivers.gmm:GMMEstimator",
    "dm_pooled": "linksim.narrowband.receivers.dm_pooled:PooledDiffusion",
    "dm_vb": "linksim.narrowband.receivers.dm_vb:DiffusionVB",
}, base="linksim.receivers.contract:Estimator", group="linksim.narrowband_receivers")
