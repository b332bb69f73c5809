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


class InputFileError(OrbitgridError):
    """An input file (TLE, OMM, CSV) is missing or malformed; the message names file and line."""
