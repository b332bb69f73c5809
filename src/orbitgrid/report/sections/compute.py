"""Delivered compute: throughput over time against installed, and what limited it."""

from __future__ import annotations

import numpy as np

from orbitgrid.report import formats
from orbitgrid.report.decimate import Envelope
from orbitgrid.report.figures import add_limit, format_number, table_html
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown
from orbitgrid.report.sections._common import (
    envelope_figure,
    figure_value,
    reduction_note,
    shell_envelopes,
)

# The verdict lives with the summary (summary.json carries its text); re-exported here.
from orbitgrid.summary import FEASIBLE_FRACTION, MARGINAL_FRACTION, verdict

__all__ = ["FEASIBLE_FRACTION", "MARGINAL_FRACTION", "ComputeSection", "verdict"]

LIMIT_CODES: tuple[tuple[int, str], ...] = ((1, "energy"), (2, "heat"))
"""``limit_code`` values drawn in the limits figure (0 = ran at installed power)."""

_TABLE_KEYS = (
    "installed_compute_pflops",
    "delivered_compute_pflops_mean",
    "delivered_compute_fraction",
    "hours_limited_by_energy_per_satellite",
    "hours_limited_by_heat_per_satellite",
    "energy_to_compute_mwh",
)
"""Per-shell figures of the section's table, in column order."""


class ComputeSection:
    """Delivered PFLOPS per shell against installed, and the fraction of satellites limited."""

    key = "compute"
    title = "Delivered compute"
    shows = (
        Shown("total.verdict", str),
        Shown("total.delivered_compute_fraction", formats.percent),
        Shown("total.installed_compute_pflops", format_number),
        Shown("total.delivered_compute_pflops_mean", format_number),
        Shown("total.hours_limited_by_energy_per_satellite", formats.general),
        Shown("total.hours_limited_by_heat_per_satellite", formats.general),
        *(Shown(f"shells.*.{key}", format_number, "section") for key in _TABLE_KEYS),
    )

    def applies(self, run: RunFolder) -> bool:
        return run.has_variables("delivered_tflops") or "delivered_compute_fraction" in run.total

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        total = run.total
        fraction = figure_value(total, "delivered_compute_fraction")
        if fraction is None:
            return []
        text, status = verdict(fraction, figure_value(total, "satellite_steps_failed"))
        # The run wrote its verdict; show that text (an older run folder has none).
        text = str(total.get("verdict") or text)
        installed = figure_value(total, "installed_compute_pflops")
        delivered = figure_value(total, "delivered_compute_pflops_mean")
        energy_h = figure_value(total, "hours_limited_by_energy_per_satellite") or 0.0
        heat_h = figure_value(total, "hours_limited_by_heat_per_satellite") or 0.0
        detail = (
            f"{format_number(delivered)} of {format_number(installed)} PFLOPS on average; "
            if delivered is not None and installed is not None
            else ""
        ) + (
            f"limited by energy {formats.general(energy_h)} h and by heat "
            f"{formats.general(heat_h)} h per satellite"
        )
        share = formats.percent(fraction)
        return [
            HeadlineItem("Verdict", text, f"delivered {share} of installed", status, 0),
            HeadlineItem("Delivered compute", share, detail, status, 10),
        ]

    def render(self, run: RunFolder) -> SectionOutput:
        rows = [
            [name, *(figure_value(fig, key) for key in _TABLE_KEYS)]
            for name, fig in run.shells.items()
        ]
        table = table_html(
            [
                "shell",
                "installed (PFLOPS)",
                "delivered, mean (PFLOPS)",
                "delivered fraction",
                "energy-limited (h/satellite)",
                "heat-limited (h/satellite)",
                "energy to compute (MWh)",
            ],
            rows,
        )
        figures = []
        if run.has_variables("delivered_tflops"):
            fig = envelope_figure(
                "delivered-compute",
                "Delivered dense accelerator throughput",
                "delivered throughput (PFLOPS)",
                shell_envelopes(run, "delivered_tflops", statistic="total", factor=1e-3),
                reduction_note(run, "total") + " Dashed: installed throughput.",
                band_label="min–max in bucket",
            )
            fig.figure.update_yaxes(rangemode="tozero")
            for index, (name, shell) in enumerate(run.shells.items()):
                installed = figure_value(shell, "installed_compute_pflops")
                if installed is not None:
                    add_limit(fig.figure, installed, f"{name} installed {installed:.4g}", index)
            figures.append(fig)
        if run.has_variables("limit_code"):
            envelopes = {}
            for code, label in LIMIT_CODES:
                per_shell = shell_envelopes(
                    run,
                    "limit_code",
                    factor=100.0,
                    transform=lambda x, c=code: np.asarray(x) == c,
                    key=f"limit_code=={code}",
                )
                for shell, env in per_shell.items():
                    envelopes[f"{shell}: {label}" if len(per_shell) > 1 else label] = env
            limits_fig = envelope_figure(
                "compute-limits",
                "Satellites whose compute was limited",
                "satellites limited (% of shell)",
                {k: _line(v) for k, v in envelopes.items()},
                "Share of each shell's satellites whose compute was limited by energy (array "
                "output and battery floor) or by heat (radiator at its limit), %; bucket "
                "means in time.",
                y_range=(0.0, 101.0),
            )
            figures.append(limits_fig)
        return SectionOutput(html=table, figures=figures)


def _line(envelope: Envelope) -> Envelope:
    """Drop the band (min/max over satellites of a 0/1 flag says nothing)."""
    return Envelope(envelope.time, envelope.mean, envelope.mean, envelope.mean)
