"""The strict pydantic base of every typed configuration in linksim: scenario sections,
receiver and stage ``Params``, training specs.

A misspelt key is an error, never silently ignored (``extra="forbid"``); the scenario
loader turns pydantic's errors into one message per problem (:mod:`linksim.errors`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict", "NoParams"]


class Strict(BaseModel):
    """A pydantic model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Strict):
    """The ``Params`` of a receiver or stage without parameters."""
