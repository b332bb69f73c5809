"""Network stage benchmark, side by side with Hypatia's satgenpy, in one run.

Measures (wall-clock, this machine):

1. seconds per time step, satgenpy ``generate_dynamic_state_at`` (algorithm_free_one_only_over_
   isls, unmodified) vs orbitgrid (SGP4 propagation + frames + GSLs + routing of every pair +
   paths) on the same inputs: satgenpy's Starlink shell 1 TLEs and the first N Hypatia cities;
2. a full day at 1 s steps for shell 1 + 100 endpoints, estimated from a measured run of
   consecutive steps in chunks (memory bounded by the chunk);
3. 10,200 satellites (6 Walker shells) + 100 endpoints per step, including propagation.

It also checks that the two tools' path lengths agree (same link lengths, < 1 m).

Run from the repository root::

    python benchmarks/bench_network.py                   # full (satgenpy steps take minutes)
    python benchmarks/bench_network.py --satgenpy-steps 1 --cities 100 --out bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from sgp4.api import WGS72 as SGP4_WGS72
from sgp4.api import Satrec, SatrecArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.network.satgenpy_reference import (
    MAX_GSL_LENGTH_M,
    MAX_ISL_LENGTH_M,
    SatgenpyStep,
    load_cities,
    time_generate_dynamic_state_at,
    write_inputs,
)

from orbitgrid.constants import WGS72
from orbitgrid.network.geometry import (
    geodetic_to_ecef_km,
    inertial_to_ecef_km,
    local_up_unit,
)
from orbitgrid.network.routing import NetworkTopology, route_chunk
from orbitgrid.network.topology import ConstellationIndex, plus_grid_isls
from orbitgrid.orbits.timescale import gmst_rad


def _satrecs_from_tle(path: Path) -> list[Satrec]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    if not lines[0].startswith("1 ") and len(lines[0].split()) == 2 and lines[0][0].isdigit():
        lines = lines[1:]  # satgenpy's "n_orbits n_sats_per_orbit" header
    return [
        Satrec.twoline2rv(lines[i + 1], lines[i + 2], SGP4_WGS72) for i in range(0, len(lines), 3)
    ]


def _walker_satrecs(shells: list[tuple[int, int, float, float]]) -> list[Satrec]:
    """Circular Walker shells (planes, sats/plane, altitude km, inclination deg) via sgp4init."""
    out = []
    epoch = 26000.0  # days since 1949-12-31 (2021-03-09), any common epoch
    for planes, spp, alt_km, inc_deg in shells:
        n_rad_min = np.sqrt(WGS72.mu_km3_s2 / (WGS72.radius_km + alt_km) ** 3) * 60.0
        for p in range(planes):
            for k in range(spp):
                s = Satrec()
                s.sgp4init(
                    SGP4_WGS72,
                    "i",
                    len(out) + 1,
                    epoch,
                    0.0,
                    0.0,
                    0.0,
                    1e-7,
                    0.0,
                    np.radians(inc_deg),
                    2 * np.pi * (k + 0.5 * (p % 2)) / spp,
                    n_rad_min,
                    2 * np.pi * p / planes,
                )
                out.append(s)
    return out


class Pipeline:
    """SGP4 (SatrecArray, TEME) → GMST rotation → routing, as the engine would chain them."""

    def __init__(
        self,
        sats: list[Satrec],
        constellation: ConstellationIndex,
        cities: list[dict],
        min_elevation_deg: float,
        max_range_km: float,
    ):
        self.array = SatrecArray(sats)
        self.jd0 = sats[0].jdsatepoch
        self.fr0 = sats[0].jdsatepochF
        lat = np.array([float(c["latitude_deg"]) for c in cities])
        lon = np.array([float(c["longitude_deg"]) for c in cities])
        self.endpoints = geodetic_to_ecef_km(lat, lon, 0.0, WGS72)
        e = len(cities)
        self.topology = NetworkTopology(
            n_satellites=len(sats),
            isl_pairs=plus_grid_isls(constellation),
            isl_max_range_km=MAX_ISL_LENGTH_M / 1e3,
            endpoint_up_unit=local_up_unit(lat, lon),
            endpoint_min_elevation_deg=np.full(e, min_elevation_deg),
            endpoint_max_range_km=np.full(e, max_range_km),
        )

    def positions(self, t_s: np.ndarray) -> np.ndarray:
        jd = np.full(t_s.shape, self.jd0)
        fr = self.fr0 + t_s / 86400.0
        _, r, _ = self.array.sgp4(jd, fr)
        return inertial_to_ecef_km(np.ascontiguousarray(r.transpose(1, 0, 2)), gmst_rad(jd, fr))

    def run(self, t_s: np.ndarray, backend: str = "numba", previous=None):
        pos = self.positions(t_s)
        return route_chunk(
            pos, self.endpoints, self.topology, backend=backend, previous_path_nodes=previous
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cities", type=int, default=100)
    ap.add_argument("--satgenpy-steps", type=int, default=2)
    ap.add_argument("--orbitgrid-steps", type=int, default=200)
    ap.add_argument("--day-sample-steps", type=int, default=1200)
    ap.add_argument("--chunk", type=int, default=120)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    report: dict = {"numba_threads": numba.get_num_threads(), "cities": args.cities}
    tmp = Path(tempfile.mkdtemp(prefix="bench_network_"))
    tle, gs = write_inputs(tmp, args.cities)
    cities = load_cities(args.cities)
    sats = _satrecs_from_tle(tle)
    shell1 = Pipeline(
        sats, ConstellationIndex.walker(72, 22), cities, -90.0, MAX_GSL_LENGTH_M / 1e3
    )
    shell1.run(np.arange(3.0))  # compile (numba cache) outside the timings
    shell1.run(np.arange(3.0), backend="scipy")

    # 1. satgenpy vs orbitgrid per step.
    sg_times = [
        time_generate_dynamic_state_at(tle, gs, 10.0 * i, tmp) for i in range(args.satgenpy_steps)
    ]
    t_s = np.arange(args.orbitgrid_steps, dtype=np.float64)
    t0, c0 = time.perf_counter(), time.process_time()
    shell1.run(t_s)
    og_numba = (time.perf_counter() - t0) / len(t_s)
    report["orbitgrid_numba_cpu_s_per_step"] = (time.process_time() - c0) / len(t_s)
    t0 = time.perf_counter()
    shell1.run(t_s[: max(20, len(t_s) // 5)], backend="scipy")
    og_scipy = (time.perf_counter() - t0) / max(20, len(t_s) // 5)
    report["satgenpy_s_per_step"] = float(np.mean(sg_times))
    report["orbitgrid_numba_s_per_step"] = og_numba
    report["orbitgrid_scipy_s_per_step"] = og_scipy
    report["speedup_numba"] = float(np.mean(sg_times)) / og_numba
    report["speedup_scipy"] = float(np.mean(sg_times)) / og_scipy

    # Agreement on the same link lengths (one step, satgenpy's geometry).
    ref = SatgenpyStep(tle, gs, 0.0, tmp)
    ours_m, _ = ref.orbitgrid_route()
    report["max_path_length_difference_m"] = float(np.nanmax(np.abs(ours_m - ref.path_length_m)))

    # 2. A day at 1 s from a measured sample of consecutive steps, chunked.
    n = args.day_sample_steps
    prev = None
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n, args.chunk):
        res = shell1.run(
            np.arange(start, min(n, start + args.chunk), dtype=np.float64), previous=prev
        )
        prev = res.path_nodes[-1]
    per_step = (time.perf_counter() - t0) / n
    report["day_cpu_s_per_step"] = (time.process_time() - c0) / n
    report["day_sample_steps"] = n
    report["day_s_per_step"] = per_step
    report["day_estimate_min"] = per_step * 86400 / 60
    report["median_rtt_ms_sample"] = float(np.nanmedian(res.rtt_ms))

    # 3. 10,200 satellites in 6 shells + 100 endpoints, including propagation.
    shells = [
        (50, 34, 550, 53.0),
        (50, 34, 540, 53.2),
        (50, 34, 560, 70.0),
        (50, 34, 570, 97.6),
        (50, 34, 590, 33.0),
        (50, 34, 630, 51.9),
    ]
    big_sats = _walker_satrecs(shells)
    idx = np.arange(len(big_sats))
    big_index = ConstellationIndex(
        shell_index=idx // 1700,
        plane_index=(idx % 1700) // 34,
        slot_index=idx % 34,
        planes=np.full(6, 50),
        sats_per_plane=np.full(6, 34),
    )
    big = Pipeline(big_sats, big_index, load_cities(100), 25.0, np.inf)
    big.run(np.arange(2.0))
    steps = 20
    t0, c0 = time.perf_counter(), time.process_time()
    big.run(np.arange(steps, dtype=np.float64))
    report["n_satellites_scale"] = len(big_sats)
    report["scale_s_per_step"] = (time.perf_counter() - t0) / steps
    report["scale_cpu_s_per_step"] = (time.process_time() - c0) / steps
    report["load_average_1min_at_end"] = os.getloadavg()[0]

    print(
        f"numba threads: {report['numba_threads']}; 1-min load average at the end: "
        f"{report['load_average_1min_at_end']:.1f} (CPU s/step sums all threads)"
    )
    print(f"{'measure':58s} {'value':>14s}")
    print(
        f"{'satgenpy generate_dynamic_state_at, s/step':58s} {report['satgenpy_s_per_step']:14.3f}"
    )
    print(f"{'orbitgrid (numba) incl. SGP4, s/step':58s} {og_numba:14.5f}")
    print(f"{'  CPU s/step':58s} {report['orbitgrid_numba_cpu_s_per_step']:14.5f}")
    print(f"{'orbitgrid (scipy csgraph) incl. SGP4, s/step':58s} {og_scipy:14.5f}")
    print(
        f"{'speed-up numba / scipy (×)':58s} {report['speedup_numba']:8.0f} / "
        f"{report['speedup_scipy']:.0f}"
    )
    print(
        f"{'max |path length orbitgrid − satgenpy| (same links), m':58s} "
        f"{report['max_path_length_difference_m']:14.2e}"
    )
    label = f"day at 1 s, shell 1 + {args.cities} endpoints: s/step"
    print(f"{label:58s} {per_step:14.5f}")
    print(f"{'  CPU s/step':58s} {report['day_cpu_s_per_step']:14.5f}")
    print(f"{'  → estimated minutes for 86,400 steps':58s} {report['day_estimate_min']:14.1f}")
    label = f"{len(big_sats)} satellites + 100 endpoints incl. SGP4, s/step"
    print(f"{label:58s} {report['scale_s_per_step']:14.4f}")
    print(f"{'  CPU s/step':58s} {report['scale_cpu_s_per_step']:14.4f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
