"""Helpers shared by the sections: per-shell envelope figures and summary look-ups."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go

from orbitgrid.report.decimate import DEFAULT_MAX_POINTS, Envelope, bucket_envelope
from orbitgrid.report.figures import (
    TIME_AXIS_TITLE,
    ReportFigure,
    add_envelope,
    color,
    new_figure,
)
from orbitgrid.report.runfolder import RunFolder


def reduction_note(run: RunFolder, what: str = "mean", max_points: int = DEFAULT_MAX_POINTS) -> str:
    """One sentence saying how a time series was reduced over satellites and decimated in time."""
    n = len(run.time_utc)
    size = math.ceil(n / max_points) if n > max_points else 1
    if what == "total":
        lead = "Lines: sum over each shell's satellites"
        band = "; band: minimum to maximum of that sum within each time bucket" if size > 1 else ""
    else:
        lead = "Lines: mean over each shell's satellites"
        band = "; band: minimum to maximum over the satellites" + (
            " and within each time bucket" if size > 1 else ""
        )
    if size > 1:
        decimation = (
            f"{n} steps decimated to {math.ceil(n / size)} buckets of {size} steps "
            "(bucket mean for the line, bucket min/max for the band)"
        )
    else:
        decimation = f"all {n} steps shown"
    return f"{lead}{band}. {decimation[0].upper()}{decimation[1:]}."


def shell_envelopes(
    run: RunFolder,
    variable: str,
    statistic: Literal["mean", "total", "first"] = "mean",
    factor: float = 1.0,
    offset: float = 0.0,
    max_points: int = DEFAULT_MAX_POINTS,
    transform: Any = None,
    key: str | None = None,
) -> dict[str, Envelope]:
    """Per-shell envelopes of a ``[time, satellite]`` variable, decimated in time.

    ``statistic="mean"`` gives the mean over satellites with the min/max over satellites as the
    band; ``"total"`` gives the sum over the shell's satellites, its band being the min/max of
    the sum within each time bucket; ``"first"`` gives the shell's first satellite alone (bucket
    means, no band). Values are converted as ``value · factor + offset``.
    """
    time = run.time_utc
    out = {}
    for shell, red in run.shell_reductions(variable, transform=transform, key=key).items():
        if statistic == "total":
            env = bucket_envelope(time, red.total, max_points=max_points)
        elif statistic == "first":
            env = bucket_envelope(time, red.first, max_points=max_points)
            env = Envelope(env.time, env.mean, env.mean, env.mean)
        else:
            env = bucket_envelope(time, red.mean, red.minimum, red.maximum, max_points=max_points)
        out[shell] = env.scaled(factor, offset)
    return out


def envelope_figure(
    name: str,
    title: str,
    y_title: str,
    envelopes: dict[str, Envelope],
    caption: str,
    band_label: str = "min–max over satellites",
    y_range: tuple[float, float] | None = None,
    samples: dict[str, Envelope] | None = None,
) -> ReportFigure:
    """A time-series figure with one mean line and min–max band per shell.

    ``y_range`` fixes the y axis (e.g. 0–100 % for a state of charge). ``samples`` adds, per
    shell, a thin line for one satellite (see ``shell_envelopes(statistic="first")``).
    """
    fig = new_figure(title, TIME_AXIS_TITLE, y_title)
    for index, (shell, env) in enumerate(envelopes.items()):
        add_envelope(fig, env, shell, index, band_label=band_label)
    for index, (shell, env) in enumerate((samples or {}).items()):
        fig.add_trace(
            go.Scatter(
                x=env.time,
                y=env.mean.astype(np.float32),
                mode="lines",
                line={"color": color(index), "width": 1.0, "dash": "dot"},
                name=f"{shell}: one satellite",
            )
        )
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return ReportFigure(name, fig, caption)


def figure_value(figures: dict[str, Any], key: str) -> float | None:
    """A finite float from a summary dict, or None when missing, null or not a number."""
    value = figures.get(key)
    if isinstance(value, list):  # a sweep: report the first design point
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None
