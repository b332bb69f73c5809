"""Routing core: agreement with networkx, backends, invariants, status codes, failures."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit
from orbitgrid.network.routing import (
    STATUS_DST_DOWN,
    STATUS_OK,
    STATUS_SAME_ENDPOINT,
    STATUS_SRC_NO_SATELLITE,
    FailureMasks,
    NetworkTopology,
    route_chunk,
    route_graph,
)
from orbitgrid.network.topology import ConstellationIndex, plus_grid_isls


@st.composite
def random_graphs(draw):
    n_sat = draw(st.integers(2, 25))
    n_ep = draw(st.integers(1, 6))
    isl = draw(
        st.lists(
            st.tuples(st.integers(0, n_sat - 1), st.integers(0, n_sat - 1)).filter(
                lambda p: p[0] != p[1]
            ),
            max_size=60,
        )
    )
    isl = sorted({(min(a, b), max(a, b)) for a, b in isl})
    gsl = draw(
        st.lists(st.tuples(st.integers(0, n_ep - 1), st.integers(0, n_sat - 1)), max_size=30)
    )
    gsl = sorted(set(gsl))
    lengths = st.floats(1.0, 5000.0, allow_nan=False)
    isl_len = draw(st.lists(lengths, min_size=len(isl), max_size=len(isl)))
    gsl_len = draw(st.lists(lengths, min_size=len(gsl), max_size=len(gsl)))
    hop_ms = draw(st.sampled_from([0.0, 0.0, 1.0]))
    return n_sat, n_ep, isl, isl_len, gsl, gsl_len, hop_ms


def _networkx_lengths(n_sat, n_ep, isl, isl_len, gsl, gsl_len, hop_km, relay):
    """Reference: networkx Dijkstra on a graph where endpoints are split into source and sink
    copies unless relaying is allowed (so an endpoint can never be an intermediate hop)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n_sat + 2 * n_ep))
    for (a, b), d in zip(isl, isl_len, strict=True):
        g.add_edge(a, b, weight=d + hop_km, length=d)
        g.add_edge(b, a, weight=d + hop_km, length=d)
    for (e, s), d in zip(gsl, gsl_len, strict=True):
        src_copy, sink_copy = n_sat + e, (n_sat + e if relay else n_sat + n_ep + e)
        g.add_edge(src_copy, s, weight=d + hop_km, length=d)
        g.add_edge(s, sink_copy, weight=d + hop_km, length=d)
    out = np.full((n_ep, n_ep), np.nan)
    for src in range(n_ep):
        dist = nx.single_source_dijkstra_path_length(g, n_sat + src, weight="weight")
        for dst in range(n_ep):
            sink = n_sat + dst if relay else n_sat + n_ep + dst
            if src == dst:
                out[src, dst] = 0.0
            elif sink in dist:
                out[src, dst] = dist[sink]
    return out


@settings(max_examples=150, deadline=None)
@given(random_graphs(), st.sampled_from(["isls-only", "ground-relays"]))
def test_shortest_weights_equal_networkx(graph, mode):
    """Property: the shortest path weight (length + hops × per-hop delay) between every pair of
    endpoints equals networkx's Dijkstra on random graphs; tolerance 1e-9 km (rounding only).
    Both backends (numba Dial/heap and scipy csgraph) are checked."""
    n_sat, n_ep, isl, isl_len, gsl, gsl_len, hop_ms = graph
    hop_km = hop_ms * 1e-3 * SPEED_OF_LIGHT_KM_S
    ref = _networkx_lengths(
        n_sat, n_ep, isl, isl_len, gsl, gsl_len, hop_km, mode == "ground-relays"
    )
    pairs = np.array(isl, dtype=np.int64).reshape(-1, 2)
    gsl_arr = np.array(gsl, dtype=np.int64).reshape(-1, 2)
    for backend in ("numba", "scipy"):
        length, hops, _ = route_graph(
            n_sat,
            n_ep,
            pairs,
            np.array(isl_len),
            gsl_arr[:, 0],
            gsl_arr[:, 1],
            np.array(gsl_len),
            mode=mode,
            per_hop_delay_ms=hop_ms,
            backend=backend,
        )
        weight = length + np.maximum(hops, 0) * hop_km
        np.testing.assert_array_equal(np.isnan(weight), np.isnan(ref), err_msg=backend)
        np.testing.assert_allclose(weight, ref, rtol=0, atol=1e-9, err_msg=backend)
        assert np.all((hops >= 0) == ~np.isnan(length))


