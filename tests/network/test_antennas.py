"""Ground-station antenna allocation (``network.antennas``): known answers, invariants, and the
optimum of each policy against an exhaustive search over every subset of passes.

Reference for optimality: brute force in this file (all 2^P subsets of a station's passes,
feasible when at most N half-open intervals ``[start, end + setup)`` share an instant, which
for interval graphs is exactly N-colourability; Kovalyov, Ng & Cheng, EJOR 178, 2007).
Tolerance: total weight equal to 1e-9 relative, pass counts exact.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import orbitgrid
from orbitgrid.network.antennas import (
    allocate_contact_plan,
    allocate_passes,
    antenna_counts,
    gsl_passes,
)
from orbitgrid.network.contact_plan import (
    KIND_GSL_DOWN,
    KIND_GSL_UP,
    KIND_ISL,
    ContactPlan,
    read_contact_plan,
)
from tests.conftest import small_scenario_dict


def _depth(start, stop) -> int:
    """Largest number of half-open intervals sharing an instant (sweep, ends before starts)."""
    events = sorted([(t, -1) for t in stop] + [(t, 1) for t in start])
    depth = best = 0
    for _, d in events:
        depth += d
        best = max(best, depth)
    return best


def _check_schedule(station, start, end, antennas, antenna, setup_s=0.0, min_pass_s=0.0):
    """Per antenna no two passes closer than ``setup_s``; per station ≤ N at once; only
    eligible passes tracked, antenna ids in range."""
    counts = np.asarray(antennas)
    counts = np.full(int(station.max()) + 1, counts) if counts.ndim == 0 else counts
    tracked = antenna >= 0
    assert np.all(end[tracked] - start[tracked] >= min_pass_s)
    for s in np.unique(station):
        mine = (station == s) & tracked
        assert np.all(antenna[mine] < counts[s])
        assert _depth(start[mine], end[mine] + setup_s) <= counts[s]
        for a in np.unique(antenna[mine]):
            on = np.flatnonzero(mine & (antenna == a))
            on = on[np.argsort(start[on])]
            assert np.all(start[on][1:] >= end[on][:-1] + setup_s)


def _brute_force(start, end, weight, k, setup_s=0.0, min_pass_s=0.0):
    """(best total weight, best count) over all feasible subsets of one station's passes."""
    ok = np.flatnonzero(end - start >= min_pass_s)
    best_w, best_n = 0.0, 0
    for r in range(1, len(ok) + 1):
        for subset in itertools.combinations(ok, r):
            idx = np.array(subset)
            if _depth(start[idx], end[idx] + setup_s) <= k:
                best_w = max(best_w, float(weight[idx].sum()))
                best_n = max(best_n, r)
    return best_w, best_n


# ---------------------------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------------------------


def test_two_overlapping_passes_over_one_antenna_keep_the_longer():
    """Satellite A 0–600 s, satellite B 300–1000 s, one antenna: B (700 s) is tracked, A not;
    with two antennas both are."""
    got = allocate_passes([0, 0], [0.0, 300.0], [600.0, 1000.0], 1)
    np.testing.assert_array_equal(got, [-1, 0])
    got2 = allocate_passes([0, 0], [0.0, 300.0], [600.0, 1000.0], 2)
    assert sorted(got2.tolist()) == [0, 1]


def test_policies_differ_on_one_long_pass_against_two_short_ones():
    """One antenna; a 0–100 s pass overlaps 0–40 s and 50–90 s. max-volume: the long pass
    (100 s > 80 s); max-count: the two short ones (2 > 1), on the same antenna."""
    start, end = np.array([0.0, 0.0, 50.0]), np.array([100.0, 40.0, 90.0])
    np.testing.assert_array_equal(allocate_passes([0, 0, 0], start, end, 1), [0, -1, -1])
    np.testing.assert_array_equal(
        allocate_passes([0, 0, 0], start, end, 1, policy="max-count"), [-1, 0, 0]
    )


def test_back_to_back_passes_share_an_antenna_unless_a_setup_time_separates_them():
    """[0, 300) then [300, 500): half-open, so one antenna tracks both; with a 60 s setup the
    second would start before the antenna is ready, so only the longer first one is kept;
    [0, 300) and [360, 560) fit exactly with the 60 s setup."""
    np.testing.assert_array_equal(allocate_passes([0, 0], [0, 300], [300, 500], 1), [0, 0])
    np.testing.assert_array_equal(
        allocate_passes([0, 0], [0, 300], [300, 500], 1, setup_s=60.0), [0, -1]
    )
    np.testing.assert_array_equal(
        allocate_passes([0, 0], [0, 360], [300, 560], 1, setup_s=60.0), [0, 0]
    )


