"""Report size and build time for a large run (issue 6: reports).

Runs Starlink shell 1 (72 × 22 = 1,584 satellites; shell and spacecraft from ``bench_core``)
with the dataset kept, over one day at 60 s steps (default) or ``--days N``, then times
``build_report`` (HTML), ``export_czml`` and prints the sizes of the dataset, the report and the
CZML scene, and peak resident memory.
The report must stay under ~20 MB whatever the run length: time series are reduced per shell
over satellites and decimated to at most 1,500 points in time.

Usage:  .venv/bin/python benchmarks/bench_report.py [--days 1] [--step 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import orbitgrid
from bench_core import SHELL, SPACECRAFT
from orbitgrid.report import build_report, export_czml
from orbitgrid.scenario import scenario_from_dict


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0, help="simulated duration, days")
    parser.add_argument("--step", type=float, default=60.0, help="time step, s")
    parser.add_argument("--keep", type=Path, help="write the run folder here and keep it")
    args = parser.parse_args()

    scenario = scenario_from_dict(
        {
            "name": "bench-report-shell1",
            "time": {
                "start": "2027-03-20T00:00:00Z",
                "duration": f"{args.days} d",
                "step": f"{args.step:g} s",
            },
            "constellation": [SHELL],
            "spacecraft": {"edge": SPACECRAFT},
            "output": {"dataset": True},
        }
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    run_dir = args.keep or tmp / "run"
    try:
        started = time.perf_counter()
        orbitgrid.run(scenario, out_dir=run_dir)
        run_s = time.perf_counter() - started

        started = time.perf_counter()
        report = build_report(run_dir)
        report_s = time.perf_counter() - started

        started = time.perf_counter()
        scene = export_czml(run_dir)
        czml_s = time.perf_counter() - started

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "satellites": 1584,
            "steps": round(args.days * 86400 / args.step),
            "run_s": round(run_s, 2),
            "dataset_mb": round(_folder_bytes(run_dir / "dataset.zarr") / 1e6, 1),
            "report_build_s": round(report_s, 2),
            "report_mb": round(report.stat().st_size / 1e6, 2),
            "czml_build_s": round(czml_s, 2),
            "czml_mb": round(scene.stat().st_size / 1e6, 2),
            "peak_rss_mb": round(peak_mb, 0),
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
