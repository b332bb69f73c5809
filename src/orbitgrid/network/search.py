"""Compiled single-source shortest-path searches from a ground endpoint (numba).

The graph is a symmetric CSR over nodes ``0..S-1`` (satellites) and ``S..S+E-1`` (endpoints);
each directed edge ``j`` has a head ``head[j]``, a tail ``tail[j]`` and a weight
``weight[j]`` = link length km + per-hop delay as an equivalent distance. A search fills
``pred_edge[v]``: the edge by which ``v`` was reached (−1 = not reached), so a path is walked
back from its end through ``tail[pred_edge[v]]`` and every link's own length and rate can be
read on the way.

Endpoints other than the source are never expanded unless ``relay`` (endpoints are leaves in
``isls-only`` routing). A search stops once ``targets`` endpoints whose ``rank`` is at least
the source's are settled: on an undirected graph the pair (s, t) needs only one search, from
whichever of the two comes first in the processing order that ``rank`` encodes.

- ``dial_search``: Dial's bucketed Dijkstra (R. Dial, CACM 12(11), 1969) with bucket width
  just below the shortest edge weight, so every node of the lowest bucket is final and no heap
  is needed: O(1) per relaxation. Buckets are a circular array of a power of two slots (more
  than max weight / width + 1) with linked lists of entries.
- ``heap_search``: binary-heap Dijkstra, for graphs whose weights span too wide a range for
  buckets (very short links, e.g. close formations).

Scratch arrays are passed in, so a Dial search allocates nothing (the heap search allocates
its key array).
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Above this ratio of longest to shortest edge weight, scanning empty buckets costs more than
# heap operations.
MAX_BUCKET_SPAN = 4096.0


@nb.njit(cache=True)
def csr_from_links(n_nodes, a, b, length_km, rate_bps, hop_km):
    """Symmetric CSR from undirected links ``(a, b)``; both directions carry the link's length,
    rate and weight (length + ``hop_km``). Returns ``indptr, head, tail, weight, length, rate``.
    """
    deg = np.zeros(n_nodes + 1, np.int64)
    for k in range(a.shape[0]):
        deg[a[k] + 1] += 1
        deg[b[k] + 1] += 1
    indptr = np.cumsum(deg)
    cursor = indptr[:-1].copy()
    m = indptr[-1]
    # int32 node ids halve the memory traffic of the search loops.
    head = np.empty(m, np.int32)
    tail = np.empty(m, np.int32)
    weight = np.empty(m)
    length = np.empty(m)
    rate = np.empty(m)
    for k in range(a.shape[0]):
        for u, v in ((a[k], b[k]), (b[k], a[k])):
            j = cursor[u]
            head[j] = v
            tail[j] = u
            weight[j] = length_km[k] + hop_km
            length[j] = length_km[k]
            rate[j] = rate_bps[k]
            cursor[u] += 1
    return indptr, head, tail, weight, length, rate


@nb.njit(cache=True)
def step_csr(t, n_sat, n_ep, isl_off, isl_a, isl_b, isl_len, isl_rate, gsl_off, gsl_e, gsl_s,
             gsl_len, gsl_rate, hop_km):  # fmt: skip
    """The symmetric CSR (``csr_from_links``) of step ``t``'s links, from per-step link lists:
    ISLs ``(isl_a, isl_b)`` and GSLs ``(gsl_s, S + gsl_e)`` in rows ``*_off[t]:*_off[t + 1]``."""
    i0, i1 = isl_off[t], isl_off[t + 1]
    g0, g1 = gsl_off[t], gsl_off[t + 1]
    return csr_from_links(
        n_sat + n_ep,
        np.concatenate((isl_a[i0:i1], gsl_s[g0:g1])),
        np.concatenate((isl_b[i0:i1], n_sat + gsl_e[g0:g1])),
        np.concatenate((isl_len[i0:i1], gsl_len[g0:g1])),
        np.concatenate((isl_rate[i0:i1], gsl_rate[g0:g1])),
        hop_km,
    )


@nb.njit(cache=True)
def bucket_plan(weight):
    """``(inverse bucket width, slot mask)`` for ``dial_search``; (0, 0) selects the heap."""
    if weight.shape[0] == 0:
        return 0.0, 0
    w_min = np.inf
    w_max = 0.0
    for j in range(weight.shape[0]):
        w_min = min(w_min, weight[j])
        w_max = max(w_max, weight[j])
    if w_min <= 0.0 or w_max / w_min > MAX_BUCKET_SPAN:
        return 0.0, 0
    width = w_min * (1.0 - 1e-9)
    need = int(w_max / width) + 2
    slots = 1
    while slots < need:
        slots *= 2
    return 1.0 / width, slots - 1


@nb.njit(cache=True)
def dial_search(indptr, head, weight, n_sat, src, relay, targets, rank, inv_width, mask, scratch):
    """Bucketed Dijkstra from node ``src``; fills ``scratch``'s ``dist`` and ``pred_edge``.

    ``scratch = (dist, settled, slot_head, entry_node, entry_next, pred_edge)`` with sizes
    ``[n], [n], [mask + 1], [edges + 2], [edges + 2], [n]``.
    """
    dist, settled, slot_head, entry_node, entry_next, pred_edge = scratch
    dist[:] = np.inf
    settled[:] = False
    pred_edge[:] = -1
    slot_head[: mask + 1] = -1
    dist[src] = 0.0
    entry_node[0] = src
    entry_next[0] = -1
    slot_head[0] = 0
    used = 1
    live = 1
    done = 0
    cur = 0
    while live > 0:
        slot = cur & mask
        while slot_head[slot] != -1:
            k = slot_head[slot]
            slot_head[slot] = entry_next[k]
            live -= 1
            u = entry_node[k]
            if settled[u]:
                continue
            settled[u] = True
            done, stop, expand = _settle(u, n_sat, src, relay, rank, done, targets)
            if stop:
                return
            if not expand:
                continue
            d = dist[u]
            # No settled test: a settled node's distance is final, so nd < dist[v] fails.
            for j in range(indptr[u], indptr[u + 1]):
                v = head[j]
                nd = d + weight[j]
                if nd < dist[v]:
                    dist[v] = nd
                    pred_edge[v] = j
                    b = int(nd * inv_width) & mask
                    entry_node[used] = v
                    entry_next[used] = slot_head[b]
                    slot_head[b] = used
                    used += 1
                    live += 1
        cur += 1


@nb.njit(cache=True)
def heap_search(indptr, head, weight, n_sat, src, relay, targets, rank, scratch):
    """Binary-heap Dijkstra from node ``src`` with the same inputs and outputs as
    ``dial_search`` (``entry_node`` holds heap nodes, ``slot_head`` is unused; the heap keys
    live in a local array)."""
    dist, settled, _, heap_node, _, pred_edge = scratch
    dist[:] = np.inf
    settled[:] = False
    pred_edge[:] = -1
    heap_key = np.empty(heap_node.shape[0])
    dist[src] = 0.0
    heap_key[0] = 0.0
    heap_node[0] = src
    size = 1
    done = 0
    while size > 0:
        d = heap_key[0]
        u = heap_node[0]
        size -= 1
        if size > 0:
            _sift_down(heap_key, heap_node, size)
        if settled[u]:
            continue
        settled[u] = True
        done, stop, expand = _settle(u, n_sat, src, relay, rank, done, targets)
        if stop:
            return
        if not expand:
            continue
        for j in range(indptr[u], indptr[u + 1]):
            v = head[j]
            if settled[v]:
                continue
            nd = d + weight[j]
            if nd < dist[v]:
                dist[v] = nd
                pred_edge[v] = j
                _sift_up(heap_key, heap_node, size, nd, v)
                size += 1


@nb.njit(cache=True, inline="always")
def _settle(u, n_sat, src, relay, rank, done, targets):
    """Book-keeping when node ``u`` is settled: ``(done, stop, expand)``. An endpoint at or
    after the source in the processing order counts towards ``targets``; the search stops
    when all are settled; endpoints other than the source are not expanded unless
    ``relay``."""
    if u < n_sat:
        return done, False, True
    if rank[u - n_sat] >= rank[src - n_sat]:
        done += 1
        if done >= targets:
            return done, True, False
    return done, False, u == src or relay


@nb.njit(cache=True)
def _sift_down(key, node, size):
    """Move the last heap element (index ``size``) to the root and restore the heap order."""
    k_last = key[size]
    n_last = node[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and key[c + 1] < key[c]:
            c += 1
        if key[c] >= k_last:
            break
        key[i] = key[c]
        node[i] = node[c]
        i = c
    key[i] = k_last
    node[i] = n_last


@nb.njit(cache=True)
def _sift_up(key, node, i, k_new, n_new):
    """Insert ``(k_new, n_new)`` at heap position ``i`` and move it up."""
    while i > 0:
        p = (i - 1) // 2
        if key[p] <= k_new:
            break
        key[i] = key[p]
        node[i] = node[p]
        i = p
    key[i] = k_new
    node[i] = n_new
