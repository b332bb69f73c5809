"""Network section schema, endpoint files, topology build, failures, dataset and summary."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.errors import InputFileError, ScenarioError
from orbitgrid.network.build import build_topology, failure_masks, path_history, routing_dataset
from orbitgrid.network.config import network_config_from_dict, parse_rate_bps
from orbitgrid.network.endpoints import builtin_endpoints, read_endpoints_csv, resolve_endpoints
from orbitgrid.network.routing import route_chunk
from orbitgrid.network.summary import routing_summary
from orbitgrid.network.topology import ConstellationIndex


def test_defaults_and_units():
    c = network_config_from_dict(
        {
            "endpoints": [
                {
                    "name": "A",
                    "latitude": "10 deg",
                    "longitude": 20,
                    "altitude": "300 m",
                    "jurisdiction": "US-CA",
                }
            ],
            "isl": {"max_range": "5016591 m", "rate": "200 Gbps", "per_hop_delay": "0.1 ms"},
        }
    )
    assert c.endpoints[0].altitude_km == pytest.approx(0.3)
    assert c.isl.max_range_km == pytest.approx(5016.591)
    assert c.isl.rate_bps == 200e9 and c.isl.per_hop_delay_s == pytest.approx(1e-4)
    assert c.isl.pattern == "+grid" and c.routing.mode == "isls-only"
    assert repr(c) == "NetworkConfig(1 inline endpoints + 0 files, isl=+grid, mode=isls-only)"


def test_error_messages_name_path_value_and_choices():
    """Pinned wording: field path as in YAML, the value, the allowed choices."""
    with pytest.raises(ScenarioError) as exc:
        network_config_from_dict(
            {
                "isl": {"pattern": "grid"},
                "routing": {"mode": "bent"},
                "endpoints": [
                    {
                        "name": "X",
                        "latitude": 0,
                        "longitude": 0,
                        "min_elevation": "95 deg",
                        "jurisdiction": "France",
                    }
                ],
                "endpoint_files": ["builtin:nope"],
                "bogus": 1,
            }
        )
    msg = str(exc.value)
    assert "network.isl.pattern: Input should be '+grid', 'none' or 'formation' (got 'grid')" in msg
    assert "network.routing.mode: Input should be 'isls-only' or 'ground-relays'" in msg
    assert "network.endpoints[0].min_elevation: Input should be less than 90" in msg
    assert "network.endpoints[0].jurisdiction" in msg
    assert "unknown built-in endpoint list 'builtin:nope'; available: builtin:cities_top100" in msg
    assert "network.bogus: Extra inputs are not permitted" in msg
    assert exc.value.path == "network.endpoints[0].min_elevation"
    with pytest.raises(ValueError, match="could not read '5 furlongs' as a data rate"):
        parse_rate_bps("5 furlongs")


def test_scheduled_failure_needs_target_and_order():
    with pytest.raises(ScenarioError, match="a failure of a isl needs 'between'"):
        network_config_from_dict({"failures": {"scheduled": [{"element": "isl"}]}})
    with pytest.raises(ScenarioError, match="must be after start"):
        network_config_from_dict(
            {
                "failures": {
                    "scheduled": [
                        {"element": "satellite", "id": 1, "start": "10 min", "end": "5 min"}
                    ]
                }
            }
        )


def test_shipped_lists_and_csv_errors(tmp_path):
    cities = builtin_endpoints("cities_top100")
    assert len(cities) == 100 and cities[24].name == "Paris" and cities[24].jurisdiction == "FR"
    gws = builtin_endpoints("ground_gateways")
    assert len(gws) >= 20 and all(g.min_elevation_deg is not None for g in gws)
    bad = tmp_path / "eps.csv"
    bad.write_text("# comment\nname,latitude_deg,longitude_deg\nA,10,20\nB,95,0\n")
    with pytest.raises(InputFileError, match=r"eps.csv, line 4: latitude: .*less than or equal"):
        read_endpoints_csv(bad)
    bad.write_text("name,lat,lon\nA,1,2\n")
    with pytest.raises(InputFileError, match="line 1: missing column"):
        read_endpoints_csv(bad)
    bad.write_text("name,latitude_deg,longitude_deg\nA,north,2\n")
    with pytest.raises(InputFileError, match="line 2: column latitude is not a number"):
        read_endpoints_csv(bad)
    with pytest.raises(InputFileError, match="does not exist"):
        read_endpoints_csv(tmp_path / "missing.csv")


def test_resolve_endpoints_defaults_and_duplicates(tmp_path):
    f = tmp_path / "gw.csv"
    f.write_text(
        "name,kind,latitude_deg,longitude_deg,altitude_km,jurisdiction,max_range_km\n"
        "GW1,gateway,47.6,-122.3,0.1,US,1500\n"
    )
    cfg = network_config_from_dict(
        {
            "endpoints": [{"name": "A", "latitude": 1, "longitude": 2}],
            "endpoint_files": ["gw.csv"],
            "gsl": {"min_elevation": "30 deg"},
        }
    )
    t = resolve_endpoints(cfg, tmp_path)
    assert list(t.name) == ["A", "GW1"]
    assert t.min_elevation_deg.tolist() == [30.0, 0.0]
    assert t.max_range_km.tolist() == [np.inf, 1500.0]
    with pytest.raises(ScenarioError, match="unknown endpoint 'B'; known endpoints: A, GW1"):
        t.index("B")
    dup = network_config_from_dict(
        {
            "endpoints": [{"name": "Paris", "latitude": 1, "longitude": 2}],
            "endpoint_files": ["builtin:cities_top100"],
        }
    )
    with pytest.raises(ScenarioError, match="repeated: Paris"):
        resolve_endpoints(dup)
    with pytest.raises(ScenarioError, match="no endpoints"):
        resolve_endpoints(network_config_from_dict({}))


def _small_run(cfg_dict):
    cfg = network_config_from_dict(cfg_dict)
    eps = resolve_endpoints(cfg)
    topo = build_topology(cfg, ConstellationIndex.walker(6, 8), eps)
    return cfg, eps, topo


def test_failure_masks_scheduled_random_and_errors():
    scheduled = [
        {"element": "satellite", "id": 3, "start": "60 s", "end": "120 s"},
        {"element": "isl", "between": [1, 0]},
        {"element": "endpoint", "name": "B", "start": "0 s", "end": "30 s"},
    ]
    cfg, eps, topo = _small_run(
        {
            "endpoints": [
                {"name": "A", "latitude": 0, "longitude": 0},
                {"name": "B", "latitude": 10, "longitude": 10},
            ],
            "failures": {
                "scheduled": scheduled,
                "random": {"satellites_down_fraction": "25 %", "seed": 4},
            },
        }
    )
    times = np.arange(0, 180, 30.0)
    m = failure_masks(cfg, times, topo, eps)
    window = [False, False, True, True, False, False]  # [60 s, 120 s) on steps of 30 s
    # The scheduled entries alone: satellite 3 is down exactly over its window, nothing else.
    scheduled_only, _, _ = _small_run(
        {
            "endpoints": [
                {"name": "A", "latitude": 0, "longitude": 0},
                {"name": "B", "latitude": 10, "longitude": 10},
            ],
            "failures": {"scheduled": scheduled},
        }
    )
    s = failure_masks(scheduled_only, times, topo, eps)
    assert s.satellite[:, 3].tolist() == window
    assert not np.delete(s.satellite, 3, axis=1).any()
    # Random down fraction alone (same seed): a static draw of 25 % ± a few satellites.
    random_only, _, _ = _small_run(
        {
            "endpoints": [
                {"name": "A", "latitude": 0, "longitude": 0},
                {"name": "B", "latitude": 10, "longitude": 10},
            ],
            "failures": {"random": {"satellites_down_fraction": "25 %", "seed": 4}},
        }
    )
    r = failure_masks(random_only, times, topo, eps)
    assert (r.satellite == r.satellite[0]).all() and 6 <= r.satellite[0].sum() <= 18
    # Together: the union, step by step (with seed 4 satellite 3 is also randomly down, so
    # the window is checked by the scheduled-only masks above, not here).
    np.testing.assert_array_equal(m.satellite, r.satellite | s.satellite)
    k = [tuple(p) for p in topo.isl_pairs.tolist()].index((0, 1))
    assert m.isl[:, k].all() and m.endpoint[:, 1].tolist() == [True] + [False] * 5
    # Deterministic and independent of chunking.
    m2 = failure_masks(cfg, times[3:], topo, eps)
    np.testing.assert_array_equal(m2.satellite, m.satellite[3:])
    # Failures naming elements that do not exist are refused when the topology is built,
    # before any step runs, with the YAML path of the entry.
    with pytest.raises(ScenarioError, match=r"satellite 99 does not exist; ids are 0..47") as exc:
        _small_run(
            {
                "endpoints": [{"name": "A", "latitude": 0, "longitude": 0}],
                "failures": {"scheduled": [{"element": "satellite", "id": 99}]},
            }
        )
    assert exc.value.path == "network.failures.scheduled[0].id"
    with pytest.raises(ScenarioError, match="no ISL between satellites 0 and 30"):
        _small_run(
            {
                "endpoints": [{"name": "A", "latitude": 0, "longitude": 0}],
                "failures": {"scheduled": [{"element": "isl", "between": [0, 30]}]},
            }
        )
    with pytest.raises(ScenarioError) as exc:
        _small_run(
            {
                "endpoints": [{"name": "Paris", "latitude": 0, "longitude": 0}],
                "failures": {"scheduled": [{"element": "endpoint", "name": "Pari"}]},
            }
        )
    assert exc.value.path == "network.failures.scheduled[0].name"
    assert (
        "network.failures.scheduled[0].name: no endpoint named 'Pari' (did you mean 'Paris'?); "
        "endpoints: Paris" in str(exc.value)
    )


def test_grid_pattern_that_does_not_fit_is_reported():
    cfg = network_config_from_dict({"endpoints": [{"name": "A", "latitude": 0, "longitude": 0}]})
    with pytest.raises(ScenarioError, match="shell 0 has 2 planes × 8 satellites"):
        build_topology(cfg, ConstellationIndex.walker(2, 8), resolve_endpoints(cfg))
    with pytest.raises(ScenarioError, match="constellation is empty"):
        build_topology(cfg, ConstellationIndex.walker(0, 0), resolve_endpoints(cfg))


def test_dataset_and_summary_labels():
    """Named dims time/src/dst with units; summary has percentiles and the fibre reference."""
    __, eps, topo = _small_run(
        {
            "endpoints": [
                {"name": "A", "latitude": 0, "longitude": 0},
                {"name": "B", "latitude": 5, "longitude": 5},
            ],
            "gsl": {"min_elevation": "0 deg"},
        }
    )
    r = 6378.135 + 1200.0
    ang = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    sats = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros(48)], axis=-1)[None].repeat(3, 0)
    res = route_chunk(sats, eps.ecef_km(), topo)
    times = np.array(
        ["2027-01-01T00:00", "2027-01-01T00:01", "2027-01-01T00:02"], dtype="datetime64[ns]"
    )
    ds = routing_dataset(res, times, eps)
    assert ds["rtt_ms"].dims == ("time", "src", "dst") and ds["rtt_ms"].attrs["units"] == "ms"
    assert ds["path_node"].sel(src="A", dst="B").shape[0] == 3
    hist = path_history(ds, "A", "B")
    assert hist[0][2][0] == "A" and hist[0][2][-1] == "B" and hist[0][2][1].startswith("sat")
    assert len(hist) == 1 + int(res.path_changed[:, 0, 1].sum())
    with pytest.raises(ScenarioError, match="unknown endpoint 'C'; known endpoints: A, B"):
        path_history(ds, "A", "C")
    s = routing_summary(res.rtt_ms, res.path_changed, eps)
    assert float(s["reachability"].sel(src="A", dst="B")) == 1.0
    assert float(s["fibre_rtt_ms"].sel(src="A", dst="B")) > 0
    assert float(s["rtt_p50_ms"].sel(src="A", dst="B")) >= float(
        2 * np.linalg.norm(eps.ecef_km()[0] - eps.ecef_km()[1]) / 299792.458 * 1e3
    )


def test_grid_without_a_plane_layout_is_caught_by_validate(tmp_path):
    """A +grid pattern over a TLE shell given no plane layout is refused by `orbitgrid
    validate` (``check_network``), naming the shell and the YAML path, not only when the run
    starts; with isl.pattern none the same shells pass."""
    import subprocess
    import sys

    import yaml

    from orbitgrid.network.build import check_network
    from orbitgrid.plan import build_plan
    from orbitgrid.scenario import scenario_from_dict
    from tests.conftest import small_scenario_dict

    tle = "src/orbitgrid/scenarios/data/starlink_shell1_hypatia.tle"
    lines = open(tle).read().splitlines()[:6]  # two satellites, no layout
    (tmp_path / "two.tle").write_text("\n".join(lines) + "\n")
    data = small_scenario_dict()
    data["time"] = {"start": "2000-01-01T00:00:00Z", "duration": "2 min", "step": "60 s"}
    data["constellation"] = [
        {"type": "tle", "name": "loose", "file": str(tmp_path / "two.tle"), "spacecraft": "node"}
    ]
    data["network"] = {"endpoints": [{"name": "Paris", "latitude": 48.9, "longitude": 2.35}]}
    with pytest.raises(ScenarioError, match=r"shell 'loose' .* has none") as caught:
        check_network(build_plan(scenario_from_dict(data)))
    assert caught.value.path == "network.isl.pattern"
    data["network"]["isl"] = {"pattern": "none"}
    check_network(build_plan(scenario_from_dict(data)))
    del data["network"]["isl"]
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "orbitgrid", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "network.isl.pattern" in done.stderr and "'loose'" in done.stderr
