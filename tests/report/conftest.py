"""Fixtures for the report tests: a small run folder, and copies with economics or network added.

Every run folder is made under pytest's tmp_path factories; the small run is built once per
module (6 satellites over 3 h at 60 s, about a second).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import orbitgrid
from orbitgrid.economics import evaluate_economics, load_assumptions, size_satellite
from tests.conftest import small_scenario_dict


def make_run(folder: Path, **overrides: Any) -> Path:
    """Run the small test scenario (with ``overrides``) into ``folder``; return the folder."""
    scenario = orbitgrid.scenario_from_dict(small_scenario_dict(**overrides))
    orbitgrid.run(scenario, out_dir=folder)
    return folder


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of the small scenario (built once per test module; do not modify it)."""
    return make_run(tmp_path_factory.mktemp("small") / "run")


def economics_dict() -> dict[str, Any]:
    """``EconomicsResult.to_dict()`` for an H100 design, as a run's summary will carry it."""
    params = load_assumptions().parameters()
    design = size_satellite("h100-sxm", 114, 10, 5.0, params)
    return evaluate_economics(design, 0.62, params).to_dict()


def copy_run(source: Path, target: Path) -> Path:
    """A writable copy of a run folder."""
    shutil.copytree(source, target)
    return target


def add_economics(run_dir: Path) -> None:
    """Put an ``economics`` section into the run's summary.json."""
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["economics"] = economics_dict()
    (run_dir / "summary.json").write_text(json.dumps(summary))


def synthetic_network(times: np.ndarray, names: list[str]) -> xr.Dataset:
    """Network variables ``[time, src, dst]`` in the engine's form, with a daily RTT wave.

    RTT = 20 ms + 2 ms per endpoint-index difference + a 5 ms sinusoid; the pair (0, last) is
    unreachable (NaN) in the first tenth of the run.
    """
    n_t, n_e = len(times), len(names)
    i = np.arange(n_e)
    base = 20.0 + 2.0 * np.abs(i[:, None] - i[None, :])
    wave = 5.0 * np.sin(np.linspace(0, 2 * np.pi, n_t))[:, None, None]
    rtt = (base[None] + wave).astype(np.float32)
    rtt[:, i, i] = 0.0
    rtt[: n_t // 10, 0, n_e - 1] = np.nan
    rtt[: n_t // 10, n_e - 1, 0] = np.nan
    hops = np.where(np.isnan(rtt), -1, 3).astype(np.int16)
    dims = ("time", "src", "dst")
    return xr.Dataset(
        {
            "rtt_ms": (dims, rtt, {"units": "ms", "long_name": "round-trip time"}),
            "latency_ms": (dims, rtt / 2, {"units": "ms", "long_name": "one-way latency"}),
            "path_length_km": (dims, rtt * 100.0, {"units": "km", "long_name": "path length"}),
            "hop_count": (dims, hops, {"units": "1", "long_name": "links on the path"}),
        },
        coords={"time": times, "src": names, "dst": names},
    )


def add_network(run_dir: Path) -> None:
    """Write a synthetic ``network.zarr`` beside the run's dataset."""
    times = xr.open_zarr(run_dir / "dataset.zarr")["time"].values
    net = synthetic_network(times, ["Paris", "Svalbard", "Singapore", "Santiago"])
    net.to_zarr(run_dir / "network.zarr", mode="w", zarr_format=2, consolidated=True)


NETWORK_CITIES = [
    {"name": "Paris", "latitude": 48.8566, "longitude": 2.3522},
    {"name": "Berlin", "latitude": 52.52, "longitude": 13.405},
    {"name": "Rome", "latitude": 41.9028, "longitude": 12.4964},
]
"""Inline endpoints of the small network run."""

NETWORK_FILE_ENDPOINTS = "name,kind,latitude_deg,longitude_deg\nMadrid,gateway,40.4168,-3.7038\n"
"""An endpoint given through ``network.endpoint_files`` (a CSV beside the run)."""


def make_network_run(folder: Path) -> Path:
    """A real network run: 12 × 20 satellites at 550 km, 30 min at 60 s, three inline cities
    plus one endpoint from a CSV file (absolute path, so the run folder's scenario resolves it
    from anywhere). Takes a few seconds."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    endpoint_file = folder.parent / "endpoints.csv"
    endpoint_file.write_text(NETWORK_FILE_ENDPOINTS)
    data = small_scenario_dict()
    data["time"] = {"start": "2027-03-20T00:00:00Z", "duration": "30 min", "step": "60 s"}
    data["constellation"][0].update(
        {"planes": 12, "sats_per_plane": 20, "inclination": "53 deg", "altitude": "550 km"}
    )
    data["network"] = {"endpoints": NETWORK_CITIES, "endpoint_files": [str(endpoint_file)]}
    orbitgrid.run(orbitgrid.scenario_from_dict(data), out_dir=folder)
    return folder


@pytest.fixture(scope="module")
def network_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of the small network scenario (built once per module; do not modify it)."""
    return make_network_run(tmp_path_factory.mktemp("network") / "run")
