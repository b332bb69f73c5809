"""Harness that runs Hypatia's satgenpy on Starlink shell 1 for side-by-side checks.

Used by ``test_satgenpy_agreement.py`` and ``benchmarks/bench_network.py``. Inputs are
satgenpy's own: TLEs from ``satgen.generate_tles_from_scratch_manual`` with the parameters of
Hypatia's ``paper/satellite_networks_state/main_starlink_550.py`` (72 × 22, 53°, 15.19 rev/day,
eccentricity 1e-7, phase diff), +grid ISLs with isl_shift 0, max GSL length 1,089,686 m, max
ISL length 5,016,591 m, and the Hypatia top-100 city list shipped as
``orbitgrid/data/cities_top100.csv``.

satgenpy propagates with ephem (its own SGP4 port, Earth model and sidereal time), which differs
from python-sgp4 + GMST by metres to kilometres, so the routing comparison is made on the SAME
link lengths: satgenpy's own ISL and GSL lengths feed both satgenpy's routing and orbitgrid's
``route_graph``. How far the two geometries differ is described in docs/network.md; no test
asserts it.
"""

from __future__ import annotations

import csv
import math
import os
import time
from importlib import resources
from pathlib import Path

import numpy as np

from orbitgrid.network.routing import route_graph

SHELL1 = {
    "name": "Starlink-550",
    "planes": 72,
    "sats_per_plane": 22,
    "phase_diff": True,
    "inclination_deg": 53.0,
    "eccentricity": 0.0000001,
    "arg_of_perigee_deg": 0.0,
    "mean_motion_rev_per_day": 15.19,
}
MAX_GSL_LENGTH_M = 1_089_686
MAX_ISL_LENGTH_M = 5_016_591


def load_cities(n: int) -> list[dict]:
    """The first ``n`` shipped Hypatia cities as dicts (name, latitude_deg, longitude_deg)."""
    text = resources.files("orbitgrid.data").joinpath("cities_top100.csv").read_text("utf-8")
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(rows))[:n]


def write_inputs(tmp: Path, n_cities: int) -> tuple[Path, Path]:
    """Write satgenpy's TLE file and basic ground-station file into ``tmp``."""
    from satgen.tles.generate_tles_from_scratch import generate_tles_from_scratch_manual

    tle = tmp / "tles.txt"
    s = SHELL1
    generate_tles_from_scratch_manual(
        str(tle),
        s["name"],
        s["planes"],
        s["sats_per_plane"],
        s["phase_diff"],
        s["inclination_deg"],
        s["eccentricity"],
        s["arg_of_perigee_deg"],
        s["mean_motion_rev_per_day"],
    )
    gs = tmp / "ground_stations.basic.txt"
    with open(gs, "w") as f:
        for i, c in enumerate(load_cities(n_cities)):
            f.write(f"{i},{c['name']},{c['latitude_deg']},{c['longitude_deg']},0\n")
    return tle, gs


