"""Tests for orbitgrid.orbits.sun: Sun position against skyfield/DE421, and the beta angle."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
import skyfield.api as skyfield_api  # skyfield and skyfield-data: test dependencies, no skip
import skyfield.framelib as framelib
import skyfield_data

from orbitgrid.constants import AU_KM
from orbitgrid.orbits.sun import beta_angle_rad, sun_position_km
from orbitgrid.orbits.timescale import julian_date_split


@pytest.fixture(scope="module")
def skyfield_sun():
    """DE421 from the skyfield-data package (no download) and skyfield's built-in timescale."""
    with warnings.catch_warnings():
        # skyfield-data warns that its bundled Earth-orientation file is old; it is not used.
        warnings.simplefilter("ignore", RuntimeWarning)
        loader = skyfield_api.Loader(skyfield_data.get_skyfield_data_path(), expire=False)
        ephemeris = loader("de421.bsp")
        timescale = loader.timescale(builtin=True)
    return ephemeris, timescale


def _random_utc_times(n: int, seed: int, start: str, stop: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(start, "ns")
    span_ns = (np.datetime64(stop, "ns") - t0).astype(np.int64)
    return t0 + np.sort(rng.integers(0, span_ns, n)).astype("timedelta64[ns]")


def _unit_vectors(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random directions ``[*shape, 3]``, uniform on the sphere (normalised Gaussian draws)."""
    v = rng.normal(size=(*shape, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_sun_matches_skyfield_apparent_true_of_date(skyfield_sun):
    """Sun vs skyfield's apparent geocentric Sun (DE421), true equator and equinox of date.

    Source: skyfield 1.5x with JPL DE421 (shipped by skyfield-data), ``observe().apparent()``
    in ``true_equator_and_equinox_of_date``. 400 random UTC times, seed 20240501, over
    1990-01-01 to 2053-10-01: DE421 ends on 2053-10-08, so the requested 2060 is out of its
    reach. Tolerances: direction < 0.02° (the Astronomical Almanac C5 formulae claim 0.01°;
    measured max 0.014°, of which up to 0.005° is the nutation they leave out), distance
    < 0.01 % (measured max 0.009 %; the formula ignores the Moon's ≈ 4,700 km pull on the
    Earth).
    """
    ephemeris, timescale = skyfield_sun
    times = _random_utc_times(400, 20240501, "1990-01-01", "2053-10-01")
    jd_whole, jd_fraction = julian_date_split(times)
    ours_km = sun_position_km(jd_whole, jd_fraction)

    utc = [t.astype("datetime64[us]").astype(dt.datetime).replace(tzinfo=dt.UTC) for t in times]
    apparent = ephemeris["earth"].at(timescale.from_datetimes(utc)).observe(ephemeris["sun"])
    reference_km = apparent.apparent().frame_xyz(framelib.true_equator_and_equinox_of_date).km.T

    assert ours_km.shape == (400, 3)
    angle_deg = np.degrees(
        np.arctan2(
            np.linalg.norm(np.cross(ours_km, reference_km), axis=1),
            np.sum(ours_km * reference_km, axis=1),
        )
    )
    distance_ratio = np.linalg.norm(ours_km, axis=1) / np.linalg.norm(reference_km, axis=1)
    assert angle_deg.max() < 0.02, f"max angular error {angle_deg.max():.4f}°"
    assert np.abs(distance_ratio - 1.0).max() < 1e-4


def test_sun_distance_and_declination_at_solstice():
    """June solstice 2024 (20 June 20:51 UTC, USNO): declination ≈ +23.44°, distance ≈ 1.016 AU.

    Source: USNO "Earth's Seasons" table for 2024; aphelion 2024-07-05 at 1.0167 AU. Tolerances:
    0.02° in declination and 0.001 AU (the Sun is two weeks before aphelion).
    """
    jd_whole, jd_fraction = julian_date_split(np.array(["2024-06-20T20:51"], "datetime64[ns]"))
    sun_km = sun_position_km(jd_whole, jd_fraction)[0]
    declination_deg = np.degrees(np.arcsin(sun_km[2] / np.linalg.norm(sun_km)))
    assert declination_deg == pytest.approx(23.44, abs=0.02)
    assert np.linalg.norm(sun_km) / AU_KM == pytest.approx(1.016, abs=0.001)


def test_sun_precision_of_split_julian_date():
    """The split date keeps sub-ms resolution that a single float Julian date (4.7e-10 d) lacks.

    1e-9 d (86.4 µs) moves the apparent Sun ≈ 0.0026 km along its ≈ 30 km/s relative path;
    the same instant written with a different whole part gives the same Sun to 1e-6 km.
    """
    whole = np.array([2460000.5, 2460000.5, 2460000.0])
    fraction = np.array([0.25, 0.25 + 1e-9, 0.75])
    sun_km = sun_position_km(whole, fraction)
    assert 0.0020 < np.linalg.norm(sun_km[1] - sun_km[0]) < 0.0032
    assert np.linalg.norm(sun_km[2] - sun_km[0]) < 1e-6


def test_beta_angle_limits_and_sign():
    """β = asin(n̂·ŝ): +90° with the Sun along the orbit normal, 0 in the plane, −90° opposite."""
    normal = np.array([[0.0, 0.0, 1.0]] * 4)
    sun = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 0.5**0.5, 0.5**0.5]])
    beta = beta_angle_rad(normal, sun)
    np.testing.assert_allclose(np.degrees(beta), [90.0, 0.0, -90.0, 45.0], atol=1e-12)


def test_beta_angle_broadcasts_and_never_nan():
    """Sun [time, 3] against normals [time, sat, 3]; a dot product of 1 + 1 ulp is clipped."""
    rng = np.random.default_rng(3)
    normals = _unit_vectors(rng, (5, 7))
    sun = _unit_vectors(rng, (5,))
    beta = beta_angle_rad(normals, sun[:, None, :])
    assert beta.shape == (5, 7)
    assert np.isfinite(beta_angle_rad(np.array([1.0 + 1e-15, 0, 0]), np.array([1.0, 0, 0])))


def test_engine_beta_kernel_matches_reference_definition():
    """The compiled sin β / β pass equals beta_angle_rad (asin of n̂·ŝ): sin β to 1e-12,
    β to 1e-10 degrees."""
    from orbitgrid.orbits.sun import beta_angle_rad, beta_angles

    rng = np.random.default_rng(7)
    normal = _unit_vectors(rng, (20, 30))
    sun = _unit_vectors(rng, (20,))
    sin_beta, beta_deg = beta_angles(normal, sun)
    expected = beta_angle_rad(normal, sun[:, None, :])
    np.testing.assert_allclose(beta_deg, np.degrees(expected), atol=1e-10)
    np.testing.assert_allclose(sin_beta, np.sin(expected), atol=1e-12)
