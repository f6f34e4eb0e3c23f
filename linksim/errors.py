"""User-facing errors: one message naming the file, the field and what is allowed."""

from __future__ import annotations

import difflib


class UserError(Exception):
    """An error caused by the user's input (scenario, CLI argument, file).

    The CLI prints ``str(error)`` and exits with status 2, without a traceback.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    source : str | None
        The file (or ``--set`` argument) the bad value came from.
    field : str | None
        Dotted path of the offending field, e.g. ``receivers[1].interpolation``.
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join(parts + [self.message])

    def at(self, source: str | None = None, field_prefix: str | None = None) -> "UserError":
        """Return a copy located in ``source`` and below ``field_prefix``."""
        field = self.field
        if field_prefix:
            field = f"{field_prefix}.{field}" if field else field_prefix
        return UserError(self.message, source or self.source, field)


def did_you_mean(word: str, choices) -> str:
    """A ' (did you mean "x"?)' hint, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def allowed(choices) -> str:
    """Format a list of allowed values for a message."""
    return ", ".join(str(c) for c in choices)
