"""Tests for orbitgrid.orbits.frames: geodetic conversions, GMST rotation, orbit normal."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skyfield.api as skyfield_api  # a test dependency (pyproject.toml [test]): no skip
import skyfield.sgp4lib as sgp4lib
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.constants import WGS84
from orbitgrid.orbits.frames import (
    ecef_to_geodetic,
    geodetic_to_ecef_km,
    inertial_to_ecef_km,
    orbit_normal_unit,
)
from orbitgrid.orbits.timescale import gmst_rad, julian_date_split

ONE_MM_KM = 1e-6
# 1e-9° of latitude is 0.11 mm on the ground.
NANO_DEGREE = 1e-9


def _wrap_deg(angle_deg: np.ndarray) -> np.ndarray:
    return (np.asarray(angle_deg) + 180.0) % 360.0 - 180.0


def _iterative_geodetic(position_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Independent reference: fixed-point iteration φ ← atan2(z + e² N sin φ, ρ) to convergence.

    The iteration contracts by ≈ e² ≈ 0.0067 per step, so 30 steps are at machine precision;
    h = ρ cos φ + z sin φ − a²/N is well conditioned at the poles (Vallado 4th ed., Alg. 12
    form, no ρ/cos φ).
    """
    a = WGS84.radius_km
    e2 = WGS84.eccentricity_sq
    x, y, z = position_km[..., 0], position_km[..., 1], position_km[..., 2]
    rho = np.hypot(x, y)
    lat = np.arctan2(z, rho * (1.0 - e2))
    for _ in range(30):
        n = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
        lat = np.arctan2(z + e2 * n * np.sin(lat), rho)
    n = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    h = rho * np.cos(lat) + z * np.sin(lat) - a * a / n
    return np.degrees(lat), h


def test_geodetic_matches_skyfield_wgs84():
    """ECEF↔geodetic vs skyfield's WGS84 (``wgs84.latlon(...).itrs_xyz``), < 1 mm and 1e-9°.

    Source: skyfield 1.5x ``toposlib.Geoid`` with a = 6378137 m, 1/f = 298.257223563. 5,000
    random points, seed 5, latitude ±90°, height −0.4 km (Dead Sea) to 36,000 km (GEO), plus
    the poles and the equator. Skyfield's forward map is the independent truth for our
    inverse, and it checks our forward map directly. Measured: < 1e-4 mm, < 1e-13°.
    """
    rng = np.random.default_rng(5)
    n = 5000
    lat_deg = np.concatenate([[90.0, -90.0, 0.0, 0.0], rng.uniform(-90.0, 90.0, n)])
    lon_deg = np.concatenate([[0.0, 45.0, 0.0, 179.0], rng.uniform(-180.0, 180.0, n)])
    alt_km = np.concatenate([[0.0, 550.0, 0.0, 35786.0], rng.uniform(-0.4, 36000.0, n)])
    reference_km = skyfield_api.wgs84.latlon(lat_deg, lon_deg, elevation_m=alt_km * 1e3).itrs_xyz
    reference_km = reference_km.km.T

    np.testing.assert_allclose(
        geodetic_to_ecef_km(lat_deg, lon_deg, alt_km), reference_km, atol=ONE_MM_KM, rtol=0
    )
    lat_out, lon_out, alt_out = ecef_to_geodetic(reference_km)
    np.testing.assert_allclose(lat_out, lat_deg, atol=NANO_DEGREE, rtol=0)
    # Longitude is undefined at the poles; skip those two rows.
    np.testing.assert_allclose(_wrap_deg(lon_out - lon_deg)[2:], 0.0, atol=NANO_DEGREE)
    np.testing.assert_allclose(alt_out, alt_km, atol=ONE_MM_KM, rtol=0)


