"""Benchmark: 10,000 evaluations of the economics model, vectorised and as a scalar loop.

The sweep (issue 5) needs a 10,000-point economic sweep, with cached physics, in under 10 s. The
cost functions broadcast over numpy arrays of swept parameters, so one call evaluates every point.
This script draws 10,000 Latin-hypercube points over eight parameters' low/high ranges from the
assumptions table and times:

- one vectorised ``evaluate_economics`` call (mass, both cost sides, break-even price);
- the same model called once per point in a Python loop (first 1,000 points, extrapolated).

Run: ``python benchmarks/bench_economics.py [--points N] [--check]``; ``--check`` exits 1 when
the vectorised time exceeds the 10 s budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from scipy.stats import qmc

from orbitgrid.economics import evaluate_economics, load_assumptions, size_satellite

SWEPT = (
    "launch_cost_usd_per_kg",
    "solar_array_specific_power_w_per_kg",
    "radiator_areal_mass_kg_per_m2",
    "orbital_failure_rate_per_year",
    "discount_rate",
    "electricity_usd_per_kwh",
    "pue",
    "bus_cost_usd_per_kg",
)
BUDGET_S = 10.0


def sample(points: int, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Latin-hypercube points over the swept rows' [low, high], plus a delivered fraction."""
    table = load_assumptions()
    unit = qmc.LatinHypercube(d=len(SWEPT) + 1, seed=seed).random(points)
    lows = np.array([table[key].low for key in SWEPT] + [0.3])
    highs = np.array([table[key].high for key in SWEPT] + [1.0])
    scaled = qmc.scale(unit, lows, highs)
    return {key: scaled[:, i] for i, key in enumerate(SWEPT)}, scaled[:, -1]


def run(points: int) -> dict[str, float]:
    """Time the vectorised call (best of 5) and a scalar loop; return seconds."""
    table = load_assumptions()
    swept, delivered = sample(points)
    design = size_satellite("h100-sxm", 114, 100, 5.0, table.parameters())

    vector_times = []
    for _ in range(5):
        start = time.perf_counter()
        params = table.parameters(swept)
        result = evaluate_economics(design, delivered, params)
        vector_times.append(time.perf_counter() - start)
    assert np.shape(result.orbital.cost_per_gpu_hour_usd) == (points,)

    loop_points = min(points, 1000)
    start = time.perf_counter()
    for i in range(loop_points):
        params = table.parameters({key: float(values[i]) for key, values in swept.items()})
        evaluate_economics(design, float(delivered[i]), params)
    loop_s = (time.perf_counter() - start) * points / loop_points
    return {
        "vectorised_best_s": min(vector_times),
        "vectorised_median_s": statistics.median(vector_times),
        "scalar_loop_s": loop_s,
        "median_cost_ratio": float(np.nanmedian(result.cost_ratio)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--check", action="store_true", help="fail when over the 10 s budget")
    args = parser.parse_args()
    timings = run(args.points)
    print(f"economics model, {args.points:,} points, {len(SWEPT)} swept parameters")
    print(f"  vectorised (one call)  best {timings['vectorised_best_s'] * 1e3:8.2f} ms")
    print(f"                         median {timings['vectorised_median_s'] * 1e3:6.2f} ms")
    print(f"  scalar loop (per point) {timings['scalar_loop_s']:8.2f} s (extrapolated)")
    print(f"  median orbital/terrestrial cost per GPU-hour: {timings['median_cost_ratio']:.2f}")
    if args.check and timings["vectorised_best_s"] > BUDGET_S:
        print(f"over budget: {timings['vectorised_best_s']:.2f} s > {BUDGET_S} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
