"""Physical constants and Earth models, each with its unit and source.

One place for every constant: a function never declares its own copy. Earth models are
named objects (WGS72 for SGP4, WGS84 for geodesy) so that which one a calculation uses is
visible at the call site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EarthModel:
    """An Earth gravity/shape model: radius, gravity parameter, J2, flattening, rotation."""

    name: str
    radius_km: float  # equatorial radius
    mu_km3_s2: float  # gravitational parameter GM
    j2: float  # second zonal harmonic (unnormalised)
    flattening: float

    @property
    def eccentricity_sq(self) -> float:
        """First eccentricity squared of the ellipsoid, e² = f(2 − f)."""
        return self.flattening * (2.0 - self.flattening)


# NIMA TR8350.2 (WGS84, 3rd ed. 2000): a = 6378.137 km, 1/f = 298.257223563,
# GM = 398600.4418 km³/s², J2 = 1.08262998905e-3 (from C̄20 = −0.484166774985e-3).
WGS84 = EarthModel("WGS84", 6378.137, 398600.4418, 1.08262998905e-3, 1.0 / 298.257223563)

# WGS72 as used by SGP4 (Vallado et al., "Revisiting Spacetrack Report #3", AIAA 2006-6753):
# a = 6378.135 km, GM = 398600.8 km³/s², J2 = 0.001082616, 1/f = 298.26.
WGS72 = EarthModel("WGS72", 6378.135, 398600.8, 0.001082616, 1.0 / 298.26)

# Earth rotation rate, IERS Conventions (2010) Table 1.1, rad/s.
EARTH_ROTATION_RAD_S = 7.292115e-5

# Mean motion of the Earth around the Sun, used for the sun-synchronous condition:
# 360° per tropical year of 365.2421897 d (Astronomical Almanac), rad/s.
TROPICAL_YEAR_S = 365.2421897 * 86400.0
SUN_SYNC_RAAN_RATE_RAD_S = 2.0 * math.pi / TROPICAL_YEAR_S

# Astronomical unit, IAU 2012 Resolution B2, km.
AU_KM = 149_597_870.7

# Solar photospheric radius, IAU 2015 Resolution B3 nominal value, km.
SUN_RADIUS_KM = 695_700.0

# Total solar irradiance at 1 AU, W/m². Kopp & Lean 2011, GRL 38, L01706.
SOLAR_CONSTANT_W_M2 = 1361.0

# Stefan–Boltzmann constant, W m⁻² K⁻⁴ (CODATA 2018, exact).
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8

# Celsius offset, K.
ZERO_CELSIUS_K = 273.15

# Earth radiation environment for thermal design, orbit-average values:
# Bond albedo 0.30 and outgoing long-wave radiation 237 W/m² at the top of the atmosphere
# (Gilmore, Spacecraft Thermal Control Handbook, 2nd ed. 2002, ch. 2, Table 2.3 means).
EARTH_ALBEDO = 0.30
EARTH_IR_W_M2 = 237.0

# Speed of light in vacuum, km/s (exact, SI 2019).
SPEED_OF_LIGHT_KM_S = 299_792.458

# Time conversions, derived once.
SECONDS_PER_DAY = 86400.0
SECONDS_PER_HOUR = 3600.0
JULIAN_YEAR_S = 365.25 * SECONDS_PER_DAY
J2000_JD = 2451545.0  # 2000-01-01T12:00 TT, as a Julian date
UNIX_EPOCH_JD = 2440587.5  # 1970-01-01T00:00 UTC

# Mean Earth radius R1 = (2a + b)/3 of GRS80/WGS84, km (Moritz, "Geodetic Reference System
# 1980", J. Geodesy 74, 2000), used for great-circle distances on a sphere.
EARTH_MEAN_RADIUS_KM = 6371.0088

# Group index of standard single-mode fibre at 1550 nm (Corning SMF-28 Ultra product
# information sheet, "effective group index of refraction" 1.4682), for fibre latency.
FIBRE_GROUP_INDEX = 1.4682