def test_minimum_pass_length_drops_short_passes_even_with_idle_antennas():
    """Passes of 100 s and 400 s, three antennas, minimum 120 s: only the 400 s pass."""
    got = allocate_passes([0, 0], [0, 1000], [100, 1400], 3, min_pass_s=120.0)
    np.testing.assert_array_equal(got, [-1, 0])


def test_stations_are_independent_and_zero_antennas_track_nothing():
    """Station 0 (one antenna) has two overlapping passes, station 1 (no antenna) one, station
    2 (one antenna) an overlapping one too: station 2's pass is not displaced by station 0's."""
    station = np.array([0, 0, 1, 2])
    start = np.array([0.0, 100.0, 0.0, 50.0])
    end = np.array([500.0, 400.0, 500.0, 450.0])
    got = allocate_passes(station, start, end, np.array([1, 0, 1]))
    np.testing.assert_array_equal(got, [0, -1, -1, 0])


def test_weights_decide_under_max_volume():
    """Two overlapping passes, one antenna: the shorter pass wins when its weight (bytes) is
    larger (a faster link), the longer one with durations as weights."""
    start, end = np.array([0.0, 100.0]), np.array([600.0, 500.0])
    np.testing.assert_array_equal(allocate_passes([0, 0], start, end, 1), [0, -1])
    np.testing.assert_array_equal(
        allocate_passes([0, 0], start, end, 1, weight=[6e9, 8e9]), [-1, 0]
    )


def test_three_mutually_overlapping_passes_on_two_antennas_keep_the_two_heaviest():
    start = np.array([0.0, 10.0, 20.0])
    end = np.array([300.0, 200.0, 400.0])
    got = allocate_passes([0, 0, 0], start, end, 2)
    assert got[1] == -1 and {got[0], got[2]} == {0, 1}


def test_the_two_antenna_optimum_drops_a_pass_of_the_one_antenna_optimum():
    """Passes (min): a 4–8 (9.4), b 4–11 (9.5), c 9–10 (1), d 11–15 (10), e 9–18 (7).
    One antenna: a + c + d = 20.4 (beats b + d = 19.5). Two antennas: a, b, d, e = 35.9,
    without c: the second unit of flow must undo a pass of the first (a residual arc), which
    a greedy 'best schedule per antenna in turn' misses (it gets 29.9)."""
    start = 60.0 * np.array([4, 4, 9, 11, 9])
    end = 60.0 * np.array([8, 11, 10, 15, 18])
    weight = np.array([9.4, 9.5, 1.0, 10.0, 7.0])
    one = allocate_passes(np.zeros(5, int), start, end, 1, weight=weight)
    np.testing.assert_array_equal(one >= 0, [True, False, True, True, False])
    two = allocate_passes(np.zeros(5, int), start, end, 2, weight=weight)
    np.testing.assert_array_equal(two >= 0, [True, True, False, True, True])
    assert weight[two >= 0].sum() == pytest.approx(35.9)


def test_invalid_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="policy"):
        allocate_passes([0], [0], [1], 1, policy="first-come")
    with pytest.raises(ValueError, match="start_s < end_s"):
        allocate_passes([0], [5], [5], 1)
    with pytest.raises(ValueError, match="≥ 0"):
        allocate_passes([0], [0], [1], np.array([-1]))
    with pytest.raises(ValueError, match="setup_s"):
        allocate_passes([0], [0], [1], 1, setup_s=-1.0)
    with pytest.raises(ValueError, match="2 counts for 3 stations"):
        allocate_passes([0, 2], [0, 0], [1, 1], np.array([1, 1]))


# ---------------------------------------------------------------------------------------------
# Optimality against brute force, and invariants
# ---------------------------------------------------------------------------------------------


def _random_station(rng, n):
    # Integer times on a short line: many overlaps, touching ends and equal instants.
    start = rng.integers(0, 40, n).astype(float)
    end = start + rng.integers(1, 15, n)
    return start, end


