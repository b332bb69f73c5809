"""Plant known plausible bugs one at a time in a scratch copy and report which ones the tests miss.

Each mutation is a single-line change to a physics or routing kernel (a dropped factor, a sign
flip, an off-by-one, the geocentric for the geodetic vertical) together with the test files that
must catch it. The repository itself is never modified: ``src/``, ``tests/`` and
``pyproject.toml`` are copied into a temporary folder, each mutation is applied there, the named
tests run against the copy (``PYTHONPATH`` puts the copy's ``src`` first), and the file is
restored before the next one.

Usage (from the repository root, after ``make install``)::

    .venv/bin/python scripts/mutation_check.py            # every mutation
    .venv/bin/python scripts/mutation_check.py --list     # what is planted where
    .venv/bin/python scripts/mutation_check.py -k sides   # mutations whose name contains "sides"

Exit status 0 when every mutation is caught, 1 when some survive, 2 when a mutation no longer
applies (its line changed: update the list). A run takes a few minutes on two cores, mostly
numba compiling the mutated kernels; it is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository root
    old: str  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation(
        "thermal: Earth IR and albedo on one face of a two-sided radiator",
        "src/orbitgrid/spacecraft/operations.py",
        "view_earth = view_seen[j] * p_sides[s]",
        "view_earth = view_seen[j]",
        ("tests/spacecraft/test_thermal_power_balance.py",),
    ),
    Mutation(
        "thermal: radiator emits from one face only",
        "src/orbitgrid/spacecraft/operations.py",
        "emitting_area = p_face_area[s] * p_sides[s]",
        "emitting_area = p_face_area[s]",
        ("tests/spacecraft/test_thermal_power_balance.py",),
    ),
    Mutation(
        "thermal: albedo not scaled by the solar zenith angle",
        "src/orbitgrid/spacecraft/operations.py",
        "EARTH_ALBEDO * view_earth * max(0.0, cos_zenith)",
        "EARTH_ALBEDO * view_earth",
        ("tests/spacecraft/test_thermal_power_balance.py",),
    ),
    Mutation(
        "thermal: vertical-plate view factor with the wrong sign on its second term",
        "src/orbitgrid/spacecraft/thermal.py",
        "return 0.5 - math.acos(1.0 / h) / math.pi - math.sqrt(h * h - 1.0) / (math.pi * h * h)",
        "return 0.5 - math.acos(1.0 / h) / math.pi + math.sqrt(h * h - 1.0) / (math.pi * h * h)",
        ("tests/spacecraft/test_thermal.py", "tests/spacecraft/test_thermal_power_balance.py"),
    ),
    Mutation(
        "battery: discharge efficiency as a factor instead of a divisor",
        "src/orbitgrid/spacecraft/operations.py",
        "energy = max(p_floor[s], energy - discharge / p_eta_d[s] * step_h)",
        "energy = max(p_floor[s], energy - discharge * p_eta_d[s] * step_h)",
        ("tests/spacecraft/test_thermal_power_balance.py",),
    ),
    Mutation(
        "power: array output ignores the sunlit fraction",
        "src/orbitgrid/spacecraft/operations.py",
        "* array_incidence(p_pointing[s], cos_zenith, normal_dot_sun)\n                    * lit",
        "* array_incidence(p_pointing[s], cos_zenith, normal_dot_sun)",
        ("tests/spacecraft/test_thermal_power_balance.py",),
    ),
    Mutation(
        "geometry: geocentric instead of geodetic local vertical",
        "src/orbitgrid/network/geometry.py",
        "    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))\n    return",
        "    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))\n"
        "    lat = np.arctan((1.0 - 1.0 / 298.257223563) ** 2 * np.tan(lat))\n    return",
        ("tests/network/test_geometry_skyfield.py", "tests/network/test_gsl.py"),
    ),
    Mutation(
        "contacts: elevation mask compared with sin·range (range division dropped)",
        "src/orbitgrid/network/contacts.py",
        'sin_el = np.einsum("tesk,ek->tes", diff, endpoint_up_unit) / rng',
        'sin_el = np.einsum("tesk,ek->tes", diff, endpoint_up_unit)',
        ("tests/network/test_geometry_skyfield.py",),
    ),
    Mutation(
        "frames: TEME→ECEF rotation by −GMST",
        "src/orbitgrid/orbits/frames.py",
        "out[..., 1] = -sin_t * x + cos_t * y",
        "out[..., 1] = sin_t * x + cos_t * y",
        ("tests/orbits/test_frames.py",),
    ),
    Mutation(
        "eclipse: analytic fraction without cos β",
        "src/orbitgrid/orbits/eclipse.py",
        "ratio = np.sqrt(h * h + 2.0 * radius * h) / ((radius + h) * np.cos(beta))",
        "ratio = np.sqrt(h * h + 2.0 * radius * h) / (radius + h)",
        ("tests/orbits/test_eclipse.py",),
    ),
    Mutation(
        "failures: scheduled outage includes its end step (off by one)",
        "src/orbitgrid/network/build.py",
        "active = (times_s >= f.start_s) & (times_s < f.end_s)",
        "active = (times_s >= f.start_s) & (times_s <= f.end_s)",
        ("tests/network/test_config_and_build.py",),
    ),
    Mutation(
        "workloads: per-user devices pooled into one M/M/c queue",
        "src/orbitgrid/workloads/stage.py",
        "units = sites.queue_units[None, :]",
        "units = np.ones_like(sites.queue_units)[None, :]",
        ("tests/workloads/test_offline.py",),
    ),
    Mutation(
        "workloads: a failed satellite still relays users' requests",
        "src/orbitgrid/workloads/stage.py",
        "satellite_down=failed.satellite,",
        "satellite_down=None,",
        ("tests/workloads/test_stage.py",),
    ),
    Mutation(
        "workloads: requests held on a device arrive at the start of their step",
        "src/orbitgrid/workloads/offline.py",
        "arrival = t_s[t] + 0.5 * step_s",
        "arrival = t_s[t]",
        ("tests/workloads/test_offline.py",),
    ),
    Mutation(
        "workloads: output-token quadrature loses its mean",
        "src/orbitgrid/workloads/quadrature.py",
        "return np.diff(special.ndtr(z - sigma)) / TAIL_BINS",
        "return np.diff(special.ndtr(z)) / TAIL_BINS",
        ("tests/workloads/test_request_path_des.py",),
    ),
    Mutation(
        "contact graph routing: light time left out of arrivals",
        "src/orbitgrid/network/cgr.py",
        "    return last + owlt[c]",
        "    return last",
        ("tests/network/test_cgr.py",),
    ),
    Mutation(
        "compute demand: work a limited step could not do is forgotten",
        "src/orbitgrid/spacecraft/operations.py",
        "pending[s] = max(0.0, pending[s] + demand[k, s] - compute / p_compute[s])",
        "pending[s] = 0.0",
        ("tests/spacecraft/test_operations.py", "tests/observation/test_processing_demand.py"),
    ),
    Mutation(
        "compute demand: pending work not counted in the power drawn",
        "src/orbitgrid/spacecraft/operations.py",
        "want = min(1.0, demand[k, s] + pending[s]) * p_compute[s]",
        "want = min(1.0, demand[k, s]) * p_compute[s]",
        ("tests/spacecraft/test_operations.py", "tests/observation/test_processing_demand.py"),
    ),
    Mutation(
        "workloads: requests given up on a device are not counted as dropped",
        "src/orbitgrid/workloads/stage.py",
        "dropped_per_s=flows.dropped_per_s + outbox.expired.sum((1, 2)) / step_s,",
        "dropped_per_s=flows.dropped_per_s,",
        ("tests/workloads/test_offline.py",),
    ),
    Mutation(
        "workloads: per-population sums put every user in the first population",
        "src/orbitgrid/workloads/stage.py",
        "cell = np.arange(rows)[:, None] * n_p + self.users.population[None, :]",
        "cell = np.arange(rows)[:, None] * n_p + 0 * self.users.population[None, :]",
        ("tests/workloads/test_stage.py",),
    ),
    Mutation(
        "stations needed: the latency search keeps the first candidate, not the best",
        "src/orbitgrid/observation/stations.py",
        "                    if value < best_value:",
        "                    if value < best_value and False:",
        ("tests/observation/test_stations.py",),
    ),
)


def _copy_tree(scratch: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", scratch / "pyproject.toml")


def _run_tests(scratch: Path, tests: tuple[str, ...]) -> tuple[bool, float]:
    """True when the tests fail (the mutation is caught)."""
    env = dict(os.environ, PYTHONPATH=str(scratch / "src"), NUMBA_CACHE_DIR=str(scratch / ".nb"))
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=scratch,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode != 0, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
    if args.list:
        for m in chosen:
            print(f"{m.name}\n    {m.path}: {m.old!r} → {m.new!r}\n    tests: {' '.join(m.tests)}")
        return 0
    stale = [m for m in chosen if (ROOT / m.path).read_text().count(m.old) != 1]
    for m in stale:
        print(f"STALE  {m.name}: {m.old!r} does not occur exactly once in {m.path}")
    if stale:
        return 2
    # Sanity: the unmutated tests pass, otherwise a "caught" would mean nothing.
    missed = []
    with tempfile.TemporaryDirectory(prefix="orbitgrid-mutants-") as tmp:
        scratch = Path(tmp)
        _copy_tree(scratch)
        every_test = tuple(sorted({t for m in chosen for t in m.tests}))
        failing, seconds = _run_tests(scratch, every_test)
        if failing:
            print(f"the unmutated tests fail ({' '.join(every_test)}); fix them first")
            return 2
        print(f"baseline: {len(every_test)} test files pass ({seconds:.0f} s)")
        for m in chosen:
            target = scratch / m.path
            original = target.read_text()
            target.write_text(original.replace(m.old, m.new))
            try:
                caught, seconds = _run_tests(scratch, m.tests)
            finally:
                target.write_text(original)
            print(f"{'caught' if caught else 'MISSED'}  {m.name}  ({seconds:.0f} s)", flush=True)
            if not caught:
                missed.append(m.name)
    print(f"{len(chosen) - len(missed)} of {len(chosen)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
