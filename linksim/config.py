"""Typed configuration: the strict pydantic base of every scenario section, receiver and
stage ``Params`` and training spec, and how plain YAML data becomes one.

A misspelt key is an error, never silently ignored (``extra="forbid"``). YAML files are
read strictly (:mod:`linksim.strict_yaml`), ``--set dotted.key=value`` overrides are
applied to the plain data, and pydantic's errors become one :class:`~linksim.errors.UserError`
listing every problem with the file (or the override) and the field that caused it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Sequence

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from . import strict_yaml
from .errors import UserError, allowed, clip, did_you_mean, echo

__all__ = ["Strict", "StrictTyped", "NoParams", "MAX_NAME", "FolderName", "plain_folder_name", "split_path", "set_dotted",
           "get_dotted", "parse_override", "loc_to_path", "pydantic_problem", "pydantic_problems",
           "override_source", "problems_error", "validate_model", "resolve_path", "read_yaml",
           "load_yaml_model", "apply_overrides"]

MAX_NAME = 100  # characters of a run or model name


class Strict(BaseModel):
    """A pydantic model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid")


class StrictTyped(Strict):
    """Strict keys and strict types (no coercion of a string to a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class NoParams(Strict):
    """The ``Params`` of a receiver or stage without parameters."""


# --------------------------------------------------------------------------- names
def _name_problem(name: str) -> str | None:
    """What keeps ``name`` from being a plain folder name, or None."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "contains / or \\"
    if name.startswith("."):
        return "starts with a dot"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a control character"
    if len(name) > MAX_NAME:
        return f"has {len(name)} characters"
    return None


def plain_folder_name(name: str) -> str:
    """``name`` when it can name a folder inside results/ or the zoo and nothing else:
    not empty, no / or \\, no leading dot (so neither . nor ..), no control character,
    at most :data:`MAX_NAME` characters (ValueError otherwise)."""
    problem = _name_problem(name)
    if problem:
        raise ValueError(f"the name becomes a folder name but {problem}; allowed: 1 to {MAX_NAME} characters, "
                         "no / or \\, not starting with a dot")
    return name


FolderName = Annotated[str, AfterValidator(plain_folder_name)]  # a run's or a model's folder


# --------------------------------------------------------------------------- dotted paths
def split_path(path: str) -> list:
    parts = []
    for p in path.split("."):
        parts.append(int(p) if p.isdigit() else p)
    return parts


