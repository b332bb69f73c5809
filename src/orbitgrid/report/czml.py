"""CZML export of a run (Cesium scene) with the czml3 package.

One document packet (name, version, clock over the run window), one packet per satellite with
time-tagged positions in ``cartographicDegrees`` ([seconds since epoch, longitude °, latitude °,
height m], WGS84, from the dataset's ``longitude_deg``, ``latitude_deg``, ``altitude_km``) and
Lagrange interpolation, and one packet per ground endpoint written inline in the scenario's
``network.endpoints``. Positions are sampled every ``stride`` steps so each satellite has at most
``samples_per_satellite(...)`` samples (plus the last step); steps whose position is NaN (a failed
propagation) are left out. Cesium converts cartographic samples to Cartesian before it
interpolates, so tracks crossing ±180° interpolate correctly.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from czml3 import CZML_VERSION, Clock, Color, Document, Label, Packet, Point, Position
from czml3 import Path as CzmlPath
from czml3.enums import ClockRanges, ClockSteps, InterpolationAlgorithms
from czml3.types import TimeInterval

from orbitgrid.errors import OrbitgridError
from orbitgrid.report.decimate import shell_labels
from orbitgrid.report.figures import COLORS
from orbitgrid.report.runfolder import load_run, write_atomic

CZML_NAME = "scene.czml"

DEFAULT_MAX_SAMPLES_PER_SATELLITE = 360
"""Position samples per satellite: one per 4 min over a day, ~24 per LEO orbit."""

DEFAULT_MAX_TOTAL_SAMPLES = 300_000
"""Position samples over all satellites (about 12 MB of CZML): large constellations get fewer
samples per satellite, but never fewer than ``MIN_SAMPLES_PER_SATELLITE``."""

MIN_SAMPLES_PER_SATELLITE = 48

SATELLITE_BLOCK = 2000
"""Satellites read at a time (bounds memory for very large constellations)."""

KM_TO_M = 1000.0

_POSITION_VARIABLES = ("latitude_deg", "longitude_deg", "altitude_km")


def _utc(value: np.datetime64) -> dt.datetime:
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def _rgba(index: int) -> list[int]:
    hex_color = COLORS[index % len(COLORS)]
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)] + [255]


def sample_indices(n_time: int, max_samples: int) -> np.ndarray:
    """Time indices every ``ceil(n_time / max_samples)`` steps, always including the last."""
    stride = max(1, math.ceil(n_time / max(1, max_samples)))
    idx = np.arange(0, n_time, stride)
    if n_time and idx[-1] != n_time - 1:
        idx = np.append(idx, n_time - 1)
    return idx


def samples_per_satellite(
    n_satellite: int,
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
) -> int:
    """Samples per satellite: the per-satellite cap, lowered so the total stays under
    ``max_total_samples``, but not below ``MIN_SAMPLES_PER_SATELLITE``."""
    share = max_total_samples // max(1, n_satellite)
    return max(
        min(max_samples_per_satellite, MIN_SAMPLES_PER_SATELLITE),
        min(max_samples_per_satellite, share),
    )


def build_czml_document(
    run_dir: str | os.PathLike[str],
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
) -> Document:
    """The czml3 ``Document`` of a run (see the module docstring for its content)."""
    run = load_run(run_dir, require_dataset=True)
    ds = run.dataset
    assert ds is not None
    missing = [v for v in _POSITION_VARIABLES if v not in ds.data_vars]
    if missing:
        raise OrbitgridError(
            f"{run.path / 'dataset.zarr'} has no {', '.join(missing)}: the CZML export needs "
            f"satellite positions ({', '.join(_POSITION_VARIABLES)})"
        )
    time = run.time_utc
    if len(time) == 0:
        raise OrbitgridError(f"{run.path / 'dataset.zarr'} has no time steps to export")
    start, end = _utc(time[0]), _utc(time[-1])
    step_s = float((time[1] - time[0]) / np.timedelta64(1, "s")) if len(time) > 1 else 60.0
    per_satellite = samples_per_satellite(
        ds.sizes["satellite"], max_samples_per_satellite, max_total_samples
    )
    idx = sample_indices(len(time), per_satellite)
    seconds = ((time[idx] - time[0]) / np.timedelta64(1, "s")).astype(np.float64)
    interval = TimeInterval(start=start, end=end)

    packets = [
        Packet(
            id="document",
            name=run.name,
            version=CZML_VERSION,
            description=str(run.summary.get("description") or ""),
            clock=Clock(
                interval=interval,
                currentTime=start,
                multiplier=60,
                range=ClockRanges.LOOP_STOP,
                step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
            ),
        )
    ]
    shells = shell_labels(ds)
    shell_names = list(dict.fromkeys(shells.tolist()))
    names = (
        np.asarray(ds["satellite_name"].values).astype(str)
        if "satellite_name" in ds.coords
        else np.asarray(ds["satellite"].values).astype(str)
    )
    n_sat = ds.sizes["satellite"]
    trail_s = min(3000.0, float(seconds[-1]) if len(seconds) else 0.0)
    for first in range(0, n_sat, SATELLITE_BLOCK):
        block = slice(first, min(first + SATELLITE_BLOCK, n_sat))
        sub = ds[list(_POSITION_VARIABLES)].isel(time=idx, satellite=block)
        lat = np.asarray(sub["latitude_deg"].values, dtype=np.float64).round(5)
        lon = np.asarray(sub["longitude_deg"].values, dtype=np.float64).round(5)
        h_m = (np.asarray(sub["altitude_km"].values, dtype=np.float64) * KM_TO_M).round(0)
        for k in range(lat.shape[1]):
            sat = first + k
            shell_index = shell_names.index(shells[sat])
            ok = np.isfinite(lat[:, k]) & np.isfinite(lon[:, k]) & np.isfinite(h_m[:, k])
            samples = np.column_stack([seconds[ok], lon[ok, k], lat[ok, k], h_m[ok, k]])
            position = None
            if ok.any():
                position = Position(
                    epoch=start,
                    cartographicDegrees=samples.ravel().tolist(),
                    interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE,
                    interpolationDegree=5 if ok.sum() > 5 else 1,
                )
            packets.append(
                Packet(
                    id=f"satellite/{sat}",
                    name=str(names[sat]),
                    description=f"shell {shells[sat]}, satellite index {sat}",
                    availability=interval,
                    position=position,
                    point=Point(pixelSize=4, color=Color(rgba=_rgba(shell_index))),
                    path=CzmlPath(
                        show=True,
                        width=1,
                        leadTime=0,
                        trailTime=trail_s,
                        resolution=max(step_s, 60.0),
                    ),
                )
            )
    for station in run.ground_stations():
        packets.append(
            Packet(
                id=f"endpoint/{station['name']}",
                name=station["name"],
                description=station["kind"],
                position=Position(
                    cartographicDegrees=[
                        station["longitude_deg"],
                        station["latitude_deg"],
                        station["altitude_km"] * KM_TO_M,
                    ]
                ),
                point=Point(pixelSize=8, color=Color(rgba=[255, 255, 255, 255])),
                label=Label(text=station["name"], font="12pt sans-serif", show=True),
            )
        )
    return Document(packets=packets)


def export_czml(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
) -> Path:
    """Write the run's CZML scene (default ``<run_dir>/scene.czml``); return its path.

    Each satellite gets at most ``max_samples_per_satellite`` position samples, fewer when the
    constellation would exceed ``max_total_samples`` (see ``samples_per_satellite``).

    Raises
    ------
    OrbitgridError
        Not a run folder, or it has no dataset with satellite positions.
    """
    document = build_czml_document(run_dir, max_samples_per_satellite, max_total_samples)
    target = Path(out) if out is not None else Path(run_dir) / CZML_NAME
    if target.is_dir():
        target = target / CZML_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, document.model_dump_json(exclude_none=True))
    return target