def test_geodetic_matches_iterative_reference_at_leo():
    """Closed form vs a converged fixed-point iteration for LEO-to-GEO points, < 1 mm and 1e-9°.

    Source: the classic latitude iteration (see ``_iterative_geodetic``), run to machine
    precision. Random ECEF points at radii 6,500–42,500 km in every direction, seed 9.
    """
    rng = np.random.default_rng(9)
    direction = rng.normal(size=(20000, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    position_km = direction * rng.uniform(6500.0, 42500.0, (20000, 1))
    lat_out, _, alt_out = ecef_to_geodetic(position_km)
    lat_ref, alt_ref = _iterative_geodetic(position_km)
    np.testing.assert_allclose(lat_out, lat_ref, atol=NANO_DEGREE, rtol=0)
    np.testing.assert_allclose(alt_out, alt_ref, atol=ONE_MM_KM, rtol=0)


@settings(max_examples=300, deadline=None)
@given(
    lat_deg=st.floats(-90.0, 90.0),
    lon_deg=st.floats(-180.0, 180.0),
    alt_km=st.floats(-1.0, 50000.0),
)
def test_property_round_trip_geodetic_ecef(lat_deg, lon_deg, alt_km):
    """geodetic → ECEF → geodetic returns the input: 1 mm in height, 1e-9° in angles."""
    lat_out, lon_out, alt_out = ecef_to_geodetic(geodetic_to_ecef_km(lat_deg, lon_deg, alt_km))
    assert abs(lat_out - lat_deg) < NANO_DEGREE
    assert abs(alt_out - alt_km) < ONE_MM_KM
    if abs(lat_deg) < 90.0 - 1e-6:  # longitude is meaningful off the poles
        assert abs(_wrap_deg(lon_out - lon_deg)) < NANO_DEGREE * max(
            1.0, 1e-6 / math.cos(math.radians(lat_deg))
        )


def test_geodetic_shapes_broadcast():
    """Forward conversion broadcasts scalars with arrays; inverse keeps leading axes."""
    ecef = geodetic_to_ecef_km(np.zeros((4, 1)), np.linspace(0.0, 90.0, 3), 0.0)
    assert ecef.shape == (4, 3, 3)
    lat, lon, alt = ecef_to_geodetic(ecef)
    assert lat.shape == lon.shape == alt.shape == (4, 3)
    np.testing.assert_allclose(ecef[0, 0], [WGS84.radius_km, 0.0, 0.0], atol=1e-12)


def test_gmst_rotation_puts_greenwich_on_x_axis():
    """A point at inertial right ascension θ = GMST lies on the Greenwich meridian (+x, ECEF).

    Source: definition of GMST as the hour angle of the mean equinox at Greenwich (Vallado 4th
    ed., §3.5). Tolerance 1 mm.
    """
    times = np.array(["2000-01-01T12:00", "2024-03-20T03:06", "2031-11-02T17:45:12"], "M8[ns]")
    theta = gmst_rad(*julian_date_split(times))
    radius_km = WGS84.radius_km + 550.0
    position_km = np.stack(
        [radius_km * np.cos(theta), radius_km * np.sin(theta), np.full(3, 1234.0)], axis=-1
    )[:, None, :]
    ecef_km = inertial_to_ecef_km(position_km, theta)
    expected = np.array([[radius_km, 0.0, 1234.0]] * 3)[:, None, :]
    np.testing.assert_allclose(ecef_km, expected, atol=ONE_MM_KM, rtol=0)
    _, lon_deg, _ = ecef_to_geodetic(ecef_km)
    np.testing.assert_allclose(lon_deg, 0.0, atol=NANO_DEGREE)


def test_teme_to_ecef_matches_skyfield():
    """TEME → pseudo-ECEF vs skyfield ``sgp4lib.TEME_to_ITRF`` with zero polar motion, < 1 mm.

    Source: skyfield 1.5x, which rotates by its own GMST 1982 implementation (AIAA 2006-6753).
    Ten times over 2000–2040 and 50 random LEO positions, seed 2.
    """
    rng = np.random.default_rng(2)
    times = np.datetime64("2000-01-01", "ns") + rng.integers(
        0, 40 * 365 * 86400 * 10**9, 10
    ).astype("timedelta64[ns]")
    jd_whole, jd_fraction = julian_date_split(times)
    position_km = rng.normal(size=(10, 50, 3)) * 4000.0
    ecef_km = inertial_to_ecef_km(position_km, gmst_rad(jd_whole, jd_fraction))
    reference_km = np.empty_like(ecef_km)
    for t in range(10):
        # TEME_to_ITRF takes one vector at a time (its velocity term does not broadcast).
        for k in range(50):
            reference_km[t, k], _ = sgp4lib.TEME_to_ITRF(
                jd_whole[t], position_km[t, k], np.zeros(3), fraction_ut1=jd_fraction[t]
            )
    np.testing.assert_allclose(ecef_km, reference_km, atol=ONE_MM_KM, rtol=0)


def test_inertial_to_ecef_rejects_bad_shapes():
    """The [time, satellite, 3] / [time] contract is checked, naming the shapes."""
    with pytest.raises(ValueError, match=r"gmst_rad must have shape \[time\]"):
        inertial_to_ecef_km(np.zeros((2, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"position_km must have shape"):
        inertial_to_ecef_km(np.zeros((2, 3)), np.zeros(2))


def test_orbit_normal_unit():
    """Prograde equatorial orbit → +z; inclined orbit → unit vector at the inclination."""
    r = np.array([[7000.0, 0.0, 0.0], [7000.0, 0.0, 0.0]])
    inc = math.radians(53.0)
    v = np.array([[0.0, 7.5, 0.0], [0.0, 7.5 * math.cos(inc), 7.5 * math.sin(inc)]])
    normal = orbit_normal_unit(r, v)
    np.testing.assert_allclose(normal[0], [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(normal[1], [0.0, -math.sin(inc), math.cos(inc)], atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(normal, axis=-1), 1.0, atol=1e-15)
