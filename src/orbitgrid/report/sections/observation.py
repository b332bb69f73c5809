"""Earth observation: per strategy, what reaches the ground and how fast — the comparison
table, the backlog on board over the run, a map of where data waits (bytes on board at each
satellite's sub-point at the stored steps), and capture-to-insight and capture-to-ground CDFs
per strategy.

Reads ``summary.json`` (``observation``), ``observation_backlog.csv``,
``observation_backlog_map.parquet`` and ``observation_bundles.parquet`` (written by
``observation.summary``).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow.parquet as pq

from orbitgrid.report import formats
from orbitgrid.report.figures import ReportFigure, color, map_layout, new_figure, table_html
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown

CDF_POINTS = 400
"""Points per strategy on the capture-to-insight CDF (quantiles, evenly spaced)."""
MAP_MAX_POINTS = 20_000
"""Most markers per strategy on the map of where data waits (evenly spaced stored steps)."""
INSIGHT = {"raw": "raw", "filter": "kept", "infer": "result", "hybrid": "result"}


def minutes(value: float | None) -> str:
    """A delay: ``12.5 min``, ``3.2 h`` beyond two hours."""
    if value is None or not math.isfinite(float(value)):
        return formats.MISSING
    return f"{value / 3600:.3g} h" if value >= 7200 else f"{value / 60:.3g} min"


def gigabytes(value: float | None) -> str:
    if value is None or not math.isfinite(float(value)):
        return formats.MISSING
    return f"{value / 1e9:,.1f} GB"


def hours(value: float | None) -> str:
    if value is None or not math.isfinite(float(value)):
        return formats.MISSING
    return f"{value:,.2f} h"


class ObservationSection:
    """Per strategy: bytes made, delivered, stored and dropped, insight latency, station
    hours and onboard energy."""

    key = "observation"
    title = "Earth observation"
    shows = (
        Shown("observation.strategies.*.capture_to_insight_p50_s", minutes),
        Shown("observation.strategies.*.station_hours_needed", hours),
        Shown("observation.strategies.*.made_bytes", gigabytes, "section"),
        Shown("observation.strategies.*.delivered_bytes", gigabytes, "section"),
        Shown("observation.strategies.*.stored_bytes", gigabytes, "section"),
        Shown("observation.strategies.*.dropped_bytes", gigabytes, "section"),
        Shown("observation.strategies.*.capture_to_insight_p95_s", minutes, "section"),
        Shown("observation.strategies.*.capture_to_insight_p99_s", minutes, "section"),
    )

    def applies(self, run: RunFolder) -> bool:
        return bool((run.summary.get("observation") or {}).get("strategies"))

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        """One card per strategy: insight p50 and the ground-station hours it needs."""
        items = []
        for i, (name, f) in enumerate(run.summary["observation"]["strategies"].items()):
            items.append(
                HeadlineItem(
                    label=f"EO {name}",
                    value=f"insight p50 {minutes(f.get('capture_to_insight_p50_s'))}",
                    detail=f"{hours(f.get('station_hours_needed'))} of ground station needed",
                    order=70 + i,
                )
            )
        return items

    def render(self, run: RunFolder) -> SectionOutput:
        obs = run.summary["observation"]
        rows = [
            (
                name,
                gigabytes(f["made_bytes"]),
                gigabytes(f["delivered_bytes"]),
                gigabytes(f["stored_bytes"]),
                gigabytes(f["dropped_bytes"]),
                minutes(f["capture_to_insight_p50_s"]),
                minutes(f["capture_to_insight_p95_s"]),
                minutes(f["capture_to_insight_p99_s"]),
                hours(f["station_hours_needed"]),
                f"{f['onboard_energy_wh']:,.1f} Wh",
            )
            for name, f in obs["strategies"].items()
        ]
        intro = (
            f"<p>{obs['tiles_captured']:,} tiles captured by {obs['satellites_with_sensors']} "
            f"satellites; {obs['passes']['count']} downlink passes to "
            f"{html.escape(', '.join(obs['ground_stations']))}. Every product is routed by "
            "contact graph routing over the run's contacts (docs/observation.md).</p>"
        )
        table = table_html(
            ("strategy", "made", "delivered", "stored at end", "dropped", "insight p50",
             "p95", "p99", "station hours needed", "onboard energy"),
            rows,
        )  # fmt: skip
        return SectionOutput(html=intro + table, figures=self._figures(run))

    def _figures(self, run: RunFolder) -> list[ReportFigure]:
        figures = []
        backlog_csv = run.path / "observation_backlog.csv"
        if backlog_csv.is_file():
            backlog = pd.read_csv(backlog_csv)
            fig = new_figure("Bytes on board over the run", "time since start (h)", "GB")
            for i, column in enumerate(c for c in backlog.columns if c != "time_s"):
                fig.add_scatter(
                    x=backlog["time_s"] / 3600,
                    y=backlog[column] / 1e9,
                    name=column.removesuffix("_bytes"),
                    line={"color": color(i)},
                )
            figures.append(ReportFigure("backlog", fig, "Sum over satellites, per window."))
        waiting = self._waiting_map(run)
        if waiting is not None:
            figures.append(waiting)
        bundles = run.path / "observation_bundles.parquet"
        if bundles.is_file():
            table = pq.read_table(
                bundles, columns=["strategy", "product", "outcome", "capture_s", "delivered_s"]
            ).to_pandas()
            delivered = table[table["outcome"] == "delivered"]
            panels = (("insight-cdf", "Capture to insight", True),
                      ("ground-cdf", "Capture to ground (every product)", False))  # fmt: skip
            for key, title, insight_only in panels:
                fig = new_figure(title, "delay (min)", "share of delivered products")
                for i, (name, group) in enumerate(delivered.groupby("strategy", sort=False)):
                    carrier = group["product"] == INSIGHT.get(name, "raw")
                    mine = group[carrier] if insight_only else group
                    delay = ((mine["delivered_s"] - mine["capture_s"]) / 60).to_numpy()
                    if delay.size == 0:
                        continue
                    q = np.linspace(0, 1, CDF_POINTS)
                    fig.add_scatter(x=np.quantile(delay, q), y=q, name=name,
                                    line={"color": color(i)})  # fmt: skip
                figures.append(ReportFigure(key, fig, "Delivered products only, per strategy."))
        return figures

    def _waiting_map(self, run: RunFolder) -> ReportFigure | None:
        """Bytes on board at each satellite's sub-point at the stored steps, one strategy
        shown at a time: where data waits for a pass."""
        path = run.path / "observation_backlog_map.parquet"
        if not path.is_file():
            return None
        table = pq.read_table(path).to_pandas()
        table = table[table["backlog_bytes"] > 0]
        if table.empty:
            return None
        top_gb = float(table["backlog_bytes"].max()) / 1e9
        fig = go.Figure()
        for i, (name, group) in enumerate(table.groupby("strategy", sort=False)):
            times = np.unique(group["time_s"].to_numpy())
            stride = max(1, math.ceil(len(group) / MAP_MAX_POINTS))
            shown = group[np.isin(group["time_s"], times[::stride])]
            fig.add_trace(
                go.Scattergeo(
                    lat=shown["latitude_deg"].to_numpy(np.float32),
                    lon=shown["longitude_deg"].to_numpy(np.float32),
                    mode="markers",
                    name=name,
                    visible=True if i == 0 else "legendonly",
                    text=shown["satellite"].to_numpy(),
                    marker={
                        "size": 5,
                        "color": (shown["backlog_bytes"] / 1e9).to_numpy(np.float32),
                        "cmin": 0.0,
                        "cmax": top_gb,
                        "colorscale": "Viridis",
                        "showscale": i == 0,
                        "colorbar": {"title": "GB on board"},
                    },
                    hovertemplate="%{text}<br>lat %{lat:.1f}°, lon %{lon:.1f}°<br>"
                    "%{marker.color:.1f} GB<extra>" + html.escape(name) + "</extra>",
                )
            )
        map_layout(fig, "Where data waits: bytes on board at each satellite's position",
                   height_px=480)  # fmt: skip
        return ReportFigure(
            "waiting-map",
            fig,
            "Each satellite with a sensor at the stored steps (output.every), coloured by the "
            "bytes it holds (after that window's admission); points with nothing on board are "
            "left out. One strategy at a time (click the legend).",
        )
