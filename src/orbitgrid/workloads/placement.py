"""Placement policies: at each step, which site serves each (population, class).

A policy is one function ``policy(problem) -> share`` registered under its name with
``@register("name")``; the scenario names it (``workloads.options[].policy``) and nothing else
changes when one is added. ``share [time, population, class, site]`` is the fraction of that
demand sent to each site (summing to 1 where any site is allowed, 0 where none is: that
demand is dropped as unserved).

Rules (allowed site kinds, same jurisdiction — the hook of the governance work) are applied
before the policy, as ``problem.allowed``; a policy never sends demand to a site that is not
allowed or cannot serve (model does not fit, no path, no capacity: ``latency_s`` inf).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba as nb
import numpy as np


@dataclass(frozen=True, eq=False)
class PlacementProblem:
    """What a policy sees for a block of steps.

    ``latency_s [time, population, class, site]``: expected response time without queueing
    (round trip, transfers, prefill and decode), inf where the site cannot serve.
    ``energy_j [time, population, class, site]``: energy per request at the site.
    ``demand_per_s [time, population, class]``: offered requests per second.
    ``queue [time, population, site]``: the queue (server pool) a site uses for that
    population at that step (the overhead satellite differs per user); ``capacity_per_s
    [time, queue, class]``: requests per second the pool serves when it serves only that class.
    ``spill_utilisation``: load at which fill-and-spill moves to the next site;
    ``preference [site]``: the rank of each site in the option's list (fill-and-spill fills
    them in that order; None: by latency).
    """

    latency_s: np.ndarray
    energy_j: np.ndarray
    demand_per_s: np.ndarray
    queue: np.ndarray
    capacity_per_s: np.ndarray
    spill_utilisation: float
    preference: np.ndarray | None = None

    @property
    def allowed(self) -> np.ndarray:
        return np.isfinite(self.latency_s)


Policy = Callable[[PlacementProblem], np.ndarray]
POLICIES: dict[str, Policy] = {}


def register(name: str) -> Callable[[Policy], Policy]:
    """Register a policy under ``name`` (the value of ``options[].policy``)."""

    def add(function: Policy) -> Policy:
        POLICIES[name] = function
        return function

    return add


def _one_hot_argmin(cost: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Everything to the allowed site of least ``cost`` (first on ties); nothing if none."""
    cost = np.where(allowed, cost, np.inf)
    best = np.argmin(cost, axis=-1)
    share = np.zeros(cost.shape)
    np.put_along_axis(share, best[..., None], 1.0, axis=-1)
    return share * allowed.any(axis=-1, keepdims=True)


@register("lowest-latency")
def lowest_latency(problem: PlacementProblem) -> np.ndarray:
    """Each request to the site with the lowest expected response time, ignoring load."""
    return _one_hot_argmin(problem.latency_s, problem.allowed)


@register("lowest-energy")
def lowest_energy(problem: PlacementProblem) -> np.ndarray:
    """Each request to the site that spends the least energy on it (latency breaks ties)."""
    # Latency in the last decimals: only ties of energy see it.
    scale = np.nanmax(np.where(problem.allowed, problem.energy_j, np.nan), initial=1.0)
    cost = problem.energy_j + 1e-9 * scale * np.where(problem.allowed, problem.latency_s, 0.0)
    return _one_hot_argmin(cost, problem.allowed)


@register("fill-and-spill")
def fill_and_spill(problem: PlacementProblem) -> np.ndarray:
    """Capacity-aware: each (population, class), in order, fills its sites in the option's
    order of preference (the order of ``options[].sites``; lowest latency first without
    one) up to ``spill_utilisation`` of each pool's capacity, then spills to the next; what
    fits nowhere goes to its lowest-latency site (where it queues)."""
    n_k = problem.latency_s.shape[-1]
    # Without a preference every site ranks the same: latency alone orders them.
    preference = np.zeros(n_k) if problem.preference is None else problem.preference
    return _fill_and_spill(
        np.where(problem.allowed, problem.latency_s, np.inf),
        np.asarray(preference, np.float64),
        problem.demand_per_s,
        problem.queue,
        problem.capacity_per_s,
        float(problem.spill_utilisation),
    )


@nb.njit(cache=True)
def _fill_and_spill(latency, preference, demand, queue, capacity, spill):
    n_t, n_p, n_c, n_k = latency.shape
    share = np.zeros(latency.shape)
    room = np.empty(capacity.shape[1])
    for t in range(n_t):
        room[:] = spill  # utilisation still free in each pool
        for p in range(n_p):
            for c in range(n_c):
                fastest = np.argmin(latency[t, p, c])
                if not np.isfinite(latency[t, p, c, fastest]):
                    continue
                # Preferred sites first; latency orders sites of equal preference; sites
                # that cannot serve last (the loop stops at the first of them).
                key = np.where(
                    np.isfinite(latency[t, p, c]), preference * 1e12 + latency[t, p, c], np.inf
                )
                order = np.argsort(key)
                left = demand[t, p, c]
                if left <= 0.0:
                    share[t, p, c, fastest] = 1.0
                    continue
                total = left
                for i in range(n_k):
                    k = order[i]
                    if not np.isfinite(latency[t, p, c, k]):
                        break
                    q = queue[t, p, k]
                    cap = capacity[t, q, c]
                    if cap <= 0.0 or room[q] <= 0.0:
                        continue
                    take = min(left, room[q] * cap)
                    room[q] -= take / cap
                    share[t, p, c, k] += take / total
                    left -= take
                    if left <= 0.0:
                        break
                if left > 0.0:
                    share[t, p, c, fastest] += left / total
    return share
