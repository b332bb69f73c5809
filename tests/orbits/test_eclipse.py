"""Tests for orbitgrid.orbits.eclipse: conical shadow against geometry, invariants, a twin."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.constants import AU_KM, SUN_RADIUS_KM, WGS84
from orbitgrid.orbits.eclipse import eclipse_fraction_geometric, sunlit_fraction

R_EARTH_KM = WGS84.radius_km
SUN_AT_PLUS_X_KM = np.array([[AU_KM, 0.0, 0.0]])
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _circular_orbit_km(altitude_km: float, beta_rad: float, n_points: int) -> np.ndarray:
    """Points of a circular orbit whose normal makes angle β with +x (the Sun), [n, 3]."""
    radius_km = R_EARTH_KM + altitude_km
    # Normal n = (sin β, 0, cos β); e1 = (cos β, 0, −sin β) and e2 = y span the orbit plane.
    e1 = np.array([math.cos(beta_rad), 0.0, -math.sin(beta_rad)])
    e2 = np.array([0.0, 1.0, 0.0])
    u = np.linspace(0.0, 2.0 * np.pi, n_points, endpoint=False)
    return radius_km * (np.cos(u)[:, None] * e1 + np.sin(u)[:, None] * e2)


def _sunlit_at_fixed_sun(points_km: np.ndarray) -> np.ndarray:
    """Sunlit fraction of points [n, 3] with the Sun at 1 AU along +x (one time step)."""
    return sunlit_fraction(points_km[None, :, :], SUN_AT_PLUS_X_KM)[0]


def _reference_scalar(r_km: np.ndarray, s_km: np.ndarray) -> float:
    """Independent plain transcription of Montenbruck & Gill (2000) eq. 3.85–3.89 (acos form)."""
    d = s_km - r_km
    r = float(np.linalg.norm(r_km))
    dn = float(np.linalg.norm(d))
    a = math.asin(SUN_RADIUS_KM / dn)
    b = math.asin(R_EARTH_KM / r)
    c = math.acos(float(np.dot(-r_km, d)) / (r * dn))
    if c >= a + b:
        return 1.0
    if c <= b - a:
        return 0.0
    x = (c * c + a * a - b * b) / (2.0 * c)
    y = math.sqrt(a * a - x * x)
    area = a * a * math.acos(x / a) + b * b * math.acos((c - x) / b) - c * y
    return 1.0 - area / (math.pi * a * a)


def _cylinder_eclipse_fraction_sampled(altitude_km: float, beta_rad: float) -> float:
    """Independent of the project's code: the fraction of 200,000 evenly spaced points of the
    orbit that lie inside the shadow cylinder behind the Earth (x < 0 and distance from the
    x-axis < R, Sun on +x)."""
    points_km = _circular_orbit_km(altitude_km, beta_rad, 200_000)
    behind = points_km[:, 0] < 0.0
    axis_distance_km = np.hypot(points_km[:, 1], points_km[:, 2])
    return float(np.mean(behind & (axis_distance_km < R_EARTH_KM)))


def _cylinder_eclipse_fraction_closed_form(altitude_km: float, beta_rad: float) -> float:
    """Written here from the geometry, not imported: the orbit point at angle u from orbit
    midnight is (R + h)·√(cos²u cos²β + sin²u) from the shadow axis, so the shadow spans
    cos u ≥ √(h² + 2Rh)/((R + h) cos β), i.e. f = (1/π)·acos(√(h² + 2Rh)/((R + h) cos β))
    (e.g. Wertz, Everett & Puschell, *Space Mission Engineering: The New SMAD*, 2011)."""
    h, r = altitude_km, R_EARTH_KM
    argument = math.sqrt(h * h + 2.0 * r * h) / ((r + h) * math.cos(beta_rad))
    return math.acos(argument) / math.pi if argument <= 1.0 else 0.0


@pytest.mark.parametrize("beta_deg", [0.0, 30.0, 55.0, 65.0])
def test_orbit_average_matches_cylindrical_geometry(beta_deg):
    """Orbit-mean (1 − sunlit) of the conical model against the cylindrical shadow computed
    in this test two ways (closed form and counting sampled orbit points inside the
    cylinder), and ``eclipse_fraction_geometric`` against the same closed form.

    The conical penumbra straddles the cylinder's edge almost symmetrically, so the averages
    agree to second order: measured ≤ 0.01 % (β = 0°–65°); tolerance 0.2 %, about one of
    the 4,000 samples per orbit at each shadow edge at 65°. At 550 km, β = 0 the fraction is
    0.372 (asin(R/(R + h))/π). Sun at 1 AU on +x.
    """
    beta_rad = math.radians(beta_deg)
    closed_form = _cylinder_eclipse_fraction_closed_form(550.0, beta_rad)
    sampled = _cylinder_eclipse_fraction_sampled(550.0, beta_rad)
    assert sampled == pytest.approx(closed_form, abs=2e-5)  # 2e-5: 4 of 200,000 samples
    assert float(eclipse_fraction_geometric(550.0, beta_rad)) == pytest.approx(
        closed_form, rel=1e-12
    )
    if beta_deg == 0.0:
        assert closed_form == pytest.approx(
            math.asin(R_EARTH_KM / (R_EARTH_KM + 550.0)) / math.pi, rel=1e-12
        )
        assert closed_form == pytest.approx(0.372, abs=0.001)
    points_km = _circular_orbit_km(550.0, beta_rad, 4000)
    mean_eclipse = float(np.mean(1.0 - _sunlit_at_fixed_sun(points_km)))
    assert mean_eclipse == pytest.approx(sampled, rel=2e-3)


@pytest.mark.parametrize("beta_deg", [68.0, 75.0, 89.9, -70.0])
def test_no_eclipse_above_critical_beta(beta_deg):
    """No shadow at all for |β| above β* = asin(R / (R + h)) ≈ 67.0° (550 km, WGS84
    equatorial radius), with margin.

    Source: cylindrical geometry (the orbit's closest approach to the shadow axis is
    (R + h) sin β); the penumbra reaches ≈ 13 km past the cylinder there, 0.3° of β, so 68° is
    clear. Tolerance: exact (every sample fully lit).
    """
    critical_deg = math.degrees(math.asin(R_EARTH_KM / (R_EARTH_KM + 550.0)))
    assert critical_deg == pytest.approx(67.0, abs=0.05)
    points_km = _circular_orbit_km(550.0, math.radians(beta_deg), 4000)
    assert np.all(_sunlit_at_fixed_sun(points_km) == 1.0)
    assert eclipse_fraction_geometric(550.0, math.radians(beta_deg)) == 0.0


def test_geometric_fraction_vectorised_and_bounded():
    """The analytic helper broadcasts, lies in [0, 0.5], and falls to 0 at the critical β."""
    altitude_km = np.array([[400.0], [550.0], [1200.0], [35786.0]])
    beta_rad = np.radians(np.linspace(-90.0, 90.0, 181))
    fraction = eclipse_fraction_geometric(altitude_km, beta_rad)
    assert fraction.shape == (4, 181)
    assert np.all((fraction >= 0.0) & (fraction <= 0.5))
    critical_rad = math.asin(R_EARTH_KM / (R_EARTH_KM + 550.0))
    assert eclipse_fraction_geometric(550.0, critical_rad - 1e-6) < 1e-2
    assert eclipse_fraction_geometric(550.0, critical_rad + 1e-6) == 0.0


def test_matches_plain_reference_in_penumbra():
    """Compiled kernel vs an independent scalar transcription of M&G eq. 3.85–3.89, < 1e-6.

    Points are drawn in a ±40 km band around the shadow cylinder so most are in penumbra.
    Tolerance: 1e-6 in the fraction (the acos form of the reference loses ≈ 1e-7).
    """
    rng = np.random.default_rng(7)
    n = 3000
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    rho_km = R_EARTH_KM + rng.uniform(-40.0, 40.0, n)
    points_km = np.stack(
        [-rng.uniform(2000.0, 8000.0, n), rho_km * np.cos(angle), rho_km * np.sin(angle)], axis=1
    )
    ours = _sunlit_at_fixed_sun(points_km)
    reference = np.array([_reference_scalar(p, SUN_AT_PLUS_X_KM[0]) for p in points_km])
    assert np.mean((ours > 0.0) & (ours < 1.0)) > 0.5
    np.testing.assert_allclose(ours, reference, atol=1e-6, rtol=0.0)


def test_shapes_time_varying_sun_and_nan():
    """[time, sat, 3] with a Sun per step gives [time, sat]; a NaN position stays NaN."""
    positions_km = np.zeros((3, 2, 3))
    positions_km[:, :, 0] = R_EARTH_KM + 550.0  # on +x
    sun_km = np.array([[AU_KM, 0, 0], [-AU_KM, 0, 0], [0, AU_KM, 0]], dtype=float)
    positions_km[1, 1] = np.nan
    out = sunlit_fraction(positions_km, sun_km)
    assert out.shape == (3, 2)
    assert out[0, 0] == 1.0 and out[1, 0] == 0.0 and out[2, 0] == 1.0
    assert np.isnan(out[1, 1])
    with pytest.raises(ValueError, match=r"sun_km must have shape \[time, 3\]"):
        sunlit_fraction(positions_km, sun_km[:2])


def test_parallel_kernel_matches_serial_kernel():
    """Parallel path (≥ 32,768 satellite-steps, blocks of 1,024) equals the serial path exactly.

    4 steps × 9,000 satellites take the parallel kernel, with blocks straddling no time step;
    each step alone (9,000) takes the serial one. Satellites sit near the shadow edge so every
    branch (lit, umbra, penumbra) is exercised.
    """
    rng = np.random.default_rng(11)
    positions_km = rng.normal(size=(4, 9000, 3))
    positions_km *= (R_EARTH_KM + 550.0) / np.linalg.norm(positions_km, axis=-1, keepdims=True)
    sun_km = AU_KM * np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, -0.6, 0.8]])
    out = sunlit_fraction(positions_km, sun_km)
    assert np.any((out > 0.0) & (out < 1.0)) and np.any(out == 0.0) and np.any(out == 1.0)
    for t in range(4):
        np.testing.assert_array_equal(out[t], _sunlit_at_fixed_sun_at(positions_km[t], sun_km[t]))


def _sunlit_at_fixed_sun_at(points_km: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    return sunlit_fraction(points_km[None], sun_km[None])[0]


unit_vectors = st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)).filter(
    lambda v: 0.1 < math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2) <= 1.0
)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


@PROPERTY_SETTINGS
@given(
    direction=unit_vectors,
    sun_direction=unit_vectors,
    altitude_km=st.floats(150.0, 40000.0),
    sun_distance_au=st.floats(0.98, 1.02),
)
def test_property_fraction_in_unit_interval(direction, sun_direction, altitude_km, sun_distance_au):
    """For any satellite and Sun direction, the sunlit fraction is in [0, 1]."""
    r_km = (R_EARTH_KM + altitude_km) * _unit(direction)
    s_km = sun_distance_au * AU_KM * _unit(sun_direction)
    value = sunlit_fraction(r_km[None, None, :], s_km[None, :])[0, 0]
    assert 0.0 <= value <= 1.0


@PROPERTY_SETTINGS
@given(direction=unit_vectors, sun_direction=unit_vectors, altitude_km=st.floats(100.0, 40000.0))
def test_property_sunward_side_fully_lit(direction, sun_direction, altitude_km):
    """A satellite with r·ŝ ≥ 0 (on the sunward half-space) sees the whole Sun."""
    s_hat = _unit(sun_direction)
    r_hat = _unit(direction)
    if np.dot(r_hat, s_hat) < 0.0:
        r_hat = r_hat - 2.0 * np.dot(r_hat, s_hat) * s_hat  # mirror onto the sunward side
    r_km = (R_EARTH_KM + altitude_km) * r_hat
    value = sunlit_fraction(r_km[None, None, :], (AU_KM * s_hat)[None, :])[0, 0]
    assert value == 1.0


@PROPERTY_SETTINGS
@given(
    sun_direction=unit_vectors,
    offset_direction=unit_vectors,
    behind_km=st.floats(R_EARTH_KM + 200.0, R_EARTH_KM + 2000.0),
    offset_fraction=st.floats(0.0, 0.9),
)
def test_property_deep_anti_sun_axis_in_umbra(
    sun_direction, offset_direction, behind_km, offset_fraction
):
    """At LEO behind the Earth, within 0.9 R of the anti-Sun axis, the Sun is fully hidden.

    The umbra cone narrows by only ≈ 0.0046 km per km behind the Earth (≤ 40 km at 8,400 km),
    so a 0.9 R offset is deep inside it.
    """
    s_hat = _unit(sun_direction)
    offset = np.asarray(offset_direction, dtype=float)
    offset = offset - np.dot(offset, s_hat) * s_hat
    if np.linalg.norm(offset) < 1e-3:
        offset = np.cross(s_hat, [1.0, 0.0, 0.0] if abs(s_hat[0]) < 0.9 else [0.0, 1.0, 0.0])
    offset = _unit(offset)
    r_km = -behind_km * s_hat + offset_fraction * R_EARTH_KM * offset
    value = sunlit_fraction(r_km[None, None, :], (AU_KM * s_hat)[None, :])[0, 0]
    assert value == 0.0


@PROPERTY_SETTINGS
@given(behind_km=st.floats(2100.0, 40000.0), angle_rad=st.floats(0.0, 2.0 * math.pi))
def test_property_monotone_across_shadow_edge(behind_km, angle_rad):
    """Moving away from the shadow axis at a fixed distance behind the Earth, light never drops.

    A 2,001-point path from 0.95 R to 1.05 R off the axis crosses umbra, penumbra and sunlight
    (2,100 km behind keeps the path above the surface; at 40,000 km the penumbra spans
    R ± 190 km, still inside the path);
    the fraction must be non-decreasing (to 1e-9, the kernel's rounding) and go from 0 to 1.
    """
    rho_km = np.linspace(0.95, 1.05, 2001) * R_EARTH_KM
    points_km = np.stack(
        [
            np.full_like(rho_km, -behind_km),
            rho_km * math.cos(angle_rad),
            rho_km * math.sin(angle_rad),
        ],
        axis=1,
    )
    values = _sunlit_at_fixed_sun(points_km)
    assert values[0] == 0.0 and values[-1] == 1.0
    assert np.all(np.diff(values) >= -1e-9)
