"""The network stage inside a run: dims, labels, summary and files, and its error messages."""

from __future__ import annotations

import math
from pathlib import Path

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
    table = pd.read_parquet(tmp_path / "r" / "network_pairs.parquet")
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


HYPATIA_TLE = "src/orbitgrid/scenarios/data/starlink_shell1_hypatia.tle"


def test_planes_auto_recovers_hypatia_layout_and_reports_strays(tmp_path):
    """planes: auto on Hypatia's shell 1 (written plane-major, 72 × 22) finds exactly that
    layout from the elements alone; a satellite from another orbit added to the file is
    reported as unplaced instead of being dropped silently."""
    lines = (Path(HYPATIA_TLE)).read_text().splitlines()
    stray = [  # Vanguard 1: e = 0.18, another shell entirely
        "VANGUARD 1",
        "1 00005U 58002B   20287.20333880 -.00000016  00000-0 -22483-4 0  9998",
        "2 00005  34.2443 225.5254 1845686 162.2516 205.2356 10.84869164218149",
    ]
    file = tmp_path / "mixed.tle"
    file.write_text("\n".join(lines + stray) + "\n")
    data = _network_dict()
    data["time"] = {"start": "2000-01-01T00:00:00Z", "duration": "2 min", "step": "60 s"}
    data["constellation"] = [
        {"type": "tle", "name": "s1", "file": str(file), "planes": "auto", "spacecraft": "node"}
    ]
    result = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    ds = result.dataset
    np.testing.assert_array_equal(ds.plane.values[:1584], np.arange(1584) // 22)
    np.testing.assert_array_equal(ds.slot.values[:1584], np.arange(1584) % 22)
    assert ds.plane.values[1584] == -1
    found = result.summary["grouping"]["s1"]
    assert found["sub_shells"][0]["planes"] == 72 and found["sub_shells"][0]["sats_per_plane"] == 22
    assert found["unplaced"] == 1 and list(found["unplaced_satellites"]) == ["VANGUARD 1"]
    assert result.summary["network"]["reachability"] > 0.5


def test_planes_auto_excludes_sats_per_plane():
    data = small_scenario_dict()
    data["constellation"] = [
        {
            "type": "tle",
            "name": "c",
            "file": "x.tle",
            "planes": "auto",
            "sats_per_plane": 22,
            "spacecraft": "node",
        }
    ]
    with pytest.raises(ScenarioError, match="planes: auto finds the planes"):
        orbitgrid.scenario_from_dict(data)


def test_run_writes_contact_windows_that_export_to_ion(tmp_path):
    """A network run leaves contacts.parquet: GSL windows agree with the dataset's visibility
    (each endpoint's windows cover the steps at which it had a satellite), ISL windows of the
    +grid span the run, and `export ion` turns the file into an ION contact plan."""
    from orbitgrid.report.ion import export_ion

    run_dir = tmp_path / "r"
    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict()), out_dir=run_dir)
    contacts = pd.read_parquet(run_dir / "contacts.parquet")
    gsl = contacts[contacts["kind"] == "gsl"]
    isl = contacts[contacts["kind"] == "isl"]
    assert set(gsl["a"]) <= {c["name"] for c in CITIES}
    assert len(isl) >= 12 * 20 * 2 and np.isclose(isl["duration_s"].max(), 1800.0)
    assert (gsl["mean_rate_bps"] == 1e9).all() and (isl["mean_rate_bps"] == 100e9).all()
    assert (gsl["min_range_km"] >= 550.0 - 1.0).all()
    written = export_ion(run_dir)
    text = written.plan_path.read_text()
    assert written.windows == len(contacts)
    assert text.count("a contact") == 2 * len(contacts) and text.count("a range") == len(contacts)


