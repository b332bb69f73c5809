"""Group a real catalog (TLE/OMM) into shells, planes and in-plane slots so +grid ISLs apply.

Model, from mean elements at one common epoch:

1. **Shells**: satellites are clustered by mean altitude (semi-major axis from the mean motion,
   a = (μ / n²)^(1/3) − R, WGS72 as SGP4) and inclination, splitting sorted values where the
   gap exceeds ``altitude_tolerance_km`` / ``inclination_tolerance_deg`` (single-linkage on
   one axis at a time). Eccentric orbits (e > ``max_eccentricity``) fit no shell.
2. **Planes**: within a shell, RAANs are clustered on the circle: sorted, cut where the gap
   exceeds ``raan_tolerance_deg``, starting from the widest gap. Planes are numbered by RAAN.
3. **Slots**: the shell's satellites per plane is the most common plane population. Within a
   plane, the slot of a satellite is its argument of latitude u rounded to the nominal spacing
   360°/N after removing the plane's phase (circular mean of u mod spacing), so a plane with a
   missing satellite keeps the slots of the others. Slot 0 is the nominal slot with u in
   [−spacing/4, 3·spacing/4) (Hypatia's order). Two satellites on one slot: the closer keeps
   it, the other is reported.

Satellites that fit no shell or plane (too few companions, eccentric, slot taken) are returned
in ``unplaced`` with ``plane_index = −1`` and get no +grid links; they are reported, never
silently dropped. Hypatia's generated Starlink shell 1 is grouped back into exactly its own
72 × 22 plane-major order (``tests/network/test_grouping.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orbitgrid.constants import WGS72
from orbitgrid.network.topology import ConstellationIndex

_SECONDS_PER_REV_DAY = 86400.0 / (2.0 * np.pi)


@dataclass(frozen=True, eq=False)
class GroupingResult:
    """Outcome of ``group_catalog``.

    Attributes
    ----------
    constellation : ``ConstellationIndex`` (unplaced satellites have plane and slot −1).
    unplaced : indices of satellites that fit no shell/plane/slot.
    reason : ``[satellite]`` str, "" when placed, else why not.
    shell_altitude_km, shell_inclination_deg : ``[shell]`` medians.
    """

    constellation: ConstellationIndex
    unplaced: np.ndarray
    reason: np.ndarray
    shell_altitude_km: np.ndarray
    shell_inclination_deg: np.ndarray

    def __repr__(self) -> str:
        c = self.constellation
        shells = ", ".join(
            f"{a:.0f} km/{i:.1f}°: {p}×{s}"
            for a, i, p, s in zip(
                self.shell_altitude_km,
                self.shell_inclination_deg,
                c.planes,
                c.sats_per_plane,
                strict=True,
            )
        )
        return (
            f"GroupingResult({c.n_satellites} satellites, {len(self.unplaced)} unplaced; {shells})"
        )


def _split_sorted(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Cluster labels of 1-D values: a new cluster where the sorted gap exceeds tolerance."""
    order = np.argsort(values, kind="stable")
    gaps = np.diff(values[order]) > tolerance
    labels_sorted = np.concatenate([[0], np.cumsum(gaps)])
    labels = np.empty_like(labels_sorted)
    labels[order] = labels_sorted
    return labels


def _split_circle_deg(angles_deg: np.ndarray, tolerance_deg: float) -> np.ndarray:
    """Cluster labels of angles on the circle, numbered in increasing angle from the widest gap."""
    a = np.mod(angles_deg, 360.0)
    order = np.argsort(a, kind="stable")
    s = a[order]
    gaps = np.diff(np.concatenate([s, [s[0] + 360.0]]))
    start = (int(np.argmax(gaps)) + 1) % len(s)
    rolled = np.roll(np.arange(len(s)), -start)
    unwrapped = s[rolled] + np.where(np.arange(len(s)) >= len(s) - start, 360.0, 0.0)
    cut = np.diff(unwrapped) > tolerance_deg
    lab_rolled = np.concatenate([[0], np.cumsum(cut)])
    labels = np.empty(len(s), dtype=np.int64)
    labels[order[rolled]] = lab_rolled
    return labels


