"""The HTML report: builds for a small run, is self-contained, has the right sections."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from orbitgrid.errors import OrbitgridError
from orbitgrid.report import SECTIONS, build_report, load_run
from orbitgrid.report.build import render_sections
from tests.report.conftest import add_economics, add_network, copy_run, make_run

REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)
REMOTE_LINK = re.compile(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)


def _section_ids(text: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', text)


def test_report_builds_and_is_self_contained(small_run: Path, tmp_path: Path) -> None:
    out = build_report(small_run, out=tmp_path / "report.html")
    assert out == tmp_path / "report.html"
    text = out.read_text()
    assert not REMOTE_SCRIPT.search(text), "the report must not load scripts from the network"
    assert not REMOTE_LINK.search(text), "the report must not load styles from the network"
    assert text.count(get_plotlyjs()[:200]) == 1  # plotly.js embedded exactly once
    assert "PlotlyGeoAssets.topojson" in text  # world map embedded: no CDN fetch
    assert not list(tmp_path.glob("*.partial"))


def test_default_location_is_the_run_folder(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    assert build_report(run) == run / "report.html"
    assert build_report(run, out=tmp_path) == tmp_path / "report.html"  # a directory


def test_headline_first_then_sections_in_order(small_run: Path, tmp_path: Path) -> None:
    text = build_report(small_run, out=tmp_path / "r.html").read_text()
    ids = _section_ids(text)
    assert ids == ["summary", "orbits", "power", "thermal", "compute"]
    assert "Verdict" in text and "Feasible" in text
    assert text.index('id="summary"') < text.index('id="orbits"')


def test_absent_capabilities_leave_no_section(small_run: Path, tmp_path: Path) -> None:
    text = build_report(small_run, out=tmp_path / "r.html").read_text()
    assert 'id="economics"' not in text and 'id="network"' not in text
    assert "Cost per GPU-hour" not in text


def test_economics_section_when_present(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    add_economics(run)
    text = build_report(run).read_text()
    assert _section_ids(text)[-1] == "economics"
    assert "Cost per GPU-hour" in text and "Break-even launch price" in text
    _, _, figures = render_sections(load_run(run))
    names = [name for name, _ in figures]
    assert {"economics-cost-waterfall", "economics-unit-costs", "economics-mass"} <= set(names)
    waterfall = dict(figures)["economics-cost-waterfall"].data[0]
    summary = json.loads((run / "summary.json").read_text())["economics"]["orbital"]
    # the waterfall bars (M USD) add up to the lifecycle cost
    assert sum(waterfall.y[:-1]) == pytest.approx(summary["lifecycle_cost_usd"] / 1e6)


def test_network_section_when_present(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    add_network(run)
    text = build_report(run).read_text()
    assert "network" in _section_ids(text)
    assert "Median round-trip time" in text
    _, _, figures = render_sections(load_run(run))
    boxes = dict(figures)["network-latency-distribution"].data[0]
    assert boxes.x[0] == "Paris → Svalbard"
    assert boxes.median[0] == pytest.approx(22.0, abs=0.5)  # 20 + 2 ms, sinusoid averages out


def test_every_axis_has_a_unit(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    add_economics(run)
    add_network(run)
    _, _, figures = render_sections(load_run(run))
    assert len(figures) >= 10
    for name, fig in figures:
        layout = fig.to_plotly_json()["layout"]
        axes = [k for k in layout if re.fullmatch(r"[xy]axis\d*", k)]
        if any(getattr(t, "type", "") == "scattergeo" for t in fig.data):
            continue  # a map: latitude/longitude in degrees, stated in the caption
        assert axes, name
        for key in axes:
            if layout[key].get("matches"):
                continue  # shares the axis (and its title) of another subplot
            title = (layout[key].get("title") or {}).get("text") or ""
            if key.startswith("y") or "time" in title:
                assert re.search(r"\(.+\)", title), f"{name}.{key} has no unit: {title!r}"
            else:
                assert title, f"{name}.{key} has no title"


def test_figures_are_decimated(tmp_path: Path) -> None:
    """A series longer than the point budget is cut to it (min/max bucketing)."""
    run = make_run(
        tmp_path / "run", time={"start": "2027-03-20T00:00:00Z", "duration": "2 d", "step": "60 s"}
    )
    _, _, figures = render_sections(load_run(run))
    for name, fig in figures:
        for trace in fig.data:
            if isinstance(trace, go.Scatter) and trace.x is not None:
                assert len(trace.x) <= 1500, name


def test_run_without_dataset_gives_a_headline_report(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", output={"dataset": False})
    text = build_report(run).read_text()
    assert _section_ids(text) == ["summary", "compute"]
    assert "not kept" in text


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(OrbitgridError, match="is not a run folder"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OrbitgridError, match=r"summary\.json is missing"):
        build_report(tmp_path / "empty")


def test_damaged_dataset_is_reported(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    for item in (run / "dataset.zarr").iterdir():
        if item.name.startswith(".z"):
            item.unlink()
    with pytest.raises(OrbitgridError, match="cannot open the dataset"):
        build_report(run)


def test_sections_follow_the_protocol() -> None:
    from orbitgrid.report import Section

    assert [s.key for s in SECTIONS][:4] == ["orbits", "power", "thermal", "compute"]
    assert all(isinstance(s, Section) for s in SECTIONS)
