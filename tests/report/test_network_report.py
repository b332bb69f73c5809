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
    comes from network_pairs.csv, and the headline takes the summary's median RTT."""
    text = build_report(network_run, out=tmp_path / "report.html").read_text()
    assert 'id="network"' in text
    assert "Median round-trip time" in text
    assert "great-circle fibre RTT (ms)" in text  # the pair table from network_pairs.csv
    _, _, figures = render_sections(load_run(network_run))
    by_name = dict(figures)
    boxes = by_name["network-latency-distribution"]
    assert boxes.data[0].x[0] == "Paris → Berlin"
    rtt = xr.open_zarr(network_run / "dataset.zarr")["rtt_ms"].sel(src="Paris", dst="Berlin")
    values = rtt.values[np.isfinite(rtt.values)]
    assert boxes.data[0].median[0] == pytest.approx(np.median(values), rel=1e-6)
    pairs = pd.read_csv(network_run / "network_pairs.csv")
    fibre = pairs.set_index(["src", "dst"]).loc[("Paris", "Berlin"), "fibre_rtt_ms"]
    assert boxes.data[1].name == "great-circle fibre"
    assert boxes.data[1].y[0] == pytest.approx(fibre)
    series = by_name["network-latency-timeseries"]
    names = [trace.name for trace in series.data]
    assert "Paris → Berlin mean" in names and "Paris → Berlin fibre" in names
    summary = json.loads((network_run / "summary.json").read_text())
    assert f"{summary['network']['rtt_median_ms']:.1f} ms" in text


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on PATH")
def test_network_report_renders_without_console_errors(network_run: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    assert chromium is not None
    seen = render(build_report(network_run, out=tmp_path / "report.html"), tmp_path, chromium)
    assert seen.errors == []
    assert not [line for line in seen.log_console if "orbitgrid-probe" not in line]
    assert seen.plots == seen.figures >= 9
