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


def test_compare_rows_for_ai_service_options_and_eo_strategies(small_run: Path, tmp_path: Path):
    """Each AI-service option and EO strategy gets its rows (scaled as labelled); a run
    without the section shows a dash, and a figure no run has gets no row."""
    import json
    import re

    other = copy_run(small_run, tmp_path / "other")
    summary = json.loads((other / "summary.json").read_text())
    summary["workloads"] = {
        "options": {
            "ground": {"served_fraction": 0.924, "response_p95_s": 1.7},
            "copilot": {"served_fraction": 0.967, "response_p95_s": 12.8,
                        "cost_per_million_output_tokens_usd": 0.79},
        }
    }  # fmt: skip
    summary["observation"] = {
        "strategies": {"raw": {"delivered_bytes": 1.2987e12, "capture_to_insight_p95_s": 5235.6}},
        "stations_needed": {"needed": {"raw": 2}},
    }
    (other / "summary.json").write_text(json.dumps(summary))
    text = compare_runs([small_run, other], tmp_path / "compare.html").read_text()
    cells = [re.sub("<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", text)]

    def row(label: str) -> list[str]:
        i = cells.index(label)
        return cells[i + 1 : i + 3]

    assert row("AI service ground: served (%)") == ["—", "92.40"]
    assert row("AI service copilot: USD per million output tokens") == ["—", "0.7900"]
    assert row("EO raw: delivered (GB)") == ["—", "1,299"]
    assert row("EO raw: capture to insight p95 (min)") == ["—", "87.26"]
    assert row("EO raw: ground stations needed") == ["—", "2"]
    assert "AI service ground: USD per million output tokens" not in cells


def test_compare_writes_its_table_as_csv(small_run: Path, tmp_path: Path):
    """Beside the page, the same rows as CSV: a row per figure, a column per run, numbers
    unformatted (pandas reads them as numbers)."""
    import pandas as pd

    other = copy_run(small_run, tmp_path / "other")
    page = compare_runs([small_run, other], tmp_path / "cmp.html")
    table = pd.read_csv(page.with_suffix(".csv")).set_index("figure")
    assert list(table.columns) == ["small", "small (other)"]
    fraction = table.loc["delivered compute fraction (%)"].astype(float)
    assert fraction.iloc[0] == fraction.iloc[1] and 0 < fraction.iloc[0] <= 100
