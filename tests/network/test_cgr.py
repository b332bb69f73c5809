"""Contact graph routing against an independent time-expanded oracle, hand-built plans with known
answers (light time, volume consumed, ties by hop count, overflow onto other routes), outcomes
and byte conservation, and contact plans built from the engine's geometry.

The oracle (``oracle_delivery``) shares nothing with ``orbitgrid.network.cgr`` but the model's
definition (docs/cgr.md): it discretises time on the integer grid 0..horizon (the random plans
have integer starts, ends and light times, and rates that make every transmission and backlog
time a whole number of seconds) and grows, hop by hop, the set of (node, time) states where the
bundle can be stored, with waiting as a cumulative OR along time. Its answer is the earliest
delivery over any number of hops and the fewest hops that reach it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import orbitgrid
from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72, WGS84
from orbitgrid.errors import OrbitgridError
from orbitgrid.network.cgr import DELIVERED, DROPPED, PENDING, CgrRouter, route_bundles
from orbitgrid.network.contact_log import ContactLog
from orbitgrid.network.contact_plan import (
    KIND_GSL_DOWN,
    KIND_GSL_UP,
    KIND_ISL,
    ContactPlan,
    contact_plan_from_table,
    contact_plan_from_windows,
    read_contact_plan,
)
from orbitgrid.network.contacts import ground_to_satellite_visibility, windows_from_mask
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit
from orbitgrid.network.topology import ConstellationIndex, plus_grid_isls
from tests.conftest import small_scenario_dict

# Random plans: 1000-byte units over 8000, 4000 or 2000 bit/s take 1, 2 or 4 s (exact floats).
UNIT_BYTES = 1000.0
RATES_BPS = (8000.0, 4000.0, 2000.0)
HORIZON_S = 120


# ------------------------------------------------------------------------------------------------
# Independent oracle.


def oracle_delivery(plan, booked_bytes, source, ready_s, size_bytes, destinations, horizon_s):
    """Earliest delivery ``(time_s, hops)`` of one bundle, or None, by brute force over the
    integer time grid: ``store[v, t]`` says the bundle can be held at node v at time t with at
    most h transmissions. A contact moves it from ``store[from, s]`` for every first-byte
    instant s with start + backlog ≤ s and s + size/rate ≤ end, arriving at s + size/rate +
    light time."""
    horizon = int(horizon_s)
    dest = np.zeros(plan.n_nodes, bool)
    dest[list(destinations)] = True
    if dest[source]:
        return float(ready_s), 0
    store = np.zeros((plan.n_nodes, horizon + 1), bool)
    store[source, int(ready_s) :] = True
    results = []
    for hops in range(1, len(plan) + 1):
        grown = store.copy()
        for c in range(len(plan)):
            tx = size_bytes * 8.0 / plan.rate_bps[c]
            backlog = booked_bytes[c] * 8.0 / plan.rate_bps[c]
            assert tx == int(tx) and backlog == int(backlog)
            first = np.arange(int(plan.start_s[c] + backlog), int(plan.end_s[c] - tx) + 1)
            first = first[(first >= 0) & (first <= horizon)]
            first = first[store[plan.from_node[c], first]]
            arrive = (first + tx + plan.owlt_s[c]).astype(int)
            grown[plan.to_node[c], arrive[arrive <= horizon]] = True
        grown = np.logical_or.accumulate(grown, axis=1)  # a node may hold the bundle
        at_dest = grown[dest].any(axis=0)
        if at_dest.any():
            results.append((float(np.argmax(at_dest)), hops))
        if np.array_equal(grown, store):
            break
        store = grown
    if not results:
        return None
    earliest = min(t for t, _ in results)
    return earliest, min(h for t, h in results if t == earliest)


def replay_route(plan, booked_bytes, route, ready_s, size_bytes):
    """Arrival time along ``route`` under the model, asserting the contacts chain up."""
    for c_prev, c_next in itertools.pairwise(route):
        assert plan.to_node[c_prev] == plan.from_node[c_next]
    t = ready_s
    for c in route:
        first = max(t, plan.start_s[c] + booked_bytes[c] * 8.0 / plan.rate_bps[c])
        last = first + size_bytes * 8.0 / plan.rate_bps[c]
        assert last <= plan.end_s[c]
        t = last + plan.owlt_s[c]
    return t


def random_plan(rng, n_nodes=6, n_contacts=22):
    frm = rng.integers(0, n_nodes, n_contacts)
    to = (frm + rng.integers(1, n_nodes, n_contacts)) % n_nodes
    start = rng.integers(0, HORIZON_S - 20, n_contacts)
    end = np.minimum(start + rng.integers(1, 40, n_contacts), HORIZON_S)
    return ContactPlan.from_arrays(
        frm,
        to,
        start,
        end,
        rng.choice(RATES_BPS, n_contacts),
        rng.choice([0.0, 0.0, 1.0, 2.0, 3.0], n_contacts),
        n_nodes=n_nodes,
    )


def random_bundles(rng, plan, n):
    sources = rng.integers(0, plan.n_nodes, n)
    created = rng.integers(0, 60, n).astype(float)
    sizes = rng.choice([UNIT_BYTES, 2 * UNIT_BYTES], n)
    return sources, created, sizes


def random_destinations(rng, n_nodes):
    return sorted(rng.choice(n_nodes, size=int(rng.integers(1, 3)), replace=False).tolist())


# ------------------------------------------------------------------------------------------------
# Oracle agreement.


@pytest.mark.parametrize("booked", [False, True], ids=["empty", "prebooked"])
@pytest.mark.parametrize("seed", range(40))
def test_single_bundle_earliest_delivery_equals_oracle(seed, booked):
    """Every bundle routed alone: CGR's delivery time and hop count equal the time-expanded
    oracle's exactly (integer grid, exact floats), on 40 random plans × 8 bundles, with empty
    contacts and with random volumes already booked; undeliverable bundles agree too, and each
    returned route replays to its delivery time."""
    rng = np.random.default_rng(seed)
    plan = random_plan(rng)
    pre = np.zeros(len(plan))
    if booked:
        volume_units = (plan.volume_bytes // UNIT_BYTES).astype(int)
        pre = np.minimum(rng.integers(0, 6, len(plan)), volume_units) * UNIT_BYTES
    sources, created, sizes = random_bundles(rng, plan, 8)
    delivered = 0
    for src, t0, size in zip(sources, created, sizes, strict=True):
        dest = random_destinations(rng, plan.n_nodes)
        expected = oracle_delivery(plan, pre, src, t0, size, dest, HORIZON_S)
        result = route_bundles(plan, src, t0, size, dest, horizon_s=HORIZON_S, booked_bytes=pre)
        if expected is None:
            assert result.status[0] == PENDING and np.isnan(result.delivered_s[0])
            continue
        delivered += 1
        assert result.status[0] == DELIVERED
        assert (result.delivered_s[0], int(result.hops[0])) == expected
        route = result.route(0)
        assert len(route) == result.hops[0]
        if len(route):
            assert plan.from_node[route[0]] == src and plan.to_node[route[-1]] in dest
        assert replay_route(plan, pre, route, t0, size) == result.delivered_s[0]
    assert delivered > 0 or seed % 7 == 0  # the plans are dense enough to deliver most seeds


@pytest.mark.parametrize("seed", range(30))
def test_batch_each_bundle_is_optimal_given_earlier_bookings(seed):
    """A batch of 14 bundles (creation order, shared volumes): replaying CGR's own bookings,
    each bundle's delivery equals the oracle's on the volumes left by the bundles before it;
    no contact carries more than its volume; booked bytes are exactly the routed sizes; bytes
    are conserved (delivered + pending + dropped = created)."""
    rng = np.random.default_rng(1000 + seed)
    plan = random_plan(rng, n_nodes=5, n_contacts=18)
    sources, created, sizes = random_bundles(rng, plan, 14)
    dest = random_destinations(rng, plan.n_nodes)
    result = route_bundles(plan, sources, created, sizes, dest, horizon_s=HORIZON_S)
    booked = np.zeros(len(plan))
    for b in np.argsort(created, kind="stable"):
        expected = oracle_delivery(plan, booked, sources[b], created[b], sizes[b], dest, HORIZON_S)
        if expected is None:
            assert result.status[b] == PENDING
            continue
        assert (result.delivered_s[b], int(result.hops[b])) == expected
        route = result.route(b)
        assert replay_route(plan, booked, route, created[b], sizes[b]) == result.delivered_s[b]
        np.add.at(booked, route, sizes[b])
    np.testing.assert_array_equal(result.booked_bytes, booked)
    assert np.all(result.booked_bytes <= plan.volume_bytes)
    assert np.all(result.residual_bytes >= 0)
    totals = result.totals()
    assert (
        totals["delivered_bytes"] + totals["pending_bytes"] + totals["dropped_bytes"]
        == (totals["created_bytes"])
    )
    assert totals["created_bundles"] == 14


# ------------------------------------------------------------------------------------------------
# The four semantics on hand-built plans (CCSDS 734.3-B-1 SABR; ION CGR), with known answers.


def test_light_time_is_added_on_every_hop():
    """A→B (light time 5 s) then B→C (light time 7 s), 1000 bytes at 8000 bit/s (1 s a hop):
    ready at B at 0 + 1 + 5 = 6, delivered at 6 + 1 + 7 = 14. With the first contact's light
    time the bundle misses B→C [0, 6.5] and waits for B→C [20, 30]: 20 + 1 + 7 = 28."""
    plan = ContactPlan.from_arrays([0, 1], [1, 2], [0, 0], [100, 100], 8000.0, [5.0, 7.0])
    result = route_bundles(plan, 0, 0.0, 1000.0, [2])
    assert result.delivered_s[0] == 14.0 and result.route(0).tolist() == [0, 1]
    plan = ContactPlan.from_arrays(
        [0, 1, 1], [1, 2, 2], [0, 0, 20], [100, 6.5, 30], 8000.0, [5.0, 7.0, 7.0]
    )
    result = route_bundles(plan, 0, 0.0, 1000.0, [2])
    assert result.delivered_s[0] == 28.0 and result.route(0).tolist() == [0, 2]


def test_volume_is_consumed_and_backlog_delays_the_next_bundle():
    """A→B [0, 10] at 8000 bit/s holds 10,000 bytes. Three 4000-byte bundles created at 0:
    the first is sent over [0, 4], the second behind it over [4, 8] (first byte = start +
    booked / rate), the third no longer fits (8 + 4 > 10) and takes A→B [50, 60]: 54."""
    plan = ContactPlan.from_arrays([0, 0], [1, 1], [0, 50], [10, 60], 8000.0)
    result = route_bundles(plan, [0, 0, 0], [0.0, 0.0, 0.0], 4000.0, [1])
    np.testing.assert_array_equal(result.delivered_s, [4.0, 8.0, 54.0])
    assert [result.route(i).tolist() for i in range(3)] == [[0], [0], [1]]
    np.testing.assert_array_equal(result.booked_bytes, [8000.0, 4000.0])
    np.testing.assert_array_equal(result.residual_bytes, [2000.0, 6000.0])


def test_ties_in_delivery_time_go_to_fewer_hops():
    """Equal delivery times, different hop counts: the fewer hops win.

    1. A→D [50, 100] directly or A→B [0, 100], B→D [50, 100]: both deliver at 51; 1 hop wins.
    2. X is reached early over two hops (A→B→X, at 2) or later over one (A→X [10, 100], at 11),
       and X→D opens at 50: both deliver at 51, so A→X→D (2 hops) beats A→B→X→D (3). A search
       that keeps only X's earliest label would return the 3-hop route."""
    a, b, x, d = range(4)
    plan = ContactPlan.from_arrays([a, b, a], [b, d, d], [0, 50, 50], [100, 100, 100], 8000.0)
    result = route_bundles(plan, a, 0.0, 1000.0, [d])
    assert result.delivered_s[0] == 51.0 and result.route(0).tolist() == [2]
    plan = ContactPlan.from_arrays(
        [a, b, a, x], [b, x, x, d], [0, 0, 10, 50], [100, 100, 100, 100], 8000.0
    )
    result = route_bundles(plan, a, 0.0, 1000.0, [d])
    assert result.delivered_s[0] == 51.0
    assert result.route(0).tolist() == [2, 3] and result.hops[0] == 2


