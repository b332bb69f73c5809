"""ISL patterns: +grid identical to Hypatia's satgenpy, formation by range, bad shells."""

from __future__ import annotations

import numpy as np
import pytest
import satgen.isls as satgen_isls  # satgenpy, a test dependency (pyproject.toml [test])

from orbitgrid.errors import ScenarioError
from orbitgrid.network.topology import ConstellationIndex, formation_isls, plus_grid_isls


@pytest.mark.parametrize(("planes", "per_plane", "shift"), [(72, 22, 0), (34, 34, 1), (5, 3, 2)])
def test_plus_grid_equals_satgenpy(tmp_path, planes, per_plane, shift):
    """Source: satgen.isls.generate_plus_grid_isls (satgenpy 0.4.0); exact equality of the
    set of pairs, including isl_shift and the wrap-around between first and last plane."""
    ref = satgen_isls.generate_plus_grid_isls(str(tmp_path / "isls.txt"), planes, per_plane, shift)
    ref = np.unique(np.sort(np.array(ref), axis=1), axis=0)
    ours = plus_grid_isls(ConstellationIndex.walker(planes, per_plane), isl_shift=shift)
    np.testing.assert_array_equal(ours, ref)


def test_plus_grid_two_shells_and_unplaced_satellites():
    """Links never join shells; a satellite with plane −1 (fits no plane) gets no +grid link."""
    a = ConstellationIndex.walker(3, 4)
    shell = np.concatenate([a.shell_index, np.ones(12, int), [0]])
    plane = np.concatenate([a.plane_index, a.plane_index, [-1]])
    slot = np.concatenate([a.slot_index, a.slot_index, [0]])
    c = ConstellationIndex(shell, plane, slot, np.array([3, 3]), np.array([4, 4]))
    pairs = plus_grid_isls(c)
    assert len(pairs) == 2 * 24
    assert not np.any((pairs[:, 0] < 12) & (pairs[:, 1] >= 12))
    assert 24 not in pairs
    assert "25 satellites in 2 shells" in repr(c)


def test_plus_grid_rejects_small_shell():
    with pytest.raises(ScenarioError, match="at least 3 planes and 3 satellites per plane"):
        plus_grid_isls(ConstellationIndex.walker(2, 10))


def test_formation_pairs_within_range():
    """k-d tree pairs equal the brute-force set of pairs closer than the range."""
    rng = np.random.default_rng(1)
    pos = rng.uniform(-10, 10, size=(60, 3))
    pairs = formation_isls(pos, 5.0)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    i, j = np.nonzero(np.triu(d <= 5.0, k=1))
    np.testing.assert_array_equal(pairs, np.stack([i, j], axis=1))
