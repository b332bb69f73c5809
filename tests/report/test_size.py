"""Size bound: a larger run's report stays small because series are decimated, never embedded."""

from __future__ import annotations

import time
from pathlib import Path

from orbitgrid.report import build_report
from tests.report.conftest import make_run

PLOTLY_JS_BYTES = 5_000_000
"""Upper bound of the embedded plotly.js (about 4.7 MB for plotly.js 4.x)."""


def test_report_size_does_not_grow_with_the_run(tmp_path: Path) -> None:
    """200 satellites × 2880 steps (2 d at 60 s): 576 k values per variable, report < 7 MB."""
    constellation = [
        {
            "type": "walker",
            "name": "w",
            "altitude": "550 km",
            "inclination": "53 deg",
            "planes": 10,
            "sats_per_plane": 20,
            "phasing": 1,
            "spacecraft": "node",
        }
    ]
    timing = {"start": "2027-03-20T00:00:00Z", "duration": "2 d", "step": "60 s"}
    run = make_run(tmp_path / "run", constellation=constellation, time=timing)
    dataset_bytes = sum(p.stat().st_size for p in (run / "dataset.zarr").rglob("*") if p.is_file())
    started = time.perf_counter()
    out = build_report(run)
    elapsed_s = time.perf_counter() - started
    size = out.stat().st_size
    assert size < PLOTLY_JS_BYTES + 2_000_000, f"report is {size / 1e6:.1f} MB"
    assert size - PLOTLY_JS_BYTES < 0.2 * dataset_bytes, (size, dataset_bytes)
    assert elapsed_s < 30.0
