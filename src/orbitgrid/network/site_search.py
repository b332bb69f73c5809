"""Shortest paths from serving sites to every user endpoint, one search per site per step.

The workload stage asks where a request should run: a ground data center (an endpoint of
the graph), an orbital cluster (a set of satellites) or the satellite overhead. Routing every
endpoint pair would cost users² searches per step; instead each site runs *one* multi-source
Dijkstra per step (all of a cluster's satellites start at distance 0, so every user gets its
nearest cluster satellite) and reads the distance, hop count and slowest link to every user
endpoint from it: 1,000 users and 20 sites are 20 searches per step.

The graph is the network stage's (``routing``): satellites ``0..S-1`` then endpoints, ISLs of
the scenario's pattern, GSLs of every endpoint to the satellites it sees (``gsl.gsl_links``,
which takes per-step positions for users that move), edge weight = length + per-hop delay as
a distance. Endpoints other than the source never relay (``isls-only``). The satellite
overhead is not a search: it is each user's nearest visible satellite at that step, one GSL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numba as nb
import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S
from orbitgrid.network.routing import NetworkTopology, _gsl_links, _isl_links, _mask
from orbitgrid.network.search import _sift_down, _sift_up, step_csr


@dataclass(frozen=True, eq=False)
class SitePaths:
    """Per step, from each routed site to each endpoint (``[time, site, endpoint]``):
    ``latency_ms`` one way (propagation + per-hop delay; NaN = unreachable), ``hops`` (−1)
    and ``rate_bps`` (the slowest link; NaN). Per step and endpoint (``[time, endpoint]``):
    the nearest visible satellite (``overhead_satellite``, −1 = none), its one-way
    ``overhead_latency_ms`` and link ``overhead_rate_bps``."""

    latency_ms: np.ndarray
    hops: np.ndarray
    rate_bps: np.ndarray
    overhead_satellite: np.ndarray
    overhead_latency_ms: np.ndarray
    overhead_rate_bps: np.ndarray


def site_paths(
    sat_ecef_km: np.ndarray,
    endpoint_ecef_km: np.ndarray,
    endpoint_up: np.ndarray,
    topology: NetworkTopology,
    site_sources: list[np.ndarray],
    *,
    satellite_down: np.ndarray | None = None,
    endpoint_down: np.ndarray | None = None,
    isl_down: np.ndarray | None = None,
) -> SitePaths:
    """Route from every site to every endpoint at each step of a block (see module docstring).

    ``sat_ecef_km`` ``[time, sat, 3]``; ``endpoint_ecef_km`` and ``endpoint_up`` ``[endpoint, 3]``
    or ``[time, endpoint, 3]`` (moving endpoints); ``site_sources``: for each routed site the
    node ids it starts from (satellite ids ``< S``; endpoint ``e`` as ``S + e``). Satellites
    and endpoints that are down (``[time, …]`` masks) carry nothing and cannot be a source;
    laser links that are down (``isl_down [time, link]``, ``topology.isl_pairs`` order) carry
    nothing.
    """
    sat_ecef_km = np.ascontiguousarray(sat_ecef_km, dtype=np.float64)
    n_t, n_sat = sat_ecef_km.shape[:2]
    n_ep = topology.n_endpoints
    sat_down = _mask(satellite_down, (n_t, n_sat))
    ep_down = _mask(endpoint_down, (n_t, n_ep))
    moving = np.asarray(endpoint_ecef_km).ndim == 3
    up = np.asarray(endpoint_up, dtype=np.float64)
    topo = topology if not moving else _with_up(topology, up)
    gsl = _gsl_links(sat_ecef_km, endpoint_ecef_km, topo, sat_down, ep_down)
    _, isl = _isl_links(sat_ecef_km, topology, sat_down, isl_down)
    src_off = np.zeros(len(site_sources) + 1, np.int64)
    src_off[1:] = np.cumsum([len(s) for s in site_sources])
    src_nodes = (
        np.concatenate([np.asarray(s, np.int64) for s in site_sources])
        if site_sources
        else np.zeros(0, np.int64)
    )
    hop_km = topology.per_hop_delay_ms * 1e-3 * SPEED_OF_LIGHT_KM_S
    length, hops, rate = _site_steps(
        n_sat, n_ep, *isl, gsl.offsets, gsl.endpoint, gsl.satellite, gsl.range_km, gsl.rate_bps,
        sat_down, ep_down, src_off, src_nodes, hop_km,
    )  # fmt: skip
    latency_ms = (
        length / SPEED_OF_LIGHT_KM_S * 1e3 + np.maximum(hops, 0) * topology.per_hop_delay_ms
    )
    near_sat, near_km, near_rate = _nearest(
        n_t, n_ep, gsl.offsets, gsl.endpoint, gsl.satellite, gsl.range_km, gsl.rate_bps
    )
    return SitePaths(
        latency_ms=latency_ms,
        hops=hops,
        rate_bps=rate,
        overhead_satellite=near_sat,
        overhead_latency_ms=near_km / SPEED_OF_LIGHT_KM_S * 1e3,
        overhead_rate_bps=near_rate,
    )


def _with_up(topology: NetworkTopology, up: np.ndarray) -> NetworkTopology:
    """The topology with per-step vertical vectors (``gsl_links`` takes them per step)."""
    return dataclasses.replace(topology, endpoint_up_unit=up)


@nb.njit(cache=True)
def _nearest(n_t, n_ep, offsets, gsl_e, gsl_s, gsl_km, gsl_rate):
    """Each endpoint's nearest visible satellite per step: ``(satellite, range km, rate)``."""
    sat = np.full((n_t, n_ep), -1, np.int64)
    km = np.full((n_t, n_ep), np.nan)
    rate = np.full((n_t, n_ep), np.nan)
    for t in range(n_t):
        for k in range(offsets[t], offsets[t + 1]):
            e = gsl_e[k]
            if sat[t, e] < 0 or gsl_km[k] < km[t, e]:
                sat[t, e] = gsl_s[k]
                km[t, e] = gsl_km[k]
                rate[t, e] = gsl_rate[k]
    return sat, km, rate


