"""Ground–satellite links visible at each time step of a chunk (compiled).

A satellite is usable by an endpoint when its slant range is ≤ the endpoint's ``max_range_km``
and its elevation is ≥ ``min_elevation_deg`` (sin elevation = (r_sat − r_ep)·up / range, with
``up`` the endpoint's local vertical). Only a small fraction of satellites is in view, so the
search is culled: satellites are binned by their ECEF z coordinate (a counting sort, O(S) per
step) and an endpoint scans only the bins within its *effective range* of its own z, the
smaller of ``max_range_km`` and the slant range at which a satellite at the highest radius of
the step sits exactly on the elevation mask (law of cosines, below), with the mask lowered
by the angle between the endpoint's geodetic vertical and its radius. The cull is exact: a
satellite beyond the effective range cannot pass both tests (tested against an exhaustive
search at high latitude).

Slant range to a satellite at radius R_s seen at elevation ε from radius R_e:
``d = −R_e sin ε + sqrt(R_e² sin² ε + R_s² − R_e²)``; it grows with R_s and falls with ε, so
the highest satellite at the mask bounds the range of every visible one.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# z-bin width km: about a tenth of a LEO user's effective range, so each endpoint scans a few
# dozen bins and few satellites outside its range.
_Z_BIN_KM = 100.0
_Z_SPAN_KM = 100_000.0


@nb.njit(cache=True)
def _effective_range_km(ep_pos, ep_up, ep_min_sin, ep_max_range_km, sat_radius_max_km):
    """Per endpoint: the largest slant range at which any satellite of this step can pass.

    The mask is on the elevation above the plane normal to ``ep_up`` (the geodetic
    vertical), while the slant-range formula holds for the geocentric one; the two differ by
    at most the angle δ between the vertical and the radius (≤ 0.19° on WGS72), so the bound
    takes the mask lowered by δ.
    """
    n_ep = ep_pos.shape[0]
    out = np.empty(n_ep)
    for e in range(n_ep):
        r_e = np.sqrt(ep_pos[e, 0] ** 2 + ep_pos[e, 1] ** 2 + ep_pos[e, 2] ** 2)
        radial = (ep_pos[e, 0] * ep_up[e, 0] + ep_pos[e, 1] * ep_up[e, 1]) + (
            ep_pos[e, 2] * ep_up[e, 2]
        )
        delta = np.arccos(min(1.0, radial / r_e)) if r_e > 0 else 0.0
        elevation = max(np.arcsin(ep_min_sin[e]) - delta, -np.pi / 2)
        s = np.sin(elevation)
        under = r_e * r_e * s * s + sat_radius_max_km**2 - r_e * r_e
        horizon = -r_e * s + np.sqrt(max(under, 0.0))
        # 1 mm of slack: the bound must not cull a satellite that rounding puts on the mask.
        out[e] = min(ep_max_range_km[e], horizon + 1e-6)
    return out


@nb.njit(cache=True)
def _bin_by_z(pos, sat_ok, order, bin_start):
    """Counting sort of the usable satellites of one step by z into ``_Z_BIN_KM`` bins.

    Fills ``order`` (satellite ids, bin-major) and ``bin_start [bins + 1]``, clears
    ``sat_ok`` of satellites without a finite position; returns the highest satellite radius
    (km).
    """
    n_sat = pos.shape[0]
    n_bins = bin_start.shape[0] - 1
    half = n_bins * _Z_BIN_KM / 2.0
    bin_start[:] = 0
    r_max = 0.0
    for s in range(n_sat):
        # A satellite without a position (e.g. an SGP4 error) cannot be seen.
        if not (sat_ok[s] and np.isfinite(pos[s, 0] + pos[s, 1] + pos[s, 2])):
            sat_ok[s] = False
            continue
        b = min(max(int((pos[s, 2] + half) / _Z_BIN_KM), 0), n_bins - 1)
        bin_start[b + 1] += 1
        r2 = pos[s, 0] ** 2 + pos[s, 1] ** 2 + pos[s, 2] ** 2
        r_max = max(r_max, r2)
    for b in range(n_bins):
        bin_start[b + 1] += bin_start[b]
    cursor = bin_start[:-1].copy()
    for s in range(n_sat):
        if not sat_ok[s]:
            continue
        b = min(max(int((pos[s, 2] + half) / _Z_BIN_KM), 0), n_bins - 1)
        order[cursor[b]] = s
        cursor[b] += 1
    return np.sqrt(r_max)


@nb.njit(cache=True)
def _scan_step(pos, ep_pos, ep_up, ep_min_sin, ep_ok, nearest, order, bin_start, reach, out, at):
    """Visible (endpoint, satellite) pairs of one step, endpoint-major, satellite ascending
    within an endpoint for ``any-in-view`` (the order of the exhaustive search).

    With ``out`` None-like (zero rows) it only counts; otherwise writes rows from ``at``:
    ``out_e, out_s, out_d, out_sin`` given as a tuple. Returns the number of rows.
    """
    n_ep = ep_pos.shape[0]
    n_bins = bin_start.shape[0] - 1
    half = n_bins * _Z_BIN_KM / 2.0
    out_e, out_s, out_d, out_sin = out
    write = out_e.shape[0] > 0
    count = 0
    scratch_s = np.empty(pos.shape[0], np.int64)
    scratch_d = np.empty(pos.shape[0])
    for e in range(n_ep):
        if not ep_ok[e]:
            continue
        ex, ey, ez = ep_pos[e, 0], ep_pos[e, 1], ep_pos[e, 2]
        ux, uy, uz = ep_up[e, 0], ep_up[e, 1], ep_up[e, 2]
        r = reach[e]
        r2 = r * r
        min_sin = ep_min_sin[e]
        b0 = min(max(int((ez - r + half) / _Z_BIN_KM), 0), n_bins - 1)
        b1 = min(max(int((ez + r + half) / _Z_BIN_KM), 0), n_bins - 1)
        found = 0
        best = -1
        best_d = np.inf
        for k in range(bin_start[b0], bin_start[b1 + 1]):
            s = order[k]
            dx = pos[s, 0] - ex
            dy = pos[s, 1] - ey
            dz = pos[s, 2] - ez
            d2 = dx * dx + dy * dy + dz * dz
            if d2 > r2:
                continue
            up = dx * ux + dy * uy + dz * uz
            d = np.sqrt(d2)
            if up < min_sin * d:
                continue
            if nearest:
                if d < best_d or (d == best_d and s < best):
                    best_d = d
                    best = s
                continue
            scratch_s[found] = s
            scratch_d[found] = d
            found += 1
        if nearest and best >= 0:
            scratch_s[0] = best
            scratch_d[0] = best_d
            found = 1
        if write and found:
            # Satellite order within an endpoint, so results do not depend on the binning.
            idx = np.argsort(scratch_s[:found])
            for i in range(found):
                s = scratch_s[idx[i]]
                d = scratch_d[idx[i]]
                row = at + count + i
                out_e[row] = e
                out_s[row] = s
                out_d[row] = d
                dx = pos[s, 0] - ex
                dy = pos[s, 1] - ey
                dz = pos[s, 2] - ez
                out_sin[row] = (dx * ux + dy * uy + dz * uz) / d if d > 0 else 1.0
        count += found
    return count


def gsl_links(sat_pos, sat_down, ep_pos, ep_up, ep_min_sin, ep_max_range, ep_down, nearest):
    """All visible GSLs of a chunk as flat arrays with per-step offsets.

    Parameters
    ----------
    sat_pos : ``[time, sat, 3]`` km ECEF. sat_down : ``[time, sat]`` bool (True = down).
    ep_pos, ep_up : ``[endpoint, 3]`` km ECEF and local vertical unit vectors of fixed
        endpoints, or ``[time, endpoint, 3]`` for endpoints that move (ships, aircraft): each
        step then uses its own positions.
    ep_min_sin : ``[endpoint]`` sine of the elevation mask. ep_max_range : ``[endpoint]`` km
        (inf = no limit). ep_down : ``[time, endpoint]`` bool. nearest : keep only the closest.

    Returns
    -------
    ``offsets [time + 1]`` (step t's links are rows ``offsets[t]:offsets[t+1]``), ``endpoint``,
    ``satellite``, ``range_km``, ``sin_elevation`` ``[link]``. Two passes (count, then fill),
    each parallel over time steps.
    """
    ep_pos = np.ascontiguousarray(ep_pos, dtype=np.float64)
    ep_up = np.ascontiguousarray(ep_up, dtype=np.float64)
    if ep_pos.ndim == 2:
        ep_pos, ep_up = ep_pos[None], ep_up[None]
    return _gsl_links(sat_pos, sat_down, ep_pos, ep_up, ep_min_sin, ep_max_range, ep_down, nearest)


@nb.njit(parallel=True, cache=True)
def _gsl_links(sat_pos, sat_down, ep_pos, ep_up, ep_min_sin, ep_max_range, ep_down, nearest):
    """``gsl_links`` with endpoint positions ``[time or 1, endpoint, 3]``."""
    n_t, n_sat = sat_pos.shape[0], sat_pos.shape[1]
    r_top = 0.0
    for t in range(n_t):
        for s in range(n_sat):
            z = abs(sat_pos[t, s, 2])
            if np.isfinite(z):
                r_top = max(r_top, z)
    # Bins span at most ±_Z_SPAN_KM; satellites beyond fall into the end bins, which stays
    # exact (an end bin holds everything past its inner edge) and bounds the table for
    # nonsense positions (SGP4 far from an element set's epoch).
    n_bins = int(2.0 * min(r_top, _Z_SPAN_KM) / _Z_BIN_KM) + 2
    counts = np.zeros(n_t, np.int64)
    empty_i = np.empty(0, np.int64)
    empty_f = np.empty(0)
    nothing = (empty_i, empty_i, empty_f, empty_f)
    args = (sat_pos, sat_down, ep_pos, ep_up, ep_min_sin, ep_max_range, ep_down, nearest, n_bins)
    for t in nb.prange(n_t):
        counts[t] = _links_at(t, *args, nothing, 0)
    offsets = np.zeros(n_t + 1, np.int64)
    for t in range(n_t):
        offsets[t + 1] = offsets[t] + counts[t]
    total = offsets[n_t]
    out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total), np.empty(total))
    for t in nb.prange(n_t):
        _links_at(t, *args, out, offsets[t])
    return (offsets, *out)


@nb.njit(cache=True)
def _links_at(
    t, sat_pos, sat_down, ep_pos, ep_up, ep_min_sin, ep_max_range, ep_down, nearest, n_bins, out, at
):
    """Step ``t`` of ``gsl_links``: bin, bound the ranges, scan (count only when ``out`` is
    empty, else write from row ``at``); returns the number of links."""
    order = np.empty(sat_pos.shape[1], np.int64)
    bin_start = np.empty(n_bins + 1, np.int64)
    sat_ok = ~sat_down[t]
    r_max = _bin_by_z(sat_pos[t], sat_ok, order, bin_start)
    # Fixed endpoints give one row of positions for all steps; moving ones one per step.
    # (int64 on both sides: a prange index may be unsigned, and uint64 | int64 is float64.)
    te = np.int64(t) if ep_pos.shape[0] > 1 else np.int64(0)
    reach = _effective_range_km(ep_pos[te], ep_up[te], ep_min_sin, ep_max_range, r_max)
    return _scan_step(
        sat_pos[t], ep_pos[te], ep_up[te], ep_min_sin, ~ep_down[t], nearest, order, bin_start,
        reach, out, at,
    )  # fmt: skip
