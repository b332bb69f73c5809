"""Reference frames: inertial (TEME) to Earth-fixed, geodetic coordinates, orbit normal.

Inertial positions are SGP4's TEME frame, treated as the true equator and equinox of date (they
differ by the equation of the equinoxes, ≤ 17″). Earth-fixed is a pseudo-ECEF: TEME rotated by
GMST (IAU 1982) about z, with polar motion (≤ 0.5″, ≈ 15 m at the surface) and UT1 − UTC
(≤ 0.9 s, ≤ 0.42 km at the equator) ignored, as in Vallado et al., AIAA 2006-6753, §"TEME".
Geodetic coordinates are on the WGS84 ellipsoid (NIMA TR8350.2).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import WGS84, EarthModel


def inertial_to_ecef_km(position_km: np.ndarray, gmst_rad: np.ndarray) -> np.ndarray:
    """Rotate inertial (TEME) positions into the Earth-fixed frame, km.

    Model: r_ecef = R3(θ) r_teme with θ = GMST (IAU 1982, from
    :func:`orbitgrid.orbits.timescale.gmst_rad`): x' = x cos θ + y sin θ,
    y' = −x sin θ + y cos θ, z' = z (Vallado, *Fundamentals of Astrodynamics and Applications*,
    4th ed., §3.7; AIAA 2006-6753). Polar motion is ignored (≤ ≈ 15 m); validated against
    skyfield's ``TEME_to_ITRF`` with zero polar motion (``tests/orbits/test_frames.py``).

    Parameters
    ----------
    position_km : ndarray, shape [time, satellite, 3]
        Inertial positions, km.
    gmst_rad : ndarray, shape [time]
        Greenwich mean sidereal time at each step, radians.

    Returns
    -------
    ndarray, shape [time, satellite, 3]
        Earth-fixed positions, km.
    """
    position_km = np.asarray(position_km, dtype=np.float64)
    theta = np.asarray(gmst_rad, dtype=np.float64)
    if position_km.ndim != 3 or position_km.shape[-1] != 3:
        raise ValueError(
            f"position_km must have shape [time, satellite, 3], got {position_km.shape}"
        )
    if theta.shape != position_km.shape[:1]:
        raise ValueError(
            f"gmst_rad must have shape [time] = ({position_km.shape[0]},), got {theta.shape}"
        )
    cos_t = np.cos(theta)[:, None]
    sin_t = np.sin(theta)[:, None]
    x = position_km[..., 0]
    y = position_km[..., 1]
    out = np.empty_like(position_km)
    out[..., 0] = cos_t * x + sin_t * y
    out[..., 1] = -sin_t * x + cos_t * y
    out[..., 2] = position_km[..., 2]
    return out


def ecef_to_geodetic(
    position_ecef_km: np.ndarray, earth: EarthModel = WGS84
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodetic latitude, longitude and ellipsoidal height of Earth-fixed positions.

    Closed-form solution of Vermeille, "Direct transformation from geocentric coordinates to
    geodetic coordinates", J. Geodesy 76 (2002) 451–454, in the form of Vermeille (2004),
    J. Geodesy 78, 94–95: no iteration. Exact up to rounding outside a region of radius
    ≈ e²a ≈ 43 km around the Earth's centre (not reachable by satellites or ground stations);
    measured round-trip errors < 1e-9 km and < 1e-12° from the ground to GEO
    (``tests/orbits/test_frames.py``).

    Parameters
    ----------
    position_ecef_km : ndarray, shape [..., 3]
        Earth-fixed Cartesian positions, km.
    earth : EarthModel
        Reference ellipsoid (default WGS84).

    Returns
    -------
    latitude_deg, longitude_deg, altitude_km : ndarray, shape [...]
        Geodetic latitude in [−90, 90]°, longitude in (−180, 180]°, height above the ellipsoid
        in km.
    """
    position = np.asarray(position_ecef_km, dtype=np.float64)
    if position.shape[-1] != 3:
        raise ValueError(f"position_ecef_km must have shape [..., 3], got {position.shape}")
    a = earth.radius_km
    e2 = earth.eccentricity_sq
    e4 = e2 * e2
    x = position[..., 0]
    y = position[..., 1]
    z = position[..., 2]
    rho2 = x * x + y * y
    rho = np.sqrt(rho2)

    # Vermeille (2004), eq. (1)–(9), with p, q, r, s, t, u, v, w, k as in the paper.
    p = rho2 / (a * a)
    q = (1.0 - e2) / (a * a) * z * z
    r = (p + q - e4) / 6.0
    s = e4 * p * q / (4.0 * r**3)
    t = np.cbrt(1.0 + s + np.sqrt(s * (2.0 + s)))
    u = r * (1.0 + t + 1.0 / t)
    v = np.sqrt(u * u + e4 * q)
    w = e2 * (u + v - q) / (2.0 * v)
    k = np.sqrt(u + v + w * w) - w
    d = k * rho / (k + e2)
    hypot_dz = np.sqrt(d * d + z * z)
    # 2·atan(z / (d + √(d² + z²))) is the half-angle form of atan2(z, d): well conditioned at
    # the poles, where d → 0.
    latitude_rad = 2.0 * np.arctan2(z, d + hypot_dz)
    altitude_km = (k + e2 - 1.0) / k * hypot_dz
    longitude_rad = np.arctan2(y, x)
    return np.degrees(latitude_rad), np.degrees(longitude_rad), altitude_km


