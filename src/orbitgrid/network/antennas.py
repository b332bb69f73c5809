"""Ground-station antenna allocation: which visible passes a station's antennas actually track.

A station with N antennas (dishes) can track at most N satellites at once, and an antenna
tracks a pass whole: it slews to the rise point, follows the satellite to its set, then needs a
setup (slew back, reconfigure) before the next pass. Every window in which a station *sees* a
satellite is therefore a candidate, not a contact. This module chooses the passes, per station,
as **fixed interval scheduling on N identical machines** (Kovalyov, Ng & Cheng, "Fixed interval
scheduling: models, applications, computational complexity and algorithms", EJOR 178, 2007,
§2–3): pass ``p`` occupies ``[start_p, end_p + setup_s)``, half-open, so a pass may begin
exactly when the previous one's setup ends; passes shorter than ``min_pass_s`` are never
tracked; a pass is tracked whole or not at all (no hand-over in mid-pass).

Policies (both exact for their objective):

- ``"max-volume"`` (default): the set of passes of largest total weight (the pass volume in
  bytes for contact plans, otherwise its duration) such that at most N occupy the station at any
  instant. Solved as a minimum-cost flow of N units along the station's time line, one arc of
  cost −weight per pass (Arkin & Silverberg, "Scheduling jobs with fixed start and end times",
  Discrete Appl. Math. 18, 1987; Bouzina & Emmons, J. Global Optim. 9, 1996), with successive
  shortest paths and Dijkstra on reduced costs (Ahuja, Magnanti & Orlin, *Network Flows*,
  1993, §9.7). The flow's N paths are the antennas' schedules.
- ``"max-count"``: the largest number of passes: take passes by increasing end (setup
  included) and give each to the free antenna that became free last, or skip it. Optimal for
  N identical machines (Faigle & Nawijn, Discrete Appl. Math. 58, 1995; Carlisle & Lloyd,
  Discrete Appl. Math. 59, 1995). It favours short passes; use it to count contacts, not bytes.

Stations whose passes never overlap more than N deep keep every pass (either policy). All
stations are scheduled in one compiled call (numba); the work per station is
O(N · P log P) for P passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np

from orbitgrid.network.contact_plan import KIND_GSL_DOWN, KIND_GSL_UP, ContactPlan

AllocationPolicy = Literal["max-volume", "max-count"]
POLICIES: tuple[str, ...] = ("max-volume", "max-count")
DEFAULT_GROUND_ANTENNAS = 1
_NOT_TRACKED = -1


# --------------------------------------------------------------------------------------------
# Compiled core
# --------------------------------------------------------------------------------------------


@nb.njit(cache=True)
def _heap_push(keys, nodes, size, key, node):
    i = size
    keys[i] = key
    nodes[i] = node
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        nodes[parent], nodes[i] = nodes[i], nodes[parent]
        i = parent
    return size + 1


@nb.njit(cache=True)
def _heap_pop(keys, nodes, size):
    key, node = keys[0], nodes[0]
    size -= 1
    keys[0], nodes[0] = keys[size], nodes[size]
    i = 0
    while True:
        left, smallest = 2 * i + 1, i
        if left < size and keys[left] < keys[smallest]:
            smallest = left
        if left + 1 < size and keys[left + 1] < keys[smallest]:
            smallest = left + 1
        if smallest == i:
            break
        keys[smallest], keys[i] = keys[i], keys[smallest]
        nodes[smallest], nodes[i] = nodes[i], nodes[smallest]
        i = smallest
    return key, node, size


@nb.njit(cache=True)
def _max_overlap(start, stop):
    """Largest number of half-open intervals ``[start, stop)`` sharing an instant."""
    n = start.shape[0]
    times = np.concatenate((stop, start))
    # At equal times the ends (+0) sort before the starts (+1): half-open intervals.
    delta = np.concatenate((-np.ones(n, np.int64), np.ones(n, np.int64)))
    order = np.argsort(times, kind="mergesort")
    depth = 0
    best = 0
    for j in order:
        depth += delta[j]
        best = max(best, depth)
    return best


@nb.njit(cache=True)
def _select_max_weight(start, stop, weight, k):
    """Passes of largest total weight with ≤ k overlapping (min-cost flow; module docstring).

    Nodes are the distinct instants of ``start``/``stop``; arcs: time line i → i+1 (cost 0,
    unbounded) and pass p: node(start_p) → node(stop_p) (cost −weight_p, capacity 1). k units
    from the first to the last instant; each augmentation is a Dijkstra on reduced costs.
    """
    n = start.shape[0]
    times = np.unique(np.concatenate((start, stop)))
    n_v = times.shape[0]
    u = np.searchsorted(times, start)
    v = np.searchsorted(times, stop)
    by_u = np.argsort(u, kind="mergesort")
    by_v = np.argsort(v, kind="mergesort")
    ptr_u = np.searchsorted(u[by_u], np.arange(n_v + 1))
    ptr_v = np.searchsorted(v[by_v], np.arange(n_v + 1))
    used = np.zeros(n, np.bool_)
    line_flow = np.zeros(max(n_v - 1, 0), np.int64)
    # Initial potentials: shortest distances on the acyclic graph (all arcs go forward in time).
    pot = np.full(n_v, np.inf)
    pot[0] = 0.0
    for i in range(n_v):
        if i > 0 and pot[i - 1] < pot[i]:
            pot[i] = pot[i - 1]
        for j in range(ptr_u[i], ptr_u[i + 1]):
            p = by_u[j]
            if pot[i] - weight[p] < pot[v[p]]:
                pot[v[p]] = pot[i] - weight[p]
    slack = 1e-12 * max(1.0, weight.sum())
    dist = np.empty(n_v)
    pred_arc = np.empty(n_v, np.int64)  # ≥ 0: pass id; −1: line forward; −2: line backward
    pred_node = np.empty(n_v, np.int64)
    done = np.empty(n_v, np.bool_)
    heap_keys = np.empty(4 * (n_v + n) + 4)
    heap_nodes = np.empty(4 * (n_v + n) + 4, np.int64)
    for _ in range(k):
        dist[:] = np.inf
        done[:] = False
        dist[0] = 0.0
        size = _heap_push(heap_keys, heap_nodes, 0, 0.0, 0)
        while size > 0:
            d, a, size = _heap_pop(heap_keys, heap_nodes, size)
            if done[a]:
                continue
            done[a] = True
            # Reduced costs c + pot[a] − pot[b] are ≥ 0 up to rounding: clamp at 0.
            if a + 1 < n_v:
                nd = d + max(0.0, pot[a] - pot[a + 1])
                if nd < dist[a + 1]:
                    dist[a + 1], pred_arc[a + 1], pred_node[a + 1] = nd, -1, a
                    size = _heap_push(heap_keys, heap_nodes, size, nd, a + 1)
            if a > 0 and line_flow[a - 1] > 0:
                nd = d + max(0.0, pot[a] - pot[a - 1])
                if nd < dist[a - 1]:
                    dist[a - 1], pred_arc[a - 1], pred_node[a - 1] = nd, -2, a
                    size = _heap_push(heap_keys, heap_nodes, size, nd, a - 1)
            for j in range(ptr_u[a], ptr_u[a + 1]):
                p = by_u[j]
                if not used[p]:
                    b = v[p]
                    nd = d + max(0.0, -weight[p] + pot[a] - pot[b])
                    if nd < dist[b]:
                        dist[b], pred_arc[b], pred_node[b] = nd, p, a
                        size = _heap_push(heap_keys, heap_nodes, size, nd, b)
            for j in range(ptr_v[a], ptr_v[a + 1]):
                p = by_v[j]
                if used[p]:
                    b = u[p]
                    nd = d + max(0.0, weight[p] + pot[a] - pot[b])
                    if nd < dist[b]:
                        dist[b], pred_arc[b], pred_node[b] = nd, p, a
                        size = _heap_push(heap_keys, heap_nodes, size, nd, b)
        last = n_v - 1
        if dist[last] + pot[last] - pot[0] >= -slack:
            break  # no path gains weight: more antennas would idle
        b = last
        while b != 0:
            arc, a = pred_arc[b], pred_node[b]
            if arc == -1:
                line_flow[a] += 1
            elif arc == -2:
                line_flow[b] -= 1
            else:
                used[arc] = not used[arc]
            b = a
        for i in range(n_v):
            pot[i] += dist[i]  # every node is reachable along the time line
    return used


@nb.njit(cache=True)
def _assign(start, stop, chosen, k, antenna):
    """Give each chosen pass an antenna, passes by start, the free antenna freed last (an
    interval graph of clique ≤ k is k-colourable this way). Returns False if one is left out."""
    free_at = np.full(k, -np.inf)
    order = np.argsort(start, kind="mergesort")
    for p in order:
        if not chosen[p]:
            continue
        best = -1
        for a in range(k):
            if free_at[a] <= start[p] and (best < 0 or free_at[a] > free_at[best]):
                best = a
        if best < 0:
            return False
        antenna[p] = best
        free_at[best] = stop[p]
    return True


@nb.njit(cache=True)
def _max_count(start, stop, k, antenna):
    """Greedy by earliest end, the free antenna freed last (Faigle & Nawijn 1995)."""
    free_at = np.full(k, -np.inf)
    order = np.argsort(stop, kind="mergesort")
    for p in order:
        best = -1
        for a in range(k):
            if free_at[a] <= start[p] and (best < 0 or free_at[a] > free_at[best]):
                best = a
        if best >= 0:
            antenna[p] = best
            free_at[best] = stop[p]


@nb.njit(cache=True)
def _allocate_groups(offsets, antennas, start, stop, weight, eligible, max_count, antenna):
    """Schedule each station's passes (``offsets`` delimit them); fills ``antenna``."""
    for g in range(offsets.shape[0] - 1):
        lo, hi, k = offsets[g], offsets[g + 1], antennas[g]
        if k <= 0:
            continue
        idx = lo + np.flatnonzero(eligible[lo:hi])
        if idx.shape[0] == 0:
            continue
        s, e, w = start[idx], stop[idx], weight[idx]
        out = np.full(idx.shape[0], _NOT_TRACKED, np.int64)
        if _max_overlap(s, e) <= k:
            chosen = np.ones(idx.shape[0], np.bool_)
            ok = _assign(s, e, chosen, k, out)
        elif max_count:
            _max_count(s, e, k, out)
            ok = True
        else:
            ok = _assign(s, e, _select_max_weight(s, e, w, k), k, out)
        if not ok:
            raise RuntimeError("antenna allocation chose more overlapping passes than antennas")
        antenna[idx] = out


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def allocate_passes(
    station,
    start_s,
    end_s,
    antennas,
    *,
    weight=None,
    policy: AllocationPolicy = "max-volume",
    min_pass_s: float = 0.0,
    setup_s: float = 0.0,
) -> np.ndarray:
    """The antenna that tracks each pass, or −1: fixed interval scheduling per station.

    ``station`` int ``[pass]`` (ids ≥ 0), ``start_s``/``end_s`` ``[pass]`` seconds with
    start < end; ``antennas``: an int for every station, or an int array indexed by station id
    (0 = no antenna); ``weight`` ``[pass]`` > 0 (default: the duration, s) is what
    ``"max-volume"`` maximises per station; ``min_pass_s``: shorter passes are never tracked;
    ``setup_s``: idle time an antenna needs between the end of one pass and the start of the
    next. Returns int64 ``[pass]``: antenna index in ``0..N−1`` of the pass's station, −1 when
    the pass is not tracked. The model and policies are in the module docstring.
    """
    if policy not in POLICIES:
        raise ValueError(f"antenna policy {policy!r}; expected one of {', '.join(POLICIES)}")
    station = np.atleast_1d(np.asarray(station, dtype=np.int64))
    n = station.shape[0]
    start = np.ascontiguousarray(np.broadcast_to(np.asarray(start_s, np.float64), (n,)))
    end = np.ascontiguousarray(np.broadcast_to(np.asarray(end_s, np.float64), (n,)))
    w = end - start if weight is None else np.asarray(weight, np.float64)
    w = np.ascontiguousarray(np.broadcast_to(w, (n,)))
    if not (np.isfinite(min_pass_s) and np.isfinite(setup_s)) or min_pass_s < 0 or setup_s < 0:
        raise ValueError(f"min_pass_s ({min_pass_s}) and setup_s ({setup_s}) must be ≥ 0 s")
    bad = ~(np.isfinite(start) & np.isfinite(end)) | (end <= start) | ~(w > 0) | (station < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"pass {i} (station {station[i]}, {start[i]}–{end[i]} s, weight {w[i]}) is invalid: "
            "passes need a station id ≥ 0, finite start_s < end_s and a weight > 0"
        )
    n_stations = int(station.max(initial=-1)) + 1
    counts = np.asarray(antennas)
    if counts.ndim == 0:
        counts = np.full(n_stations, counts)
    if counts.shape[0] < n_stations:
        raise ValueError(f"antennas has {counts.shape[0]} counts for {n_stations} stations")
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError(f"antenna counts must be integers ≥ 0 (got {counts.tolist()})")
    order = np.lexsort((start, station))
    offsets = np.searchsorted(station[order], np.arange(n_stations + 1))
    antenna = np.full(n, _NOT_TRACKED, np.int64)
    # A pass's occupancy ends after the setup: scheduling on [start, end + setup) enforces the
    # gap between consecutive passes on one antenna (the standard reduction of setup times).
    _allocate_groups(
        offsets,
        counts[:n_stations].astype(np.int64),
        start[order],
        end[order] + float(setup_s),
        w[order],
        (end - start)[order] >= float(min_pass_s),
        policy == "max-count",
        antenna,  # filled in sorted order, put back below
    )
    out = np.empty(n, np.int64)
    out[order] = antenna
    return out


