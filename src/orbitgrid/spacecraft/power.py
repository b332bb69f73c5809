"""Electrical power: solar array output and the battery's usable window.

Array model: P = S(r)·A·η·(1 − d)^age·cos θ·ν, with S(r) = S₀·(1 AU / r_sun)² the solar
irradiance (S₀ = 1361 W/m², Kopp & Lean 2011), A the array area, η the cell-to-bus efficiency at
beginning of life, d the fractional degradation per year, θ the incidence angle set by the
pointing mode and ν the visible fraction of the solar disk from the eclipse model (penumbra
included). Left out: cell temperature coefficients, Earth albedo on the array and pointing
error; the efficiency parameter is where a user folds those in.

Battery model: a store of energy between a floor (1 − depth-of-discharge limit)·capacity and
full capacity, with the round-trip efficiency split evenly between charge and discharge
(η_c = η_d = √η_rt). No rate limit, no temperature or ageing effects.
"""

from __future__ import annotations

from numba import njit

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import AU_KM, SOLAR_CONSTANT_W_M2

POINTING_CODES = {"sun-tracking": 0, "zenith": 1, "orbit-normal": 2}


@njit(cache=True, fastmath=FASTMATH, inline="always")
def solar_flux_w_m2(sun_distance_km: float) -> float:
    """Solar irradiance at ``sun_distance_km`` from the Sun, W/m² (inverse-square law)."""
    ratio = AU_KM / sun_distance_km
    return SOLAR_CONSTANT_W_M2 * ratio * ratio


@njit(cache=True, fastmath=FASTMATH, inline="always")
def array_incidence(pointing: int, cos_sun_zenith: float, normal_dot_sun: float) -> float:
    """cos θ between the array normal and the Sun for a pointing mode (see POINTING_CODES).

    Sun-tracking: 1. Zenith-facing (body-mounted on the anti-nadir face): max(0, r̂·ŝ).
    Orbit-normal (a panel facing the orbit normal on the Sun's side, the usual dawn–dusk
    layout): |n̂·ŝ| = |sin β|.
    """
    if pointing == 0:
        return 1.0
    if pointing == 1:
        return max(0.0, cos_sun_zenith)
    return abs(normal_dot_sun)
