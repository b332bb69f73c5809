"""The project's error types.

A user error (bad scenario, missing file, impossible design) raises ``OrbitgridError`` or one of
its subclasses with a message a person can act on; the CLI prints it without a traceback and
exits 2. They subclass ``ValueError`` so generic handlers keep working.
"""

from __future__ import annotations


class OrbitgridError(ValueError):
    """A problem with the user's input that they can fix: the message says what and how."""


class ScenarioError(OrbitgridError):
    """A scenario field is invalid. ``path`` is the dotted field path, ``value`` what was given."""

    def __init__(self, message: str, path: str = "", value: object = None):
        self.path = path
        self.value = value
        super().__init__(message)


class FieldError(ValueError):
    """Raised inside a pydantic validator to blame a field *below* the model it validates.

    A cross-reference check runs on the whole scenario, so pydantic would report it at the top
    level; ``field`` (a location relative to the validated model, e.g. ``("constellation", 0,
    "spacecraft")``) lets the error formatter name the field and quote the value written there
    instead of the whole mapping.
    """

    def __init__(self, field: tuple[str | int, ...], message: str):
        self.field = tuple(field)
        super().__init__(message)


class InputFileError(OrbitgridError):
    """An input file (TLE, OMM, CSV) is missing or malformed; the message names file and line."""


# Longest quoted value in a message: enough to recognise it, too short to flood a terminal or
# echo a file.
SHORTEN_CHARS = 80


def shorten(value: object, limit: int = SHORTEN_CHARS) -> str:
    """A short ``repr`` of ``value`` for an error message, whatever its size or shape.

    Containers show their first few items and are never walked in full (an aliased YAML
    structure may expand to billions of items); integers too long to print (Python refuses
    ``str`` of more than 4,300 digits) are described by their size; long strings are cut in the
    middle with the number of characters left out.
    """
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 200:
            return f"<an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
        text = repr(value)
    elif isinstance(value, str | bytes):
        if len(value) <= limit:
            return repr(value)
        head, tail = value[: limit // 2], value[-(limit // 4) :]
        return f"{head!r}…{tail!r} ({len(value):,} characters)"
    else:
        text = _SHORT_REPR.repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _short_repr():
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxdict, short.maxlist, short.maxtuple = 2, 4, 4, 4
    short.maxset, short.maxstring, short.maxother, short.maxlong = 4, 40, 40, 40

    def repr_int(value: int, level: int) -> str:
        return shorten(value)

    short.repr_int = repr_int  # type: ignore[method-assign]
    return short


_SHORT_REPR = _short_repr()


class ResourceError(ScenarioError):
    """A run would not fit this machine (memory, disk or time); the message has the estimate
    and ``path`` the first field to change."""