def test_pruning_by_the_last_hop_bound_keeps_better_and_tied_routes():
    """The search prunes a label at time a when a + (fastest last hop) cannot beat the best
    delivery found. 1000-byte bundles. (1) Direct A→D at 5000 bit/s delivers at 1.6; A→B at 1
    then B→D at 16000 bit/s (0.5 s, the bound) at 1.5: the relay must win. (2) A 3-hop route
    delivers at 3 first (A→B→C at 1, C→D 2 s); A→E at 2 then E→D 1 s (the bound) also
    delivers at 3 with 2 hops: the tie must go to the 2-hop route. (3) The same once the best
    is known before the tying label is created: A→B→C→G→D delivers at 3 with 4 hops (G at
    0.75, found first); A→F→E→D reaches E at 2 and delivers at 3 with 3 hops, and wins."""
    a, b, c, d, e = range(5)
    plan = ContactPlan.from_arrays(
        [a, a, b], [d, b, d], 0, 100, [5000.0, 8000.0, 16000.0], n_nodes=4
    )
    result = route_bundles(plan, a, 0.0, 1000.0, [d])
    assert result.delivered_s[0] == 1.5 and result.route(0).tolist() == [1, 2]
    plan = ContactPlan.from_arrays(
        [a, b, c, a, e], [b, c, d, e, d], 0, 100, [16000.0, 16000.0, 4000.0, 4000.0, 8000.0]
    )
    result = route_bundles(plan, a, 0.0, 1000.0, [d])
    assert result.delivered_s[0] == 3.0 and result.route(0).tolist() == [3, 4]
    f, g = 5, 6
    plan = ContactPlan.from_arrays(
        [a, b, c, g, a, f, e],
        [b, c, g, d, f, e, d],
        0,
        100,
        [32000.0, 32000.0, 32000.0, 4000.0, 8000.0, 16000.0, 8000.0],
        [0, 0, 0, 0.25, 0.5, 0, 0],
    )
    result = route_bundles(plan, a, 0.0, 1000.0, [d])
    assert result.delivered_s[0] == 3.0 and result.route(0).tolist() == [4, 5, 6]


