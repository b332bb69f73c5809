"""Economics: cost waterfalls, orbit against Earth per delivered GPU-hour, mass breakdown.

Reads ``summary["economics"]`` in the form of ``EconomicsResult.to_dict()``
(``orbitgrid.economics.results``). For a sweep (list-valued figures) the first design point is
shown.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from orbitgrid.report.figures import (
    FIGURE_HEIGHT_PX,
    ReportFigure,
    color,
    new_figure,
    report_template,
    table_html,
)
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput
from orbitgrid.report.sections._common import figure_value

OPTIONS: tuple[tuple[str, str], ...] = (("orbital", "orbit"), ("terrestrial", "Earth"))
"""Keys of the two options in the economics dict, with their short labels."""


def _economics(run: RunFolder) -> dict[str, Any]:
    econ = run.summary.get("economics")
    return econ if isinstance(econ, dict) else {}


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

    def applies(self, run: RunFolder) -> bool:
        econ = _economics(run)
        return all(isinstance(econ.get(k), dict) for k, _ in OPTIONS)

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        econ = _economics(run)
        orbit = figure_value(econ["orbital"], "cost_per_gpu_hour_usd")
        earth = figure_value(econ["terrestrial"], "cost_per_gpu_hour_usd")
        ratio = figure_value(econ, "cost_ratio")
        break_even = figure_value(econ, "break_even_launch_cost_usd_per_kg")
        value = f"{_usd(orbit)} vs {_usd(earth)}"
        detail = f"orbit vs Earth per delivered GPU-hour; ratio {ratio:.3g}" if ratio else ""
        status = "info" if ratio is None else ("good" if ratio <= 1.0 else "warn")
        items = [HeadlineItem("Cost per GPU-hour", value, detail, status, 20)]
        be_text = _usd(break_even) + "/kg" if break_even is not None else "none"
        items.append(
            HeadlineItem(
                "Break-even launch price",
                be_text,
                "initial launch price at which orbit matches Earth per GPU-hour"
                if break_even is not None
                else "even free launch does not break even",
                "info",
                25,
            )
        )
        return items

    def render(self, run: RunFolder) -> SectionOutput:
        econ = _economics(run)
        rows = []
        metrics = (
            ("lifecycle_cost_usd", "lifecycle cost, present value (M USD)", 1e-6),
            ("capex_usd", "capital cost (M USD)", 1e-6),
            ("delivered_fraction", "delivered compute fraction", 1.0),
            ("delivered_gpu_hours", "delivered GPU-hours (millions)", 1e-6),
            ("cost_per_gpu_hour_usd", "USD per delivered GPU-hour", 1.0),
            ("cost_per_pflop_day_usd", "USD per delivered PFLOP-day", 1.0),
            ("cost_per_million_tokens_usd", "USD per million tokens", 1.0),
        )
        for key, label, scale in metrics:
            row: list[object] = [label]
            for option, _ in OPTIONS:
                value = figure_value(econ[option], key)
                row.append(None if value is None else value * scale)
            rows.append(row)
        text = table_html(["figure", "orbit", "Earth"], rows)
        if econ.get("tokens_model"):
            text += f'<p class="note">Tokens model: {html.escape(str(econ["tokens_model"]))}</p>'
        figures = [self._waterfalls(econ), self._unit_costs(econ)]
        mass = econ.get("mass_per_satellite_kg")
        if isinstance(mass, dict):
            figures.append(self._mass(mass))
        return SectionOutput(html=text, figures=figures)

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
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.3g}" if abs(value) < 1 else f"${value:,.2f}"
