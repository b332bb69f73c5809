"""The sensitivity report of a sweep: tornado charts and Sobol' indices, one HTML file.

Reads the tables ``orbitgrid sweep`` leaves in its folder (``tornado.csv``: one-at-a-time
low/high swings; ``sobol.csv``: first-order S1 and total ST indices with their confidence
half-widths, from SALib) and draws, for every recorded output, the parameters ordered by how
much they move it. The page opens with one sentence per output naming the inputs that drive
it (``orbitgrid.sweep.explain``, the same words ``orbitgrid sweep`` prints); axes and
categories name figures in words with their units; an output without indices or swings (NaN)
gets a sentence saying why instead of an empty chart. Works offline like the run report
(plotly.js embedded once).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from orbitgrid import __version__
from orbitgrid.errors import OrbitgridError
from orbitgrid.report.figures import color, figure_html, new_figure
from orbitgrid.report.page import Page, PageSection, render_page
from orbitgrid.report.runfolder import write_atomic
from orbitgrid.sweep import explain


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=True)
    return table if not table.empty else None


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _range_label(row) -> str:
    """A tornado category: the parameter in words and the span it was moved over."""
    unit = explain.parameter_unit(row.parameter, row.unit if isinstance(row.unit, str) else "")
    span = (
        f"{explain.format_value(_number(row.low_value))}–"
        f"{explain.format_value(_number(row.high_value))}"
    )
    return f"{explain.parameter_label(row.parameter, with_unit=False)} {span} {unit}".rstrip()


def _tornado_figures(table: pd.DataFrame) -> list[str]:
    parts = []
    for index, (output, items) in enumerate(table.groupby("output", sort=False)):
        label = explain.output_label(output)
        swing = items["swing"].map(_number)
        finite = explain.finite_mask(swing)
        usable = items[finite].assign(abs_swing=swing[finite].abs())
        blank = items[~finite]
        if usable.empty:
            # An empty chart would say nothing; say why there is none instead.
            parts.append(
                f'<p class="note"><strong>{html.escape(label)}</strong>: no tornado chart: '
                f"{html.escape(explain.tornado_reason(items.iloc[0]))}.</p>"
            )
            continue
        usable = usable.sort_values("abs_swing")
        base = _number(usable["base_output"].iloc[0])
        fig = new_figure(f"Tornado: {label}", label, "parameter (low–high)")
        names = [_range_label(r) for r in usable.itertuples()]
        for shade, (side, key, value) in enumerate(
            (("low", "output_at_low", "low_value"), ("high", "output_at_high", "high_value"))
        ):
            fig.add_trace(
                go.Bar(
                    y=names,
                    x=[_number(v) - base for v in usable[key]],
                    base=base,
                    orientation="h",
                    name=f"parameter at its {side}",
                    marker_color=color(shade),
                    customdata=list(zip(usable["parameter"], usable[value], strict=True)),
                    hovertemplate="%{customdata[0]} = %{customdata[1]}: %{x:+.4g}<extra></extra>",
                )
            )
        fig.update_layout(
            barmode="overlay", height=max(320, 60 + 42 * len(usable)), hovermode="closest"
        )
        fig.update_xaxes(title_text=f"{label}, base {explain.format_value(base)}")
        note = ""
        if not blank.empty:
            missing = ", ".join(
                f"{explain.parameter_label(r.parameter, with_unit=False)} "
                f"({explain.tornado_reason(r._asdict())})"
                for r in blank.itertuples()
            )
            note = f" Not drawn, no swing: {html.escape(missing)}."
        parts.append(
            f"<figure>{figure_html(fig, f'fig-tornado-{index}')}<figcaption>One parameter at a "
            "time at its low and high value, the others at the base scenario; bars show the "
            f"change of the output ({html.escape(output)}) from its base value.{note}"
            "</figcaption></figure>"
        )
    return parts


def _sobol_figures(table: pd.DataFrame) -> list[str]:
    parts = []
    for index, (output, items) in enumerate(table.groupby("output", sort=False)):
        label = explain.output_label(output)
        st = items["ST"].map(_number)
        if not explain.finite_mask(st).any():
            note = ""
            if "note" in items:
                notes = [n for n in items["note"] if isinstance(n, str) and n]
                note = notes[0] if notes else ""
            parts.append(
                f'<p class="note"><strong>{html.escape(label)}</strong>: no Sobol\' indices: '
                f"{html.escape(note or 'the table holds NaN for this output')}.</p>"
            )
            continue
        items = items.assign(rank=st).sort_values("rank", ascending=False)
        units = items["unit"] if "unit" in items else [""] * len(items)
        names = [
            explain.parameter_label(p, u if isinstance(u, str) else "")
            for p, u in zip(items["parameter"], units, strict=True)
        ]
        fig = new_figure(f"Sobol' indices: {label}", "parameter", "share of output variance (0–1)")
        for shade, (key, name) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=[_number(v) for v in items[key]],
                    error_y={"type": "data", "array": [_number(v) for v in items[f"{key}_conf"]]},
                    name=name,
                    marker_color=color(shade),
                    customdata=list(items["parameter"]),
                    hovertemplate="%{customdata}: %{y:.3f}<extra></extra>",
                )
            )
        fig.update_layout(barmode="group", height=380, hovermode="closest")
        samples = str(items["samples"].iloc[0]) if "samples" in items else "?"
        parts.append(
            f"<figure>{figure_html(fig, f'fig-sobol-{index}')}<figcaption>Sobol' indices of "
            f"{html.escape(output)} (SALib, {html.escape(samples)} design points) with 95 % "
            "confidence half-widths: S1 is the share of the variance a parameter explains "
            "alone, ST with all its interactions.</figcaption></figure>"
        )
    return parts


def _summary_html(sobol: pd.DataFrame | None, tornado: pd.DataFrame | None) -> str:
    """The opening: one sentence per output naming the inputs that drive it."""
    found = explain.drivers(sobol, tornado)
    items = "".join(f"<li>{html.escape(d.sentence())}</li>" for d in found)
    how = (
        "Ranked by the Sobol' total index ST (the share of an output's variance an input "
        "explains, interactions included) where the sweep has one, else by the one-at-a-time "
        f"tornado swing; inputs below {explain.DRIVER_SHARE:.0%} of the variance (or of the "
        "largest swing) are not named."
    )
    return f'<ul class="drivers">{items}</ul><p class="note">{html.escape(how)}</p>'


def build_sweep_report(
    sweep_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
):
    """Write ``sweep_report.html`` (tornado and Sobol' charts) for a sweep folder; return it.

    Raises ``OrbitgridError`` when the folder has neither ``tornado.csv`` nor ``sobol.csv``.
    """
    folder = Path(sweep_dir)
    tornado = _read(folder / "tornado.csv")
    sobol = _read(folder / "sobol.csv")
    if tornado is None and sobol is None:
        raise OrbitgridError(
            f"{folder} has no tornado.csv or sobol.csv: sensitivity tables come from a sweep "
            "with 'tornado: true' or design 'saltelli'"
        )
    sections = []
    if tornado is not None:
        sections.append(
            PageSection("tornado", "One at a time", "\n".join(_tornado_figures(tornado)))
        )
    if sobol is not None:
        sections.append(PageSection("sobol", "Sobol' indices", "\n".join(_sobol_figures(sobol))))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(
        title=f"orbitgrid sweep sensitivity: {folder.name}",
        subtitle=html.escape(str(folder)),
        cards=_summary_html(sobol, tornado),
        sections=sections,
        footer=f"orbitgrid {html.escape(__version__)} · written {stamp}",
    )
    target = Path(out) if out is not None else folder / "sweep_report.html"
    write_atomic(target, render_page(page, include_geo=False))
    return target
