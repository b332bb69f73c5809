"""AI service: how each service option serves the users — response-time distributions, served
fraction over the run, where users wait longest, and what a token costs.

Reads ``summary.json`` (``workloads``: per option figures), ``workloads_histograms.csv`` (the
response-time distributions the percentiles come from, written by the workload stage) and the
dataset's ``served_per_s`` / ``offered_per_s`` (time, option) and ``response_time_s`` with the
user positions (time, user).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from orbitgrid.report import formats
from orbitgrid.report.figures import (
    TIME_AXIS_TITLE,
    ReportFigure,
    color,
    map_layout,
    new_figure,
    table_html,
)
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown
from orbitgrid.workloads.summary import unserved_note

HISTOGRAM_CSV = "workloads_histograms.csv"
MAP_MAX_POINTS = 4000
"""Points per option on the user map (user positions at stored steps, evenly thinned)."""


def seconds(value: float | None) -> str:
    """A response time: ``0.21 s``, ``7.4 s``, ``3.5 h`` beyond an hour."""
    if value is None or not math.isfinite(float(value)):
        return formats.MISSING
    if value >= 3600.0:
        return f"{value / 3600.0:.3g} h"
    return f"{value:.2f} s" if value < 10 else f"{value:.3g} s"


def usd_per_million(value: float | None) -> str:
    """Cost per million output tokens: ``$0.106 / M tokens``."""
    text = formats.usd(value)
    return text if text == formats.MISSING else f"{text} / M tokens"


class WorkloadsSection:
    """Per service option: served fraction, latency percentiles and CDF, cost per token."""

    key = "workloads"
    title = "AI service"
    shows = (
        Shown("workloads.options.*.served_fraction", formats.percent),
        Shown("workloads.options.*.response_p95_s", seconds),
        Shown("workloads.options.*.cost_per_million_output_tokens_usd", usd_per_million),
        Shown("workloads.options.*.ttft_p50_s", seconds, "section"),
        Shown("workloads.options.*.response_p50_s", seconds, "section"),
        Shown("workloads.options.*.response_p99_s", seconds, "section"),
        Shown("workloads.options.*.deferred_fraction", formats.percent, "section"),
    )

    def applies(self, run: RunFolder) -> bool:
        return bool((run.summary.get("workloads") or {}).get("options"))

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        """One card per option: served share, p95 response, cost per million output tokens."""
        items = []
        for i, (name, figures) in enumerate(run.summary["workloads"]["options"].items()):
            served = figures.get("served_fraction")
            status = "info"
            if isinstance(served, int | float):
                status = "good" if served >= 0.99 else "warn" if served >= 0.9 else "bad"
            value = f"{formats.percent(served)} served"
            detail = f"p95 response {seconds(figures.get('response_p95_s'))}"
            cost = figures.get("cost_per_million_output_tokens_usd")
            if cost is not None:
                detail += f"; {usd_per_million(cost)}"
            items.append(HeadlineItem(f"AI service: {name}", value, detail, status, order=60 + i))
        return items

    def render(self, run: RunFolder) -> SectionOutput:
        workloads = run.summary["workloads"]
        intro = (
            f"<p>{workloads['users']:,} users on {workloads['user_endpoints']} endpoints "
            f"({workloads['moving_endpoints']} moving) served by "
            f"{len(workloads['options'])} options over the same orbits and network. "
            "Percentiles come from log-binned histograms (within "
            f"{formats.percent(workloads.get('percentile_relative_error'))} of the exact "
            "value); per population and class in <code>workloads.csv</code>.</p>"
        )
        figures = [f for f in (self._cdf(run), self._served(run), self._map(run)) if f]
        return SectionOutput(html=intro + self._table(workloads), figures=figures)

    def _table(self, workloads: dict) -> str:
        header = ["option", "served", "TTFT p50", "response p50", "response p95",
                  "response p99", "waited for a link", "DC / orbit / sat / device",
                  "J per output token", "cost"]  # fmt: skip
        rows = []
        notes = []
        for name, f in workloads["options"].items():
            shares = " / ".join(
                formats.percent(f.get(f"share_{kind}"))
                for kind in ("ground_dc", "orbital_cluster", "overhead_satellite", "on_device")
            )
            rows.append(
                [
                    name,
                    formats.percent(f.get("served_fraction")),
                    seconds(f.get("ttft_p50_s")),
                    seconds(f.get("response_p50_s")),
                    seconds(f.get("response_p95_s")),
                    seconds(f.get("response_p99_s")),
                    formats.percent(f["deferred_fraction"]) if "deferred_fraction" in f else "",
                    shares,
                    formats.general(f.get("energy_per_output_token_j")),
                    usd_per_million(f.get("cost_per_million_output_tokens_usd")),
                ]
            )
            unserved = unserved_note(f)
            if unserved:
                notes.append(f"{html.escape(name)}: {html.escape(unserved)}")
            if f.get("unpriced_sites"):
                notes.append(
                    f"{html.escape(name)}: no cost, no price for "
                    f"{html.escape(', '.join(f['unpriced_sites']))}"
                )
        note = f"<p>{'; '.join(notes)}.</p>" if notes else ""
        return table_html(header, rows) + note

    def _cdf(self, run: RunFolder) -> ReportFigure | None:
        path = run.path / HISTOGRAM_CSV
        if not path.is_file():
            return None
        table = pd.read_csv(path)
        table = table[table["quantity"] == "response"]
        if table.empty:
            return None
        fig = new_figure(
            "Response time per option", "response time (s)", "share of served requests"
        )
        for i, (name, rows) in enumerate(table.groupby("option", sort=False)):
            by_bin = rows.groupby("upper_s")["requests"].sum().sort_index()
            # The curve starts at 0 at the lower edge of the first non-empty bin.
            x = np.concatenate([[rows["lower_s"].min()], by_bin.index.to_numpy()])
            share = np.concatenate([[0.0], by_bin.cumsum().to_numpy() / by_bin.sum()])
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=share,
                    name=str(name),
                    mode="lines",
                    line={"color": color(i), "shape": "hv"},
                )
            )
        fig.update_xaxes(type="log")
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
        return ReportFigure(
            "response-cdf",
            fig,
            "Cumulative distribution of the response time of served requests (round trip, "
            "transfers, queueing, prefill and decode; waits on a device for a link included), "
            "all populations and classes, per option.",
        )

    def _served(self, run: RunFolder) -> ReportFigure | None:
        if not run.has_variables("served_per_s", "offered_per_s"):
            return None
        ds = run.dataset
        offered = ds["offered_per_s"].values.astype(float)
        served = ds["served_per_s"].values.astype(float)
        options = [str(o) for o in ds["option"].values]
        fig = new_figure("Served fraction over the run", TIME_AXIS_TITLE, "served / offered")
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(offered > 0, served / offered, np.nan)
        for i, name in enumerate(options):
            fig.add_trace(
                go.Scatter(
                    x=run.time_utc,
                    y=fraction[:, i],
                    name=name,
                    mode="lines",
                    line={"color": color(i)},
                )
            )
        fig.update_yaxes(tickformat=".0%")
        return ReportFigure(
            "served",
            fig,
            "Requests served per requests offered at each stored step (a backlog draining "
            "serves more than the step's demand: above 100 %).",
        )

    def _map(self, run: RunFolder) -> ReportFigure | None:
        if not run.has_variables("response_time_s", "user_latitude_deg", "user_longitude_deg"):
            return None
        ds = run.dataset
        lat = ds["user_latitude_deg"].values
        lon = ds["user_longitude_deg"].values
        response = ds["response_time_s"].values  # [time, option, user]
        options = [str(o) for o in ds["option"].values]
        users = np.asarray(ds["user"].values).astype(str)
        n_t, n_u = lat.shape
        # Every user at evenly spaced stored steps (thinning the flat index instead would
        # keep only the users whose index shares a factor with the stride).
        stride = max(1, math.ceil(n_t * n_u / MAP_MAX_POINTS))
        t_idx, u_idx = (a.ravel() for a in np.meshgrid(np.arange(0, n_t, stride), np.arange(n_u),
                                                       indexing="ij"))  # fmt: skip
        finite = np.isfinite(response[t_idx, :, u_idx])  # [point, option]
        values = response[t_idx, :, u_idx]
        if not finite.any():
            return None
        log_lo = math.floor(np.log10(np.nanmin(values[finite]) + 1e-3))
        log_hi = math.ceil(np.log10(np.nanmax(values[finite]) + 1e-3))
        ticks = [10.0**k for k in range(log_lo, log_hi + 1)]
        fig = go.Figure()
        for i, name in enumerate(options):
            keep = finite[:, i]
            fig.add_trace(
                go.Scattergeo(
                    lat=lat[t_idx[keep], u_idx[keep]].astype(np.float32),
                    lon=lon[t_idx[keep], u_idx[keep]].astype(np.float32),
                    mode="markers",
                    name=name,
                    visible=True if i == 0 else "legendonly",
                    text=users[u_idx[keep]],
                    marker={
                        "size": 6,
                        "color": np.log10(values[keep, i] + 1e-3).astype(np.float32),
                        "cmin": log_lo,
                        "cmax": log_hi,
                        "colorscale": "Viridis",
                        "showscale": i == 0,
                        "colorbar": {
                            "title": "response (s)",
                            "tickvals": [math.log10(t) for t in ticks],
                            "ticktext": [f"{t:g}" for t in ticks],
                        },
                    },
                    hovertemplate="%{text}<br>lat %{lat:.2f}°, lon %{lon:.2f}°<extra>"
                    + html.escape(name)
                    + "</extra>",
                )
            )
        map_layout(fig, "Users coloured by mean response time", height_px=480)
        return ReportFigure(
            "user-map",
            fig,
            "Each user endpoint at the stored steps (every user, at evenly spaced steps: about "
            f"{MAP_MAX_POINTS:,} points per option at most), coloured by the mean response time of "
            "its served requests at that step; one option shown at a time (click the legend).",
        )