def test_bundles_overflow_onto_the_next_route_when_the_bottleneck_is_full():
    """Best route A→B→D has a bottleneck B→D [2, 4] that holds one 2000-byte bundle (2 s at
    8000 bit/s); the other route A→C→D has light time 3 s on C→D. Three bundles at 0: the
    first takes A→B→D (4), then B→D is exhausted and the next ones take A→C→D (7, then 9
    behind the second's bytes)."""
    a, b, c, d = range(4)
    plan = ContactPlan.from_arrays(
        [a, b, a, c], [b, d, c, d], [0, 2, 0, 0], [100, 4, 100, 100], 8000.0, [0, 0, 0, 3.0]
    )
    result = route_bundles(plan, [a, a, a], [0.0, 0.0, 0.0], 2000.0, [d])
    np.testing.assert_array_equal(result.delivered_s, [4.0, 7.0, 9.0])
    assert [result.route(i).tolist() for i in range(3)] == [[0, 1], [2, 3], [2, 3]]
    assert result.residual_bytes[1] == 0.0


# ------------------------------------------------------------------------------------------------
# Outcomes, destination sets, batches over several calls.


def test_outcomes_pending_dropped_and_conservation():
    """No route before the horizon → pending (still at its source); a deadline inside the
    horizon that no route meets → dropped, while a delivery exactly at the deadline counts; a
    source inside the destination set → delivered at creation with 0 hops. Bundles and bytes
    per outcome add up to those created. (Contact 0→1 over [10, 20] at 1000 bytes/s; the
    1000-byte bundles from node 0 queue behind each other: 11, 12, then 13 > 12.5.)"""
    plan = ContactPlan.from_arrays([0], [1], [10], [20], 8000.0, n_nodes=3)
    result = route_bundles(
        plan,
        [0, 0, 0, 1, 2],
        [0.0, 0.0, 0.0, 5.0, 0.0],
        [1000.0, 1000.0, 1000.0, 1000.0, 1000.0],
        [1],
        deadline_s=[np.inf, 12.0, 12.5, np.inf, np.inf],
        horizon_s=100.0,
    )
    assert result.status.tolist() == [DELIVERED, DELIVERED, DROPPED, DELIVERED, PENDING]
    np.testing.assert_array_equal(result.delivered_s[[0, 1, 3]], [11.0, 12.0, 5.0])
    assert result.hops.tolist() == [1, 1, -1, 0, -1]
    t = result.totals()
    assert (t["delivered_bundles"], t["pending_bundles"], t["dropped_bundles"]) == (3, 1, 1)
    assert t["delivered_bytes"] + t["pending_bytes"] + t["dropped_bytes"] == t["created_bytes"]
    assert t["delivered_bytes"] == 3000.0 and result.booked_bytes[0] == 2000.0
    # Without a deadline a bundle never expires, even with an unbounded horizon.
    assert route_bundles(plan, 2, 0.0, 1000.0, [1], horizon_s=np.inf).status[0] == PENDING