def test_search_order_does_not_change_lengths():
    """The order in which endpoint searches run (routing.search_order) only changes the work:
    path lengths equal those of the plain index order to 1e-9 km, and every reported path
    sums to its length."""
    from orbitgrid.network.build import build_topology
    from orbitgrid.network.endpoints import resolve_endpoints
    from orbitgrid.network.routing import route_chunk
    from orbitgrid.network.topology import ConstellationIndex
    from tests.network.test_routing import _shell

    data = _network_dict(endpoint_files=["builtin:cities_top100"])
    data["network"]["endpoints"] = []
    cfg = orbitgrid.scenario_from_dict(data).network
    eps = resolve_endpoints(cfg, Path("."))
    sats = _shell(n_planes=12, per_plane=10, altitude_km=1000.0, t_steps=2)
    topo = build_topology(cfg, ConstellationIndex.walker(12, 10), eps)
    chosen = route_chunk(sats, eps.ecef_km(), topo)
    assert not np.array_equal(topo.search_rank, np.arange(len(eps)))
    topo.__dict__["search_rank"] = np.arange(len(eps))
    plain = route_chunk(sats, eps.ecef_km(), topo)
    np.testing.assert_allclose(chosen.path_length_km, plain.path_length_km, rtol=0, atol=1e-9)
    nodes = np.concatenate([sats[1], eps.ecef_km()])
    checked = 0
    for src, dst in [(0, 57), (57, 0), (3, 99), (99, 3), (10, 11)]:
        path = chosen.path_node_ids(1, src, dst)
        if len(path) == 0:
            # No path only when the pair is unreachable at this step, never silently.
            assert not np.isfinite(chosen.path_length_km[1, src, dst]), (src, dst)
            continue
        checked += 1
        assert path[0] == len(sats[1]) + src and path[-1] == len(sats[1]) + dst
        total = np.linalg.norm(np.diff(nodes[path], axis=0), axis=1).sum()
        assert abs(total - chosen.path_length_km[1, src, dst]) < 1e-6
    assert checked == 5  # all five pairs are reachable at this step


@pytest.mark.parametrize("log_format", ["csv", "csv.gz", "none"])
def test_path_log_formats(tmp_path, log_format):
    """network.path_log: csv and csv.gz write the rows of the default paths.parquet as text
    (read back the same by `orbitgrid paths` and ``tables.read_table``); none writes no log,
    and `orbitgrid paths` says why there is nothing to read. The other tables stay Parquet."""
    from orbitgrid.errors import OrbitgridError
    from orbitgrid.network.paths import PATH_TEXT_TYPES, PATH_TIMES, read_paths
    from orbitgrid.network.tables import read_table

    plain, other = tmp_path / "plain", tmp_path / "other"
    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict()), out_dir=plain)
    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict(path_log=log_format)), out_dir=other)
    assert (other / "contacts.parquet").is_file() and (other / "network_pairs.parquet").is_file()
    if log_format == "none":
        assert not list(other.glob("paths*"))
        with pytest.raises(OrbitgridError, match=r"network\.path_log: none"):
            read_paths(other, "Paris", "Berlin")
        return
    assert [p.name for p in other.glob("paths*")] == [f"paths.{log_format}"]
    assert read_paths(other, "Paris", "Berlin") == read_paths(plain, "Paris", "Berlin")
    reference = read_table(plain / "paths.parquet")
    text = read_table(other / f"paths.{log_format}", timestamps=PATH_TIMES, types=PATH_TEXT_TYPES)
    assert reference.num_rows > 3 and text.cast(reference.schema).equals(reference)


def test_tables_csv_writes_every_network_table_as_csv(tmp_path):
    """network.tables: csv gives paths.csv, contacts.csv and network_pairs.csv, with the
    values of the Parquet tables (readers find either)."""
    from orbitgrid.network.contact_plan import read_contact_plan

    parquet, text = tmp_path / "parquet", tmp_path / "csv"
    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict()), out_dir=parquet)
    orbitgrid.run(orbitgrid.scenario_from_dict(_network_dict(tables="csv")), out_dir=text)
    for stem in ("paths", "contacts", "network_pairs"):
        assert (text / f"{stem}.csv").is_file() and not (text / f"{stem}.parquet").exists()
        assert (parquet / f"{stem}.parquet").is_file() and not (parquet / f"{stem}.csv").exists()
    pd.testing.assert_frame_equal(
        pd.read_csv(text / "network_pairs.csv"),
        pd.read_parquet(parquet / "network_pairs.parquet"),
        check_dtype=False,  # CSV writes a whole float as 1, read back as an integer
    )
    a, b = read_contact_plan(text), read_contact_plan(parquet)
    assert len(a) == len(b) > 0 and np.array_equal(a.start_s, b.start_s)
    assert a.node_names == b.node_names


def test_routing_in_blocks_changes_nothing(monkeypatch):
    """The stage routes a chunk in blocks (memory follows the block): blocks of 4 steps give
    the same stored steps (every 3rd) and the same summary as one block per chunk, path
    changes across block edges included."""
    import orbitgrid.network.stage as stage_module

    data = _network_dict()
    data["output"] = {"every": "3 min"}
    whole = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    monkeypatch.setattr(stage_module, "PAIR_STEPS_PER_BLOCK", 4 * 9)
    blocks = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    assert whole.dataset.sizes["time"] == 10
    for name in ("rtt_ms", "hop_count", "path_changed", "route_status", "path_rate_mbps"):
        np.testing.assert_array_equal(whole.dataset[name].values, blocks.dataset[name].values)
    assert whole.summary["network"] == blocks.summary["network"]
