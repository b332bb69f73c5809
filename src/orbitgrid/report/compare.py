"""Comparison report of several runs: a table of their headline figures and bar charts.

Only ``summary.json`` of each run is read (never the datasets), so comparing large runs is
fast. Rows: the run length and step, the verdict, the constellation figures of
``summary["total"]``, each priced shell's cost (``summary["economics"]``: orbit and Earth per
GPU-hour, their ratio, break-even launch price, lifecycle cost), the network's median RTT and
reachability (``summary["network"]``), each AI-service option's served share, p95 response
and cost per million tokens (``summary["workloads"]``) and each Earth-observation strategy's
delivered bytes, p95 capture-to-insight and ground stations needed
(``summary["observation"]``). A row that no run has is left out.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import plotly.graph_objects as go

from orbitgrid import __version__
from orbitgrid.csv_files import write_csv
from orbitgrid.errors import OrbitgridError
from orbitgrid.report import formats
from orbitgrid.report.figures import ReportFigure, color, figure_html, new_figure, table_html
from orbitgrid.report.page import Page, PageSection, render_page
from orbitgrid.report.runfolder import RunFolder, load_run, write_atomic
from orbitgrid.report.sections._common import figure_value
from orbitgrid.report.sections.economics import economics_by_shell

COMPARED_FIGURES: tuple[tuple[str, str, float], ...] = (
    ("satellites", "satellites", 1.0),
    ("delivered_compute_fraction", "delivered compute fraction (%)", 100.0),
    ("installed_compute_pflops", "installed compute (PFLOPS)", 1.0),
    ("delivered_compute_pflops_mean", "delivered compute, mean (PFLOPS)", 1.0),
    ("sunlit_fraction", "sunlit fraction (%)", 100.0),
    ("eclipse_minutes_per_orbit", "eclipse (min/orbit)", 1.0),
    ("state_of_charge_min", "battery state of charge, minimum (%)", 100.0),
    ("temperature_max_c", "temperature, maximum (°C)", 1.0),
    ("hours_limited_by_energy_per_satellite", "energy-limited (h/satellite)", 1.0),
    ("hours_limited_by_heat_per_satellite", "heat-limited (h/satellite)", 1.0),
    ("energy_generated_mwh", "energy generated (MWh)", 1.0),
)
"""``summary["total"]`` keys compared, with their labels (unit included) and scale factors."""

ECONOMICS_FIGURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("orbital", "cost_per_gpu_hour_usd"), "orbit: USD per delivered GPU-hour"),
    (("terrestrial", "cost_per_gpu_hour_usd"), "Earth: USD per delivered GPU-hour"),
    (("cost_ratio",), "orbit over Earth per GPU-hour (×)"),
    (("break_even_launch_cost_usd_per_kg",), "break-even launch price (USD/kg)"),
    (("orbital", "lifecycle_cost_usd"), "orbit: lifecycle cost (USD)"),
)
"""Economics figures compared per priced shell: (path in the shell's dict, label with unit)."""

NETWORK_FIGURES: tuple[tuple[str, str, float], ...] = (
    ("rtt_median_ms", "network: median RTT, all pairs (ms)", 1.0),
    ("reachability", "network: reachability (%)", 100.0),
)
"""``summary["network"]`` keys compared, with labels and scale factors."""

WORKLOAD_FIGURES: tuple[tuple[str, str, float], ...] = (
    ("served_fraction", "served (%)", 100.0),
    ("response_p95_s", "response p95 (s)", 1.0),
    ("cost_per_million_output_tokens_usd", "USD per million output tokens", 1.0),
)
"""Per AI-service option (``summary["workloads"]["options"]``): keys, labels, scales."""

OBSERVATION_FIGURES: tuple[tuple[str, str, float], ...] = (
    ("delivered_bytes", "delivered (GB)", 1e-9),
    ("capture_to_insight_p95_s", "capture to insight p95 (min)", 1.0 / 60.0),
)
"""Per Earth-observation strategy (``summary["observation"]["strategies"]``)."""

CHARTED = (
    "delivered_compute_fraction",
    "delivered_compute_pflops_mean",
    "state_of_charge_min",
    "temperature_max_c",
)
"""Figures drawn as bar charts (the rest are in the table)."""


def _label(run: RunFolder, seen: dict[str, int]) -> str:
    name = run.name
    seen[name] = seen.get(name, 0) + 1
    return name if seen[name] == 1 else f"{name} ({run.path.name})"


Row = tuple[str, list[object]]


def _rows(runs: list[RunFolder]) -> list[Row]:
    """The comparison table: one row per figure some run has (see the module docstring)."""
    rows: list[Row] = [
        ("duration", [formats.duration(_time(run, "duration_s")) for run in runs]),
        ("time step (s)", [_time(run, "step_s") for run in runs]),
        ("verdict", [run.total.get("verdict") for run in runs]),
    ]
    for key, label, scale in COMPARED_FIGURES:
        values = []
        for run in runs:
            value = figure_value(run.total, key)
            if value is None and key == "satellites":
                value = figure_value(run.summary, key)
            values.append(None if value is None else value * scale)
        rows.append((label, values))
    priced = [economics_by_shell(run.summary) for run in runs]
    shells = list(dict.fromkeys(name for entries in priced for name in entries))
    for shell in shells:
        suffix = f", shell {shell}" if len(shells) > 1 and shell else ""
        for path, label in ECONOMICS_FIGURES:
            rows.append((label + suffix, [_economics_value(e.get(shell), path) for e in priced]))
    for key, label, scale in NETWORK_FIGURES:
        values = []
        for run in runs:
            value = figure_value(run.summary.get("network") or {}, key)
            values.append(None if value is None else value * scale)
        rows.append((label, values))
    rows += _per_name_rows(runs, ("workloads", "options"), "AI service", WORKLOAD_FIGURES)
    rows += _per_name_rows(runs, ("observation", "strategies"), "EO", OBSERVATION_FIGURES)
    needed = [((run.summary.get("observation") or {}).get("stations_needed") or {}) for run in runs]
    for strategy in dict.fromkeys(k for n in needed for k in (n.get("needed") or {})):
        rows.append(
            (
                f"EO {strategy}: ground stations needed",
                [(n.get("needed") or {}).get(strategy) for n in needed],
            )
        )
    return [(label, values) for label, values in rows if any(v is not None for v in values)]


def _per_name_rows(
    runs: list[RunFolder],
    path: tuple[str, str],
    prefix: str,
    figures: tuple[tuple[str, str, float], ...],
) -> list[Row]:
    """Rows of figures kept per named entry (an AI-service option, an EO strategy): one row
    per (name, figure), names in the order the runs first give them."""
    section, key = path
    entries = [((run.summary.get(section) or {}).get(key) or {}) for run in runs]
    rows: list[Row] = []
    for name in dict.fromkeys(n for entry in entries for n in entry):
        for figure, label, scale in figures:
            values = []
            for entry in entries:
                value = figure_value(entry.get(name) or {}, figure)
                values.append(None if value is None else value * scale)
            rows.append((f"{prefix} {name}: {label}", values))
    return rows


def _time(run: RunFolder, key: str) -> float | None:
    return figure_value(run.summary.get("time") or {}, key)


def _economics_value(entry: dict | None, path: tuple[str, ...]) -> float | None:
    for key in path[:-1]:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return figure_value(entry, path[-1]) if isinstance(entry, dict) else None


def compare_runs(run_dirs: list[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write an HTML report comparing the summaries of several runs, and its table as CSV
    beside it (same name, ``.csv``: a row per figure, a column per run); return the HTML path.

    Parameters
    ----------
    run_dirs : list of paths
        Run folders (at least one; two or more to compare).
    out : path
        The HTML file to write (a directory means ``<out>/compare.html``).

    Raises
    ------
    OrbitgridError
        No run given, or one of them is not a run folder.
    """
    if not run_dirs:
        raise OrbitgridError("compare needs at least one run folder (two or more to compare)")
    runs = [load_run(d) for d in run_dirs]
    seen: dict[str, int] = {}
    labels = [_label(run, seen) for run in runs]
    rows = _rows(runs)
    table = table_html(["figure", *labels], [[label, *values] for label, values in rows])

    figures: list[ReportFigure] = []
    by_label = {label: values for label, values in rows}
    for key, label, _ in COMPARED_FIGURES:
        if key not in CHARTED or label not in by_label:
            continue
        fig = new_figure(label[0].upper() + label[1:], "run", label)
        fig.add_trace(
            go.Bar(
                x=labels,
                y=by_label[label],
                marker={"color": [color(i) for i in range(len(labels))]},
                hovertemplate="%{x}: %{y:,.4g}<extra></extra>",
                showlegend=False,
            )
        )
        fig.update_layout(hovermode="closest", height=360)
        figures.append(ReportFigure(key, fig, f"{label} of each run (summary.json total)."))
    cost_labels = [label for _, label in ECONOMICS_FIGURES[:2] if label in by_label]
    if cost_labels:
        fig = new_figure("Cost per delivered GPU-hour", "run", "USD per delivered GPU-hour")
        for index, label in enumerate(cost_labels):
            fig.add_trace(
                go.Bar(
                    x=labels, y=by_label[label], name=label.split(":")[0], marker_color=color(index)
                )
            )
        fig.update_layout(barmode="group", hovermode="closest", height=360)
        figures.append(ReportFigure("cost", fig, "Levelised cost per delivered GPU-hour, USD."))

    body = [table]
    for fig in figures:
        div = figure_html(fig.figure, f"fig-compare-{fig.name}")
        body.append(f"<figure>{div}<figcaption>{html.escape(fig.caption)}</figcaption></figure>")
    listing = "".join(
        f"<li>{html.escape(label)}: {html.escape(str(run.path))}</li>"
        for label, run in zip(labels, runs, strict=True)
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(
        title=f"orbitgrid comparison of {len(runs)} run{'s' if len(runs) != 1 else ''}",
        subtitle=html.escape(", ".join(labels)),
        cards=f"<ul>{listing}</ul>",
        sections=[PageSection("comparison", "Headline figures", "\n".join(body))],
        footer=f"orbitgrid {html.escape(__version__)} · written {stamp}",
    )
    target = Path(out)
    if target.is_dir():
        target = target / "compare.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, render_page(page, include_geo=False))
    # The same table for pandas, DuckDB or a spreadsheet: a row per figure, a column per run.
    write_csv(
        target.with_suffix(".csv"),
        [{"figure": label, **dict(zip(labels, values, strict=True))} for label, values in rows],
        ["figure", *labels],
    )
    return target
