"""Static network topology: which satellites may link to which (ISL patterns).

The engine gives the constellation as per-satellite ``shell_index``, ``plane_index`` and
``slot_index`` arrays plus per-shell ``planes`` and ``sats_per_plane`` (satellites ordered
plane-major within a shell, as Hypatia's generated TLEs). From that, ``plus_grid_isls`` builds the
"+grid" pattern of Hypatia's ``satgen.isls.generate_plus_grid_isls`` (Kassing et al., IMC 2020):
each satellite links to the next satellite in its plane and to the satellite at slot
``(slot + isl_shift) mod sats_per_plane`` in the next plane (with wrap-around), giving four
links per satellite. ``formation_isls`` links every pair within a range at one instant;
``cross_shell_links`` links chosen satellites to their nearest satellites of other shells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from orbitgrid.errors import ScenarioError

if TYPE_CHECKING:  # the plan imports the scenario, which imports the network package
    from orbitgrid.plan import Plan


@dataclass(frozen=True, eq=False)
class ConstellationIndex:
    """Where each satellite sits: shell, plane, slot (index within plane); and each shell's size.

    Arrays ``shell_index``, ``plane_index``, ``slot_index`` are ``[satellite]`` int; ``planes``
    and ``sats_per_plane`` are ``[shell]`` int. Satellites that fit no plane (from
    ``grouping.group_catalog``) carry ``plane_index == -1`` and get no +grid links.
    """

    shell_index: np.ndarray
    plane_index: np.ndarray
    slot_index: np.ndarray
    planes: np.ndarray
    sats_per_plane: np.ndarray
    # The scenario's shells (``constellation[i]``) by name, each a range of satellite ids.
    shell_names: tuple[str, ...] = ()
    shell_slices: tuple[slice, ...] = ()

    @classmethod
    def walker(cls, planes: int, sats_per_plane: int) -> ConstellationIndex:
        """One shell of ``planes × sats_per_plane`` satellites in plane-major order."""
        n = planes * sats_per_plane
        idx = np.arange(n)
        return cls(
            shell_index=np.zeros(n, dtype=np.int64),
            plane_index=idx // sats_per_plane,
            slot_index=idx % sats_per_plane,
            planes=np.array([planes]),
            sats_per_plane=np.array([sats_per_plane]),
        )

    @property
    def n_satellites(self) -> int:
        return int(self.shell_index.shape[0])

    def __repr__(self) -> str:
        return (
            f"ConstellationIndex({self.n_satellites} satellites in {len(self.planes)} shells, "
            f"planes={self.planes.tolist()}, sats_per_plane={self.sats_per_plane.tolist()})"
        )


def constellation_index(plan: Plan) -> ConstellationIndex:
    """Shell, plane and slot of every satellite, as the network topology wants them.

    Each scenario shell with a plane layout is one network shell; a ``planes: auto`` shell
    contributes the sub-shells its grouping found. Satellites without a layout (a TLE shell
    given no planes, or ones grouping could not place) keep plane −1 and get no +grid links.
    """
    shell_index = np.full(plan.satellite_count, -1, dtype=np.int64)
    planes: list[int] = []
    per_plane: list[int] = []
    for shell in plan.shells:
        cut = shell.satellites
        if shell.grouping is not None:
            found = shell.grouping.constellation
            shell_index[cut] = np.where(found.shell_index >= 0, found.shell_index + len(planes), -1)
            planes.extend(int(p) for p in found.planes)
            per_plane.extend(int(s) for s in found.sats_per_plane)
        elif shell.planes is not None:
            shell_index[cut] = len(planes)
            planes.append(shell.planes)
            per_plane.append(shell.sats_per_plane)
    return ConstellationIndex(
        shell_index=shell_index,
        plane_index=plan.plane_index,
        slot_index=plan.slot_index,
        planes=np.array(planes, dtype=np.int64),
        sats_per_plane=np.array(per_plane, dtype=np.int64),
        shell_names=tuple(shell.name for shell in plan.shells),
        shell_slices=tuple(shell.satellites for shell in plan.shells),
    )


def plus_grid_isls(constellation: ConstellationIndex, isl_shift: int = 0) -> np.ndarray:
    """ISL pairs ``[link, 2]`` (int64, a < b, unique) of the Hypatia "+grid" pattern per shell.

    Same pairs as ``satgen.isls.generate_plus_grid_isls(n_orbits, n_sats_per_orbit, isl_shift)``
    for each shell (validated in ``tests/network/test_topology.py``). Shells need at least 3 planes
    and 3 satellites per plane (as satgenpy requires), otherwise the neighbour links would repeat.
    Links only join satellites of the same shell whose plane and slot are known.
    """
    c = constellation
    if c.n_satellites == 0:
        raise ScenarioError(
            "the constellation is empty; +grid ISLs need satellites", "network.isl.pattern", "+grid"
        )
    for k, (p, s) in enumerate(zip(c.planes, c.sats_per_plane, strict=True)):
        if p < 3 or s < 3:
            raise ScenarioError(
                f"ISL pattern '+grid' needs at least 3 planes and 3 satellites per plane; "
                f"shell {k} has {p} planes × {s} satellites; use pattern 'none' or 'formation'",
                "network.isl.pattern",
                "+grid",
            )
    # Lookup table (shell, plane, slot) → satellite id, -1 where absent.
    offsets = np.concatenate([[0], np.cumsum(c.planes * c.sats_per_plane)])
    table = np.full(int(offsets[-1]), -1, dtype=np.int64)
    ok = c.plane_index >= 0
    sh, pl, sl = c.shell_index[ok], c.plane_index[ok], c.slot_index[ok]
    spp = c.sats_per_plane[sh]
    table[offsets[sh] + pl * spp + sl] = np.flatnonzero(ok)
    sat = np.flatnonzero(ok)
    n_planes = c.planes[sh]
    same_plane = table[offsets[sh] + pl * spp + (sl + 1) % spp]
    next_plane = table[offsets[sh] + ((pl + 1) % n_planes) * spp + (sl + isl_shift) % spp]
    a = np.concatenate([sat, sat])
    b = np.concatenate([same_plane, next_plane])
    keep = (b >= 0) & (a != b)
    pairs = np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1)
    return np.unique(pairs, axis=0)


def formation_isls(sat_ecef_km: np.ndarray, max_range_km: float) -> np.ndarray:
    """ISL pairs ``[link, 2]`` (a < b) of all satellites within ``max_range_km`` at one instant.

    Uses a k-d tree (scipy ``cKDTree.query_pairs``), O(n log n), so 10,000 satellites stay cheap.
    Input ``[sat, 3]`` km.
    """
    pairs = cKDTree(sat_ecef_km).query_pairs(max_range_km, output_type="ndarray")
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.sort(pairs.astype(np.int64), axis=1), axis=0)


@dataclass(frozen=True, eq=False)
class InterShellLinks:
    """Satellites with inter-shell terminals: ``members`` ids, ``shell_of [satellite]`` (the
    scenario shell of each satellite), ``terminals`` per member, range and rate."""

    members: np.ndarray
    shell_of: np.ndarray
    terminals: int
    max_range_km: float
    rate_bps: float


def cross_shell_links(
    sat_ecef_km: np.ndarray, links: InterShellLinks, up: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs [link, 2], length_km [link])`` at one instant: each member that is up links to
    its ``terminals`` nearest up satellites of other shells within ``max_range_km`` (k-d tree
    over the satellites, one query for all members); a pair found from both ends counts once.
    """
    n_sat = sat_ecef_km.shape[0]
    up = np.ones(n_sat, bool) if up is None else np.asarray(up, bool)
    members = links.members[up[links.members]]
    if members.size == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    # Ask for more neighbours than terminals: those of the member's own shell are skipped.
    own = np.bincount(links.shell_of[up], minlength=links.shell_of.max() + 1)
    k = min(int(links.terminals + own[links.shell_of[members]].max()), int(up.sum()))
    candidates = np.flatnonzero(up)
    tree = cKDTree(sat_ecef_km[candidates])
    distance, index = tree.query(sat_ecef_km[members], k=k, distance_upper_bound=links.max_range_km)
    distance, index = distance.reshape(len(members), k), index.reshape(len(members), k)
    found = index < len(candidates)
    other = np.where(found, candidates[np.minimum(index, len(candidates) - 1)], -1)
    foreign = found & (links.shell_of[np.maximum(other, 0)] != links.shell_of[members][:, None])
    # The first `terminals` foreign neighbours of each member, nearest first.
    rank = np.cumsum(foreign, axis=1)
    keep = foreign & (rank <= links.terminals)
    a = np.repeat(members, keep.sum(axis=1))
    b = other[keep]
    pairs = np.sort(np.stack([a, b], axis=1), axis=1)
    pairs, first = np.unique(pairs, axis=0, return_index=True)
    return pairs.astype(np.int64), distance[keep][first]
