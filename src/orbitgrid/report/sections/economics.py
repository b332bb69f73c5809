"""Economics: cost waterfalls, orbit against Earth per delivered GPU-hour, mass breakdown.

Reads ``summary["economics"]`` as the run writes it: ``{"mission_years": N, "shells": {shell:
EconomicsResult.to_dict()}}`` (``orbitgrid.economics.stage``), one entry per shell with
accelerators. A bare ``EconomicsResult.to_dict()`` (no ``shells`` level) is read as one unnamed
shell. For a sweep (list-valued figures) the first design point is shown.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from orbitgrid.economics.results import attribution_note
from orbitgrid.report import formats
from orbitgrid.report.figures import (
    FIGURE_HEIGHT_PX,
    ReportFigure,
    color,
    format_number,
    new_figure,
    report_template,
    table_html,
)
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown
from orbitgrid.report.sections._common import figure_value

OPTIONS: tuple[tuple[str, str], ...] = (("orbital", "orbit"), ("terrestrial", "Earth"))
"""Keys of the two options in the economics dict, with their short labels."""


TABLE_METRICS: tuple[tuple[str, str, float], ...] = (
    ("lifecycle_cost_usd", "lifecycle cost, present value (M USD)", 1e-6),
    ("capex_usd", "capital cost (M USD)", 1e-6),
    ("delivered_fraction", "delivered compute fraction", 1.0),
    ("delivered_gpu_hours", "delivered GPU-hours (millions)", 1e-6),
    ("cost_per_gpu_hour_usd", "USD per delivered GPU-hour", 1.0),
    ("cost_per_pflop_day_usd", "USD per delivered PFLOP-day", 1.0),
    ("cost_per_million_tokens_usd", "USD per million tokens", 1.0),
)
"""Rows of each shell's table: (key in the option's dict, label with unit, scale)."""


def _scaled(scale: float) -> Callable[[Any], str]:
    return lambda value: format_number(value * scale)


def economics_by_shell(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each priced shell's ``EconomicsResult.to_dict()``, by shell name (see the module)."""
    econ = summary.get("economics")
    if not isinstance(econ, dict):
        return {}
    shells = econ.get("shells") if isinstance(econ.get("shells"), dict) else {"": econ}
    return {
        str(name): entry
        for name, entry in shells.items()
        if isinstance(entry, dict) and all(isinstance(entry.get(k), dict) for k, _ in OPTIONS)
    }


def cost_headline(entry: dict[str, Any]) -> tuple[str, str]:
    """("$17.38 vs $2.45", "orbit vs Earth per delivered GPU-hour; orbit costs 7.1× Earth"):
    the cost answer of one shell, as the report headline and the CLI write it."""
    orbit = figure_value(entry["orbital"], "cost_per_gpu_hour_usd")
    earth = figure_value(entry["terrestrial"], "cost_per_gpu_hour_usd")
    ratio = figure_value(entry, "cost_ratio")
    detail = "orbit vs Earth per delivered GPU-hour"
    if ratio is not None:
        detail += f"; orbit costs {formats.ratio(ratio)} Earth"
    return f"{formats.usd(orbit)} vs {formats.usd(earth)}", detail


def _waterfall(entry: dict[str, Any]) -> list[tuple[str, float]]:
    items = []
    for item in entry.get("waterfall_usd") or []:
        if isinstance(item, list | tuple) and len(item) == 2:
            value = figure_value({"v": item[1]}, "v")
            if value is not None:
                items.append((str(item[0]).replace("_", " "), value))
    return items


