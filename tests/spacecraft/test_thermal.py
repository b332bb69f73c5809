"""Radiator and thermal node: reference figures, view factors and steady state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orbitgrid.constants import STEFAN_BOLTZMANN_W_M2_K4, ZERO_CELSIUS_K
from orbitgrid.spacecraft.thermal import (
    earth_view_factor,
    emitted_w,
    linearised_conductance,
    next_temperature_k,
)


def test_radiator_flux_at_20c():
    """Two-sided panel at 20 °C: σT⁴·2 = 837.6 W/m² for a black body, the ≈ 838 W/m² of the
    Starcloud white paper (2024); with ε = 0.92 it is σT⁴·ε·2 = 770.6 W/m². Tolerance 0.1 W/m².

    The 838 W/m² reference figure corresponds to ε = 1 (or to ε = 0.92 at about 26 °C).
    """
    t = 20.0 + ZERO_CELSIUS_K
    assert emitted_w(t, 1.0, 2.0) == pytest.approx(837.6, abs=0.1)
    assert emitted_w(t, 0.92, 2.0) == pytest.approx(770.6, abs=0.1)


def _view_factor_numeric(radius_ratio: float, tilt_rad: float, n: int = 500) -> float:
    """Independent reference: integrate cosθ₁·cosθ₂/(π·d²) over the Earth's visible cap.

    Plate at (0, 0, H) (Earth radius 1), normal tilted by λ from nadir towards +x.
    """
    h = radius_ratio
    normal = np.array([math.sin(tilt_rad), 0.0, -math.cos(tilt_rad)])
    cap = math.acos(1.0 / h)  # polar angle of the horizon seen from the plate
    theta = (np.arange(n) + 0.5) * cap / n
    phi = (np.arange(2 * n) + 0.5) * 2 * math.pi / (2 * n)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    surface = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)
    d = surface - np.array([0.0, 0.0, h])
    dist = np.linalg.norm(d, axis=-1)
    cos_plate = (d @ normal) / dist
    cos_earth = -np.einsum("...k,...k->...", d, surface) / dist
    integrand = np.where((cos_plate > 0) & (cos_earth > 0), cos_plate * cos_earth, 0.0)
    area = np.sin(th) * (cap / n) * (2 * math.pi / (2 * n))
    return float((integrand / (math.pi * dist**2) * area).sum())


@pytest.mark.parametrize("altitude_km", [300.0, 550.0, 1200.0, 20000.0])
@pytest.mark.parametrize("tilt_deg", [0.0, 30.0, 60.0, 90.0, 120.0, 170.0])
def test_earth_view_factor_against_numerical_integration(altitude_km, tilt_deg):
    """Closed form (Howell catalog, plane element to sphere) against direct integration of the
    view-factor definition; tolerance 0.002 absolute (the integration's discretisation)."""
    h = (6378.137 + altitude_km) / 6378.137
    tilt = math.radians(tilt_deg)
    assert earth_view_factor(h, tilt) == pytest.approx(_view_factor_numeric(h, tilt), abs=2e-3)


def test_view_factor_limits():
    assert earth_view_factor(1.5, 0.0) == pytest.approx(1 / 1.5**2)  # nadir: 1/H²
    assert earth_view_factor(1.0 + 1e-9, math.pi / 2) == pytest.approx(0.5, abs=1e-3)
    assert earth_view_factor(1.5, math.pi) == 0.0


def test_semi_implicit_step_reaches_the_radiative_equilibrium():
    """With constant heat input Q the node settles at T = (Q/εσA)^¼, for any step length."""
    heat_w, eps, area, capacity = 5000.0, 0.9, 6.0, 2e5
    expected = (heat_w / (eps * STEFAN_BOLTZMANN_W_M2_K4 * area)) ** 0.25
    for step_s in (1.0, 60.0, 3600.0):
        t = 200.0
        for _ in range(int(100_000 / step_s) + 100):  # ≈ 30 time constants
            conductance = linearised_conductance(t, eps, area, capacity, step_s)
            t = next_temperature_k(t, heat_w, emitted_w(t, eps, area), conductance)
        assert t == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("altitude_km", [200.0, 550.0, 1200.0, 35786.0])
def test_vertical_plate_shortcut_equals_general_formula(altitude_km):
    from orbitgrid.spacecraft.thermal import vertical_plate_view_factor

    h = (6378.137 + altitude_km) / 6378.137
    assert vertical_plate_view_factor(h) == pytest.approx(
        earth_view_factor(h, math.pi / 2), rel=1e-9
    )