def test_destination_sets_and_successive_batches_share_volumes():
    """Two destination sets chosen per bundle; a second ``route`` call sees the volume the
    first booked (the 8000-byte contact carries one 6000-byte bundle, the next waits)."""
    plan = ContactPlan.from_arrays([0, 0, 0], [1, 2, 1], [0, 0, 30], [8, 100, 40], 8000.0)
    router = CgrRouter(plan, [[1], [2]])
    first = router.route([0, 0], [0.0, 0.0], 6000.0, group=[0, 1])
    assert first.destination_node.tolist() == [1, 2] and first.delivered_s.tolist() == [6.0, 6.0]
    second = router.route(0, 1.0, 6000.0, group=0)
    assert second.route(0).tolist() == [2] and second.delivered_s[0] == 36.0
    np.testing.assert_array_equal(router.booked_bytes, [6000.0, 6000.0, 6000.0])


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"contact 1 .* finite start_s < end_s"):
        ContactPlan.from_arrays([0, 1], [1, 0], [0, 5], [10, 5], 8000.0)
    with pytest.raises(ValueError, match=r"rate_bps > 0"):
        ContactPlan.from_arrays([0], [1], [0], [10], 0.0)
    with pytest.raises(ValueError, match="from_node ≠ to_node"):
        ContactPlan.from_arrays([0], [0], [0], [10], 8000.0)
    plan = ContactPlan.from_arrays([0], [1], [0], [10], 8000.0)
    with pytest.raises(ValueError, match="destination set 0"):
        route_bundles(plan, 0, 0.0, 1.0, [5])
    with pytest.raises(ValueError, match="size_bytes > 0"):
        route_bundles(plan, 0, 0.0, 0.0, [1])


