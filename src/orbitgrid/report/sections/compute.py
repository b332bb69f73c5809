"""Delivered compute: throughput over time against installed, and what limited it."""

from __future__ import annotations

import numpy as np

from orbitgrid.report.decimate import Envelope
from orbitgrid.report.figures import add_limit, format_number, table_html
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput
from orbitgrid.report.sections._common import (
    envelope_figure,
    figure_value,
    reduction_note,
    shell_envelopes,
)

FEASIBLE_FRACTION = 0.99
"""Delivered over installed compute at or above which a design counts as meeting its capacity."""

MARGINAL_FRACTION = 0.90
"""Below this delivered fraction the design is reported as not meeting its capacity."""

LIMIT_CODES: tuple[tuple[int, str], ...] = ((1, "energy"), (2, "heat"))
"""``limit_code`` values drawn in the limits figure (0 = ran at installed power)."""


def verdict(fraction: float | None, failed_steps: float | None) -> tuple[str, str]:
    """The headline answer: (text, status) from the delivered compute fraction.

    ≥ 99 % of installed compute delivered → feasible; ≥ 90 % → marginal; below → not feasible
    as designed. Failed propagation steps always downgrade to at most marginal.
    """
    if fraction is None:
        return "no compute result", "info"
    if fraction >= FEASIBLE_FRACTION and not failed_steps:
        return "Feasible: delivers its installed compute", "good"
    if fraction >= MARGINAL_FRACTION:
        return "Marginal: compute is limited part of the time", "warn"
    return "Not feasible as designed: compute is limited", "bad"


class ComputeSection:
    """Delivered PFLOPS per shell against installed, and the fraction of satellites limited."""

    key = "compute"
    title = "Delivered compute"

    def applies(self, run: RunFolder) -> bool:
        return run.has_variables("delivered_tflops") or "delivered_compute_fraction" in run.total

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        total = run.total
        fraction = figure_value(total, "delivered_compute_fraction")
        if fraction is None:
            return []
        text, status = verdict(fraction, figure_value(total, "satellite_steps_failed"))
        installed = figure_value(total, "installed_compute_pflops")
        delivered = figure_value(total, "delivered_compute_pflops_mean")
        energy_h = figure_value(total, "hours_limited_by_energy_per_satellite") or 0.0
        heat_h = figure_value(total, "hours_limited_by_heat_per_satellite") or 0.0
        detail = (
            f"{format_number(delivered)} of {format_number(installed)} PFLOPS on average; "
            if delivered is not None and installed is not None
            else ""
        ) + f"limited by energy {energy_h:.3g} h and by heat {heat_h:.3g} h per satellite"
        return [
            HeadlineItem("Verdict", text, f"delivered {fraction:.1%} of installed", status, 0),
            HeadlineItem("Delivered compute", f"{fraction:.1%}", detail, status, 10),
        ]

    def render(self, run: RunFolder) -> SectionOutput:
        rows = []
        for name, fig in run.shells.items():
            rows.append(
                [
                    name,
                    figure_value(fig, "installed_compute_pflops"),
                    figure_value(fig, "delivered_compute_pflops_mean"),
                    figure_value(fig, "delivered_compute_fraction"),
                    figure_value(fig, "hours_limited_by_energy_per_satellite"),
                    figure_value(fig, "hours_limited_by_heat_per_satellite"),
                    figure_value(fig, "energy_to_compute_mwh"),
                ]
            )
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
