"""Contact graph routing (CGR): store-and-forward routes of bundles over a contact plan.

Model (docs/cgr.md has the full description and its sources). A ``ContactPlan``
(``contact_plan.py``) lists directed contacts ``(from, to, start_s, end_s, rate_bps, owlt_s)``.
A bundle of ``size_bytes`` created at node ``X`` at ``created_s`` must reach any node of a
destination set (e.g. every ground station). Nodes store bundles for as long as needed
(unbounded storage). A bundle crosses a contact ``c`` whole (store-and-forward, no
fragmentation), with

    first_byte = max(ready at c's sender, start_c + booked_c · 8 / rate_c)
    last_byte  = first_byte + size · 8 / rate_c          must be ≤ end_c
    ready at c's receiver = last_byte + owlt_c

where ``booked_c`` is the volume (bytes) already booked on ``c`` by bundles routed before.
This is SABR's projected bundle arrival time (CCSDS 734.3-B-1 §3.2.6.2–3.2.6.6: earliest
transmission opportunity, last byte transmitted, last byte arrival = + light time) with the
queueing delay ``(nominal volume − residual volume) / rate`` applied on every hop, as in the
``QUEUE_DELAY`` option of Unibo-CGR in ION-DTN (``bpv7/cgr/Unibo-CGR/core/cgr/phase_two.c``,
"ETO on all hops"); plain ION applies the local queue's backlog on the first hop only. The
booked bytes are taken as queued at the front of the contact: the contact's volume
``rate × (end − start) / 8`` is never exceeded, but the implied transmission instants of
bundles booked out of time order may overlap (docs/cgr.md, "Simplifications").

Route selection (SABR §3.2.8.1.4 a) 1–2): the bundle takes the route with the **earliest
delivery time**, ties broken by **fewest hops**, among all routes whose every contact can
still carry it; then its size is booked on each contact of that route (volume consumed).
Bundles are routed one at a time in creation order, so when a route's bottleneck contact is
full the next bundle takes the next best route: the search is redone on the residual volumes
for every bundle, which is a contact-suppression / Yen-like route list of unbounded length
(ION keeps a finite list of precomputed routes instead).

Algorithm: a label-setting search over nodes with Pareto labels ``(arrival, hops)``. Because
each contact's arrival is non-decreasing in the ready time (FIFO) and a node can wait, the
earliest arrival at a node dominates later ones for the same hop count; keeping, per node, the
labels not dominated in both arrival and hops (popped in lexicographic order, a label is kept
only when it has fewer hops than every label kept at that node) makes the first delivered
label the lexicographic minimum of ``(delivery time, hops)`` over all routes (Martins'
multi-criteria label setting, EJOR 16, 1984). ION's Dijkstra over contacts (contacts as
vertices) finds the same earliest arrival; it tie-breaks by hops only among the routes of its
route list. Parallel contacts between two nodes are scanned in start order from the first
whose end (as a running maximum) is after the ready time; contacts into the destination set
are merged per node so that one scan serves every destination. Exact speed-ups: a label that
cannot beat the best delivery even with the fastest last hop is pruned; contacts too full
for the batch's smallest bundle leave the scans (skip lists); a min-tree per destination
set over its contacts' earliest deliveries gives a lower bound, which ends the search for
an earlier delivery as soon as one meets it and refuses at once a bundle that no open
contact can deliver before its limit; and a (source, set) that failed stays failed for
later, no smaller bundles. Compiled with numba; one call routes a whole batch
(``CgrRouter.route``).

Outcome per bundle: **delivered** (arrival at a destination ≤ min(deadline, horizon)),
**dropped** (not deliverable before its deadline, and the deadline is within the horizon:
it expires, as an ION bundle past its lifetime) or **pending** (still stored at its source at
the horizon). A bundle moves only along a complete route; bytes are conserved
(``CgrResult.totals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np

from orbitgrid.network.contact_plan import ContactPlan

DELIVERED, PENDING, DROPPED = 0, 1, 2
STATUS_NAMES = {DELIVERED: "delivered", PENDING: "pending", DROPPED: "dropped"}

_NO_HOPS = np.int64(2**62)


# --------------------------------------------------------------------------------------------
# Index of the plan: contacts grouped by (from, to) pair and, per destination set, by sender.


@nb.njit(cache=True)
def _segment_prefix_max(values, seg_ptr):
    """Running maximum of ``values`` restarted at every segment of ``seg_ptr``."""
    out = np.empty_like(values)
    for s in range(seg_ptr.shape[0] - 1):
        run = -np.inf
        for i in range(seg_ptr[s], seg_ptr[s + 1]):
            run = max(run, values[i])
            out[i] = run
    return out


def _pair_index(plan: ContactPlan):
    """``(pair_ptr [n+1], pair_to [P], pair_cptr [P+1], pair_contact, pair_pmax_end,
    pair_pos [C])``: contacts sorted by (from, to, start), pair p's at
    ``pair_cptr[p]:pair_cptr[p+1]``; pairs of node u at ``pair_ptr[u]:pair_ptr[u+1]``;
    ``pair_pos[c]`` is contact c's position in that order."""
    n = plan.n_nodes
    order = np.lexsort((plan.start_s, plan.to_node, plan.from_node)).astype(np.int64)
    frm = plan.from_node[order]
    to = plan.to_node[order]
    new_pair = np.ones(len(order), bool)
    new_pair[1:] = (frm[1:] != frm[:-1]) | (to[1:] != to[:-1])
    first = np.flatnonzero(new_pair)
    pair_cptr = np.append(first, len(order)).astype(np.int64)
    pair_from = frm[first]
    pair_to = to[first].astype(np.int64)
    pair_ptr = np.searchsorted(pair_from, np.arange(n + 1), side="left").astype(np.int64)
    pmax = _segment_prefix_max(plan.end_s[order], pair_cptr)
    pos = np.empty(len(order), np.int64)
    pos[order] = np.arange(len(order))
    return pair_ptr, pair_to, pair_cptr, order, pmax, pos


