"""Time on the simulation grid: UTC datetime64[ns] in, split Julian dates out.

Times are exact integers (nanoseconds since 1970, UTC) on the grid and become two-part Julian
dates (a whole part plus a fraction) only where a model needs them, so that precision is not
lost in a single float (the convention of python-sgp4's ``jday``). TLE epochs are UTC
(Vallado et al., AIAA 2006-6753, §"Time"); UT1 is taken equal to UTC (|UT1−UTC| < 0.9 s, an
Earth-rotation error below 0.42 km at the equator) and TT−UTC (≈ 69 s) is ignored for the
Sun (0.0008° of solar longitude).
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import SECONDS_PER_DAY, UNIX_EPOCH_JD

_NS_PER_DAY = 86_400 * 1_000_000_000


def julian_date_split(times_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split Julian dates (whole, fraction) of UTC ``datetime64`` times, shape preserved.

    ``whole`` ends in .5 (midnight) and ``fraction`` is in [0, 1): their sum is the Julian date.
    """
    ns = np.asarray(times_utc, dtype="datetime64[ns]").astype(np.int64)
    days, remainder_ns = np.divmod(ns, _NS_PER_DAY)
    whole = days.astype(np.float64) + UNIX_EPOCH_JD
    fraction = remainder_ns.astype(np.float64) / _NS_PER_DAY
    return whole, fraction


def gmst_rad(jd_whole: np.ndarray, jd_fraction: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time in radians, IAU 1982 model.

    The model SGP4's TEME frame is defined against (Vallado et al., AIAA 2006-6753, eq. for
    GSTIME; Aoki et al. 1982). Inputs are split UT1 Julian dates (UTC used as UT1).
    """
    t_ut1 = ((jd_whole - 2451545.0) + jd_fraction) / 36525.0
    seconds = (
        -6.2e-6 * t_ut1**3
        + 0.093104 * t_ut1**2
        + (876600.0 * 3600.0 + 8640184.812866) * t_ut1
        + 67310.54841
    )
    return np.mod(seconds * (2.0 * np.pi / SECONDS_PER_DAY), 2.0 * np.pi)
