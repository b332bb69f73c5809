"""The network section on a real network run: the stage's variables, paths and pair table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from orbitgrid.report import build_report
from orbitgrid.report.build import render_sections
from orbitgrid.report.runfolder import load_run
from tests.report.browser import find_chromium, render


def test_network_section_from_a_real_run(network_run: Path, tmp_path: Path) -> None:
    """The section is present, its boxes are the dataset's RTT quartiles, the fibre reference
    comes from network_pairs.parquet, and the headline takes the summary's median RTT."""
    text = build_report(network_run, out=tmp_path / "report.html").read_text()
    assert 'id="network"' in text
    assert "RTT per pair, median" in text  # each pair's own median, not one pooled figure
    assert "great-circle fibre RTT (ms)" in text  # the pair table (network_pairs.parquet)
    _, _, figures = render_sections(load_run(network_run))
    by_name = dict(figures)
    boxes = by_name["network-latency-distribution"]
    assert boxes.data[0].x[0] == "Paris → Berlin"
    rtt = xr.open_zarr(network_run / "dataset.zarr")["rtt_ms"].sel(src="Paris", dst="Berlin")
    values = rtt.values[np.isfinite(rtt.values)]
    assert boxes.data[0].median[0] == pytest.approx(np.median(values), rel=1e-6)
    pairs = pd.read_parquet(network_run / "network_pairs.parquet")
    fibre = pairs.set_index(["src", "dst"]).loc[("Paris", "Berlin"), "fibre_rtt_ms"]
    assert boxes.data[1].name == "great-circle fibre"
    assert boxes.data[1].y[0] == pytest.approx(fibre)
    series = by_name["network-latency-timeseries"]
    names = [trace.name for trace in series.data]
    assert "Paris → Berlin mean" in names and "Paris → Berlin fibre" in names
    summary = json.loads((network_run / "summary.json").read_text())
    assert f"{summary['network']['rtt_median_ms']:.1f} ms" in text  # in the section's note
    p50 = [f["rtt_p50_ms"] for f in summary["network"]["per_pair"].values() if f["rtt_p50_ms"]]
    p95 = [f["rtt_p95_ms"] for f in summary["network"]["per_pair"].values() if f["rtt_p95_ms"]]
    assert f"{min(p50):.1f}–{max(p50):.1f} ms" in text  # the headline's range of pair medians
    assert f"95th percentile per pair {min(p95):.1f}–{max(p95):.1f} ms" in text
    # Median hops for every pair in the table, from the run's count over every step.
    hops = pairs.set_index(["src", "dst"])["hops_p50"]
    assert hops.notna().all()
    path = xr.open_zarr(network_run / "dataset.zarr")["hop_count"].sel(src="Paris", dst="Berlin")
    reached = path.values[path.values >= 0]
    assert hops.loc[("Paris", "Berlin")] == np.sort(reached)[(len(reached) + 1) // 2 - 1]


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on PATH")
def test_network_report_renders_without_console_errors(network_run: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    assert chromium is not None
    seen = render(build_report(network_run, out=tmp_path / "report.html"), tmp_path, chromium)
    assert seen.errors == []
    assert not [line for line in seen.log_console if "orbitgrid-probe" not in line]
    assert seen.plots == seen.figures >= 9
