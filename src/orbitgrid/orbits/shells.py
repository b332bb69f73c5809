"""Designed shells (Walker and sun-synchronous) as mean circular elements at the start time.

A designed shell is described by circular mean elements: semi-major axis, inclination, RAAN
and argument of latitude of each satellite at the scenario start. ``orbits.j2`` moves them.
Satellites are ordered plane-major (plane 0 slot 0, plane 0 slot 1, …), as in Hypatia.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from orbitgrid.constants import SUN_SYNC_RAAN_RATE_RAD_S, WGS84, EarthModel
from orbitgrid.errors import ScenarioError


@dataclass(frozen=True)
class CircularElements:
    """Mean circular elements per satellite, each an array of shape [satellite]."""

    semi_major_axis_km: np.ndarray
    inclination_rad: np.ndarray
    raan_rad: np.ndarray
    argument_of_latitude_rad: np.ndarray
    plane_index: np.ndarray
    slot_index: np.ndarray

    def __len__(self) -> int:
        return int(self.semi_major_axis_km.shape[0])


def walker_elements(
    altitude_km: float,
    inclination_deg: float,
    planes: int,
    sats_per_plane: int,
    phasing: int,
    pattern: str = "delta",
    raan_offset_deg: float = 0.0,
    earth: EarthModel = WGS84,
) -> CircularElements:
    """Walker delta (RAAN over 360°) or star (over 180°) shell, per Walker (1984).

    Plane j has RAAN = offset + j·spread/P; slot k of plane j has argument of latitude
    360°·k/S + 360°·F·j/(P·S). Altitude is above the equatorial radius of ``earth``.
    """
    spread = 2.0 * math.pi if pattern == "delta" else math.pi
    plane = np.repeat(np.arange(planes), sats_per_plane)
    slot = np.tile(np.arange(sats_per_plane), planes)
    total = planes * sats_per_plane
    raan = math.radians(raan_offset_deg) + plane * (spread / planes)
    u = 2.0 * math.pi * slot / sats_per_plane + 2.0 * math.pi * phasing * plane / total
    return CircularElements(
        semi_major_axis_km=np.full(total, earth.radius_km + altitude_km),
        inclination_rad=np.full(total, math.radians(inclination_deg)),
        raan_rad=np.mod(raan, 2.0 * math.pi),
        argument_of_latitude_rad=np.mod(u, 2.0 * math.pi),
        plane_index=plane,
        slot_index=slot,
    )


def sun_synchronous_inclination_deg(altitude_km: float, earth: EarthModel = WGS84) -> float:
    """Inclination of a circular sun-synchronous orbit at ``altitude_km``, degrees.

    The J2 nodal regression −(3/2)·n·J2·(R/a)²·cos i must equal the Sun's mean motion
    (360° per tropical year), so cos i = −Ω̇_sun / ((3/2)·n·J2·(R/a)²) (Vallado, Fundamentals of
    Astrodynamics, 4th ed., §11.4.1). 650 km gives ≈ 97.98°.
    """
    a = earth.radius_km + altitude_km
    n = math.sqrt(earth.mu_km3_s2 / a**3)
    cos_i = -SUN_SYNC_RAAN_RATE_RAD_S / (1.5 * n * earth.j2 * (earth.radius_km / a) ** 2)
    if not -1.0 <= cos_i <= 1.0:
        raise ScenarioError(
            f"no sun-synchronous circular orbit exists at altitude {altitude_km:g} km "
            "(J2 regression too weak); use an altitude below about 5,970 km",
            path="altitude",
            value=altitude_km,
        )
    return math.degrees(math.acos(cos_i))


def sun_synchronous_elements(
    altitude_km: float,
    ltan_h: float,
    planes: int,
    sats_per_plane: int,
    phasing: int,
    sun_right_ascension_rad: float,
    earth: EarthModel = WGS84,
) -> CircularElements:
    """Sun-synchronous shell whose plane 0 crosses the equator northbound at ``ltan_h``.

    RAAN = α_sun + (LTAN − 12 h)·15°/h, with α_sun the Sun's right ascension at the start (mean
    local time: the equation of time, up to ±16 min, is not applied). Further planes are spread
    evenly in RAAN, as a Walker delta.
    """
    raan0_deg = math.degrees(sun_right_ascension_rad) + (ltan_h - 12.0) * 15.0
    return walker_elements(
        altitude_km,
        sun_synchronous_inclination_deg(altitude_km, earth),
        planes,
        sats_per_plane,
        phasing,
        pattern="delta",
        raan_offset_deg=raan0_deg,
        earth=earth,
    )