def geodetic_to_ecef_km(
    latitude_deg: np.ndarray | float,
    longitude_deg: np.ndarray | float,
    altitude_km: np.ndarray | float,
    earth: EarthModel = WGS84,
) -> np.ndarray:
    """Earth-fixed Cartesian position of geodetic coordinates, km.

    Standard closed form (NIMA TR8350.2, §4.1; Vallado, 4th ed., Algorithm 51): with the prime
    vertical radius N = a / √(1 − e² sin² φ), x = (N + h) cos φ cos λ, y = (N + h) cos φ sin λ,
    z = (N (1 − e²) + h) sin φ. Used for ground stations and the inverse of
    :func:`ecef_to_geodetic`.

    Parameters
    ----------
    latitude_deg, longitude_deg : float or ndarray
        Geodetic latitude and longitude, degrees (broadcast together).
    altitude_km : float or ndarray
        Height above the ellipsoid, km.
    earth : EarthModel
        Reference ellipsoid (default WGS84).

    Returns
    -------
    ndarray, shape [..., 3]
        Earth-fixed position, km.
    """
    lat = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    h = np.asarray(altitude_km, dtype=np.float64)
    lat, lon, h = np.broadcast_arrays(lat, lon, h)
    e2 = earth.eccentricity_sq
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    prime_vertical_km = earth.radius_km / np.sqrt(1.0 - e2 * sin_lat * sin_lat)
    out = np.empty((*lat.shape, 3), dtype=np.float64)
    out[..., 0] = (prime_vertical_km + h) * cos_lat * np.cos(lon)
    out[..., 1] = (prime_vertical_km + h) * cos_lat * np.sin(lon)
    out[..., 2] = (prime_vertical_km * (1.0 - e2) + h) * sin_lat
    return out


def orbit_normal_unit(position_km: np.ndarray, velocity_km_s: np.ndarray) -> np.ndarray:
    """Unit orbit normal ĥ = (r × v) / |r × v|, the direction of the angular momentum.

    Any inertial frame; shapes broadcast over the leading axes. With
    :func:`orbitgrid.orbits.sun.beta_angle_rad` it gives the beta angle. A zero angular momentum
    (radial motion) gives NaN.

    Parameters
    ----------
    position_km : ndarray, shape [..., 3]
        Positions, km.
    velocity_km_s : ndarray, shape [..., 3]
        Velocities, km/s, same frame.

    Returns
    -------
    ndarray, shape [..., 3]
        Unit orbit normal (dimensionless).
    """
    position = np.asarray(position_km, dtype=np.float64)
    velocity = np.asarray(velocity_km_s, dtype=np.float64)
    shape = np.broadcast_shapes(position.shape, velocity.shape)
    out = np.empty(shape)
    # One compiled pass over flattened vectors; np.cross + norm made three temporaries and
    # cost more than SGP4 itself per satellite-step.
    _normal_kernel(
        np.broadcast_to(position, shape).reshape(-1, 3),
        np.broadcast_to(velocity, shape).reshape(-1, 3),
        out.reshape(-1, 3),
    )
    return out


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _normal_kernel(r, v, out):
    for i in prange(r.shape[0]):
        hx = r[i, 1] * v[i, 2] - r[i, 2] * v[i, 1]
        hy = r[i, 2] * v[i, 0] - r[i, 0] * v[i, 2]
        hz = r[i, 0] * v[i, 1] - r[i, 1] * v[i, 0]
        norm = np.sqrt(hx * hx + hy * hy + hz * hz)
        out[i, 0] = hx / norm  # 0/0 → NaN for radial motion, as documented
        out[i, 1] = hy / norm
        out[i, 2] = hz / norm
