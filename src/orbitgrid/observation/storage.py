"""Onboard storage: what is kept when a satellite's store is full.

Each satellite holds *items* (raw tiles awaiting processing, and bundles waiting to leave)
up to ``capacity`` bytes. When the items on board plus the new ones exceed it, items are
evicted in eviction order until the rest fits:

- first the raw copies kept by the hybrid strategy (``item_class`` 0: "raw when bandwidth
  allows" never displaces anything else);
- then ``drop-oldest``: the oldest item first; ``drop-lowest-priority``: the lowest region
  priority first, the oldest first among equals (a new item of lower priority than
  everything stored is itself dropped).

The rule is a prefix rule: the items kept are the longest run, in keep order, whose bytes fit
(an item is not skipped so that a smaller, lower-ranked one fits instead). Vectorised over
every satellite at once (one lexsort and a per-satellite suffix sum).
"""

from __future__ import annotations

import numpy as np


def keep_mask(
    satellite: np.ndarray,
    size_bytes: np.ndarray,
    item_class: np.ndarray,
    priority: np.ndarray,
    created_s: np.ndarray,
    capacity_bytes: float,
    policy: str,
) -> np.ndarray:
    """Boolean ``[item]``: True for the items that stay (module docstring)."""
    n = len(satellite)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if policy == "drop-lowest-priority":
        order = np.lexsort((created_s, priority, item_class, satellite))
    else:
        order = np.lexsort((created_s, item_class, satellite))
    sat_sorted = satellite[order]
    size_sorted = size_bytes[order]
    # Suffix sums per satellite: bytes of this item and every item kept before it.
    reversed_cumsum = np.cumsum(size_sorted[::-1])[::-1]
    group_end = np.r_[np.flatnonzero(np.diff(sat_sorted)) + 1, n]
    end_index = np.repeat(group_end, np.diff(np.r_[0, group_end]))
    after = np.where(end_index < n, reversed_cumsum[np.minimum(end_index, n - 1)], 0.0)
    suffix = reversed_cumsum - after
    keep = np.empty(n, dtype=bool)
    # A tolerance of 1 byte in 1e12 keeps exact fits against float sums.
    keep[order] = suffix <= capacity_bytes * (1 + 1e-12)
    return keep
