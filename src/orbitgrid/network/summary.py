"""Per-pair summary of routing over a run, with the fibre reference beside it."""

from __future__ import annotations

import numpy as np
import xarray as xr

from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.fibre import fibre_latency_ms, great_circle_matrix_km


def nan_percentiles(values: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    """Percentiles over axis 0 ignoring NaN, as ``np.nanpercentile`` (linear interpolation).

    One sort of the whole array instead of nanpercentile's per-column fallback, which is
    about 100× slower for [time, src, dst] arrays with unreachable steps. All-NaN columns give
    NaN. Returns shape [len(percents), *values.shape[1:]].
    """
    ordered = np.sort(values, axis=0)  # NaN sorts last
    valid = np.sum(~np.isnan(values), axis=0)
    out = np.full((len(percents), *values.shape[1:]), np.nan)
    has = valid > 0
    for k, q in enumerate(percents):
        position = (valid - 1) * (q / 100.0)
        lower = np.floor(position).astype(np.int64)
        upper = np.minimum(lower + 1, np.maximum(valid - 1, 0))
        weight = position - lower
        low = np.take_along_axis(ordered, np.maximum(lower, 0)[None], axis=0)[0]
        high = np.take_along_axis(ordered, upper[None], axis=0)[0]
        out[k] = np.where(has, low + (high - low) * weight, np.nan)
    return out


def routing_summary(
    rtt_ms: np.ndarray,
    path_changed: np.ndarray,
    endpoints: EndpointTable,
    fibre_route_factor: float = 1.0,
) -> xr.Dataset:
    """RTT p50/p95/p99 over time, reachability and path changes per ``(src, dst)``.

    ``rtt_ms`` and ``path_changed`` are ``[time, src, dst]``; NaN RTT = unreachable.
    Percentiles are over reachable steps only. ``fibre_rtt_ms`` is the great-circle fibre
    reference (``fibre.py``); ``space_beats_fibre_fraction`` is the fraction of all steps
    whose RTT is below it. Output dims ``src``, ``dst`` labelled by endpoint name.
    """
    rtt = np.asarray(rtt_ms, dtype=np.float64)
    pct = nan_percentiles(rtt, (50.0, 95.0, 99.0))
    fibre_rtt = 2.0 * fibre_latency_ms(
        great_circle_matrix_km(endpoints.latitude_deg, endpoints.longitude_deg),
        fibre_route_factor,
    )
    beats = np.mean(np.nan_to_num(rtt, nan=np.inf) < fibre_rtt[None], axis=0)
    names = [str(n) for n in endpoints.name]
    dims = ("src", "dst")
    return xr.Dataset(
        {
            "rtt_p50_ms": (dims, pct[0], {"units": "ms", "long_name": "median RTT"}),
            "rtt_p95_ms": (dims, pct[1], {"units": "ms", "long_name": "95th percentile RTT"}),
            "rtt_p99_ms": (dims, pct[2], {"units": "ms", "long_name": "99th percentile RTT"}),
            "reachability": (
                dims,
                np.mean(~np.isnan(rtt), axis=0),
                {"units": "1", "long_name": "fraction of steps with a path"},
            ),
            "path_changes": (
                dims,
                np.asarray(path_changed).sum(axis=0),
                {"units": "1", "long_name": "number of path changes"},
            ),
            "fibre_rtt_ms": (
                dims,
                fibre_rtt,
                {
                    "units": "ms",
                    "long_name": f"great-circle fibre RTT, route factor {fibre_route_factor}",
                },
            ),
            "space_beats_fibre_fraction": (
                dims,
                beats,
                {"units": "1", "long_name": "fraction of steps RTT < fibre RTT"},
            ),
        },
        coords={"src": names, "dst": names},
    )
