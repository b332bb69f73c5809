"""Onboard processing through the core power and thermal models (issue 13): the capture stage
states the compute demand of the tiles, the operations kernel draws power and makes heat only
for it, and the processing energy the physics ran equals the observation summary's."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.engine import execute, prepare
from orbitgrid.observation.stage import CaptureStage, demand_chunk
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.scenarios import shipped_scenario_path
from orbitgrid.spacecraft.stages import OperationsStage
from orbitgrid.yaml_loader import load_yaml_file


def _small_dove(strategies=None) -> dict:
    data = load_yaml_file(shipped_scenario_path("eo-dove-like"))
    data["time"]["duration"] = "6 h"
    data["constellation"][0]["sats_per_plane"] = 3
    if strategies is not None:
        data["observation"]["strategies"] = strategies
    return data


def _run(data: dict, with_demand: bool = True):
    """Run and record, per chunk, the demand the operations stage received and its state."""
    plan, pipeline = prepare(scenario_from_dict(data, base_dir="."))
    capture = next(s for s in pipeline.stages if isinstance(s, CaptureStage))
    capture.states_demand = with_demand
    operations = next(s for s in pipeline.stages if isinstance(s, OperationsStage))
    record = {"demand": np.zeros(plan.satellite_count), "states": []}
    call = operations.__call__

    class Recorder(OperationsStage):
        def __call__(self, plan, chunk, arrays, state):
            if "compute_demand" in arrays:
                record["demand"] += arrays["compute_demand"].sum(axis=0)
            produced, new = call(plan, chunk, arrays, state)
            record["states"].append(new)
            return produced, new

    operations.__class__ = Recorder
    summary = execute(plan, pipeline)
    return plan, summary, record


@pytest.fixture(scope="module")
def runs():
    data = _small_dove()
    return _run(data, with_demand=True), _run(data, with_demand=False)


def test_demand_chunk_is_first_in_first_out_at_most_one_per_step():
    """The closed form (Lindley recursion from cumulative sums) equals a step-by-step queue,
    also when the chunk is cut in two with the queue carried. Tolerance 1e-12."""
    rng = np.random.default_rng(3)
    count = rng.poisson(0.6, size=(300, 4)).astype(float)
    count[100:130] = 6.0  # a burst above one step's capacity
    seconds = np.array([0.0, 20.0, 45.0, 90.0])
    step = 60.0
    queue = np.array([0.0, 0.5, 2.0, 0.0])
    expected = np.zeros_like(count)
    q = queue.copy()
    for k in range(count.shape[0]):
        want = q + count[k] * seconds / step
        expected[k] = np.minimum(1.0, want)
        q = want - expected[k]
    demand, end = demand_chunk(count, seconds, step, queue)
    np.testing.assert_allclose(demand, expected, atol=1e-12)
    np.testing.assert_allclose(end, q, atol=1e-12)
    first, middle = demand_chunk(count[:170], seconds, step, queue)
    second, end2 = demand_chunk(count[170:], seconds, step, middle)
    np.testing.assert_allclose(np.vstack([first, second]), expected, atol=1e-12)
    np.testing.assert_allclose(end2, q, atol=1e-12)
    assert demand.min() >= 0.0 and demand.max() <= 1.0


def test_the_accelerators_draw_only_for_the_tiles(runs):
    """Small Dove-like run (3 satellites, 6 h): the compute energy of the physics equals
    Σ demand × installed power × Δt (no work left pending: the flock's Jetson is never
    limited) and equals the summary's onboard energy of every processing strategy (each
    processes every tile), 1e-9 relative; with the demand the battery stays fuller and the
    node no hotter than at full duty (accelerators drawing whenever power allows)."""
    (plan, summary, record), (_, full, _) = runs
    step_h = plan.scenario.time.step_s / 3600.0
    power = plan.spacecraft.compute_power_installed_w
    pending = record["states"][-1][2]
    np.testing.assert_allclose(pending, 0.0, atol=1e-12)
    expected_wh = float((record["demand"] * power).sum() * step_h)
    compute_wh = summary["total"]["energy_to_compute_mwh"] * 1e6
    assert expected_wh > 0
    assert compute_wh == pytest.approx(expected_wh, rel=1e-9)
    strategies = summary["observation"]["strategies"]
    for name in ("filter", "infer", "hybrid"):
        assert strategies[name]["onboard_energy_wh"] == pytest.approx(compute_wh, rel=1e-9)
    assert strategies["raw"]["onboard_energy_wh"] == 0.0
    # Low demand: far less energy than full duty, a fuller battery, no hotter node.
    assert compute_wh < 0.2 * full["total"]["energy_to_compute_mwh"] * 1e6
    assert summary["total"]["state_of_charge_mean"] > full["total"]["state_of_charge_mean"]
    assert summary["total"]["temperature_max_c"] <= full["total"]["temperature_max_c"]
    # The delivered compute (capacity for the tiles) is reported as what was available.
    assert summary["total"]["delivered_compute_fraction"] == pytest.approx(
        full["total"]["delivered_compute_fraction"], rel=1e-6
    )


def test_raw_only_leaves_the_accelerators_idle():
    """A scenario whose only strategy is raw downlink processes no tile: demand 0 on every
    satellite with a sensor, so no compute energy is drawn."""
    _, summary, record = _run(_small_dove(["raw"]))
    np.testing.assert_array_equal(record["demand"], 0.0)
    assert summary["total"]["energy_to_compute_mwh"] == 0.0