@dataclass(frozen=True, eq=False)
class GslPasses:
    """The ground–satellite passes of a contact plan: one per (station, satellite, window),
    whatever the directions it gives (``[pass]`` arrays), and ``contact_pass [contact]``: the
    pass of each contact, −1 for non-GSL contacts."""

    station: np.ndarray
    satellite: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    volume_bytes: np.ndarray
    contact_pass: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.shape[0])


def gsl_passes(plan: ContactPlan) -> GslPasses:
    """Group a plan's GSL contacts into passes (the downlink and uplink of one window are one
    pass: one antenna serves both). A pass's volume is its largest contact volume, bytes."""
    kind = plan.kind
    gsl = (kind == KIND_GSL_DOWN) | (kind == KIND_GSL_UP)
    ground = np.where(kind == KIND_GSL_DOWN, plan.to_node, plan.from_node)[gsl]
    sat = np.where(kind == KIND_GSL_DOWN, plan.from_node, plan.to_node)[gsl]
    start, end, volume = plan.start_s[gsl], plan.end_s[gsl], plan.volume_bytes[gsl]
    order = np.lexsort((end, start, sat, ground))
    keys = np.stack([ground[order], sat[order]], axis=1)
    new = np.ones(order.shape[0], bool)
    new[1:] = (
        (keys[1:] != keys[:-1]).any(axis=1)
        | (start[order][1:] != start[order][:-1])
        | (end[order][1:] != end[order][:-1])
    )
    first = np.flatnonzero(new)
    pass_of_sorted = np.cumsum(new) - 1
    contact_pass = np.full(len(plan), _NOT_TRACKED, np.int64)
    contact_pass[np.flatnonzero(gsl)[order]] = pass_of_sorted
    return GslPasses(
        station=ground[order][first],
        satellite=sat[order][first],
        start_s=start[order][first],
        end_s=end[order][first],
        volume_bytes=(
            np.maximum.reduceat(volume[order], first) if first.size else np.zeros(0, np.float64)
        ),
        contact_pass=contact_pass,
    )


