"""Strict YAML reading: scenarios, training specs and ``--set`` values.

PyYAML's ``SafeLoader`` builds plain data only (no Python objects), but it accepts
anchors and aliases (a 1 KB "billion laughs" file is 10^9 strings as soon as anything
walks the data), keeps the last of two equal keys without a word, and nests as deep as
the text does. :class:`StrictLoader` refuses all three while it composes the document,
before any data is built; :func:`read_file` also refuses files larger than
:data:`MAX_BYTES` and files that are not UTF-8. Every refusal, and every YAML syntax
error, is a :class:`YamlProblem` naming the line where it can.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import echo

MAX_BYTES = 1_000_000  # a YAML file or --set value (a scenario is a few KB)
MAX_DEPTH = 32  # nested mappings and lists
MERGE_TAG = "tag:yaml.org,2002:merge"  # the << key


class YamlProblem(Exception):
    """Why a YAML text was refused, and its line (1-based; None when unknown)."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(message if line is None else f"line {line}: {message}")

    @property
    def where(self) -> str | None:
        """``line N`` (the field of a UserError), or None."""
        return f"line {self.line}" if self.line is not None else None


def _line(mark) -> int | None:
    return mark.line + 1 if mark is not None else None


class StrictLoader(yaml.SafeLoader):
    """A ``SafeLoader`` that refuses anchors and aliases, a key repeated in one mapping,
    and nesting deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        """Refuse an anchored node or an alias, and count the nesting, before composing."""
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:  # &name on a node, or the alias *name
            raise YamlProblem("YAML anchors and aliases (&name, *name) are not accepted: write each value out",
                              _line(event.start_mark))
        nested = isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent))
        if self.depth + nested > MAX_DEPTH:
            raise YamlProblem(f"nested deeper than {MAX_DEPTH} levels of mappings and lists", _line(event.start_mark))
        self.depth += nested
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= nested

    def construct_mapping(self, node, deep=False):
        """A mapping whose keys are all distinct."""
        self.check_unique_keys(node)
        return super().construct_mapping(node, deep=deep)

    def check_unique_keys(self, node) -> None:
        """Raise YamlProblem naming the first key that repeats in ``node`` and both lines."""
        first = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                seen = first.get(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            line = _line(key_node.start_mark)
            if seen is not None:
                raise YamlProblem(f"duplicate key {echo(key)}: first at line {seen}, again at line {line} "
                                  "(a key appears once in a mapping)", line)
            first[key] = line


def _check_size(what: str, size: int, unit: str) -> None:
    """Refuse a text of more than :data:`MAX_BYTES` bytes (or characters)."""
    if size > MAX_BYTES:
        raise YamlProblem(f"{what} of {size} {unit}; allowed: at most {MAX_BYTES} {unit}")


def load(text: str):
    """Plain data of a YAML text (None for an empty one), strictly: see :class:`StrictLoader`."""
    _check_size("a YAML text", len(text), "characters")
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (StrictLoader is a SafeLoader)
    except yaml.YAMLError as err:
        problem = " ".join(str(getattr(err, "problem", None) or err).split())  # one line
        raise YamlProblem(f"not valid YAML: {problem}", _line(getattr(err, "problem_mark", None))) from None
    except ValueError as err:  # e.g. an integer of more than 4300 digits
        raise YamlProblem(f"not valid YAML: {err}") from None


def decode(raw: bytes) -> str:
    """UTF-8 text of ``raw`` (a leading byte-order mark dropped), or YamlProblem naming the
    first byte that is not UTF-8 and its line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise YamlProblem(f"not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8", line) from None


def read_file(path: Path):
    """Plain data of a YAML file of at most :data:`MAX_BYTES` bytes of UTF-8 (None for an
    empty file); reads no more than that."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        _check_size("a file", max(Path(path).stat().st_size, len(raw)), "bytes")
    return load(decode(raw))
