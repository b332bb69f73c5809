"""Automatic grouping of a catalog into shells, planes and slots."""

from __future__ import annotations

import numpy as np

from orbitgrid.network.grouping import group_catalog
from orbitgrid.network.topology import ConstellationIndex, plus_grid_isls


def _hypatia_shell1():
    """Elements of Hypatia's generated Starlink shell 1 (satgenpy generate_tles_from_scratch:
    RAAN = plane × 360/72, M = slot × 360/22 + 360/44 on odd planes, 53°, 15.19 rev/day)."""
    planes, spp = 72, 22
    p = np.repeat(np.arange(planes), spp)
    k = np.tile(np.arange(spp), planes)
    raan = p * 360.0 / planes
    u = k * 360.0 / spp + np.where(p % 2 == 1, 360.0 / (2 * spp), 0.0)
    n = planes * spp
    return np.full(n, 53.0), raan, np.full(n, 15.19), np.full(n, 1e-7), u


def test_hypatia_shell1_grouped_back_to_its_own_order():
    """Source: Hypatia satgenpy TLE generator order (plane-major). Exact equality of plane and
    slot indices, hence of the +grid links."""
    res = group_catalog(*_hypatia_shell1())
    ref = ConstellationIndex.walker(72, 22)
    np.testing.assert_array_equal(res.constellation.plane_index, ref.plane_index)
    np.testing.assert_array_equal(res.constellation.slot_index, ref.slot_index)
    assert res.unplaced.size == 0
    np.testing.assert_array_equal(plus_grid_isls(res.constellation), plus_grid_isls(ref))
    assert "72×22" in repr(res)


def test_noisy_catalog_with_missing_and_stray_satellites():
    """Noise of 0.2° in RAAN and u, 2 km in altitude; a missing satellite keeps the others'
    slots; a satellite raising its orbit and an eccentric one are reported, not dropped; a
    second shell at 570 km/70° is found separately; catalog order is shuffled."""
    rng = np.random.default_rng(3)
    inc, raan, mm, ecc, u = _hypatia_shell1()
    n = inc.size
    raan = raan + rng.normal(0, 0.2, n)
    u = u + rng.normal(0, 0.2, n)
    mm = mm + rng.normal(0, 0.002, n)
    keep = np.ones(n, bool)
    keep[5] = False  # plane 0 slot 5 missing
    # Second shell: 10 planes × 8 at 70°, about 570 km (15.05 rev/day).
    p2 = np.repeat(np.arange(10), 8)
    inc = np.concatenate([inc[keep], np.full(80, 70.0), [53.0, 53.0]])
    raan = np.concatenate([raan[keep], p2 * 36.0 + 3.0, [100.0, 0.0]])
    mm = np.concatenate([mm[keep], np.full(80, 15.05), [15.6, 15.19]])
    ecc = np.concatenate([ecc[keep], np.full(80, 1e-4), [1e-4, 0.05]])
    u = np.concatenate([u[keep], np.tile(np.arange(8) * 45.0, 10), [10.0, 20.0]])
    true_plane = np.concatenate([np.repeat(np.arange(72), 22)[keep], p2, [-1, -1]])
    true_slot = np.concatenate(
        [np.tile(np.arange(22), 72)[keep], np.tile(np.arange(8), 10), [-1, -1]]
    )
    perm = rng.permutation(inc.size)
    res = group_catalog(inc[perm], raan[perm], mm[perm], ecc[perm], u[perm])
    c = res.constellation
    np.testing.assert_array_equal(c.plane_index, true_plane[perm])
    np.testing.assert_array_equal(c.slot_index, true_slot[perm])
    assert sorted(c.planes.tolist()) == [10, 72] and sorted(c.sats_per_plane.tolist()) == [8, 22]
    stray = np.flatnonzero(true_plane[perm] == -1)
    np.testing.assert_array_equal(np.sort(res.unplaced), np.sort(stray))
    assert all(res.reason[i] for i in stray)