@nb.njit(parallel=True, cache=True)
def _site_steps(
    n_sat, n_ep, isl_off, isl_a, isl_b, isl_len, isl_rate, gsl_off, gsl_e, gsl_s, gsl_len,
    gsl_rate, sat_down, ep_down, src_off, src_nodes, hop_km,
):  # fmt: skip
    """Per step: the CSR of the step's links, then one multi-source search per site (sites in
    parallel); every endpoint's path is walked back for its length, hops and slowest link."""
    n_t = gsl_off.shape[0] - 1
    n_site = src_off.shape[0] - 1
    length = np.full((n_t, n_site, n_ep), np.nan)
    hops = np.full((n_t, n_site, n_ep), -1, np.int64)
    rate = np.full((n_t, n_site, n_ep), np.nan)
    for t in range(n_t):
        indptr, head, tail, weight, link_km, link_rate = step_csr(
            t, n_sat, n_ep, isl_off, isl_a, isl_b, isl_len, isl_rate, gsl_off, gsl_e, gsl_s,
            gsl_len, gsl_rate, hop_km,
        )  # fmt: skip
        for k in nb.prange(n_site):
            pred = _multi_source_search(
                indptr, head, weight, n_sat, src_nodes[src_off[k] : src_off[k + 1]],
                sat_down[t], ep_down[t],
            )  # fmt: skip
            for e in range(n_ep):
                node = n_sat + e
                if ep_down[t, e]:
                    continue
                if pred[node] == -2:  # the endpoint is itself the site
                    length[t, k, e] = 0.0
                    hops[t, k, e] = 0
                    continue
                if pred[node] < 0:
                    continue
                total = 0.0
                slowest = np.inf
                h = 0
                while pred[node] >= 0:
                    j = pred[node]
                    total += link_km[j]
                    slowest = min(slowest, link_rate[j])
                    node = tail[j]
                    h += 1
                length[t, k, e] = total
                hops[t, k, e] = h
                rate[t, k, e] = slowest
    return length, hops, rate


@nb.njit(cache=True)
def _multi_source_search(indptr, head, weight, n_sat, sources, sat_down, ep_down):
    """Binary-heap Dijkstra started from every usable node of ``sources`` at distance 0.

    Returns ``pred_edge [node]``: the edge by which a node was reached, −2 for a source, −1
    when unreached. Endpoints are settled but not expanded unless they are a source (an
    endpoint does not relay)."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    settled = np.zeros(n, np.bool_)
    pred = np.full(n, -1, np.int64)
    is_source = np.zeros(n, np.bool_)
    key = np.empty(head.shape[0] + sources.shape[0] + 1)
    heap = np.empty(head.shape[0] + sources.shape[0] + 1, np.int32)
    size = 0
    for i in range(sources.shape[0]):
        u = sources[i]
        if (u < n_sat and sat_down[u]) or (u >= n_sat and ep_down[u - n_sat]):
            continue
        if dist[u] == 0.0:
            continue
        dist[u] = 0.0
        pred[u] = -2
        is_source[u] = True
        _sift_up(key, heap, size, 0.0, u)
        size += 1
    while size > 0:
        d = key[0]
        u = heap[0]
        size -= 1
        if size > 0:
            _sift_down(key, heap, size)
        if settled[u]:
            continue
        settled[u] = True
        if u >= n_sat and not is_source[u]:
            continue
        for j in range(indptr[u], indptr[u + 1]):
            v = head[j]
            if settled[v]:
                continue
            nd = d + weight[j]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = j
                _sift_up(key, heap, size, nd, v)
                size += 1
    return pred
