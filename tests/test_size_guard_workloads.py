"""The size guard (``size_guard.estimate_run``) counts the ``workloads`` and ``observation``
sections: a run whose users, options or tiles cannot fit is refused before it starts, ``--force``
still runs it, and the shipped scenarios' estimates stay near what their runs measure."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from orbitgrid import size_guard
from orbitgrid.errors import ResourceError
from orbitgrid.scenario import load_scenario, scenario_from_dict
from orbitgrid.scenarios import shipped_scenario_path, shipped_scenarios
from orbitgrid.size_guard import check_fits, estimate_run
from tests.conftest import run_cli, small_scenario_dict

MIB = 2**20


def workloads_dict(fleets: int = 1, ships: int = 20, options: int = 2, **time: str) -> dict:
    """The small scenario with a network and a workloads section: a mine and ``fleets``
    fleets of ``ships`` ships each, served from a ground DC or the satellite overhead."""
    data = small_scenario_dict()
    data["time"].update({"duration": "1 h", **time})
    data["network"] = {"isl": {"pattern": "none"}, "gsl": {"min_elevation": "10 deg"}}
    fleet = {"kind": "ship", "route": "builtin:rotterdam-singapore", "users": 25}
    option_kinds = [
        {"sites": ["Ashburn"]},
        {"sites": ["overhead", "Ashburn"], "policy": "fill-and-spill"},
    ]
    data["workloads"] = {
        "populations": [
            {"name": "mine", "latitude": -24.3, "longitude": -69.1, "users": 500},
            *({**fleet, "name": f"fleet {i}", "count": ships} for i in range(fleets)),
        ],
        "classes": [
            {"name": "chat", "model": "llama-3.1-8b-fp8", "prompt_tokens": 600,
             "output_tokens": 250, "rate": "4 /h"},
        ],
        "sites": [
            {"name": "Ashburn", "kind": "ground_dc", "latitude": 39.04, "longitude": -77.49,
             "accelerator": "h100-sxm", "count": 64},
            {"name": "overhead", "kind": "overhead_satellite", "shell": "w"},
        ],
        "options": [
            {"name": f"option {i}", **option_kinds[i % 2]} for i in range(options)
        ],
    }  # fmt: skip
    return data


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


# ---------------------------------------------------------------------------------------------
# refused before it starts


def test_run_refuses_a_huge_workloads_section_before_writing(tmp_path):
    # 10 fleets of 10,000 ships (100,000 user endpoints) over a year at 10 s. The satellites
    # and steps alone pass the guard (checked below with one ship per fleet); the users do not.
    huge = workloads_dict(fleets=10, ships=10_000, duration="365 d", step="10 s")
    out = tmp_path / "out"
    started = time.perf_counter()
    done = run_cli("run", str(_write(tmp_path, huge)), "--out", str(out), "--no-report")
    elapsed = time.perf_counter() - started
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "would not fit this machine" in done.stderr
    assert "workloads of 11 populations (100,001 user endpoints)" in done.stderr
    assert "1 class × 2 sites × 2 options" in done.stderr
    assert "workloads.populations" in done.stderr and "--force" in done.stderr
    assert "Traceback" not in done.stderr
    # Refused before anything was written: no run folder, no staging folder beside it.
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
    assert elapsed < 60, f"the refusal took {elapsed:.0f} s"
    # The same satellites and steps with one ship per fleet fit.
    small = scenario_from_dict(workloads_dict(fleets=10, ships=1, duration="365 d", step="10 s"))
    check_fits(estimate_run(small), None)


def test_memory_of_many_options_classes_and_populations_is_counted(monkeypatch):
    # 500 populations × 100 classes × 100 options: the summary keeps counters and three
    # histograms per (option, population, class), and writes 5 million rows of figures.
    data = workloads_dict(options=100)
    workloads = data["workloads"]
    workloads["populations"] = [
        {"name": f"site {i}", "latitude": (i % 160) - 80.0, "longitude": i % 360, "users": 10}
        for i in range(500)
    ]
    chat = workloads["classes"][0]
    workloads["classes"] = [{**chat, "name": f"class {i}"} for i in range(100)]
    scenario = scenario_from_dict(data)
    estimate = estimate_run(scenario)
    rows = 100 * 500 * 100
    hist = 3 * 8 * scenario.workloads.histogram_bins  # three float64 histograms a row
    assert estimate.memory_bytes > rows * hist
    monkeypatch.setattr(size_guard, "available_memory_bytes", lambda: 64 * 2**30)
    with pytest.raises(ResourceError) as caught:
        check_fits(estimate, None)
    message = str(caught.value)
    assert "memory: about" in message and "64.0 GiB available" in message
    assert "500 populations (500 user endpoints) × 100 classes × 2 sites × 100 options" in message
    assert "time:" not in message  # an hour of it: memory is the limit, not time


def test_observation_of_tiny_tiles_over_a_year_is_refused():
    data = yaml.safe_load(shipped_scenario_path("eo-dove-like").read_text())
    data["time"]["duration"] = "365 d"
    sensor = data["observation"]["sensors"][0]
    sensor.update(tile_length="0.05 km")
    scenario = scenario_from_dict(data, base_dir=shipped_scenario_path("eo-dove-like").parent)
    estimate = estimate_run(scenario)
    assert estimate.strategies == 4
    assert estimate.tiles > 1e9
    with pytest.raises(ResourceError) as caught:
        check_fits(estimate, None)
    assert "observation of about" in str(caught.value)
    assert "observation.sensors (tile_length" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# near what runs measure, and growing with the sections


# Measured on 2026-11-30 on this project's 2-core machine with
# ``/usr/bin/time -v orbitgrid run ai-service-remote --out … --no-report -q``: peak RSS
# 1,007–1,009 MiB (four runs); wall time 8.6 s at a 1-min load average of 0.3 and 16–17 s at
# 1.4–2.2 (other jobs). The same scenario without its workloads and network sections:
# 691 MiB and 2.8–3.4 s at load 1.6–1.8.
SHIPPED_PEAK_MIB = 1007
SHIPPED_WALL_S = (8.6, 17.0)
SHIPPED_BASE_PEAK_MIB = 691
SHIPPED_BASE_WALL_S = 3.1


def _within(estimate: float, measured: float, low: float = 0.5, high: float = 4.0) -> bool:
    return low * measured <= estimate <= high * measured


def test_shipped_ai_service_estimate_is_near_its_measured_run():
    data = yaml.safe_load(shipped_scenario_path("ai-service-remote").read_text())
    estimate = estimate_run(scenario_from_dict(data))
    base_data = copy.deepcopy(data)
    del base_data["workloads"], base_data["network"]
    base = estimate_run(scenario_from_dict(base_data))
    assert _within(estimate.memory_bytes / MIB, SHIPPED_PEAK_MIB), estimate.describe()
    for wall_s in SHIPPED_WALL_S:
        assert _within(estimate.time_s, wall_s), estimate.describe()
    # The workloads' own share, against what they added to the measured run.
    added = (estimate.memory_bytes - base.memory_bytes) / MIB
    assert _within(added, SHIPPED_PEAK_MIB - SHIPPED_BASE_PEAK_MIB), added
    for wall_s in SHIPPED_WALL_S:
        assert _within(estimate.time_s - base.time_s, wall_s - SHIPPED_BASE_WALL_S)
    assert "workloads of 11 populations (32 user endpoints) × 2 classes × 6 sites × 4 options" in (
        estimate.describe()
    )


def _estimate(data: dict[str, Any]):
    return estimate_run(scenario_from_dict(data))


def test_block_bound_is_the_stage_s():
    from orbitgrid.workloads.stage import GROUP_STEPS_PER_BLOCK

    assert size_guard.WORKLOAD_GROUP_STEPS_PER_BLOCK == GROUP_STEPS_PER_BLOCK


@pytest.mark.parametrize("grow", ["ships", "fleets", "options", "duration"])
def test_estimate_grows_with_the_workloads(grow):
    small = _estimate(workloads_dict())
    larger = {
        "ships": workloads_dict(ships=2000),
        "fleets": workloads_dict(fleets=50),
        "options": workloads_dict(options=20),
        "duration": workloads_dict(duration="3 h"),
    }[grow]
    big = _estimate(larger)
    assert big.memory_bytes > small.memory_bytes
    assert big.time_s > small.time_s
    if grow != "duration":
        assert big.disk_bytes > small.disk_bytes


def test_estimate_grows_with_the_tiles():
    data = yaml.safe_load(shipped_scenario_path("eo-dove-like").read_text())
    base_dir = shipped_scenario_path("eo-dove-like").parent
    shipped = estimate_run(scenario_from_dict(data, base_dir=base_dir))
    data["observation"]["sensors"][0]["tile_length"] = "2.4 km"
    short = estimate_run(scenario_from_dict(data, base_dir=base_dir))
    # Tiles a tenth as long: ten times as many (1,262,353 / 42,072 captured for 0.8 km).
    assert short.tiles == pytest.approx(10 * shipped.tiles, rel=0.01)
    assert short.memory_bytes > shipped.memory_bytes and short.time_s > shipped.time_s
    assert short.disk_bytes > shipped.disk_bytes


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenarios_pass_the_guard(name):
    estimate = estimate_run(load_scenario(name))
    check_fits(estimate, None)
    assert estimate.memory_bytes < 4 * 2**30 and estimate.time_s < 3600, estimate.describe()


# ---------------------------------------------------------------------------------------------
# --force


# ``python -m orbitgrid`` with the time limit lowered to the first argument: a small run is
# then refused on time, which ``--force`` must still override.
_LOWER_LIMIT = (
    "import sys\n"
    "import orbitgrid.size_guard\n"
    "orbitgrid.size_guard.MAX_RUN_TIME_S = float(sys.argv.pop(1))\n"
    "from orbitgrid.cli import main\n"
    "main()\n"
)


def test_force_runs_what_the_guard_refuses(tmp_path):
    data = workloads_dict(ships=5, duration="10 min")
    path = _write(tmp_path, data)
    limit = estimate_run(scenario_from_dict(data)).time_s / 2

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", _LOWER_LIMIT, str(limit), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "CI": "true"},
            timeout=300,
        )

    refused = cli("run", str(path), "--out", str(tmp_path / "refused"), "--no-report", "-q")
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "would not fit this machine" in refused.stderr and "time: about" in refused.stderr
    assert not (tmp_path / "refused").exists()
    out = tmp_path / "forced"
    forced = cli("run", str(path), "--out", str(out), "--no-report", "-q", "--force")
    assert forced.returncode == 0, forced.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workloads"]["user_endpoints"] == 6


def test_chunks_shrink_with_the_workloads_users():
    """A chunk holds per-user arrays for each of its steps, so the engine counts them with
    the satellites: 6 satellites and 100,000 ships get chunks a few steps long, not the
    166,666 steps 6 satellites alone would get."""
    from orbitgrid.engine import steps_per_chunk

    data = workloads_dict(fleets=10, ships=10_000)
    alone = small_scenario_dict()
    budget = scenario_from_dict(alone).engine.chunk_satellite_steps
    assert steps_per_chunk(scenario_from_dict(alone), 6) == budget // 6
    columns = 6 + (10 * 10_000 + 1) * (2 + 3)  # ships and the mine, 2 options + 3 arrays
    assert steps_per_chunk(scenario_from_dict(data), 6) == budget // columns
