"""Static figure export (--static) with kaleido and a headless Chromium, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orbitgrid.errors import OrbitgridError
from orbitgrid.report import build_report, load_run
from orbitgrid.report.build import render_sections
from orbitgrid.report.static import export_static
from tests.report.browser import find_chromium
from tests.report.conftest import copy_run

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


def test_relative_run_dir_writes_the_map_offline_and_names_the_folder(
    small_run: Path, tmp_path: Path
) -> None:
    """`orbitgrid report RUN --static` with the relative path `orbitgrid run` prints: the
    world map comes from the preloaded asset (a relative asset path once sent plotly to its
    CDN, and the error blamed kaleido and Chromium)."""
    copy_run(small_run, tmp_path / "runs" / "small")
    done = subprocess.run(
        [sys.executable, "-m", "orbitgrid", "report", "runs/small", "--static"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "CI": "true", "COLUMNS": "250"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    folder = (tmp_path / "runs" / "small" / "report_figures").resolve()
    assert f"static figures: {folder} (" in done.stdout
    svg = (folder / "orbits-ground-tracks.svg").read_text()
    assert svg.startswith("<svg") and "geolayer" in svg


def test_static_errors_say_what_failed(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kaleido

    _, _, figures = render_sections(load_run(small_run))
    chosen = figures[:1]

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", lambda *a, **k: (ValueError("x"),))
    with pytest.raises(OrbitgridError, match=r"1 of 2 image\(s\) failed to render; the first: "):
        export_static(chosen, tmp_path / "a")

    class ChromeNotFoundError(RuntimeError):
        pass

    def no_browser(*args: object, **kwargs: object) -> None:
        raise ChromeNotFoundError("no chrome on PATH")

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", no_browser)
    with pytest.raises(OrbitgridError, match="could not start a Chromium browser") as caught:
        export_static(chosen, tmp_path / "b")
    assert "no chrome on PATH" in str(caught.value)
    assert "kaleido package" not in str(caught.value)  # kaleido is installed: not blamed