def set_dotted(data: dict, path: str, value: Any) -> None:
    """Set ``data[a][b]... = value`` for a dotted path (list indices as numbers)."""
    parts = split_path(path)
    node = data
    for i, key in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not isinstance(key, int) or key >= len(node):
                raise UserError(f"no list element {key}", field=".".join(map(str, parts[: i + 1])))
            node = node[key]
            continue
        if not isinstance(node, dict):
            raise UserError("is not a section", field=".".join(map(str, parts[:i])))
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    last = parts[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last >= len(node):
            raise UserError(f"no list element {last}", field=path)
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise UserError("is not a section", field=".".join(map(str, parts[:-1])))


def get_dotted(obj: Any, path: str) -> Any:
    """Read a value from a Scenario (or plain data) by dotted path."""
    node = obj
    for key in split_path(path):
        if isinstance(node, BaseModel):
            if not hasattr(node, str(key)):
                raise KeyError(path)
            node = getattr(node, str(key))
        elif isinstance(node, dict):
            node = node[key]
        elif isinstance(node, list):
            node = node[int(key)]
        else:
            raise KeyError(path)
    return node


def parse_override(text: str) -> tuple[str, Any]:
    """``a.b=3`` -> ("a.b", 3); the value is parsed as YAML plain data, as strictly as a
    scenario file (:mod:`linksim.strict_yaml`)."""
    if "=" not in text:
        raise UserError("an override looks like dotted.key=value", source="--set", field=clip(text))
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UserError("empty key in override", source="--set", field=clip(text))
    try:
        value = strict_yaml.load(raw) if raw.strip() else ""
    except strict_yaml.YamlProblem as err:
        raise UserError(err.message, source="--set", field=clip(key)) from None
    return key, value


# --------------------------------------------------------------------------- validation
def loc_to_path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + clip(part)
    return out


def _model_at(loc, root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The pydantic model class under ``root`` that owns the field at ``loc`` (for
    did-you-mean)."""
    if root is None:
        return None
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return None
    return model


def pydantic_problem(error: dict, root: type[BaseModel] | None = None) -> UserError:
    """One pydantic error as a UserError: unknown key (did-you-mean, allowed keys),
    missing key, or the validator's message with the offending value."""
    loc = error["loc"]
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc, root)
        names = list(owner.model_fields) if owner else []
        msg = f"unknown key{did_you_mean(loc[-1], names)}; allowed keys: {allowed(names)}" if names else "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    else:
        msg = error["msg"].replace("Value error, ", "")
        if "input" in error and not isinstance(error["input"], (dict, list)):
            msg += f" (got {echo(error['input'])})"
    return UserError(msg, field=loc_to_path(loc) or None)


def pydantic_problems(err: ValidationError, root: type[BaseModel] | None = None) -> list[UserError]:
    """Every error pydantic found, one UserError each."""
    return [pydantic_problem(e, root) for e in err.errors()]


def _field_parts(field: str) -> list:
    """``receivers[1].name`` or ``receivers.1.name`` -> ["receivers", 1, "name"]."""
    return split_path(field.replace("[", ".").replace("]", ""))


def override_source(field: str | None, source: str, overrides: Sequence[str] = ()) -> str:
    """Where the value at ``field`` came from: the last ``--set`` override of that field
    or of a section above it (as ``--set key=value``), else ``source`` (the file), joined
    by the overrides of fields inside ``field`` (a section the file and overrides both set)."""
    if not field:
        return source
    parts = _field_parts(field)
    inside = []
    for text in reversed(overrides):
        key = split_path(parse_override(text)[0])
        if parts[: len(key)] == key:
            return f"--set {clip(text)}"
        if key[: len(parts)] == parts:
            inside.insert(0, f"--set {clip(text)}")
    return ", ".join([source, *inside])


def problems_error(problems: list[UserError], source: str, overrides: Sequence[str]) -> UserError:
    """One UserError listing ``problems``, each named by the file or the override that
    set its field."""
    located = [p.at(source=override_source(p.field, source, overrides)) for p in problems]
    return UserError.collect(located, source)


def validate_model(model: type[BaseModel], data: Any, source: str, overrides: Sequence[str] = ()):
    """Validate plain data into ``model``; errors become one UserError listing every
    problem (file or ``--set`` override, field, allowed). ``overrides``: the ``--set``
    strings already applied to ``data``."""
    if not isinstance(data, dict):
        raise UserError("expected a YAML mapping of sections", source=source)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise problems_error(pydantic_problems(err, model), source, overrides) from None


# --------------------------------------------------------------------------- files
def resolve_path(path: str, base_dir: Path | None) -> Path:
    p = Path(path)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def read_yaml(path: str | Path) -> dict:
    """Plain data of a YAML file ({} when empty), read by :func:`linksim.strict_yaml.read_file`
    (no anchors or aliases, no repeated key, at most 32 levels deep, 1 MB of UTF-8); a
    problem is a UserError naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise UserError("scenario file not found", source=str(path))
    try:
        data = strict_yaml.read_file(path)
    except strict_yaml.YamlProblem as err:
        raise UserError(err.message, source=str(path), field=err.where) from None
    except OSError as err:
        raise UserError(f"cannot read the file ({err.strerror})", source=str(path)) from None
    return data if data is not None else {}


def load_yaml_model(model: type[BaseModel], path, overrides=None):
    """A YAML file validated as ``model`` after ``--set`` overrides (training specs);
    errors name the file, the field and the override."""
    data = apply_overrides(read_yaml(path), list(overrides or []), str(path))
    return validate_model(model, data, str(path), list(overrides or []))


def apply_overrides(data: dict, overrides: list[str], source: str) -> dict:
    data = copy.deepcopy(data)
    if not isinstance(data, dict):
        raise UserError("a scenario is a YAML mapping of sections", source=source)
    for text in overrides:
        key, value = parse_override(text)
        try:
            set_dotted(data, key, value)
        except UserError as err:
            raise err.at(source="--set") from None
    return data
