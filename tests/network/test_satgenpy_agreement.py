"""Side by side with Hypatia's satgenpy (Kassing et al., IMC 2020) on Starlink shell 1.

Reference: satgenpy 0.4.0 ``calculate_fstate_shortest_path_without_gs_relaying`` (the routing of
``algorithm_free_one_only_over_isls``) on its own TLEs, +grid ISLs, 1,089,686 m max GSL length
and Hypatia's city list. satgenpy propagates with ephem, so both routings run on satgenpy's
own link lengths (see ``satgenpy_reference.py``). Tolerance: 1 m on every path length.
Run: ``pytest -m slow tests/network/test_satgenpy_agreement.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.network.satgenpy_reference import SatgenpyStep, write_inputs


@pytest.mark.slow
@pytest.mark.parametrize("t_s", [0.0, 137.0, 1800.0])
def test_path_lengths_equal_satgenpy_within_1_m(tmp_path, t_s):
    tle, gs = write_inputs(tmp_path, n_cities=25)
    ref = SatgenpyStep(tle, gs, t_s, tmp_path)
    ours, hops = ref.orbitgrid_route()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref.path_length_m))
    assert np.nanmax(np.abs(ours - ref.path_length_m)) < 1.0
    # Same number of links, pair by pair (paths themselves may differ only on exact ties).
    ref_hops = np.array(
        [[len(ref.paths.get((s, d), [0])) - 1 for d in range(ref.n_gs)] for s in range(ref.n_gs)]
    )
    routed = ~np.isnan(ours)
    assert np.mean(ref_hops[routed] == hops[routed]) > 0.95
