"""Time-varying shortest-path routing between ground endpoints over a satellite network.

Model (per time step): a graph whose nodes are the satellites ``0..S-1`` followed by the ground
endpoints ``S..S+E-1``. Edges are the ISLs that are up and within ``isl_max_range_km`` and the
ground–satellite links (GSLs) of each endpoint to the satellites it sees (slant range ≤ its
``max_range_km`` and elevation ≥ its ``min_elevation_deg``; or only the nearest one). Edge
weight is the straight-line length in km plus a per-hop processing delay expressed as an
equivalent distance (``per_hop_delay_ms × c``), so the shortest path minimises one-way latency.

Routing modes:

- ``isls-only``: endpoints never relay; every path is ground–sat–…–sat–ground. This is Hypatia's
  ``algorithm_free_one_only_over_isls`` (Kassing et al., "Exploring the 'Internet from space'
  with Hypatia", IMC 2020; satgenpy ``dynamic_state/fstate_calculation.py``), agreement to 1 m
  checked in ``tests/network/test_satgenpy_agreement.py``.
- ``ground-relays``: endpoints may forward (bent pipe through gateways); with ISL pattern
  ``none`` this is satgenpy's ``algorithm_free_one_only_gs_relays``.

Algorithm: one single-source search per source endpoint, compiled with numba, sources in
parallel. The search is Dial's bucketed Dijkstra (R. Dial, CACM 12(11), 1969) with bucket width
just below the shortest edge weight, so every node of the lowest bucket is final and no heap is
needed; a binary heap is used instead when edge weights span more than 4096×. The graph is
undirected, so the search from endpoint ``s`` stops once every endpoint ``t ≥ s`` is settled
and the other triangle is mirrored. Only the E endpoints are sources, never all satellites
(satgenpy runs Floyd–Warshall over all satellites at every step). ``backend="scipy"`` uses
``scipy.sparse.csgraph.dijkstra(indices=...)`` on a graph where each endpoint is split into a
source copy and a sink copy so that it cannot relay; both backends give the same lengths
(tests) and ``benchmarks/bench_network.py`` measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numba as nb
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as _scipy_dijkstra

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S
from orbitgrid.network.topology import formation_isls

RoutingMode = Literal["isls-only", "ground-relays"]
GslSelection = Literal["any-in-view", "nearest"]
Backend = Literal["numba", "scipy"]

# Status of an endpoint pair at one time step. Batch failures are data, not exceptions.
STATUS_OK = 0
STATUS_SAME_ENDPOINT = 1
STATUS_SRC_DOWN = 2
STATUS_DST_DOWN = 3
STATUS_SRC_NO_SATELLITE = 4
STATUS_DST_NO_SATELLITE = 5
STATUS_NO_PATH = 6
STATUS_MESSAGES: dict[int, str] = {
    STATUS_OK: "routed",
    STATUS_SAME_ENDPOINT: "source and destination are the same endpoint (length 0)",
    STATUS_SRC_DOWN: "source endpoint is down (failure schedule)",
    STATUS_DST_DOWN: "destination endpoint is down (failure schedule)",
    STATUS_SRC_NO_SATELLITE: "no satellite in view of the source endpoint",
    STATUS_DST_NO_SATELLITE: "no satellite in view of the destination endpoint",
    STATUS_NO_PATH: "satellites in view at both ends but the network is partitioned between them",
}


@dataclass(frozen=True, eq=False)
class NetworkTopology:
    """Everything static the routing stage needs, already resolved to arrays.

    Attributes
    ----------
    n_satellites : int
    isl_pairs : ``[link, 2]`` int64, satellite ids (a < b); ignored when ``isl_pattern`` is
        ``"formation"`` (links are then found per time step within ``isl_max_range_km``).
    isl_max_range_km : ISLs longer than this are down for that step.
    endpoint_up_unit : ``[endpoint, 3]`` local vertical (ECEF unit vectors) for elevation masks.
    endpoint_min_elevation_deg, endpoint_max_range_km : ``[endpoint]`` GSL visibility limits
        (use 0 / inf to disable one of them).
    mode, gsl_selection : see module docstring.
    per_hop_delay_ms : processing delay added per link traversed.
    """

    n_satellites: int
    isl_pairs: np.ndarray
    isl_max_range_km: float
    endpoint_up_unit: np.ndarray
    endpoint_min_elevation_deg: np.ndarray
    endpoint_max_range_km: np.ndarray
    isl_pattern: Literal["+grid", "none", "formation"] = "+grid"
    mode: RoutingMode = "isls-only"
    gsl_selection: GslSelection = "any-in-view"
    per_hop_delay_ms: float = 0.0

    @property
    def n_endpoints(self) -> int:
        return int(self.endpoint_up_unit.shape[0])

    def __repr__(self) -> str:
        return (
            f"NetworkTopology({self.n_satellites} satellites, {len(self.isl_pairs)} ISLs "
            f"({self.isl_pattern}), {self.n_endpoints} endpoints, mode={self.mode!r})"
        )


@dataclass(frozen=True, eq=False)
class FailureMasks:
    """Elements that are down, ``True`` = down: ``satellite [time, sat]``, ``isl [time, link]``
    (indexing ``NetworkTopology.isl_pairs``), ``endpoint [time, endpoint]``. Any may be None."""

    satellite: np.ndarray | None = None
    isl: np.ndarray | None = None
    endpoint: np.ndarray | None = None


@dataclass(eq=False)
class RoutingResult:
    """Routing outputs for one chunk of time steps; dims ``[time, src, dst]`` over endpoints.

    Attributes
    ----------
    path_length_km : float64, NaN when unreachable. Sum of straight link lengths.
    latency_ms : float64, one way = path_length_km / c + hop_count × per_hop_delay_ms.
    rtt_ms : float64, 2 × latency_ms (the same path both ways; satgenpy's RTT convention).
    hop_count : int16, links on the path, −1 when unreachable.
    status : int8, codes in ``STATUS_MESSAGES``.
    path_nodes : int32 ``[time, src, dst, max_nodes]`` node ids along the path (satellites
        ``0..S-1``, endpoint ``e`` as ``S + e``), padded with −1.
    path_changed : bool, the path differs from the previous step's (False at the first step of
        a run; pass ``previous_path_nodes`` to carry across chunks).
    gsl_visible_count : int32 ``[time, endpoint]`` satellites the endpoint could link to.
    """

    path_length_km: np.ndarray
    latency_ms: np.ndarray
    rtt_ms: np.ndarray
    hop_count: np.ndarray
    status: np.ndarray
    path_nodes: np.ndarray
    path_changed: np.ndarray
    gsl_visible_count: np.ndarray
    n_satellites: int = 0
    extra: dict = field(default_factory=dict)

    def path_changes(self) -> np.ndarray:
        """Number of path changes per pair over the chunk, ``[src, dst]`` int64."""
        return self.path_changed.sum(axis=0)

    def path(self, time_index: int, src: int, dst: int) -> list[tuple[str, int]]:
        """The path as ``[("endpoint", e), ("satellite", s), ..., ("endpoint", e2)]``."""
        nodes = self.path_nodes[time_index, src, dst]
        nodes = nodes[nodes >= 0]
        s = self.n_satellites
        return [("endpoint", int(n) - s) if n >= s else ("satellite", int(n)) for n in nodes]

    def __repr__(self) -> str:
        t, e, _ = self.path_length_km.shape
        off_diag = ~np.eye(e, dtype=bool)
        routed = self.status[:, off_diag] == STATUS_OK
        ok = float(routed.mean()) if routed.size else 0.0
        return f"RoutingResult({t} time steps × {e}×{e} endpoint pairs, {ok:.0%} of pairs routed)"


# --------------------------------------------------------------------------- compiled kernels


@nb.njit(cache=True)
def _gsl_candidates(sat_pos, sat_ok, ep_pos, ep_up, ep_min_sin_el, ep_max_range, ep_ok, nearest):
    """GSL edges (endpoint, sat, length km) visible at one instant; flat arrays."""
    n_ep = ep_pos.shape[0]
    n_sat = sat_pos.shape[0]
    cap = 64 * n_ep + 16
    out_e = np.empty(cap, np.int64)
    out_s = np.empty(cap, np.int64)
    out_d = np.empty(cap, np.float64)
    count = 0
    for e in range(n_ep):
        if not ep_ok[e]:
            continue
        ex, ey, ez = ep_pos[e, 0], ep_pos[e, 1], ep_pos[e, 2]
        ux, uy, uz = ep_up[e, 0], ep_up[e, 1], ep_up[e, 2]
        rmax = ep_max_range[e]
        rmax2 = rmax * rmax
        min_sin = ep_min_sin_el[e]
        best_s = -1
        best_d = np.inf
        for s in range(n_sat):
            if not sat_ok[s]:
                continue
            dx = sat_pos[s, 0] - ex
            dy = sat_pos[s, 1] - ey
            dz = sat_pos[s, 2] - ez
            up = dx * ux + dy * uy + dz * uz
            # Cheap reject: below the horizon when the mask is non-negative.
            if up < 0.0 and min_sin >= 0.0:
                continue
            d2 = dx * dx + dy * dy + dz * dz
            if d2 > rmax2:
                continue
            d = np.sqrt(d2)
            if up < min_sin * d:
                continue
            if nearest:
                if d < best_d:
                    best_d = d
                    best_s = s
                continue
            out_e, out_s, out_d, count = _append_gsl(out_e, out_s, out_d, count, e, s, d)
        if nearest and best_s >= 0:
            out_e, out_s, out_d, count = _append_gsl(out_e, out_s, out_d, count, e, best_s, best_d)
    return out_e[:count], out_s[:count], out_d[:count]


@nb.njit(cache=True)
def _append_gsl(out_e, out_s, out_d, count, e, s, d):
    """Write GSL ``(e, s, d)`` at ``count``, doubling the buffers first when they are full.

    Returns the (possibly new) buffers and ``count + 1``.
    """
    cap = out_e.shape[0]
    if count == cap:
        cap *= 2
        ne = np.empty(cap, np.int64)
        ns = np.empty(cap, np.int64)
        nd = np.empty(cap, np.float64)
        ne[:count] = out_e[:count]
        ns[:count] = out_s[:count]
        nd[:count] = out_d[:count]
        out_e, out_s, out_d = ne, ns, nd
    out_e[count] = e
    out_s[count] = s
    out_d[count] = d
    return out_e, out_s, out_d, count + 1


@nb.njit(cache=True)
def _isl_lengths(sat_pos, isl_pairs, isl_ok, sat_ok, max_range_km):
    """Length km of each ISL, NaN where the link (or either satellite) is down or too long."""
    n = isl_pairs.shape[0]
    out = np.empty(n, np.float64)
    for k in range(n):
        a = isl_pairs[k, 0]
        b = isl_pairs[k, 1]
        if not (isl_ok[k] and sat_ok[a] and sat_ok[b]):
            out[k] = np.nan
            continue
        dx = sat_pos[a, 0] - sat_pos[b, 0]
        dy = sat_pos[a, 1] - sat_pos[b, 1]
        dz = sat_pos[a, 2] - sat_pos[b, 2]
        d = np.sqrt(dx * dx + dy * dy + dz * dz)
        out[k] = d if d <= max_range_km else np.nan
    return out


@nb.njit(cache=True)
def _csr_undirected(n_nodes, a, b, length):
    """Symmetric CSR (indptr, indices, length) from undirected edge lists."""
    deg = np.zeros(n_nodes + 1, np.int64)
    for k in range(a.shape[0]):
        deg[a[k] + 1] += 1
        deg[b[k] + 1] += 1
    indptr = np.cumsum(deg)
    cursor = indptr[:-1].copy()
    m = indptr[-1]
    # int32 node ids halve the memory traffic of the search loops.
    indices = np.empty(m, np.int32)
    lens = np.empty(m, np.float64)
    for k in range(a.shape[0]):
        u = a[k]
        v = b[k]
        indices[cursor[u]] = v
        lens[cursor[u]] = length[k]
        cursor[u] += 1
        indices[cursor[v]] = u
        lens[cursor[v]] = length[k]
        cursor[v] += 1
    return indptr, indices, lens


@nb.njit(cache=True)
def _dijkstra_one(indptr, indices, lens, hop_km, n_sat, n_ep, src_ep, relay, targets, first_target):
    """Dijkstra from endpoint ``src_ep``; returns (dist_weight, length_km, hops, pred) per node.

    Endpoint nodes other than the source are not expanded unless ``relay``. Stops once
    ``targets`` endpoints with index ≥ ``first_target`` are settled.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    length = np.full(n, np.inf)
    hops = np.full(n, -1, np.int64)
    pred = np.full(n, -1, np.int64)
    settled = np.zeros(n, np.bool_)
    cap = indices.shape[0] + 2
    heap_d = np.empty(cap, np.float64)
    heap_n = np.empty(cap, np.int64)
    src = n_sat + src_ep
    dist[src] = 0.0
    length[src] = 0.0
    hops[src] = 0
    heap_d[0] = 0.0
    heap_n[0] = src
    size = 1
    done_eps = 0
    while size > 0:
        d = heap_d[0]
        u = heap_n[0]
        size -= 1
        if size > 0:
            # Sift the last element down from the root.
            ld = heap_d[size]
            ln = heap_n[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and heap_d[c + 1] < heap_d[c]:
                    c += 1
                if heap_d[c] < ld:
                    heap_d[i] = heap_d[c]
                    heap_n[i] = heap_n[c]
                    i = c
                else:
                    break
            heap_d[i] = ld
            heap_n[i] = ln
        if settled[u]:
            continue
        settled[u] = True
        if u >= n_sat:
            if u - n_sat >= first_target:
                done_eps += 1
            if done_eps >= targets:
                break
            if u != src and not relay:
                continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if settled[v]:
                continue
            nd = d + lens[k] + hop_km
            if nd < dist[v]:
                dist[v] = nd
                length[v] = length[u] + lens[k]
                hops[v] = hops[u] + 1
                pred[v] = u
                # Sift up.
                i = size
                size += 1
                while i > 0:
                    p = (i - 1) // 2
                    if heap_d[p] > nd:
                        heap_d[i] = heap_d[p]
                        heap_n[i] = heap_n[p]
                        i = p
                    else:
                        break
                heap_d[i] = nd
                heap_n[i] = v
    return dist, length, hops, pred


@nb.njit(cache=True)
def _dial_one(
    indptr, indices, lens, hop_km, n_sat, src_ep, relay, targets, first_target, delta, pred
):
    """Bucketed Dijkstra (Dial 1969 with bucket width ``delta`` ≤ the shortest edge weight).

    Every node in the lowest non-empty bucket is final (any detour adds at least one edge of
    weight ≥ ``delta``), so buckets replace the heap: O(1) per relaxation. Buckets are a
    circular array over ``max_weight / delta + 2`` slots with linked lists of entries.
    Fills ``pred`` (int32, −1 = none) in place and returns the weighted distances; lengths
    and hop counts are recovered afterwards along the tree (fewer writes in the hot loop).
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred[:] = -1
    settled = np.zeros(n, np.bool_)
    max_w = 0.0
    for k in range(lens.shape[0]):
        if lens[k] > max_w:
            max_w = lens[k]
    n_slots = int((max_w + hop_km) / delta) + 2
    head = np.full(n_slots, -1, np.int32)
    cap = indices.shape[0] + 2
    e_node = np.empty(cap, np.int32)
    e_next = np.empty(cap, np.int32)
    src = n_sat + src_ep
    dist[src] = 0.0
    e_node[0] = src
    e_next[0] = -1
    head[0] = 0
    used = 1
    live = 1
    done_eps = 0
    cur = 0
    finished = False
    while live > 0 and not finished:
        slot = cur % n_slots
        while head[slot] != -1:
            k = head[slot]
            head[slot] = e_next[k]
            live -= 1
            u = e_node[k]
            if settled[u]:
                continue
            settled[u] = True
            if u >= n_sat:
                if u - n_sat >= first_target:
                    done_eps += 1
                if done_eps >= targets:
                    finished = True
                    break
                if u != src and not relay:
                    continue
            d = dist[u]
            for j in range(indptr[u], indptr[u + 1]):
                v = indices[j]
                if settled[v]:
                    continue
                nd = d + lens[j] + hop_km
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    b = int(nd / delta) % n_slots
                    e_node[used] = v
                    e_next[used] = head[b]
                    head[b] = used
                    used += 1
                    live += 1
        cur += 1
    return dist


@nb.njit(parallel=True, cache=True)
def _route_all_sources(indptr, indices, lens, hop_km, n_sat, n_ep, relay, ep_ok, delta):
    """Per source endpoint: length km, hops to each endpoint and the predecessor tree.

    The graph is undirected, so d(s, t) = d(t, s): the search from ``s`` stops once every
    endpoint ``t ≥ s`` is settled and the lower triangle is mirrored (``_extract_paths_into``
    reverses the path). This halves the work on average.
    """
    n = indptr.shape[0] - 1
    out_len = np.full((n_ep, n_ep), np.nan)
    out_hops = np.full((n_ep, n_ep), -1, np.int64)
    out_pred = np.full((n_ep, n), -1, np.int32)
    # Heavy (low index) and light (high index) sources alternate so static chunks balance.
    order = np.empty(n_ep, np.int64)
    lo = 0
    hi = n_ep - 1
    for i in range(n_ep):
        if i % 2 == 0:
            order[i] = lo
            lo += 1
        else:
            order[i] = hi
            hi -= 1
    for i in nb.prange(n_ep):
        src = order[i]
        if not ep_ok[src]:
            continue
        targets = 0
        for e in range(src, n_ep):
            if ep_ok[e]:
                targets += 1
        if delta > 0.0:
            dist = _dial_one(
                indptr,
                indices,
                lens,
                hop_km,
                n_sat,
                src,
                relay,
                targets,
                src,
                delta,
                out_pred[src],
            )
            for dst in range(src, n_ep):
                d = dist[n_sat + dst]
                if np.isfinite(d):
                    h = 0
                    node = n_sat + dst
                    while node != n_sat + src:
                        node = out_pred[src, node]
                        h += 1
                    out_hops[src, dst] = h
                    out_len[src, dst] = d - h * hop_km
        else:
            _, length, hops, pred = _dijkstra_one(
                indptr, indices, lens, hop_km, n_sat, n_ep, src, relay, targets, src
            )
            for dst in range(src, n_ep):
                if np.isfinite(length[n_sat + dst]):
                    out_len[src, dst] = length[n_sat + dst]
                    out_hops[src, dst] = hops[n_sat + dst]
            out_pred[src, :] = pred.astype(np.int32)
    for s in range(n_ep):
        for t in range(s + 1, n_ep):
            out_len[t, s] = out_len[s, t]
            out_hops[t, s] = out_hops[s, t]
    return out_len, out_hops, out_pred


@nb.njit(cache=True)
def _extract_paths_into(out, pred, hops, n_sat):
    """Write forward node lists into ``out [src, dst, width]`` (already −1) from the trees.

    Trees exist for the upper triangle (src ≤ dst); the lower triangle is the reversed path.
    """
    n_ep = hops.shape[0]
    for s in range(n_ep):
        for t in range(s, n_ep):
            h = hops[s, t]
            if h < 0:
                continue
            node = n_sat + t
            for i in range(h, -1, -1):
                out[s, t, i] = node
                out[t, s, h - i] = node
                node = pred[s, node]


@nb.njit(cache=True)
def _paths_differ(a, b):
    """``[src, dst]`` True where the −1-padded node lists differ (widths may differ)."""
    n_ep = a.shape[0]
    w = min(a.shape[2], b.shape[2])
    out = np.zeros((n_ep, n_ep), np.bool_)
    for s in range(n_ep):
        for t in range(n_ep):
            for k in range(max(a.shape[2], b.shape[2])):
                x = a[s, t, k] if k < a.shape[2] else -1
                y = b[s, t, k] if k < b.shape[2] else -1
                if x != y:
                    out[s, t] = True
                    break
                if x == -1 and k >= w:
                    break
    return out


# --------------------------------------------------------------------------- public API


def _scipy_route(n_sat, n_ep, ea, eb, elen, gsl_e, gsl_s, gsl_d, hop_km, relay, ep_ok):
    """scipy.sparse.csgraph backend; endpoints split into source/sink copies unless relaying.

    Returns (length km, hops); no predecessor trees (paths come from the numba backend).
    """
    w_isl = elen + hop_km
    w_gsl = gsl_d + hop_km
    if relay:
        n = n_sat + n_ep
        rows = np.concatenate([ea, eb, gsl_s, n_sat + gsl_e])
        cols = np.concatenate([eb, ea, n_sat + gsl_e, gsl_s])
        w = np.concatenate([w_isl, w_isl, w_gsl, w_gsl])
        sink0 = n_sat
    else:
        # Source copy → satellite and satellite → sink copy only: an endpoint cannot relay.
        n = n_sat + 2 * n_ep
        rows = np.concatenate([ea, eb, n_sat + gsl_e, gsl_s])
        cols = np.concatenate([eb, ea, gsl_s, n_sat + n_ep + gsl_e])
        w = np.concatenate([w_isl, w_isl, w_gsl, w_gsl])
        sink0 = n_sat + n_ep
    graph = csr_matrix((w, (rows, cols)), shape=(n, n))
    src = np.flatnonzero(ep_ok)
    length = np.full((n_ep, n_ep), np.nan)
    hops = np.full((n_ep, n_ep), -1, np.int64)
    if src.size:
        dist, pred = _scipy_dijkstra(
            graph, directed=True, indices=n_sat + src, return_predecessors=True
        )
        h = _hops_to_sinks(pred, n_sat + src, sink0, n_ep)
        d = dist[:, sink0 : sink0 + n_ep]
        hops[src] = h
        length[src] = np.where(np.isfinite(d), d - np.maximum(h, 0) * hop_km, np.nan)
        length[src, src] = 0.0
        hops[src, src] = 0
    return length, hops


@nb.njit(cache=True)
def _hops_to_sinks(pred, src_nodes, sink0, n_ep):
    """Links on each scipy shortest path: walk predecessors (−9999 = none) back to the source."""
    hops = np.full((src_nodes.shape[0], n_ep), -1, np.int64)
    for i in range(src_nodes.shape[0]):
        for t in range(n_ep):
            node = sink0 + t
            h = 0
            while node >= 0 and node != src_nodes[i]:
                node = pred[i, node]
                h += 1
            if node == src_nodes[i]:
                hops[i, t] = h
    return hops


def _bucket_width(lens: np.ndarray, hop_km: float) -> float:
    """Bucket width for ``_dial_one``: just under the shortest edge weight; 0 selects the heap.

    The heap is used when buckets would be too many (very short links, e.g. close formations),
    where scanning empty buckets would cost more than heap operations.
    """
    if lens.size == 0:
        return 0.0
    w_min = float(lens.min()) + hop_km
    w_max = float(lens.max()) + hop_km
    if w_min <= 0.0 or w_max / w_min > 4096.0:
        return 0.0
    return w_min * (1.0 - 1e-9)


def route_graph(
    n_satellites: int,
    n_endpoints: int,
    isl_pairs: np.ndarray,
    isl_length_km: np.ndarray,
    gsl_endpoint: np.ndarray,
    gsl_satellite: np.ndarray,
    gsl_length_km: np.ndarray,
    *,
    mode: RoutingMode = "isls-only",
    per_hop_delay_ms: float = 0.0,
    endpoint_up: np.ndarray | None = None,
    backend: Backend = "numba",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Shortest paths between all endpoints on a graph given by its link lengths.

    The routing core, separated from geometry so it can be checked on any graph (networkx
    property tests, satgenpy's own link lengths). Links: ISLs ``isl_pairs [link, 2]`` with
    ``isl_length_km [link]``, GSLs ``(gsl_endpoint, gsl_satellite, gsl_length_km) [gsl]``; all
    usable (filter down links before). Returns ``path_length_km [src, dst]`` (NaN unreachable),
    ``hop_count [src, dst]`` (−1) and, for the numba backend, predecessor trees
    ``[src, node]`` (upper triangle src ≤ dst valid, see ``_extract_paths_into``).
    """
    n_sat = int(n_satellites)
    n_ep = int(n_endpoints)
    ep_ok = np.ones(n_ep, np.bool_) if endpoint_up is None else np.asarray(endpoint_up, bool)
    isl_pairs = np.asarray(isl_pairs, np.int64).reshape(-1, 2)
    elen = np.asarray(isl_length_km, np.float64)
    gsl_e = np.asarray(gsl_endpoint, np.int64)
    gsl_s = np.asarray(gsl_satellite, np.int64)
    gsl_d = np.asarray(gsl_length_km, np.float64)
    hop_km = per_hop_delay_ms * 1e-3 * SPEED_OF_LIGHT_KM_S
    relay = mode == "ground-relays"
    if backend == "scipy":
        length, hops = _scipy_route(
            n_sat,
            n_ep,
            isl_pairs[:, 0],
            isl_pairs[:, 1],
            elen,
            gsl_e,
            gsl_s,
            gsl_d,
            hop_km,
            relay,
            ep_ok,
        )
        return length, hops, None
    a = np.concatenate([isl_pairs[:, 0], gsl_s])
    b = np.concatenate([isl_pairs[:, 1], n_sat + gsl_e])
    lens = np.concatenate([elen, gsl_d])
    indptr, indices, csr_len = _csr_undirected(n_sat + n_ep, a, b, lens)
    length, hops, pred = _route_all_sources(
        indptr, indices, csr_len, hop_km, n_sat, n_ep, relay, ep_ok, _bucket_width(lens, hop_km)
    )
    return length, hops, pred


def route_step(
    sat_ecef_km: np.ndarray,
    endpoint_ecef_km: np.ndarray,
    topology: NetworkTopology,
    *,
    satellite_down: np.ndarray | None = None,
    isl_down: np.ndarray | None = None,
    endpoint_down: np.ndarray | None = None,
    backend: Backend = "numba",
) -> dict[str, np.ndarray]:
    """Route all endpoint pairs at one instant.

    Parameters
    ----------
    sat_ecef_km : ``[sat, 3]`` float64 km, ECEF. endpoint_ecef_km : ``[endpoint, 3]`` km.
    topology : static topology. satellite_down / isl_down / endpoint_down : optional bool masks.
    backend : ``"numba"`` (default, early-stopping parallel Dijkstra) or ``"scipy"``.

    Returns
    -------
    dict with ``path_length_km [src, dst]`` (NaN unreachable), ``hop_count [src, dst]`` (−1),
    ``pred [src, node]`` (predecessor trees, numba backend), ``gsl_visible_count [endpoint]``,
    ``isl_length_km [link]`` (NaN when down).
    """
    topo = topology
    n_sat = topo.n_satellites
    n_ep = topo.n_endpoints
    sat_ok = np.ones(n_sat, np.bool_) if satellite_down is None else ~satellite_down
    ep_ok = np.ones(n_ep, np.bool_) if endpoint_down is None else ~endpoint_down
    if topo.isl_pattern == "formation":
        pairs = formation_isls(sat_ecef_km, topo.isl_max_range_km)
        isl_ok = np.ones(len(pairs), np.bool_)
    else:
        pairs = topo.isl_pairs
        isl_ok = np.ones(len(pairs), np.bool_) if isl_down is None else ~isl_down
    isl_len = _isl_lengths(sat_ecef_km, pairs, isl_ok, sat_ok, topo.isl_max_range_km)
    up = ~np.isnan(isl_len)
    min_sin = np.sin(np.radians(topo.endpoint_min_elevation_deg))
    gsl_e, gsl_s, gsl_d = _gsl_candidates(
        sat_ecef_km,
        sat_ok,
        endpoint_ecef_km,
        topo.endpoint_up_unit,
        min_sin,
        topo.endpoint_max_range_km,
        ep_ok,
        topo.gsl_selection == "nearest",
    )
    length, hops, pred = route_graph(
        n_sat,
        n_ep,
        pairs[up],
        isl_len[up],
        gsl_e,
        gsl_s,
        gsl_d,
        mode=topo.mode,
        per_hop_delay_ms=topo.per_hop_delay_ms,
        endpoint_up=ep_ok,
        backend=backend,
    )
    return {
        "path_length_km": length,
        "hop_count": hops,
        "pred": pred,
        "gsl_visible_count": np.bincount(gsl_e, minlength=n_ep).astype(np.int32),
        "isl_length_km": isl_len,
    }


def route_chunk(
    sat_ecef_km: np.ndarray,
    endpoint_ecef_km: np.ndarray,
    topology: NetworkTopology,
    *,
    failures: FailureMasks | None = None,
    previous_path_nodes: np.ndarray | None = None,
    backend: Backend = "numba",
) -> RoutingResult:
    """The network stage: route every endpoint pair at every time step of a chunk.

    A pure function of its inputs. Loops over time steps in Python, each step one compiled
    graph build and one compiled multi-source Dijkstra (no Python loop over satellites).

    Parameters
    ----------
    sat_ecef_km : ``[time, sat, 3]`` float64 km, ECEF (WGS72 frame for SGP4 output).
    endpoint_ecef_km : ``[endpoint, 3]`` float64 km, ECEF (``geometry.geodetic_to_ecef_km``).
    topology : ``NetworkTopology`` (``build.build_topology`` makes one from the scenario).
    failures : optional ``FailureMasks`` over this chunk's time steps.
    previous_path_nodes : ``[src, dst, k]`` paths at the step before this chunk, so that
        ``path_changed`` is continuous across chunks.
    backend : ``"numba"`` or ``"scipy"`` (same lengths; numba is faster, see benchmarks).

    Returns
    -------
    RoutingResult with ``[time, src, dst]`` arrays (see its docstring for units).
    """
    sat_ecef_km = np.ascontiguousarray(sat_ecef_km, dtype=np.float64)
    endpoint_ecef_km = np.ascontiguousarray(endpoint_ecef_km, dtype=np.float64)
    n_t = sat_ecef_km.shape[0]
    n_sat = topology.n_satellites
    n_ep = topology.n_endpoints
    if sat_ecef_km.shape[1:] != (n_sat, 3) or endpoint_ecef_km.shape != (n_ep, 3):
        raise ValueError(
            f"positions {sat_ecef_km.shape} / {endpoint_ecef_km.shape} do not match the topology "
            f"({n_sat} satellites, {n_ep} endpoints)"
        )
    fail = failures or FailureMasks()
    length = np.full((n_t, n_ep, n_ep), np.nan)
    hops = np.full((n_t, n_ep, n_ep), -1, np.int16)
    visible = np.zeros((n_t, n_ep), np.int32)
    path_nodes = np.full((n_t, n_ep, n_ep, 1), -1, np.int32)
    changed = np.zeros((n_t, n_ep, n_ep), np.bool_)
    prev = None if previous_path_nodes is None else np.asarray(previous_path_nodes, np.int32)
    for t in range(n_t):
        step = route_step(
            sat_ecef_km[t],
            endpoint_ecef_km,
            topology,
            satellite_down=None if fail.satellite is None else fail.satellite[t],
            isl_down=None if fail.isl is None else fail.isl[t],
            endpoint_down=None if fail.endpoint is None else fail.endpoint[t],
            backend=backend,
        )
        length[t] = step["path_length_km"]
        hops[t] = step["hop_count"]
        visible[t] = step["gsl_visible_count"]
        if backend != "numba":
            continue
        need = int(max(step["hop_count"].max(), 0)) + 1
        if need > path_nodes.shape[3]:
            # Grow with head-room so that the chunk array is rarely reallocated.
            wider = np.full((n_t, n_ep, n_ep, need + 4), -1, np.int32)
            wider[..., : path_nodes.shape[3]] = path_nodes
            path_nodes = wider
        _extract_paths_into(path_nodes[t], step["pred"], step["hop_count"], n_sat)
        if t > 0:
            changed[t] = _paths_differ(path_nodes[t], path_nodes[t - 1])
        elif prev is not None:
            changed[t] = _paths_differ(path_nodes[t], prev)
    hop_km_ms = topology.per_hop_delay_ms
    latency_ms = length / SPEED_OF_LIGHT_KM_S * 1e3 + np.where(hops >= 0, hops, 0) * hop_km_ms
    status = _status(length, visible, fail, n_t, n_ep)
    return RoutingResult(
        path_length_km=length,
        latency_ms=latency_ms,
        rtt_ms=2.0 * latency_ms,
        hop_count=hops,
        status=status,
        path_nodes=path_nodes,
        path_changed=changed,
        gsl_visible_count=visible,
        n_satellites=n_sat,
    )


def _status(length, visible, fail, n_t, n_ep) -> np.ndarray:
    status = np.full((n_t, n_ep, n_ep), STATUS_OK, np.int8)
    status[np.isnan(length)] = STATUS_NO_PATH
    no_sat = visible == 0
    status[no_sat[:, None, :] & np.isnan(length)] = STATUS_DST_NO_SATELLITE
    status[no_sat[:, :, None] & np.isnan(length)] = STATUS_SRC_NO_SATELLITE
    if fail.endpoint is not None:
        shape = (n_t, n_ep, n_ep)
        status[np.broadcast_to(fail.endpoint[:, None, :], shape)] = STATUS_DST_DOWN
        status[np.broadcast_to(fail.endpoint[:, :, None], shape)] = STATUS_SRC_DOWN
    diag = np.arange(n_ep)
    status[:, diag, diag] = STATUS_SAME_ENDPOINT
    return status
