"""Ground stations needed (docs/observation.md, "Ground stations needed"): the latency search
against the coverage order and against an exhaustive search over station subsets (the test
oracle), on small contact plans built by hand and delivered with ``delivery.simulate``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from orbitgrid.network.contact_plan import KIND_GSL_DOWN, ContactPlan
from orbitgrid.observation.contacts import DeliveryPlan, restrict_to_stations
from orbitgrid.observation.delivery import Tiles, simulate
from orbitgrid.observation.stations import (
    greedy_order,
    latency_percentile,
    station_windows,
    stations_needed,
)

WINDOW_S = 60.0
RATE_BPS = 1e6  # 125 kB/s: a 1 MB tile takes 8 s of a pass
TILE_BYTES = 1e6


class Synthetic:
    """Satellites ``0..n_sat-1`` and stations after them; ``passes[station]`` lists
    ``(satellite, start_s, end_s)`` downlinks; tiles of ``TILE_BYTES`` captured at
    ``captures`` ``(satellite, time_s)``. Raw delivery, unlimited storage, no ISLs."""

    def __init__(self, n_sat, passes, captures, horizon_s):
        self.n_sat, self.horizon_s = n_sat, horizon_s
        rows = [(sat, n_sat + j, a, b) for j, p in enumerate(passes) for sat, a, b in p]
        frm, to, start, end = (np.array(c) for c in zip(*rows, strict=True))
        n_nodes = n_sat + len(passes)
        plan = ContactPlan.from_arrays(frm, to, start, end, RATE_BPS, n_nodes=n_nodes,
                                       kind=KIND_GSL_DOWN)  # fmt: skip
        none = np.zeros(0, np.int64)
        self.delivery = DeliveryPlan(
            plan=plan,
            stations=n_sat + np.arange(len(passes)),
            node_names=[f"n{i}" for i in range(n_nodes)],
            station_antennas={},
            visible_passes=len(rows),
            visible_contact_hours=0.0,
            relay_nodes=none,
            relay_station=none,
        )
        captures = sorted(captures, key=lambda c: c[1])
        sat = np.array([c[0] for c in captures], np.int64)
        n = len(sat)
        self.tiles = Tiles(
            satellite=sat,
            capture_s=np.array([c[1] for c in captures], float),
            priority=np.zeros(n),
            cloud_fraction=np.zeros(n),
            latitude_deg=np.zeros(n),
            longitude_deg=np.zeros(n),
            size_bytes=np.full(n, TILE_BYTES),
            keep=np.ones(n, bool),
        )
        self._latency: dict[tuple[int, ...], np.ndarray] = {}

    def order(self) -> list[int]:
        d = self.delivery
        windows = station_windows(d.plan, d.stations, d.relay_nodes, d.relay_station, self.n_sat)
        return greedy_order(windows)[0]

    def latency_of(self, kept, strategy: str = "raw") -> np.ndarray:
        """Capture-to-ground of every tile with the stations ``kept`` (remembered per set)."""
        key = tuple(sorted(int(i) for i in kept))
        if key not in self._latency:
            d = self.delivery
            keep = d.stations[np.asarray(key, np.int64)]
            o = simulate(strategy, self.tiles, None, self.n_sat, WINDOW_S, self.horizon_s,
                         restrict_to_stations(d, keep), keep, np.inf, "drop-oldest", 0.0,
                         None)  # fmt: skip
            self._latency[key] = o.bundle_delivered_s - self.tiles.capture_s[o.bundle_tile]
        return self._latency[key]

    def meets(self, kept, target_s: float, percentile: float) -> bool:
        return latency_percentile(self.latency_of(kept), percentile) <= target_s


def coverage_k(case: Synthetic, target_s: float, percentile: float) -> int | None:
    """The former search: the first k of the coverage order."""
    order = case.order()
    return next(
        (k for k in range(1, len(order) + 1) if case.meets(order[:k], target_s, percentile)),
        None,
    )


def exhaustive_k(case: Synthetic, target_s: float, percentile: float) -> int | None:
    """The oracle: subsets in increasing size; the true minimum."""
    n = len(case.delivery.stations)
    for k in range(1, n + 1):
        if any(case.meets(c, target_s, percentile) for c in itertools.combinations(range(n), k)):
            return k
    return None


def search(case: Synthetic, target_s: float, percentile: float):
    return stations_needed(case.order(), ["raw"], case.latency_of, target_s, percentile)


def test_latency_search_beats_a_coverage_order_that_adds_late_coverage():
    """One satellite captures at 0 s and 5,000 s. Station 0 has a long pass (10,000 s) that
    comes late (20,000 s); stations 1 and 2 short passes (100 s) just after each capture.
    Coverage ranks 0, 1, 2 and needs all three for every tile within 1,000 s; the minimum
    is {1, 2}: the search takes 2 first (one pass after both captures: 5,100 s worst, where
    0 gives 20,000 s and 1 leaves a tile undelivered), then 1."""
    passes = [[(0, 20_000.0, 30_000.0)], [(0, 100.0, 200.0)], [(0, 5_100.0, 5_200.0)]]
    case = Synthetic(1, passes, [(0, 0.0), (0, 5_000.0)], horizon_s=40_000.0)
    target, percentile = 1_000.0, 100.0
    assert case.order() == [0, 1, 2]
    assert coverage_k(case, target, percentile) == 3
    assert exhaustive_k(case, target, percentile) == 2
    found = search(case, target, percentile)
    assert found.needed == {"raw": 2}
    assert found.chosen == {"raw": [2, 1]}
    assert found.tried[0]["raw"] == pytest.approx(5_100.0, abs=10.0)
    assert found.tried[1]["raw"] <= target < found.tried[0]["raw"]
    assert found.full["raw"] <= target


def _random_case(rng: np.random.Generator) -> tuple[Synthetic, float, float]:
    """2 satellites, 6 stations of 1–3 passes (60–900 s) in 6 h, 12 captures in the first
    4 h; the target is the p90 of a random pair or triple, so some k ≤ 3 meets it."""
    horizon = 6 * 3600.0
    passes = []
    for _ in range(6):
        p = []
        for _ in range(rng.integers(1, 4)):
            start = float(rng.uniform(0.0, horizon - 900.0))
            p.append((int(rng.integers(0, 2)), start, start + float(rng.uniform(60.0, 900.0))))
        passes.append(p)
    captures = [(int(rng.integers(0, 2)), float(rng.uniform(0.0, 4 * 3600.0))) for _ in range(12)]
    case = Synthetic(2, passes, captures, horizon)
    size = int(rng.integers(2, 4))
    some = sorted(rng.choice(6, size=size, replace=False).tolist())
    percentile = 90.0
    target = latency_percentile(case.latency_of(some), percentile)
    return case, target, percentile


def test_latency_search_against_the_coverage_order_and_the_exhaustive_minimum():
    """Random plans of 6 stations (seeds 0–19, and 24, 32, 177 picked out of 0–199 below):
    the search meets the target with the stations it reports, never needs more than the
    coverage order (guaranteed: the coverage guess is tried at every k) and never fewer than
    the exhaustive minimum (the oracle). Greedy on latency is not exhaustive. Measured over
    seeds 0–199: fewer stations than the coverage order in 68 plans, more than the minimum in
    12 (by one, except seed 24: 4 for 2); without the coverage guess, greedy alone would need
    more than the coverage order in seeds 32 (4 for 3) and 177 (3 for 2). On the seeds here:
    fewer than the coverage order in 5, more than the minimum in 2 (seeds 10 and 24)."""
    fewer = differs = 0
    for seed in [*range(20), 24, 32, 177]:
        case, target, percentile = _random_case(np.random.default_rng(seed))
        found = search(case, target, percentile)
        k, chosen = found.needed["raw"], found.chosen["raw"]
        assert k is not None and len(chosen) == k == len(set(chosen)), seed
        assert case.meets(chosen, target, percentile), seed
        by_coverage = coverage_k(case, target, percentile)
        best = exhaustive_k(case, target, percentile)
        assert best <= k <= by_coverage, (seed, best, k, by_coverage)
        assert k <= best + 2, seed
        fewer += k < by_coverage
        differs += k != best
    assert fewer >= 4  # the coverage order alone gives 0
    assert differs <= 2


def test_search_per_strategy_ties_unreachable_targets_and_the_bound():
    """A figure table by hand (station set → latency). Strategies get their own order;
    equal figures go to the coverage order; a target all stations miss gives None after one
    delivery; above ``SHORTLIST_ABOVE`` stations a step tries only the first ``SHORTLIST``
    remaining of the coverage order."""
    order = [3, 0, 1, 2]
    calls: list[tuple[tuple[int, ...], str]] = []

    def latency_of(kept, strategy):
        calls.append((tuple(kept), strategy))
        kept = set(kept.tolist())
        if strategy == "a":  # station 2 alone does it
            return np.array([1.0 if 2 in kept else 9.0])
        if strategy == "b":  # nothing alone; 0 with 1 does it
            return np.array([1.0 if {0, 1} <= kept else 9.0])
        return np.array([np.nan])  # "c": never delivered

    found = stations_needed(order, ["a", "b", "c"], latency_of, 5.0, 50.0)
    # a: guess {3} misses, candidates 3, 0, 1 tie at 9 and 2 meets.
    assert found.needed["a"] == 1 and found.chosen["a"] == [2]
    # b: every single station ties at 9 → 3 (first by coverage); then guess {3, 0} misses,
    # {3, 0}, {3, 1}, {3, 2} tie, so the search goes on with 3, 0; k = 3 guess {3, 0, 1}
    # meets. The minimum is 2 ({0, 1}): ties hide a pair's worth, greedy is not exhaustive.
    assert found.needed["b"] == 3 and found.chosen["b"] == [3, 0, 1]
    assert found.needed["c"] is None and found.chosen["c"] == []
    assert found.full == {"a": 1.0, "b": 1.0, "c": np.inf}
    assert sum(s == "c" for _, s in calls) == 1
    assert found.deliveries == len(calls) == len(set(calls))

    n, shortlist = 40, 6
    seen: set[int] = set()

    def many(kept, strategy):  # any 3 stations, or the last of the coverage order alone
        if len(kept) < n:
            seen.update(kept.tolist())
        return np.array([1.0 if len(kept) >= 3 or 39 in kept.tolist() else 9.0])

    found = stations_needed(list(range(n)), ["a"], many, 5.0, 50.0, shortlist_above=30,
                            shortlist=shortlist)  # fmt: skip
    # Steps 1 and 2 try stations 0–5 and 1–6 only: 39 alone is never tried (the bound's cost).
    assert seen == set(range(shortlist + 1))
    assert found.needed == {"a": 3} and found.chosen == {"a": [0, 1, 2]}
    assert found.deliveries == 14 <= 1 + 3 * (1 + shortlist)
    # Without the shortlist every station is a candidate and 39 alone is found.
    found = stations_needed(list(range(n)), ["a"], many, 5.0, 50.0, shortlist_above=n)
    assert found.needed == {"a": 1} and found.chosen == {"a": [39]}
