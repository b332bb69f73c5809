"""Terrestrial references: great-circle fibre latency and straight-line light time.

Fibre model: one-way latency = great-circle distance × ``route_factor`` / (c / n_g), with
n_g = 1.4682 the group index of standard single-mode fibre at 1550 nm (Corning SMF-28 Ultra
datasheet), i.e. light in fibre at ≈ 0.681 c. ``route_factor = 1`` is the best case a cable
could reach, the baseline of Handley, "Delay is Not an Option: Low Latency Routing in Space"
(HotNets 2018) for comparing LEO networks with fibre; real cable routes are longer (the factor
is a scenario choice, not a measured value here). Great-circle distances use a sphere of mean
radius 6371.0088 km (GRS80 R1); the error against the WGS84 geodesic is below 0.5 %.

The straight-line (through the Earth) light time in vacuum is a strict lower bound for any
path: RTT ≥ 2 × chord / c (tested as a property of the routing).
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import EARTH_MEAN_RADIUS_KM, FIBRE_GROUP_INDEX, SPEED_OF_LIGHT_KM_S
from orbitgrid.network.geometry import central_angle_rad, local_up_unit


def great_circle_km(
    lat1_deg: np.ndarray | float,
    lon1_deg: np.ndarray | float,
    lat2_deg: np.ndarray | float,
    lon2_deg: np.ndarray | float,
    radius_km: float = EARTH_MEAN_RADIUS_KM,
) -> np.ndarray:
    """Great-circle distance km on a sphere (central angle in atan2 form,
    ``geometry.central_angle_rad``; inputs broadcast)."""
    a, b = np.broadcast_arrays(local_up_unit(lat1_deg, lon1_deg), local_up_unit(lat2_deg, lon2_deg))
    return radius_km * central_angle_rad(a, b)


def great_circle_matrix_km(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """``[src, dst]`` great-circle distances km between endpoints."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    return great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def fibre_latency_ms(
    distance_km: np.ndarray | float,
    route_factor: float = 1.0,
    group_index: float = FIBRE_GROUP_INDEX,
) -> np.ndarray:
    """One-way fibre latency ms = distance × route_factor / (c / n_g) (model in module doc)."""
    if route_factor < 1.0:
        raise ValueError(
            f"route_factor {route_factor} must be ≥ 1 (a cable cannot be shorter "
            "than the great circle)"
        )
    return np.asarray(distance_km) * route_factor * group_index / SPEED_OF_LIGHT_KM_S * 1e3


def straight_line_light_time_ms(ecef_a_km: np.ndarray, ecef_b_km: np.ndarray) -> np.ndarray:
    """One-way vacuum light time ms along the chord between ECEF points (broadcast)."""
    return np.linalg.norm(np.asarray(ecef_a_km) - ecef_b_km, axis=-1) / SPEED_OF_LIGHT_KM_S * 1e3
