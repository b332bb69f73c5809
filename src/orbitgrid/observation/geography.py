"""Where the ground is land and how cloudy it is: two small shipped tables, looked up by
latitude and longitude (vectorised).

- ``land_fraction(lat, lon)``: share of land in the 1° × 1° cell, from the Natural Earth
  1:110m land polygons (``data/land_fraction_1deg.csv``, built by
  ``scripts/build_land_fraction.py``; area-weighted global mean 0.286, Earth's 0.29).
- ``cloud_fraction(lat, lon)``: annual mean total cloud fraction, the land and ocean values
  of the cell's 10° latitude band mixed by the cell's land fraction
  (``data/cloud_fraction_zonal.csv``, built by ``scripts/build_cloud_fraction.py``; anchored
  to the MODIS means of King et al., IEEE TGRS 51(7), 2013: land 0.55, ocean 0.72).

Both are climatologies: no season, time of day or weather. A tile's cloud fraction is used
as the chance that it is too cloudy to keep (``observation.processing.discard_cloudy``).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np


@functools.cache
def land_fraction_grid() -> np.ndarray:
    """Land fraction [180 latitude rows from −90°, 360 longitude columns from −180°], 0–1."""
    text = resources.files("orbitgrid.data").joinpath("land_fraction_1deg.csv").read_text()
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    grid = np.array([[int(v) for v in row.split(",")] for row in rows], dtype=np.float64)
    grid /= 100.0
    grid.setflags(write=False)
    return grid


@functools.cache
def cloud_fraction_bands() -> tuple[np.ndarray, np.ndarray]:
    """``(land, ocean)`` cloud fraction per 10° band, 18 bands from −90°."""
    text = resources.files("orbitgrid.data").joinpath("cloud_fraction_zonal.csv").read_text()
    rows = [line for line in text.splitlines() if line and not line.startswith(("#", "south"))]
    table = np.array([[float(v) for v in row.split(",")] for row in rows])
    return table[:, 2].copy(), table[:, 3].copy()


def _cell(latitude_deg: np.ndarray, longitude_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = np.clip(np.floor(np.asarray(latitude_deg) + 90.0), 0, 179).astype(np.int64)
    lon = (np.asarray(longitude_deg) + 180.0) % 360.0
    col = np.clip(np.floor(lon), 0, 359).astype(np.int64)
    return row, col


def land_fraction(latitude_deg, longitude_deg) -> np.ndarray:
    """Land fraction of the 1° cell holding each point (NaN positions give cell 0, the caller
    masks them)."""
    lat = np.nan_to_num(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.nan_to_num(np.asarray(longitude_deg, dtype=np.float64))
    row, col = _cell(lat, lon)
    return land_fraction_grid()[row, col]


def cloud_fraction(latitude_deg, longitude_deg) -> np.ndarray:
    """Annual mean cloud fraction at each point: the band's land and ocean values weighted by
    the cell's land fraction."""
    lat = np.nan_to_num(np.asarray(latitude_deg, dtype=np.float64))
    land = land_fraction(lat, longitude_deg)
    band = np.clip(np.floor((lat + 90.0) / 10.0), 0, 17).astype(np.int64)
    over_land, over_ocean = cloud_fraction_bands()
    return land * over_land[band] + (1.0 - land) * over_ocean[band]
