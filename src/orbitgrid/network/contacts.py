"""Contact windows between nodes and their export as an ION contact plan.

A *contact* is an interval in which a link exists between two nodes; here it is found on the
time grid: a link is up at a step when its geometry allows it (ground–satellite: elevation and
slant range; satellite–satellite: range and line of sight clear of the Earth plus an
atmosphere margin). A window ``[start_s, end_s)`` runs from its first up step to one step after
its last (sample-and-hold), so window edges are accurate to one step.

ION export follows the ionrc(5) man page of NASA-JPL ION-DTN (``ici/doc/pod5/ionrc.pod``):
``a contact +start +stop from to rate`` with the rate in **bytes per second**, one line per
direction, and ``a range +start +stop one other owlt`` with the one-way light time in whole
**light seconds** (a range with the smaller node number first also declares the reverse).
Times are relative (``+ss``) to a reference time set by an ``@ yyyy/mm/dd-hh:mm:ss`` line.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72


@dataclass(frozen=True, eq=False)
class ContactWindows:
    """Windows as flat ``[window]`` arrays: the link (index into the caller's link list),
    start/end seconds from the run start, min/mean/max range km over the window, and the mean
    data rate bit/s over the window (NaN when no rate was given)."""

    link: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    min_range_km: np.ndarray
    mean_range_km: np.ndarray
    max_range_km: np.ndarray
    rate_bps: np.ndarray

    def __len__(self) -> int:
        return int(self.link.shape[0])

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    def __repr__(self) -> str:
        total = float(self.duration_s.sum()) if len(self) else 0.0
        return f"ContactWindows({len(self)} windows, {total:.0f} s in total)"


def ground_to_satellite_visibility(
    sat_ecef_km: np.ndarray,
    endpoint_ecef_km: np.ndarray,
    endpoint_up_unit: np.ndarray,
    min_elevation_deg: np.ndarray,
    max_range_km: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Which satellites each endpoint sees: ``up [time, endpoint, sat]`` and range km (same).

    Up when elevation ≥ ``min_elevation_deg[endpoint]`` and range ≤ ``max_range_km[endpoint]``
    (geometric elevation, no refraction).
    """
    diff = sat_ecef_km[:, None, :, :] - endpoint_ecef_km[None, :, None, :]
    rng = np.sqrt(np.einsum("tesk,tesk->tes", diff, diff))
    sin_el = np.einsum("tesk,ek->tes", diff, endpoint_up_unit) / rng
    up = (sin_el >= np.sin(np.radians(min_elevation_deg))[None, :, None]) & (
        rng <= np.asarray(max_range_km)[None, :, None]
    )
    return up, rng


def satellite_pair_visibility(
    sat_ecef_km: np.ndarray,
    pairs: np.ndarray,
    max_range_km: float,
    min_grazing_altitude_km: float = 80.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Line-of-sight links between satellite ``pairs [link, 2]``: ``up [time, link]``, range km.

    Up when the range ≤ ``max_range_km`` and the segment between the satellites stays above
    ``min_grazing_altitude_km`` over a sphere of the WGS72 equatorial radius (the default 80 km
    keeps optical links above the dense atmosphere).
    """
    a = sat_ecef_km[:, pairs[:, 0], :]
    b = sat_ecef_km[:, pairs[:, 1], :]
    d = b - a
    rng = np.linalg.norm(d, axis=-1)
    # Closest approach of the segment a + s d (0 ≤ s ≤ 1) to the Earth's centre.
    s = np.clip(-np.einsum("tlk,tlk->tl", a, d) / np.maximum(rng**2, 1e-12), 0.0, 1.0)
    closest = np.linalg.norm(a + s[..., None] * d, axis=-1)
    up = (rng <= max_range_km) & (closest >= WGS72.radius_km + min_grazing_altitude_km)
    return up, rng


def windows_from_mask(
    up: np.ndarray,
    range_km: np.ndarray,
    times_s: np.ndarray,
    step_s: float,
    rate_bps: np.ndarray | float | None = None,
) -> ContactWindows:
    """Contact windows of each link from ``up [time, link]`` and ``range_km [time, link]``.

    ``rate_bps`` (scalar, ``[link]`` or ``[time, link]``, e.g. from ``link_budget`` as a
    function of range) gives each window its mean rate. Vectorised over links (run-length
    encoding by differences); ``link`` indexes the second axis. Windows are ordered by link,
    then start.
    """
    up = np.asarray(up, bool)
    n_t, n_l = up.shape
    padded = np.zeros((n_l, n_t + 2), bool)
    padded[:, 1:-1] = up.T
    edges = np.diff(padded.astype(np.int8), axis=1)
    s_link, s_idx = np.nonzero(edges == 1)
    _, e_idx = np.nonzero(edges == -1)  # same order: row-major, one end per start
    rng = np.where(up, range_km, 0.0).T
    csum = np.concatenate([np.zeros((n_l, 1)), np.cumsum(rng, axis=1)], axis=1)
    count = e_idx - s_idx
    mean = (csum[s_link, e_idx] - csum[s_link, s_idx]) / np.maximum(count, 1)
    # Min/max per window with reduceat over the flattened [link, time] array: segments
    # [start, end) alternate with the gaps between windows, so every other result is kept.
    flat = np.append(np.where(up.T, range_km.T, np.nan).ravel(), np.nan)
    bounds = np.stack([s_link * n_t + s_idx, s_link * n_t + e_idx], axis=1).ravel()
    if len(s_link):
        mins = np.fmin.reduceat(flat, bounds)[::2]
        maxs = np.fmax.reduceat(flat, bounds)[::2]
    else:
        mins = maxs = np.zeros(0)
    if rate_bps is None:
        rate_mean = np.full(len(s_link), np.nan)
    else:
        rate = np.broadcast_to(np.asarray(rate_bps, dtype=np.float64), up.shape)
        rsum = np.concatenate(
            [np.zeros((n_l, 1)), np.cumsum(np.where(up, rate, 0.0).T, axis=1)], axis=1
        )
        rate_mean = (rsum[s_link, e_idx] - rsum[s_link, s_idx]) / np.maximum(count, 1)
    times_s = np.asarray(times_s, dtype=np.float64)
    return ContactWindows(
        link=s_link.astype(np.int64),
        start_s=times_s[s_idx],
        end_s=times_s[e_idx - 1] + step_s,
        min_range_km=mins,
        mean_range_km=mean,
        max_range_km=maxs,
        rate_bps=rate_mean,
    )


def ion_contact_plan(
    windows: ContactWindows,
    link_nodes: np.ndarray,
    rate_bps: float | np.ndarray | None,
    reference_time: dt.datetime,
    *,
    confidence: float | None = None,
) -> str:
    """ION ``ionadmin`` contact plan text for ``windows``.

    ``link_nodes [link, 2]`` gives the CBHE node numbers (≥ 1) of each link's two ends;
    ``rate_bps`` (bit/s, scalar or ``[link]``; None = each window's own ``rate_bps``) is
    written in bytes/s as ION expects. Each
    window yields two ``a contact`` lines (both directions) and one ``a range`` line with the
    one-way light time at the window's maximum range, rounded up to whole light seconds
    (ION's unit; LEO links thus get 1 s, an upper bound).
    """
    nodes = np.asarray(link_nodes, dtype=np.int64)
    if nodes.size and nodes.min() < 1:
        raise ValueError("ION node numbers must be ≥ 1 (CBHE ipn: node numbers)")
    if rate_bps is None:
        if np.any(np.isnan(windows.rate_bps)):
            raise ValueError("windows carry no rate; pass rate_bps or give windows_from_mask one")
        window_rate = windows.rate_bps
    else:
        rate = np.broadcast_to(np.asarray(rate_bps, dtype=np.float64), (nodes.shape[0],))
        window_rate = rate[windows.link]
    ref = reference_time.astimezone(dt.UTC) if reference_time.tzinfo else reference_time
    lines = [
        "# contact plan written by orbitgrid (ionrc format: rates in bytes/s, ranges in "
        "light seconds)",
        f"@ {ref:%Y/%m/%d-%H:%M:%S}",
    ]
    conf = "" if confidence is None else f" {confidence:g}"
    order = np.lexsort((windows.link, windows.start_s))
    for w in order:
        link = windows.link[w]
        a, b = (int(x) for x in nodes[link])
        t1 = math.floor(windows.start_s[w])
        t2 = math.ceil(windows.end_s[w])
        bytes_s = int(window_rate[w] // 8)
        lines.append(f"a contact +{t1} +{t2} {a} {b} {bytes_s}{conf}")
        lines.append(f"a contact +{t1} +{t2} {b} {a} {bytes_s}{conf}")
        owlt = max(1, math.ceil(windows.max_range_km[w] / SPEED_OF_LIGHT_KM_S))
        lo, hi = min(a, b), max(a, b)
        lines.append(f"a range +{t1} +{t2} {lo} {hi} {owlt}")
    return "\n".join(lines) + "\n"
