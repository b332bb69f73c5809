"""Benchmark: sweeps end to end (design → Dask → economics → DuckDB catalog → Parquet).

Two figures for issue 5:

1. **Economic sweep, 10,000 points** (target < 10 s): a Latin hypercube over the launch price
   and a Monte Carlo over every assumption of ``data/assumptions.csv`` (49 parameters) on the
   shipped ``dawn-dusk-cluster`` scenario. First *cold* (one time simulation on a LocalCluster,
   worker start-up included), then *warm*: a second 10,000-point sweep with another seed into
   the same folder, whose physics comes from the catalog's cache (no simulation, no cluster).
   Every point is written to the catalog and exported to Parquet in both.
2. **Scaling with local workers**: a physics sweep of ``--physics-points`` battery sizes on a
   Walker shell of 400 satellites over 7 d at 30 s (8.1 M satellite-steps per point) with a
   LocalCluster of 1 and of 2 worker processes (wall time, cluster start-up included, and the
   time after the first result, which excludes start-up and the first compilation).

Run: ``python benchmarks/bench_sweep.py [--points N] [--physics-points N] [--check]``;
``--check`` exits 1 when the warm economic sweep exceeds 10 s. Writes only to a temporary folder.
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

import yaml

from orbitgrid.sweep import run_sweep

BUDGET_S = 10.0

SMALL = {
    "name": "small",
    "time": {"start": "2027-03-20T00:00:00Z", "duration": "7 d", "step": "30 s"},
    "constellation": [
        {
            "type": "walker",
            "name": "w",
            "altitude": "550 km",
            "inclination": "53 deg",
            "planes": 20,
            "sats_per_plane": 20,
            "phasing": 1,
            "spacecraft": "node",
        }
    ],
    "spacecraft": {
        "node": {
            "solar_array": {"area": "20 m2", "efficiency": "30 %"},
            "battery": {"capacity": "4 kWh"},
            "radiator": {"area": "2 m2", "heat_capacity": "100 kJ/K"},
            "bus_power": "800 W",
            "compute": {"accelerator": "h100-sxm", "count": 2, "max_temperature": "60 C"},
        }
    },
}


def economic(folder: Path, points: int) -> list[tuple[str, float, int]]:
    rows = []
    for label, seed in (("cold (1 simulation on a LocalCluster)", 1), ("warm (cached)", 2)):
        sweep = {
            "name": f"econ-{seed}",
            "base": "dawn-dusk-cluster",
            "design": "latin-hypercube",
            "samples": points,
            "seed": seed,
            "parameters": {
                "economics.overrides.launch_cost_usd_per_kg": {"range": [100, 3000], "scale": "log"}
            },
            "monte_carlo": {"assumptions": "all"},
        }
        path = folder / f"econ-{seed}.yaml"
        path.write_text(yaml.safe_dump(sweep, sort_keys=False))
        started = time.perf_counter()
        result = run_sweep(path, folder / "econ", None, None, None)
        elapsed = time.perf_counter() - started
        assert result.points_done == points and result.points_failed == 0, result.summary()
        rows.append((label, elapsed, result.physics_runs))
    return rows


def physics(folder: Path, points: int, workers: int) -> tuple[float, float]:
    (folder / "small.yaml").write_text(yaml.safe_dump(SMALL, sort_keys=False))
    sweep = {
        "name": f"phys-{workers}",
        "base": "small.yaml",
        "parameters": {
            "spacecraft.node.battery.capacity": {
                "range": ["2 kWh", "6 kWh"],
                "num": points,
            }
        },
    }
    path = folder / f"phys-{workers}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    first: list[float] = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == 1:
            first.append(time.perf_counter())

    result = run_sweep(path, folder / f"phys-{workers}", None, workers, progress)
    end = time.perf_counter()
    assert result.points_done == points and result.points_failed == 0, result.summary()
    return end - started, end - first[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--physics-points", type=int, default=8)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--physics-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.physics_only:
        with tempfile.TemporaryDirectory() as tmp:
            total, after_first = physics(Path(tmp), args.physics_points, args.physics_only)
        print(json.dumps([total, after_first]))
        return 0
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = economic(folder, args.points)
    print(f"\neconomic sweep, {args.points:,} points (49 parameters), dawn-dusk-cluster:")
    for label, elapsed, runs in rows:
        print(f"  {label:<40} {elapsed:7.2f} s  ({runs} time simulation(s))")
    print(f"\nphysics sweep, {args.physics_points} points, 400 satellites × 20,160 steps:")
    for workers in (1, 2):
        # A fresh process per case, so neither inherits the other's threads or memory.
        command = [sys.executable, __file__, "--physics-only", str(workers)]
        command += ["--physics-points", str(args.physics_points)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        total, after_first = json.loads(output.strip().splitlines()[-1])
        print(
            f"  {workers} worker(s): {total:6.2f} s wall (cluster start included), "
            f"{after_first:6.2f} s after the first result"
        )
    warm = rows[-1][1]
    if args.check and warm > BUDGET_S:
        print(f"FAIL: warm economic sweep {warm:.2f} s > {BUDGET_S} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