@pytest.mark.parametrize("seed", range(40))
def test_max_volume_and_max_count_equal_the_brute_force_optimum(seed):
    """Random stations of 2–9 passes, 1–3 antennas, setup 0–3 s, minimum pass 0–4 s, random
    weights: max-volume's total weight equals the exhaustive optimum (1e-9 relative) and
    max-count's number of passes equals the exhaustive largest count; both schedules are
    feasible."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    start, end = _random_station(rng, n)
    weight = rng.uniform(0.1, 10.0, n)
    k = int(rng.integers(1, 4))
    setup, min_pass = float(rng.integers(0, 4)), float(rng.integers(0, 5))
    station = np.zeros(n, np.int64)
    best_w, best_n = _brute_force(start, end, weight, k, setup, min_pass)
    kw = dict(setup_s=setup, min_pass_s=min_pass)
    vol = allocate_passes(station, start, end, k, weight=weight, **kw)
    cnt = allocate_passes(station, start, end, k, weight=weight, policy="max-count", **kw)
    for got in (vol, cnt):
        _check_schedule(station, start, end, k, got, setup, min_pass)
    assert weight[vol >= 0].sum() == pytest.approx(best_w, rel=1e-9, abs=1e-12)
    assert int((cnt >= 0).sum()) == best_n


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 60),
    n_stations=st.integers(1, 4),
    policy=st.sampled_from(["max-volume", "max-count"]),
    setup=st.sampled_from([0.0, 2.0]),
)
def test_schedules_respect_antennas_and_lose_nothing_when_antennas_suffice(
    seed, n, n_stations, policy, setup
):
    """Any passes: never more than N simultaneous passes per station (setup included), no
    antenna overlap, tracked time ≤ visible time; with N ≥ the station's deepest overlap (setup
    included) every pass is tracked; max-volume's weight ≥ max-count's and max-count's count ≥
    max-volume's (each optimal for its objective)."""
    rng = np.random.default_rng(seed)
    station = rng.integers(0, n_stations, n)
    start, end = _random_station(rng, n)
    counts = rng.integers(0, 4, n_stations)
    got = allocate_passes(station, start, end, counts, policy=policy, setup_s=setup)
    _check_schedule(station, start, end, counts, got, setup)
    assert (end - start)[got >= 0].sum() <= (end - start).sum()
    deep = np.array(
        [_depth(start[station == s], end[station == s] + setup) for s in range(n_stations)]
    )
    enough = allocate_passes(station, start, end, deep, policy=policy, setup_s=setup)
    np.testing.assert_array_equal(enough >= 0, deep[station] > 0)
    other = "max-count" if policy == "max-volume" else "max-volume"
    alt = allocate_passes(station, start, end, counts, policy=other, setup_s=setup)
    vol, cnt = (got, alt) if policy == "max-volume" else (alt, got)
    dur = end - start
    assert dur[vol >= 0].sum() >= dur[cnt >= 0].sum() - 1e-9
    assert (cnt >= 0).sum() >= (vol >= 0).sum()


# ---------------------------------------------------------------------------------------------
# Contact plans
# ---------------------------------------------------------------------------------------------


def _hand_plan() -> ContactPlan:
    """Satellites 0, 1; stations 2 ('A'), 3 ('B'). At A: sat 0 0–600 s at 100 Mbit/s and sat 1
    300–800 s at 200 Mbit/s, each as downlink and uplink contacts; at B: sat 0 1000–1200 s
    (downlink only); an ISL 0 ↔ 1 over 0–2000 s."""
    rows = [
        (0, 2, 0, 600, 100e6, KIND_GSL_DOWN),
        (2, 0, 0, 600, 100e6, KIND_GSL_UP),
        (1, 2, 300, 800, 200e6, KIND_GSL_DOWN),
        (2, 1, 300, 800, 200e6, KIND_GSL_UP),
        (0, 3, 1000, 1200, 100e6, KIND_GSL_DOWN),
        (0, 1, 0, 2000, 10e9, KIND_ISL),
        (1, 0, 0, 2000, 10e9, KIND_ISL),
    ]
    frm, to, t0, t1, rate, kind = (np.array(c) for c in zip(*rows, strict=True))
    return ContactPlan.from_arrays(
        frm, to, t0, t1, rate, 0.003, kind=kind, node_names=("s0", "s1", "A", "B")
    )


