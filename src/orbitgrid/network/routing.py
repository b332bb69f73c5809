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

Algorithm, per chunk of time steps: the GSLs of every step come from one compiled search
culled by z bins (``gsl.py``); then one compiled call walks the steps in order and, per step,
builds the CSR of that step's links and runs one single-source search per source endpoint,
sources in parallel (``search.py``: Dial's bucketed Dijkstra, or a binary heap when edge
weights span more than 4096×). Only the E endpoints are sources, never all satellites
(satgenpy runs Floyd–Warshall over all satellites at every step). As the graph is undirected
each pair needs one search, from whichever end comes first in a processing order chosen once
per run (``search_order``), and a search stops once the linked endpoints later in that order
are settled; the other triangle is mirrored. Each pair's path is then walked back once for
its hop count, length, slowest link (the path's rate) and a 64-bit hash of its nodes; a pair
whose hash differs from the previous step's has changed path, and only then is its node list
stored (``PathChanges``), so memory does not grow with pairs × steps × hops.
``backend="scipy"`` uses ``scipy.sparse.csgraph.dijkstra(indices=...)`` on a graph where each
endpoint is split into a source copy and a sink copy so that it cannot relay; both backends
give the same lengths (tests) and ``benchmarks/bench_network.py`` measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numba as nb
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as _scipy_dijkstra

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S
from orbitgrid.network.gsl import gsl_links
from orbitgrid.network.search import bucket_plan, dial_search, heap_search, step_csr
from orbitgrid.network.topology import InterShellLinks, cross_shell_links, formation_isls

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
    STATUS_SRC_NO_SATELLITE: "no usable satellite in view of the source endpoint",
    STATUS_DST_NO_SATELLITE: "no usable satellite in view of the destination endpoint",
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
    inter_shell : laser links between shells found at each step (``topology.InterShellLinks``;
        not subject to ``isl`` failures), None without.
    isl_rate_bps : data rate of every ISL. gsl_rate_bps : rate of every GSL unless
        ``gsl_rate_model`` (an object with ``rate_bps(endpoint, range_km, elevation_deg)``
        over ``[link]`` arrays, e.g. ``link_rates.GslRateModel``) gives it per link.
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
    isl_rate_bps: float = 100e9
    gsl_rate_bps: float = 1e9
    gsl_rate_model: Any = None
    inter_shell: InterShellLinks | None = None

    @property
    def n_endpoints(self) -> int:
        return int(self.endpoint_up_unit.shape[0])

    @cached_property
    def search_rank(self) -> np.ndarray:
        """Processing order of the endpoints' searches (``search_order``), computed once."""
        return search_order(self.endpoint_up_unit)

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
    path_changed : bool, the path differs from the previous step's (False at the first step of
        a run; pass ``previous=`` the last chunk's ``state`` to carry it across chunks).
    gsl_visible_count : int32 ``[time, endpoint]`` satellites the endpoint could link to.
    path_rate_bps : float64, rate of the path's slowest link (NaN when unreachable or src = dst).
    changes : every path change in the chunk with its new node list (``PathChanges``).
    initial_state, state : the paths before the first and after the last step (``PathState``).
    gsl : the chunk's ground–satellite links with range, elevation and rate (``GslLinks``).
    isl_length_km : ``[time, link]`` length of each ``topology.isl_pairs`` link, NaN when down
        (None for ``formation`` ISLs, which change from step to step).
    """

    path_length_km: np.ndarray
    latency_ms: np.ndarray
    rtt_ms: np.ndarray
    hop_count: np.ndarray
    status: np.ndarray
    path_changed: np.ndarray
    gsl_visible_count: np.ndarray
    path_rate_bps: np.ndarray
    changes: PathChanges
    initial_state: PathState
    state: PathState
    gsl: GslLinks
    isl_length_km: np.ndarray | None = None
    n_satellites: int = 0
    extra: dict = field(default_factory=dict)

    def path_changes(self) -> np.ndarray:
        """Number of path changes per pair over the chunk, ``[src, dst]`` int64."""
        return self.path_changed.sum(axis=0)

    def path_node_ids(self, time_index: int, src: int, dst: int) -> np.ndarray:
        """Node ids along the path at one step (satellites ``0..S-1``, endpoint ``e`` as
        ``S + e``), source first; empty when there is no path."""
        n_t = self.path_length_km.shape[0]
        if not 0 <= time_index < n_t:
            raise IndexError(f"time index {time_index} outside the chunk's {n_t} steps")
        lo, hi = min(src, dst), max(src, dst)
        if lo == hi:
            ok = not np.isnan(self.path_length_km[time_index, lo, lo])
            return np.array([self.n_satellites + lo] if ok else [], np.int32)
        ch = self.changes
        hit = np.flatnonzero((ch.src == lo) & (ch.dst == hi) & (ch.step <= time_index))
        nodes = ch.nodes_of(int(hit[-1])) if hit.size else self.initial_state.pair_nodes(lo, hi)
        return nodes if src < dst else nodes[::-1]

    def path(self, time_index: int, src: int, dst: int) -> list[tuple[str, int]]:
        """The path as ``[("endpoint", e), ("satellite", s), ..., ("endpoint", e2)]``."""
        s = self.n_satellites
        return [
            ("endpoint", int(n) - s) if n >= s else ("satellite", int(n))
            for n in self.path_node_ids(time_index, src, dst)
        ]

    @property
    def path_nodes(self) -> np.ndarray:
        """Dense ``[time, src, dst, hop]`` node ids, padded with −1 (for small results and
        tests: it is pairs × steps × hops large; the engine keeps only ``changes``)."""
        n_t, n_ep, _ = self.path_length_km.shape
        width = int(max(self.hop_count.max(initial=-1), 0)) + 1
        out = np.full((n_t, n_ep, n_ep, width), -1, np.int32)
        for t in range(n_t):
            for s in range(n_ep):
                for d in range(n_ep):
                    nodes = self.path_node_ids(t, s, d)
                    out[t, s, d, : len(nodes)] = nodes
        return out

    def __repr__(self) -> str:
        t, e, _ = self.path_length_km.shape
        off_diag = ~np.eye(e, dtype=bool)
        routed = self.status[:, off_diag] == STATUS_OK
        ok = float(routed.mean()) if routed.size else 0.0
        return f"RoutingResult({t} time steps × {e}×{e} endpoint pairs, {ok:.0%} of pairs routed)"


# --------------------------------------------------------------------------- path bookkeeping

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@dataclass(frozen=True, eq=False)
class PathState:
    """The path of every endpoint pair at one step, carried from one chunk to the next.

    ``hash [src, dst]`` uint64 identifies each upper-triangle pair's node sequence (FNV-1a
    style, one 64-bit node id per round, lowest bit forced to 1; 0 = no path), so a change
    is one comparison; ``offsets [src * E + dst + 1]`` and ``nodes`` hold the node lists
    themselves (upper triangle, source first) so that ``RoutingResult.path`` can answer for
    pairs that did not change within a chunk.
    """

    hash: np.ndarray
    offsets: np.ndarray
    nodes: np.ndarray

    @classmethod
    def empty(cls, n_endpoints: int) -> PathState:
        return cls(
            hash=np.zeros((n_endpoints, n_endpoints), np.uint64),
            offsets=np.zeros(n_endpoints * n_endpoints + 1, np.int64),
            nodes=np.zeros(0, np.int32),
        )

    def pair_nodes(self, src: int, dst: int) -> np.ndarray:
        e = self.hash.shape[0]
        k = src * e + dst
        return self.nodes[self.offsets[k] : self.offsets[k + 1]]


@dataclass(frozen=True, eq=False)
class PathChanges:
    """Every change of a pair's path within a chunk (upper triangle ``src < dst``), in step
    order: ``step``, ``src``, ``dst`` ``[change]`` and the new node list of change ``k`` in
    ``nodes[offsets[k]:offsets[k + 1]]`` (source first; empty = no path)."""

    step: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    offsets: np.ndarray
    nodes: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def nodes_of(self, k: int) -> np.ndarray:
        return self.nodes[self.offsets[k] : self.offsets[k + 1]]


@dataclass(frozen=True, eq=False)
class GslLinks:
    """The GSLs of a chunk: step ``t``'s links are rows ``offsets[t]:offsets[t + 1]`` of
    ``endpoint``, ``satellite``, ``range_km``, ``elevation_deg`` and ``rate_bps``."""

    offsets: np.ndarray
    endpoint: np.ndarray
    satellite: np.ndarray
    range_km: np.ndarray
    elevation_deg: np.ndarray
    rate_bps: np.ndarray

    @cached_property
    def step_index(self) -> np.ndarray:
        """Step of every link (``[link]``), computed once (routing and the contact log use
        it)."""
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))


# --------------------------------------------------------------------------- compiled chunk


@nb.njit(cache=True)
def _isl_lengths(sat_pos, isl_pairs, isl_down, sat_down, max_range_km):
    """``[time, link]`` length km of each ISL, NaN where it (or an end) is down or too long."""
    n_t = sat_pos.shape[0]
    n = isl_pairs.shape[0]
    out = np.empty((n_t, n))
    for t in range(n_t):
        for k in range(n):
            a = isl_pairs[k, 0]
            b = isl_pairs[k, 1]
            if isl_down[t, k] or sat_down[t, a] or sat_down[t, b]:
                out[t, k] = np.nan
                continue
            dx = sat_pos[t, a, 0] - sat_pos[t, b, 0]
            dy = sat_pos[t, a, 1] - sat_pos[t, b, 1]
            dz = sat_pos[t, a, 2] - sat_pos[t, b, 2]
            d = np.sqrt(dx * dx + dy * dy + dz * dz)
            out[t, k] = d if d <= max_range_km else np.nan
    return out


@nb.njit(cache=True)
def _grow(buffer, need):
    """``buffer``, or a copy at least twice as long when ``need`` exceeds it."""
    if need <= buffer.shape[0]:
        return buffer
    bigger = np.empty(max(need, 2 * buffer.shape[0]), buffer.dtype)
    bigger[: buffer.shape[0]] = buffer
    return bigger


@nb.njit(parallel=True, cache=True)
def _route_steps(
    n_sat,
    n_ep,
    isl_off,
    isl_a,
    isl_b,
    isl_len,
    isl_rate,
    gsl_off,
    gsl_e,
    gsl_s,
    gsl_len,
    gsl_rate,
    ep_ok,
    hop_km,
    relay,
    rank,
    state_hash,
    out_len,
    out_hops,
    out_rate,
    out_changed,
):
    """Route all endpoint pairs at every step of a chunk; steps in order, sources in parallel.

    Per step: the symmetric CSR of that step's links, then one search per source endpoint,
    only towards linked endpoints later in the processing order ``rank`` (the graph is
    undirected, so each pair needs one search: from whichever end comes first). Each pair's
    path is walked back once for its hops, length, slowest link and hash, written to the upper
    triangle ``[lo, hi]``. Serially: a pair whose hash differs from ``state_hash`` (updated in
    place) has changed, and its node list (``lo`` first) is appended to the change log; the
    lower triangle is mirrored. Returns the log as flat arrays.
    """
    n_t = out_len.shape[0]
    n = n_sat + n_ep
    max_edges = 0
    for t in range(n_t):
        links = (isl_off[t + 1] - isl_off[t]) + (gsl_off[t + 1] - gsl_off[t])
        max_edges = max(max_edges, 2 * links)
    dist = np.empty((n_ep, n))
    settled = np.zeros((n_ep, n), np.bool_)
    slots = np.empty((n_ep, 64), np.int32)
    entry_node = np.empty((n_ep, max_edges + 2), np.int32)
    entry_next = np.empty((n_ep, max_edges + 2), np.int32)
    pred = np.empty((n_ep, n), np.int32)
    new_hash = np.zeros((n_ep, n_ep), np.uint64)
    # Sources by rank, heavy (early: many targets) and light alternating, so that static
    # chunks of the parallel loop balance.
    by_rank = np.argsort(rank)
    order = np.empty(n_ep, np.int64)
    lo, hi = 0, n_ep - 1
    for i in range(n_ep):
        if i % 2 == 0:
            order[i] = by_rank[lo]
            lo += 1
        else:
            order[i] = by_rank[hi]
            hi -= 1
    ch_step = np.empty(1024, np.int64)
    ch_src = np.empty(1024, np.int64)
    ch_dst = np.empty(1024, np.int64)
    ch_off = np.zeros(1025, np.int64)
    pool = np.empty(16384, np.int32)
    n_ch = 0
    for t in range(n_t):
        indptr, head, tail, weight, length, rate = step_csr(
            t, n_sat, n_ep, isl_off, isl_a, isl_b, isl_len, isl_rate, gsl_off, gsl_e, gsl_s,
            gsl_len, gsl_rate, hop_km,
        )  # fmt: skip
        inv_width, mask = bucket_plan(weight)
        if mask + 1 > slots.shape[1]:
            slots = np.empty((n_ep, mask + 1), np.int32)
        # Endpoints worth waiting for: up and linked to at least one satellite.
        linked = np.zeros(n_ep, np.bool_)
        for e in range(n_ep):
            linked[e] = ep_ok[t, e] and indptr[n_sat + e + 1] > indptr[n_sat + e]
        new_hash[:] = 0
        for i in nb.prange(n_ep):
            src = order[i]
            if not linked[src]:
                continue
            targets = 0
            for e in range(n_ep):
                if linked[e] and rank[e] >= rank[src]:
                    targets += 1
            scratch = (
                dist[src],
                settled[src],
                slots[src],
                entry_node[src],
                entry_next[src],
                pred[src],
            )
            if mask > 0:
                dial_search(
                    indptr, head, weight, n_sat, n_sat + src, relay, targets, rank, inv_width,
                    mask, scratch,
                )  # fmt: skip
            else:
                heap_search(indptr, head, weight, n_sat, n_sat + src, relay, targets, rank, scratch)
            row = pred[src]
            for dst in range(n_ep):
                if dst == src or rank[dst] < rank[src] or row[n_sat + dst] < 0:
                    continue
                node = n_sat + dst
                hops = 0
                total_km = 0.0
                slowest = np.inf
                h = _FNV_OFFSET
                while node != n_sat + src:
                    j = row[node]
                    total_km += length[j]
                    slowest = min(slowest, rate[j])
                    h = (h ^ np.uint64(node)) * _FNV_PRIME
                    node = tail[j]
                    hops += 1
                h = (h ^ np.uint64(node)) * _FNV_PRIME
                p, q = min(src, dst), max(src, dst)
                out_len[t, p, q] = total_km
                out_hops[t, p, q] = hops
                out_rate[t, p, q] = slowest
                new_hash[p, q] = h | np.uint64(1)  # never 0, which means "no path"
        # Serial: compare, log changes, mirror the lower triangle.
        for p in range(n_ep):
            for q in range(p + 1, n_ep):
                out_len[t, q, p] = out_len[t, p, q]
                out_hops[t, q, p] = out_hops[t, p, q]
                out_rate[t, q, p] = out_rate[t, p, q]
                if new_hash[p, q] == state_hash[p, q]:
                    continue
                state_hash[p, q] = new_hash[p, q]
                out_changed[t, p, q] = True
                out_changed[t, q, p] = True
                hops = out_hops[t, p, q] if new_hash[p, q] != 0 else -1
                ch_step = _grow(ch_step, n_ch + 1)
                ch_src = _grow(ch_src, n_ch + 1)
                ch_dst = _grow(ch_dst, n_ch + 1)
                ch_off = _grow(ch_off, n_ch + 2)
                start = ch_off[n_ch]
                pool = _grow(pool, start + hops + 1)
                ch_step[n_ch] = t
                ch_src[n_ch] = p
                ch_dst[n_ch] = q
                # Walk from the far end of the search that found the pair: from q when the
                # search started at p (fill backwards), from p when it started at q.
                origin, other = (p, q) if rank[p] < rank[q] else (q, p)
                node = n_sat + other
                for k in range(hops + 1):
                    at = start + (hops - k if origin == p else k)
                    pool[at] = node
                    if k < hops:
                        node = tail[pred[origin, node]]
                ch_off[n_ch + 1] = start + hops + 1
                n_ch += 1
    return ch_step[:n_ch], ch_src[:n_ch], ch_dst[:n_ch], ch_off[: n_ch + 1], pool[: ch_off[n_ch]]


def search_order(endpoint_up_unit: np.ndarray, candidates: int = 256) -> np.ndarray:
    """Rank of each endpoint in the order its searches run (``_route_steps``).

    The search from an endpoint must reach its farthest endpoint later in the order, so the
    work of a step grows with Σ over endpoints of the area of that ball. Sorting endpoints
    along a direction keeps each one's later endpoints on one side; of ``candidates``
    directions spread over the sphere (Fibonacci lattice), the one with the smallest
    Σ (1 − cos of the largest angle to a later endpoint) is kept. On Starlink shell 1 with the
    100 largest cities this cuts the nodes settled per step from 68 % to about 40 % of
    (endpoints × nodes) (benchmarks/README.md). The order changes only the work, never the
    paths' lengths.
    """
    up = np.asarray(endpoint_up_unit, dtype=np.float64)
    n_ep = up.shape[0]
    if n_ep < 3:
        return np.arange(n_ep)
    k = np.arange(candidates) + 0.5
    polar = np.arccos(1.0 - 2.0 * k / candidates)
    azimuth = np.pi * (1.0 + 5.0**0.5) * k
    directions = np.stack(
        [np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)], axis=1
    )
    cosine = np.clip(up @ up.T, -1.0, 1.0)
    later = np.triu(np.ones((n_ep, n_ep), bool), k=1)
    best_cost, best_rank = np.inf, np.arange(n_ep)
    for direction in directions:
        order = np.argsort(up @ direction, kind="stable")
        reach = np.where(later, cosine[np.ix_(order, order)], 1.0).min(axis=1)
        cost = float(np.sum(1.0 - reach))
        if cost < best_cost:
            best_cost = cost
            best_rank = np.empty(n_ep, np.int64)
            best_rank[order] = np.arange(n_ep)
    return best_rank


@nb.njit(cache=True)
def _advance_state(n_ep, offsets, nodes, ch_src, ch_dst, ch_off, pool):
    """Node lists of every pair after a chunk: each pair's last change, else its old list."""
    last = np.full(n_ep * n_ep, -1, np.int64)
    for k in range(ch_src.shape[0]):
        last[ch_src[k] * n_ep + ch_dst[k]] = k
    new_off = np.zeros(n_ep * n_ep + 1, np.int64)
    for p in range(n_ep * n_ep):
        k = last[p]
        size = ch_off[k + 1] - ch_off[k] if k >= 0 else offsets[p + 1] - offsets[p]
        new_off[p + 1] = new_off[p] + size
    new_nodes = np.empty(new_off[-1], np.int32)
    for p in range(n_ep * n_ep):
        k = last[p]
        if k >= 0:
            new_nodes[new_off[p] : new_off[p + 1]] = pool[ch_off[k] : ch_off[k + 1]]
        else:
            new_nodes[new_off[p] : new_off[p + 1]] = nodes[offsets[p] : offsets[p + 1]]
    return new_off, new_nodes


