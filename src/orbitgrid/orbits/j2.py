"""J2 secular propagation of circular orbits, vectorised over satellites and time.

Model: Earth's oblateness (J2) makes the node regress and the argument of latitude advance at
constant secular rates for a circular orbit (Vallado, Fundamentals of Astrodynamics and
Applications, 4th ed., §9.6, eqs. 9-41/9-42 with e = 0):

    Ω̇ = −(3/2)·n·J2·(R/a)²·cos i
    u̇ = ω̇ + Ṁ = n·[1 + (3/2)·J2·(R/a)²·(4·cos²i − 1)]

with n = √(μ/a³). Positions follow from rotating the in-plane circle by (Ω, i). Short-period J2
terms (a few km), higher zonals, drag and third bodies are left out: designed shells are mean
orbits, kept in place by station-keeping. ``tests/orbits/test_j2.py`` measures the error against
a numerical integration of the J2 equations of motion.

Positions are in a geocentric inertial frame (the frame of the J2 model's equator; treated as
TEME/true-of-date), km, shape [time, satellite, 3].
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import WGS84, EarthModel
from orbitgrid.orbits.shells import CircularElements


def secular_rates(
    semi_major_axis_km: np.ndarray, inclination_rad: np.ndarray, earth: EarthModel = WGS84
) -> tuple[np.ndarray, np.ndarray]:
    """Return (RAAN rate, argument-of-latitude rate) in rad/s for circular orbits (see module)."""
    a = np.asarray(semi_major_axis_km, dtype=np.float64)
    n = np.sqrt(earth.mu_km3_s2 / a**3)
    k = 1.5 * earth.j2 * (earth.radius_km / a) ** 2
    cos_i = np.cos(inclination_rad)
    return -k * n * cos_i, n * (1.0 + k * (4.0 * cos_i**2 - 1.0))


_BLOCK = 64


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _circular_states(a_km, inc, raan0, u0, raan_rate, u_rate, t0_s, step_s, position_km, normal):
    # Angles advance by a constant increment per step, so cos/sin come from the angle-addition
    # recurrence instead of four trig calls per satellite-step (about 5× faster). The recurrence
    # starts from exact trig at every call (each time chunk), and its rounding error grows like
    # √steps·1e-16, i.e. below a micrometre after 10⁵ steps. Satellites go in blocks with time
    # outside and satellites inside, so that writes are contiguous.
    n_time = position_km.shape[0]
    n_sat = a_km.shape[0]
    for b in prange((n_sat + _BLOCK - 1) // _BLOCK):
        first = b * _BLOCK
        size = min(n_sat, first + _BLOCK) - first
        # cos/sin of node and latitude, of their per-step increments, and of the inclination.
        rot = np.empty((10, size))
        for j in range(size):
            s = first + j
            raan = raan0[s] + raan_rate[s] * t0_s
            u = u0[s] + u_rate[s] * t0_s
            rot[0, j], rot[1, j] = np.cos(raan), np.sin(raan)
            rot[2, j], rot[3, j] = np.cos(u), np.sin(u)
            rot[4, j], rot[5, j] = np.cos(raan_rate[s] * step_s), np.sin(raan_rate[s] * step_s)
            rot[6, j], rot[7, j] = np.cos(u_rate[s] * step_s), np.sin(u_rate[s] * step_s)
            rot[8, j], rot[9, j] = np.cos(inc[s]), np.sin(inc[s])
        for k in range(n_time):
            for j in range(size):
                s = first + j
                ci, si = rot[8, j], rot[9, j]
                a = a_km[s]
                co, so, cu, su = rot[0, j], rot[1, j], rot[2, j], rot[3, j]
                position_km[k, s, 0] = a * (cu * co - su * ci * so)
                position_km[k, s, 1] = a * (cu * so + su * ci * co)
                position_km[k, s, 2] = a * su * si
                normal[k, s, 0] = si * so
                normal[k, s, 1] = -si * co
                normal[k, s, 2] = ci
                rot[0, j] = co * rot[4, j] - so * rot[5, j]
                rot[1, j] = so * rot[4, j] + co * rot[5, j]
                rot[2, j] = cu * rot[6, j] - su * rot[7, j]
                rot[3, j] = su * rot[6, j] + cu * rot[7, j]


def propagate_circular_j2(
    elements: CircularElements,
    t0_s: float,
    step_s: float,
    step_count: int,
    earth: EarthModel = WGS84,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (km) and orbit-normal unit vectors on a uniform time grid.

    The grid is ``t0_s + k·step_s`` seconds after the elements' epoch, k = 0 … step_count−1.
    Returns two arrays of shape [time, satellite, 3], written into ``out`` when given (two
    C-contiguous float64 arrays of that shape, or views of contiguous satellite slices).
    """
    raan_rate, u_rate = secular_rates(elements.semi_major_axis_km, elements.inclination_rad, earth)
    shape = (step_count, len(elements), 3)
    position_km, normal = out if out is not None else (np.empty(shape), np.empty(shape))
    _circular_states(
        elements.semi_major_axis_km,
        elements.inclination_rad,
        elements.raan_rad,
        elements.argument_of_latitude_rad,
        raan_rate,
        u_rate,
        float(t0_s),
        float(step_s),
        position_km,
        normal,
    )
    return position_km, normal
