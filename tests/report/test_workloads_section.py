"""The report's AI-service section on a small workload run: the figures it shows are the
summary's, and the response-time distributions it draws hold every served request."""

from __future__ import annotations

import pandas as pd
import pytest

import orbitgrid
from orbitgrid.report import build_report
from orbitgrid.report.runfolder import load_run
from orbitgrid.report.sections.workloads import WorkloadsSection, seconds
from orbitgrid.scenario import scenario_from_dict
from tests.workloads.test_offline import offline_scenario


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    window = {"every": "1 h", "duration": "20 min", "start": "30 min"}
    folder = tmp_path_factory.mktemp("wl") / "run"
    orbitgrid.run(scenario_from_dict(offline_scenario(link_window=window)), out_dir=folder)
    return folder


def test_histograms_hold_every_served_request(run_dir):
    """Per option, the response-time histogram table sums to the served count of summary.json
    (the CDF is of all served requests), and so does the time-to-first-token one."""
    run = load_run(run_dir)
    table = pd.read_csv(run_dir / "workloads_histograms.csv")
    for name, figures in run.summary["workloads"]["options"].items():
        for quantity in ("response", "ttft"):
            rows = table[(table["option"] == name) & (table["quantity"] == quantity)]
            assert rows["requests"].sum() == pytest.approx(figures["served"], rel=1e-9)
    deferred = table[table["quantity"] == "deferred_wait"]
    copilot = run.summary["workloads"]["options"]["copilot"]
    assert deferred["requests"].sum() == pytest.approx(copilot["deferred"], rel=1e-9)


def test_report_shows_each_option(run_dir):
    """The section is in the report with every option's p95 response and cost as formatted,
    the three figures, and the unpriced overhead option named."""
    page = build_report(run_dir).read_text()
    run = load_run(run_dir)
    section = WorkloadsSection()
    assert section.applies(run)
    assert "AI service" in page
    for name, figures in run.summary["workloads"]["options"].items():
        assert f"AI service: {name}" in page
        assert seconds(figures["response_p95_s"]) in page
    output = section.render(run)
    assert [f.name for f in output.figures] == ["response-cdf", "served", "user-map"]
    assert "no price for overhead" in output.html
    cdf = output.figures[0].figure
    for trace in cdf.data:
        assert trace.y[0] == 0.0 and trace.y[-1] == pytest.approx(1.0)


def test_user_map_shows_every_user(run_dir, monkeypatch):
    """Thinned in time, never in users: every user endpoint appears on the map, also when
    the point budget forces thinning (a stride that shares a factor with the user count once
    kept a quarter of the users)."""
    import orbitgrid.report.sections.workloads as section_module

    monkeypatch.setattr(section_module, "MAP_MAX_POINTS", 30)
    run = load_run(run_dir)
    figure = WorkloadsSection().render(run).figures[2].figure
    users = set(str(u) for u in run.dataset["user"].values)
    for trace in figure.data:
        if trace.lat is not None and len(trace.lat):
            assert set(trace.text) <= users
    shown = set().union(*(set(t.text) for t in figure.data if t.text is not None))
    served = run.dataset["response_time_s"].notnull().any(("time", "option")).values
    assert {u for u, ok in zip(run.dataset["user"].values, served, strict=True) if ok} <= shown
