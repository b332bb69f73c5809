"""Earth observation: per strategy, what reaches the ground and how fast — the comparison
table, the backlog on board over the run and the capture-to-insight CDF per strategy.

Reads ``summary.json`` (``observation``), ``observation_backlog.csv`` and
``observation_bundles.parquet`` (written by ``observation.summary``).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from orbitgrid.report import formats
from orbitgrid.report.figures import ReportFigure, color, new_figure, table_html
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown

CDF_POINTS = 400
"""Points per strategy on the capture-to-insight CDF (quantiles, evenly spaced)."""


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
        bundles = run.path / "observation_bundles.parquet"
        if bundles.is_file():
            table = pq.read_table(
                bundles, columns=["strategy", "product", "outcome", "capture_s", "delivered_s"]
            ).to_pandas()
            fig = new_figure("Capture to insight", "delay (min)", "share of insights")
            insight = {"raw": "raw", "filter": "kept", "infer": "result", "hybrid": "result"}
            for i, (name, group) in enumerate(table.groupby("strategy", sort=False)):
                mine = group[(group["product"] == insight.get(name, "raw"))
                             & (group["outcome"] == "delivered")]  # fmt: skip
                delay = ((mine["delivered_s"] - mine["capture_s"]) / 60).to_numpy()
                if delay.size == 0:
                    continue
                q = np.linspace(0, 1, CDF_POINTS)
                fig.add_scatter(x=np.quantile(delay, q), y=q, name=name,
                                line={"color": color(i)})  # fmt: skip
            figures.append(ReportFigure("insight-cdf", fig, "Delivered insight products only."))
        return figures