def _shell(n_planes=12, per_plane=10, altitude_km=1000.0, t_steps=3):
    """A circular Walker-star-like shell placed by hand (ECEF, Earth rotation ignored)."""
    r = WGS72.radius_km + altitude_km
    inc = np.radians(53.0)
    out = np.empty((t_steps, n_planes * per_plane, 3))
    for t in range(t_steps):
        raan = np.repeat(np.arange(n_planes) * 2 * np.pi / n_planes, per_plane)
        u = np.tile(np.arange(per_plane) * 2 * np.pi / per_plane, n_planes) + 0.01 * t
        out[t, :, 0] = r * (np.cos(raan) * np.cos(u) - np.sin(raan) * np.sin(u) * np.cos(inc))
        out[t, :, 1] = r * (np.sin(raan) * np.cos(u) + np.cos(raan) * np.sin(u) * np.cos(inc))
        out[t, :, 2] = r * np.sin(u) * np.sin(inc)
    return out


LAT = np.array([48.85, 40.71, -33.87, 35.69, 1.29, 85.0])
LON = np.array([2.35, -74.0, 151.2, 139.7, 103.85, 0.0])


def _topology(sat_count, **kw):
    defaults = dict(
        n_satellites=sat_count,
        isl_pairs=plus_grid_isls(ConstellationIndex.walker(12, 10)),
        isl_max_range_km=5000.0,
        endpoint_up_unit=local_up_unit(LAT, LON),
        endpoint_min_elevation_deg=np.full(len(LAT), 10.0),
        endpoint_max_range_km=np.full(len(LAT), np.inf),
    )
    defaults.update(kw)
    return NetworkTopology(**defaults)


def test_rtt_never_below_straight_line_light_time():
    """Invariant (DESIGN.md): RTT ≥ 2 × straight-line distance / c for every routed pair, and
    the reported path's links sum to path_length_km (1e-6 km)."""
    sats = _shell()
    ep = geodetic_to_ecef_km(LAT, LON, 0.0, WGS72)
    res = route_chunk(sats, ep, _topology(sats.shape[1], per_hop_delay_ms=0.1))
    straight_km = np.linalg.norm(ep[:, None] - ep[None], axis=-1)
    light_rtt_ms = 2 * straight_km / SPEED_OF_LIGHT_KM_S * 1e3
    ok = res.status == STATUS_OK
    assert ok.sum() > 10
    assert np.all(res.rtt_ms[ok] >= np.broadcast_to(light_rtt_ms, res.rtt_ms.shape)[ok])
    nodes = np.concatenate([sats[0], ep])
    for s, d in [(0, 1), (1, 0), (2, 3)]:
        path = res.path_nodes[0, s, d]
        path = path[path >= 0]
        assert path[0] == sats.shape[1] + s and path[-1] == sats.shape[1] + d
        total = np.linalg.norm(np.diff(nodes[path], axis=0), axis=1).sum()
        assert abs(total - res.path_length_km[0, s, d]) < 1e-6
        assert len(path) - 1 == res.hop_count[0, s, d]


def test_status_codes_and_failures():
    """An endpoint at 85° N sees no satellite of a 53° shell at 10° elevation; an endpoint that
    is scheduled down reports STATUS_DST_DOWN; the diagonal is the same-endpoint status."""
    sats = _shell()
    ep = geodetic_to_ecef_km(LAT, LON, 0.0, WGS72)
    ep_down = np.zeros((sats.shape[0], len(LAT)), bool)
    ep_down[1, 2] = True
    res = route_chunk(sats, ep, _topology(sats.shape[1]), failures=FailureMasks(endpoint=ep_down))
    assert res.status[0, 5, 0] == STATUS_SRC_NO_SATELLITE
    assert np.isnan(res.path_length_km[0, 5, 0]) and res.hop_count[0, 5, 0] == -1
    assert res.status[1, 0, 2] == STATUS_DST_DOWN and np.isnan(res.latency_ms[1, 0, 2])
    assert res.status[0, 0, 2] == STATUS_OK
    assert np.all(res.status[:, np.arange(6), np.arange(6)] == STATUS_SAME_ENDPOINT)