# ------------------------------------------------------------------------------------------------
# Contact plans from the engine's geometry.

STATIONS = [
    {"name": "Redu", "kind": "ground_station", "latitude": 50.0, "longitude": 5.15},
    {"name": "Kourou", "kind": "ground_station", "latitude": 5.25, "longitude": -52.8},
    {"name": "Hartebeesthoek", "kind": "ground_station", "latitude": -25.89, "longitude": 27.69},
]
ISL_MAX_RANGE_KM = 5016.591


def _geometry_run(tmp_path):
    data = small_scenario_dict()
    data["time"] = {"start": "2027-03-20T00:00:00Z", "duration": "3 h", "step": "30 s"}
    data["constellation"][0].update({"planes": 4, "sats_per_plane": 12})
    data["network"] = {
        "endpoints": STATIONS,
        "isl": {"pattern": "+grid", "rate": "10 Gbps", "max_range": f"{ISL_MAX_RANGE_KM} km"},
        "gsl": {"min_elevation": "10 deg", "rate": "500 Mbps"},
    }
    run_dir = tmp_path / "run"
    result = orbitgrid.run(orbitgrid.scenario_from_dict(data), out_dir=run_dir)
    return result, run_dir


def test_contact_plan_from_a_run_equals_direct_geometry(tmp_path):
    """The plan read from a run's contacts.parquet equals one built directly from the run's stored
    satellite positions (geodetic → ECEF, WGS84): GSL windows where elevation ≥ 10° seen from
    each station (WGS72 site, as the network stage), ISL windows of the +grid where the range
    ≤ 5016.591 km; both directions; light time = the window's largest range / c. Windows and
    rates exact (the same 30 s grid); light time to 1e-8 s (3 m): the dataset stores the
    positions as float32 latitude/longitude/altitude, ≈ 1 m of rounding (observed 3.7e-9 s)."""
    result, run_dir = _geometry_run(tmp_path)
    plan = read_contact_plan(run_dir)
    ds = result.dataset
    n_sat = ds.sizes["satellite"]
    times_s = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "s")
    sat_ecef = geodetic_to_ecef_km(
        ds.latitude_deg.values, ds.longitude_deg.values, ds.altitude_km.values, WGS84
    )
    lat = np.array([s["latitude"] for s in STATIONS])
    lon = np.array([s["longitude"] for s in STATIONS])
    up, gsl_range = ground_to_satellite_visibility(
        sat_ecef,
        geodetic_to_ecef_km(lat, lon, np.zeros(3), WGS72),
        local_up_unit(lat, lon),
        np.full(3, 10.0),
        np.full(3, np.inf),
    )
    e_idx, s_idx = np.meshgrid(np.arange(3), np.arange(n_sat), indexing="ij")
    gsl_nodes = np.stack([n_sat + e_idx.ravel(), s_idx.ravel()], axis=1)
    pairs = plus_grid_isls(ConstellationIndex.walker(4, 12))  # validated against satgenpy
    isl_range = np.linalg.norm(sat_ecef[:, pairs[:, 0]] - sat_ecef[:, pairs[:, 1]], axis=-1)
    step_s = 30.0
    windows = [
        windows_from_mask(
            up.reshape(len(times_s), -1),
            gsl_range.reshape(len(times_s), -1),
            times_s,
            step_s,
            500e6,
        ),
        windows_from_mask(isl_range <= ISL_MAX_RANGE_KM, isl_range, times_s, step_s, 10e9),
    ]
    is_gsl = np.ones(len(gsl_nodes), bool)
    expected = [
        contact_plan_from_windows(windows[0], gsl_nodes, n_sat + 3, gsl_links=is_gsl),
        contact_plan_from_windows(windows[1], pairs, n_sat + 3),
    ]
    assert len(windows[0]) > 20 and 0 < len(windows[1])
    assert (windows[1].duration_s < 3 * 3600).any()  # some cross-plane links drop out
    keys = lambda p: np.lexsort((p.end_s, p.start_s, p.to_node, p.from_node))  # noqa: E731
    got = plan
    want = {
        name: np.concatenate([getattr(e, name) for e in expected])
        for name in ("from_node", "to_node", "start_s", "end_s", "rate_bps", "owlt_s", "kind")
    }
    order_want = np.lexsort((want["end_s"], want["start_s"], want["to_node"], want["from_node"]))
    order_got = keys(got)
    assert len(got) == len(order_want)
    for name in ("from_node", "to_node", "start_s", "end_s", "rate_bps", "kind"):
        np.testing.assert_array_equal(getattr(got, name)[order_got], want[name][order_want], name)
    np.testing.assert_allclose(got.owlt_s[order_got], want["owlt_s"][order_want], atol=1e-8, rtol=0)
    assert set(np.unique(got.kind)) == {KIND_GSL_DOWN, KIND_GSL_UP, KIND_ISL}
    assert got.node_names[n_sat] == "Redu" and got.owlt_s.max() < 5016.6 / SPEED_OF_LIGHT_KM_S

    # Routed to the stations: every delivery no earlier than creation + size / rate + light time.
    downlink = read_contact_plan(run_dir, gsl_direction="down")
    assert not np.isin(downlink.kind, [KIND_GSL_UP]).any()
    stations = np.arange(n_sat, n_sat + 3)
    routed = route_bundles(downlink, np.arange(n_sat), 0.0, 50e6, stations)
    assert (routed.status == DELIVERED).all()
    assert np.all(routed.delivered_s >= 50e6 * 8 / 500e6 + 550.0 / SPEED_OF_LIGHT_KM_S)


