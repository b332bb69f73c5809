"""Random failures with repair (MTBF/MTTR): chunking, seeds, statistics, YAML errors."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.errors import ScenarioError
from orbitgrid.network.build import build_topology, failure_masks
from orbitgrid.network.config import network_config_from_dict
from orbitgrid.network.endpoints import resolve_endpoints
from orbitgrid.network.failures import FailureProcess, RepairSchedule, failure_process
from orbitgrid.network.topology import ConstellationIndex

HOUR = 3600.0


def _run(random: dict):
    cfg = network_config_from_dict(
        {
            "endpoints": [
                {"name": "A", "latitude": 0, "longitude": 0},
                {"name": "B", "latitude": 10, "longitude": 10},
                {"name": "C", "latitude": 20, "longitude": 20},
            ],
            "failures": {"random": random},
        }
    )
    eps = resolve_endpoints(cfg)
    return cfg, eps, build_topology(cfg, ConstellationIndex.walker(6, 8), eps)


def _masks_in_chunks(cfg, eps, topo, times, sizes):
    parts, at = [], 0
    for size in sizes:
        parts.append(failure_masks(cfg, times[at : at + size], topo, eps))
        at += size
    assert at == len(times)
    return [
        np.concatenate([getattr(p, k) for p in parts]) for k in ("satellite", "isl", "endpoint")
    ]


FAST = {
    "seed": 3,
    "satellites": {"mtbf": "2 h", "mttr": "20 min"},
    "isls": {"mtbf": "5 h", "mttr": "1 h"},
    "endpoints": {"mtbf": "1 day", "mttr": "3 h"},
}


def test_masks_do_not_depend_on_chunking_or_call_order():
    cfg, eps, topo = _run(FAST)
    times = np.arange(0, 2 * 86400, 60.0)
    failure_process.cache_clear()
    whole = _masks_in_chunks(cfg, eps, topo, times, [len(times)])
    assert all(m.any() and not m.all() for m in whole)
    failure_process.cache_clear()
    sizes = [1, 7, 500, 1, 1200, len(times) - 1709]
    chunked = _masks_in_chunks(cfg, eps, topo, times, sizes)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
    # A fresh schedule asked for a late chunk first grows to the same sequence.
    failure_process.cache_clear()
    late = failure_masks(cfg, times[-100:], topo, eps)
    np.testing.assert_array_equal(late.satellite, whole[0][-100:])
    np.testing.assert_array_equal(late.endpoint, whole[2][-100:])


def test_schedule_built_once_per_run():
    cfg, eps, topo = _run(FAST)
    failure_process.cache_clear()
    for start in range(0, 3600, 600):
        failure_masks(cfg, np.arange(start, start + 600, 10.0), topo, eps)
    info = failure_process.cache_info()
    assert info.misses == 1 and info.hits == 5


def test_seed_determinism_and_static_fraction_kept():
    times = np.arange(0, 86400, 120.0)
    cfg, eps, topo = _run(FAST)
    a = failure_masks(cfg, times, topo, eps)
    failure_process.cache_clear()
    again, eps, topo = _run(FAST)  # a new config object with the same values
    b = failure_masks(again, times, topo, eps)
    for kind in ("satellite", "isl", "endpoint"):
        np.testing.assert_array_equal(getattr(a, kind), getattr(b, kind))
    other, eps, topo = _run({**FAST, "seed": 4})
    c = failure_masks(other, times, topo, eps)
    assert not np.array_equal(a.satellite, c.satellite)
    # Only *_down_fraction: elements down for the whole run, the same draw as before.
    cfg, eps, topo = _run({"satellites_down_fraction": "25 %", "seed": 4})
    m = failure_masks(cfg, times, topo, eps)
    expected = np.random.default_rng(4).random(48) < 0.25
    np.testing.assert_array_equal(m.satellite, np.broadcast_to(expected, m.satellite.shape))
    # Both: permanent failures plus repairable ones on top.
    cfg, eps, topo = _run({**FAST, "satellites_down_fraction": "25 %", "seed": 4})
    both = failure_masks(cfg, times, topo, eps)
    assert both.satellite[:, expected].all() and both.satellite[:, ~expected].any()


def test_long_run_down_fraction_and_mean_repair_time():
    """Down fraction ≈ MTTR/(MTBF+MTTR) and mean down time ≈ MTTR.

    MTBF 10 h, MTTR 2 h: unavailability p = 1/6, correlation time τ = MTBF·MTTR/(MTBF+MTTR)
    = 1.67 h. Over D = 2000 h the time-averaged down fraction of one element has variance
    ≈ 2 p (1 − p) τ / D = 2.3e-4; over 300 independent elements the standard deviation is
    8.8e-4, so the tolerance 0.005 is 5.7 σ. Down runs: ≈ 300 × 2000 / 12 = 50,000 intervals
    of mean 2 h (σ of the mean 2 h / √50,000 = 0.45 %, plus < 1 step of sampling error per
    run that averages out); tolerance 3 % is 6.7 σ. At t = 0 the state is already the steady
    state (3000 elements: σ = 0.0068, tolerance 0.03).
    """
    mtbf_s, mttr_s, step_s = 10 * HOUR, 2 * HOUR, 300.0
    schedule = RepairSchedule(300, mtbf_s, mttr_s, seed=11, stream=1)
    times = np.arange(0.0, 2000 * HOUR, step_s)
    down = schedule.down_mask(times)
    p = mttr_s / (mtbf_s + mttr_s)
    assert schedule.unavailability == pytest.approx(p)
    assert abs(down.mean() - p) < 0.005
    # Run lengths of down steps, leaving out runs cut by the start or end of the window.
    padded = np.zeros((down.shape[1], down.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = down.T
    edges = np.diff(padded, axis=1)
    _, start = np.nonzero(edges == 1)
    _, end = np.nonzero(edges == -1)
    inside = (start > 0) & (end < down.shape[0])
    runs_s = (end - start)[inside] * step_s
    assert len(runs_s) > 40_000
    assert runs_s.mean() == pytest.approx(mttr_s, rel=0.03)
    # The generated intervals themselves: exponential with mean MTTR.
    _, starts, ends = schedule.intervals()
    assert (ends - starts).mean() == pytest.approx(mttr_s, rel=0.03)
    first = RepairSchedule(3000, mtbf_s, mttr_s, seed=12, stream=1).down_mask(np.zeros(1))
    assert abs(first.mean() - p) < 0.03


def test_horizon_pregeneration_gives_the_same_masks():
    cfg = network_config_from_dict({"failures": {"random": FAST}})
    times = np.arange(0, 86400, 30.0)
    lazy = FailureProcess(cfg.failures.random, 40, 80, 5)
    ahead = FailureProcess(cfg.failures.random, 40, 80, 5, horizon_s=86400.0)
    assert ahead.schedules["satellites"].covered_s > 86400.0
    for x, y in zip(ahead.down_masks(times), lazy.down_masks(times[::-1])[::1], strict=True):
        np.testing.assert_array_equal(x, y[::-1])
    assert "satellites=RepairSchedule(40 elements" in repr(lazy)


def test_large_constellation_is_vectorised():
    """10,000 satellites, a day at 1 s in hour chunks: fast (no loop over satellites × steps)."""
    import time

    cfg = network_config_from_dict(
        {"failures": {"random": {"seed": 1, "satellites": {"mtbf": "30 days", "mttr": "6 h"}}}}
    )
    process = FailureProcess(cfg.failures.random, 10_000, 0, 0)
    started = time.perf_counter()
    down = 0
    for hour in range(24):
        sat, isl, ep = process.down_masks(np.arange(hour * 3600.0, (hour + 1) * 3600.0))
        down += int(sat.sum())
        assert isl is None and ep is None
    assert time.perf_counter() - started < 30.0
    assert down / (86400 * 10_000) == pytest.approx(6 / (720 + 6), rel=0.2)


@pytest.mark.parametrize(
    ("random", "path", "message"),
    [
        (
            {"satellites": {"mtbf": "-30 days", "mttr": "6 h"}},
            "network.failures.random.satellites.mtbf",
            "must be a duration > 0 such as '30 days' or '6 h' (read -2.592e+06 s) "
            "(got '-30 days')",
        ),
        (
            {"isls": {"mtbf": "30 days", "mttr": 0}},
            "network.failures.random.isls.mttr",
            "must be a duration > 0 such as '30 days' or '6 h' (read 0 s) (got 0)",
        ),
        (
            {"endpoints": {"mtbf": "30 days"}},
            "network.failures.random.endpoints.mttr",
            "Field required",
        ),
        (
            {"satellites": {"mtbf": "30 furlongs", "mttr": "6 h"}},
            "network.failures.random.satellites.mtbf",
            "unknown unit 'furlongs'",
        ),
        (
            {"satellites": {"mtbf": "30 days", "mttr": "6 h", "shape": 2}},
            "network.failures.random.satellites.shape",
            "Extra inputs are not permitted",
        ),
        ({"seed": -1}, "network.failures.random.seed", "greater than or equal to 0"),
    ],
)
def test_errors_name_the_yaml_path(random, path, message):
    with pytest.raises(ScenarioError) as exc:
        network_config_from_dict({"failures": {"random": random}})
    assert exc.value.path == path
    assert f"{path}: " in str(exc.value) and message in str(exc.value)