def antenna_counts(
    plan: ContactPlan, antennas: int | Sequence[int] | np.ndarray | Mapping[str, int] | None
) -> np.ndarray:
    """Antennas per node ``[n_nodes]`` from ``antennas``: None (every ground station has
    ``DEFAULT_GROUND_ANTENNAS``), an int for every station, a sequence ``[n_nodes]`` or a
    mapping node name → count (unnamed stations keep the default; needs ``node_names``)."""
    if antennas is None:
        return np.full(plan.n_nodes, DEFAULT_GROUND_ANTENNAS, np.int64)
    if isinstance(antennas, Mapping):
        counts = np.full(plan.n_nodes, DEFAULT_GROUND_ANTENNAS, np.int64)
        for name, count in antennas.items():
            counts[plan.node_index(name)] = _count(count, f"antennas[{name!r}]")
        return counts
    values = np.asarray(antennas)
    if values.ndim == 0:
        return np.full(plan.n_nodes, _count(values.item(), "antennas"), np.int64)
    if values.shape != (plan.n_nodes,):
        raise ValueError(f"antennas has {values.shape[0]} counts for {plan.n_nodes} nodes")
    return np.array([_count(x, f"antennas[{i}]") for i, x in enumerate(values.tolist())])


def _count(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{where} must be a whole number of antennas ≥ 0 (got {value!r})")
    return int(value)


def allocate_contact_plan(
    plan: ContactPlan,
    antennas: int | Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    *,
    policy: AllocationPolicy = "max-volume",
    min_pass_s: float = 0.0,
    setup_s: float = 0.0,
) -> ContactPlan:
    """``plan`` with only the GSL contacts of passes that a station antenna tracks.

    Passes (``gsl_passes``) are scheduled per station with ``allocate_passes`` (weight: the
    pass volume, bytes); a tracked pass keeps all its contacts unchanged (both directions),
    an untracked one loses them; ISL and other contacts are kept. ``antennas`` as in
    ``antenna_counts`` (default: one per ground station). Order and node names are kept.
    """
    passes = gsl_passes(plan)
    counts = antenna_counts(plan, antennas)
    tracked = (
        allocate_passes(
            passes.station,
            passes.start_s,
            passes.end_s,
            counts,
            weight=passes.volume_bytes,
            policy=policy,
            min_pass_s=min_pass_s,
            setup_s=setup_s,
        )
        >= 0
    )
    keep = (passes.contact_pass < 0) | tracked[np.maximum(passes.contact_pass, 0)]
    return ContactPlan.from_arrays(
        plan.from_node[keep],
        plan.to_node[keep],
        plan.start_s[keep],
        plan.end_s[keep],
        plan.rate_bps[keep],
        plan.owlt_s[keep],
        n_nodes=plan.n_nodes,
        kind=plan.kind[keep],
        node_names=plan.node_names,
    )
