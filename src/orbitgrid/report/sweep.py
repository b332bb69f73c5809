"""The sensitivity report of a sweep: tornado charts and Sobol' indices, one HTML file.

Reads the tables ``orbitgrid sweep`` leaves in its folder (``tornado.csv``: one-at-a-time
low/high swings; ``sobol.csv``: first-order S1 and total ST indices with their confidence
half-widths, from SALib) and draws, for every recorded output, the parameters ordered by how
much they move it. Works offline like the run report (plotly.js embedded once).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import math
import os
from collections import defaultdict
from pathlib import Path

import plotly.graph_objects as go

from orbitgrid import __version__
from orbitgrid.errors import OrbitgridError
from orbitgrid.report.figures import color, figure_html, new_figure
from orbitgrid.report.page import Page, PageSection, render_page
from orbitgrid.report.runfolder import write_atomic


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _tornado_figures(rows: list[dict[str, str]]) -> list[str]:
    by_output: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_output[row["output"]].append(row)
    parts = []
    for index, (output, items) in enumerate(by_output.items()):
        usable = [r for r in items if math.isfinite(_number(r["swing"]))]
        if not usable:
            continue
        usable.sort(key=lambda r: abs(_number(r["swing"])))
        base = _number(usable[0]["base_output"])
        fig = new_figure(f"Tornado: {output}", output, "parameter")
        names = [r["parameter"] for r in usable]
        for label, key, shade in (("at low", "output_at_low", 0), ("at high", "output_at_high", 1)):
            fig.add_trace(
                go.Bar(
                    y=names,
                    x=[_number(r[key]) - base for r in usable],
                    base=base,
                    orientation="h",
                    name=f"parameter {label}",
                    marker_color=color(shade),
                    customdata=[r["low_value" if shade == 0 else "high_value"] for r in usable],
                    hovertemplate="%{y} = %{customdata}: %{x:+.4g}<extra></extra>",
                )
            )
        fig.update_layout(
            barmode="overlay", height=max(320, 60 + 42 * len(usable)), hovermode="closest"
        )
        fig.update_xaxes(title_text=f"{output} (base {base:.4g})")
        parts.append(
            f"<figure>{figure_html(fig, f'fig-tornado-{index}')}<figcaption>One parameter at a "
            "time at its low and high value, the others at the base scenario; bars show the "
            "change of the output from its base value.</figcaption></figure>"
        )
    return parts


def _sobol_figures(rows: list[dict[str, str]]) -> list[str]:
    by_output: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_output[row["output"]].append(row)
    parts = []
    for index, (output, items) in enumerate(by_output.items()):
        items = sorted(items, key=lambda r: -_number(r["ST"]))
        fig = new_figure(f"Sobol' indices: {output}", "parameter", "share of output variance")
        names = [r["parameter"] for r in items]
        for shade, (key, label) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=[_number(r[key]) for r in items],
                    error_y={"type": "data", "array": [_number(r[f"{key}_conf"]) for r in items]},
                    name=label,
                    marker_color=color(shade),
                )
            )
        fig.update_layout(barmode="group", height=380, hovermode="closest")
        samples = items[0].get("samples", "?")
        parts.append(
            f"<figure>{figure_html(fig, f'fig-sobol-{index}')}<figcaption>Sobol' indices "
            f"(SALib, {html.escape(samples)} base samples) with 95 % confidence half-widths: "
            "S1 is the share of the variance a parameter explains alone, ST with all its "
            "interactions.</figcaption></figure>"
        )
    return parts


def build_sweep_report(
    sweep_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
):
    """Write ``sweep_report.html`` (tornado and Sobol' charts) for a sweep folder; return it.

    Raises ``OrbitgridError`` when the folder has neither ``tornado.csv`` nor ``sobol.csv``.
    """
    folder = Path(sweep_dir)
    tornado = _read(folder / "tornado.csv")
    sobol = _read(folder / "sobol.csv")
    if not tornado and not sobol:
        raise OrbitgridError(
            f"{folder} has no tornado.csv or sobol.csv: sensitivity tables come from a sweep "
            "with 'tornado: true' or design 'saltelli'"
        )
    sections = []
    if tornado:
        sections.append(
            PageSection("tornado", "One at a time", "\n".join(_tornado_figures(tornado)))
        )
    if sobol:
        sections.append(PageSection("sobol", "Sobol' indices", "\n".join(_sobol_figures(sobol))))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(
        title=f"orbitgrid sweep sensitivity: {folder.name}",
        subtitle=html.escape(str(folder)),
        sections=sections,
        footer=f"orbitgrid {html.escape(__version__)} · written {stamp}",
    )
    target = Path(out) if out is not None else folder / "sweep_report.html"
    write_atomic(target, render_page(page, include_geo=False))
    return target
