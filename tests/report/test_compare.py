"""Comparison report of several runs' summaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from orbitgrid.errors import OrbitgridError
from orbitgrid.report import compare_runs
from tests.report.conftest import add_economics, copy_run
from tests.report.test_report import REMOTE_SCRIPT


def test_compare_two_runs(small_run: Path, tmp_path: Path) -> None:
    other = copy_run(small_run, tmp_path / "other")
    add_economics(other)
    out = compare_runs([small_run, other], tmp_path / "compare.html")
    text = out.read_text()
    assert not REMOTE_SCRIPT.search(text)
    assert "small (other)" in text  # same scenario name: the folder tells them apart
    assert "delivered compute fraction (%)" in text
    assert "orbit: USD per delivered GPU-hour" in text
    assert text.count('class="plotly-graph-div"') >= 5


def test_compare_errors(tmp_path: Path) -> None:
    with pytest.raises(OrbitgridError, match="at least one run folder"):
        compare_runs([], tmp_path / "c.html")
    with pytest.raises(OrbitgridError, match="is not a run folder"):
        compare_runs([tmp_path / "missing"], tmp_path / "c.html")