def test_contact_plan_from_table_directions_and_light_time():
    """ContactLog windows → contacts: a GSL gives its downlink and/or uplink, an ISL both
    directions; light time = max range / c; a window without rate gives no contact."""
    log = ContactLog(n_satellites=2, n_endpoints=1, isl_pairs=np.array([[0, 1]]), step_s=10.0)
    log.update(
        np.array([0.0, 10.0, 20.0]),
        np.array([0, 1, 1, 2]),
        np.array([0, 0, 0, 0]),
        np.array([0, 0, 1, 1]),
        np.array([900.0, 600.0, 1500.0, 1200.0]),
        np.array([1e8, 1e8, 0.0, 0.0]),
        np.array([[3000.0], [3100.0], [np.nan]]),
        isl_rate_bps=1e10,
    )
    table = log.finish()
    down = contact_plan_from_table(table, 1, gsl_direction="down")
    both = contact_plan_from_table(table, 1)
    assert len(down) == 1 + 2 and len(both) == 2 + 2  # satellite 1's window has rate 0
    gsl = down.kind == KIND_GSL_DOWN
    assert down.from_node[gsl].tolist() == [0] and down.to_node[gsl].tolist() == [2]
    assert down.start_s[gsl][0] == 0.0 and down.end_s[gsl][0] == 20.0
    assert down.owlt_s[gsl][0] == pytest.approx(900.0 / SPEED_OF_LIGHT_KM_S, rel=1e-15)
    isl = both.kind == KIND_ISL
    assert sorted(zip(both.from_node[isl], both.to_node[isl], strict=True)) == [(0, 1), (1, 0)]
    assert np.all(both.owlt_s[isl] == 3100.0 / SPEED_OF_LIGHT_KM_S)
    np.testing.assert_array_equal(both.volume_bytes[isl], 1e10 * 20.0 / 8)


def test_read_contact_plan_without_contacts_file_names_it(tmp_path):
    with pytest.raises(OrbitgridError, match=r"contacts\.parquet \(or \.csv\) is missing"):
        read_contact_plan(tmp_path)