class EconomicsSection:
    """Lifecycle cost waterfalls and unit costs, orbit against a terrestrial data centre."""

    key = "economics"
    title = "Economics"
    shows = (
        Shown("economics.shells.*.orbital.cost_per_gpu_hour_usd", formats.usd),
        Shown("economics.shells.*.terrestrial.cost_per_gpu_hour_usd", formats.usd),
        Shown("economics.shells.*.cost_ratio", formats.ratio),
        Shown("economics.shells.*.break_even_launch_cost_usd_per_kg", formats.usd),
        *(
            Shown(f"economics.shells.*.{option}.{key}", _scaled(scale), "section")
            for key, _, scale in TABLE_METRICS
            for option, _ in OPTIONS
        ),
    )

    def applies(self, run: RunFolder) -> bool:
        return bool(economics_by_shell(run.summary))

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        items = []
        shells = economics_by_shell(run.summary)
        for name, entry in shells.items():
            suffix = f", {name}" if len(shells) > 1 and name else ""
            value, detail = cost_headline(entry)
            ratio = figure_value(entry, "cost_ratio")
            status = "info" if ratio is None else ("good" if ratio <= 1.0 else "warn")
            items.append(HeadlineItem(f"Cost per GPU-hour{suffix}", value, detail, status, 20))
            break_even = figure_value(entry, "break_even_launch_cost_usd_per_kg")
            items.append(
                HeadlineItem(
                    f"Break-even launch price{suffix}",
                    formats.usd(break_even) + "/kg" if break_even is not None else "none",
                    "initial launch price at which orbit matches Earth per GPU-hour"
                    if break_even is not None
                    else "even free launch does not break even",
                    "info",
                    25,
                )
            )
        return items

    def render(self, run: RunFolder) -> SectionOutput:
        shells = economics_by_shell(run.summary)
        econ = run.summary.get("economics") or {}
        years = figure_value(econ, "mission_years")
        parts = []
        if years is not None:
            parts.append(
                f'<p class="note">Cost of ownership over {years:g} years of mission, present '
                "values; orbit counts only the compute this run delivered.</p>"
            )
        figures = []
        for name, entry in shells.items():
            tag = f"-{_slug(name)}" if len(shells) > 1 and name else ""
            if len(shells) > 1 and name:
                parts.append(f"<h3>Shell {html.escape(name)}</h3>")
            rows = [
                [label, *(_value(entry[option], key, scale) for option, _ in OPTIONS)]
                for key, label, scale in TABLE_METRICS
            ]
            parts.append(table_html(["figure", "orbit", "Earth"], rows))
            if entry.get("tokens_model"):
                model = html.escape(str(entry["tokens_model"]))
                parts.append(f'<p class="note">Tokens model: {model}</p>')
            caution = attribution_note(name or "this shell", entry)
            if caution:
                parts.append(f'<p class="note">{html.escape(caution)}.</p>')
            for figure in (self._waterfalls(entry), self._unit_costs(entry)):
                figures.append(_tagged(figure, tag, name))
            mass = entry.get("mass_per_satellite_kg")
            if isinstance(mass, dict):
                figures.append(_tagged(self._mass(mass), tag, name))
        return SectionOutput(html="\n".join(parts), figures=figures)

    def _waterfalls(self, econ: dict[str, Any]) -> ReportFigure:
        fig = make_subplots(
            rows=1,
            cols=2,
            shared_yaxes=True,
            subplot_titles=[f"{label}: lifecycle cost" for _, label in OPTIONS],
            horizontal_spacing=0.04,
        )
        for col, (option, label) in enumerate(OPTIONS, start=1):
            items = _waterfall(econ[option])
            names = [name for name, _ in items] + ["total"]
            values = [usd / 1e6 for _, usd in items] + [0.0]
            fig.add_trace(
                go.Waterfall(
                    x=names,
                    y=values,
                    measure=["relative"] * len(items) + ["total"],
                    name=label,
                    connector={"line": {"color": "#bbb"}},
                    increasing={"marker": {"color": color(col - 1)}},
                    totals={"marker": {"color": "#444"}},
                    hovertemplate="%{x}: %{y:,.1f} M USD<extra></extra>",
                ),
                row=1,
                col=col,
            )
            fig.update_xaxes(title_text="cost item", row=1, col=col)
        fig.update_yaxes(title_text="present-value cost (M USD)", row=1, col=1)
        fig.update_layout(
            title={"text": "Cost waterfalls, orbit and Earth", "x": 0.01, "xanchor": "left"},
            template=report_template(),
            height=FIGURE_HEIGHT_PX + 40,
            showlegend=False,
            margin={"l": 70, "r": 20, "t": 70, "b": 90},
        )
        caption = (
            "Present value of each cost item over the mission (M USD, discounted at the "
            "scenario's rate); the bars add up to the lifecycle cost (dark)."
        )
        return ReportFigure("cost-waterfall", fig, caption)

    def _unit_costs(self, econ: dict[str, Any]) -> ReportFigure:
        units = (
            ("cost_per_gpu_hour_usd", "per GPU-hour (USD)"),
            ("cost_per_million_tokens_usd", "per million tokens (USD)"),
        )
        fig = make_subplots(
            rows=1, cols=len(units), subplot_titles=[t for _, t in units], horizontal_spacing=0.12
        )
        for col, (key, title) in enumerate(units, start=1):
            labels = [label for _, label in OPTIONS]
            values = [figure_value(econ[option], key) for option, _ in OPTIONS]
            fig.add_trace(
                go.Bar(
                    x=labels,
                    y=values,
                    marker={"color": [color(0), color(1)]},
                    text=[_usd(v) for v in values],
                    textposition="outside",
                    hovertemplate="%{x}: %{y:,.4g} USD<extra></extra>",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            fig.update_yaxes(title_text=f"levelised cost {title}", row=1, col=col)
            fig.update_xaxes(title_text="option", row=1, col=col)
        fig.update_layout(
            title={"text": "Levelised cost of delivered compute", "x": 0.01, "xanchor": "left"},
            template=report_template(),
            height=FIGURE_HEIGHT_PX,
            margin={"l": 70, "r": 20, "t": 70, "b": 55},
        )
        caption = (
            "Present-value lifecycle cost over present-value delivered output (USD); orbit "
            "counts only the compute the simulation delivered."
        )
        return ReportFigure("unit-costs", fig, caption)

    def _mass(self, mass: dict[str, Any]) -> ReportFigure:
        parts = {
            k.replace("_", " "): v
            for k, v in ((k, figure_value(mass, k)) for k in mass if k not in ("dry", "wet"))
            if v is not None
        }
        fig = new_figure("Mass per satellite", "subsystem", "mass (kg)")
        fig.add_trace(
            go.Bar(
                x=list(parts),
                y=list(parts.values()),
                marker={"color": color(0)},
                hovertemplate="%{x}: %{y:,.0f} kg<extra></extra>",
                showlegend=False,
            )
        )
        fig.update_layout(hovermode="closest")
        wet = figure_value(mass, "wet")
        dry = figure_value(mass, "dry")
        caption = "Mass build-up of one satellite by subsystem, kg" + (
            f"; dry {dry:,.0f} kg, wet {wet:,.0f} kg." if dry and wet else "."
        )
        return ReportFigure("mass", fig, caption)


def _usd(value: float | None) -> str:
    return formats.usd(value)


def _value(entry: dict[str, Any], key: str, scale: float) -> float | None:
    value = figure_value(entry, key)
    return None if value is None else value * scale


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _tagged(figure: ReportFigure, tag: str, shell: str) -> ReportFigure:
    """The figure named for its shell (when the run prices several shells)."""
    if not tag:
        return figure
    title = figure.figure.layout.title.text
    figure.figure.update_layout(title={"text": f"{title} — shell {shell}"})
    return ReportFigure(figure.name + tag, figure.figure, figure.caption)
