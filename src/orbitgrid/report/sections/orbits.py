"""Orbits: ground tracks and positions on a world map, altitude over time, per-shell table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from orbitgrid.report import formats
from orbitgrid.report.decimate import break_antimeridian, sample_satellites, shell_labels
from orbitgrid.report.figures import ReportFigure, color, map_layout, table_html
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput
from orbitgrid.report.sections._common import (
    envelope_figure,
    figure_value,
    reduction_note,
    shell_envelopes,
)

TRACK_SATELLITES = 6
"""Satellites whose ground tracks are drawn (spread over the satellite index)."""

TRACK_WINDOW_S = 3 * 3600.0
"""Length of the drawn ground tracks from the start of the run: about two LEO orbits."""

TRACK_MAX_POINTS = 400
"""Points per ground track (strided in time)."""

SNAPSHOT_MAX_SATELLITES = 3000
"""Satellites shown as markers at the first step (a sample beyond this)."""


class OrbitsSection:
    """World map of ground tracks and satellite positions; altitude envelopes per shell."""

    key = "orbits"
    title = "Orbits and ground tracks"

    def applies(self, run: RunFolder) -> bool:
        return run.has_variables("latitude_deg", "longitude_deg")

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        shells = len(run.shells) or 1
        duration = formats.duration(figure_value(run.summary.get("time") or {}, "duration_s"))
        return [
            HeadlineItem(
                "Constellation",
                f"{run.summary.get('satellites', '?')} satellites",
                f"{shells} shell{'s' if shells != 1 else ''}, {duration} simulated",
                order=90,
            )
        ]

    def render(self, run: RunFolder) -> SectionOutput:
        figures = [self._map(run)]
        if run.has_variables("altitude_km"):
            figures.append(
                envelope_figure(
                    "altitude",
                    "Altitude above the WGS84 ellipsoid",
                    "altitude (km)",
                    shell_envelopes(run, "altitude_km"),
                    reduction_note(run),
                )
            )
        rows = []
        for name, fig in run.shells.items():
            rows.append(
                [
                    name,
                    fig.get("satellites"),
                    figure_value(fig, "sunlit_fraction"),
                    figure_value(fig, "eclipse_minutes_per_orbit"),
                ]
            )
        table = table_html(["shell", "satellites", "sunlit fraction", "eclipse (min/orbit)"], rows)
        return SectionOutput(html=table, figures=figures)

    def _map(self, run: RunFolder) -> ReportFigure:
        ds = run.dataset
        assert ds is not None
        time = run.time_utc
        n_sat = ds.sizes["satellite"]
        shells = shell_labels(ds)
        shell_names = list(dict.fromkeys(shells.tolist()))
        fig = go.Figure()

        # Positions at the first step, all satellites (or a sample), one trace per shell.
        snap_idx = sample_satellites(n_sat, SNAPSHOT_MAX_SATELLITES)
        lat0 = np.asarray(ds["latitude_deg"].isel(time=0, satellite=snap_idx).values)
        lon0 = np.asarray(ds["longitude_deg"].isel(time=0, satellite=snap_idx).values)
        for i, shell in enumerate(shell_names):
            mask = shells[snap_idx] == shell
            fig.add_trace(
                go.Scattergeo(
                    lon=lon0[mask].astype(np.float32),
                    lat=lat0[mask].astype(np.float32),
                    mode="markers",
                    marker={"size": 3, "color": color(i)},
                    name=f"{shell}: positions at start",
                    hovertemplate="lat %{lat:.2f}°, lon %{lon:.2f}°<extra></extra>",
                )
            )

        # Ground tracks of a few satellites over the first hours.
        if len(time) > 1:
            elapsed_s = (time - time[0]) / np.timedelta64(1, "s")
            n_window = int(np.searchsorted(elapsed_s, TRACK_WINDOW_S, side="right"))
        else:
            n_window = len(time)
        stride = max(1, int(np.ceil(n_window / TRACK_MAX_POINTS)))
        track_idx = sample_satellites(n_sat, TRACK_SATELLITES)
        window = slice(0, n_window, stride)
        lat = np.asarray(ds["latitude_deg"].isel(time=window, satellite=track_idx).values)
        lon = np.asarray(ds["longitude_deg"].isel(time=window, satellite=track_idx).values)
        names = (
            np.asarray(ds["satellite_name"].values)[track_idx]
            if "satellite_name" in ds.coords
            else track_idx
        )
        for k, sat in enumerate(track_idx):
            track_lon, track_lat = break_antimeridian(lon[:, k], lat[:, k])
            shell_index = shell_names.index(shells[sat])
            fig.add_trace(
                go.Scattergeo(
                    lon=track_lon.astype(np.float32),
                    lat=track_lat.astype(np.float32),
                    mode="lines",
                    line={"width": 1.3, "color": color(shell_index)},
                    name=f"ground tracks ({len(track_idx)} satellites)",
                    legendgroup="tracks",
                    showlegend=k == 0,
                    hovertemplate=f"{names[k]}<br>lat %{{lat:.2f}}°, lon %{{lon:.2f}}°"
                    "<extra></extra>",
                )
            )

        stations = run.ground_stations()
        if stations:
            fig.add_trace(
                go.Scattergeo(
                    lon=[s["longitude_deg"] for s in stations],
                    lat=[s["latitude_deg"] for s in stations],
                    text=[s["name"] for s in stations],
                    mode="markers+text",
                    textposition="top center",
                    marker={"size": 8, "symbol": "triangle-up", "color": "#222"},
                    name="ground endpoints",
                )
            )

        window_h = (
            (time[min(n_window, len(time)) - 1] - time[0]) / np.timedelta64(1, "h")
            if len(time)
            else 0.0
        )
        start = pd.Timestamp(time[0]).strftime("%Y-%m-%d %H:%M UTC") if len(time) else "?"
        map_layout(fig, "Ground tracks and positions")
        caption = (
            f"Markers: {len(snap_idx)} of {n_sat} satellites at {start}. Lines: ground tracks "
            f"(latitude and longitude in degrees, WGS84) of {len(track_idx)} satellites spread "
            f"over the constellation, over the first {window_h:.3g} h, one point every "
            f"{stride} step(s)."
        )
        return ReportFigure("ground-tracks", fig, caption)
