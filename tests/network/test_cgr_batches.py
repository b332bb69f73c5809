"""Contact graph routing over successive batches, as the Earth-observation delivery uses it:
several destination sets in one batch, per-bundle deadlines, bundle sizes up to larger than
most contacts' volume, and volume freed between batches (an evicted bundle gives its booking
back), each bundle checked against the time-expanded oracle of ``test_cgr.py``."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.network.cgr import DELIVERED, DROPPED, PENDING, CgrRouter
from tests.network.test_cgr import (
    HORIZON_S,
    UNIT_BYTES,
    oracle_delivery,
    random_plan,
    replay_route,
)


@pytest.mark.parametrize("seed", range(40))
def test_batches_with_destination_sets_deadlines_and_freed_volume_equal_the_oracle(seed):
    """Three batches on one router (5 nodes, 5–21 contacts, 3 destination sets): every
    bundle's delivery time and hop count equal the oracle's on the volumes booked before it
    (creation order, earlier batches included); a bundle the oracle cannot deliver by
    min(deadline, horizon) is dropped when its deadline falls within the horizon and pending
    otherwise; booked volumes equal the routed bytes; between batches some booked volume is
    freed (``booked_bytes`` lowered, as an eviction does) and the next batch must use it."""
    rng = np.random.default_rng(5000 + seed)
    plan = random_plan(rng, n_nodes=5, n_contacts=int(rng.integers(5, 22)))
    groups = [
        sorted(rng.choice(5, size=int(rng.integers(1, 3)), replace=False).tolist())
        for _ in range(3)
    ]
    router = CgrRouter(plan, groups, horizon_s=HORIZON_S)
    booked = np.zeros(len(plan))
    for _ in range(3):
        n = int(rng.integers(1, 10))
        src = rng.integers(0, 5, n)
        created = rng.integers(0, 80, n).astype(float)
        sizes = rng.choice([1, 2, 4, 40], n) * UNIT_BYTES
        grp = rng.integers(0, 3, n)
        deadline = np.where(rng.random(n) < 0.4, created + rng.integers(1, 60, n), np.inf)
        result = router.route(src, created, sizes, group=grp, deadline_s=deadline)
        for b in np.argsort(created, kind="stable"):
            expected = oracle_delivery(
                plan, booked, src[b], created[b], sizes[b], groups[grp[b]], HORIZON_S
            )
            if expected is not None and expected[0] > min(deadline[b], HORIZON_S):
                expected = None
            if expected is None:
                expires = np.isfinite(deadline[b]) and deadline[b] <= HORIZON_S
                assert result.status[b] == (DROPPED if expires else PENDING)
                continue
            assert result.status[b] == DELIVERED
            assert (result.delivered_s[b], int(result.hops[b])) == expected
            route = result.route(b)
            assert replay_route(plan, booked, route, created[b], sizes[b]) == result.delivered_s[b]
            np.add.at(booked, route, sizes[b])
        np.testing.assert_array_equal(result.booked_bytes, booked)
        assert np.all(booked <= plan.volume_bytes)
        if booked.any() and rng.random() < 0.7:
            c = int(rng.choice(np.flatnonzero(booked)))
            booked[c] -= min(booked[c], UNIT_BYTES)
            router.booked_bytes[:] = booked
