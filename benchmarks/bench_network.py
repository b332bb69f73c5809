"""Network stage benchmark, side by side with Hypatia's satgenpy, in one run.

Measures (wall-clock, this machine):

1. seconds per time step, satgenpy ``generate_dynamic_state_at`` (algorithm_free_one_only_over_
   isls, unmodified) vs orbitgrid (its own SGP4 + frames + GSLs + routing of every pair +
   paths) on the same inputs: satgenpy's Starlink shell 1 TLEs and the first N Hypatia cities;
2. a full day at 1 s steps for shell 1 + 100 endpoints: ``orbitgrid.run`` of that scenario
   (the whole engine: SGP4, power and thermal, routing, streaming summary, path log, contact
   windows, dataset every 60 s, run folder) over a sample of consecutive steps, extrapolated;
   ``--full-day`` runs the whole day in a child process and reports its peak memory;
3. 10,200 satellites (6 Walker shells, J2) + 100 endpoints per step, the whole engine again.

It also checks that the two tools' path lengths agree (same link lengths, < 1 m).

Run from the repository root::

    python benchmarks/bench_network.py                   # full (satgenpy steps take minutes)
    python benchmarks/bench_network.py --satgenpy-steps 1 --cities 100 --out bench.json
    python benchmarks/bench_network.py --satgenpy-steps 0 --full-day
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.network.satgenpy_reference import (
    MAX_GSL_LENGTH_M,
    MAX_ISL_LENGTH_M,
    SatgenpyStep,
    load_cities,
    time_generate_dynamic_state_at,
    write_inputs,
)

import orbitgrid
from memory import peak_memory_mb
from orbitgrid.constants import WGS72
from orbitgrid.network.geometry import geodetic_to_ecef_km, inertial_to_ecef_km, local_up_unit
from orbitgrid.network.routing import NetworkTopology, route_chunk
from orbitgrid.network.topology import ConstellationIndex, plus_grid_isls
from orbitgrid.orbits.elements import load_elements
from orbitgrid.orbits.sgp4_propagation import propagate_teme
from orbitgrid.orbits.timescale import gmst_rad, julian_date_split

SCENARIOS = Path(orbitgrid.__file__).parent / "scenarios"


class Shell1Routing:
    """orbitgrid's SGP4 (TEME) → GMST rotation → routing on satgenpy's shell-1 TLEs."""

    def __init__(self, tle: Path, cities: list[dict], min_elevation_deg: float):
        # satgenpy's file starts with an "n_orbits n_sats_per_orbit" line: drop it.
        plain = tle.with_name("shell1_orbitgrid.tle")
        plain.write_text("\n".join(tle.read_text().splitlines()[1:]) + "\n")
        self.elements = load_elements(plain)
        epoch = self.elements.epoch_utc[0]
        self.epoch = np.datetime64(epoch, "ns") if not isinstance(epoch, np.datetime64) else epoch
        lat = np.array([float(c["latitude_deg"]) for c in cities])
        lon = np.array([float(c["longitude_deg"]) for c in cities])
        self.endpoints = geodetic_to_ecef_km(lat, lon, 0.0, WGS72)
        e = len(cities)
        self.topology = NetworkTopology(
            n_satellites=len(self.elements),
            isl_pairs=plus_grid_isls(ConstellationIndex.walker(72, 22)),
            isl_max_range_km=MAX_ISL_LENGTH_M / 1e3,
            endpoint_up_unit=local_up_unit(lat, lon),
            endpoint_min_elevation_deg=np.full(e, min_elevation_deg),
            endpoint_max_range_km=np.full(e, MAX_GSL_LENGTH_M / 1e3),
        )

    def run(self, t_s: np.ndarray, backend: str = "numba", previous=None):
        times = self.epoch + (t_s * 1e9).astype("timedelta64[ns]")
        position_km, _, _ = propagate_teme(self.elements, times, "auto")
        ecef_km = inertial_to_ecef_km(position_km, gmst_rad(*julian_date_split(times)))
        return route_chunk(
            ecef_km, self.endpoints, self.topology, backend=backend, previous=previous
        )


def _shell1_day_scenario(duration: str) -> dict:
    """The shipped shell-1 network scenario at 1 s with the 100 largest cities."""
    import yaml

    data = yaml.safe_load((SCENARIOS / "starlink-shell1-network.yaml").read_text())
    data["constellation"][0]["file"] = str(SCENARIOS / "data" / "starlink_shell1_hypatia.tle")
    data["network"]["endpoints"] = []
    data["network"]["endpoint_files"] = ["builtin:cities_top100"]
    data["network"]["gsl"].pop("link_budget", None)  # constant GSL rate, as satgenpy
    data["time"] = {"start": "2000-01-01T00:00:00Z", "duration": duration, "step": "1 s"}
    data["output"] = {"every": "60 s"}
    return data


def _scale_scenario(duration: str) -> dict:
    """10,200 satellites in 6 Walker shells (J2) + 100 endpoints, 1 s steps."""
    data = _shell1_day_scenario(duration)
    shells = [(550, 53.0), (540, 53.2), (560, 70.0), (570, 97.6), (590, 33.0), (630, 51.9)]
    data["constellation"] = [
        {
            "name": f"shell{i}",
            "type": "walker",
            "altitude": f"{alt} km",
            "inclination": f"{inc} deg",
            "planes": 50,
            "sats_per_plane": 34,
            "phasing": 1,
            "spacecraft": "broadband-edge",
        }
        for i, (alt, inc) in enumerate(shells)
    ]
    data["time"]["start"] = "2027-03-20T00:00:00Z"
    data["network"]["gsl"] = {"min_elevation": "25 deg"}
    return data


def engine_run(data: dict, steps_hint: int) -> dict:
    """Time ``orbitgrid.run`` of ``data`` with a run folder (after a short warm-up run)."""
    warm = json.loads(json.dumps(data))
    warm["time"]["duration"] = "20 s"
    orbitgrid.run(orbitgrid.scenario_from_dict(warm))  # compiled code loaded outside the timing
    scenario = orbitgrid.scenario_from_dict(data)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        result = orbitgrid.run(scenario, out_dir=Path(tmp) / "run")
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        folder_mb = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 2**20
    return {
        "steps": steps_hint,
        "wall_s": wall,
        "cpu_s": cpu,
        "s_per_step": wall / steps_hint,
        "run_folder_mb": folder_mb,
        "peak_memory_mb": peak_memory_mb(),
        "rtt_median_ms": result.summary["network"]["rtt_median_ms"],
    }


def _child(kind: str, duration: str, steps: int) -> dict:
    """``engine_run`` in a fresh process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, duration, str(steps)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cities", type=int, default=100)
    ap.add_argument("--satgenpy-steps", type=int, default=2)
    ap.add_argument("--orbitgrid-steps", type=int, default=300)
    ap.add_argument("--day-sample", default="1 h", help="engine run extrapolated to a day")
    ap.add_argument("--full-day", action="store_true", help="also run the whole day")
    ap.add_argument("--scale-steps", type=int, default=120)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, duration, steps = args.child
        data = _shell1_day_scenario(duration) if kind == "day" else _scale_scenario(duration)
        print(json.dumps(engine_run(data, int(steps))))
        return
    report: dict = {"numba_threads": numba.get_num_threads(), "cities": args.cities}
    tmp = Path(tempfile.mkdtemp(prefix="bench_network_"))
    tle, gs = write_inputs(tmp, args.cities)
    shell1 = Shell1Routing(tle, load_cities(args.cities), -90.0)  # satgenpy: range limit only
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
    few = t_s[: max(20, len(t_s) // 5)]
    t0 = time.perf_counter()
    shell1.run(few, backend="scipy")
    og_scipy = (time.perf_counter() - t0) / len(few)
    report["orbitgrid_numba_s_per_step"] = og_numba
    report["orbitgrid_scipy_s_per_step"] = og_scipy
    if sg_times:
        report["satgenpy_s_per_step"] = float(np.mean(sg_times))
        report["speedup_numba"] = float(np.mean(sg_times)) / og_numba
        report["speedup_scipy"] = float(np.mean(sg_times)) / og_scipy

    # Agreement on the same link lengths (one step, satgenpy's geometry).
    ref = SatgenpyStep(tle, gs, 0.0, tmp)
    ours_m, _ = ref.orbitgrid_route()
    report["max_path_length_difference_m"] = float(np.nanmax(np.abs(ours_m - ref.path_length_m)))

    # 2. A day at 1 s: the engine over a sample, extrapolated (and the whole day on request).
    sample_steps = int(orbitgrid.scenario_from_dict(_shell1_day_scenario(args.day_sample))
                       .time.duration_s)  # fmt: skip
    day = _child("day", args.day_sample, sample_steps)
    report["day_sample"] = day
    report["day_estimate_min"] = day["s_per_step"] * 86400 / 60
    if args.full_day:
        report["full_day"] = _child("day", "1 d", 86400)

    # 3. 10,200 satellites in 6 shells + 100 endpoints, the whole engine.
    scale = _child("scale", f"{args.scale_steps} s", args.scale_steps)
    report["scale"] = scale
    report["load_average_1min_at_end"] = os.getloadavg()[0]
    _print(report, args.cities)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


def _print(report: dict, cities: int) -> None:
    print(
        f"numba threads: {report['numba_threads']}; 1-min load average at the end: "
        f"{report['load_average_1min_at_end']:.1f} (CPU s/step sums all threads)"
    )
    rows = []
    if "satgenpy_s_per_step" in report:
        rows.append(("satgenpy generate_dynamic_state_at, s/step", report["satgenpy_s_per_step"]))
    rows += [
        ("orbitgrid routing (numba) incl. SGP4, s/step", report["orbitgrid_numba_s_per_step"]),
        ("  CPU s/step", report["orbitgrid_numba_cpu_s_per_step"]),
        ("orbitgrid routing (scipy) incl. SGP4, s/step", report["orbitgrid_scipy_s_per_step"]),
    ]
    if "speedup_numba" in report:
        rows.append(("speed-up numba (×)", report["speedup_numba"]))
        rows.append(("speed-up scipy (×)", report["speedup_scipy"]))
    rows.append(
        ("max |path length orbitgrid − satgenpy| (same links), m",
         report["max_path_length_difference_m"])
    )  # fmt: skip
    day = report["day_sample"]
    rows += [
        (f"engine, shell 1 + {cities} endpoints at 1 s: s/step ({day['steps']} steps)",
         day["s_per_step"]),
        ("  → estimated minutes for 86,400 steps", report["day_estimate_min"]),
        ("  peak memory of the sample run, MB", day["peak_memory_mb"]),
    ]  # fmt: skip
    if "full_day" in report:
        full = report["full_day"]
        rows += [
            ("engine, the whole day: minutes", full["wall_s"] / 60),
            ("  peak memory, MB", full["peak_memory_mb"]),
            ("  run folder, MB", full["run_folder_mb"]),
        ]
    scale = report["scale"]
    rows += [
        ("engine, 10,200 satellites + 100 endpoints: s/step", scale["s_per_step"]),
        ("  CPU s/step", scale["cpu_s"] / scale["steps"]),
    ]
    print(f"{'measure':64s} {'value':>12s}")
    for label, value in rows:
        print(f"{label:64s} {value:12.5g}")


if __name__ == "__main__":
    main()
