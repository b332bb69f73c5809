"""Laser links between shells (``network.isl.inter_shell``): the per-step link finder against
brute force, and a compute cluster in its own shell reached through a broadband shell."""

from __future__ import annotations

import numpy as np
import pytest

import orbitgrid
from orbitgrid.errors import ScenarioError
from orbitgrid.network.topology import InterShellLinks, cross_shell_links
from orbitgrid.scenario import scenario_from_dict
from tests.workloads.test_stage import workload_scenario


def _brute_force(positions, links, up):
    pairs = set()
    for m in links.members:
        if not up[m]:
            continue
        d = np.linalg.norm(positions - positions[m], axis=1)
        ok = up & (links.shell_of != links.shell_of[m]) & (d <= links.max_range_km)
        order = np.argsort(d[ok], kind="stable")
        for other in np.flatnonzero(ok)[order][: links.terminals]:
            pairs.add((min(m, other), max(m, other)))
    return pairs


@pytest.mark.parametrize("seed", range(8))
def test_cross_shell_links_match_brute_force(seed):
    """Random satellites in three shells, some down: each member's nearest foreign
    satellites within range, as a brute-force search over all distances finds them."""
    rng = np.random.default_rng(seed)
    n = 120
    positions = rng.normal(size=(n, 3)) * 3000.0
    shell_of = rng.integers(0, 3, n)
    up = rng.random(n) > 0.1
    links = InterShellLinks(
        members=np.flatnonzero(shell_of == 2), shell_of=shell_of, terminals=int(rng.integers(1, 4)),
        max_range_km=2500.0, rate_bps=1e9,
    )  # fmt: skip
    pairs, lengths = cross_shell_links(positions, links, up)
    assert {tuple(p) for p in pairs.tolist()} == _brute_force(positions, links, up)
    np.testing.assert_allclose(
        lengths, np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    )


def _cluster_scenario(inter_shell: bool) -> dict:
    """The workload test scenario plus a 9-satellite cluster at 1,000 km (3 planes of 3)
    that only the cluster site uses, with or without laser links down to the broadband
    shell."""
    d = workload_scenario()
    d["constellation"].append({"name": "cluster", "type": "walker", "altitude": "1000 km",
                               "inclination": "53 deg", "planes": 3, "sats_per_plane": 3,
                               "phasing": 0, "spacecraft": "node"})  # fmt: skip
    w = d["workloads"]
    w["sites"][1]["shell"] = "cluster"
    w["options"] = [{"name": "cluster", "sites": ["cluster"]}]
    if inter_shell:
        d["network"]["isl"] = {"inter_shell": {"shells": ["cluster"], "terminals": 2,
                                               "max_range": "3000 km"}}  # fmt: skip
    return d


def test_cluster_shell_is_reached_through_the_broadband_shell():
    """Without inter-shell links users reach the cluster only when a cluster satellite is in
    their own view; with them, through the broadband shell, so more is served."""
    alone = orbitgrid.run(scenario_from_dict(_cluster_scenario(False)))
    linked = orbitgrid.run(scenario_from_dict(_cluster_scenario(True)))
    served = [r.summary["workloads"]["options"]["cluster"]["served_fraction"]
              for r in (alone, linked)]  # fmt: skip
    assert served[1] > served[0] + 0.1


def test_unknown_inter_shell_shell_is_named():
    d = _cluster_scenario(True)
    d["network"]["isl"]["inter_shell"]["shells"] = ["clustr"]
    with pytest.raises(ScenarioError, match=r"inter_shell.shells: no constellation shell 'clustr'"):
        orbitgrid.run(scenario_from_dict(d))
