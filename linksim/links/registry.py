"""Which link family a scenario's ``link.mode`` runs, and that family's receiver table.

========================================  =============  ====================================
``link.mode``                             family         receivers
========================================  =============  ====================================
``codeword``, ``tb``, ``uncoded``,        ``ofdm``       :data:`linksim.receivers.RECEIVERS`
``sounding``
``narrowband``                            ``narrowband`` :data:`linksim.narrowband.receivers.RECEIVERS`
``srs_precoding``                         ``srs_precoding`` :data:`linksim.tdd.receivers.RECEIVERS`
``semantic``                              ``semantic``   none (``semantic.systems``)
========================================  =============  ====================================
"""

from __future__ import annotations

from ..narrowband.receivers import RECEIVERS as NARROWBAND_RECEIVERS
from ..plugins import Table
from ..receivers import RECEIVERS as OFDM_RECEIVERS
from ..tdd.receivers import RECEIVERS as SRS_RECEIVERS

__all__ = ["LINKS", "RECEIVER_TABLES", "family", "receiver_family", "receiver_table", "build_link"]

LINKS = Table("link family", {
    "ofdm": "linksim.system.link:ofdm_link",
    "narrowband": "linksim.narrowband.link:NarrowbandLink",
    "srs_precoding": "linksim.tdd.link:PrecodingLink",
    "semantic": "linksim.semcom.link:SemanticLink",
}, group="linksim.links", module_paths=False)
"""family -> the callable that builds its link block from a scenario."""

RECEIVER_TABLES = {"ofdm": OFDM_RECEIVERS, "narrowband": NARROWBAND_RECEIVERS, "srs_precoding": SRS_RECEIVERS}


def family(mode: str) -> str:
    """The link family of a ``link.mode``: a family's own mode, else the OFDM family (whose
    modes are the coding choices codeword, tb, uncoded and sounding)."""
    return mode if mode in LINKS.builtin() else "ofdm"


def receiver_family(mode: str) -> str:
    """The family whose receivers a ``link.mode`` lists: its own, or the OFDM family's for
    a family without receivers of its own (semantic)."""
    return family(mode) if family(mode) in RECEIVER_TABLES else "ofdm"


def receiver_table(mode: str) -> Table:
    """The receiver table of :func:`receiver_family`."""
    return RECEIVER_TABLES[receiver_family(mode)]


def build_link(scenario):
    """The link block for a validated scenario."""
    return LINKS.load(family(scenario.link.mode))(scenario)
