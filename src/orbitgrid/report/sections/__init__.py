"""The report's sections: a registry of capabilities, each rendered only when the run has it.

A section is any object with ``key`` (HTML anchor and static-export prefix), ``title``,
``applies(run) -> bool``, ``render(run) -> SectionOutput`` and ``headline(run) ->
list[HeadlineItem]`` (answers for the summary at the top of the report). ``SECTIONS`` lists them
in report order; a new capability (workloads, governance, ...) plugs in with
``register_section``. A section whose capability is absent from the run returns False from
``applies`` and leaves no trace in the report.

A section may also declare ``shows``: the ``summary.json`` figures it is meant to show, each
with the formatter it writes it with and where (headline card or section text). That list is
the contract a test holds every shipped scenario's report to (``tests/report/
test_figures_shown.py``), and docs/report.md lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from orbitgrid.report.figures import ReportFigure
from orbitgrid.report.runfolder import RunFolder

Status = Literal["good", "warn", "bad", "info"]


@dataclass(frozen=True)
class HeadlineItem:
    """One answer in the headline summary: a label, a formatted value with its unit, a note.

    ``status`` colours the card: ``good`` (meets the design), ``warn`` (limited), ``bad``
    (fails), ``info`` (context only). ``order`` sorts cards across sections (low first).
    """

    label: str
    value: str
    detail: str = ""
    status: Status = "info"
    order: int = 50


@dataclass(frozen=True)
class Shown:
    """A ``summary.json`` figure a section shows.

    ``path`` is dotted (``total.temperature_max_c``); ``*`` matches any key at that level (a
    shell or pair name: ``economics.shells.*.cost_ratio``). ``text`` formats the value exactly
    as the section writes it; ``where`` is ``headline`` (a summary card) or ``section`` (the
    section's text and tables, figures excluded).
    """

    path: str
    text: Callable[[Any], str]
    where: Literal["headline", "section"] = "headline"

    def values(self, summary: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """``(concrete path, value)`` of every figure the path matches in ``summary``."""
        yield from _walk(summary, self.path.split("."), [])


def _walk(node: Any, parts: list[str], seen: list[str]) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield ".".join(seen), node
        return
    if not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    keys = list(node) if head == "*" else [head] if head in node else []
    for key in keys:
        yield from _walk(node[key], rest, [*seen, str(key)])


@dataclass
class SectionOutput:
    """What a section renders: introductory HTML (text, tables) and its figures, in order."""

    html: str = ""
    figures: list[ReportFigure] = field(default_factory=list)


@runtime_checkable
class Section(Protocol):
    """The protocol every report section follows (see the module docstring)."""

    key: str
    title: str

    def applies(self, run: RunFolder) -> bool:
        """True when the run holds what this section shows."""
        ...

    def render(self, run: RunFolder) -> SectionOutput:
        """Text, tables and figures of the section."""
        ...

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        """Answers for the headline summary (may be empty)."""
        ...


SECTIONS: list[Section] = []
"""The registered sections, in report order."""


def register_section(section: Section, before: str | None = None) -> Section:
    """Add ``section`` to the report (at the end, or before the section keyed ``before``).

    Raises ``ValueError`` if a section with the same key is already registered.
    """
    if any(s.key == section.key for s in SECTIONS):
        raise ValueError(f"a report section with key {section.key!r} is already registered")
    keys = [s.key for s in SECTIONS]
    SECTIONS.insert(keys.index(before) if before in keys else len(SECTIONS), section)
    return section


def _register_builtin() -> None:
    from orbitgrid.report.sections.compute import ComputeSection
    from orbitgrid.report.sections.economics import EconomicsSection
    from orbitgrid.report.sections.network import NetworkSection
    from orbitgrid.report.sections.observation import ObservationSection
    from orbitgrid.report.sections.orbits import OrbitsSection
    from orbitgrid.report.sections.power import PowerSection
    from orbitgrid.report.sections.thermal import ThermalSection
    from orbitgrid.report.sections.workloads import WorkloadsSection

    for section in (
        OrbitsSection(),
        PowerSection(),
        ThermalSection(),
        ComputeSection(),
        NetworkSection(),
        WorkloadsSection(),
        ObservationSection(),
        EconomicsSection(),
    ):
        register_section(section)


_register_builtin()

__all__ = [
    "SECTIONS",
    "HeadlineItem",
    "Section",
    "SectionOutput",
    "Shown",
    "register_section",
]
