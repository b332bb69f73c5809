"""How many of the configured ground stations a target capture-to-ground latency needs.

Model (docs/observation.md, "Ground stations needed"):

1. **Order.** The stations (relay feeder stations included) are ranked greedily by added
   coverage: start from none; at each step add the station whose contacts add the most
   *covered satellite-time*, Σ over satellites of the measure of the union of that
   satellite's contact windows with the chosen stations (downlink passes after antenna
   allocation; for a relay's station, the satellite's laser windows to that relay). Ties go
   to the station listed first. This is the greedy rule for maximum coverage, within
   (1 − 1/e) of the best k-subset's coverage (Nemhauser, Wolsey & Fisher, Math. Prog. 14,
   1978); coverage is a proxy for latency, not latency itself.
2. **Search.** For k = 1, 2, … the first k stations of that order are kept (every other
   downlink and feeder removed from the contact plan, ISLs kept) and each strategy is
   delivered again (``delivery.simulate``); its latency figure is the ``percentile`` of
   capture-to-ground over every bundle made, a bundle not delivered by the end counting as
   infinitely late (so a backlog that never clears never meets a target). A strategy needs
   the smallest k that meets the target, ``None`` when even all stations do not. The scan
   stops once every strategy has met it.
"""

from __future__ import annotations

from collections.abc import Callable

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


def stations_needed(
    order: list[int],
    strategies: list[str],
    latency_of: Callable[[np.ndarray, str], np.ndarray],
    target_s: float,
    percentile: float,
) -> tuple[dict[str, int | None], list[dict[str, float]]]:
    """Smallest k per strategy (module docstring) and the latency figure at each k tried.
    ``latency_of(first_k_station_indices, strategy)`` returns capture-to-ground of every
    bundle made (NaN: not delivered)."""
    needed: dict[str, int | None] = dict.fromkeys(strategies)
    tried: list[dict[str, float]] = []
    for k in range(1, len(order) + 1):
        figures = {}
        for strategy in strategies:
            if needed[strategy] is not None:
                continue
            value = latency_percentile(latency_of(np.asarray(order[:k]), strategy), percentile)
            figures[strategy] = value
            if value <= target_s:
                needed[strategy] = k
        tried.append(figures)
        if all(v is not None for v in needed.values()):
            break
    return needed, tried
