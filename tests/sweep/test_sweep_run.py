"""End-to-end sweeps on the tiny scenario: economics twin, caching, determinism, Dask."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

import orbitgrid
from orbitgrid.sweep import run_sweep
from orbitgrid.sweep.design import build_design
from orbitgrid.sweep.spec import load_sweep

COST = "economics.shells.w.orbital.cost_per_gpu_hour_usd"


def test_vectorised_economics_matches_full_runs(sweep_file, tmp_path: Path):
    """Twin check: the broadcast economics of a sweep equals ``orbitgrid.run`` point by point.

    Reference: the engine's own economics stage (``economics/stage.py``) run on the full
    scenario of each point. Tolerance: relative 1e-12 (same arithmetic, different batching).
    """
    path = sweep_file(
        {
            "name": "twin",
            "design": "grid",
            "parameters": {
                "economics.overrides.launch_cost_usd_per_kg": {"values": [200, 2720]},
                "economics.mission": {"values": ["3 yr", "10 yr"]},
                "economics.replacement": {"values": ["satellite", "compute"]},
            },
            "outputs": [
                COST,
                "economics.shells.w.cost_ratio",
                "economics.shells.w.orbital.waterfall_usd.launch",
                "total.delivered_compute_fraction",
            ],
        }
    )
    result = run_sweep(path, tmp_path / "out", "synchronous", None, None)
    assert (result.points_done, result.points_failed, result.physics_runs) == (8, 0, 1)
    table = result.table()
    base = yaml.safe_load((tmp_path / "base.yaml").read_text())
    for _, row in table.iterrows():
        data = {**base, "output": {"dataset": False}}
        data["economics"] = {
            "mission": f"{row['economics.mission']} yr",  # the table holds numbers in yr
            "replacement": row["economics.replacement"],
            "overrides": {
                "launch_cost_usd_per_kg": row["economics.overrides.launch_cost_usd_per_kg"]
            },
        }
        summary = orbitgrid.run(orbitgrid.scenario_from_dict(data)).summary
        shell = summary["economics"]["shells"]["w"]
        launch = dict(shell["orbital"]["waterfall_usd"])["launch"]
        assert row[COST] == pytest.approx(shell["orbital"]["cost_per_gpu_hour_usd"], rel=1e-12)
        assert row["economics.shells.w.cost_ratio"] == pytest.approx(shell["cost_ratio"], rel=1e-12)
        assert row["economics.shells.w.orbital.waterfall_usd.launch"] == pytest.approx(launch)


def test_physics_cache_shared_and_restart_skips(sweep_file, tmp_path: Path):
    """Points differing only in economics share one simulation; a rerun skips every point."""
    path = sweep_file(
        {
            "name": "cache",
            "design": "latin-hypercube",
            "samples": 50,
            "seed": 7,
            "parameters": {
                "economics.overrides.launch_cost_usd_per_kg": {
                    "range": [100, 3000],
                    "scale": "log",
                },
                "spacecraft.node.battery.capacity": {"values": ["3 kWh", "4 kWh"]},
            },
        }
    )
    out = tmp_path / "out"
    first = run_sweep(path, out, "synchronous", None, None)
    assert (first.points_done, first.physics_runs) == (50, 2)
    seen: list[tuple[int, int]] = []
    again = run_sweep(path, out, "synchronous", None, lambda d, t: seen.append((d, t)))
    assert (again.points_done, again.points_skipped, again.physics_runs) == (0, 50, 0)
    assert seen == [(50, 50)]
    table = again.table()
    assert set(table["spacecraft.node.battery.capacity"]) == {3.0, 4.0}  # kWh, the listed unit
    assert np.all(np.isfinite(table[COST]))
    # Economics only moves with the launch price here: cost rises with it at fixed battery.
    for _, part in table.groupby("spacecraft.node.battery.capacity"):
        ordered = part.sort_values("economics.overrides.launch_cost_usd_per_kg")
        assert np.all(np.diff(ordered[COST].to_numpy()) > 0)
    assert (out / "points.parquet").is_file()


def test_same_seed_same_points(sweep_file):
    """Determinism: the design of a sampled sweep depends only on the spec and its seed."""
    spec = {
        "name": "seeded",
        "design": "sobol",
        "samples": 16,
        "seed": 11,
        "parameters": {"economics.overrides.pue": {"range": [1.1, 1.6]}},
        "monte_carlo": {"assumptions": ["electricity_usd_per_kwh", "launch_cost_usd_per_kg"]},
    }
    a = build_design(load_sweep(sweep_file(spec)))
    b = build_design(load_sweep(sweep_file(spec)))
    c = build_design(load_sweep(sweep_file({**spec, "seed": 12})))
    assert np.array_equal(a.numeric, b.numeric)
    assert not np.array_equal(a.numeric, c.numeric)
    assert a.numeric.shape == (16, 3)


def test_invalid_points_are_recorded_not_fatal(sweep_file, tmp_path: Path):
    """A point the scenario validation rejects is stored as ``invalid`` with the message."""
    path = sweep_file(
        {
            "name": "bad",
            "parameters": {"constellation[0].altitude": {"values": ["550 km", "50 km"]}},
            "outputs": ["total.sunlit_fraction"],
        },
        economics=False,
    )
    result = run_sweep(path, tmp_path / "out", "synchronous", None, None)
    table = result.table()
    assert list(table["status"]) == ["ok", "invalid"]
    assert "constellation[0].altitude" in table["error"][1]
    assert result.points_failed == 1


def test_sweep_on_an_existing_dask_cluster(sweep_file, tmp_path: Path):
    """``--scheduler ADDRESS``: the time simulations run on a cluster the caller started."""
    from distributed import LocalCluster

    path = sweep_file(
        {
            "name": "dask",
            "parameters": {
                "spacecraft.node.battery.capacity": {"values": ["3 kWh", "5 kWh"]},
                "economics.overrides.launch_cost_usd_per_kg": {"values": [200, 2000]},
            },
        }
    )
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_sweep(path, tmp_path / "out", cluster.scheduler_address, None, None)
        assert len(cluster.workers) == 2  # the sweep leaves the caller's cluster running
    assert (result.points_done, result.physics_runs, result.points_failed) == (4, 2, 0)
    with duckdb.connect(str(result.catalog_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM physics").fetchone()[0] == 2
        kinds = dict(
            con.execute("SELECT kind, count(*) FROM point_values GROUP BY kind").fetchall()
        )
    assert kinds["parameter"] == 8
    assert "'dask': 4/4 points" in repr(result)
    assert not math.isnan(result.table()[COST].iloc[0])


def test_default_local_cluster_shares_the_cores():
    """Without ``--scheduler``: a LocalCluster of N processes, numba threads = CPUs // N."""
    import os

    from orbitgrid.sweep.execute import _client

    client, cluster = _client(None, 2, 10)
    try:
        assert len(cluster.workers) == 2
        threads = client.run(lambda: os.environ["NUMBA_NUM_THREADS"])
        assert set(threads.values()) == {str(max(1, (os.cpu_count() or 1) // 2))}
    finally:
        client.close()
        cluster.close()


def test_unreachable_scheduler_is_a_user_error(monkeypatch):
    from orbitgrid.errors import OrbitgridError
    from orbitgrid.sweep import execute

    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(OrbitgridError, match=r"cannot reach the Dask scheduler at 'tcp://127"):
        execute._client("tcp://127.0.0.1:9", None, 1)


def test_sweep_result_repr_and_summary(tmp_path: Path):
    """The one-line repr and the CLI summary text are pinned (STYLE: readable reprs)."""
    from orbitgrid.sweep import SweepResult

    result = SweepResult(
        name="s",
        sweep_id="abc",
        out_dir=tmp_path,
        catalog_path=tmp_path / "catalog.duckdb",
        points_total=10,
        points_done=6,
        points_skipped=4,
        points_failed=1,
        physics_runs=2,
        physics_cached=1,
        elapsed_s=1.25,
    )
    assert repr(result) == f"<SweepResult 's': 10/10 points (4 skipped, 1 failed) in {tmp_path}>"
    assert result.summary().splitlines()[:2] == [
        "sweep s (abc): 10 points, 6 run now, 4 already done, 1 failed",
        "time simulations: 2 run, 1 from cache; 1.2 s",
    ]
