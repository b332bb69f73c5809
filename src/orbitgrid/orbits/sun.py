"""Where the Sun is: geocentric apparent Sun position and the orbit beta angle.

The Sun comes from the low-precision formulae of the Astronomical Almanac (section C5, "Low
precision formulas for the Sun"), quoted as good to 0.01° in direction between 1950 and 2050.
They give the apparent ecliptic longitude (aberration included through the mean longitude
constant) and the distance in AU; we rotate by the mean obliquity into the equatorial frame of
date. Measured against skyfield's apparent Sun (DE421) in the true equator and equinox of date
over 1990–2053 (``tests/orbits/test_sun.py``) the direction is within 0.014° (up to 0.005° of
it is the nutation in longitude the formulae leave out) and the distance within 0.009 %.

Frame note: satellite positions from SGP4 are in TEME, which differs from the true-of-date frame
only by the equation of the equinoxes (a rotation about z of at most ≈ 1.1 s of time, ≈ 17″); at the
0.01° accuracy of this Sun model the two frames are treated as the same.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import AU_KM, J2000_JD

_DEG = np.pi / 180.0


def sun_position_km(jd_whole: np.ndarray, jd_fraction: np.ndarray) -> np.ndarray:
    """Geocentric apparent position of the Sun in the equatorial frame of date, km.

    Model: Astronomical Almanac low-precision solar coordinates (section C5). With
    n = JD − 2451545.0 days, mean longitude L = 280.460° + 0.9856474° n (aberration included),
    mean anomaly g = 357.528° + 0.9856003° n, ecliptic longitude
    λ = L + 1.915° sin g + 0.020° sin 2g (ecliptic latitude taken as 0), obliquity
    ε = 23.439° − 0.0000004° n and distance R = 1.00014 − 0.01671 cos g − 0.00014 cos 2g AU.
    The vector is R·(cos λ, cos ε sin λ, sin ε sin λ), converted with the IAU 2012 AU.

    The formulae want TT; UTC is used (TT − UTC ≈ 69 s moves the Sun by 0.0008°). Nutation is
    left out (≤ 0.005°). Stated accuracy 0.01° for 1950–2050; measured max 0.014° in direction
    and 0.009 % in distance over 1990–2053 against skyfield/DE421 (``tests/orbits/test_sun.py``).

    Parameters
    ----------
    jd_whole, jd_fraction : ndarray, shape [time]
        Split UTC Julian dates (whole part and fraction, summed), as from
        :func:`orbitgrid.orbits.timescale.julian_date_split`.

    Returns
    -------
    ndarray, shape [time, 3]
        Sun position in km, geocentric, equator and equinox of date.
    """
    # Subtract the epoch from the whole part first so the fraction's precision is kept.
    n_days = (np.asarray(jd_whole, dtype=np.float64) - J2000_JD) + np.asarray(
        jd_fraction, dtype=np.float64
    )
    mean_longitude_deg = np.mod(280.460 + 0.9856474 * n_days, 360.0)
    mean_anomaly_rad = np.mod(357.528 + 0.9856003 * n_days, 360.0) * _DEG
    ecliptic_longitude_rad = (
        mean_longitude_deg
        + 1.915 * np.sin(mean_anomaly_rad)
        + 0.020 * np.sin(2.0 * mean_anomaly_rad)
    ) * _DEG
    obliquity_rad = (23.439 - 0.0000004 * n_days) * _DEG
    distance_km = (
        1.00014 - 0.01671 * np.cos(mean_anomaly_rad) - 0.00014 * np.cos(2.0 * mean_anomaly_rad)
    ) * AU_KM

    sin_lon = np.sin(ecliptic_longitude_rad)
    out = np.empty((*n_days.shape, 3), dtype=np.float64)
    out[..., 0] = distance_km * np.cos(ecliptic_longitude_rad)
    out[..., 1] = distance_km * np.cos(obliquity_rad) * sin_lon
    out[..., 2] = distance_km * np.sin(obliquity_rad) * sin_lon
    return out


def beta_angle_rad(orbit_normal_unit: np.ndarray, sun_unit: np.ndarray) -> np.ndarray:
    """Beta angle β = asin(n̂·ŝ): the Sun's elevation above the orbit plane, radians.

    Standard definition (e.g. Wertz et al., *Space Mission Engineering: The New SMAD*, 2011): β is
    positive when the Sun is on the side of the orbit normal (angular momentum) direction.
    Shapes broadcast over the leading axes; the dot product is clipped to [−1, 1] so that
    rounding in unit vectors never gives NaN.

    Parameters
    ----------
    orbit_normal_unit : ndarray, shape [..., 3]
        Unit orbit normal r × v / |r × v| (see :func:`orbitgrid.orbits.frames.orbit_normal_unit`).
    sun_unit : ndarray, shape [..., 3]
        Unit vector from the Earth to the Sun, same frame.

    Returns
    -------
    ndarray, shape [...]
        β in radians, in [−π/2, π/2].
    """
    cos_angle = np.einsum(
        "...i,...i->...", np.asarray(orbit_normal_unit, float), np.asarray(sun_unit, float)
    )
    return np.arcsin(np.clip(cos_angle, -1.0, 1.0))


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _beta_kernel(normal, sun_unit, stride, sin_beta, beta_deg):
    n_time, n_sat = sin_beta.shape
    for k in prange(n_time):
        sx, sy, sz = sun_unit[k, 0], sun_unit[k, 1], sun_unit[k, 2]
        keep = stride > 0 and k % stride == 0
        for s in range(n_sat):
            value = normal[k, s, 0] * sx + normal[k, s, 1] * sy + normal[k, s, 2] * sz
            value = min(1.0, max(-1.0, value))
            sin_beta[k, s] = value
            if keep:
                beta_deg[k // stride, s] = math.degrees(math.asin(value))


def beta_angles(
    orbit_normal_unit: np.ndarray, sun_unit: np.ndarray, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """sin β at every step and β in degrees at every ``stride``-th step (none when 0).

    Orbit normals are [time, satellite, 3], Sun directions [time, 3]. The same quantity as
    :func:`beta_angle_rad`, in one compiled pass for the engine's arrays (the einsum/arcsin
    chain costs more than the eclipse model per satellite-step); the engine needs sin β every
    step but β in degrees only at the steps it stores, and the arcsine is the costly part.
    """
    n_time, n_sat = orbit_normal_unit.shape[:2]
    sin_beta = np.empty((n_time, n_sat))
    beta_deg = np.empty((0 if stride == 0 else -(-n_time // stride), n_sat))
    _beta_kernel(
        orbit_normal_unit,
        np.ascontiguousarray(sun_unit, dtype=np.float64),
        int(stride),
        sin_beta,
        beta_deg,
    )
    return sin_beta, beta_deg
