"""The command line as a user meets it: exit codes, messages without tracebacks, run folders."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from typer.testing import CliRunner

from orbitgrid.cli import app
from orbitgrid.scenarios import shipped_scenario_path, shipped_scenarios
from tests.conftest import run_cli, small_scenario_dict


def _write(tmp_path, data, name="s.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_scenarios_lists_shipped_ones():
    done = run_cli("scenarios")
    assert done.returncode == 0
    assert "dawn-dusk-cluster" in done.stdout
    assert "starlink-shell1-edge" in done.stdout


def test_validate_ok(tmp_path):
    done = run_cli("validate", str(_write(tmp_path, small_scenario_dict())))
    assert done.returncode == 0, done.stderr
    assert "ok: <Plan 'small': 6 satellites" in done.stdout


def test_bad_scenario_exits_2_without_traceback(tmp_path):
    data = small_scenario_dict()
    data["constellation"][0]["altitude"] = "550 kn"
    done = run_cli("validate", str(_write(tmp_path, data)))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "constellation[0].altitude: unknown unit 'kn'" in done.stderr


def test_errors_past_the_schema_name_the_file_and_the_field(tmp_path):
    """A check made while building the plan or the network (here: a +grid ISL pattern on a
    2-plane shell) reads like a schema error: the scenario file, the field path, the reason;
    ``run`` exits 2 before writing its folder."""
    data = small_scenario_dict()
    data["network"] = {
        "endpoints": [
            {"name": "a", "latitude": 0, "longitude": 0},
            {"name": "b", "latitude": 10, "longitude": 10},
        ],
        "isl": {"pattern": "+grid"},
    }
    path = _write(tmp_path, data)
    for args in (("validate", str(path)), ("run", str(path), "--out", str(tmp_path / "run"))):
        done = run_cli(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: {path}: network.isl.pattern: "), done.stderr
        assert "3 planes" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_missing_file_exits_2(tmp_path):
    done = run_cli("run", str(tmp_path / "absent.yaml"))
    assert done.returncode == 2
    assert "not found" in done.stderr and "Traceback" not in done.stderr


def test_unknown_option_exits_2():
    done = run_cli("run", "--frobnicate")
    assert done.returncode == 2


def test_run_writes_folder_and_prints_summary(tmp_path):
    out = tmp_path / "run"
    done = run_cli("run", str(_write(tmp_path, small_scenario_dict())), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"run folder: {out}" in done.stdout
    assert "delivered/installed" in done.stdout
    assert json.loads((out / "summary.json").read_text())["scenario"] == "small"
    assert (out / "report.html").stat().st_size > 100_000  # plotly.js embedded


def test_no_report_skips_the_report(tmp_path):
    out = tmp_path / "run"
    done = run_cli(
        "run", str(_write(tmp_path, small_scenario_dict())), "--out", str(out), "-q", "--no-report"
    )
    assert done.returncode == 0, done.stderr
    assert not (out / "report.html").exists()


def test_run_refuses_to_overwrite_and_keeps_files(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = run_cli("run", str(_write(tmp_path, small_scenario_dict())), "--out", str(out))
    assert done.returncode == 2
    assert "already exists" in done.stderr
    assert (out / "notes.txt").read_text() == "mine"


def test_quiet_prints_only_the_folder(tmp_path):
    out = tmp_path / "run"
    done = run_cli("run", str(_write(tmp_path, small_scenario_dict())), "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"run folder: {out}"


def test_sweep_runs_and_resumes(tmp_path):
    """A tiny economic sweep through the CLI; run again, every point is skipped."""
    scenario = small_scenario_dict(economics={"mission": "5 yr"})
    _write(tmp_path, scenario, "base.yaml")
    spec = {
        "name": "tiny",
        "base": "base.yaml",
        "design": "grid",
        "tornado": True,
        "parameters": {"economics.overrides.launch_cost_usd_per_kg": {"values": [200, 2000]}},
        "outputs": ["economics.shells.*.orbital.cost_per_gpu_hour_usd"],
    }
    sweep_file = _write(tmp_path, spec, "sweep.yaml")
    out = tmp_path / "sweep"
    first = run_cli("sweep", str(sweep_file), "--out", str(out), "--scheduler", "synchronous")
    assert first.returncode == 0, first.stderr
    assert "5 points, 5 run now" in first.stdout  # 2 grid points + base, low, high (tornado)
    assert (out / "sweep_report.html").stat().st_size > 100_000
    again = run_cli("sweep", str(sweep_file), "--out", str(out), "--scheduler", "synchronous")
    assert again.returncode == 0, again.stderr
    assert "0 run now, 5 already done" in again.stdout


def test_sweep_bad_parameter_path_exits_2(tmp_path):
    _write(tmp_path, small_scenario_dict(), "base.yaml")
    spec = {
        "name": "bad",
        "base": "base.yaml",
        "design": "grid",
        "parameters": {"spacecraft.node.battery.capacty": {"values": ["1 kWh"]}},
    }
    done = run_cli("sweep", str(_write(tmp_path, spec, "sweep.yaml")), "--scheduler", "synchronous")
    assert done.returncode == 2
    assert "Did you mean 'capacity'" in done.stderr and "Traceback" not in done.stderr


def test_version():
    import orbitgrid

    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"orbitgrid {orbitgrid.__version__}"


def test_make_run_installs_only_what_running_needs():
    """`make run` installs the package without the test extras; `make test` adds them
    (`make -n -B` prints every recipe as if nothing were installed)."""
    from pathlib import Path

    root = Path(__file__).parents[1]
    run = subprocess.run(["make", "-n", "-B", "run"], cwd=root, capture_output=True, text=True)
    test = subprocess.run(["make", "-n", "-B", "test"], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0 and test.returncode == 0, run.stderr + test.stderr
    assert "-e ." in run.stdout and ".[test]" not in run.stdout
    assert ".[test]" in test.stdout and "pytest" in test.stdout


def test_unserved_note_gives_each_cause_as_a_share_of_offered():
    from orbitgrid.workloads.summary import unserved_note

    figures = {
        "offered": 1000.0,
        "dropped_no_site": 50.0,
        "dropped_over_budget": 0.2,  # under 0.05 %: not worth a word
        "dropped_no_capacity": 120.0,
    }
    assert unserved_note(figures) == (
        "17.0% not served: no capacity 12.0%, no site could take them 5.0%"
    )
    assert unserved_note({"offered": 10.0, "dropped_no_site": 0.0}) == ""
    # Requests queued at a site at the end were placed, hence served: not counted again.
    held = {"offered": 1000.0, "dropped_expired": 6.0, "held_on_devices_at_end": 27.0,
            "queued_at_end": 40.0}  # fmt: skip
    assert unserved_note(held) == (
        "3.3% not served: still held on a device at the end 2.7%, "
        "given up on the device after max_hold 0.6%"
    )
    assert unserved_note({"offered": 0.0, "dropped_no_site": 0.0}) == ""


@pytest.mark.parametrize("name", shipped_scenarios())
def test_every_shipped_scenario_validates(name):
    """``orbitgrid validate NAME`` accepts every shipped scenario (it once refused
    ai-service-remote, whose network section only carries the workloads' links)."""
    result = CliRunner().invoke(app, ["validate", name])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: <Plan ")


def test_an_endpoint_failure_in_a_workloads_only_network_is_an_error(tmp_path):
    """A network section without endpoints only carries the workloads' links: a scheduled
    endpoint failure there names nothing, and both ``validate`` and ``run`` say so."""
    path = shipped_scenario_path("ai-service-remote")
    data = yaml.safe_load(path.read_text())
    data["network"].setdefault("failures", {})["scheduled"] = [
        {"element": "endpoint", "name": "Ashburn", "start": 0, "end": 60}
    ]
    data["time"]["duration"] = "2 min"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    for args in (["validate", str(scenario)], ["run", str(scenario), "--out", str(tmp_path / "r")]):
        done = run_cli(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        message = " ".join(done.stderr.split())  # the terminal may wrap it
        assert "network.failures.scheduled[0].name: no endpoint named 'Ashburn'" in message
        assert "no endpoints of its own" in message
