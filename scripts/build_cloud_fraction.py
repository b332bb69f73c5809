"""Build ``src/orbitgrid/data/cloud_fraction_zonal.csv``: a coarse cloud-fraction climatology.

Annual mean total cloud fraction in 10° latitude bands, separately over land and ocean.

- Anchors (published): MODIS global means over 2000–2012, 0.67 overall, 0.55 over land and
  0.72 over ocean (King, Platnick, Menzel, Ackerman & Hubanks, "Spatial and temporal
  distribution of clouds observed by MODIS onboard the Terra and Aqua satellites", IEEE TGRS
  51(7), 3826–3852, 2013).
- Shape (stated approximation): the latitude structure of the MODIS and ISCCP zonal means —
  the ITCZ maximum near the equator, subtropical minima near 20–30° (deserts over land), the
  storm-track maxima near 50–65° (the Southern Ocean the cloudiest), drier polar interiors.
  ``SHAPE_*`` below are rounded readings of that structure, not digitised values; they are
  scaled (one factor per surface) so that their area means over the shipped land-fraction
  grid equal the anchors. Expect errors of ±0.1 in a band and more regionally (no
  longitude, season or time-of-day dependence).

Run from the repository root: ``.venv/bin/python scripts/build_cloud_fraction.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from orbitgrid.observation.geography import land_fraction_grid

LAND_ANCHOR, OCEAN_ANCHOR = 0.55, 0.72
# Bands −90…−80 (first) to 80…90 (last).
SHAPE_OCEAN = (0.65, 0.80, 0.88, 0.88, 0.82, 0.72, 0.63, 0.60, 0.66,
               0.70, 0.62, 0.60, 0.68, 0.80, 0.85, 0.82, 0.75, 0.70)  # fmt: skip
SHAPE_LAND = (0.45, 0.55, 0.70, 0.75, 0.65, 0.45, 0.40, 0.60, 0.72,
              0.65, 0.40, 0.35, 0.50, 0.62, 0.70, 0.72, 0.68, 0.60)  # fmt: skip
OUT = Path(__file__).parents[1] / "src" / "orbitgrid" / "data" / "cloud_fraction_zonal.csv"


def main() -> None:
    land = land_fraction_grid()  # [180, 360]
    weights = np.cos(np.radians(np.arange(-89.5, 90)))[:, None]
    band = np.arange(180) // 10
    land_area = (land * weights).sum(axis=1)
    ocean_area = ((1 - land) * weights).sum(axis=1)
    shape_land = np.asarray(SHAPE_LAND)[band]
    shape_ocean = np.asarray(SHAPE_OCEAN)[band]
    k_land = LAND_ANCHOR / (np.sum(shape_land * land_area) / land_area.sum())
    k_ocean = OCEAN_ANCHOR / (np.sum(shape_ocean * ocean_area) / ocean_area.sum())
    header = (
        "# Annual mean total cloud fraction per 10 deg latitude band, over land and over ocean.\n"
        "# Scaled so that area means over land_fraction_1deg.csv equal the MODIS 2000-2012 means\n"
        "# (land 0.55, ocean 0.72, global 0.67; King et al., IEEE TGRS 51(7) 3826-3852, 2013);\n"
        "# the band shape is a rounded reading of the MODIS/ISCCP zonal structure (stated\n"
        "# approximation, +-0.1 per band). Built by scripts/build_cloud_fraction.py.\n"
        "south_deg,north_deg,land,ocean\n"
    )
    rows = [
        f"{-90 + 10 * i},{-80 + 10 * i},{min(1, SHAPE_LAND[i] * k_land):.3f},"
        f"{min(1, SHAPE_OCEAN[i] * k_ocean):.3f}"
        for i in range(18)
    ]
    OUT.write_text(header + "\n".join(rows) + "\n")
    print(f"wrote {OUT}: land x{k_land:.3f}, ocean x{k_ocean:.3f}")


if __name__ == "__main__":
    main()