def group_catalog(
    inclination_deg: np.ndarray,
    raan_deg: np.ndarray,
    mean_motion_rev_per_day: np.ndarray,
    eccentricity: np.ndarray,
    arg_of_latitude_deg: np.ndarray,
    *,
    altitude_tolerance_km: float = 10.0,
    inclination_tolerance_deg: float = 0.5,
    raan_tolerance_deg: float = 1.5,
    max_eccentricity: float = 0.01,
    min_planes: int = 3,
    min_sats_per_plane: int = 3,
    slot_tolerance: float = 0.35,
) -> GroupingResult:
    """Shell, plane and slot of each satellite from ``[satellite]`` mean elements (degrees).

    ``arg_of_latitude_deg`` is ω + M (≈ ω + ν for near-circular orbits) at one common epoch.
    ``slot_tolerance`` is the largest allowed distance from a nominal slot, as a fraction of
    the slot spacing. See the module docstring for the model. Satellites are ordered
    plane-major in the returned indices (``plane_index``, ``slot_index``) but keep their
    catalog positions.
    """
    inc = np.asarray(inclination_deg, dtype=np.float64)
    raan = np.asarray(raan_deg, dtype=np.float64)
    n_rev = np.asarray(mean_motion_rev_per_day, dtype=np.float64)
    ecc = np.asarray(eccentricity, dtype=np.float64)
    u = np.mod(np.asarray(arg_of_latitude_deg, dtype=np.float64), 360.0)
    n = inc.shape[0]
    n_rad_s = n_rev / _SECONDS_PER_REV_DAY
    alt_km = np.cbrt(WGS72.mu_km3_s2 / n_rad_s**2) - WGS72.radius_km

    shell = np.full(n, -1, np.int64)
    plane = np.full(n, -1, np.int64)
    slot = np.full(n, -1, np.int64)
    reason = np.full(n, "", dtype=object)
    reason[ecc > max_eccentricity] = f"eccentricity above {max_eccentricity}"
    cand = np.flatnonzero(ecc <= max_eccentricity)

    shells_planes, shells_spp, shells_alt, shells_inc = [], [], [], []
    if cand.size:
        alt_lab = _split_sorted(alt_km[cand], altitude_tolerance_km)
        for a_lab in np.unique(alt_lab):
            members = cand[alt_lab == a_lab]
            inc_lab = _split_sorted(inc[members], inclination_tolerance_deg)
            for i_lab in np.unique(inc_lab):
                sh = members[inc_lab == i_lab]
                _place_shell(
                    sh,
                    raan,
                    u,
                    raan_tolerance_deg,
                    min_planes,
                    min_sats_per_plane,
                    slot_tolerance,
                    len(shells_planes),
                    shell,
                    plane,
                    slot,
                    reason,
                    shells_planes,
                    shells_spp,
                )
                if len(shells_alt) < len(shells_planes):
                    shells_alt.append(float(np.median(alt_km[sh])))
                    shells_inc.append(float(np.median(inc[sh])))
    placed = plane >= 0
    shell[~placed] = -1
    constellation = ConstellationIndex(
        shell_index=np.where(placed, shell, 0),
        plane_index=plane,
        slot_index=slot,
        planes=np.array(shells_planes, dtype=np.int64),
        sats_per_plane=np.array(shells_spp, dtype=np.int64),
    )
    return GroupingResult(
        constellation=constellation,
        unplaced=np.flatnonzero(~placed),
        reason=reason,
        shell_altitude_km=np.array(shells_alt),
        shell_inclination_deg=np.array(shells_inc),
    )


def _place_shell(
    sh,
    raan,
    u,
    raan_tol,
    min_planes,
    min_spp,
    slot_tol,
    shell_id,
    shell,
    plane,
    slot,
    reason,
    shells_planes,
    shells_spp,
) -> None:
    """Assign planes and slots inside one altitude/inclination cluster (in place)."""
    if sh.size < min_planes * min_spp:
        reason[sh] = f"shell of {sh.size} satellites is smaller than {min_planes}×{min_spp}"
        return
    p_lab = _split_circle_deg(raan[sh], raan_tol)
    counts = np.bincount(p_lab)
    good_planes = np.flatnonzero(counts >= min_spp)
    for p in np.flatnonzero(counts < min_spp):
        reason[sh[p_lab == p]] = f"plane with fewer than {min_spp} satellites"
    if good_planes.size < min_planes:
        reason[sh] = f"fewer than {min_planes} planes with ≥ {min_spp} satellites"
        return
    # Number planes by increasing RAAN, starting from the plane nearest RAAN 0 (any start is
    # valid for +grid, which wraps around; this one makes the order reproducible).
    mean_raan = np.array(
        [
            np.degrees(np.angle(np.exp(1j * np.radians(raan[sh[p_lab == p]])).mean())) % 360.0
            for p in good_planes
        ]
    )
    dist0 = np.minimum(mean_raan, 360.0 - mean_raan)
    start = mean_raan[np.argmin(dist0)]
    good_planes = good_planes[np.argsort(np.mod(mean_raan - start, 360.0), kind="stable")]
    spp = int(np.bincount(counts[good_planes]).argmax())
    spacing = 360.0 / spp
    for new_p, p in enumerate(good_planes):
        members = sh[p_lab == p]
        # Plane phase: circular mean of u modulo the slot spacing.
        ang = np.radians(np.mod(u[members], spacing) * (360.0 / spacing))
        phase = np.degrees(np.arctan2(np.sin(ang).mean(), np.cos(ang).mean())) * spacing / 360.0
        x = (u[members] - phase) / spacing
        nominal = np.round(x)
        miss = np.abs(x - nominal)
        s = np.mod(nominal.astype(np.int64), spp)
        # The satellite nearest to its nominal slot keeps it; others are reported.
        order = np.argsort(miss, kind="stable")
        taken = np.zeros(spp, bool)
        for k in order:
            sat = members[k]
            if miss[k] > slot_tol:
                reason[sat] = "too far from any nominal slot of its plane"
            elif taken[s[k]]:
                reason[sat] = "slot already taken by a closer satellite"
            else:
                taken[s[k]] = True
                shell[sat] = shell_id
                plane[sat] = new_p
                slot[sat] = s[k]
        # Slot 0 is the nominal slot whose u lies in [−spacing/4, 3·spacing/4): Hypatia's order
        # (phase 0 or spacing/2), robust to noise around both. It depends on the plane phase
        # only, so a missing satellite does not renumber the others.
        in_plane = members[plane[members] == new_p]
        if phase < -spacing / 4.0:
            slot[in_plane] = np.mod(slot[in_plane] - 1, spp)
    shells_planes.append(int(good_planes.size))
    shells_spp.append(spp)
