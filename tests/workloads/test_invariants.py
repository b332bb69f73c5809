"""Invariants of the workload stage that any change must keep: results independent of the
block and chunk sizes and of the order of populations, twin populations alike, requests
conserved in the outbox and in the summary, edge cases (no demand, empty histograms)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import orbitgrid
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.workloads import offline
from orbitgrid.workloads import stage as stage_module
from orbitgrid.workloads.placement import POLICIES, PlacementProblem
from orbitgrid.workloads.summary import _percentiles
from tests.workloads.test_offline import offline_scenario
from tests.workloads.test_stage import workload_scenario


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _flat(value, f"{prefix}/{key}")
    else:
        yield prefix, tree


def _assert_same_summary(a: dict, b: dict, rel: float = 1e-6) -> None:
    left, right = dict(_flat(a)), dict(_flat(b))
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, float):
            assert right[key] == pytest.approx(value, rel=rel, abs=1e-9), key
        elif key != "/run_seconds":
            assert right[key] == value, key


def test_results_do_not_depend_on_block_or_chunk_size(monkeypatch):
    """An offline option with max_hold, a lognormal class, an overloaded DC, flights that
    depart and land: one block per step, small chunks and the default give the same
    dataset and summary (queues, outboxes, versions and handovers carried across)."""
    window = {"every": "1 h", "duration": "20 min", "start": "30 min"}
    d = offline_scenario(link_window=window, users=300_000)
    d["workloads"]["sites"][0]["count"] = 1
    d["workloads"]["classes"][0].update(max_hold="10 min", output_tokens={"mean": 200, "cv": 1})
    d["workloads"]["populations"].append(
        {"name": "flights", "kind": "aircraft", "route": [[51.47, -0.45], [40.64, -73.78]],
         "count": 2, "every": "20 min", "departure": "10 min", "users": 100}
    )  # fmt: skip
    whole = orbitgrid.run(scenario_from_dict(copy.deepcopy(d)))
    chunked = copy.deepcopy(d)
    chunked["engine"] = {"chunk_satellite_steps": 1000}
    runs = [orbitgrid.run(scenario_from_dict(chunked))]
    monkeypatch.setattr(stage_module, "GROUP_STEPS_PER_BLOCK", 1)
    runs.append(orbitgrid.run(scenario_from_dict(copy.deepcopy(d))))
    assert whole.summary["workloads"]["options"]["ground"]["dropped_no_capacity"] > 0
    for other in runs:
        _assert_same_summary(whole.summary["workloads"], other.summary["workloads"])
        for name in whole.dataset.data_vars:
            np.testing.assert_allclose(
                other.dataset[name].values, whole.dataset[name].values, rtol=1e-5, atol=1e-6
            )


def test_population_order_and_twins():
    """Listing the populations in reverse changes nothing per population, and two identical
    populations get identical figures (policies that do not fill pools in order)."""
    d = workload_scenario()
    w = d["workloads"]
    w["populations"].append({**w["populations"][0], "name": "twin"})
    w["options"] = [
        {"name": "latency", "sites": ["Ashburn", "cluster", "overhead"]},
        {"name": "energy", "sites": ["Ashburn", "cluster", "overhead"],
         "policy": "lowest-energy"},
    ]  # fmt: skip
    forward = orbitgrid.run(scenario_from_dict(copy.deepcopy(d)))
    w["populations"].reverse()
    backward = orbitgrid.run(scenario_from_dict(d))
    for option in ("latency", "energy"):
        a = forward.summary["workloads"]["options"][option]
        b = backward.summary["workloads"]["options"][option]
        _assert_same_summary(a["per_population"], b["per_population"], rel=1e-9)
        _assert_same_summary(
            a["per_population"]["Escondida"], a["per_population"]["twin"], rel=1e-12
        )


def test_summary_counts_add_up():
    """Per option and per population × class: served + drops = offered (counted when
    placed), served ≤ offered, the site-kind shares sum to 1; energy per token does not
    depend on the load of a lightly loaded run, and offered scales with the users."""
    d = workload_scenario()
    run = orbitgrid.run(scenario_from_dict(copy.deepcopy(d)))
    for figures in run.summary["workloads"]["options"].values():
        rows = [figures, *(c for p in figures["per_population"].values() for c in p.values())]
        for f in rows:
            drops = sum(f[k] for k in ("dropped_over_budget", "dropped_no_capacity",
                                       "dropped_no_site", "dropped_expired"))  # fmt: skip
            assert f["served"] + drops == pytest.approx(f["offered"], rel=1e-9)
            assert f["served"] <= f["offered"] * (1 + 1e-12)
            if f["served"] > 0:
                shares = [v for k, v in f.items() if k.startswith("share_") and v is not None]
                assert sum(shares) == pytest.approx(1.0, abs=1e-9)
    for p in d["workloads"]["populations"]:
        p["users"] *= 2
    double = orbitgrid.run(scenario_from_dict(d))
    for name, figures in run.summary["workloads"]["options"].items():
        twice = double.summary["workloads"]["options"][name]
        assert twice["offered"] == pytest.approx(2 * figures["offered"], rel=1e-9)
        assert twice["energy_per_output_token_j"] == pytest.approx(
            figures["energy_per_output_token_j"], rel=1e-9
        )


def test_no_demand_gives_empty_figures():
    """A profile that is 0 at every hour of the run: nothing offered, no NaN, no
    per-population rows, percentiles None."""
    d = workload_scenario()
    d["workloads"]["classes"][0]["diurnal"] = [0.0] * 12 + [1.0] + [0.0] * 11
    run = orbitgrid.run(scenario_from_dict(d))
    for figures in run.summary["workloads"]["options"].values():
        assert figures["offered"] == 0 and figures["served_fraction"] is None
        assert figures["response_p95_s"] is None and figures["per_population"] == {}
    assert float(np.abs(run.dataset.served_per_s.values).max()) == 0.0


def test_percentiles_of_empty_and_edge_histograms():
    """Empty: NaN. All mass in the first or the last bin: within that bin."""
    assert all(np.isnan(_percentiles(np.zeros(240), (50.0, 99.0))))
    first, last = np.zeros(240), np.zeros(240)
    first[0], last[-1] = 1.0, 1.0
    assert 1e-3 <= _percentiles(first, (50.0,))[0] <= 1e-3 * 10 ** (8 / 240)
    assert 1e5 / 10 ** (8 / 240) <= _percentiles(last, (50.0,))[0] <= 1e5


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 39))
def test_outbox_conserves_and_splits(seed, split):
    """Requests into the outbox = sent at once + released + given up + Δheld, every step;
    released waits are ≥ 0 and within max_hold (plus a step); splitting the steps into two
    calls gives the same flows."""
    rng = np.random.default_rng(seed)
    n_t, n_u, n_c, step_s = 40, 3, 2, 60.0
    remote = rng.uniform(0, 5, (n_t, n_u, n_c)) * (rng.random((n_t, n_u, n_c)) < 0.8)
    linked = rng.random((n_t, n_u)) < rng.uniform(0.05, 0.9)
    t_s = np.arange(n_t) * step_s
    hold = np.array([np.inf, rng.uniform(30, 900)])
    whole = offline.run_outbox(remote, linked, t_s, step_s, offline.new_outbox(n_u, n_c), hold)
    state = offline.new_outbox(n_u, n_c)
    parts = [
        offline.run_outbox(remote[s], linked[s], t_s[s], step_s, state, hold)
        for s in (slice(0, split), slice(split, n_t))
    ]
    for name in ("direct", "released", "expired", "held_end", "wait_points_s"):
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_allclose(joined, getattr(whole, name), rtol=1e-12, atol=1e-9)
    before = np.concatenate([np.zeros((1, n_u, n_c)), whole.held_end[:-1]])
    into = whole.direct + whole.released + whole.expired + whole.held_end - before
    np.testing.assert_allclose(into, remote, atol=1e-9)
    assert (whole.wait_points_s >= 0).all()
    sent = whole.released[..., 1] > 0
    assert (whole.wait_points_s[..., 1, :][sent] <= hold[1] + step_s + 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([1e-6, 0.5, 1.0]))
def test_policies_respect_preference_order_and_ties(seed, spill):
    """Every policy's shares sum to 1 where a site is allowed; fill-and-spill (one user)
    loads a pool beyond the spill level only when every site it may use is at that level;
    lowest-energy breaks exact energy ties by latency."""
    rng = np.random.default_rng(seed)
    n_k = 4
    latency = rng.uniform(0.1, 5, (2, 1, 1, n_k))
    latency[rng.random(latency.shape) < 0.3] = np.inf
    energy = np.full(latency.shape, 7.0)  # all tied
    demand = rng.uniform(0, 60, (2, 1, 1))
    queue = np.broadcast_to(np.arange(n_k), (2, 1, n_k)).copy()
    capacity = rng.uniform(1, 40, (2, n_k, 1))
    problem = PlacementProblem(latency, energy, demand, queue, capacity, spill,
                               rng.permutation(n_k).astype(float))  # fmt: skip
    allowed = np.isfinite(latency)
    for name, policy in POLICIES.items():
        share = policy(problem)
        np.testing.assert_allclose(share.sum(-1), allowed.any(-1), atol=1e-9, err_msg=name)
    best = np.argmin(np.where(allowed, latency, np.inf), -1)
    chosen = POLICIES["lowest-energy"](problem).argmax(-1)
    np.testing.assert_array_equal(chosen[allowed.any(-1)], best[allowed.any(-1)])
    placed = POLICIES["fill-and-spill"](problem) * demand[..., None]
    load = placed.sum((1, 2)) / capacity[..., 0]  # [time, pool]
    for t in range(2):
        over = load[t] > spill * (1 + 1e-9)
        if over.any():  # demand that fit nowhere: every usable pool is at its spill level
            assert (load[t][allowed[t, 0, 0]] >= spill * (1 - 1e-9)).all()
