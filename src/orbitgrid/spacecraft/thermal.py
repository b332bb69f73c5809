"""Thermal: a lumped radiator/electronics node.

Energy balance of one node with heat capacity C (Gilmore, Spacecraft Thermal Control Handbook,
2nd ed. 2002, ch. 2 environment and ch. 6 radiators):

    C·dT/dt = α·S·A·F_sun·ν + α·S·a·A·Σ F_earth·max(0, cos ζ) + ε·q_IR·A·Σ F_earth
              + P_dissipated − ε·σ·A·sides·T⁴

S is the solar irradiance, ν the visible solar fraction, a = 0.30 the Earth's albedo and
q_IR = 237 W/m² its outgoing long-wave flux, ζ the solar zenith angle at the sub-satellite point
(the usual albedo approximation, poor near the terminator), F_earth the view factor from each
face to the Earth (``earth_view_factor``) and F_sun the projected fraction of a face the Sun
lights (0 for a panel kept edge-on). All electrical power drawn by bus and compute ends up as
heat in the node; battery losses are rejected by the battery's own thermal control.

The step is semi-implicit: the T⁴ term is linearised about the current temperature, which is
stable for any step length and exact at steady state.
"""

from __future__ import annotations

import math

from numba import njit

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import STEFAN_BOLTZMANN_W_M2_K4


@njit(cache=True, fastmath=FASTMATH)
def earth_view_factor(radius_ratio: float, tilt_rad: float) -> float:
    """View factor from a flat face to a spherical Earth.

    ``radius_ratio`` is H = r/R (orbit radius over Earth radius); ``tilt_rad`` is the angle
    between the face's normal and the direction to the Earth's centre (0 = facing nadir,
    π/2 = vertical, π = facing zenith). Formula for a differential planar element and a sphere
    (Howell, A Catalog of Radiation Heat Transfer Configuration Factors, 3rd ed., factor B-8;
    also Gilmore 2002, ch. 2): fully visible sphere → cos λ / H²; partly below the face's
    horizon → the closed form below. ``tests/spacecraft/test_thermal.py`` checks it against
    numerical integration.
    """
    h = radius_ratio
    lam = tilt_rad
    root = math.sqrt(h * h - 1.0)
    cos_l = math.cos(lam)
    if lam <= math.asin(root / h) - 1e-12 or lam <= 0.0:
        # The whole visible cap is in front of the face (λ ≤ π/2 − φ, sin φ = 1/H).
        return cos_l / (h * h)
    sin_l = math.sin(lam)
    if lam >= math.pi - math.asin(root / h) + 1e-12:
        return 0.0
    x = root / (h * sin_l)
    cot_l = cos_l / sin_l
    y = -root * cot_l
    return (
        0.5
        - math.asin(min(1.0, x)) / math.pi
        + (
            cos_l * math.acos(max(-1.0, min(1.0, y)))
            - root * math.sqrt(max(0.0, 1.0 - h * h * cos_l * cos_l))
        )
        / (math.pi * h * h)
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def vertical_plate_view_factor(radius_ratio: float) -> float:
    """``earth_view_factor`` for a vertical face (λ = π/2), the case the kernel uses:
    F = 1/2 − acos(1/H)/π − √(H² − 1)/(π·H²)."""
    h = radius_ratio
    return 0.5 - math.acos(1.0 / h) / math.pi - math.sqrt(h * h - 1.0) / (math.pi * h * h)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def emitted_w(temperature_k: float, emissivity: float, emitting_area_m2: float) -> float:
    """Radiated power ε·σ·A·T⁴, W."""
    t2 = temperature_k * temperature_k
    return emissivity * STEFAN_BOLTZMANN_W_M2_K4 * emitting_area_m2 * t2 * t2


@njit(cache=True, fastmath=FASTMATH, inline="always")
def linearised_conductance(
    temperature_k: float,
    emissivity: float,
    emitting_area_m2: float,
    heat_capacity_j_k: float,
    step_s: float,
) -> float:
    """C/Δt + 4εσA·T³, W/K: the effective conductance of one semi-implicit step."""
    return (
        heat_capacity_j_k / step_s
        + 4.0
        * emissivity
        * STEFAN_BOLTZMANN_W_M2_K4
        * emitting_area_m2
        * temperature_k
        * temperature_k
        * temperature_k
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def next_temperature_k(
    temperature_k: float, heat_in_w: float, emitted_now_w: float, conductance_w_k: float
) -> float:
    """Semi-implicit step: T + (Q_in − εσA·T⁴) / (C/Δt + 4εσA·T³)."""
    return temperature_k + (heat_in_w - emitted_now_w) / conductance_w_k
