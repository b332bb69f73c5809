"""Static figure export (--static) with kaleido and a headless Chromium, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from orbitgrid.report import build_report, load_run
from orbitgrid.report.build import render_sections
from orbitgrid.report.static import export_static
from tests.report.browser import find_chromium

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium on PATH (apt-get install chromium)"
)


def test_static_export_writes_svg_and_png(small_run: Path, tmp_path: Path) -> None:
    _, _, figures = render_sections(load_run(small_run))
    chosen = [f for f in figures if f[0] in ("orbits-ground-tracks", "thermal-temperature")]
    written = export_static(chosen, tmp_path / "figs")
    names = sorted(p.name for p in written)
    assert names == [
        "orbits-ground-tracks.png",
        "orbits-ground-tracks.svg",
        "thermal-temperature.png",
        "thermal-temperature.svg",
    ]
    svg = (tmp_path / "figs" / "thermal-temperature.svg").read_text()
    assert svg.startswith("<svg") and "temperature (°C)" in svg
    png = (tmp_path / "figs" / "orbits-ground-tracks.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".static-")]


def test_build_report_static_flag(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(
        "orbitgrid.report.static.export_static", lambda figs, folder: calls.append((figs, folder))
    )
    out = build_report(small_run, out=tmp_path / "r.html", static=True)
    assert out.is_file()
    ((figs, folder),) = calls
    assert folder == tmp_path / "r_figures"
    assert {name for name, _ in figs} >= {"orbits-ground-tracks", "compute-delivered-compute"}
