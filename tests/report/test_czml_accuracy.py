"""The CZML scene keeps every satellite within 1 km of its simulated position, as Cesium draws it.

The scene's samples are interpolated exactly as CesiumJS does (``cesium_interp``: Lagrange of
the packet's degree over the window of degree + 1 samples that ``SampledProperty`` picks, in
Earth-fixed Cartesian on WGS84) and compared with the positions the engine simulated and
stored (``latitude_deg``, ``longitude_deg``, ``altitude_km`` of the run's dataset) at instants
between the scene's samples. Before this check existed, the year-long flagship was sampled
every 90,000 s (≈ 15 orbits) and drawn up to 19,000 km off its orbit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import orbitgrid
from orbitgrid.report import export_czml
from orbitgrid.scenario import scenario_from_dict
from tests.report.cesium_interp import SampledPosition, geodetic_to_ecef_m

SHIPPED_DIR = Path(orbitgrid.__file__).parent / "scenarios"
TOLERANCE_KM = 1.0


def _shipped(name: str, every: str | None = None, **time: str) -> orbitgrid.Scenario:
    path = SHIPPED_DIR / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data["time"].update(time)
    if every is not None:
        data.setdefault("output", {})["every"] = every
    return scenario_from_dict(data, base_dir=path.parent, source=str(path))


@pytest.fixture(scope="module")
def flagship_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship as shipped: a year at 2 min, hourly snapshots in the dataset."""
    folder = tmp_path_factory.mktemp("flagship") / "run"
    orbitgrid.run(_shipped("dawn-dusk-cluster"), out_dir=folder)
    return folder


def scene_errors_km(scene: Path, dataset: xr.Dataset, satellites) -> np.ndarray:
    """Distance (km) between the scene as Cesium interpolates it and the dataset, at every
    stored step inside the scene's window that is not itself a sample time; [time, sat]."""
    packets = {p["id"]: p for p in json.loads(scene.read_text())}
    errors = []
    for sat in satellites:
        sampled = SampledPosition.from_packet(packets[f"satellite/{sat}"])
        start = np.datetime64(sampled.epoch.replace(tzinfo=None), "ns")
        seconds = (dataset["time"].values - start) / np.timedelta64(1, "s")
        inside = (seconds >= 0) & (seconds <= sampled.seconds[-1])
        between = inside & ~np.isin(np.round(seconds, 3), np.round(sampled.seconds, 3))
        assert between.sum() >= 10  # enough instants between samples to mean something
        point = dataset.isel(satellite=sat, time=np.flatnonzero(between))
        truth = geodetic_to_ecef_m(
            point["longitude_deg"].values,
            point["latitude_deg"].values,
            point["altitude_km"].values * 1e3,
        )
        errors.append(np.linalg.norm(sampled.at(seconds[between]) - truth, axis=-1) / 1e3)
    return np.stack(errors, axis=1)


def test_flagship_scene_stays_on_the_orbit_all_year(flagship_year: Path, tmp_path: Path) -> None:
    """Windows at the start and in the June eclipse season, against the hourly snapshots."""
    dataset = xr.open_zarr(flagship_year / "dataset.zarr")
    satellites = range(0, 120, 7)
    first = export_czml(flagship_year, tmp_path / "first.czml")
    assert scene_errors_km(first, dataset, satellites).max() < TOLERANCE_KM
    june = export_czml(
        flagship_year, tmp_path / "june.czml", start="2027-06-21T00:00:00Z", duration_s=2 * 86400
    )
    errors = scene_errors_km(june, dataset, satellites)
    assert errors.shape[0] >= 40
    assert errors.max() < TOLERANCE_KM


def test_flagship_scene_between_samples_minute_by_minute(tmp_path: Path) -> None:
    """The same orbit stored every 20 s for 6 h: dense instants between the samples."""
    folder = tmp_path / "run"
    scenario = _shipped("dawn-dusk-cluster", every="20 s", duration="6 h", step="20 s")
    orbitgrid.run(scenario, out_dir=folder)
    dataset = xr.open_zarr(folder / "dataset.zarr")
    assert dataset.sizes["time"] == 6 * 180
    scene = export_czml(folder, tmp_path / "scene.czml")
    errors = scene_errors_km(scene, dataset, range(0, 120, 11))
    assert errors.shape[0] > 900
    assert errors.max() < TOLERANCE_KM


def test_element_set_scene_stays_on_the_orbit(tmp_path: Path) -> None:
    """SGP4 satellites (Starlink shell 1 elements), two hours at 60 s."""
    folder = tmp_path / "run"
    orbitgrid.run(_shipped("starlink-shell1-tle", duration="2 h"), out_dir=folder)
    dataset = xr.open_zarr(folder / "dataset.zarr")
    scene = export_czml(folder, tmp_path / "scene.czml")
    errors = scene_errors_km(scene, dataset, range(0, dataset.sizes["satellite"], 97))
    assert np.isfinite(errors).all()
    assert errors.max() < TOLERANCE_KM