@nb.njit(cache=True)
def _flatten_links(lengths, pairs):
    """Per-step lists of the links that are up (``lengths [time, link]``, NaN = down)."""
    n_t, n_l = lengths.shape
    off = np.zeros(n_t + 1, np.int64)
    for t in range(n_t):
        c = 0
        for k in range(n_l):
            if not np.isnan(lengths[t, k]):
                c += 1
        off[t + 1] = off[t] + c
    a = np.empty(off[n_t], np.int64)
    b = np.empty(off[n_t], np.int64)
    d = np.empty(off[n_t])
    i = 0
    for t in range(n_t):
        for k in range(n_l):
            if not np.isnan(lengths[t, k]):
                a[i] = pairs[k, 0]
                b[i] = pairs[k, 1]
                d[i] = lengths[t, k]
                i += 1
    return off, a, b, d


# --------------------------------------------------------------------------- public API


def _scipy_route(n_sat, n_ep, ea, eb, elen, gsl_e, gsl_s, gsl_d, hop_km, relay, ep_ok):
    """scipy.sparse.csgraph backend; endpoints split into source/sink copies unless relaying.

    Returns (length km, hops); no paths (those come from the numba backend).
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


def _route_lists(
    n_sat: int,
    n_ep: int,
    isl: tuple[np.ndarray, ...],
    gsl: tuple[np.ndarray, ...],
    ep_ok: np.ndarray,
    hop_km: float,
    relay: bool,
    state: PathState,
    rank: np.ndarray,
):
    """Run the compiled chunk router on per-step link lists; returns outputs and the log."""
    n_t = ep_ok.shape[0]
    length = np.full((n_t, n_ep, n_ep), np.nan)
    hops = np.full((n_t, n_ep, n_ep), -1, np.int16)
    rate = np.full((n_t, n_ep, n_ep), np.nan)
    changed = np.zeros((n_t, n_ep, n_ep), np.bool_)
    state_hash = state.hash.copy()
    log = _route_steps(
        n_sat, n_ep, *isl, *gsl, ep_ok, hop_km, relay, rank, state_hash, length, hops, rate,
        changed,
    )  # fmt: skip
    changes = PathChanges(*log)
    # An endpoint that is up reaches itself (length 0) even when it sees no satellite.
    diag = np.arange(n_ep)
    length[:, diag, diag] = np.where(ep_ok, 0.0, np.nan)
    hops[:, diag, diag] = np.where(ep_ok, 0, -1)
    rate[:, diag, diag] = np.nan
    offsets, nodes = _advance_state(
        n_ep, state.offsets, state.nodes, changes.src, changes.dst, changes.offsets, changes.nodes
    )
    return length, hops, rate, changed, changes, PathState(state_hash, offsets, nodes)


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
) -> tuple[np.ndarray, np.ndarray, PathChanges | None]:
    """Shortest paths between all endpoints on one graph given by its link lengths.

    The routing core, separated from geometry so it can be checked on any graph (networkx
    property tests, satgenpy's own link lengths). Links: ISLs ``isl_pairs [link, 2]`` with
    ``isl_length_km [link]``, GSLs ``(gsl_endpoint, gsl_satellite, gsl_length_km) [gsl]``; all
    usable (filter down links before). Returns ``path_length_km [src, dst]`` (NaN unreachable),
    ``hop_count [src, dst]`` (−1) and, for the numba backend, the paths (``PathChanges`` of
    a first step: every routed pair ``src < dst`` with its node list).
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
        keep = ep_ok[gsl_e]
        length, hops = _scipy_route(
            n_sat,
            n_ep,
            isl_pairs[:, 0],
            isl_pairs[:, 1],
            elen,
            gsl_e[keep],
            gsl_s[keep],
            gsl_d[keep],
            hop_km,
            relay,
            ep_ok,
        )
        return length, hops, None
    keep = ep_ok[gsl_e]
    isl = (
        np.array([0, len(elen)], np.int64),
        isl_pairs[:, 0].copy(),
        isl_pairs[:, 1].copy(),
        elen,
        np.zeros(len(elen)),
    )
    gsl = (
        np.array([0, int(keep.sum())], np.int64),
        gsl_e[keep],
        gsl_s[keep],
        gsl_d[keep],
        np.zeros(int(keep.sum())),
    )
    length, hops, _, _, changes, _ = _route_lists(
        n_sat, n_ep, isl, gsl, ep_ok[None], hop_km, relay, PathState.empty(n_ep), np.arange(n_ep)
    )
    return length[0], hops[0].astype(np.int64), changes


def route_chunk(
    sat_ecef_km: np.ndarray,
    endpoint_ecef_km: np.ndarray,
    topology: NetworkTopology,
    *,
    failures: FailureMasks | None = None,
    previous: PathState | None = None,
    backend: Backend = "numba",
) -> RoutingResult:
    """The network stage: route every endpoint pair at every time step of a chunk.

    A pure function of its inputs. GSLs of all steps come from one compiled, culled search
    (``gsl.gsl_links``); their rates from ``topology.gsl_rate_model`` in one vectorised call;
    then one compiled call routes every step (``_route_steps``): no Python loop over time
    steps or satellites (except ``formation`` ISLs, found per step with a k-d tree).

    Parameters
    ----------
    sat_ecef_km : ``[time, sat, 3]`` float64 km, ECEF (WGS72 frame for SGP4 output).
    endpoint_ecef_km : ``[endpoint, 3]`` float64 km, ECEF (``geometry.geodetic_to_ecef_km``).
    topology : ``NetworkTopology`` (``build.build_topology`` makes one from the scenario).
    failures : optional ``FailureMasks`` over this chunk's time steps.
    previous : the ``RoutingResult.state`` of the previous chunk, so that ``path_changed`` is
        continuous across chunks; None at the start of a run (no change at its first step).
    backend : ``"numba"`` or ``"scipy"`` (same lengths, no paths or rates; for cross-checks).

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
    sat_down = _mask(fail.satellite, (n_t, n_sat))
    ep_down = _mask(fail.endpoint, (n_t, n_ep))
    gsl = _gsl_links(sat_ecef_km, endpoint_ecef_km, topology, sat_down, ep_down)
    isl_lengths, isl = _isl_links(sat_ecef_km, topology, sat_down, fail.isl)
    hop_km = topology.per_hop_delay_ms * 1e-3 * SPEED_OF_LIGHT_KM_S
    relay = topology.mode == "ground-relays"
    visible = (
        np.bincount(gsl.step_index * n_ep + gsl.endpoint, minlength=n_t * n_ep)
        .reshape(n_t, n_ep)
        .astype(np.int32)
    )
    start = previous if previous is not None else PathState.empty(n_ep)
    if backend == "scipy":
        length, hops, rate, changed, changes, state = _scipy_chunk(
            n_sat, n_ep, isl, gsl, ~ep_down, hop_km, relay, start
        )
    else:
        gsl_lists = (gsl.offsets, gsl.endpoint, gsl.satellite, gsl.range_km, gsl.rate_bps)
        length, hops, rate, changed, changes, state = _route_lists(
            n_sat, n_ep, isl, gsl_lists, ~ep_down, hop_km, relay, start, topology.search_rank
        )
        if previous is None and n_t:
            changed[0] = False  # the first step of a run has nothing to differ from
    latency_ms = (
        length / SPEED_OF_LIGHT_KM_S * 1e3 + np.maximum(hops, 0) * topology.per_hop_delay_ms
    )
    status = _status(length, visible, ep_down if fail.endpoint is not None else None)
    return RoutingResult(
        path_length_km=length,
        latency_ms=latency_ms,
        rtt_ms=2.0 * latency_ms,
        hop_count=hops,
        status=status,
        path_changed=changed,
        gsl_visible_count=visible,
        path_rate_bps=rate,
        changes=changes,
        initial_state=start,
        state=state,
        gsl=gsl,
        isl_length_km=isl_lengths,
        n_satellites=n_sat,
    )


def _mask(values: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    if values is None:
        return np.zeros(shape, np.bool_)
    return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.bool_), shape))


def _gsl_links(sat_ecef_km, endpoint_ecef_km, topology, sat_down, ep_down) -> GslLinks:
    offsets, ep, sat, range_km, sin_el = gsl_links(
        sat_ecef_km,
        sat_down,
        endpoint_ecef_km,
        np.ascontiguousarray(topology.endpoint_up_unit, dtype=np.float64),
        np.sin(np.radians(np.asarray(topology.endpoint_min_elevation_deg, dtype=np.float64))),
        np.asarray(topology.endpoint_max_range_km, dtype=np.float64),
        ep_down,
        topology.gsl_selection == "nearest",
    )
    elevation_deg = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
    if topology.gsl_rate_model is None:
        return GslLinks(
            offsets, ep, sat, range_km, elevation_deg, np.full(len(ep), topology.gsl_rate_bps)
        )
    rate_bps = np.asarray(topology.gsl_rate_model.rate_bps(ep, range_km, elevation_deg))
    # A link whose budget closes no modcod carries nothing: it is not a link at all.
    keep = rate_bps > 0.0
    if keep.all():
        return GslLinks(offsets, ep, sat, range_km, elevation_deg, rate_bps)
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return GslLinks(
        kept_before[offsets],
        ep[keep],
        sat[keep],
        range_km[keep],
        elevation_deg[keep],
        rate_bps[keep],
    )


def _isl_links(sat_ecef_km, topology, sat_down, isl_down):
    """``(isl_length_km [time, link] or None, per-step link lists for the router)``."""
    n_t = sat_ecef_km.shape[0]
    if topology.isl_pattern == "formation":
        per_step = []
        for t in range(n_t):  # formations are small; pairs come from a k-d tree per step
            up = np.flatnonzero(~sat_down[t])
            pairs = up[formation_isls(sat_ecef_km[t, up], topology.isl_max_range_km)]
            per_step.append(pairs.reshape(-1, 2))
        sizes = np.array([len(p) for p in per_step], np.int64)
        off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        pairs = np.concatenate(per_step) if n_t else np.zeros((0, 2), np.int64)
        steps = np.repeat(np.arange(n_t), sizes)
        diff = sat_ecef_km[steps, pairs[:, 0]] - sat_ecef_km[steps, pairs[:, 1]]
        length = np.linalg.norm(diff, axis=-1) if len(pairs) else np.zeros(0)
        a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        lengths = None
    else:
        pairs = np.ascontiguousarray(topology.isl_pairs, dtype=np.int64).reshape(-1, 2)
        down = _mask(isl_down, (n_t, len(pairs)))
        lengths = _isl_lengths(sat_ecef_km, pairs, down, sat_down, topology.isl_max_range_km)
        off, a, b, length = _flatten_links(lengths, pairs)
    rate = np.full(len(length), float(topology.isl_rate_bps))
    if topology.inter_shell is not None:
        off, a, b, length, rate = _with_inter_shell(
            sat_ecef_km, topology.inter_shell, sat_down, (off, a, b, length, rate)
        )
    return lengths, (off, a, b, length, rate)


def _with_inter_shell(sat_ecef_km, links, sat_down, lists):
    """The per-step link lists with each step's inter-shell links appended."""
    off, a, b, length, rate = lists
    n_t = sat_ecef_km.shape[0]
    found = [cross_shell_links(sat_ecef_km[t], links, ~sat_down[t]) for t in range(n_t)]
    sizes = np.diff(off) + np.array([len(p) for p, _ in found], np.int64)
    new_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    parts = {"a": [], "b": [], "length": [], "rate": []}
    for t, (pairs, km) in enumerate(found):
        own = slice(off[t], off[t + 1])
        parts["a"] += [a[own], pairs[:, 0]]
        parts["b"] += [b[own], pairs[:, 1]]
        parts["length"] += [length[own], km]
        parts["rate"] += [rate[own], np.full(len(km), float(links.rate_bps))]
    joined = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    return (new_off, joined["a"].astype(np.int64), joined["b"].astype(np.int64),
            joined["length"], joined["rate"])  # fmt: skip


def _scipy_chunk(n_sat, n_ep, isl, gsl, ep_ok, hop_km, relay, start):
    """Lengths and hops per step with scipy's csgraph (cross-check backend; no paths)."""
    n_t = ep_ok.shape[0]
    length = np.full((n_t, n_ep, n_ep), np.nan)
    hops = np.full((n_t, n_ep, n_ep), -1, np.int16)
    i_off, i_a, i_b, i_len, _ = isl
    for t in range(n_t):
        i0, i1 = i_off[t], i_off[t + 1]
        g0, g1 = gsl.offsets[t], gsl.offsets[t + 1]
        length[t], hops[t] = _scipy_route(
            n_sat,
            n_ep,
            i_a[i0:i1],
            i_b[i0:i1],
            i_len[i0:i1],
            gsl.endpoint[g0:g1],
            gsl.satellite[g0:g1],
            gsl.range_km[g0:g1],
            hop_km,
            relay,
            ep_ok[t],
        )
    empty = PathChanges(*(np.zeros(0, np.int64),) * 3, np.zeros(1, np.int64), np.zeros(0, np.int32))
    rate = np.full((n_t, n_ep, n_ep), np.nan)
    return length, hops, rate, np.zeros((n_t, n_ep, n_ep), np.bool_), empty, start


def _status(length, visible, endpoint_down) -> np.ndarray:
    """``[time, src, dst]`` status codes (``STATUS_MESSAGES``) from the routed lengths, the
    satellites each endpoint saw and the endpoints that were down."""
    n_t, n_ep, _ = length.shape
    status = np.full((n_t, n_ep, n_ep), STATUS_OK, np.int8)
    status[np.isnan(length)] = STATUS_NO_PATH
    no_sat = visible == 0
    status[no_sat[:, None, :] & np.isnan(length)] = STATUS_DST_NO_SATELLITE
    status[no_sat[:, :, None] & np.isnan(length)] = STATUS_SRC_NO_SATELLITE
    if endpoint_down is not None:
        shape = (n_t, n_ep, n_ep)
        status[np.broadcast_to(endpoint_down[:, None, :], shape)] = STATUS_DST_DOWN
        status[np.broadcast_to(endpoint_down[:, :, None], shape)] = STATUS_SRC_DOWN
    diag = np.arange(n_ep)
    status[:, diag, diag] = STATUS_SAME_ENDPOINT
    return status
