"""SGP4 throughput: orbitgrid's propagate_teme against python-sgp4 and raw astroz, side by side.

Workload: Hypatia's Starlink shell-1 TLEs shipped with orbitgrid (1,584 satellites, see
src/orbitgrid/scenarios/data/README.md) over one day at 10 s (8,640 steps) from their epoch,
2000-01-01T00:00 UTC, TEME positions and velocities. Each contender is timed on the same time
chunks, first as one chunk of the whole day, then in chunks of 360 steps (one hour), which is
how the engine calls the orbit stage.

- ours:        orbitgrid.orbits.sgp4_propagation.propagate_teme(elements, times, "auto")
- python-sgp4: sgp4.api.SatrecArray(satrecs).sgp4(jd, fr)  (output [satellite, time, 3])
- raw astroz:  astroz.propagate(astroz.Constellation(tle_text), minutes, start_time=...,
               output="teme", velocities=True), given the file's text (never a name or path)

One-time setup (building record arrays) is excluded by a warm-up call and reported apart.
Satellite-steps per second = satellites × steps / wall time. The largest position difference
between ours and each other contender is reported in metres.

Run:  python benchmarks/bench_sgp4.py            (peak memory about 2.5 GB for the 8640 chunk)
      python benchmarks/bench_sgp4.py --chunks 360
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

STARLINK_TLE = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "orbitgrid"
    / "scenarios"
    / "data"
    / "starlink_shell1_hypatia.tle"
)
START = np.datetime64("2000-01-01T00:00:00", "ns")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8640, help="time steps (default 8640)")
    parser.add_argument("--step-s", type=int, default=10, help="step in seconds (default 10)")
    parser.add_argument(
        "--chunks", default="8640,360", help="comma-separated chunk lengths in steps"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each chunking this many times, contenders interleaved; report the fastest",
    )
    args = parser.parse_args()

    import astroz
    import sgp4
    from sgp4.api import SatrecArray

    from orbitgrid.orbits.elements import load_elements
    from orbitgrid.orbits.sgp4_propagation import propagate_teme, resolve_backend
    from orbitgrid.orbits.timescale import julian_date_split

    elements = load_elements(STARLINK_TLE)
    n_sats = len(elements)
    step = np.timedelta64(args.step_s, "s")
    times = START + np.arange(args.steps) * step
    jd_whole, jd_fraction = julian_date_split(times)
    print(
        f"{n_sats} satellites × {args.steps} steps of {args.step_s} s from {START} UTC; "
        f"sgp4 {sgp4.__version__}, astroz {astroz.__version__}, numpy {np.__version__}, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"ASTROZ_THREADS={os.environ.get('ASTROZ_THREADS', 'unset (all cores)')}, "
        f"1-min load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"auto backend resolves to: {resolve_backend('auto')}")

    # One-time setup, reported apart from the timed propagation.
    t0 = time.perf_counter()
    propagate_teme(elements, times[:2], "auto")
    setup_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    satrec_array = SatrecArray(list(elements.satrecs))
    setup_python = time.perf_counter() - t0
    t0 = time.perf_counter()
    constellation = astroz.Constellation(elements.to_tle_text())  # text in, nothing fetched
    setup_astroz = time.perf_counter() - t0
    print(
        f"setup: ours {setup_ours * 1e3:.1f} ms (parse-free: records cached per ElementSet), "
        f"python-sgp4 SatrecArray {setup_python * 1e3:.1f} ms, "
        f"astroz Constellation {setup_astroz * 1e3:.1f} ms"
    )

    for chunk in (int(c) for c in args.chunks.split(",")):
        seconds = {"ours": np.inf, "python-sgp4": np.inf, "raw astroz": np.inf}
        cpu_seconds = dict(seconds)
        max_diff_m = {"python-sgp4": 0.0, "raw astroz": 0.0}
        max_velocity_diff_mm_s = {"python-sgp4": 0.0, "raw astroz": 0.0}
        # Untimed warm-up at this chunk size: the first large allocations of a process pay
        # page faults that later ones (served from freed memory) do not.
        warm = slice(0, min(chunk, args.steps))
        propagate_teme(elements, times[warm], "auto")
        satrec_array.sgp4(jd_whole[warm], jd_fraction[warm])
        astroz.propagate(
            constellation,
            np.arange(warm.stop) * (args.step_s / 60.0),
            start_time=datetime(2000, 1, 1, tzinfo=UTC),
            output="teme",
            velocities=True,
        )
        for _ in range(args.repeat):
            run = dict.fromkeys(seconds, 0.0)
            run_cpu = dict.fromkeys(seconds, 0.0)
            for begin in range(0, args.steps, chunk):
                part = slice(begin, min(begin + chunk, args.steps))

                t0, c0 = time.perf_counter(), time.process_time()
                r_ours, v_ours, _ = propagate_teme(elements, times[part], "auto")
                run["ours"] += time.perf_counter() - t0
                run_cpu["ours"] += time.process_time() - c0

                t0, c0 = time.perf_counter(), time.process_time()
                _, r_py, v_py = satrec_array.sgp4(jd_whole[part], jd_fraction[part])
                run["python-sgp4"] += time.perf_counter() - t0
                run_cpu["python-sgp4"] += time.process_time() - c0
                _track(
                    max_diff_m,
                    max_velocity_diff_mm_s,
                    "python-sgp4",
                    r_ours,
                    v_ours,
                    r_py.transpose(1, 0, 2),
                    v_py.transpose(1, 0, 2),
                )
                del r_py, v_py

                start_time = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
                    seconds=begin * args.step_s
                )
                minutes = np.arange(part.stop - part.start) * (args.step_s / 60.0)
                t0, c0 = time.perf_counter(), time.process_time()
                r_az, v_az = astroz.propagate(
                    constellation, minutes, start_time=start_time, output="teme", velocities=True
                )
                run["raw astroz"] += time.perf_counter() - t0
                run_cpu["raw astroz"] += time.process_time() - c0
                _track(max_diff_m, max_velocity_diff_mm_s, "raw astroz", r_ours, v_ours, r_az, v_az)
                del r_az, v_az, r_ours, v_ours
            seconds = {name: min(seconds[name], run[name]) for name in seconds}
            cpu_seconds = {name: min(cpu_seconds[name], run_cpu[name]) for name in seconds}

        total = n_sats * args.steps
        rate = {name: total / s for name, s in seconds.items()}
        print(f"\nchunks of {chunk} steps ({-(-args.steps // chunk)} calls each):")
        for name, s in seconds.items():
            print(
                f"  {name:12s} {s:8.3f} s wall  {rate[name] / 1e6:7.2f} M satellite-steps/s"
                f"   ({cpu_seconds[name]:7.3f} s CPU, all threads)"
            )
        print(
            f"  ours / python-sgp4 speed: {rate['ours'] / rate['python-sgp4']:.1f}×   "
            f"ours time / raw astroz time: {seconds['ours'] / seconds['raw astroz']:.2f}   "
            f"(CPU: {cpu_seconds['python-sgp4'] / cpu_seconds['ours']:.1f}× and "
            f"{cpu_seconds['ours'] / cpu_seconds['raw astroz']:.2f})"
        )
        for name in max_diff_m:
            print(
                f"  max |Δr| ours vs {name}: {max_diff_m[name]:.4f} m, "
                f"max |Δv|: {max_velocity_diff_mm_s[name]:.4f} mm/s"
            )


def _track(max_diff_m, max_velocity_diff_mm_s, name, r_ours, v_ours, r_other, v_other) -> None:
    """Keep the largest position (m) and velocity (mm/s) difference seen against ``name``."""
    max_diff_m[name] = max(max_diff_m[name], _max_norm(r_ours - r_other) * 1e3)
    max_velocity_diff_mm_s[name] = max(
        max_velocity_diff_mm_s[name], _max_norm(v_ours - v_other) * 1e6
    )


def _max_norm(difference: np.ndarray) -> float:
    return float(np.sqrt(np.max(np.einsum("...i,...i->...", difference, difference))))


if __name__ == "__main__":
    main()
