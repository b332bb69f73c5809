"""The report in a real browser: headless Chromium renders every figure with no console error.

Skipped when no Chromium is installed (CI installs Debian's ``chromium`` package).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from orbitgrid.report import build_report, compare_runs
from tests.report.browser import find_chromium, render, screenshot
from tests.report.conftest import add_economics, add_network, copy_run

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on PATH (apt-get install chromium, or set ORBITGRID_CHROMIUM)",
)


@pytest.fixture(scope="module")
def full_report(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the small run with economics and a synthetic network: every section."""
    run = copy_run(small_run, tmp_path_factory.mktemp("browser") / "run")
    add_economics(run)
    add_network(run)
    return build_report(run)


def test_report_renders_without_console_errors(full_report: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    seen = render(full_report, tmp_path, CHROMIUM)
    assert seen.errors == []
    assert not [line for line in seen.log_console if "orbitgrid-probe" not in line]
    assert seen.figures > 10
    assert seen.plots == seen.figures  # every figure was drawn by plotly
    assert seen.geo >= 1  # the world map drew its land from the embedded TopoJSON


def test_screenshot_is_not_blank(full_report: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    png = screenshot(full_report, tmp_path / "report.png", tmp_path, CHROMIUM)
    image = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    assert image.shape[0] >= 1000 and image.shape[1] >= 1000
    # A blank page is one colour; a drawn report has text, lines and a map.
    colours = np.unique(image.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200
    assert image.std() > 20.0


def test_comparison_renders(small_run: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    other = copy_run(small_run, tmp_path / "other")
    add_economics(other)
    page = compare_runs([small_run, other], tmp_path / "compare.html")
    seen = render(page, tmp_path, CHROMIUM)
    assert seen.errors == []
    assert seen.plots == seen.figures >= 4
