"""The scene of the shipped network run in a real CesiumJS (headless Chromium, software WebGL).

Needs Chromium and the npm package ``cesium`` (``make cesium``; CI runs it before the tests).
Without them the test is skipped locally and fails in CI (``ORBITGRID_NO_SKIPS``). Checks: no
console error or warning, no failed request, every packet became an entity, the clock spans the
scene's window, and Cesium's own interpolation puts satellites within 1 km of the positions the
run stored, at instants between the scene's samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

import orbitgrid
from orbitgrid.report import export_czml
from orbitgrid.scenario import scenario_from_dict
from tests.report.browser import find_chromium
from tests.report.cesium import cesium_version, find_cesium, load_scene
from tests.report.cesium_interp import geodetic_to_ecef_m

CHROMIUM = find_chromium()
CESIUM = find_cesium()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)"),
    pytest.mark.skipif(CESIUM is None, reason="no CesiumJS: run `make cesium` (npm install)"),
]

SHIPPED = Path(orbitgrid.__file__).parent / "scenarios" / "starlink-shell1-network.yaml"
DURATION = "30 min"
"""The shipped network scenario, shortened: 1,584 satellites, 8 cities and their routed links."""

PROBE_SATELLITES = (0, 401, 1583)
PROBE_OFFSETS_S = (330.0, 1050.0, 1530.0)
"""Instants (s after the start) on the run's 30 s grid and between the scene's ~239 s samples."""


@pytest.fixture(scope="module")
def network_scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    data = yaml.safe_load(SHIPPED.read_text())
    data["time"]["duration"] = DURATION
    folder = tmp_path_factory.mktemp("cesium") / "run"
    orbitgrid.run(scenario_from_dict(data, base_dir=SHIPPED.parent), out_dir=folder)
    return folder, export_czml(folder)


def test_network_scene_loads_in_cesium(network_scene: tuple[Path, Path], tmp_path: Path) -> None:
    assert CHROMIUM is not None and CESIUM is not None
    run, scene = network_scene
    packets = json.loads(scene.read_text())
    document = packets[0]
    dataset = xr.open_zarr(run / "dataset.zarr")
    start = pd.Timestamp(dataset["time"].values[0]).tz_localize("UTC")
    queries = [
        {"id": f"satellite/{sat}", "time": (start + pd.Timedelta(seconds=dt)).isoformat()}
        for sat in PROBE_SATELLITES
        for dt in PROBE_OFFSETS_S
    ]
    samples_s = np.array(packets[1]["position"]["cartographicDegrees"]).reshape(-1, 4)[:, 0]
    assert not np.isin(PROBE_OFFSETS_S, samples_s).any()  # really between samples

    seen = load_scene(scene, tmp_path, CHROMIUM, CESIUM, queries)

    assert seen.exception is None, seen.exception
    assert seen.errors == [], f"CesiumJS {cesium_version(CESIUM)}: {seen.errors[:5]}"
    assert seen.failed_requests == []
    assert seen.rendered
    n_satellites = dataset.sizes["satellite"]
    n_endpoints = sum(p["id"].startswith("endpoint/") for p in packets)
    n_links = sum(p["id"].startswith("link/") for p in packets)
    assert (n_satellites, n_endpoints) == (1584, 8) and n_links > 100
    assert seen.entities == len(packets) - 1 == n_satellites + n_endpoints + n_links
    lo, hi = document["clock"]["interval"].split("/")
    assert [pd.Timestamp(t) for t in seen.clock] == [pd.Timestamp(lo), pd.Timestamp(hi)]
    assert pd.Timestamp(lo) == start
    for query, position in zip(queries, seen.positions, strict=True):
        sat = int(query["id"].split("/")[1])
        truth = dataset.sel(time=pd.Timestamp(query["time"]).tz_localize(None)).isel(satellite=sat)
        expected = geodetic_to_ecef_m(
            truth["longitude_deg"].values,
            truth["latitude_deg"].values,
            truth["altitude_km"].values * 1e3,
        )
        assert position is not None, query
        error_km = np.linalg.norm(np.asarray(position) - expected) / 1e3
        assert error_km < 1.0, (query, error_km)
