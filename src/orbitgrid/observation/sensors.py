"""Captures from the engine's geometry: which ground each satellite images at each step, and
the tiles that makes.

Model (per step, arrays ``[time, satellite]``):

- Sub-satellite point: the inertial position rotated to Earth-fixed by GMST
  (``orbits.frames``), latitude taken geocentric (on a sphere; ≤ 0.19° from geodetic, far
  below the 1° land grid and 10° cloud bands).
- Daylight: the Sun's elevation at the sub-satellite point, asin(r̂ · ŝ) with ŝ the
  geocentric Sun direction (parallax ≤ 0.003°); imaging needs ≥ ``min_sun_elevation``.
- Imaged area in a step: swath × ground-track length × duty cycle × (land fraction of the
  1° cell when ``land_only``) × (inside a region of interest, when regions are given). The
  ground-track length is the sub-point's speed on the sphere, 2π R_e / T for an orbit of
  period T, times the step: Earth's rotation under the track is neglected (it changes the
  track speed by ≤ 465 m/s · cos(lat) against ≈ 7.1 km/s, ≤ 7 %, and mostly sideways for a
  polar orbit).
- Tiles: the imaged area accumulates per satellite (carried across chunks) and a tile is
  emitted each time it passes one tile area; the tile takes the step's time, location,
  priority and cloud fraction. A fluid area model, so partly-land cells give fewer tiles,
  not partial ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orbitgrid.constants import EARTH_MEAN_RADIUS_KM
from orbitgrid.observation.config import ObservationConfig
from orbitgrid.observation.geography import cloud_fraction, land_fraction
from orbitgrid.orbits.frames import inertial_to_ecef_km
from orbitgrid.orbits.timescale import gmst_rad


@dataclass(frozen=True)
class SensorArrays:
    """The sensors expanded per satellite (``[satellite]`` arrays); satellites of a shell
    without a sensor have ``has_sensor`` False and zeros elsewhere. Regions are flat arrays
    with the sensor (shell) index that owns each."""

    has_sensor: np.ndarray
    sensor_index: np.ndarray  # −1: none
    swath_km: np.ndarray
    tile_area_km2: np.ndarray
    tile_bytes: np.ndarray
    duty_cycle: np.ndarray
    sin_min_sun_elevation: np.ndarray
    land_only: np.ndarray
    ground_speed_km_s: np.ndarray
    has_regions: np.ndarray  # per sensor
    region_sensor: np.ndarray
    region_box_deg: np.ndarray  # [region, 4]: south, north, west, east
    region_priority: np.ndarray


def sensor_arrays(config: ObservationConfig, shell_names, shell_index, period_s) -> SensorArrays:
    """Per-satellite sensor parameters from the config and the plan's shells."""
    n = len(shell_index)
    names = list(shell_names)
    by_shell = {names.index(s.shell): (k, s) for k, s in enumerate(config.sensors)}
    index = np.full(n, -1, dtype=np.int64)
    for shell, (k, _) in by_shell.items():
        index[shell_index == shell] = k

    def column(getter, dtype=np.float64):
        values = np.array([getter(s) for s in config.sensors], dtype=dtype)
        return np.where(index >= 0, values[np.maximum(index, 0)], 0).astype(dtype)

    regions = [(k, r) for k, s in enumerate(config.sensors) for r in s.regions]
    return SensorArrays(
        has_sensor=index >= 0,
        sensor_index=index,
        swath_km=column(lambda s: s.swath_km),
        tile_area_km2=column(lambda s: s.tile_area_km2),
        tile_bytes=column(lambda s: s.tile_bytes),
        duty_cycle=column(lambda s: s.duty_cycle),
        sin_min_sun_elevation=column(lambda s: np.sin(np.radians(s.min_sun_elevation_deg))),
        land_only=column(lambda s: s.land_only, bool),
        ground_speed_km_s=np.where(index >= 0, 2 * np.pi * EARTH_MEAN_RADIUS_KM / period_s, 0.0),
        has_regions=np.array([bool(s.regions) for s in config.sensors]),
        region_sensor=np.array([k for k, _ in regions], dtype=np.int64),
        region_box_deg=np.array(
            [[r.south_deg, r.north_deg, r.west_deg, r.east_deg] for _, r in regions]
        ).reshape(-1, 4),
        region_priority=np.array([r.priority for _, r in regions], dtype=np.int64),
    )


