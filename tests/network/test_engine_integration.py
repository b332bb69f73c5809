"""The network stage inside a run: dims, labels, summary and files, and its error messages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import orbitgrid
from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72
from orbitgrid.errors import ScenarioError
from orbitgrid.orbits.frames import geodetic_to_ecef_km
from tests.conftest import small_scenario_dict

CITIES = [
    {"name": "Paris", "latitude": 48.8566, "longitude": 2.3522, "jurisdiction": "FR"},
    {"name": "Berlin", "latitude": 52.52, "longitude": 13.405, "jurisdiction": "DE"},
    {"name": "Rome", "latitude": 41.9028, "longitude": 12.4964, "jurisdiction": "IT"},
]


def _network_dict(**network):
    data = small_scenario_dict()
    data["time"] = {"start": "2027-03-20T00:00:00Z", "duration": "30 min", "step": "60 s"}
    data["constellation"][0].update(
        {"planes": 12, "sats_per_plane": 20, "inclination": "53 deg", "altitude": "550 km"}
    )
    data["network"] = {"endpoints": CITIES, **network}
    return data


def test_network_run_labels_pairs_and_respects_light_time(tmp_path):
    """RTT over the constellation is never below the straight-line light time between the two
    cities (2·|r₁ − r₂|/c), and the dataset is labelled by endpoint name."""
    result = orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict()), out_dir=tmp_path / "r")
    ds = result.dataset
    assert list(ds.src.values) == ["Paris", "Berlin", "Rome"]
    assert ds.rtt_ms.dims == ("time", "src", "dst")
    assert ds.rtt_ms.attrs["units"] == "ms"
    ecef = geodetic_to_ecef_km(
        np.array([c["latitude"] for c in CITIES]),
        np.array([c["longitude"] for c in CITIES]),
        np.zeros(3),
        WGS72,
    )
    chord_km = np.linalg.norm(ecef[:, None] - ecef[None], axis=-1)
    light_rtt_ms = 2e3 * chord_km / SPEED_OF_LIGHT_KM_S
    rtt = ds.rtt_ms.values
    reachable = np.isfinite(rtt)
    assert reachable[:, 0, 1].mean() > 0.5  # Paris–Berlin mostly reachable
    assert np.all(rtt[reachable] >= np.broadcast_to(light_rtt_ms, rtt.shape)[reachable] - 1e-6)
    network = result.summary["network"]
    assert network["endpoints"] == 3 and network["pairs"] == 3
    assert set(network["per_pair"]) == {"Paris -> Berlin", "Paris -> Rome", "Berlin -> Rome"}
    table = pd.read_csv(tmp_path / "r" / "network_pairs.csv")
    assert len(table) == 3 and math.isfinite(table["rtt_p50_ms"].iloc[0])


def test_grid_links_need_a_plane_layout():
    """A TLE shell without planes/sats_per_plane cannot have +grid links: the error says how to
    give the layout or which pattern to use instead."""
    data = _network_dict()
    data["constellation"] = [
        {
            "type": "tle",
            "name": "cat",
            "file": "tests/data/three_satellites.3le",
            "spacecraft": "node",
        }
    ]
    with pytest.raises(ScenarioError, match=r"shell 'cat' .* give it planes and sats_per_plane"):
        orbitgrid.run(orbitgrid.scenario_from_dict(data))


def test_formation_links_work_without_a_plane_layout():
    data = _network_dict(isl={"pattern": "formation", "max_range": "5000 km"})
    data["constellation"] = [
        {
            "type": "tle",
            "name": "cat",
            "file": "tests/data/three_satellites.3le",
            "spacecraft": "node",
        }
    ]
    data["time"]["start"] = "2019-12-09T12:00:00Z"
    result = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    assert result.summary["network"]["pairs"] == 3


def test_tle_planes_must_match_the_file():
    data = small_scenario_dict()
    data["constellation"] = [
        {
            "type": "tle",
            "name": "cat",
            "file": "tests/data/three_satellites.3le",
            "planes": 2,
            "sats_per_plane": 2,
            "spacecraft": "node",
        }
    ]
    scenario = orbitgrid.scenario_from_dict(data)
    with pytest.raises(ScenarioError, match=r"2 × 2 = 4, but .* holds 3 satellites"):
        orbitgrid.run(scenario)


def test_tle_planes_need_both_numbers():
    data = small_scenario_dict()
    data["constellation"] = [
        {"type": "tle", "name": "cat", "file": "x.tle", "planes": 2, "spacecraft": "node"}
    ]
    with pytest.raises(ScenarioError, match="give both planes and sats_per_plane"):
        orbitgrid.scenario_from_dict(data)


def test_bad_network_field_names_its_path():
    data = _network_dict(isl={"pattern": "+grd"})
    with pytest.raises(ScenarioError, match=r"network\.isl\.pattern"):
        orbitgrid.scenario_from_dict(data)


def test_path_log_serves_both_directions(tmp_path):
    from orbitgrid.errors import OrbitgridError
    from orbitgrid.network.paths import read_paths

    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict()), out_dir=tmp_path / "r")
    forward = read_paths(tmp_path / "r", "Paris", "Berlin")
    backward = read_paths(tmp_path / "r", "Berlin", "Paris")
    assert forward and len(forward) == len(backward)
    assert forward[0]["time_utc"] == "2027-03-20T00:00:00"  # every pair logged at the start
    reachable = [row for row in forward if row["path"]]
    assert reachable[0]["path"].startswith("Paris > ") and reachable[0]["path"].endswith(
        " > Berlin"
    )
    back = {row["time_utc"]: row["path"] for row in backward}
    for row in reachable:
        assert back[row["time_utc"]] == " > ".join(reversed(row["path"].split(" > ")))
    with pytest.raises(OrbitgridError, match=r"unknown endpoint 'Oslo'.*Berlin, Paris, Rome"):
        read_paths(tmp_path / "r", "Oslo", "Paris")
