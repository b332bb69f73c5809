"""Where a validation error points in the scenario schema: the YAML path, the field's unit,
the keys and choices valid there, and the closest of them to what was written.

pydantic reports a location such as ``('constellation', 0, 'walker', 'altitude')``: keys as
written in YAML (aliases), list indices, and the tag of a discriminated union (``walker``),
which is not a YAML key. ``locate`` walks the schema alongside that location, so a message can
say ``constellation[0].altitude``, give the limit in the field's unit (the Python name carries
it: ``altitude_km``) and suggest the closest valid key (``difflib``, as Python's own "did you
mean" does).
"""

from __future__ import annotations

import collections
import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

# Unit suffixes of Python field names (longest first) → the unit a limit is stated in.
_NAME_UNITS: tuple[tuple[str, str], ...] = (
    ("_j_k", "J/K"),
    ("_per_year", "/yr"),
    ("_m_s", "m/s"),
    ("_m2", "m²"),
    ("_km", "km"),
    ("_deg", "deg"),
    ("_bps", "bit/s"),
    ("_ghz", "GHz"),
    ("_hz", "Hz"),
    ("_dbw", "dBW"),
    ("_dbi", "dBi"),
    ("_db", "dB"),
    ("_wh", "Wh"),
    ("_kg", "kg"),
    ("_bytes", "B"),
    ("_s", "s"),
    ("_h", "h"),
    ("_w", "W"),
    ("_k", "K"),
    ("_m", "m"),
)


@dataclass(frozen=True)
class FieldAt:
    """A location in the schema.

    ``path``: as written in YAML (``constellation[0].altitude``); ``name``: the Python
    attribute when the location ends on a model field (``altitude_km``), else None;
    ``annotation``: the type expected there (None when the location is not in the schema);
    ``parent``: the model whose key the location ends on (for the valid keys there).
    """

    path: str
    name: str | None
    annotation: Any
    parent: type[BaseModel] | None


def unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` so the model, list, dict or union shows."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    """Whether ``annotation`` is a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields_by_key(model: type[BaseModel]) -> dict[str, str]:
    """YAML key (alias, or the name itself) → Python attribute name."""
    keys = {}
    for name, info in model.model_fields.items():
        if not info.exclude:
            keys[info.alias or name] = name
            keys.setdefault(name, name)
    return keys


def valid_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys a section accepts, in schema order."""
    return [info.alias or n for n, info in model.model_fields.items() if not info.exclude]


def _tagged_member(annotation: Any, tag: object) -> Any:
    """The member of a union whose ``type`` Literal holds ``tag`` (discriminated unions)."""
    for member in typing.get_args(annotation):
        member = unwrap(member)
        if is_model(member) and "type" in member.model_fields:
            if tag in typing.get_args(member.model_fields["type"].annotation):
                return member
    return None


def locate(root: type[BaseModel], loc: tuple[Any, ...]) -> FieldAt:
    """Walk ``root``'s schema along a pydantic error location (see the module docstring)."""
    annotation: Any = root
    parent: type[BaseModel] | None = None
    name: str | None = None
    parts: list[str] = []
    for part in loc:
        current = unwrap(annotation)
        origin = typing.get_origin(current)
        if is_model(current):
            keys = _fields_by_key(current)
            parent = current
            name = keys.get(part) if isinstance(part, str) else None
            annotation = current.model_fields[name].annotation if name else None
            parts.append(str(part))
        elif origin in (list, tuple) and isinstance(part, int):
            args = [a for a in typing.get_args(current) if a is not Ellipsis]
            if origin is tuple and len(args) > 1:
                annotation = args[part] if part < len(args) else None
            else:
                annotation = args[0] if args else None
            name = None
            parts.append(f"[{part}]")
        elif origin is dict:
            annotation = typing.get_args(current)[1]
            name = None
            parts.append(str(part))
        elif origin in (typing.Union, types.UnionType):
            member = _tagged_member(current, part)
            owner = next(
                (
                    m
                    for m in map(unwrap, typing.get_args(current))
                    if is_model(m) and part in _fields_by_key(m)
                ),
                None,
            )
            if member is None and owner is not None:
                # A key of the members (a check naming a shell's field, without the tag).
                parent, name = owner, _fields_by_key(owner)[part]
                annotation = owner.model_fields[name].annotation
                parts.append(str(part))
            else:
                # A tag ('walker') or pydantic's label of a member ('int'): not a YAML key.
                annotation = member
        else:
            annotation, name = None, None
            parts.append(str(part))
    path = ""
    for part in parts:
        path += part if part.startswith("[") or not path else f".{part}"
    return FieldAt(path or "(top level)", name, annotation, parent)


def unit_of(name: str | None) -> str:
    """The unit a field's number is in, from its Python name (``altitude_km`` → km)."""
    if not name:
        return ""
    for suffix, unit in _NAME_UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return unit
    return ""


def literal_choices(annotation: Any) -> list[str]:
    """The allowed values of a ``Literal`` field (as text), else []."""
    current = unwrap(annotation)
    if typing.get_origin(current) is typing.Literal:
        return [str(a) for a in typing.get_args(current)]
    return []


def did_you_mean(word: object, choices: typing.Iterable[str]) -> str:
    """``"did you mean 'altitude'?"`` for the closest choices to ``word``, or ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=2, cutoff=0.6)
    if not close:
        return ""
    return f"did you mean {' or '.join(repr(c) for c in close)}?"


def list_names(names: typing.Sequence[str], limit: int = 12) -> str:
    """Names joined for a message: the first ``limit`` and how many more."""
    shown = ", ".join(str(n) for n in names[:limit])
    more = f" … ({len(names)} in all)" if len(names) > limit else ""
    return (shown + more) or "(none)"


def repeated_names(names: typing.Iterable[str]) -> list[str]:
    """The names that occur more than once, sorted (linear in the number of names)."""
    counts = collections.Counter(names)
    return sorted(name for name, count in counts.items() if count > 1)
