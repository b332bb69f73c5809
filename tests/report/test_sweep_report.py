"""The sweep sensitivity report: tornado and Sobol' charts from the sweep's tables."""

from __future__ import annotations

import pytest

from orbitgrid.errors import OrbitgridError
from orbitgrid.report.sweep import build_sweep_report

TORNADO = """\
output,parameter,unit,low_value,high_value,base_output,output_at_low,output_at_high,swing
cost,launch,USD/kg,100,3000,10.0,9.0,14.0,5.0
cost,pue,1,1.1,1.6,10.0,9.9,10.1,0.2
"""
SOBOL = """output,parameter,S1,S1_conf,ST,ST_conf,samples
cost,launch,0.8,0.05,0.85,0.04,512
cost,pue,0.1,0.02,0.12,0.02,512
"""


def test_sweep_report_draws_both_tables(tmp_path):
    (tmp_path / "tornado.csv").write_text(TORNADO)
    (tmp_path / "sobol.csv").write_text(SOBOL)
    page = build_sweep_report(tmp_path).read_text()
    assert "Tornado: cost" in page and "indices: cost" in page
    assert page.count("fig-tornado-") >= 1 and page.count("fig-sobol-") >= 1
    assert 'src="http' not in page  # plotly.js is embedded, nothing loads from a CDN


def test_sweep_report_needs_a_table(tmp_path):
    with pytest.raises(OrbitgridError, match=r"no tornado\.csv or sobol\.csv"):
        build_sweep_report(tmp_path)
