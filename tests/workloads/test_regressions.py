"""Regression tests for bugs found in an audit of the workload stage: each test failed before
its fix (the docstring says what was wrong)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import orbitgrid
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.workloads import stage as stage_module
from orbitgrid.workloads.placement import PlacementProblem, fill_and_spill
from tests.workloads.test_offline import offline_scenario
from tests.workloads.test_stage import workload_scenario


def _problem(latency, capacity, demand, spill, preference):
    latency = np.asarray(latency, float).reshape(1, 1, 1, -1)
    n_k = latency.shape[-1]
    return PlacementProblem(
        latency_s=latency,
        energy_j=np.ones_like(latency),
        demand_per_s=np.full((1, 1, 1), float(demand)),
        queue=np.arange(n_k).reshape(1, 1, n_k),
        capacity_per_s=np.asarray(capacity, float).reshape(1, n_k, 1),
        spill_utilisation=spill,
        preference=None if preference is None else np.asarray(preference, float),
    )


def test_fill_and_spill_skips_a_preferred_site_that_cannot_serve():
    """Was: a preferred site without a path (latency inf) sorted before the next preferred
    one and stopped the fill, so all demand went to the lowest-latency site, ignoring the
    order and the capacities. Now the second site fills to the spill level, then the third."""
    problem = _problem([np.inf, 2.0, 1.0], [10.0, 10.0, 10.0], 10.0, 0.5, [0, 1, 2])
    share = fill_and_spill(problem)[0, 0, 0]
    np.testing.assert_allclose(share, [0.0, 0.5, 0.5])


def test_fill_and_spill_without_preference_fills_by_latency():
    """Was: without a preference the sites were filled in index order, not lowest latency
    first as the policy and ``PlacementProblem`` document."""
    problem = _problem([3.0, 1.0, 2.0], [10.0, 10.0, 10.0], 12.0, 0.5, None)
    share = fill_and_spill(problem)[0, 0, 0]
    # 5 to the fastest (site 1), 5 to the next (site 2), the last 2 to site 0.
    np.testing.assert_allclose(share, [2 / 12, 5 / 12, 5 / 12])


def test_handovers_do_not_depend_on_the_block_size(monkeypatch):
    """Was: the serving satellite carried to the next block was the block's last one, −1 when
    the user had no link at that step, so a handover across a gap at a block boundary was
    lost: handovers per mover-hour changed with the block (and chunk) size (7.7 vs 5.0)."""
    d = workload_scenario()
    whole = orbitgrid.run(scenario_from_dict(copy.deepcopy(d)))
    # The ships lose their link now and then: the case that went wrong.
    near = whole.dataset.serving_satellite.values
    ships = whole.dataset.user_population.values == "ships"
    assert (near[:, ships] == -1).any()
    monkeypatch.setattr(stage_module, "GROUP_STEPS_PER_BLOCK", 1)  # one step per block
    stepwise = orbitgrid.run(scenario_from_dict(copy.deepcopy(d)))
    expected = whole.summary["workloads"]["handovers_per_mover_hour"]
    assert expected > 0
    assert stepwise.summary["workloads"]["handovers_per_mover_hour"] == pytest.approx(expected)


def test_same_jurisdiction_keeps_the_users_own_device():
    """Was: ``same_jurisdiction`` compared the user's jurisdiction with the on_device site's
    (none), so a user with a jurisdiction lost its own device: the copilot answered nothing
    (share_on_device 0 instead of the 60 % it answers without the rule)."""
    d = offline_scenario()
    d["workloads"]["sites"][0]["jurisdiction"] = "CL"  # a DC in the mine's jurisdiction
    d["workloads"]["options"] = [
        {"name": "home", "sites": ["copilot", "Ashburn"], "same_jurisdiction": True},
        {"name": "free", "sites": ["copilot", "Ashburn"]},
    ]
    run = orbitgrid.run(scenario_from_dict(d))
    options = run.summary["workloads"]["options"]
    home = options["home"]["per_population"]["Escondida"]["chat"]
    free = options["free"]["per_population"]["Escondida"]["chat"]
    assert free["share_on_device"] > 0.55
    assert home["share_on_device"] == pytest.approx(free["share_on_device"], rel=1e-9)


def test_user_response_time_includes_the_wait_on_the_device():
    """Was: the dataset's per-user ``response_time_s`` of an offline-first option left out the
    time requests waited on the device for a link, which the summary's response times (and
    docs/workloads.md) include: 2.6 s against a summary mean of 245 s for a mine with a
    20-minute window each hour. Now the served-weighted mean of the per-step values is the
    summary's mean."""
    window = {"every": "1 h", "duration": "20 min", "start": "30 min"}
    run = orbitgrid.run(scenario_from_dict(offline_scenario(link_window=window)))
    ds = run.dataset
    for option in ("copilot", "ground"):
        figures = run.summary["workloads"]["options"][option]["per_population"]["Escondida"]
        response = ds.response_time_s.sel(option=option, user="Escondida").values
        served = ds.population_served_per_s.sel(option=option, population="Escondida").values
        ok = np.isfinite(response)
        mean = (response[ok].astype(float) * served[ok]).sum() / served[ok].sum()
        assert mean == pytest.approx(figures["chat"]["response_mean_s"], rel=1e-4), option


def test_device_waits_and_staleness_beyond_a_day_are_not_clipped():
    """Was: waits on the device and staleness shared the response-time histogram range
    (1 ms … 10⁵ s), so anything longer than ~28 h landed in the last bin and its percentiles
    were reported at most 10⁵ s: weekly model weights over a 2.5-day run had a staleness p95
    of ≤ 10⁵ s instead of ~2.4 days, and requests held two days for a link likewise."""
    d = offline_scenario(link_window={"every": "3 d", "duration": "2 h", "start": "2 d"})
    d["time"].update(duration="2.5 d", step="20 min")
    d["workloads"]["sites"][-1]["updates"] = [{"name": "weights", "size": "1 GB", "every": "7 d"}]
    d["workloads"]["options"] = [{"name": "copilot", "sites": ["copilot", "Ashburn"]}]
    run = orbitgrid.run(scenario_from_dict(d))
    workloads = run.summary["workloads"]
    stale = workloads["devices"]["copilot"]["per_population"]["Escondida"]["weights"]
    duration_s = 2.5 * 86400.0
    # Nothing newer than the start is published: the staleness is the time since the start.
    assert stale["staleness_max_s"] == pytest.approx(duration_s - 1200.0)
    assert stale["staleness_p95_s"] == pytest.approx(0.95 * duration_s, rel=0.05)
    mine = workloads["options"]["copilot"]["per_population"]["Escondida"]["chat"]
    assert mine["deferred"] > 0
    # Held from the start until the window two days in: the oldest waited ~2 days.
    assert 1.5e5 < mine["deferred_wait_p99_s"] <= 2 * 86400.0 * 1.05