class _GroupIndex(NamedTuple):
    """Per-destination-set arrays of ``_group_index`` (a named tuple: numba reads its fields)."""

    in_group: np.ndarray
    grp_ptr: np.ndarray
    grp_contact: np.ndarray
    grp_pmax: np.ndarray
    grp_pos: np.ndarray
    relay_ptr: np.ndarray
    relay_pair: np.ndarray
    grp_tail: np.ndarray
    lb_ptr: np.ndarray
    lb_end: np.ndarray
    lb_leaf: np.ndarray
    tree_ptr: np.ndarray
    tree_half: np.ndarray


def _group_index(plan: ContactPlan, groups: list[np.ndarray], pair_ptr, pair_to) -> _GroupIndex:
    """Per destination set g: ``in_group [G, n]``; ``grp_ptr [G, n+1]`` into the flat
    ``grp_contact`` / ``grp_pmax_end`` (contacts into the set sorted by sender, then start),
    ``grp_pos [G, C]`` each contact's position there (−1: not into the set);
    ``relay_ptr [G, n+1]`` into ``relay_pair`` (the pairs of each sender whose receiver is
    outside the set); ``grp_tail [G, 2]``: the least ``1 / rate`` and least light time of
    the contacts into the set (a lower bound on the last hop, used for pruning); and the
    layout of one min-tree per set over its contacts sorted by end (``_delivery_bound``):
    ``lb_ptr [G+1]`` into ``lb_end``, ``lb_leaf [G, C]`` (leaf of each contact, −1: none),
    ``tree_ptr [G+1]`` and ``tree_half [G]`` (leaves start at ``tree_ptr[g] + tree_half[g]``)."""
    n = plan.n_nodes
    n_g = len(groups)
    in_group = np.zeros((n_g, n), dtype=np.bool_)
    ptr = np.zeros((n_g, n + 1), dtype=np.int64)
    relay_ptr = np.zeros((n_g, n + 1), dtype=np.int64)
    tail = np.full((n_g, 2), np.inf)
    pos = np.full((n_g, len(plan)), -1, dtype=np.int64)
    lb_leaf = np.full((n_g, len(plan)), -1, dtype=np.int64)
    lb_ptr = np.zeros(n_g + 1, dtype=np.int64)
    tree_ptr = np.zeros(n_g + 1, dtype=np.int64)
    tree_half = np.ones(n_g, dtype=np.int64)
    contacts, pmaxes, relays, lb_ends = [], [], [], []
    base = relay_base = 0
    pair_from = np.repeat(np.arange(n), np.diff(pair_ptr))
    for g, nodes in enumerate(groups):
        in_group[g, nodes] = True
        into = np.flatnonzero(in_group[g, plan.to_node])
        order = into[np.lexsort((plan.start_s[into], plan.from_node[into]))]
        seg = np.searchsorted(plan.from_node[order], np.arange(n + 1), side="left")
        ptr[g] = base + seg
        pos[g, order] = base + np.arange(len(order))
        contacts.append(order.astype(np.int64))
        pmaxes.append(_segment_prefix_max(plan.end_s[order], seg.astype(np.int64)))
        base += len(order)
        if len(order):
            tail[g] = (np.min(1.0 / plan.rate_bps[order]), np.min(plan.owlt_s[order]))
        keep = np.flatnonzero(~in_group[g, pair_to])
        relay_ptr[g] = relay_base + np.searchsorted(pair_from[keep], np.arange(n + 1), "left")
        relays.append(keep.astype(np.int64))
        relay_base += len(keep)
        by_end = into[np.argsort(plan.end_s[into], kind="stable")]
        lb_leaf[g, by_end] = np.arange(len(by_end))
        lb_ends.append(plan.end_s[by_end])
        lb_ptr[g + 1] = lb_ptr[g] + len(by_end)
        while tree_half[g] < len(by_end):
            tree_half[g] *= 2
        tree_ptr[g + 1] = tree_ptr[g] + 2 * tree_half[g]
    return _GroupIndex(
        in_group,
        ptr,
        np.concatenate(contacts).astype(np.int64),
        np.concatenate(pmaxes).astype(np.float64),
        pos,
        relay_ptr,
        np.concatenate(relays).astype(np.int64),
        tail,
        lb_ptr,
        np.concatenate(lb_ends).astype(np.float64),
        lb_leaf,
        tree_ptr,
        tree_half,
    )