def test_satellite_failure_reroutes_and_never_shortens():
    """Taking the satellites of the best path down gives a path at least as long (more
    constraints cannot shorten a shortest path) that avoids them."""
    sats = _shell(t_steps=1)
    ep = geodetic_to_ecef_km(LAT, LON, 0.0, WGS72)
    topo = _topology(sats.shape[1])
    base = route_chunk(sats, ep, topo)
    path = base.path_nodes[0, 0, 1]
    used = path[(path >= 0) & (path < sats.shape[1])]
    down = np.zeros((1, sats.shape[1]), bool)
    down[0, used[1:-1]] = True
    res = route_chunk(sats, ep, topo, failures=FailureMasks(satellite=down))
    assert res.path_length_km[0, 0, 1] >= base.path_length_km[0, 0, 1]
    assert not np.isin(res.path_nodes[0, 0, 1], used[1:-1]).any()


def test_paths_symmetric_and_changes_counted():
    """Paths are the reverse of each other both ways; path_changed is False at the first step
    and the previous chunk's state carries continuity (changes and paths) across chunks."""
    sats = _shell(t_steps=4)
    ep = geodetic_to_ecef_km(LAT, LON, 0.0, WGS72)
    topo = _topology(sats.shape[1])
    res = route_chunk(sats, ep, topo)
    p01 = res.path_nodes[2, 0, 1]
    p10 = res.path_nodes[2, 1, 0]
    np.testing.assert_array_equal(p01[p01 >= 0][::-1], p10[p10 >= 0])
    assert not res.path_changed[0].any()
    head = route_chunk(sats[:2], ep, topo)
    tail = route_chunk(sats[2:], ep, topo, previous=head.state)
    np.testing.assert_array_equal(tail.path_changed, res.path_changed[2:])
    np.testing.assert_array_equal(tail.path_nodes, res.path_nodes[2:])
    assert repr(res) == "RoutingResult(4 time steps × 6×6 endpoint pairs, 67% of pairs routed)"


def test_nearest_gsl_selection_uses_one_satellite():
    """With gsl_selection='nearest' each endpoint has at most one GSL, and paths can only be
    longer than with any satellite in view."""
    sats = _shell(t_steps=1)
    ep = geodetic_to_ecef_km(LAT, LON, 0.0, WGS72)
    anyv = route_chunk(sats, ep, _topology(sats.shape[1]))
    near = route_chunk(sats, ep, _topology(sats.shape[1], gsl_selection="nearest"))
    assert near.gsl_visible_count.max() <= 1
    ok = ~np.isnan(near.path_length_km)
    assert np.all(near.path_length_km[ok] >= anyv.path_length_km[ok] - 1e-9)


def test_shape_mismatch_is_reported():
    sats = _shell(t_steps=1)
    ep = geodetic_to_ecef_km(LAT[:2], LON[:2], 0.0)
    with pytest.raises(ValueError, match="do not match the topology"):
        route_chunk(sats, ep, _topology(sats.shape[1]))


def test_formation_pattern_links_by_range_each_step():
    """Formation: a line of satellites 50 km apart with a 60 km ISL range is a chain; an
    endpoint under each end routes along the whole chain (hops = satellites + 1)."""
    r = WGS72.radius_km + 550.0
    n = 8
    ang = np.arange(n) * 50.0 / r
    sats = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros(n)], axis=-1)[None]
    lat = np.zeros(2)
    lon = np.degrees([ang[0], ang[-1]])
    ep = geodetic_to_ecef_km(lat, lon, 0.0, WGS72)
    topo = NetworkTopology(
        n_satellites=n,
        isl_pairs=np.zeros((0, 2), np.int64),
        isl_max_range_km=60.0,
        endpoint_up_unit=local_up_unit(lat, lon),
        endpoint_min_elevation_deg=np.full(2, 86.0),
        endpoint_max_range_km=np.full(2, np.inf),
        isl_pattern="formation",
    )
    res = route_chunk(sats, ep, topo)
    assert res.hop_count[0, 0, 1] == n + 1
    expected = 2 * 550.0 + (n - 1) * np.linalg.norm(sats[0, 1] - sats[0, 0])
    assert abs(res.path_length_km[0, 0, 1] - expected) < 1.0