class SatgenpyStep:
    """satgenpy's graph and routing at one time (``t_s`` seconds after the TLE epoch)."""

    def __init__(self, tle: Path, gs_file: Path, t_s: float, out_dir: Path):
        from astropy import units as u
        from satgen.distance_tools import (
            distance_m_between_satellites,
            distance_m_ground_station_to_satellite,
        )
        from satgen.dynamic_state.fstate_calculation import (
            calculate_fstate_shortest_path_without_gs_relaying,
        )
        from satgen.ground_stations import read_ground_stations_basic
        from satgen.isls import generate_plus_grid_isls
        from satgen.tles import read_tles

        tles = read_tles(str(tle))
        sats = tles["satellites"]
        epoch = tles["epoch"]
        gss = read_ground_stations_basic(str(gs_file))
        isls = generate_plus_grid_isls(
            str(out_dir / "isls.txt"), tles["n_orbits"], tles["n_sats_per_orbit"], 0
        )
        t_ns = round(t_s * 1e9)
        when = str(epoch + t_ns * u.ns)
        self.n_sat, self.n_gs = len(sats), len(gss)
        self.isl_pairs = np.array(isls, dtype=np.int64)
        # Same loops as satgen.dynamic_state.generate_dynamic_state_at.
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(len(sats)))
        isl_m = []
        num_isls = [0] * len(sats)
        neighbor_to_if = {}
        for a, b in isls:
            d = distance_m_between_satellites(sats[a], sats[b], str(epoch), when)
            isl_m.append(d)
            graph.add_edge(a, b, weight=d)
            neighbor_to_if[(a, b)] = num_isls[a]
            neighbor_to_if[(b, a)] = num_isls[b]
            num_isls[a] += 1
            num_isls[b] += 1
        self.isl_length_m = np.array(isl_m)
        in_range = []
        gsl = []
        for g in gss:
            row = []
            for sid in range(len(sats)):
                d = distance_m_ground_station_to_satellite(g, sats[sid], str(epoch), when)
                if d <= MAX_GSL_LENGTH_M:
                    row.append((d, sid))
                    gsl.append((g["gid"], sid, d))
            in_range.append(row)
        self.gsl = np.array(gsl, dtype=np.float64).reshape(-1, 3)
        t0 = time.perf_counter()
        fstate = calculate_fstate_shortest_path_without_gs_relaying(
            str(out_dir),
            t_ns,
            len(sats),
            len(gss),
            graph,
            num_isls,
            [0] * len(gss),
            in_range,
            neighbor_to_if,
            None,
            False,
        )
        self.routing_s = time.perf_counter() - t0
        os.remove(out_dir / f"fstate_{t_ns}.txt")
        # Path lengths by walking satgenpy's forwarding state, summing its own link lengths.
        isl_len = dict(zip(map(tuple, isls), isl_m, strict=True))
        gsl_len = {(int(e), int(s)): d for e, s, d in gsl}
        n = len(sats)
        self.path_length_m = np.full((len(gss), len(gss)), np.nan)
        self.paths: dict[tuple[int, int], list[int]] = {}
        for src in range(len(gss)):
            for dst in range(len(gss)):
                if src == dst:
                    continue
                node, total, path = n + src, 0.0, [n + src]
                while node != n + dst:
                    nxt = fstate[(node, n + dst)][0]
                    if nxt == -1:
                        total = math.nan
                        break
                    if node >= n:
                        total += gsl_len[(node - n, nxt)]
                    elif nxt >= n:
                        total += gsl_len[(nxt - n, node)]
                    else:
                        total += isl_len[(min(node, nxt), max(node, nxt))]
                    path.append(nxt)
                    node = nxt
                self.path_length_m[src, dst] = total
                self.paths[(src, dst)] = path

    def orbitgrid_route(self) -> tuple[np.ndarray, np.ndarray]:
        """orbitgrid's ``route_graph`` (``isls-only``, as satgenpy's routing) on this step's own
        ISL and GSL lengths: ``path_length_m [src, dst]`` (NaN on the diagonal, as
        ``path_length_m``, and where unreachable) and ``hop_count [src, dst]``."""
        length_km, hops, _ = route_graph(
            self.n_sat,
            self.n_gs,
            self.isl_pairs,
            self.isl_length_m / 1e3,
            self.gsl[:, 0].astype(np.int64),
            self.gsl[:, 1].astype(np.int64),
            self.gsl[:, 2] / 1e3,
            mode="isls-only",
        )
        off_diagonal = ~np.eye(self.n_gs, dtype=bool)
        return np.where(off_diagonal, length_km * 1e3, np.nan), hops


def time_generate_dynamic_state_at(tle: Path, gs_file: Path, t_s: float, out_dir: Path) -> float:
    """Wall seconds of one unmodified ``satgen.generate_dynamic_state_at`` call (with its I/O)."""
    from astropy import units as u  # noqa: F401  (satgenpy needs astropy)
    from satgen.dynamic_state.generate_dynamic_state import generate_dynamic_state_at
    from satgen.ground_stations import read_ground_stations_basic
    from satgen.isls import generate_plus_grid_isls
    from satgen.tles import read_tles

    tles = read_tles(str(tle))
    gss = read_ground_stations_basic(str(gs_file))
    isls = generate_plus_grid_isls(
        str(out_dir / "isls.txt"), tles["n_orbits"], tles["n_sats_per_orbit"], 0
    )
    n_sat = len(tles["satellites"])
    interfaces = [
        {"id": i, "number_of_interfaces": 1, "aggregate_max_bandwidth": 1.0}
        for i in range(n_sat + len(gss))
    ]
    t0 = time.perf_counter()
    generate_dynamic_state_at(
        str(out_dir),
        tles["epoch"],
        round(t_s * 1e9),
        tles["satellites"],
        gss,
        isls,
        interfaces,
        MAX_GSL_LENGTH_M,
        MAX_ISL_LENGTH_M,
        "algorithm_free_one_only_over_isls",
        None,
        False,
    )
    return time.perf_counter() - t0