# --------------------------------------------------------------------------------------------
# Compiled search.


@nb.njit(cache=True, inline="always")
def _arrival(c, ready, size_bits, start, end, rate, owlt, booked):
    """Ready time at contact ``c``'s receiver for a bundle ready at its sender at ``ready``,
    or inf when the contact cannot carry it (model in the module docstring)."""
    first = start[c] + booked[c] * 8.0 / rate[c]
    if ready > first:
        first = ready
    last = first + size_bits / rate[c]
    if last > end[c]:
        return np.inf
    return last + owlt[c]


@nb.njit(cache=True, inline="always")
def _less(a1, h1, a2, h2):
    return a1 < a2 or (a1 == a2 and h1 < h2)


@nb.njit(cache=True)
def _heap_push(h_arr, h_hops, h_lab, size, a, h, lab):
    i = size
    while i > 0:
        p = (i - 1) // 2
        if not _less(a, h, h_arr[p], h_hops[p]):
            break
        h_arr[i] = h_arr[p]
        h_hops[i] = h_hops[p]
        h_lab[i] = h_lab[p]
        i = p
    h_arr[i] = a
    h_hops[i] = h
    h_lab[i] = lab


@nb.njit(cache=True)
def _heap_pop(h_arr, h_hops, h_lab, size):
    """Remove the root of a heap of ``size`` entries (the caller has read it)."""
    size -= 1
    a = h_arr[size]
    h = h_hops[size]
    lab = h_lab[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and _less(h_arr[c + 1], h_hops[c + 1], h_arr[c], h_hops[c]):
            c += 1
        if not _less(h_arr[c], h_hops[c], a, h):
            break
        h_arr[i] = h_arr[c]
        h_hops[i] = h_hops[c]
        h_lab[i] = h_lab[c]
        i = c
    h_arr[i] = a
    h_hops[i] = h
    h_lab[i] = lab


@nb.njit(cache=True)
def _grow(a, n):
    out = np.empty(n, a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True)
def _find_open(nxt, i):
    """First position ≥ ``i`` whose contact is not closed (skip list with path compression:
    ``nxt[i] == i`` marks an open position; the last position is an open sentinel)."""
    root = i
    while nxt[root] != root:
        root = nxt[root]
    while nxt[i] != root:
        step = nxt[i]
        nxt[i] = root
        i = step
    return root


@nb.njit(cache=True, inline="always")
def _scan(lo, hi, ids, pmax_end, nxt, ready, bound, bits, start, end, rate, owlt, booked):
    """Earliest arrival ≤ ``bound`` over the open contacts of ``ids[lo:hi]`` (sorted by
    start, running max end ``pmax_end``, skip list ``nxt``): ``(arrival, contact)``, contact
    −1 when none."""
    i = _find_open(nxt, lo + np.searchsorted(pmax_end[lo:hi], ready, side="right"))
    best = bound
    best_c = -1
    while i < hi:
        c = ids[i]
        # Arrival ≥ start: a contact starting after the best arrival cannot beat it.
        if start[c] > best:
            break
        if end[c] > ready:
            a = _arrival(c, ready, bits, start, end, rate, owlt, booked)
            if a < best or (best_c < 0 and a <= best):
                best = a
                best_c = c
        i = _find_open(nxt, i + 1)
    return best, best_c


@nb.njit(cache=True)
def _tree_set(tree, base, half, leaf, value):
    """Set a leaf of the min-tree at ``tree[base:base + 2·half]`` and update its ancestors."""
    i = half + leaf
    tree[base + i] = value
    i //= 2
    while i >= 1:
        tree[base + i] = min(tree[base + 2 * i], tree[base + 2 * i + 1])
        i //= 2


@nb.njit(cache=True)
def _tree_min(tree, base, half, lo, hi):
    """Minimum of leaves ``lo:hi`` of the min-tree at ``tree[base:base + 2·half]``."""
    out = np.inf
    lo += half
    hi += half
    while lo < hi:
        if lo & 1:
            out = min(out, tree[base + lo])
            lo += 1
        if hi & 1:
            hi -= 1
            out = min(out, tree[base + hi])
        lo //= 2
        hi //= 2
    return out


@nb.njit(cache=True)
def _delivery_bound(tree, groups, g, ready):
    """A lower bound on the delivery time of any bundle of the batch into set ``g`` ready
    at ``ready`` or later: the least key over the set's contacts that end after ``ready``,
    where a contact's key is its arrival for the batch's smallest bundle sent at its earliest
    (``_arrival`` at ready −∞; ∞ once full). Every route's last contact delivers no earlier
    than its key, in floating point too (the same operations on no smaller operands)."""
    lo = groups.lb_ptr[g]
    hi = groups.lb_ptr[g + 1]
    first = np.searchsorted(groups.lb_end[lo:hi], ready, side="right")
    return _tree_min(tree, groups.tree_ptr[g], groups.tree_half[g], first, hi - lo)


@nb.njit(cache=True)
def _update_contact(c, min_bits, contacts, booked, pair_next, pair_pos, groups, grp_next, tree):
    """After contact ``c``'s booked volume changed: refresh its key in the bound trees and take
    it out of the scans once even the batch's smallest bundle no longer fits behind its
    booked backlog (the test of ``_arrival`` at the earliest start)."""
    start, end, rate, owlt, _ = contacts
    grp_pos, lb_leaf = groups.grp_pos, groups.lb_leaf
    key = _arrival(c, -np.inf, min_bits, start, end, rate, owlt, booked)
    for g in range(grp_pos.shape[0]):
        leaf = lb_leaf[g, c]
        if leaf >= 0:
            _tree_set(tree, groups.tree_ptr[g], groups.tree_half[g], leaf, key)
    if key == np.inf:
        p = pair_pos[c]
        pair_next[p] = p + 1
        for g in range(grp_pos.shape[0]):
            q = grp_pos[g, c]
            if q >= 0:
                grp_next[q] = q + 1


@nb.njit(cache=True)
def _route_batch(bundles, contacts, pairs, groups, booked):
    """Route ``bundles`` in creation ``order`` and book their sizes into ``booked`` (bytes
    per contact); see the module docstring for the model and the search.

    ``bundles = (order, source, created_s, size_bytes, limit_s, group)``,
    ``contacts = (start, end, rate, owlt, to_node)``, ``pairs`` from ``_pair_index`` and
    ``groups`` from ``_group_index``. Returns ``found, arrival_s, hops, dest [bundle]``,
    ``route_offsets [bundle + 1]`` (bundle index order) and ``route_contacts``.
    """
    order, source, created_s, size_bytes, limit_s, group = bundles
    start, end, rate, owlt, to_node = contacts
    pair_ptr, pair_to, pair_cptr, pair_contact, pair_pmax, pair_pos = pairs
    in_group, grp_ptr, grp_tail = groups.in_group, groups.grp_ptr, groups.grp_tail
    grp_contact, grp_pmax = groups.grp_contact, groups.grp_pmax
    relay_ptr, relay_pair, tree_ptr = groups.relay_ptr, groups.relay_pair, groups.tree_ptr
    n_b = source.shape[0]
    n_nodes = pair_ptr.shape[0] - 1
    n_groups = in_group.shape[0]
    found = np.zeros(n_b, np.bool_)
    arrival = np.full(n_b, np.nan)
    hops = np.full(n_b, -1, np.int64)
    dest = np.full(n_b, -1, np.int64)
    r_len = np.zeros(n_b, np.int64)
    r_start = np.zeros(n_b, np.int64)
    r_buf = np.empty(max(16, 4 * n_b), np.int64)
    r_used = 0
    # Skip lists over the scan orders; contacts too full for the smallest bundle are closed.
    min_bits = np.inf
    for b in range(n_b):
        min_bits = min(min_bits, size_bytes[b] * 8.0)
    pair_next = np.arange(pair_contact.shape[0] + 1)
    grp_next = np.arange(grp_contact.shape[0] + 1)
    tree = np.full(tree_ptr[-1], np.inf)
    for c in range(start.shape[0]):
        _update_contact(c, min_bits, contacts, booked, pair_next, pair_pos, groups, grp_next, tree)
    # Last failure per (source, destination set): a bundle created no earlier, no smaller and
    # with no later limit cannot be delivered either (every contact's arrival only gets later
    # with a later ready time, a larger size and more booked volume).
    fail_t = np.full((n_nodes, n_groups), np.inf)
    fail_bits = np.zeros((n_nodes, n_groups))
    fail_limit = np.zeros((n_nodes, n_groups))
    # Labels (node, arrival, hops, predecessor label, contact) and the heap of label ids.
    cap = 4 * n_nodes + 16
    l_node = np.empty(cap, np.int64)
    l_arr = np.empty(cap)
    l_hops = np.empty(cap, np.int64)
    l_pred = np.empty(cap, np.int64)
    l_con = np.empty(cap, np.int64)
    h_arr = np.empty(cap)
    h_hops = np.empty(cap, np.int64)
    h_lab = np.empty(cap, np.int64)
    stamp = np.full(n_nodes, -1, np.int64)
    kept_hops = np.zeros(n_nodes, np.int64)
    path = np.empty(n_nodes + 1, np.int64)
    for k in range(n_b):
        b = order[k]
        src = source[b]
        g = group[b]
        ready = created_s[b]
        bits = size_bytes[b] * 8.0
        r_start[b] = r_used
        if in_group[g, src]:
            if ready <= limit_s[b]:
                found[b] = True
                arrival[b] = ready
                hops[b] = 0
                dest[b] = src
            continue
        if (
            ready >= fail_t[src, g]
            and bits >= fail_bits[src, g]
            and limit_s[b] <= fail_limit[src, g]
        ):
            continue
        # No open contact into the set can deliver before the limit: nothing to search.
        bound = _delivery_bound(tree, groups, g, ready)
        if bound > limit_s[b]:
            continue
        # Once the best delivery found equals the bound, its time is optimal and only routes
        # with fewer hops that tie it remain to be found.
        optimal = False
        best_a = limit_s[b]
        best_h = _NO_HOPS
        best_lab = -1
        best_con = -1
        # Any delivery from a label at time a arrives after a + tail (one more contact into
        # the set at its best rate and light time): labels that cannot beat the best delivery
        # found are pruned. The slack covers rounding (a few ulp), so a tie is never pruned.
        tail = bits * grp_tail[g, 0] + grp_tail[g, 1]
        slack = 1e-12 * (abs(best_a) + tail + 1.0)
        l_node[0] = src
        l_arr[0] = ready
        l_hops[0] = 0
        l_pred[0] = -1
        l_con[0] = -1
        n_lab = 1
        h_arr[0] = ready
        h_hops[0] = 0
        h_lab[0] = 0
        size = 1
        while size > 0:
            a = h_arr[0]
            h = h_hops[0]
            lab = h_lab[0]
            _heap_pop(h_arr, h_hops, h_lab, size)
            size -= 1
            # Everything left is later (or as early with as many hops): no better delivery.
            if a + tail > best_a + slack or (a == best_a and h + 1 >= best_h):
                break
            if optimal and h + 1 >= best_h:
                continue
            u = l_node[lab]
            if stamp[u] == k and h >= kept_hops[u]:
                continue  # dominated: a kept label here is no later and has no more hops
            stamp[u] = k
            kept_hops[u] = h
            # Deliveries: the earliest contact from u into the destination set.
            lo = grp_ptr[g, u]
            hi = grp_ptr[g, u + 1]
            if hi > lo:
                ad, c = _scan(
                    lo,
                    hi,
                    grp_contact,
                    grp_pmax,
                    grp_next,
                    a,
                    best_a,
                    bits,
                    start,
                    end,
                    rate,
                    owlt,
                    booked,
                )
                if c >= 0 and _less(ad, h + 1, best_a, best_h):
                    best_a = ad
                    best_h = h + 1
                    best_lab = lab
                    best_con = c
                    slack = 1e-12 * (abs(best_a) + tail + 1.0)
                    optimal = best_a <= bound
            # Relays: the earliest contact to each neighbour outside the destination set.
            for q in range(relay_ptr[g, u], relay_ptr[g, u + 1]):
                p = relay_pair[q]
                v = pair_to[p]
                if stamp[v] == k and h + 1 >= kept_hops[v]:
                    continue
                av, c = _scan(
                    pair_cptr[p],
                    pair_cptr[p + 1],
                    pair_contact,
                    pair_pmax,
                    pair_next,
                    a,
                    best_a,
                    bits,
                    start,
                    end,
                    rate,
                    owlt,
                    booked,
                )
                if c < 0 or av + tail > best_a + slack or (av == best_a and h + 2 >= best_h):
                    continue
                if optimal and h + 2 >= best_h:
                    continue
                if n_lab == l_node.shape[0]:
                    cap = 2 * n_lab
                    l_node = _grow(l_node, cap)
                    l_hops = _grow(l_hops, cap)
                    l_pred = _grow(l_pred, cap)
                    l_con = _grow(l_con, cap)
                    l_arr = _grow(l_arr, cap)
                    h_arr = _grow(h_arr, cap)
                    h_hops = _grow(h_hops, cap)
                    h_lab = _grow(h_lab, cap)
                l_node[n_lab] = v
                l_arr[n_lab] = av
                l_hops[n_lab] = h + 1
                l_pred[n_lab] = lab
                l_con[n_lab] = c
                _heap_push(h_arr, h_hops, h_lab, size, av, h + 1, n_lab)
                size += 1
                n_lab += 1
        if best_con < 0:
            fail_t[src, g] = ready
            fail_bits[src, g] = bits
            fail_limit[src, g] = limit_s[b]
            continue
        # Walk the route back, book it, store it.
        path[0] = best_con
        n_hop = 1
        lab = best_lab
        while l_pred[lab] >= 0:
            if n_hop == path.shape[0]:
                path = _grow(path, 2 * n_hop)
            path[n_hop] = l_con[lab]
            n_hop += 1
            lab = l_pred[lab]
        if r_used + n_hop > r_buf.shape[0]:
            r_buf = _grow(r_buf, 2 * (r_used + n_hop))
        for i in range(n_hop):
            c = path[n_hop - 1 - i]
            r_buf[r_used + i] = c
            booked[c] += size_bytes[b]
            _update_contact(
                c, min_bits, contacts, booked, pair_next, pair_pos, groups, grp_next, tree
            )
        r_len[b] = n_hop
        r_used += n_hop
        found[b] = True
        arrival[b] = best_a
        hops[b] = best_h
        dest[b] = to_node[best_con]
    # Routes in bundle index order.
    offsets = np.zeros(n_b + 1, np.int64)
    for b in range(n_b):
        offsets[b + 1] = offsets[b] + r_len[b]
    route = np.empty(offsets[n_b], np.int64)
    for b in range(n_b):
        route[offsets[b] : offsets[b + 1]] = r_buf[r_start[b] : r_start[b] + r_len[b]]
    return found, arrival, hops, dest, offsets, route


# --------------------------------------------------------------------------------------------
# Public API.


@dataclass(frozen=True, eq=False)
class CgrResult:
    """Outcome of routing a batch (``[bundle]`` arrays in the order the bundles were given).

    ``status``: ``DELIVERED``/``PENDING``/``DROPPED`` (``STATUS_NAMES``); ``delivered_s`` the
    arrival time at the destination (NaN otherwise); ``hops`` contacts on the route (−1: none;
    0: created at a destination); ``destination_node`` the node reached (−1); the route of
    bundle ``i`` is ``route_contacts[route_offsets[i]:route_offsets[i+1]]`` (contact indices
    into the plan, in travel order; ``route(i)``). ``booked_bytes`` / ``residual_bytes``: each
    contact's volume booked / left after the batch.
    """

    created_s: np.ndarray
    size_bytes: np.ndarray
    status: np.ndarray
    delivered_s: np.ndarray
    hops: np.ndarray
    destination_node: np.ndarray
    route_offsets: np.ndarray
    route_contacts: np.ndarray
    booked_bytes: np.ndarray
    residual_bytes: np.ndarray

    def __len__(self) -> int:
        return int(self.status.shape[0])

    def route(self, i: int) -> np.ndarray:
        """Contact indices of bundle ``i``'s route, in travel order (empty when none)."""
        return self.route_contacts[self.route_offsets[i] : self.route_offsets[i + 1]]

    @property
    def latency_s(self) -> np.ndarray:
        """Delivery time − creation time (NaN when not delivered)."""
        return self.delivered_s - self.created_s

    def totals(self) -> dict[str, float]:
        """Bundles and bytes per outcome; ``*_bytes`` add up to ``created_bytes``."""
        out: dict[str, float] = {
            "created_bundles": len(self),
            "created_bytes": float(self.size_bytes.sum()),
        }
        for code, name in STATUS_NAMES.items():
            mine = self.status == code
            out[f"{name}_bundles"] = int(np.count_nonzero(mine))
            out[f"{name}_bytes"] = float(self.size_bytes[mine].sum())
        return out

    def __repr__(self) -> str:
        t = self.totals()
        return (
            f"CgrResult({t['created_bundles']} bundles: {t['delivered_bundles']} delivered, "
            f"{t['pending_bundles']} pending, {t['dropped_bundles']} dropped)"
        )


def _as_groups(destinations, n_nodes: int) -> list[np.ndarray]:
    """One destination set (a sequence of node ids) or several (a sequence of sequences)."""
    if isinstance(destinations, np.ndarray) and destinations.ndim == 1:
        raw = [destinations]
    elif len(destinations) and np.ndim(destinations[0]) == 0:
        raw = [np.asarray(destinations)]
    else:
        raw = [np.asarray(d) for d in destinations]
    groups = []
    for g, nodes in enumerate(raw):
        nodes = np.unique(np.asarray(nodes, dtype=np.int64))
        if nodes.size == 0 or nodes.min() < 0 or nodes.max() >= n_nodes:
            raise ValueError(
                f"destination set {g} must list node ids in 0..{n_nodes - 1}; got {nodes.tolist()}"
            )
        groups.append(nodes)
    return groups


class CgrRouter:
    """Routes batches of bundles over one contact plan and keeps the booked volumes.

    ``destinations``: one set of node ids (e.g. every ground station) or a sequence of sets
    (a bundle names its set with ``group``). ``horizon_s``: end of the simulated time (default:
    the plan's last contact end); a bundle not delivered by then is pending or dropped.
    ``booked_bytes`` starts every contact with that much volume already used (default 0).
    Successive ``route`` calls continue from the volumes booked so far.
    """

    def __init__(
        self,
        plan: ContactPlan,
        destinations: Sequence[int] | Sequence[Sequence[int]] | np.ndarray,
        *,
        horizon_s: float | None = None,
        booked_bytes: np.ndarray | None = None,
    ):
        self.plan = plan
        self.groups = _as_groups(destinations, plan.n_nodes)
        self.horizon_s = float(plan.end_s.max(initial=0.0) if horizon_s is None else horizon_s)
        self._pairs = _pair_index(plan)
        self._group_index = _group_index(plan, self.groups, self._pairs[0], self._pairs[1])
        self.booked_bytes = (
            np.zeros(len(plan))
            if booked_bytes is None
            else np.array(booked_bytes, dtype=np.float64).reshape(len(plan))
        )

    @property
    def residual_bytes(self) -> np.ndarray:
        """Volume left on each contact: rate × duration / 8 − booked."""
        return self.plan.volume_bytes - self.booked_bytes

    def route(
        self,
        source_node,
        created_s,
        size_bytes,
        *,
        group=0,
        deadline_s=np.inf,
    ) -> CgrResult:
        """Route a batch of bundles (``[bundle]`` array-likes, scalars broadcast) in creation
        order (ties: the order given) and book their volumes; see ``CgrResult``."""
        src = np.atleast_1d(np.asarray(source_node, dtype=np.int64))
        n = src.shape[0]

        def column(values, dtype):
            return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=dtype), (n,)))

        created = column(created_s, np.float64)
        size = column(size_bytes, np.float64)
        grp = column(group, np.int64)
        deadline = column(deadline_s, np.float64)
        plan = self.plan
        if n and (src.min() < 0 or src.max() >= plan.n_nodes):
            raise ValueError(f"source_node must be node ids in 0..{plan.n_nodes - 1}")
        if n and not (np.all(np.isfinite(created)) and np.all(size > 0)):
            raise ValueError("created_s must be finite and size_bytes > 0 for every bundle")
        if n and (grp.min() < 0 or grp.max() >= len(self.groups)):
            raise ValueError(f"group must be in 0..{len(self.groups) - 1} (destination sets)")
        limit = np.minimum(deadline, self.horizon_s)
        found, arrival, hops, dest, offsets, contacts = _route_batch(
            (np.argsort(created, kind="stable"), src, created, size, limit, grp),
            (plan.start_s, plan.end_s, plan.rate_bps, plan.owlt_s, plan.to_node),
            self._pairs,
            self._group_index,
            self.booked_bytes,
        )
        expires = np.isfinite(deadline) & (deadline <= self.horizon_s)
        status = np.where(found, DELIVERED, np.where(expires, DROPPED, PENDING))
        return CgrResult(
            created_s=created,
            size_bytes=size,
            status=status.astype(np.int8),
            delivered_s=arrival,
            hops=hops,
            destination_node=dest,
            route_offsets=offsets,
            route_contacts=contacts,
            booked_bytes=self.booked_bytes.copy(),
            residual_bytes=self.residual_bytes,
        )


def route_bundles(
    plan: ContactPlan,
    source_node,
    created_s,
    size_bytes,
    destinations,
    *,
    group=0,
    deadline_s=np.inf,
    horizon_s: float | None = None,
    booked_bytes: np.ndarray | None = None,
) -> CgrResult:
    """Route one batch of bundles over ``plan`` from empty (or ``booked_bytes``) contacts:
    ``CgrRouter(plan, destinations, ...).route(...)``."""
    router = CgrRouter(plan, destinations, horizon_s=horizon_s, booked_bytes=booked_bytes)
    return router.route(source_node, created_s, size_bytes, group=group, deadline_s=deadline_s)
