"""Plotly figure helpers shared by the report sections: layout, envelopes, units on axes.

Every figure is a ``ReportFigure`` (a name for the static export, the plotly figure and a
caption). Axis titles always carry a unit in parentheses, e.g. ``"temperature (°C)"``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative

from orbitgrid.report.decimate import Envelope

COLORS: tuple[str, ...] = tuple(qualitative.Plotly)
"""Trace colours, one per shell (cycled)."""

FIGURE_HEIGHT_PX = 420
"""Default figure height: two figures fit a laptop screen."""

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "svg", "scale": 1},
}
"""Figure toolbar: no plotly logo or cloud link; the camera button saves SVG."""

TIME_AXIS_TITLE = "time (UTC)"


@dataclass
class ReportFigure:
    """One figure of the report.

    Attributes
    ----------
    name : str
        File-name stem for ``--static`` export (``<section>-<name>.svg``).
    figure : plotly.graph_objects.Figure
        The figure.
    caption : str
        One or two sentences under the figure (plain text): what it shows and how it was reduced.
    """

    name: str
    figure: go.Figure
    caption: str = ""


def color(index: int, alpha: float | None = None) -> str:
    """The ``index``-th trace colour, as ``#rrggbb`` or ``rgba(...)`` when ``alpha`` is given."""
    hex_color = COLORS[index % len(COLORS)]
    if alpha is None:
        return hex_color
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


@lru_cache(maxsize=1)
def report_template() -> go.layout.Template:
    """The layout part of plotly's ``plotly_white`` template (the trace defaults are not needed;
    leaving them out makes building a figure several times faster)."""
    return go.layout.Template(layout=pio.templates["plotly_white"].layout)


def new_figure(title: str, x_title: str, y_title: str, height_px: int = FIGURE_HEIGHT_PX):
    """An empty figure with the report's layout; titles should carry units."""
    fig = go.Figure()
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        template=report_template(),
        height=height_px,
        margin={"l": 70, "r": 20, "t": 80, "b": 55},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0.0, "xanchor": "left"},
        hovermode="x unified",
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
    )
    fig.update_xaxes(title_text=x_title, showline=True, linecolor="#999", mirror=False)
    fig.update_yaxes(title_text=y_title, showline=True, linecolor="#999", zeroline=False)
    return fig


def map_layout(fig: go.Figure, title: str, height_px: int = 520) -> None:
    """The report's world map: natural-earth projection, land, ocean, borders and a graticule
    (the world map data ships with the report, no CDN)."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        height=height_px,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top"},
        template=report_template(),
        geo={
            "projection": {"type": "natural earth"},
            "showland": True,
            "landcolor": "#eceae4",
            "showocean": True,
            "oceancolor": "#f3f7fb",
            "showcountries": True,
            "countrycolor": "#c9c9c9",
            "coastlinecolor": "#999",
            "lataxis": {"range": [-90, 90], "showgrid": True, "dtick": 30, "gridcolor": "#ddd"},
            "lonaxis": {"range": [-180, 180], "showgrid": True, "dtick": 60, "gridcolor": "#ddd"},
        },
    )


def add_envelope(
    fig: go.Figure,
    envelope: Envelope,
    label: str,
    index: int,
    band_label: str = "min–max",
    band: bool = True,
) -> None:
    """Add a mean line and, if ``band``, a shaded min–max band (legend-grouped with the line)."""
    group = f"g{index}-{label}"
    x = envelope.time
    if band and not np.allclose(envelope.minimum, envelope.maximum, equal_nan=True):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=envelope.minimum.astype(np.float32),
                mode="lines",
                line={"width": 0},
                legendgroup=group,
                showlegend=False,
                hoverinfo="skip",
                name=f"{label} min",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=envelope.maximum.astype(np.float32),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=color(index, 0.22),
                legendgroup=group,
                name=f"{label} {band_label}",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=envelope.mean.astype(np.float32),
            mode="lines",
            line={"color": color(index), "width": 1.6},
            legendgroup=group,
            name=f"{label} mean",
        )
    )


def add_limit(fig: go.Figure, value: float, label: str, index: int = 0) -> None:
    """A dashed horizontal line (a design limit) with its label."""
    fig.add_hline(
        y=value,
        line={"dash": "dash", "color": "#d62728" if index == 0 else color(index), "width": 1.4},
        annotation_text=label,
        annotation_position="top left",
        annotation_font_size=12,
    )


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure as an HTML ``<div>`` plus its script; plotly.js is embedded once by the page."""
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{fig.layout.height or FIGURE_HEIGHT_PX}px",
    )


def table_html(
    header: Sequence[str], rows: Sequence[Sequence[object]], css_class: str = "data"
) -> str:
    """A plain HTML table; cells are escaped, numbers formatted with ``format_number``."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: object) -> str:
    if isinstance(value, float | int | np.floating | np.integer) and not isinstance(value, bool):
        return format_number(float(value))
    return html.escape("—" if value is None else str(value))


def format_number(value: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits, thousands separators, "—" for None/NaN."""
    if value is None or not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    if magnitude >= 1e-3:
        decimals = max(0, digits - 1 - int(np.floor(np.log10(magnitude))))
        return f"{value:,.{decimals}f}"
    return f"{value:.{digits - 1}e}"
