"""Temperatures against the compute temperature limit, per shell."""

from __future__ import annotations

from orbitgrid.report import formats
from orbitgrid.report.figures import add_limit
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown
from orbitgrid.report.sections._common import (
    envelope_figure,
    figure_value,
    reduction_note,
    shell_envelopes,
)

KELVIN_TO_CELSIUS_OFFSET = -273.15
"""°C = K − 273.15 (SI definition of the Celsius scale)."""


class ThermalSection:
    """Radiator/electronics node temperature per shell, with each shell's compute limit."""

    key = "thermal"
    title = "Temperatures"
    shows = (Shown("total.temperature_max_c", formats.celsius),)

    def applies(self, run: RunFolder) -> bool:
        return run.has_variables("temperature_k")

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        total = run.total
        t_max_c = figure_value(total, "temperature_max_c")
        if t_max_c is None:
            return []
        limits = run.max_temperature_k_by_shell()
        heat_h = figure_value(total, "hours_limited_by_heat_per_satellite") or 0.0
        if limits:
            limit_c = min(limits.values()) + KELVIN_TO_CELSIUS_OFFSET
            status = "warn" if heat_h > 0 else "good"
            detail = f"limit {limit_c:.1f} °C; {heat_h:.3g} h/satellite limited by heat"
        else:
            status, detail = "info", ""
        item = HeadlineItem("Temperature, maximum", formats.celsius(t_max_c), detail, status, 35)
        return [item]

    def render(self, run: RunFolder) -> SectionOutput:
        fig = envelope_figure(
            "temperature",
            "Radiator and electronics temperature",
            "temperature (°C)",
            shell_envelopes(run, "temperature_k", offset=KELVIN_TO_CELSIUS_OFFSET),
            reduction_note(run)
            + " Dotted: the first satellite of each shell. Dashed: the shell's compute "
            "temperature limit.",
            samples=shell_envelopes(
                run, "temperature_k", statistic="first", offset=KELVIN_TO_CELSIUS_OFFSET
            ),
        )
        for index, (shell, limit_k) in enumerate(run.max_temperature_k_by_shell().items()):
            limit_c = limit_k + KELVIN_TO_CELSIUS_OFFSET
            add_limit(fig.figure, limit_c, f"{shell} limit {limit_c:.1f} °C", index)
        return SectionOutput(figures=[fig])