def subpoints_deg(position_km: np.ndarray, jd_whole, jd_fraction) -> tuple[np.ndarray, np.ndarray]:
    """Geocentric latitude and longitude (°) of the sub-satellite points, ``[time, satellite]``."""
    ecef = inertial_to_ecef_km(position_km, gmst_rad(jd_whole, jd_fraction))
    r = np.linalg.norm(ecef, axis=-1)
    lat = np.degrees(np.arcsin(np.clip(ecef[..., 2] / r, -1.0, 1.0)))
    lon = np.degrees(np.arctan2(ecef[..., 1], ecef[..., 0]))
    return lat, lon


def sin_sun_elevation(position_km: np.ndarray, sun_position_km: np.ndarray) -> np.ndarray:
    """Sine of the Sun's elevation at the sub-satellite point, ``[time, satellite]``."""
    r_hat = position_km / np.linalg.norm(position_km, axis=-1, keepdims=True)
    s_hat = sun_position_km / np.linalg.norm(sun_position_km, axis=-1, keepdims=True)
    return np.einsum("tsk,tk->ts", r_hat, s_hat)


def region_priority(sensors: SensorArrays, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Priority of each point ``[time, satellite]``: the highest region holding it (0: in none
    of its sensor's regions), 1 for sensors without regions. One pass per region (regions are
    few; satellites and time stay array axes)."""
    priority = np.where(sensors.has_regions[np.maximum(sensors.sensor_index, 0)], 0, 1)
    priority = np.broadcast_to(priority, lat.shape).copy()
    for k in range(len(sensors.region_priority)):
        south, north, west, east = sensors.region_box_deg[k]
        in_lon = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
        inside = (lat >= south) & (lat <= north) & in_lon
        inside &= (sensors.sensor_index == sensors.region_sensor[k])[None, :]
        priority = np.where(inside, np.maximum(priority, sensors.region_priority[k]), priority)
    return priority


@dataclass(frozen=True)
class ChunkCaptures:
    """Tiles captured in a chunk, one row per tile: ``step`` (within the chunk), ``satellite``,
    ``priority``, ``cloud_fraction``, ``latitude_deg``, ``longitude_deg``; and the imaged area
    per satellite (km²)."""

    step: np.ndarray
    satellite: np.ndarray
    priority: np.ndarray
    cloud_fraction: np.ndarray
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    imaged_km2: np.ndarray


def capture_chunk(
    sensors: SensorArrays,
    position_km: np.ndarray,
    sun_position_km: np.ndarray,
    jd_whole,
    jd_fraction,
    step_s: float,
    carry_km2: np.ndarray,
) -> tuple[ChunkCaptures, np.ndarray]:
    """Tiles of one chunk (module docstring) and the area carried to the next chunk."""
    lat, lon = subpoints_deg(position_km, jd_whole, jd_fraction)
    valid = np.isfinite(lat) & sensors.has_sensor[None, :]
    lit = sin_sun_elevation(position_km, sun_position_km) >= sensors.sin_min_sun_elevation
    land = np.where(sensors.land_only[None, :], land_fraction(lat, lon), 1.0)
    priority = region_priority(sensors, lat, lon)
    per_step_km2 = sensors.swath_km * sensors.ground_speed_km_s * step_s * sensors.duty_cycle
    area = np.where(valid & lit & (priority > 0), per_step_km2 * land, 0.0)
    tile = np.where(sensors.has_sensor, sensors.tile_area_km2, np.inf)
    cumulative = carry_km2[None, :] + np.cumsum(area, axis=0)
    tiles_so_far = np.floor(cumulative / tile)
    count = np.diff(tiles_so_far, axis=0, prepend=0.0).astype(np.int64)
    # (0 × inf would warn for satellites without a sensor: their carry is 0 anyway.)
    sized = np.where(sensors.has_sensor, sensors.tile_area_km2, 0.0)
    carry = np.where(sensors.has_sensor, cumulative[-1] - tiles_so_far[-1] * sized, 0.0)
    step, sat = np.nonzero(count)
    repeat = count[step, sat]
    step, sat = np.repeat(step, repeat), np.repeat(sat, repeat)
    tiles_lat, tiles_lon = lat[step, sat], lon[step, sat]
    captures = ChunkCaptures(
        step=step,
        satellite=sat,
        priority=priority[step, sat],
        cloud_fraction=cloud_fraction(tiles_lat, tiles_lon),
        latitude_deg=tiles_lat,
        longitude_deg=tiles_lon,
        imaged_km2=area.sum(axis=0),
    )
    return captures, carry
