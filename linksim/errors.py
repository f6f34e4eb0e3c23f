"""User-facing errors: one message per problem naming the file, the field and what is allowed."""

from __future__ import annotations

import difflib

MAX_PROBLEMS = 10  # problems listed in one error; the rest are counted
MAX_ECHO = 200  # characters of a user's value (or key) repeated in a message
MAX_FIELD = 2 * MAX_ECHO  # characters of a dotted field: a few keys, each cut to MAX_ECHO where it is named


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters; a longer text ends with ``...`` and its length."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def echo(value, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (a long string is cut
    before its repr is made, so a 10 MB value costs no 10 MB message)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return clip(repr(value), limit)


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
        Dotted path of the offending field, e.g. ``receivers[1].interpolation`` (cut to
        ``MAX_FIELD`` characters).
    problems : list[UserError] | None
        The separate problems of an error made by :meth:`collect` (empty for one problem).
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None,
                 problems: list["UserError"] | None = None):
        self.message = message
        self.source = source
        self.field = clip(field, MAX_FIELD) if field else field  # made of the user's keys
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join(parts + [self.message])

    def at(self, source: str | None = None, field_prefix: str | None = None) -> "UserError":
        """Return a copy located in ``source`` and below ``field_prefix``."""
        field = self.field
        if field_prefix:
            field = f"{field_prefix}.{field}" if field else field_prefix
        return UserError(self.message, source or self.source, field, self.problems)

    @classmethod
    def collect(cls, problems: list["UserError"], source: str | None = None,
                limit: int = MAX_PROBLEMS) -> "UserError":
        """One error for several problems: a lone problem as it is, else ``N problems:``
        followed by one indented line per problem (at most ``limit``, the rest counted).

        The header names the problems' common source, or ``source`` when they differ; a
        line names its own source only where it differs from the header's.
        """
        if len(problems) == 1:
            return problems[0]
        sources = {p.source for p in problems}
        head = sources.pop() if len(sources) == 1 else source
        lines = [f"{len(problems)} problems:"]
        for p in problems[:limit]:
            lines.append("  " + str(p if p.source != head else p.without_source()))
        if len(problems) > limit:
            lines.append(f"  [and {len(problems) - limit} more]")
        return cls("\n".join(lines), source=head, problems=problems)

    def without_source(self) -> "UserError":
        """A copy that names the field only (a line below a header naming the source)."""
        return UserError(self.message, None, self.field, self.problems)


class NonFiniteOutput(Exception):
    """A receiver returned NaN or inf (``what``: its h_hat / err_var / samples); the
    runner turns it into a UserError naming the point and the batch seed."""

    def __init__(self, receiver: str, what: str = "h_hat or err_var"):
        self.receiver = receiver
        self.what = what
        super().__init__(f"receiver {receiver!r} returned non-finite {what}")


def did_you_mean(word: str, choices) -> str:
    """A ' (did you mean "x"?)' hint, or an empty string (the match ignores case)."""
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1, cutoff=0.6)
    return f' (did you mean "{by_lower[close[0]]}"?)' if close else ""


def allowed(choices) -> str:
    """Format a list of allowed values for a message."""
    return ", ".join(str(c) for c in choices)
