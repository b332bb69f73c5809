"""Link geometry: endpoint positions, TEME→ECEF, ranges and elevation angles.

All positions are Earth-centred Earth-fixed (ECEF) Cartesian in km, float64. Arrays are
``[time, satellite, 3]`` for satellites and ``[endpoint, 3]`` for fixed ground endpoints.

Frame conversions come from ``orbitgrid.orbits.frames`` (re-exported here for convenience):
``geodetic_to_ecef_km`` (pass ``earth=WGS72`` to match SGP4 and Hypatia's satgenpy, which
places ground stations on WGS72) and ``inertial_to_ecef_km`` (TEME → pseudo-ECEF by GMST).
"""

from __future__ import annotations

import numpy as np

from orbitgrid.orbits.frames import geodetic_to_ecef_km, inertial_to_ecef_km

__all__ = [
    "elevation_deg",
    "geodetic_to_ecef_km",
    "inertial_to_ecef_km",
    "local_up_unit",
    "max_slant_range_km",
    "slant_range_km",
]


def local_up_unit(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Unit vector of the geodetic vertical (ellipsoid normal) in ECEF, shape ``[..., 3]``.

    The elevation mask is measured from the plane normal to this vector (the local horizon).
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def central_angle_rad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between unit vectors ``[..., 3]``: the atan2 form (Vincenty's formula on
    the sphere), accurate from millimetres to antipodes, where arccos and haversine lose
    digits. With ``local_up_unit`` (on a sphere, the unit vector of a latitude and longitude)
    it gives great-circle distances."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def slant_range_km(sat_ecef_km: np.ndarray, endpoint_ecef_km: np.ndarray) -> np.ndarray:
    """Straight-line distance km between satellites ``[..., sat, 3]`` and endpoints ``[ep, 3]``.

    Returns ``[..., ep, sat]``.
    """
    diff = sat_ecef_km[..., None, :, :] - endpoint_ecef_km[:, None, :]
    return np.sqrt(np.einsum("...k,...k->...", diff, diff))


def elevation_deg(
    sat_ecef_km: np.ndarray, endpoint_ecef_km: np.ndarray, endpoint_up: np.ndarray
) -> np.ndarray:
    """Elevation angle (deg) of satellites above each endpoint's local horizon, ``[..., ep, sat]``.

    Geometric elevation, no refraction: asin(up · (r_sat − r_ep) / |r_sat − r_ep|).
    """
    diff = sat_ecef_km[..., None, :, :] - endpoint_ecef_km[:, None, :]
    rng = np.sqrt(np.einsum("...k,...k->...", diff, diff))
    sin_el = np.einsum("...esk,ek->...es", diff, endpoint_up)
    return np.degrees(np.arcsin(np.clip(sin_el / rng, -1.0, 1.0)))


def max_slant_range_km(
    altitude_km: float, min_elevation_deg: float, earth_radius_km: float
) -> float:
    """Slant range km to a satellite at ``altitude_km`` seen at ``min_elevation_deg`` (sphere).

    Spherical-Earth law of cosines, r = −R sin ε + sqrt(R² sin² ε + h² + 2Rh) (e.g. 1,123.4 km
    for h = 550 km, ε = 25°, R = 6378.135 km). Hypatia's Starlink limit of 1,089,686 m is not
    this: it is the flat-Earth cone sqrt(940.7² + 550²) km of ``main_starlink_550.py``.
    """
    eps = np.radians(min_elevation_deg)
    r = earth_radius_km
    return float(
        -r * np.sin(eps) + np.sqrt((r * np.sin(eps)) ** 2 + altitude_km**2 + 2.0 * r * altitude_km)
    )
