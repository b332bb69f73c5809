"""The sweep sensitivity report: an opening sentence per output, tornado and Sobol' charts with
units on their axes, and NaN results explained in words instead of an empty chart."""

from __future__ import annotations

import json
import re

import pytest

from orbitgrid.errors import OrbitgridError
from orbitgrid.report.sweep import build_sweep_report

COST = "economics.shells.cluster.orbital.cost_per_gpu_hour_usd"
BREAK_EVEN = "economics.shells.cluster.break_even_launch_cost_usd_per_kg"
LAUNCH = "economics.overrides.launch_cost_usd_per_kg"
PUE = "economics.overrides.pue"

TORNADO = f"""\
output,parameter,unit,low_value,high_value,base_output,output_at_low,output_at_high,swing
{COST},{LAUNCH},,100,3000,10.0,9.0,14.0,5.0
{COST},{PUE},,1.1,1.6,10.0,9.9,10.1,0.2
{BREAK_EVEN},{LAUNCH},,100,3000,,,,
{BREAK_EVEN},{PUE},,1.1,1.6,,,,
"""
SOBOL = f"""output,parameter,S1,S1_conf,ST,ST_conf,samples,unit,note
{COST},{LAUNCH},0.8,0.05,0.85,0.04,512,,
{COST},{PUE},0.01,0.02,0.02,0.02,512,,
{BREAK_EVEN},{LAUNCH},,,,,512,,no value at any of the 512 design points (why)
{BREAK_EVEN},{PUE},,,,,512,,no value at any of the 512 design points (why)
"""


def _json_strings(page: str) -> set[str]:
    """The JSON string literals of the page's body (the figures), unescaped (plotly writes
    "–" as \\u2013); the embedded plotly.js is left out."""
    body = page[page.index("<main>") :]
    found = set()
    for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', body):
        try:
            found.add(json.loads(f'"{literal}"'))
        except json.JSONDecodeError:
            continue  # an HTML attribute, not JSON
    return found


def _figures(page: str, kind: str) -> set[str]:
    return set(re.findall(rf"fig-{kind}-\d+", page))


@pytest.fixture
def page(tmp_path) -> str:
    (tmp_path / "tornado.csv").write_text(TORNADO)
    (tmp_path / "sobol.csv").write_text(SOBOL)
    return build_sweep_report(tmp_path).read_text()


def test_sweep_report_opens_with_the_drivers_of_each_output(page):
    summary = page[page.index('<section id="summary">') : page.index('<section id="tornado">')]
    assert (
        "Orbit cost per GPU-hour, shell cluster (USD/GPU-h) is driven by launch cost (ST 0.85)"
        in summary
    )
    assert "PUE (ST" not in summary  # 2 % of the variance: not a driver
    assert "Break-even launch price, shell cluster (USD/kg): no input can be ranked" in summary


def test_sweep_report_axes_and_categories_carry_units(page):
    strings = _json_strings(page)
    assert "orbit cost per GPU-hour, shell cluster (USD/GPU-h), base 10" in strings  # x axis
    assert "share of output variance (0–1)" in strings  # Sobol' y axis
    assert "launch cost 100–3,000 USD/kg" in strings  # a tornado bar: range and unit
    assert "launch cost (USD/kg)" in strings  # a Sobol' bar
    assert not any(s.startswith("economics.") and "(" not in s for s in strings if " " in s)
    assert 'src="http' not in page  # plotly.js is embedded, nothing loads from a CDN


def test_sweep_report_explains_nan_instead_of_an_empty_chart(page):
    assert _figures(page, "tornado") == {"fig-tornado-0"}  # cost only
    assert _figures(page, "sobol") == {"fig-sobol-0"}
    assert "no tornado chart: no value at any of the 3 points (base, low, high)" in page
    assert "no Sobol' indices: no value at any of the 512 design points (why)" in page


def test_sweep_report_reads_tables_without_unit_and_note_columns(tmp_path):
    """sobol.csv of an earlier version (no unit, no note) still draws."""
    (tmp_path / "sobol.csv").write_text(
        f"output,parameter,S1,S1_conf,ST,ST_conf,samples\n{COST},{LAUNCH},0.8,0.05,0.85,0.04,512\n"
    )
    page = build_sweep_report(tmp_path).read_text()
    assert _figures(page, "sobol") == {"fig-sobol-0"} and "is driven by launch cost" in page


def test_sweep_report_needs_a_table(tmp_path):
    with pytest.raises(OrbitgridError, match=r"no tornado\.csv or sobol\.csv"):
        build_sweep_report(tmp_path)
