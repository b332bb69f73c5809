"""Workload stage benchmark: AI requests from 1,000 user populations over Starlink shell 1.

The scale the AI-service issue asks for: 1,000 populations (fixed sites, ships on the shipped
lanes, flights on the shipped air routes), two request classes, every site kind (three ground
data centers, an orbital compute shell of 64 satellites, the satellite overhead with an edge
accelerator on each of shell 1's 1,584 satellites, an on-device copilot) and the four service
options of ``ai-service-remote``, over a day at 10 s steps (8,640 steps). The whole engine runs
(`orbitgrid.run`: orbits, power, thermal, delivered compute, the workloads, the run folder).

By default a sample of consecutive steps is timed after a short warm-up run (compiled code
loaded outside the timing) and extrapolated to the day; ``--full-day`` runs the whole day in a
child process and reports its peak memory too.

Run from the repository root::

    python benchmarks/bench_workloads.py                 # 2 h sample, extrapolated
    python benchmarks/bench_workloads.py --full-day      # the whole day (minutes)
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

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import orbitgrid
from memory import peak_memory_mb

SCENARIOS = Path(orbitgrid.__file__).parent / "scenarios"
POPULATIONS = 1000
LANES = ("rotterdam-singapore", "shanghai-los-angeles", "santos-rotterdam", "houston-rotterdam",
         "singapore-port-hedland")  # fmt: skip
AIR_ROUTES = ("LHR-JFK", "SIN-LHR", "SYD-LAX", "DXB-LAX", "JFK-HKG", "SCL-MAD", "SIN-EWR")


def scenario(duration: str, populations: int = POPULATIONS, seed: int = 1) -> dict:
    """The shipped ai-service scenario scaled to ``populations`` (80 % fixed, 15 % ship
    populations of one ship, 5 % flight populations of one aircraft) on shell 1 at 10 s."""
    data = yaml.safe_load((SCENARIOS / "ai-service-remote.yaml").read_text())
    data["time"] = {"start": "2027-06-21T00:00:00Z", "duration": duration, "step": "10 s"}
    data["output"] = {"every": "10 min"}
    rng = np.random.default_rng(seed)
    n_ship = int(0.15 * populations)
    n_air = int(0.05 * populations)
    n_fixed = populations - n_ship - n_air
    fixed = [
        {
            "name": f"site {i}",
            "latitude": float(np.degrees(np.arcsin(rng.uniform(-0.9, 0.9)))),
            "longitude": float(rng.uniform(-180, 180)),
            "users": int(rng.integers(20, 2000)),
        }
        for i in range(n_fixed)
    ]
    # Ships: the first on each shipped lane, the others on great-circle legs between random
    # points at sea latitudes (waypoints), so that they spread over the oceans.
    ships = []
    for i in range(n_ship):
        ship = {"name": f"ship {i}", "kind": "ship", "count": 1, "users": 25}
        if i < len(LANES):
            ship["route"] = f"builtin:{LANES[i]}"
        else:
            lat = np.degrees(np.arcsin(rng.uniform(-0.8, 0.8, 2)))
            lon = rng.uniform(-180, 180, 2)
            ship["route"] = [[float(a), float(b)] for a, b in zip(lat, lon, strict=True)]
        ships.append(ship)
    flights = [
        {
            "name": f"flight {i}",
            "kind": "aircraft",
            "route": f"builtin:{AIR_ROUTES[i % len(AIR_ROUTES)]}",
            "count": 1,
            "departure": f"{(37 * i) % 1440} min",
            "users": 150,
        }
        for i in range(n_air)
    ]
    data["workloads"]["populations"] = fixed + ships + flights
    return data


def engine_run(data: dict) -> dict:
    """Time ``orbitgrid.run`` of ``data`` with a run folder, after a 2-step warm-up run."""
    warm = json.loads(json.dumps(data))
    warm["time"]["duration"] = "20 s"
    warm["output"] = {"every": "10 s"}
    orbitgrid.run(orbitgrid.scenario_from_dict(warm))
    plan_scenario = orbitgrid.scenario_from_dict(data)
    steps = plan_scenario.time.step_count
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        result = orbitgrid.run(plan_scenario, out_dir=Path(tmp) / "run")
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
    options = result.summary["workloads"]["options"]
    return {
        "steps": steps,
        "user_endpoints": result.summary["workloads"]["user_endpoints"],
        "wall_s": wall,
        "cpu_s": cpu,
        "s_per_step": wall / steps,
        "peak_memory_mb": peak_memory_mb(),
        "served_fraction": {name: o["served_fraction"] for name, o in options.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", default="2 h", help="sample duration timed and extrapolated")
    ap.add_argument("--full-day", action="store_true", help="run the whole day in a child")
    ap.add_argument("--populations", type=int, default=POPULATIONS)
    ap.add_argument("--child", nargs=2, metavar=("DURATION", "POPULATIONS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(engine_run(scenario(args.child[0], int(args.child[1])))))
        return
    load = os.getloadavg()[0]
    print(f"numba threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
          f"1-min load average {load:.2f} at start")  # fmt: skip
    duration = "1 day" if args.full_day else args.sample
    out = subprocess.run(
        [sys.executable, __file__, "--child", duration, str(args.populations)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.exit(f"benchmark run failed:\n{out.stderr[-3000:]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    day_steps = 8640
    day_min = report["s_per_step"] * day_steps / 60.0
    kind = "measured" if args.full_day else f"extrapolated from {report['steps']} steps"
    print(f"{args.populations} populations ({report['user_endpoints']} user endpoints), "
          f"shell 1 + 64-satellite compute shell, 3 DCs, {len(report['served_fraction'])} "
          "options (ai-service-remote's), 2 classes")  # fmt: skip
    print(f"  {report['s_per_step'] * 1e3:.1f} ms/step; a day at 10 s: {day_min:.2f} min "
          f"({kind}); target < 5 min")  # fmt: skip
    print(f"  peak memory {report['peak_memory_mb']:.0f} MB; CPU/wall "
          f"{report['cpu_s'] / report['wall_s']:.2f}")  # fmt: skip
    print(f"  served fraction per option: {report['served_fraction']}")
    print(f"  1-min load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
