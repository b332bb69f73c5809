"""How many of the configured ground stations a target capture-to-ground latency needs.

Model (docs/observation.md, "Ground stations needed"):

1. **Coverage order.** The stations (relay feeder stations included) are ranked greedily by
   added coverage: start from none; at each step add the station whose contacts add the most
   *covered satellite-time*, Σ over satellites of the measure of the union of that
   satellite's contact windows with the chosen stations (downlink passes after antenna
   allocation; for a relay's station, the satellite's laser windows to that relay). Ties go
   to the station listed first. This is the greedy rule for maximum coverage, within
   (1 − 1/e) of the best k-subset's coverage (Nemhauser, Wolsey & Fisher, Math. Prog. 14,
   1978); coverage is a proxy for latency, not latency itself, so it serves as a first guess
   and a tie-break only.
2. **Latency figure.** A set of stations is kept (every other downlink and feeder removed
   from the contact plan, ISLs kept) and the strategy delivered again
   (``delivery.simulate``); its figure is the ``percentile`` of capture-to-ground over every
   bundle made, a bundle not delivered by the end counting as infinitely late (so a backlog
   that never clears never meets a target).
3. **Latency search**, per strategy. With every station the target must be met, else the
   strategy needs ``None``. Then for k = 1, 2, …: the first k stations of the coverage order
   are tried first (the cheap guess); if they miss the target, each remaining candidate is
   added in turn to the k − 1 stations chosen so far and the one giving the lowest figure is
   chosen (ties to the earlier in the coverage order, hence to the station listed first).
   The strategy needs the first k at which the guess or a candidate meets the target (the
   first such candidate in coverage order ends the step); it reports that set in chosen
   order. Because the guess is tried at every k, the search never needs more stations than
   the coverage order alone; greedy on latency is not exhaustive, so it can need more than
   the true minimum (the tests compare it with an exhaustive search on small plans).
4. **Bound.** Per strategy: one delivery with every station (the caller may reuse its main
   delivery), then at step k at most 1 + min(n − k + 1, ``SHORTLIST``) deliveries (the guess
   and the candidates; a station set already delivered is not delivered again), so at most
   (n + 1)(n + 2)/2 for n stations. Above ``SHORTLIST_ABOVE`` stations only the first
   ``SHORTLIST`` remaining stations of the coverage order are candidates at each step: at most
   1 + k (1 + ``SHORTLIST``) deliveries to reach k, whatever n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from orbitgrid.network.contact_plan import KIND_GSL_DOWN, ContactPlan


def covered_seconds(satellite: np.ndarray, start_s: np.ndarray, end_s: np.ndarray) -> float:
    """Σ over satellites of the measure of the union of their ``[start, end)`` windows, s.

    Windows of different satellites are shifted apart by a span longer than all of them, so
    one sort and one running maximum serve every satellite at once."""
    if satellite.size == 0:
        return 0.0
    span = float(end_s.max() - min(start_s.min(), 0.0)) + 1.0
    lo = start_s + satellite * span
    hi = end_s + satellite * span
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    before = np.r_[-np.inf, reach[:-1]]
    return float(np.sum(np.maximum(hi - np.maximum(lo, before), 0.0)))


def station_windows(plan: ContactPlan, stations: np.ndarray, relay_nodes: np.ndarray,
                    relay_station: np.ndarray, n_satellites: int):  # fmt: skip
    """Per station: the ``(satellite, start_s, end_s)`` windows through which satellites reach
    it — its downlink passes and the laser windows of the relays it feeds from."""
    out = []
    for node in stations:
        into = (plan.kind == KIND_GSL_DOWN) & (plan.to_node == node)
        into |= np.isin(plan.to_node, relay_nodes[relay_station == node])
        into &= plan.from_node < n_satellites
        out.append((plan.from_node[into], plan.start_s[into], plan.end_s[into]))
    return out


def greedy_order(windows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[list, list]:
    """Station indices in greedy order of added coverage, and the coverage (s) after each."""
    chosen: list[int] = []
    covered: list[float] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    left = list(range(len(windows)))
    while left:
        best, best_value = left[0], -1.0
        for i in left:  # stations are few; satellites stay an array axis
            sat, lo, hi = (np.concatenate(x) for x in zip(*parts, windows[i], strict=True))
            value = covered_seconds(sat, lo, hi)
            if value > best_value + 1e-9:
                best, best_value = i, value
        chosen.append(best)
        covered.append(best_value)
        parts.append(windows[best])
        left.remove(best)
    return chosen, covered


def latency_percentile(latency_s: np.ndarray, percentile: float) -> float:
    """The ``percentile`` of latencies where NaN (not delivered) counts as +∞ (module
    docstring), as the order statistic rounded up (numpy ``"higher"``: a latency that
    occurred, never an interpolation towards ∞); inf when more than (100 − percentile) % are
    undelivered."""
    if latency_s.size == 0:
        return float("nan")
    values = np.where(np.isnan(latency_s), np.inf, latency_s)
    return float(np.percentile(values, percentile, method="higher"))


SHORTLIST_ABOVE = 30
"""More stations than this: each step of the latency search tries ``SHORTLIST`` candidates."""
SHORTLIST = 6
"""Candidates per step for a long station list: the first remaining in the coverage order."""


@dataclass
class StationSearch:
    """The latency search's result (module docstring), station indices into ``order``'s
    list. ``needed[strategy]``: fewest stations found (None: all stations miss the target);
    ``chosen[strategy]``: those stations in chosen order ([] when None); ``tried[k - 1]``:
    per strategy still searching at k, the figure of the k stations carried on (or reported);
    ``full``: per strategy the figure with every station; ``deliveries``: distinct (station
    set, strategy) figures computed, the all-station ones included."""

    needed: dict[str, int | None]
    chosen: dict[str, list[int]]
    tried: list[dict[str, float]]
    full: dict[str, float]
    deliveries: int


def stations_needed(
    order: list[int],
    strategies: list[str],
    latency_of: Callable[[np.ndarray, str], np.ndarray],
    target_s: float,
    percentile: float,
    shortlist_above: int = SHORTLIST_ABOVE,
    shortlist: int = SHORTLIST,
) -> StationSearch:
    """The latency search (module docstring) over the stations ``order`` (coverage order,
    ``greedy_order``). ``latency_of(station_indices, strategy)`` returns capture-to-ground of
    every bundle made (NaN: not delivered), the indices sorted ascending."""
    figures: dict[tuple[frozenset, str], float] = {}

    def figure(stations, strategy: str) -> float:
        key = (frozenset(stations), strategy)
        if key not in figures:
            chosen = np.sort(np.asarray(list(key[0]), dtype=np.int64))
            figures[key] = latency_percentile(latency_of(chosen, strategy), percentile)
        return figures[key]

    def meets(value: float) -> bool:
        return bool(value <= target_s)  # NaN (no bundle) and inf never meet

    needed: dict[str, int | None] = dict.fromkeys(strategies)
    chosen: dict[str, list[int]] = {s: [] for s in strategies}
    path: dict[str, list[int]] = {s: [] for s in strategies}
    full = {s: figure(order, s) if order else float("nan") for s in strategies}
    searching = [s for s in strategies if meets(full[s])]
    tried: list[dict[str, float]] = []
    for k in range(1, len(order) + 1):
        if not searching:
            break
        step: dict[str, float] = {}
        for strategy in list(searching):
            guess = figure(order[:k], strategy)
            if meets(guess):
                found, step[strategy] = order[:k], guess
            else:
                so_far = path[strategy]
                left = [i for i in order if i not in so_far]
                if len(order) > shortlist_above:
                    left = left[:shortlist]
                best, best_value = left[0], figure([*so_far, left[0]], strategy)
                for i in left[1:]:  # in coverage order, so a tie keeps the earlier
                    if meets(best_value):
                        break
                    value = figure([*so_far, i], strategy)
                    if value < best_value:
                        best, best_value = i, value
                so_far.append(best)
                found, step[strategy] = so_far, best_value
                if not meets(best_value):
                    continue
            needed[strategy] = k
            chosen[strategy] = list(found)
            searching.remove(strategy)
        tried.append(step)
    return StationSearch(needed, chosen, tried, full, len(figures))