def test_contact_plan_keeps_both_directions_of_tracked_passes_and_all_isls():
    """One antenna at A: sat 1's pass carries 12.5 GB against sat 0's 7.5 GB, so both of sat
    0's contacts at A go and both of sat 1's stay; B's pass and the ISLs are untouched. With
    two antennas at A the plan is unchanged. Passes: one per window, whatever the
    directions."""
    plan = _hand_plan()
    passes = gsl_passes(plan)
    assert len(passes) == 3
    np.testing.assert_allclose(np.sort(passes.volume_bytes), [2.5e9, 7.5e9, 12.5e9])
    got = allocate_contact_plan(plan)
    assert len(got) == 5
    at_a = (got.to_node == 2) | (got.from_node == 2)
    assert set(got.from_node[at_a]) | set(got.to_node[at_a]) == {1, 2}
    assert (got.kind == KIND_ISL).sum() == 2 and ((got.to_node == 3).sum() == 1)
    assert got.node_names == plan.node_names
    same = allocate_contact_plan(plan, {"A": 2})
    np.testing.assert_array_equal(same.start_s, plan.start_s)
    np.testing.assert_array_equal(same.from_node, plan.from_node)
    none_at_b = allocate_contact_plan(plan, [0, 0, 1, 0])
    assert not ((none_at_b.to_node == 3) | (none_at_b.from_node == 3)).any()


def test_allocated_plan_never_exceeds_the_antennas_and_only_removes_gsl_contacts():
    """A plan's GSL contacts regrouped into passes after allocation: at most N per station at
    any instant; every kept contact is a contact of the original plan; volume only falls."""
    plan = _hand_plan()
    got = allocate_contact_plan(plan, 1)
    passes = gsl_passes(got)
    for s in np.unique(passes.station):
        mine = passes.station == s
        assert _depth(passes.start_s[mine], passes.end_s[mine]) <= 1
    original = set(zip(plan.from_node, plan.to_node, plan.start_s, plan.end_s, strict=True))
    assert set(zip(got.from_node, got.to_node, got.start_s, got.end_s, strict=True)) <= original
    assert got.volume_bytes.sum() < plan.volume_bytes.sum()


def test_antenna_counts_are_checked():
    plan = _hand_plan()
    np.testing.assert_array_equal(antenna_counts(plan, None), [1, 1, 1, 1])
    np.testing.assert_array_equal(antenna_counts(plan, {"B": 3}), [1, 1, 1, 3])
    for bad, match in ((-1, "≥ 0"), (1.5, "whole number"), ([1, 1], "2 counts for 4")):
        with pytest.raises(ValueError, match=match):
            antenna_counts(plan, bad)
    with pytest.raises(ValueError, match="no node named"):
        antenna_counts(plan, {"C": 1})


def test_read_contact_plan_with_antennas_from_a_run(tmp_path):
    """A 48-satellite Walker shell (6 × 8, 53°) and two stations over 3 h:
    ``read_contact_plan`` without ``antennas`` is unchanged (every visible pass); with
    ``antennas=1`` it equals ``allocate_contact_plan`` of that plan, drops some passes (several
    satellites in view at once) and keeps at most one pass per station at any instant."""
    data = small_scenario_dict()
    data["constellation"][0].update({"planes": 6, "sats_per_plane": 8})
    data["network"] = {
        "endpoints": [
            {"name": "Kiruna", "kind": "ground_station", "latitude": 67.86, "longitude": 20.96},
            {"name": "Redu", "kind": "ground_station", "latitude": 50.0, "longitude": 5.15},
        ],
        "isl": {"pattern": "none"},
        "gsl": {"min_elevation": "5 deg", "rate": "200 Mbps"},
    }
    data["output"] = {"dataset": False}
    run_dir = tmp_path / "run"
    orbitgrid.run(orbitgrid.scenario_from_dict(data), out_dir=run_dir)
    everything = read_contact_plan(run_dir, gsl_direction="down")
    one = read_contact_plan(run_dir, gsl_direction="down", antennas=1)
    expected = allocate_contact_plan(everything, 1)
    for name in ("from_node", "to_node", "start_s", "end_s", "rate_bps", "owlt_s", "kind"):
        np.testing.assert_array_equal(getattr(one, name), getattr(expected, name), name)
    assert 0 < len(one) < len(everything)
    for station in np.unique(one.to_node):
        mine = one.to_node == station
        assert _depth(one.start_s[mine], one.end_s[mine]) == 1
