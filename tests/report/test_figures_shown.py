"""Every figure the report is meant to show is in the report, for every shipped scenario.

Each report section declares ``shows``: the ``summary.json`` figures it writes, with their
formatter and place (headline card or section text). Each shipped scenario is run shortened
(``SHORT_DURATION``; the physics per step is unchanged) and every declared figure present in its
summary must appear, formatted, in that place; a section whose declared figures are in the
summary must be in the report (the economics section once looked for ``economics.orbital``
while runs write ``economics.shells.<shell>.orbital`` and silently vanished). The CLI's
verdict and cost lines and the comparison's rows are checked against the same summary.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import orbitgrid
from orbitgrid.report import SECTIONS, build_report, compare_runs, formats, load_run
from orbitgrid.report.build import cards_html
from orbitgrid.scenario import scenario_from_dict

SHIPPED_DIR = Path(orbitgrid.__file__).parent / "scenarios"
SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
SHORT_DURATION = "2 h"
"""Long enough for two hourly snapshots of the flagship and an orbit of the others."""


def _short_scenario(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["time"]["duration"] = SHORT_DURATION
    return data


@pytest.fixture(scope="module")
def shipped_runs(tmp_path_factory: pytest.TempPathFactory):
    """``get(stem)``: the shipped scenario run for ``SHORT_DURATION`` (each run once)."""
    done: dict[str, Path] = {}

    def get(stem: str) -> Path:
        if stem not in done:
            path = SHIPPED_DIR / f"{stem}.yaml"
            data = _short_scenario(path)
            scenario = scenario_from_dict(data, base_dir=path.parent, source=str(path))
            folder = tmp_path_factory.mktemp(stem) / "run"
            orbitgrid.run(scenario, out_dir=folder)
            done[stem] = folder
        return done[stem]

    return get


@pytest.fixture(params=[p.stem for p in SHIPPED])
def shipped_run(request: pytest.FixtureRequest, shipped_runs) -> Path:
    return shipped_runs(request.param)


@pytest.fixture
def flagship_run(shipped_runs) -> Path:
    return shipped_runs("dawn-dusk-cluster")


def test_shipped_scenarios_are_all_covered() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"dawn-dusk-cluster", "starlink-shell1-network"} <= names


def test_report_shows_every_declared_figure(shipped_run: Path) -> None:
    run = load_run(shipped_run)
    summary = json.loads((shipped_run / "summary.json").read_text())
    checked = 0
    for section in SECTIONS:
        declared = getattr(section, "shows", ())
        present = [
            (shown, path, value)
            for shown in declared
            for path, value in shown.values(summary)
            if value is not None
        ]
        if not section.applies(run):
            assert not present, (
                f"section {section.key!r} is missing from the report although summary.json "
                f"has its figures: {[path for _, path, _ in present][:5]}"
            )
            continue
        cards = cards_html(section.headline(run))
        body = section.render(run).html
        for shown, path, value in present:
            text = html.escape(shown.text(value))
            place = cards if shown.where == "headline" else body
            assert text in place, f"{path} = {value!r} should read {text!r} in {section.key}"
            checked += 1
    assert checked >= 10


def test_flagship_headline_has_cost_and_verdict(flagship_run: Path) -> None:
    summary = json.loads((flagship_run / "summary.json").read_text())
    page = build_report(flagship_run).read_text()
    cards = page[page.index('<div class="cards">') : page.index("</section>")]
    for name, result in summary["economics"]["shells"].items():
        orbit = formats.usd(result["orbital"]["cost_per_gpu_hour_usd"])
        earth = formats.usd(result["terrestrial"]["cost_per_gpu_hour_usd"])
        assert f"{orbit} vs {earth}" in cards, name
        assert formats.ratio(result["cost_ratio"]) in cards
        row = summary["shells"][name]
        assert row["cost_per_gpu_hour_orbit_usd"] == result["orbital"]["cost_per_gpu_hour_usd"]
    assert summary["total"]["verdict"] in cards
    header = (flagship_run / "shells.csv").read_text().splitlines()[0].split(",")
    assert {"cost_per_gpu_hour_orbit_usd", "cost_per_gpu_hour_earth_usd"} <= set(header)
    assert "cost_ratio_orbit_to_earth" in header and "verdict" in header


def test_cli_prints_the_reports_verdict_and_cost(tmp_path: Path) -> None:
    source = SHIPPED_DIR / "dawn-dusk-cluster.yaml"
    scenario = tmp_path / "flagship.yaml"
    scenario.write_text(yaml.safe_dump(_short_scenario(source)))
    done = subprocess.run(
        [sys.executable, "-m", "orbitgrid", "run", str(scenario), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env={"CI": "true", "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    total = summary["total"]
    assert f"verdict: {total['verdict']}" in done.stdout
    assert formats.percent(total["delivered_compute_fraction"]) in done.stdout
    result = summary["economics"]["shells"]["cluster"]
    assert formats.usd(result["orbital"]["cost_per_gpu_hour_usd"]) in done.stdout
    assert formats.ratio(result["cost_ratio"]) in done.stdout


def test_compare_shows_cost_duration_verdict_and_rtt(shipped_runs, tmp_path: Path) -> None:
    flagship, network = shipped_runs("dawn-dusk-cluster"), shipped_runs("starlink-shell1-network")
    text = compare_runs([flagship, network], tmp_path / "compare.html").read_text()
    table = text[text.index('<table class="data">') : text.index("</table>")]
    for run in (flagship, network):
        summary = json.loads((run / "summary.json").read_text())
        assert f"<td>{html.escape(summary['total']['verdict'])}</td>" in table
    assert "<td>duration</td><td>2 h</td><td>2 h</td>" in table
    flagship_summary = json.loads((flagship / "summary.json").read_text())
    result = flagship_summary["economics"]["shells"]["cluster"]
    assert "orbit: USD per delivered GPU-hour" in table
    assert "orbit over Earth per GPU-hour" in table
    # No break-even price for the flagship (null in summary.json): no row rather than a blank.
    assert result["break_even_launch_cost_usd_per_kg"] is None
    assert "break-even launch price" not in table
    assert f"{result['orbital']['cost_per_gpu_hour_usd']:.2f}" in table
    network_summary = json.loads((network / "summary.json").read_text())
    assert "network: median RTT, all pairs (ms)" in table
    assert f"{network_summary['network']['rtt_median_ms']:.2f}"[:4] in table
