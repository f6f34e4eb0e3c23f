"""Scenario rules that several link families share (each family's own rules are in its
``config`` module, beside its section)."""

from __future__ import annotations

from ..errors import UserError, allowed

__all__ = ["pilot_link_rules", "unique_labels"]


def pilot_link_rules(s, link: str, measures: str, metrics) -> None:
    """Rules of a link that sends pilots only: its metrics, no image source, an SNR key."""
    bad = [m for m in s.metrics if m not in metrics]
    if bad:
        raise UserError(f"{link} measures {measures}; allowed metrics: {allowed(metrics)} (got {bad[0]})", field="metrics")
    if s.source.type != "bits" or s.reconstruction:
        raise UserError(f"{link} sends pilots only: remove source and reconstruction", field="source.type")
    if s.sweep.key == "ebno_db" or s.sweep.ebno_db is not None:
        raise UserError(f"{link} has no coded bits: use snr_db", field="sweep.key")


def unique_labels(items, field: str) -> None:
    labels = [x.display for x in items]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise UserError(f"labels must be unique (repeated: {sorted(dup)[0]}); set label:", field=field)
