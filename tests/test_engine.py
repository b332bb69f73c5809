"""The engine's contract: chunking does not change results, runs are deterministic, the
dataset follows the conventions other stages build on, and the run folder is written safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import orbitgrid
from orbitgrid.engine import chunk_steps
from orbitgrid.errors import OrbitgridError
from orbitgrid.plan import build_plan
from orbitgrid.scenario import scenario_from_dict
from tests.conftest import small_scenario_dict


def _run(**overrides):
    return orbitgrid.run(scenario_from_dict(small_scenario_dict(**overrides)))


def _numbers(tree, path=""):
    """Every float in a nested summary, by dotted path (timing fields left out)."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(_numbers(value, f"{path}.{key}"))
        return out
    if isinstance(tree, float) and not path.endswith(("runtime_s", "satellite_steps_per_s")):
        return {path: tree}
    return {}


def test_chunking_does_not_change_results():
    """Same numbers whether the time grid is walked in one chunk or in many: the dataset is
    equal value for value (state carries across chunk boundaries exactly; measured: no
    difference at all), and every summary figure to 1e-9 relative (sums over chunks are
    added in a different order: measured ≤ 6e-16)."""
    whole = _run()
    chunked = _run(engine={"chunk_satellite_steps": 1000})
    scenario = scenario_from_dict(small_scenario_dict(engine={"chunk_satellite_steps": 1000}))
    assert chunk_steps(build_plan(scenario)) < scenario.time.step_count  # really several chunks
    xr.testing.assert_equal(whole.dataset, chunked.dataset)
    mine, theirs = _numbers(whole.summary), _numbers(chunked.summary)
    assert mine.keys() == theirs.keys() and ".total.state_of_charge_min" in mine
    for key, value in mine.items():
        assert theirs[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_runs_are_deterministic():
    first, second = _run(), _run()
    xr.testing.assert_identical(first.dataset, second.dataset)


def test_dataset_conventions():
    """Named dims, coordinates, and a units attribute on every variable."""
    result = _run()
    ds = result.dataset
    assert dict(ds.sizes) == {"time": 180, "satellite": 6}
    assert ds.time.dtype == np.dtype("datetime64[ns]")
    assert ds.time.values[0] == np.datetime64("2027-03-20T00:00:00")
    assert list(ds.satellite_name.values[:2]) == ["w-0-0", "w-0-1"]
    assert set(ds.shell.values) == {"w"}
    for name, variable in ds.data_vars.items():
        assert "units" in variable.attrs, name
        assert "long_name" in variable.attrs, name
        assert variable.dims == ("time", "satellite"), name


def test_output_stride_keeps_every_nth_step():
    every = _run(output={"every": "5 min"})
    full = _run()
    assert every.dataset.sizes["time"] == 36
    xr.testing.assert_allclose(every.dataset, full.dataset.isel(time=slice(None, None, 5)))


def test_delivered_never_exceeds_installed_and_soc_in_window():
    ds = _run().dataset
    assert float(ds.compute_fraction.max()) <= 1.0 + 1e-6
    assert float(ds.state_of_charge.min()) >= 0.2 - 1e-6  # 80 % depth of discharge
    assert float(ds.state_of_charge.max()) <= 1.0 + 1e-6


def test_run_folder(tmp_path):
    target = tmp_path / "run"
    result = orbitgrid.run(scenario_from_dict(small_scenario_dict()), out_dir=target)
    assert result.run_dir == target
    assert sorted(p.name for p in target.iterdir()) == [
        "dataset.zarr",
        "scenario.input.yaml",
        "scenario.yaml",
        "shells.csv",
        "summary.json",
    ]
    summary = json.loads((target / "summary.json").read_text())
    assert summary["satellites"] == 6
    assert set(summary["shells"]) == {"w"}
    table = pd.read_csv(target / "shells.csv")
    assert list(table["shell"]) == ["w", "total"]
    ds = xr.open_zarr(target / "dataset.zarr")
    assert ds.sizes["time"] == 180
    assert not list(tmp_path.glob(".*partial*"))  # no staging folder left behind


def test_existing_run_folder_is_never_overwritten(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(OrbitgridError, match="already exists and is not empty"):
        orbitgrid.run(scenario_from_dict(small_scenario_dict()), out_dir=target)
    assert (target / "keep.txt").read_text() == "precious"


def test_failed_run_leaves_no_folder(tmp_path, monkeypatch):
    """A run that dies half-way leaves neither the target nor a staging folder."""
    from orbitgrid.spacecraft import stages

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(stages, "operate", explode)
    with pytest.raises(RuntimeError):
        orbitgrid.run(scenario_from_dict(small_scenario_dict()), out_dir=tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_reprs():
    scenario = scenario_from_dict(small_scenario_dict())
    assert repr(scenario) == "<Scenario 'small': 1 shell(s) [w], 180 steps of 60 s>"
    assert repr(build_plan(scenario)) == "<Plan 'small': 6 satellites in 1 shell(s) × 180 steps>"
    assert repr(orbitgrid.run(scenario)) == "<Result 'small': 180 time × 6 satellite>"


def test_dataset_can_be_skipped():
    result = _run(output={"dataset": False})
    assert result.summary["satellites"] == 6
    assert len(result.dataset.data_vars) == 0


def test_economics_section_adds_costs_from_delivered_compute():
    result = _run(economics={"overrides": {"launch_cost_usd_per_kg": 500}, "mission": "5 yr"})
    shell = result.summary["economics"]["shells"]["w"]
    delivered = result.summary["shells"]["w"]["delivered_compute_fraction"]
    assert shell["orbital"]["delivered_fraction"] == pytest.approx(delivered)
    assert shell["orbital"]["cost_per_gpu_hour_usd"] > 0
    assert "economics" not in _run().summary


def test_economics_override_typo_is_a_clear_error():
    from orbitgrid.errors import ScenarioError

    data = small_scenario_dict(economics={"overrides": {"launch_cost_per_kg": 500}})
    with pytest.raises(ScenarioError, match=r"economics\.overrides.*launch_cost_usd_per_kg"):
        scenario_from_dict(data)


@pytest.mark.parametrize(
    "name",
    [
        "dawn-dusk-cluster",
        "starlink-shell1-edge",
        "starlink-shell1-tle",
        "starlink-shell1-network",
        "ai-service-remote",
        "eo-dove-like",
        "eo-sentinel2-like",
    ],
)
def test_scenario_input_yaml_reruns_the_same_scenario(tmp_path, name):
    """The run folder's scenario.input.yaml, read back from another folder, validates to the
    same scenario as the shipped file (every field, element files found)."""
    import yaml

    from orbitgrid.runs import scenario_input_yaml
    from orbitgrid.scenario import load_scenario

    original = load_scenario(name)
    copy = tmp_path / "elsewhere" / "scenario.input.yaml"
    copy.parent.mkdir()
    copy.write_text(scenario_input_yaml(original))
    again = load_scenario(copy)
    as_run = json.loads(original.model_dump_json())
    reread = json.loads(again.model_dump_json())
    for shell in as_run["constellation"] + reread["constellation"]:
        if "file" in shell:
            shell["file"] = Path(shell["file"]).name
    assert reread == as_run
    assert yaml.safe_load(copy.read_text())["name"] == name


def test_observer_hears_the_phases_after_the_last_chunk():
    """After the chunks the observer is told what the run does next — the reducers'
    summaries, then each analysis by its phase — so a progress bar at 100 % does not look
    stuck through a long analysis."""
    from orbitgrid.engine import RunObserver

    data = small_scenario_dict()
    data["economics"] = {}
    events = []
    observer = RunObserver(
        on_chunk=lambda chunk: events.append("chunk"), on_phase=lambda phase: events.append(phase)
    )
    orbitgrid.run(scenario_from_dict(data), observer=observer)
    assert events[-2:] == ["summarising", "economics"]
    assert set(events[:-2]) == {"chunk"}
