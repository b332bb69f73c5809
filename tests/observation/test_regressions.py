"""Regression tests of the Earth-observation stage: each test failed on the code before its
fix and says in its docstring what was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.engine import execute, prepare
from orbitgrid.errors import ScenarioError
from orbitgrid.network.contact_plan import KIND_GSL_DOWN, KIND_ISL, ContactPlan
from orbitgrid.observation.delivery import OUT_DELIVERED, Tiles, simulate
from orbitgrid.observation.summary import ObservationSummary, bundles_table
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.scenarios import shipped_scenario_path
from orbitgrid.yaml_loader import load_yaml_file


def _tiles(satellite, capture_s, size_bytes, keep=True) -> Tiles:
    n = len(satellite)
    return Tiles(
        satellite=np.asarray(satellite, np.int64),
        capture_s=np.asarray(capture_s, float),
        priority=np.ones(n, np.int64),
        cloud_fraction=np.zeros(n),
        latitude_deg=np.zeros(n),
        longitude_deg=np.zeros(n),
        size_bytes=np.full(n, float(size_bytes)),
        keep=np.full(n, keep),
    )


def test_departure_waits_behind_a_bundle_relayed_through_the_satellite():
    """Satellite 1 reaches the station only through satellite 0 (ISL 1 → 0, then 0's
    downlink [100, 200) s at 1 Mbit/s, 8 s per 1 MB tile). Satellite 1's tile (made at 0 s)
    is routed first and books 0's downlink over [100, 108]; satellite 0's own tile (made at
    1 s) is sent behind it over [108, 116] and delivered at 116.01 s (light time 0.01 s).
    Its departure from satellite 0 (when its store frees) is therefore 116 s. The replay of
    first hops used to count only bundles whose *first* hop was that downlink, so it put
    the departure at 108 s, before its first byte could even leave, and freed the store 8 s
    early: the departure must be the delivery minus the light time for a one-hop route."""
    plan = ContactPlan.from_arrays(
        [1, 0],
        [0, 2],
        [0.0, 100.0],
        [1000.0, 200.0],
        [1e9, 1e6],
        [0.0, 0.01],
        n_nodes=3,
        kind=[KIND_ISL, KIND_GSL_DOWN],
    )
    tiles = _tiles([1, 0], [0.0, 1.0], 1e6)
    o = simulate(
        "raw", tiles, None, 2, 60.0, 1000.0, plan, np.array([2]), np.inf, "drop-oldest", 0.0, None
    )
    assert o.bundle_hops.tolist() == [2, 1]
    np.testing.assert_allclose(o.bundle_delivered_s, [108.01, 116.01])
    np.testing.assert_allclose(o.bundle_departed_s[1], 116.0)
    np.testing.assert_allclose(o.bundle_departed_s[0], 0.008)  # 1 MB over the 1 Gbit/s ISL


def test_the_bundle_table_holds_a_strategy_that_made_no_bundle():
    """``filter`` with ``keep: 0`` (or no processing capacity) makes no bundle while ``raw``
    makes one per tile. The bundle table typed the text columns from their values, so the
    empty strategy's were of Arrow type null and concatenating the strategies raised
    ``ArrowInvalid: Schema ... was different``: writing the run folder crashed."""
    tiles = _tiles([0, 0, 0], [0.0, 10.0, 20.0], 1e6, keep=False)
    plan = ContactPlan.from_arrays([0], [1], [100.0], [200.0], [1e6], n_nodes=2, kind=KIND_GSL_DOWN)
    outcomes = {
        s: simulate(
            s,
            tiles,
            np.full((10, 1), 5.0),
            1,
            60.0,
            600.0,
            plan,
            np.array([1]),
            np.inf,
            "drop-oldest",
            1e3,
            None,
        )
        for s in ("raw", "filter")
    }
    assert len(outcomes["filter"].bundle_size) == 0
    table = bundles_table(outcomes, tiles, ["sat"], ["sat", "station"])
    assert table.num_rows == 3
    assert table.column("outcome").to_pylist().count("delivered") == int(
        np.sum(outcomes["raw"].bundle_outcome == OUT_DELIVERED)
    )


def test_passes_are_those_of_the_receiving_stations():
    """With ``observation.ground_stations: [Svalbard]`` the other endpoints receive nothing,
    yet their downlinks stayed in the delivery plan (dead ends for routing) and were counted
    in ``passes`` (count, contact hours, p50 volume), ``visible_count`` and the mean rate of
    ``station_hours_needed``: 16 passes were reported for Svalbard's 7 over 6 h of the
    Sentinel-2-like scenario. Every downlink of the plan must now end at a receiving
    station, and the counts must be those of its passes."""
    data = load_yaml_file(shipped_scenario_path("eo-sentinel2-like"))
    data["time"]["duration"] = "6 h"
    data["observation"]["ground_stations"] = ["Svalbard"]
    data["observation"].pop("station_target")
    data["observation"]["strategies"] = ["raw"]
    plan, pipeline = prepare(scenario_from_dict(data, base_dir="."))
    summary = execute(plan, pipeline)["observation"]
    reducer = next(r for r in pipeline.reducers if isinstance(r, ObservationSummary))
    contacts = reducer.delivery.plan
    down = contacts.kind == KIND_GSL_DOWN
    assert down.sum() > 0
    svalbard = reducer._node_names.index("Svalbard")
    assert np.all(contacts.to_node[down] == svalbard)
    passes = summary["passes"]
    assert passes["count"] == passes["visible_count"] == int(down.sum())
    assert passes["contact_hours"] * 3600.0 == np.sum(contacts.duration_s[down])


def test_a_ground_station_named_twice_is_refused():
    """``observation.ground_stations: [Svalbard, Svalbard]`` was accepted and the station
    then stood twice in the station search's order; it is a scenario error now."""
    data = load_yaml_file(shipped_scenario_path("eo-sentinel2-like"))
    data["observation"]["ground_stations"] = ["Svalbard", "Matera", "Svalbard"]
    with pytest.raises(ScenarioError, match=r"observation: .*names a station more than once"):
        scenario_from_dict(data, base_dir=".")
