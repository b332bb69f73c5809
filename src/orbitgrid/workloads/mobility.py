"""Moving users: ships and aircraft along great-circle legs, vectorised over movers and times.

Model. The Earth is a sphere of mean radius R = 6371.0088 km (IUGG/GRS80 R1 = (2a + b)/3,
``constants.EARTH_MEAN_RADIUS_KM``); geodetic latitude and longitude are used directly as
spherical coordinates. A route is a polyline of waypoints joined by great-circle legs (the
shortest path on the sphere). A waypoint is the unit vector
p = (cos φ cos λ, cos φ sin λ, sin φ); a leg from a to b has angle θ = atan2(|a × b|, a · b),
length R θ and, at distance d from a, the position

    p(d) = cos(d / R) a + sin(d / R) u,    u = (b − (a · b) a) / |b − (a · b) a|,

which is the spherical linear interpolation (slerp) of a and b written with the unit tangent u
at a. Each mover moves at a constant speed v along its track (ground speed over the sphere,
no climb, descent, wind, current or manoeuvring), so the distance travelled is
s(t) = s₀ + v · max(t − t_dep, 0) with s₀ = phase × cycle length. The leg holding s is found
with one ``searchsorted`` over the cumulative leg distances of all movers at once (each mover's
cumulative distances are offset so that the concatenation is sorted).

Behaviour (simple and explicit):

- before ``departure_s`` a mover waits at its start point (the phase point on its track);
- ``after_arrival="stop"``: after the last waypoint it stays there;
- ``after_arrival="loop"``: a closed route (last waypoint = first) repeats; an open route is
  sailed back and forth (out, then the reverse), so the cycle is twice the route length;
- ``phase`` in [0, 1) is the fraction of the cycle (``loop``) or of the route (``stop``)
  already covered at departure; ``spread_fleet`` picks phases that spread N ships evenly
  along a lane (on an open looping lane, alternately outbound and homebound);
- ``kind="ship"``: always active (a user in port or at sea), at ``altitude_km`` (0 by default);
- ``kind="aircraft"``: active only while airborne, for departure ≤ t < arrival (``stop``) or
  t ≥ departure (``loop``); at cruise ``altitude_km`` when active, 0 on the ground.

Error against the WGS84 ellipsoid (measured in ``tests/workloads/test_mobility.py`` against
``pyproj.Geod`` geodesics along the same legs; ``docs/mobility.md``): leg lengths within 0.54 %
(bound 0.57 %: R / a(1 − e²) = 1.0056, the sphere against the meridional radius of curvature
at the equator); a point at the same fraction of a leg within 0.66 f·L of the geodesic point and the
two paths within 0.55 f·L of each other across track (f = 1/298.257, L the leg length: 37 km
and 30 km on a 16,900 km leg; 21 km and 7.9 km at most on the shipped routes). That is small
against a satellite's footprint (a 550 km shell sees users within ~1,000 km).

Performance: 1,000 movers × 8,640 steps (one day at 10 s) take 0.3 s of CPU (0.42 s wall on
a busy two-core machine; the first call in a process about twice that, page-faulting the
215 MB of fresh outputs) in ``positions``. The cost is linear in movers × steps and nearly
independent of the number of waypoints; work is done in blocks of 2**18 cells, so temporaries
stay at a few MB. The one transcendental per cell is tan(δ/2) (SIMD in NumPy), not sin and cos.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from orbitgrid.constants import EARTH_MEAN_RADIUS_KM
from orbitgrid.errors import ScenarioError
from orbitgrid.field_paths import repeated_names
from orbitgrid.network.geometry import central_angle_rad, local_up_unit

EARTH_MEAN_RADIUS_M = EARTH_MEAN_RADIUS_KM * 1e3
KNOT_M_S = 1852.0 / 3600.0
"""One knot in m/s (international nautical mile of 1852 m per hour, exact)."""

KINDS = ("ship", "aircraft")
AFTER_ARRIVAL = ("stop", "loop")
_MAX_LEG_DEG = 179.0  # beyond this the great circle between two points is ill-defined
_SAME_POINT_M = 1.0  # consecutive waypoints closer than this are merged
_KEY_GAP_M = 1.0e3  # gap between movers in the global sorted key
_BLOCK_CELLS = 1 << 18  # (time, mover) cells per block in positions


# --------------------------------------------------------------------------- geometry helpers


def wrap_longitude_deg(lon_deg: np.ndarray | float) -> np.ndarray:
    """Longitude wrapped into [-180, 180) degrees."""
    return np.mod(np.asarray(lon_deg, dtype=np.float64) + 180.0, 360.0) - 180.0


def great_circle_distance_m(
    lat1_deg: np.ndarray | float,
    lon1_deg: np.ndarray | float,
    lat2_deg: np.ndarray | float,
    lon2_deg: np.ndarray | float,
    radius_m: float = EARTH_MEAN_RADIUS_M,
) -> np.ndarray:
    """Great-circle distance (m) on a sphere of ``radius_m`` (inputs in degrees, broadcast).

    Uses the atan2 form of the central angle (Vincenty's formula on the sphere), accurate from
    millimetres to antipodes. Default radius: IUGG mean radius 6371.0088 km (GRS80 R1).
    """
    a, b = np.broadcast_arrays(local_up_unit(lat1_deg, lon1_deg), local_up_unit(lat2_deg, lon2_deg))
    return radius_m * central_angle_rad(a, b)


def heading_deg(
    lat1_deg: np.ndarray | float,
    lon1_deg: np.ndarray | float,
    lat2_deg: np.ndarray | float,
    lon2_deg: np.ndarray | float,
) -> np.ndarray:
    """Initial great-circle course (deg clockwise from true north, in [0, 360)) from 1 to 2.

    Spherical forward azimuth tan α = sin Δλ cos φ₂ / (cos φ₁ sin φ₂ − sin φ₁ cos φ₂ cos Δλ)
    (e.g. Snyder, Map Projections — A Working Manual, USGS PP 1395, 1987, eq. 5-4b). Inputs
    broadcast; a point at a pole gets the course along its meridian convention of atan2.
    """
    p1 = np.radians(np.asarray(lat1_deg, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2_deg, dtype=np.float64))
    dl = np.radians(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.mod(np.degrees(np.arctan2(y, x)), 360.0)


heading = heading_deg
"""Alias of ``heading_deg``."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Mover:
    """One moving user as plain config: its route and how it moves (SI units, degrees).

    ``waypoints_deg`` is a sequence of (latitude, longitude) pairs in degrees (≥ 2 distinct
    points); ``speed_m_s`` the constant ground speed; ``departure_s`` seconds from scenario
    start; ``altitude_km`` the cruise altitude (aircraft) or antenna height (ships, usually 0);
    ``after_arrival`` ``"stop"`` or ``"loop"``; ``phase`` in [0, 1) the fraction of the cycle
    (``loop``) or route (``stop``) already covered at departure; ``kind`` ``"ship"`` or
    ``"aircraft"`` (when it is active: see the module docstring).
    """

    name: str
    waypoints_deg: Sequence[tuple[float, float]] | np.ndarray
    speed_m_s: float
    departure_s: float = 0.0
    altitude_km: float = 0.0
    after_arrival: str = "stop"
    phase: float = 0.0
    kind: str = "ship"


def spread_fleet(mover: Mover, n: int) -> list[Mover]:
    """``n`` copies of ``mover`` spread evenly along its track at departure.

    Phases are ``mover.phase + (k + c) / n`` (mod 1), k = 0 … n−1, and names get a ``-k``
    suffix. c = 0, except for a mover looping back and forth on an open route, where c = 1/4:
    the cycle is out and back, and this offset puts the n movers at the midpoints of n equal
    parts of the route, alternating direction (c = 0 would pair them up, two at each point).
    """
    if n < 1:
        raise ScenarioError(f"fleet size must be at least 1, got {n}", f"{mover.name}.count", n)
    c = 0.0
    if mover.after_arrival == "loop":
        wp = np.asarray(mover.waypoints_deg, dtype=np.float64)
        if wp.ndim == 2 and wp.shape[0] >= 2 and wp.shape[1] == 2:
            ends = local_up_unit(wp[[0, -1], 0], wp[[0, -1], 1])
            closed = central_angle_rad(ends[0], ends[1]) * EARTH_MEAN_RADIUS_M < _SAME_POINT_M
            c = 0.0 if closed else 0.25
    return [
        Mover(
            name=f"{mover.name}-{k}",
            waypoints_deg=mover.waypoints_deg,
            speed_m_s=mover.speed_m_s,
            departure_s=mover.departure_s,
            altitude_km=mover.altitude_km,
            after_arrival=mover.after_arrival,
            phase=float((mover.phase + (k + c) / n) % 1.0),
            kind=mover.kind,
        )
        for k in range(n)
    ]


# --------------------------------------------------------------------------- tracks


@dataclass(frozen=True, eq=False)
class Tracks:
    """Many movers' tracks as flat arrays (build with ``build_tracks``).

    Per mover ``[mover]``: ``name``, ``kind``, ``airborne`` (kind is aircraft), ``speed_m_s``,
    ``departure_s``, ``altitude_km``, ``loop`` (after_arrival is loop), ``phase``,
    ``route_length_m`` (one way), ``cycle_length_m`` (the distance after which a looping mover
    is back at its start: the route if closed, out and back if open; the route for ``stop``),
    ``start_m`` (distance along the cycle at departure) and ``offsets`` ``[mover + 1]``.

    Per track point ``[point]``, mover m owning ``offsets[m]:offsets[m + 1]``:
    ``waypoint_lat_deg``, ``waypoint_lon_deg`` and ``cumulative_m`` (distance from the mover's
    first point along its cycle). For an open looping route the points are the route followed
    by its reverse. The remaining fields are derived geometry used by ``positions``.
    """

    name: np.ndarray
    kind: np.ndarray
    airborne: np.ndarray
    speed_m_s: np.ndarray
    departure_s: np.ndarray
    altitude_km: np.ndarray
    loop: np.ndarray
    phase: np.ndarray
    route_length_m: np.ndarray
    cycle_length_m: np.ndarray
    start_m: np.ndarray
    offsets: np.ndarray
    waypoint_lat_deg: np.ndarray
    waypoint_lon_deg: np.ndarray
    cumulative_m: np.ndarray
    _unit: np.ndarray = field(repr=False)  # [3, point] unit vectors (x, y, z rows)
    _tangent: np.ndarray = field(repr=False)  # [3, point] unit tangent of the leg starting here
    _key: np.ndarray = field(repr=False)  # [point] globally sorted search key
    _base: np.ndarray = field(repr=False)  # [mover] key offset of each mover
    _inv_cycle_m: np.ndarray = field(repr=False)  # [mover] 1 / cycle for loop, else 0
    _cap_m: np.ndarray = field(repr=False)  # [mover] cycle for loop, route for stop
    _arrival_s: np.ndarray = field(repr=False)  # [mover] arrival time, inf for loop

    def __len__(self) -> int:
        return int(self.name.shape[0])

    @property
    def n_movers(self) -> int:
        return len(self)

    def arrival_s(self) -> np.ndarray:
        """``[mover]`` time (s) of arrival at the last waypoint; inf for looping movers.

        From this time on a ``stop`` mover is at its destination (and an aircraft inactive).
        """
        return self._arrival_s.copy()

    def __repr__(self) -> str:
        kinds = dict(zip(*np.unique(self.kind, return_counts=True), strict=True))
        counts = ", ".join(f"{int(v)} {k}" for k, v in kinds.items())
        return f"Tracks({len(self)} movers: {counts})"


def _check(ok: bool, message: str, path: str, value: object) -> None:
    if not ok:
        raise ScenarioError(message, path, value)


def _clean_route(mover: Mover) -> tuple[np.ndarray, np.ndarray]:
    """Validated waypoints without repeated points: (lat_deg [n], lon_deg [n])."""
    name = mover.name
    try:
        wp = np.asarray(mover.waypoints_deg, dtype=np.float64)
    except (TypeError, ValueError):
        raise ScenarioError(
            f"mover {name!r}: waypoints must be a list of [latitude, longitude] pairs in degrees",
            f"{name}.waypoints",
            mover.waypoints_deg,
        ) from None
    _check(
        wp.ndim == 2 and wp.shape[1] == 2 and wp.shape[0] >= 2,
        f"mover {name!r}: waypoints must be at least two [latitude, longitude] pairs, "
        f"got shape {wp.shape}",
        f"{name}.waypoints",
        mover.waypoints_deg,
    )
    _check(
        bool(np.all(np.isfinite(wp))) and bool(np.all(np.abs(wp[:, 0]) <= 90.0)),
        f"mover {name!r}: waypoint latitudes must be within [-90, 90] deg and all values finite",
        f"{name}.waypoints",
        mover.waypoints_deg,
    )
    lat, lon = wp[:, 0], wrap_longitude_deg(wp[:, 1])
    u = local_up_unit(lat, lon)
    keep = np.ones(len(lat), dtype=bool)
    keep[1:] = central_angle_rad(u[:-1], u[1:]) * EARTH_MEAN_RADIUS_M >= _SAME_POINT_M
    lat, lon, u = lat[keep], lon[keep], u[keep]
    _check(
        len(lat) >= 2,
        f"mover {name!r}: all waypoints are the same point; a mover needs a route of non-zero "
        "length (use a fixed endpoint for a stationary user)",
        f"{name}.waypoints",
        mover.waypoints_deg,
    )
    angles = np.degrees(central_angle_rad(u[:-1], u[1:]))
    bad = np.flatnonzero(angles > _MAX_LEG_DEG)
    _check(
        bad.size == 0,
        f"mover {name!r}: waypoints {int(bad[0]) if bad.size else 0} and "
        f"{int(bad[0]) + 1 if bad.size else 1} are nearly antipodal, so the great circle "
        "between them is not defined; add an intermediate waypoint",
        f"{name}.waypoints",
        mover.waypoints_deg,
    )
    return lat, lon


def _check_scalars(mover: Mover) -> None:
    n = mover.name
    _check(
        math.isfinite(mover.speed_m_s) and mover.speed_m_s > 0,
        f"mover {n!r}: speed must be a positive number of m/s, got {mover.speed_m_s}",
        f"{n}.speed",
        mover.speed_m_s,
    )
    _check(
        math.isfinite(mover.departure_s),
        f"mover {n!r}: departure must be a finite time in s from scenario start",
        f"{n}.departure",
        mover.departure_s,
    )
    _check(
        math.isfinite(mover.altitude_km) and mover.altitude_km >= 0,
        f"mover {n!r}: altitude must be ≥ 0 km, got {mover.altitude_km}",
        f"{n}.altitude",
        mover.altitude_km,
    )
    _check(
        mover.after_arrival in AFTER_ARRIVAL,
        f"mover {n!r}: after_arrival must be one of {', '.join(AFTER_ARRIVAL)}, "
        f"got {mover.after_arrival!r}",
        f"{n}.after_arrival",
        mover.after_arrival,
    )
    _check(
        mover.kind in KINDS,
        f"mover {n!r}: kind must be one of {', '.join(KINDS)}, got {mover.kind!r}",
        f"{n}.kind",
        mover.kind,
    )
    _check(
        math.isfinite(mover.phase) and 0.0 <= mover.phase < 1.0,
        f"mover {n!r}: phase must be a fraction in [0, 1), got {mover.phase}",
        f"{n}.phase",
        mover.phase,
    )


def build_tracks(movers: Sequence[Mover]) -> Tracks:
    """Validate movers and precompute their tracks (unit vectors, tangents, distances).

    Raises ``ScenarioError`` naming the mover and field for a bad input (fewer than two
    distinct waypoints, latitude outside ±90°, nearly antipodal consecutive waypoints,
    non-positive speed, unknown ``kind``/``after_arrival``, phase outside [0, 1)).
    The loop over movers here is set-up work, once per scenario; ``positions`` is vectorised.
    """
    if len(movers) == 0:
        raise ScenarioError("no movers given; a track set needs at least one mover", "movers", [])
    names = [m.name for m in movers]
    dupes = repeated_names(names)
    _check(not dupes, f"mover names must be unique; repeated: {', '.join(dupes)}", "movers", dupes)

    lats, lons = [], []
    route_len = np.empty(len(movers))
    for i, mover in enumerate(movers):
        _check_scalars(mover)
        lat, lon = _clean_route(mover)
        u = local_up_unit(lat, lon)
        route_len[i] = EARTH_MEAN_RADIUS_M * float(np.sum(central_angle_rad(u[:-1], u[1:])))
        closed = central_angle_rad(u[0], u[-1]) * EARTH_MEAN_RADIUS_M < _SAME_POINT_M
        if mover.after_arrival == "loop" and not closed:
            lat = np.concatenate([lat, lat[-2::-1]])
            lon = np.concatenate([lon, lon[-2::-1]])
        lats.append(lat)
        lons.append(lon)

    counts = np.array([len(a) for a in lats])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    lat = np.concatenate(lats)
    lon = np.concatenate(lons)
    unit = local_up_unit(lat, lon)
    owner = np.repeat(np.arange(len(movers)), counts)

    # Leg from point p to p + 1 (the last point of each mover gets a dummy zero leg).
    nxt = np.roll(unit, -1, axis=0)
    last = offsets[1:] - 1
    nxt[last] = unit[last]
    leg_m = EARTH_MEAN_RADIUS_M * central_angle_rad(unit, nxt)
    leg_m[last] = 0.0
    tangent = nxt - np.sum(unit * nxt, axis=-1, keepdims=True) * unit
    norm = np.linalg.norm(tangent, axis=-1, keepdims=True)
    tangent = np.divide(tangent, norm, out=np.zeros_like(tangent), where=norm > 0)

    before = np.concatenate([[0.0], np.cumsum(leg_m)[:-1]])  # distance before each point
    cumulative = before - before[offsets[:-1]][owner]
    cycle_len = cumulative[last]
    base = np.concatenate([[0.0], np.cumsum(cycle_len + _KEY_GAP_M)[:-1]])
    key = base[owner] + cumulative

    phase = np.array([m.phase for m in movers], dtype=np.float64)
    loop = np.array([m.after_arrival == "loop" for m in movers])
    start = phase * np.where(loop, cycle_len, route_len)
    kind = np.array([m.kind for m in movers])
    speed = np.array([m.speed_m_s for m in movers], dtype=np.float64)
    departure = np.array([m.departure_s for m in movers], dtype=np.float64)
    return Tracks(
        name=np.array(names),
        kind=kind,
        airborne=kind == "aircraft",
        speed_m_s=speed,
        departure_s=departure,
        altitude_km=np.array([m.altitude_km for m in movers], dtype=np.float64),
        loop=loop,
        phase=phase,
        route_length_m=route_len,
        cycle_length_m=cycle_len,
        start_m=start,
        offsets=offsets,
        waypoint_lat_deg=lat,
        waypoint_lon_deg=lon,
        cumulative_m=cumulative,
        _unit=np.ascontiguousarray(unit.T),
        _tangent=np.ascontiguousarray(tangent.T),
        _key=key,
        _base=base,
        _inv_cycle_m=np.where(loop, 1.0 / cycle_len, 0.0),
        _cap_m=np.where(loop, cycle_len, route_len),
        _arrival_s=np.where(loop, np.inf, departure + (route_len - start) / speed),
    )


# --------------------------------------------------------------------------- kinematics


class MoverPositions(NamedTuple):
    """``[time, mover]`` arrays returned by ``positions`` (unpacks as a 4-tuple)."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_km: np.ndarray
    active: np.ndarray


def along_track_m(tracks: Tracks, times_s: np.ndarray) -> np.ndarray:
    """``[time, mover]`` distance (m) along each mover's cycle, in [0, cycle_length_m].

    s(t) = start + v · max(t − t_dep, 0), then wrapped modulo the cycle (``loop``) or clipped
    at the route length (``stop``; exactly the route length from ``arrival_s()`` on, so that
    position and activity agree to the last bit at the arrival time).
    """
    t = np.asarray(times_s, dtype=np.float64).reshape(-1, 1)
    s = np.maximum(t - tracks.departure_s, 0.0)
    s *= tracks.speed_m_s
    s += tracks.start_m
    # s − floor(s / L) · L for looping movers (1/L is 0 for the others); floor is much faster
    # than np.mod, and the clip below absorbs its last-bit rounding.
    s -= np.floor(s * tracks._inv_cycle_m) * tracks.cycle_length_m
    np.clip(s, 0.0, tracks._cap_m, out=s)
    np.copyto(s, tracks._cap_m, where=t >= tracks._arrival_s)
    return s


def positions(tracks: Tracks, times_s: np.ndarray) -> MoverPositions:
    """Positions and activity of every mover at every time: ``[time, mover]`` arrays.

    Returns (lat_deg, lon_deg in [-180, 180), altitude_km, active). Great-circle motion at
    constant speed on the mean-radius sphere (equations in the module docstring): the leg is
    found by one ``searchsorted`` over all movers' cumulative distances, then
    p ∝ (1 − τ²) a + 2τ u with τ = tan(d / 2R), the same point as cos(d/R) a + sin(d/R) u up to
    a positive factor. ``active`` is False for an aircraft before departure and
    after arrival (it is on the ground, not a user of the network), True for ships; an
    inactive aircraft reports altitude 0 and its ground position (origin or destination).
    ``times_s`` are seconds from scenario start, in any order. Work is done in blocks of
    about 2**18 (time, mover) cells, so temporaries stay small (a few MB) whatever the size.
    """
    t = np.asarray(times_s, dtype=np.float64).reshape(-1)
    n_t, n_m = t.shape[0], len(tracks)
    lat = np.empty((n_t, n_m))
    lon = np.empty((n_t, n_m))
    altitude = np.empty((n_t, n_m))
    active = np.empty((n_t, n_m), dtype=bool)
    rows = max(1, _BLOCK_CELLS // max(n_m, 1))
    for i in range(0, n_t, rows):
        sl = slice(i, min(i + rows, n_t))
        _positions_block(tracks, t[sl], lat[sl], lon[sl], altitude[sl], active[sl])
    return MoverPositions(lat, lon, altitude, active)


def _positions_block(
    tracks: Tracks,
    t: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    altitude: np.ndarray,
    active: np.ndarray,
) -> None:
    s = along_track_m(tracks, t)  # [time, mover]
    j = np.searchsorted(tracks._key, (s + tracks._base).ravel(), side="right")
    j = j.reshape(s.shape) - 1
    np.clip(j, tracks.offsets[:-1], tracks.offsets[1:] - 2, out=j)
    # p ∝ cos δ a + sin δ u = (1 − τ²) a + 2τ u / (1 + τ²) with τ = tan(δ/2); the common
    # factor does not change latitude or longitude, so it is dropped. δ < 179° on every leg.
    tau = s - tracks.cumulative_m[j]
    tau *= 0.5 / EARTH_MEAN_RADIUS_M
    np.tan(tau, out=tau)
    c = 1.0 - tau * tau
    tau *= 2.0
    ux, uy, uz = tracks._unit
    tx, ty, tz = tracks._tangent
    x = c * ux[j]
    x += tau * tx[j]
    y = c * uy[j]
    y += tau * ty[j]
    z = c * uz[j]
    z += tau * tz[j]
    np.degrees(np.arctan2(y, x), out=lon)
    lon[lon >= 180.0] -= 360.0
    x *= x
    y *= y
    x += y
    np.sqrt(x, out=x)
    np.degrees(np.arctan2(z, x), out=lat)

    started = t[:, None] >= tracks.departure_s
    flying = started & (t[:, None] < tracks._arrival_s)
    active[...] = np.where(tracks.airborne, flying, True)
    altitude[...] = np.where(tracks.airborne & ~flying, 0.0, tracks.altitude_km)
