"""Ground-endpoint geometry against skyfield: local vertical, elevation, azimuth, slant range
and pass windows, at latitudes from the equator to 78° N and 60° S.

Reference: skyfield 1.5x topocentric positions, ``(satellite - wgs84.latlon(...)).at(t)
.altaz()`` — its own SGP4 wrapper, TEME → GCRS → ITRS chain and WGS84 horizon frame (the
geodetic normal of NIMA TR8350.2), with the built-in timescale (no download). The satellites
are the ISS (51.6°, ``tests/data/iss_zarya.tle``) and a sun-synchronous satellite at ~550 km
(97.6°) written here, so that 70° and 78° N see passes overhead.

The geometric comparison feeds orbitgrid the satellites' ITRS positions from skyfield, so it
isolates the ground side (``geodetic_to_ecef_km``, ``local_up_unit``, ``elevation_deg``,
``slant_range_km``): agreement is at round-off (measured ≤ 3e-12° and ≤ 4e-11 km); the
tolerance 1e-7° is far below the geocentric-vs-geodetic vertical error (up to 0.19° at 45°).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sgp4.io import fix_checksum
from skyfield.api import EarthSatellite, load, wgs84
from skyfield.framelib import itrs

from orbitgrid.constants import WGS84
from orbitgrid.network.contacts import ground_to_satellite_visibility, windows_from_mask
from orbitgrid.network.geometry import (
    elevation_deg,
    geodetic_to_ecef_km,
    inertial_to_ecef_km,
    local_up_unit,
    slant_range_km,
)
from orbitgrid.orbits.elements import parse_elements
from orbitgrid.orbits.sgp4_propagation import propagate_teme
from orbitgrid.orbits.timescale import gmst_rad, julian_date_split

DATA = Path(__file__).resolve().parents[1] / "data"
ISS = tuple((DATA / "iss_zarya.tle").read_text().splitlines()[:2])
# Sun-synchronous, ~550 km: i = 97.6°, n = 15.06 rev/day, same epoch as the ISS elements.
SSO = (
    fix_checksum("1 90001U 19001A   19343.69339541  .00000000  00000-0  00000-0 0  999"),
    fix_checksum("2 90001  97.6000 120.0000 0001000   0.0000   0.0000 15.06000000    1"),
)
SITES = [  # (latitude, longitude, height km)
    (0.0, -78.0, 2.8),
    (45.0, 7.0, 0.3),
    (70.0, 19.0, 0.1),
    (78.23, 15.41, 0.5),  # Svalbard
    (-60.0, -45.0, 0.0),
]


@pytest.fixture(scope="module")
def timescale():
    return load.timescale(builtin=True)


def _times(timescale, hours=24.0, step_s=30.0):
    seconds = np.arange(0.0, hours * 3600.0, step_s)
    return seconds, timescale.utc(2019, 12, 9, 12, 0, seconds)


def _local_frame(up):
    """East and north unit vectors of the horizon plane normal to ``up`` (not at a pole)."""
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    return east, np.cross(up, east)


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"lat{s[0]:g}")
def test_elevation_azimuth_range_match_skyfield(timescale, site):
    """Elevation, azimuth (from ``local_up_unit``'s horizon frame) and slant range of the ISS
    and a sun-synchronous satellite, every 30 s over a day, against skyfield's ``altaz()`` for
    every step with the satellite above −5°: 1e-7° in elevation, 1e-6° in azimuth (≥ 1° from
    the zenith) and 1 mm in range. Plus: the local vertical is the WGS84 ellipsoid normal
    ∇(x²/a² + y²/a² + z²/b²) at the site, to 1e-12."""
    lat, lon, h_km = site
    _, t = _times(timescale)
    topos = wgs84.latlon(lat, lon, elevation_m=h_km * 1e3)
    ep = geodetic_to_ecef_km(np.array([lat]), np.array([lon]), np.array([h_km]), WGS84)
    np.testing.assert_allclose(ep[0], topos.itrs_xyz.km, atol=1e-6)
    up = local_up_unit(np.array([lat]), np.array([lon]))
    # Ellipsoid normal at the foot of the site (height does not change it).
    foot = geodetic_to_ecef_km(np.array([lat]), np.array([lon]), np.array([0.0]), WGS84)[0]
    normal = foot / np.array([1.0, 1.0, (1.0 - WGS84.flattening) ** 2])
    np.testing.assert_allclose(up[0], normal / np.linalg.norm(normal), atol=1e-12)
    east, north = _local_frame(up[0])
    compared = 0
    for lines in (ISS, SSO):
        satellite = EarthSatellite(*lines, ts=timescale)
        sat_ecef = satellite.at(t).frame_xyz(itrs).km.T  # [time, 3]
        alt, az, dist = (satellite - topos).at(t).altaz()
        el = elevation_deg(sat_ecef[:, None, :], ep, up)[:, 0, 0]
        rng = slant_range_km(sat_ecef[:, None, :], ep)[:, 0, 0]
        d = sat_ecef - ep[0]
        azimuth = np.degrees(np.arctan2(d @ east, d @ north)) % 360.0
        seen = alt.degrees > -5.0
        compared += int(seen.sum())
        np.testing.assert_allclose(el[seen], alt.degrees[seen], atol=1e-7)
        np.testing.assert_allclose(rng[seen], dist.km[seen], atol=1e-6)
        off_zenith = seen & (alt.degrees < 89.0)
        daz = (azimuth[off_zenith] - az.degrees[off_zenith] + 180.0) % 360.0 - 180.0
        np.testing.assert_allclose(daz, 0.0, atol=1e-6)
    # Both satellites pass over every site within a day: at least ~3 passes' worth of steps.
    assert compared >= 60


def test_elevation_and_range_of_many_endpoints_and_satellites_at_once(timescale):
    """``elevation_deg`` and ``slant_range_km`` on ``[time, sat, 3]`` and ``[endpoint, 3]``
    return ``[time, endpoint, sat]`` with every pair equal to skyfield's ``altaz()`` (the
    einsum once mixed the endpoint and satellite axes and raised for > 1 endpoint)."""
    _, t = _times(timescale, hours=3.0, step_s=60.0)
    lat, lon, h_km = (np.array(c) for c in zip(*SITES, strict=True))
    ep = geodetic_to_ecef_km(lat, lon, h_km, WGS84)
    up = local_up_unit(lat, lon)
    satellites = [EarthSatellite(*lines, ts=timescale) for lines in (ISS, SSO)]
    sat_ecef = np.stack([s.at(t).frame_xyz(itrs).km.T for s in satellites], axis=1)
    el = elevation_deg(sat_ecef, ep, up)
    rng = slant_range_km(sat_ecef, ep)
    assert el.shape == rng.shape == (len(t), len(SITES), 2)
    for e, (la, lo, h) in enumerate(SITES):
        topos = wgs84.latlon(la, lo, elevation_m=h * 1e3)
        for k, satellite in enumerate(satellites):
            alt, _, dist = (satellite - topos).at(t).altaz()
            np.testing.assert_allclose(el[:, e, k], alt.degrees, atol=1e-7)
            np.testing.assert_allclose(rng[:, e, k], dist.km, atol=1e-6)


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"lat{s[0]:g}")
def test_pass_windows_match_skyfield_events(timescale, site):
    """Contact windows above a 10° mask from orbitgrid's whole chain (SGP4 → TEME → GMST
    rotation → ``ground_to_satellite_visibility`` → ``windows_from_mask``, 10 s steps, one
    day) against skyfield's ``find_events`` rise and set times for the same elements: the same
    number of passes, and each window's start within [rise, rise + step] and end within
    [set, set + step] (sample-and-hold edges), ± 0.5 s for the frames orbitgrid simplifies
    (UTC for UT1: −0.17 s on this date, IERS Bulletin A; no polar motion)."""
    lat, lon, h_km = site
    step_s, mask_deg = 10.0, 10.0
    seconds, t = _times(timescale, step_s=step_s)
    topos = wgs84.latlon(lat, lon, elevation_m=h_km * 1e3)
    ep = geodetic_to_ecef_km(np.array([lat]), np.array([lon]), np.array([h_km]), WGS84)
    up = local_up_unit(np.array([lat]), np.array([lon]))
    times_utc = np.datetime64("2019-12-09T12:00:00", "ns") + (seconds * 1e9).astype(
        "timedelta64[ns]"
    )
    elements = parse_elements("\n".join(ISS + SSO) + "\n")
    teme, _, status = propagate_teme(elements, times_utc)
    assert (status == 0).all()
    sat_ecef = inertial_to_ecef_km(teme, gmst_rad(*julian_date_split(times_utc)))
    visible, rng = ground_to_satellite_visibility(
        sat_ecef, ep, up, np.array([mask_deg]), np.array([np.inf])
    )
    windows = windows_from_mask(visible[:, 0, :], rng[:, 0, :], seconds, step_s)
    t0, t1 = t[0], timescale.utc(2019, 12, 9, 12, 0, seconds[-1] + step_s)
    total = 0
    for index, lines in enumerate((ISS, SSO)):
        satellite = EarthSatellite(*lines, ts=timescale)
        when, event = satellite.find_events(topos, t0, t1, altitude_degrees=mask_deg)
        offset_s = (when.tt - t[0].tt) * 86400.0
        rises, sets = offset_s[event == 0], offset_s[event == 2]
        # A pass cut by the day's start (end) has no rise (set): its window starts at 0 s
        # (ends one step after the last sample), which the bounds below accept.
        if len(sets) and (not len(rises) or sets[0] < rises[0]):
            rises = np.concatenate([[-step_s], rises])
        if len(rises) > len(sets):
            sets = np.concatenate([sets, [seconds[-1]]])
        mine = windows.link == index
        start, end = windows.start_s[mine], windows.end_s[mine]
        assert len(start) == len(rises), (lat, index, start, rises)
        assert np.all((start >= rises - 0.5) & (start <= rises + step_s + 0.5))
        assert np.all((end >= sets - 0.5) & (end <= sets + step_s + 0.5))
        total += len(rises)
    # Every site sees the sun-synchronous satellite above 10° several times a day.
    assert total >= 3
