"""Moving users (``workloads.mobility``) and the shipped routes and sites (``workloads.places``).

Validation: positions along great-circle legs on the mean-radius sphere against WGS84 geodesics
from ``pyproj.Geod`` (Karney's algorithm on the ellipsoid, an independent implementation), with
bounds derived from the flattening (``docs/mobility.md``, "Error against WGS84"). Properties
(hypothesis): speed along the track, continuity, activity of aircraft, ``stop`` and ``loop``,
longitude wrap across the antimeridian. Data: every shipped route and site loads, has valid
coordinates and a source, and the shipping lanes stay at sea (Natural Earth 1:110m land).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from orbitgrid.constants import WGS84
from orbitgrid.errors import ScenarioError
from orbitgrid.network.endpoints import read_endpoints_csv
from orbitgrid.report._world_110m import world_110m_json
from orbitgrid.workloads import mobility
from orbitgrid.workloads.mobility import (
    EARTH_MEAN_RADIUS_M,
    KNOT_M_S,
    Mover,
    along_track_m,
    build_tracks,
    great_circle_distance_m,
    heading_deg,
    positions,
    spread_fleet,
)
from orbitgrid.workloads.places import (
    builtin_air_routes,
    builtin_remote_sites,
    builtin_route,
    builtin_routes,
    builtin_shipping_lanes,
    shipped_routes,
)

GEOD = Geod(ellps="WGS84")
F = WGS84.flattening  # 1/298.257223563 ≈ 0.335 %
A_M = WGS84.radius_km * 1e3
E2 = WGS84.eccentricity_sq

# Sphere-for-ellipsoid bounds (derivation in docs/mobility.md):
# LENGTH_REL_BOUND: on a short north-south leg at the equator the sphere uses R where the
# ellipsoid has the meridional radius of curvature M = a(1 − e²) = 6335.44 km: R/M − 1 = +0.560 %
# (at the poles M = a/√(1 − e²) = 6399.59 km: −0.447 %). A leg length averages such ratios along
# the leg, so |L_sphere/L_geodesic − 1| ≤ R/M_equator − 1; rounded up to 0.57 %.
MERIDIONAL_RATIO_EQUATOR = EARTH_MEAN_RADIUS_M / (A_M * (1.0 - E2)) - 1.0
LENGTH_REL_BOUND = 0.0057
# OFFSET_REL_BOUND: both paths join the same end points and differ by a distortion of first
# order in f, so the offset between points at the same fraction of a leg, and the cross-track
# separation of the two paths, are O(f · L). Measured maxima over the shipped legs and random
# legs up to 170°: 0.66 f·L (same fraction) and 0.55 f·L (cross-track). Bound: f · L.
OFFSET_REL_BOUND = F
# HEADING_BOUND_DEG: the initial azimuth on the sphere and on the ellipsoid differ by O(f) rad
# (0.19°); measured at most 0.20° for legs up to 120°. Bound: 2 f rad = 0.38°.
HEADING_BOUND_DEG = np.degrees(2.0 * F)


def _leg_vs_geodesic(a: tuple[float, float], b: tuple[float, float], n: int = 21, m: int = 401):
    """Compare one leg flown by ``positions`` with the WGS84 geodesic between the same points.

    Returns (sphere length, geodesic length, max offset at the same fraction of the leg,
    max cross-track distance to the geodesic, max relative error of the travelled distance
    measured on the ellipsoid from the start), lengths in m.
    """
    tracks = build_tracks([Mover("leg", [a, b], 1.0)])
    length = float(tracks.route_length_m[0])
    t = np.linspace(0.0, length, n)  # speed 1 m/s: time = distance
    lat, lon, _, _ = positions(tracks, t)
    lat, lon = lat[:, 0], lon[:, 0]
    az, _, length_e = GEOD.inv(a[1], a[0], b[1], b[0])
    frac = t / length
    lon_g, lat_g, _ = GEOD.fwd(np.full(n, a[1]), np.full(n, a[0]), np.full(n, az), frac * length_e)
    _, _, same_fraction = GEOD.inv(lon, lat, lon_g, lat_g)

    dense = np.array(GEOD.npts(a[1], a[0], b[1], b[0], m, initial_idx=0, terminus_idx=0))
    _, _, dist = GEOD.inv(
        np.repeat(lon, m), np.repeat(lat, m), np.tile(dense[:, 0], n), np.tile(dense[:, 1], n)
    )
    k = dist.reshape(n, m).argmin(axis=1)
    k0 = np.minimum(k, m - 2)
    az_path, _, _ = GEOD.inv(dense[k0, 0], dense[k0, 1], dense[k0 + 1, 0], dense[k0 + 1, 1])
    az_point, _, d_point = GEOD.inv(dense[k, 0], dense[k, 1], lon, lat)
    cross = np.where(d_point > 0, np.abs(d_point * np.sin(np.radians(az_point - az_path))), 0.0)

    _, _, travelled_e = GEOD.inv(np.full(n, a[1]), np.full(n, a[0]), lon, lat)
    far = t > 1e3
    along_rel = np.abs(travelled_e[far] / t[far] - 1.0).max() if far.any() else 0.0
    return length, length_e, same_fraction.max(), cross.max(), along_rel


def _shipped_legs():
    for key, route in shipped_routes().items():
        wp = route.waypoints_deg
        for i in range(len(wp) - 1):
            yield key, i, (float(wp[i, 0]), float(wp[i, 1])), (float(wp[i + 1, 0]), wp[i + 1, 1])


# --------------------------------------------------------------------------- validation


def test_bound_constants_follow_from_wgs84():
    """The length bound is the sphere/meridian radius ratio at the equator (0.560 %)."""
    assert MERIDIONAL_RATIO_EQUATOR == pytest.approx(0.00560, abs=5e-5)
    assert MERIDIONAL_RATIO_EQUATOR < LENGTH_REL_BOUND
    assert EARTH_MEAN_RADIUS_M == pytest.approx((2 * A_M + A_M * (1 - F)) / 3, abs=0.1)


def test_shipped_legs_against_wgs84_geodesic():
    """Every leg of every shipped route against pyproj.Geod (WGS84): length within 0.57 %,
    same-fraction offset and cross-track separation within f · L (bounds in module header)."""
    worst = {"length": 0.0, "offset_km": 0.0, "cross_km": 0.0, "along": 0.0}
    for key, i, a, b in _shipped_legs():
        length, length_e, offset, cross, along = _leg_vs_geodesic(a, b)
        where = f"{key} leg {i}"
        assert abs(length / length_e - 1.0) <= LENGTH_REL_BOUND, where
        assert offset <= OFFSET_REL_BOUND * length + 1.0, where
        assert cross <= OFFSET_REL_BOUND * length + 1.0, where
        assert along <= LENGTH_REL_BOUND, where
        worst["length"] = max(worst["length"], abs(length / length_e - 1.0))
        worst["offset_km"] = max(worst["offset_km"], offset / 1e3)
        worst["cross_km"] = max(worst["cross_km"], cross / 1e3)
        worst["along"] = max(worst["along"], along)
    # Measured (docs/mobility.md): length 0.54 %, offset 21 km, cross-track 7.9 km, along 0.54 %.
    assert worst["cross_km"] < 10.0
    assert worst["offset_km"] < 25.0


def test_random_legs_against_wgs84_geodesic():
    """Random legs anywhere (|lat| ≤ 80°, up to 170° long) against pyproj.Geod, same bounds."""
    rng = np.random.default_rng(20260)
    checked = 0
    while checked < 25:
        a = (rng.uniform(-80, 80), rng.uniform(-180, 180))
        b = (rng.uniform(-80, 80), rng.uniform(-180, 180))
        if great_circle_distance_m(*a, *b) > np.radians(170.0) * EARTH_MEAN_RADIUS_M:
            continue
        length, length_e, offset, cross, along = _leg_vs_geodesic(a, b)
        assert abs(length / length_e - 1.0) <= LENGTH_REL_BOUND, (a, b)
        assert offset <= OFFSET_REL_BOUND * length, (a, b)
        assert cross <= OFFSET_REL_BOUND * length, (a, b)
        assert along <= LENGTH_REL_BOUND, (a, b)
        checked += 1


def test_lane_positions_over_time_against_geodesic_legs():
    """A ship sailing the Rotterdam–Singapore lane, sampled every 3 h: each position is within
    f · L_leg of the WGS84 geodesic point at the same fraction of the same leg."""
    route = builtin_route("rotterdam-singapore")
    tracks = build_tracks([route.mover(after_arrival="stop")])
    speed = tracks.speed_m_s[0]
    times = np.arange(0.0, tracks.route_length_m[0] / speed, 3 * 3600.0)
    lat, lon, _, active = positions(tracks, times)
    assert active.all()
    wp = route.waypoints_deg
    legs_m = great_circle_distance_m(wp[:-1, 0], wp[:-1, 1], wp[1:, 0], wp[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(legs_m)])
    s = speed * times
    leg = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(legs_m) - 1)
    frac = (s - cum[leg]) / legs_m[leg]
    az, _, length_e = GEOD.inv(wp[leg, 1], wp[leg, 0], wp[leg + 1, 1], wp[leg + 1, 0])
    lon_g, lat_g, _ = GEOD.fwd(wp[leg, 1], wp[leg, 0], az, frac * length_e)
    _, _, offset = GEOD.inv(lon[:, 0], lat[:, 0], lon_g, lat_g)
    assert np.all(offset <= OFFSET_REL_BOUND * legs_m[leg] + 1.0)
    assert offset.max() < 25e3


def test_distance_and_heading_against_geodesic():
    """great_circle_distance_m within 0.57 % of the WGS84 geodesic; heading_deg within 2 f rad
    (0.38°) of the geodesic forward azimuth for distances up to 120°."""
    rng = np.random.default_rng(7)
    n = 5000
    lat1, lat2 = rng.uniform(-80, 80, n), rng.uniform(-80, 80, n)
    lon1, lon2 = rng.uniform(-180, 180, n), rng.uniform(-180, 180, n)
    az, _, dist_e = GEOD.inv(lon1, lat1, lon2, lat2)
    dist = great_circle_distance_m(lat1, lon1, lat2, lon2)
    assert np.all(np.abs(dist / dist_e - 1.0) <= LENGTH_REL_BOUND)
    near = dist < np.radians(120.0) * EARTH_MEAN_RADIUS_M
    diff = np.abs((heading_deg(lat1, lon1, lat2, lon2) - az + 180.0) % 360.0 - 180.0)
    assert np.all(diff[near] <= HEADING_BOUND_DEG)
    assert heading_deg(0.0, 0.0, 10.0, 0.0) == pytest.approx(0.0)
    assert heading_deg(0.0, 0.0, 0.0, 10.0) == pytest.approx(90.0)
    assert heading_deg(0.0, 0.0, -10.0, 0.0) == pytest.approx(180.0)
    assert heading_deg(0.0, 10.0, 0.0, 0.0) == pytest.approx(270.0)
    assert mobility.heading is heading_deg


# --------------------------------------------------------------------------- properties

lat_st = st.floats(-85.0, 85.0)
lon_st = st.floats(-180.0, 179.999)
routes_st = st.lists(st.tuples(lat_st, lon_st), min_size=2, max_size=5)


def _tracks_or_skip(movers: list[Mover]):
    try:
        return build_tracks(movers)
    except ScenarioError:
        assume(False)


def _distance(lat, lon, i, j):
    return great_circle_distance_m(lat[i], lon[i], lat[j], lon[j])


@settings(max_examples=60, deadline=None, database=None)
@given(
    route=routes_st,
    speed=st.floats(0.5, 300.0),
    after=st.sampled_from(["stop", "loop"]),
    phase=st.floats(0.0, 0.999),
    t_frac=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_speed_along_track_equals_configured_speed(route, speed, after, phase, t_frac):
    """Between t and t + dt inside one leg the great-circle distance moved is v · dt; across a
    waypoint (a corner) it is less, never more."""
    tracks = _tracks_or_skip([Mover("m", route, speed, after_arrival=after, phase=phase)])
    dt = 10.0
    cycle_s = tracks.cycle_length_m[0] / speed
    t0 = np.asarray(t_frac) * cycle_s
    times = np.concatenate([t0, t0 + dt])
    lat, lon, _, _ = positions(tracks, times)
    s = along_track_m(tracks, times)[:, 0]
    n = len(t0)
    moved = great_circle_distance_m(lat[:n, 0], lon[:n, 0], lat[n:, 0], lon[n:, 0])
    cum = tracks.cumulative_m
    leg0 = np.searchsorted(cum, s[:n], side="right")
    leg1 = np.searchsorted(cum, s[n:], side="right")
    straight = (leg0 == leg1) & (s[n:] > s[:n]) & (s[n:] < tracks._cap_m[0])
    expected = speed * dt
    assert np.all(moved <= expected * (1 + 1e-6) + 1e-3)
    assert np.allclose(moved[straight], expected, rtol=1e-6, atol=1e-3)
    # Along-track distances of tens of thousands of km differ by metres: allow the rounding
    # of the two (a few ulps of |s|) besides the relative tolerance.
    rounding_m = 8 * np.finfo(float).eps * max(float(np.abs(s).max()), 1.0)
    assert np.allclose(s[n:][straight] - s[:n][straight], expected, rtol=1e-9, atol=rounding_m)


@settings(max_examples=40, deadline=None, database=None)
@given(
    route=routes_st,
    speed=st.floats(1.0, 300.0),
    after=st.sampled_from(["stop", "loop"]),
    closed=st.booleans(),
    departure=st.floats(0.0, 1e5),
)
def test_positions_are_continuous(route, speed, after, closed, departure):
    """Consecutive positions on a fine time grid are never farther apart than v · dt: through
    waypoints, the turnaround of a back-and-forth loop, the wrap of a closed loop, departure,
    arrival and the antimeridian."""
    if closed:
        route = [*route, route[0]]
    tracks = _tracks_or_skip([Mover("m", route, speed, departure, after_arrival=after)])
    horizon = departure + 1.3 * tracks.cycle_length_m[0] / speed
    times = np.linspace(0.0, horizon, 3001)
    lat, lon, _, _ = positions(tracks, times)
    step = _distance(lat[:, 0], lon[:, 0], slice(None, -1), slice(1, None))
    assert np.all(step <= speed * (times[1] - times[0]) * (1 + 1e-6) + 1e-3)
    assert np.all((lon >= -180.0) & (lon < 180.0))
    assert np.all(np.abs(lat) <= 90.0)


@settings(max_examples=60, deadline=None, database=None)
@given(
    route=routes_st,
    speed=st.floats(150.0, 300.0),
    departure=st.floats(0.0, 5e4),
    altitude=st.floats(0.0, 15.0),
    t=st.lists(st.floats(0.0, 2e5), min_size=1, max_size=30),
)
def test_aircraft_active_only_in_flight(route, speed, departure, altitude, t):
    """An aircraft is inactive (on the ground, altitude 0) before departure and from arrival
    on, active at cruise altitude in between; before departure it sits at its origin and after
    arrival at its destination. A ship on the same route is always active."""
    movers = [
        Mover("plane", route, speed, departure, altitude, "stop", kind="aircraft"),
        Mover("ship", route, 10.0, departure, 0.0, "stop", kind="ship"),
    ]
    tracks = _tracks_or_skip(movers)
    times = np.asarray(t)
    lat, lon, alt, active = positions(tracks, times)
    arrival = tracks.arrival_s()[0]
    flying = (times >= departure) & (times < arrival)
    assert np.array_equal(active[:, 0], flying)
    assert np.all(alt[flying, 0] == altitude)
    assert np.all(alt[~flying, 0] == 0.0)
    assert active[:, 1].all()
    wp = tracks.waypoint_lat_deg, tracks.waypoint_lon_deg
    start, end = tracks.offsets[0], tracks.offsets[1] - 1
    before = times < departure
    after = times >= arrival
    d0 = great_circle_distance_m(lat[before, 0], lon[before, 0], wp[0][start], wp[1][start])
    d1 = great_circle_distance_m(lat[after, 0], lon[after, 0], wp[0][end], wp[1][end])
    assert np.all(d0 < 1e-3)
    assert np.all(d1 < 1e-3)


@settings(max_examples=40, deadline=None, database=None)
@given(route=routes_st, speed=st.floats(1.0, 300.0), extra=st.floats(0.0, 1e7))
def test_stop_stays_at_destination(route, speed, extra):
    """With after_arrival = stop the mover stays at its last waypoint after arrival (within
    1 m: waypoints closer than 1 m to the previous one are merged into it)."""
    tracks = _tracks_or_skip([Mover("m", route, speed, after_arrival="stop")])
    arrival = tracks.arrival_s()[0]
    assert arrival == pytest.approx(tracks.route_length_m[0] / speed)
    times = np.array([arrival, arrival + extra, arrival + 2 * extra + 1.0])
    lat, lon, _, active = positions(tracks, times)
    dist = great_circle_distance_m(lat[:, 0], lon[:, 0], route[-1][0], route[-1][1])
    assert np.all(dist < 1.0)
    assert active.all()  # a ship in port is still a user
    assert np.all(along_track_m(tracks, times) == tracks.route_length_m[0])


@settings(max_examples=40, deadline=None, database=None)
@given(
    lat_a=st.floats(-60.0, 60.0),
    lat_b=st.floats(-60.0, 60.0),
    lon_a=st.floats(150.0, 179.9),
    lon_b=st.floats(-179.9, -150.0),
)
def test_longitude_wraps_across_the_antimeridian(lat_a, lat_b, lon_a, lon_b):
    """A leg across ±180° (shorter than 60° of longitude): longitudes stay in [-180, 180), jump
    once from +180 to −180 and the motion is continuous on the sphere."""
    tracks = build_tracks([Mover("m", [(lat_a, lon_a), (lat_b, lon_b)], 250.0)])
    times = np.linspace(0.0, tracks.route_length_m[0] / 250.0, 500)
    lat, lon, _, _ = positions(tracks, times)
    lon = lon[:, 0]
    assert np.all((lon >= -180.0) & (lon < 180.0))
    jumps = np.abs(np.diff(lon)) > 180.0
    assert jumps.sum() == 1
    step = _distance(lat[:, 0], lon, slice(None, -1), slice(1, None))
    assert np.all(step <= 250.0 * (times[1] - times[0]) * (1 + 1e-6))


@pytest.mark.parametrize("key", ["SYD-LAX", "shanghai-los-angeles", "JFK-HKG"])
def test_shipped_routes_across_antimeridian_and_pole(key):
    """SYD–LAX and the trans-Pacific lane cross the antimeridian, JFK–HKG passes near the pole:
    positions stay valid and continuous, longitudes in [-180, 180)."""
    route = builtin_route(key)
    tracks = build_tracks([route.mover(after_arrival="stop")])
    speed = tracks.speed_m_s[0]
    times = np.linspace(0.0, tracks.route_length_m[0] / speed, 5000)
    lat, lon, _, _ = positions(tracks, times)
    assert np.all((lon >= -180.0) & (lon < 180.0))
    step = _distance(lat[:, 0], lon[:, 0], slice(None, -1), slice(1, None))
    assert np.all(step <= speed * (times[1] - times[0]) * (1 + 1e-6))
    if key == "JFK-HKG":
        assert lat.max() > 80.0
    else:
        assert (np.abs(np.diff(lon[:, 0])) > 180.0).sum() == 1


# --------------------------------------------------------------------------- behaviour


def test_loop_goes_back_and_forth_on_open_routes_and_repeats_closed_ones():
    route = [(0.0, 0.0), (0.0, 10.0), (5.0, 10.0)]
    tracks = build_tracks(
        [
            Mover("open", route, 10.0, after_arrival="loop"),
            Mover("closed", [*route, (0.0, 0.0)], 10.0, after_arrival="loop"),
        ]
    )
    length = tracks.route_length_m
    assert tracks.cycle_length_m[0] == pytest.approx(2 * length[0])
    assert tracks.cycle_length_m[1] == pytest.approx(length[1])
    assert np.isinf(tracks.arrival_s()).all()
    times = np.array([0.0, length[0] / 10.0, 2 * length[0] / 10.0, length[1] / 10.0])
    lat, lon, _, active = positions(tracks, times)
    assert active.all()
    assert (lat[0, 0], lon[0, 0]) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert (lat[1, 0], lon[1, 0]) == pytest.approx((5.0, 10.0), abs=1e-9)  # turnaround
    assert (lat[2, 0], lon[2, 0]) == pytest.approx((0.0, 0.0), abs=1e-9)  # back home
    assert (lat[3, 1], lon[3, 1]) == pytest.approx((0.0, 0.0), abs=1e-9)  # closed lap done


def test_waiting_before_departure_at_the_phase_point():
    """Before departure a ship waits, active, at its start point on the track (its phase)."""
    route = [(0.0, 0.0), (0.0, 40.0)]
    tracks = build_tracks(
        [
            Mover("a", route, 10.0, departure_s=1000.0, after_arrival="stop"),
            Mover("b", route, 10.0, departure_s=1000.0, after_arrival="stop", phase=0.5),
        ]
    )
    lat, lon, alt, active = positions(tracks, [0.0, 999.0, 1000.0, 1100.0])
    assert active.all()
    assert np.all(alt == 0.0)
    assert lon[:3, 0] == pytest.approx(0.0, abs=1e-9)
    assert lon[:3, 1] == pytest.approx(20.0, abs=1e-9)
    moved = great_circle_distance_m(lat[3], lon[3], lat[2], lon[2])
    assert moved == pytest.approx(1000.0, rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_spread_fleet_is_evenly_spaced_along_the_route(n):
    """A looping fleet on an open lane sits at the midpoints of n equal parts of the route,
    alternating direction; a stopping fleet at k/n of the route."""
    lane = builtin_route("singapore-port-hedland")
    tracks = build_tracks(lane.fleet(n))
    length = tracks.route_length_m[0]
    s = along_track_m(tracks, [0.0])[0]
    folded = np.where(s > length, 2 * length - s, s)
    assert np.sort(folded) == pytest.approx((2 * np.arange(n) + 1) / (2 * n) * length)
    stop = build_tracks(spread_fleet(lane.mover(after_arrival="stop"), n))
    assert np.sort(along_track_m(stop, [0.0])[0]) == pytest.approx(np.arange(n) / n * length)
    assert list(tracks.name) == [f"singapore-port-hedland-{k}" for k in range(n)]


@pytest.mark.parametrize(
    ("mover", "field"),
    [
        (Mover("m", [(0, 0)], 10.0), "waypoints"),
        (Mover("m", [(0, 0), (0, 0)], 10.0), "waypoints"),
        (Mover("m", [(0, 0), (91, 0)], 10.0), "waypoints"),
        (Mover("m", [(0, 0), (0, 179.5)], 10.0), "waypoints"),  # nearly antipodal
        (Mover("m", [(0, 0), (1, 1)], 0.0), "speed"),
        (Mover("m", [(0, 0), (1, 1)], 10.0, altitude_km=-1.0), "altitude"),
        (Mover("m", [(0, 0), (1, 1)], 10.0, after_arrival="bounce"), "after_arrival"),
        (Mover("m", [(0, 0), (1, 1)], 10.0, kind="submarine"), "kind"),
        (Mover("m", [(0, 0), (1, 1)], 10.0, phase=1.0), "phase"),
        (Mover("m", [(0, 0), (1, 1)], float("nan")), "speed"),
    ],
)
def test_bad_movers_raise_a_scenario_error_naming_the_field(mover, field):
    with pytest.raises(ScenarioError, match="mover 'm'") as err:
        build_tracks([mover])
    assert err.value.path == f"m.{field}"


def test_duplicate_names_and_empty_lists_are_rejected():
    with pytest.raises(ScenarioError, match="unique"):
        build_tracks([Mover("a", [(0, 0), (1, 1)], 1.0), Mover("a", [(0, 0), (2, 2)], 1.0)])
    with pytest.raises(ScenarioError, match="at least one mover"):
        build_tracks([])
    with pytest.raises(ScenarioError, match="at least 1"):
        spread_fleet(Mover("a", [(0, 0), (1, 1)], 1.0), 0)


def test_repeated_waypoints_are_merged():
    tracks = build_tracks([Mover("m", [(0, 0), (0, 0), (0, 1), (0, 1), (0, 2)], 1.0)])
    assert tracks.offsets.tolist() == [0, 3]
    assert tracks.route_length_m[0] == pytest.approx(np.radians(2.0) * EARTH_MEAN_RADIUS_M)


def test_performance_1000_movers_one_day_at_10_s():
    """1,000 movers × 8,640 steps: measured about 0.3–0.5 s on one core (docs/mobility.md);
    the bound is loose so that a shared CI machine does not fail it, but a Python loop over
    movers or times (≥ 10×) would."""
    rng = np.random.default_rng(1)
    movers = []
    for i in range(1000):
        n = int(rng.integers(2, 12))
        lon = rng.uniform(-180, 180) + np.cumsum(rng.uniform(-90, 90, n))  # no antipodal legs
        wp = np.column_stack([rng.uniform(-60, 60, n), lon])
        movers.append(
            Mover(
                f"m{i}",
                wp,
                float(rng.uniform(6, 250)),
                float(rng.uniform(0, 3e4)),
                after_arrival=("stop", "loop")[i % 2],
                phase=float(rng.uniform(0, 1)),
                kind=("ship", "aircraft")[i % 3 == 0],
            )
        )
    tracks = build_tracks(movers)
    times = np.arange(8640) * 10.0
    positions(tracks, times[:10])
    start = time.perf_counter()
    lat, _, _, _ = positions(tracks, times)
    elapsed = time.perf_counter() - start
    assert lat.shape == (8640, 1000)
    assert elapsed < 5.0


# --------------------------------------------------------------------------- shipped data


def test_shipped_lanes_load_with_valid_coordinates_speeds_and_sources():
    lanes = builtin_shipping_lanes()
    assert {
        "rotterdam-singapore",
        "shanghai-los-angeles",
        "santos-rotterdam",
        "houston-rotterdam",
        "singapore-port-hedland",
    } <= set(lanes)
    for key, lane in lanes.items():
        wp = lane.waypoints_deg
        assert lane.kind == "ship"
        assert len(wp) >= 2, key
        assert np.all(np.abs(wp[:, 0]) <= 90.0) and np.all(np.abs(wp[:, 1]) <= 180.0), key
        assert all(src.strip() for src in lane.sources), key
        assert "UN/LOCODE" in lane.sources[0] and "UN/LOCODE" in lane.sources[-1], key
        assert 10 * KNOT_M_S <= lane.speed_m_s <= 25 * KNOT_M_S, key
        assert lane.vehicle, key
        build_tracks([lane.mover()])  # no degenerate or antipodal legs


def test_shipped_air_routes_load_with_valid_airports_and_sources():
    routes = builtin_air_routes()
    assert {"LHR-JFK", "SIN-LHR", "SYD-LAX", "DXB-LAX", "JFK-HKG", "SCL-MAD"} <= set(routes)
    for key, route in routes.items():
        assert route.kind == "aircraft"
        assert len(route.waypoint_names) == 2
        for name in route.waypoint_names:
            iata, icao = name.split(" (")
            assert len(iata) == 3 and iata.isupper() and len(icao.rstrip(")")) == 4
        assert key == "-".join(n.split(" ")[0] for n in route.waypoint_names)
        assert np.all(np.abs(route.waypoints_deg) <= [90.0, 180.0])
        assert 200.0 <= route.speed_m_s <= 280.0 and 9.0 <= route.altitude_km <= 13.0
        assert all(s.strip() for s in route.sources)
        mover = route.mover()
        assert mover.kind == "aircraft" and mover.after_arrival == "stop"


def test_shipped_remote_sites_load_with_valid_fields_and_sources():
    sites = builtin_remote_sites()
    for required in ("Escondida", "Grasberg", "Oyu Tolgoi", "Diavik", "McMurdo Station"):
        assert required in sites
    types = {s.site_type for s in sites.values()}
    assert types == {"mine", "offshore_platform", "research_station"}
    for name, site in sites.items():
        assert -90.0 <= site.latitude_deg <= 90.0 and -180.0 <= site.longitude_deg <= 180.0
        assert len(site.country) == 2 and site.country.isupper(), name
        assert site.workforce is None or site.workforce > 0, name
        assert site.source.strip(), name
        assert 0.0 <= site.altitude_km < 5.0, name
    # The same file is a valid endpoint list (user terminals with a jurisdiction).
    from importlib import resources

    path = resources.files("orbitgrid.data").joinpath("remote_sites.csv")
    endpoints = read_endpoints_csv(str(path))
    assert [e.name for e in endpoints] == list(sites)
    assert {e.kind for e in endpoints} == {"user_terminal"}


def test_builtin_routes_by_kind_as_waypoint_arrays():
    ships = builtin_routes("ship")
    planes = builtin_routes("aircraft")
    assert set(ships) == set(builtin_shipping_lanes())
    assert set(planes) == set(builtin_air_routes())
    assert set(builtin_routes()) == set(ships) | set(planes)
    assert all(v.ndim == 2 and v.shape[1] == 2 for v in ships.values())
    ships["rotterdam-singapore"][:] = 0.0  # fresh arrays: the cache is not touched
    assert builtin_routes("ship")["rotterdam-singapore"][0, 0] != 0.0
    with pytest.raises(ScenarioError, match="unknown route kind"):
        builtin_routes("train")
    with pytest.raises(ScenarioError, match="available"):
        builtin_route("atlantis-express")


# Legs allowed to cross land at 1:110m: the port channels (first and last leg of each lane:
# Nieuwe Waterweg, Houston Ship Channel, port approaches of Santos, Singapore, Port Hedland)
# and the Suez Canal and Gulf of Suez, which Natural Earth 1:110m does not resolve as water.
CANAL_LEGS = {("rotterdam-singapore", w) for w in ("Port Said", "Suez", "Gulf of Suez north")}
CANAL_LEGS |= {("rotterdam-singapore", "Gulf of Suez south")}
COASTLINE_SLACK_KM = 15.0  # generalisation of the 1:110m coastline in narrow straits


def _land_polygons():
    """Natural Earth 1:110m land polygons (rings as [lon, lat] arrays), Antarctica left out."""
    topo = json.loads(world_110m_json())
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        q = np.cumsum(np.asarray(arc, dtype=np.float64), axis=0)
        arcs.append(np.column_stack([q[:, 0] * sx + tx, q[:, 1] * sy + ty]))

    def ring(indices):
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        pts = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
        pts[:, 0] = np.unwrap(pts[:, 0], period=360.0)  # islands cut by the antimeridian
        return pts

    polygons = []
    for geom in topo["objects"]["land"]["geometries"]:
        for poly in geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]:
            rings = [ring(r) for r in poly]
            if rings[0][:, 1].min() > -60.0:
                polygons.append(rings)
    return polygons


def _on_land(lat: np.ndarray, lon: np.ndarray, polygons) -> np.ndarray:
    """Even-odd ray casting (rays towards +lon), vectorised over points and edges."""
    inside = np.zeros(lat.shape, dtype=bool)
    for rings in polygons:
        for shift in (-360.0, 0.0, 360.0):
            x = lon + shift
            crossings = np.zeros(lat.shape, dtype=np.int64)
            for r in rings:
                x0, y0, x1, y1 = r[:-1, 0], r[:-1, 1], r[1:, 0], r[1:, 1]
                spans = (y0[:, None] > lat) != (y1[:, None] > lat)
                with np.errstate(divide="ignore", invalid="ignore"):
                    xi = x0[:, None] + (lat - y0[:, None]) * ((x1 - x0) / (y1 - y0))[:, None]
                crossings += np.sum(spans & (x < xi), axis=0)
            inside |= crossings % 2 == 1
    return inside


def test_land_mask_recognises_land_and_sea():
    """The 1:110m mask used below: Paris, Madrid, Sahara, Ulaanbaatar, Fiji (Viti Levu, cut by
    the antimeridian in the data) are land; mid-Atlantic, mid-Pacific, Dover Strait are sea."""
    polygons = _land_polygons()
    lat = np.array([48.85, 40.42, 23.0, 47.9, -17.8, 30.0, 0.0, 51.0, -16.5])
    lon = np.array([2.35, -3.70, 10.0, 106.9, 178.0, -40.0, -150.0, 1.45, -36.6])
    assert _on_land(lat, lon, polygons).tolist() == [True] * 5 + [False] * 4


def test_shipping_lanes_stay_at_sea():
    """Sample every lane every 5 km: no point on land (Natural Earth 1:110m) except on the
    port-channel and canal legs, and at most COASTLINE_SLACK_KM in a row in narrow straits."""
    polygons = _land_polygons()
    step_m = 5e3
    for key, lane in builtin_shipping_lanes().items():
        tracks = build_tracks([lane.mover(after_arrival="stop", speed_m_s=1.0)])
        s = np.arange(0.0, tracks.route_length_m[0], step_m)
        lat, lon, _, _ = positions(tracks, s)
        leg = np.searchsorted(tracks.cumulative_m, s, side="right") - 1
        names = lane.waypoint_names
        exempt = (leg == 0) | (leg == len(names) - 2)
        exempt |= np.isin(leg, [i for i, n in enumerate(names) if (key, n) in CANAL_LEGS])
        land = _on_land(lat[:, 0], lon[:, 0], polygons) & ~exempt
        for k in np.unique(leg[land]):
            run_km = land[leg == k].sum() * step_m / 1e3
            assert run_km <= COASTLINE_SLACK_KM, f"{key}: {names[k]} → {names[k + 1]} on land"
