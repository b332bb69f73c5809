"""Network: round-trip time distributions and time series between endpoint pairs.

Reads the network variables with dims ``time`` × ``src`` × ``dst`` (``rtt_ms``, else
``latency_ms``; ``hop_count`` when present). NaN means no path at that step. Only a sample of
pairs is drawn (``MAX_PAIRS``, the first unordered pairs ``src < dst`` in endpoint order); each
pair's series is read on its own, so memory is one pair's time series at a time.
"""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go

from orbitgrid.report.decimate import bucket_envelope
from orbitgrid.report.figures import (
    TIME_AXIS_TITLE,
    ReportFigure,
    add_envelope,
    color,
    new_figure,
    table_html,
)
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput

MAX_PAIRS = 12
"""Endpoint pairs drawn in the distribution figure and listed in the table."""

MAX_SERIES = 6
"""Endpoint pairs drawn in the time-series figure."""

PERCENTILES = (5, 25, 50, 75, 95)
"""Box plot statistics: whiskers at the 5th/95th percentiles, box at the quartiles."""


def _variable(run: RunFolder) -> tuple[str, str]:
    ds = run.network
    assert ds is not None
    if "rtt_ms" in ds.data_vars:
        return "rtt_ms", "round-trip time"
    return "latency_ms", "one-way latency"


def _pairs(run: RunFolder) -> list[tuple[str, str]]:
    ds = run.network
    assert ds is not None
    src = [str(s) for s in ds["src"].values]
    dst = [str(d) for d in ds["dst"].values]
    pairs = [(a, b) for i, a in enumerate(src) for b in dst[i + 1 :] if a != b]
    if not pairs:  # src and dst are different sets
        pairs = [(a, b) for a in src for b in dst if a != b]
    return pairs


class NetworkSection:
    """RTT per endpoint pair: distribution (box), time series, reachability table."""

    key = "network"
    title = "Network latency"

    def applies(self, run: RunFolder) -> bool:
        ds = run.network
        return ds is not None and ("rtt_ms" in ds.data_vars or "latency_ms" in ds.data_vars)

    def _series(self, run: RunFolder, variable: str, pair: tuple[str, str]) -> np.ndarray:
        ds = run.network
        assert ds is not None
        return np.asarray(ds[variable].sel(src=pair[0], dst=pair[1]).values, dtype=np.float64)

    def _stats(self, run: RunFolder) -> list[dict]:
        if "network.pair_stats" not in run.memo:
            run.memo["network.pair_stats"] = self._compute_stats(run)
        return run.memo["network.pair_stats"]

    def _compute_stats(self, run: RunFolder) -> list[dict]:
        variable, _ = _variable(run)
        ds = run.network
        assert ds is not None
        stats = []
        for pair in _pairs(run)[:MAX_PAIRS]:
            values = self._series(run, variable, pair)
            ok = np.isfinite(values)
            entry: dict = {"pair": pair, "reachability": float(ok.mean()) if values.size else 0.0}
            if ok.any():
                entry.update(zip(PERCENTILES, np.percentile(values[ok], PERCENTILES), strict=True))
            if "hop_count" in ds.data_vars:
                hops = np.asarray(ds["hop_count"].sel(src=pair[0], dst=pair[1]).values)
                hops = hops[hops >= 0]
                entry["hops"] = float(np.median(hops)) if hops.size else None
            stats.append(entry)
        return stats

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        _, label = _variable(run)
        stats = self._stats(run)
        medians = [s[50] for s in stats if 50 in s]
        if not medians:
            return [HeadlineItem("Latency", "no path", "no endpoint pair was reachable", "bad", 15)]
        reach = np.mean([s["reachability"] for s in stats])
        return [
            HeadlineItem(
                f"Median {label}",
                f"{np.median(medians):.1f} ms",
                f"median over {len(medians)} endpoint pairs; reachable {reach:.1%} of the time",
                "good" if reach >= 0.99 else "warn",
                15,
            )
        ]

    def render(self, run: RunFolder) -> SectionOutput:
        variable, label = _variable(run)
        stats = self._stats(run)
        return SectionOutput(
            html=self._table(stats, label),
            figures=[self._boxes(stats, label), self._timeseries(run, variable, label)],
        )

    def _table(self, stats: list[dict], label: str) -> str:
        rows = [
            [
                f"{s['pair'][0]} → {s['pair'][1]}",
                s.get(50),
                s.get(95),
                s["reachability"],
                s.get("hops"),
            ]
            for s in stats
        ]
        return table_html(
            ["pair", f"median {label} (ms)", f"95th pct {label} (ms)", "reachable", "hops"], rows
        )

    def _boxes(self, stats: list[dict], label: str) -> ReportFigure:
        fig = new_figure(f"{label.capitalize()} distribution per pair", "pair", f"{label} (ms)")
        shown = [s for s in stats if 50 in s]
        names = [f"{s['pair'][0]} → {s['pair'][1]}" for s in shown]
        fig.add_trace(
            go.Box(
                x=names,
                q1=[s[25] for s in shown],
                median=[s[50] for s in shown],
                q3=[s[75] for s in shown],
                lowerfence=[s[5] for s in shown],
                upperfence=[s[95] for s in shown],
                marker={"color": color(0)},
                name=label,
                showlegend=False,
            )
        )
        fig.update_layout(hovermode="closest")
        caption = (
            f"Distribution over time of the {label} per endpoint pair (ms), over reachable steps: "
            "box at the quartiles, line at the median, whiskers at the 5th and 95th percentiles. "
            f"First {len(shown)} pairs in endpoint order."
        )
        return ReportFigure("latency-distribution", fig, caption)

    def _timeseries(self, run: RunFolder, variable: str, label: str) -> ReportFigure:
        ds = run.network
        assert ds is not None
        time = np.asarray(ds["time"].values)
        fig = new_figure(f"{label.capitalize()} over time", TIME_AXIS_TITLE, f"{label} (ms)")
        pairs = _pairs(run)[:MAX_SERIES]
        for index, pair in enumerate(pairs):
            values = self._series(run, variable, pair)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                env = bucket_envelope(time, values, values, values)
            add_envelope(fig, env, f"{pair[0]} → {pair[1]}", index, band_label="min–max")
        caption = (
            f"{label.capitalize()} per pair (ms); gaps: no path. Long runs are decimated to "
            "bucket means (line) with the bucket min/max (band)."
        )
        return ReportFigure("latency-timeseries", fig, caption)
