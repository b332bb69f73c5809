"""The run folder as an attack surface and as a thing that gets killed (issue 12).

- the default folder name is the scenario name sanitised: it stays inside ``runs/``;
- ``--out`` that is a file, a symlink, a non-empty folder or a live run's target is refused
  before any simulation;
- staging folders of dead processes are removed when a later run starts;
- a run whose final rename fails keeps its results under a name it reports;
- a run killed with SIGKILL continues with ``orbitgrid run --resume`` and ends with the same
  dataset and summary as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from orbitgrid.engine import RunObserver
from orbitgrid.errors import OrbitgridError
from orbitgrid.runs import (
    CHECKPOINT,
    check_out_dir,
    default_run_dir,
    remove_stale_staging,
    run,
    safe_run_name,
)
from orbitgrid.scenario import scenario_from_dict
from tests.conftest import run_cli, small_scenario_dict

# Figures that measure the machine, not the simulation.
TIMING_KEYS = ("runtime_s", "satellite_steps_per_s")


def _scenario(**overrides):
    return scenario_from_dict(small_scenario_dict(**overrides))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    "name", ["../../etc", "/etc/cron.d/x", "..", ".hidden", "a/b\\c", "名前", "x" * 200]
)
def test_default_run_dir_stays_inside_runs(tmp_path, name):
    root = tmp_path / "runs"
    target = default_run_dir(_scenario(name=name), root)
    assert target.parent == root
    assert target.resolve().parent == root.resolve()
    assert not target.name.startswith(".")
    assert len(target.name) < 120


def test_safe_run_name_keeps_plain_names():
    assert safe_run_name("starlink-shell1_edge.v2") == "starlink-shell1_edge.v2"
    assert safe_run_name("../..") == "run"


def test_out_that_is_a_file_is_refused_before_the_run(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(small_scenario_dict()))
    done = run_cli("run", str(path), "--out", str(target), "--quiet", "--no-report")
    assert done.returncode == 2
    assert "exists and is a file" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "not a folder"
    assert {p.name for p in tmp_path.iterdir()} == {"taken", "s.yaml"}  # no staging made


def test_out_that_is_a_symlink_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    with pytest.raises(OrbitgridError, match="symlink"):
        run(_scenario(), link)
    assert not any(elsewhere.iterdir())


def test_out_that_is_a_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(OrbitgridError, match="not empty"):
        check_out_dir(tmp_path / "full")


def test_out_taken_by_a_live_run_is_refused(tmp_path):
    """A staging folder whose process is alive (here: this test's parent) marks the target."""
    (tmp_path / f".target.partial-{os.getppid()}").mkdir()
    with pytest.raises(OrbitgridError, match="being written by another run"):
        check_out_dir(tmp_path / "target")


def test_stale_staging_of_a_dead_process_is_removed_by_the_next_run(tmp_path):
    stale = tmp_path / f".old-run.partial-{_dead_pid()}"
    (stale / "dataset.zarr").mkdir(parents=True)
    live = tmp_path / f".other.partial-{os.getppid()}"
    live.mkdir()
    result = run(_scenario(), tmp_path / "new", checkpoint_every_s=None)
    assert not stale.exists()
    assert live.exists(), "a live run's staging folder must be left alone"
    assert any("killed run of 'old-run'" in n for n in result.notices)
    assert (tmp_path / "new" / "summary.json").exists()


def test_remove_stale_staging_ignores_other_folders(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / ".x.partial-notapid").mkdir()
    assert remove_stale_staging(tmp_path) == []
    assert (tmp_path / "plain").exists() and (tmp_path / ".x.partial-notapid").exists()


def test_failed_final_rename_keeps_the_results_under_a_reported_name(tmp_path):
    """Another process takes the target during the run: the results move beside it."""
    target = tmp_path / "out"

    def take_target(chunk):
        target.mkdir(exist_ok=True)
        (target / "someone-else.txt").write_text("theirs")

    result = run(_scenario(), target, RunObserver(on_chunk=take_target), checkpoint_every_s=None)
    assert result.run_dir != target
    assert result.run_dir.parent == tmp_path and result.run_dir.name.startswith("out-")
    assert (result.run_dir / "summary.json").exists()
    assert any(str(result.run_dir) in n for n in result.notices)
    assert (target / "someone-else.txt").read_text() == "theirs"
    assert not list(tmp_path.glob(".out.partial-*"))


def test_disk_run_matches_the_in_memory_engine(tmp_path):
    """The run folder's chunk loop (with checkpoints) computes what engine.execute does."""
    data = small_scenario_dict()
    data["engine"] = {"chunk_satellite_steps": 1000}  # several chunks, several checkpoints
    memory = run(scenario_from_dict(data))
    disk = run(scenario_from_dict(data), tmp_path / "r", checkpoint_every_s=0.0)
    for key in TIMING_KEYS:
        memory.summary.pop(key), disk.summary.pop(key)
    assert json.loads(json.dumps(disk.summary)) == json.loads(json.dumps(memory.summary))
    xr.testing.assert_allclose(disk.dataset.load(), memory.dataset.astype(disk.dataset.dtypes))
    assert not (tmp_path / "r" / CHECKPOINT).exists()


def _resumable_scenario(tmp_path: Path) -> Path:
    data = small_scenario_dict(name="resumable")
    # 6 satellites, 1000 satellite-steps a chunk: ~170 steps a chunk, ~60 chunks.
    data["time"].update(duration="7 d", step="60 s")
    data["engine"] = {"chunk_satellite_steps": 1000}
    data["output"] = {"every": "120 s"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_sigkilled_run_resumes_to_the_same_result(tmp_path):
    path = _resumable_scenario(tmp_path)
    target = tmp_path / "killed"
    env = {**os.environ, "CI": "true"}
    command = [sys.executable, "-m", "orbitgrid", "run", str(path), "--out", str(target)]
    child = subprocess.Popen(
        [*command, "--quiet", "--no-report", "--checkpoint-every", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    staging = tmp_path / f".killed.partial-{child.pid}"
    deadline = time.monotonic() + 120
    while not (staging / CHECKPOINT).exists():
        assert child.poll() is None, f"the run ended before it was killed: {child.stderr.read()}"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    time.sleep(0.3)  # a few chunks more: the store may then hold steps past the checkpoint
    assert child.poll() is None, "the run ended before it was killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert staging.exists() and not target.exists()

    done = run_cli("run", "--resume", str(target), "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert not staging.exists() and (target / "summary.json").exists()

    reference = run(scenario_from_dict(yaml.safe_load(path.read_text())), tmp_path / "whole")
    resumed = json.loads((target / "summary.json").read_text())
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    for key in TIMING_KEYS:
        resumed.pop(key), whole.pop(key)
    assert resumed == whole
    a = xr.open_zarr(target / "dataset.zarr").load()
    b = reference.dataset.load()
    assert a.sizes == b.sizes
    xr.testing.assert_identical(a, b)
    assert np.isfinite(a["temperature_k"].values).all()


def _network_resumable_scenario(tmp_path: Path) -> Path:
    """240 satellites, 3 cities, a path log: ~24 chunks of 10 steps, every table streamed."""
    from tests.network.test_engine_integration import _network_dict

    data = _network_dict()
    data["name"] = "resumable-network"
    data["time"].update(duration="4 h", step="60 s")
    data["engine"] = {"chunk_satellite_steps": 2400}
    data["output"] = {"every": "120 s"}
    path = tmp_path / "n.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_sigkilled_network_run_resumes_to_the_same_tables(tmp_path):
    """A network run (path log streamed in part files) killed with SIGKILL after a
    checkpoint resumes to the same summary, dataset and tables as an uninterrupted run:
    paths.parquet byte for byte (row groups do not depend on where checkpoints fell),
    contacts and network_pairs row for row."""
    import pyarrow.parquet as pq

    path = _network_resumable_scenario(tmp_path)
    target = tmp_path / "killed"
    command = [sys.executable, "-m", "orbitgrid", "run", str(path), "--out", str(target)]
    child = subprocess.Popen(
        [*command, "--quiet", "--no-report", "--checkpoint-every", "0"],
        env={**os.environ, "CI": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    staging = tmp_path / f".killed.partial-{child.pid}"
    parts = staging / ".paths.parts"
    deadline = time.monotonic() + 120
    # Killed once the checkpoint refers to closed parts of the path log.
    while not ((staging / CHECKPOINT).exists() and len(list(parts.glob("part-*"))) >= 2):
        assert child.poll() is None, f"the run ended before it was killed: {child.stderr.read()}"
        assert time.monotonic() < deadline, "no checkpoint with path-log parts appeared"
        time.sleep(0.01)
    time.sleep(0.2)
    assert child.poll() is None, "the run ended before it was killed"
    child.send_signal(signal.SIGKILL)
    child.wait()

    done = run_cli("run", "--resume", str(target), "--quiet", "--no-report")
    assert done.returncode == 0, done.stderr
    assert not staging.exists() and not (target / ".paths.parts").exists()
    reference = run(scenario_from_dict(yaml.safe_load(path.read_text())), tmp_path / "whole")
    whole = reference.run_dir
    resumed_summary = json.loads((target / "summary.json").read_text())
    whole_summary = json.loads((whole / "summary.json").read_text())
    for key in TIMING_KEYS:
        resumed_summary.pop(key), whole_summary.pop(key)
    assert resumed_summary == whole_summary
    xr.testing.assert_identical(xr.open_zarr(target / "dataset.zarr").load(), reference.dataset)
    assert (target / "paths.parquet").read_bytes() == (whole / "paths.parquet").read_bytes()
    assert pq.read_table(target / "paths.parquet").num_rows > 100
    for stem in ("contacts", "network_pairs"):
        resumed = pq.read_table(target / f"{stem}.parquet")
        assert resumed.num_rows > 0 and resumed.equals(pq.read_table(whole / f"{stem}.parquet"))


def test_resume_without_a_killed_run_says_so(tmp_path):
    done = run_cli("run", "--resume", str(tmp_path / "nothing"), "--quiet")
    assert done.returncode == 2
    assert "no resumable run" in done.stderr and "Traceback" not in done.stderr


def test_resume_of_a_finished_run_is_refused(tmp_path):
    run(_scenario(), tmp_path / "done", checkpoint_every_s=None)
    done = run_cli("run", "--resume", str(tmp_path / "done"), "--quiet")
    assert done.returncode == 2 and "finished run" in done.stderr


def test_truncate_zarr_cuts_every_time_array(tmp_path):
    """Resuming cuts steps appended after the last checkpoint (kill between flush and save)."""
    from orbitgrid.runs import _truncate_zarr

    result = run(_scenario(), tmp_path / "r", checkpoint_every_s=None)
    full = result.dataset.load()
    _truncate_zarr(tmp_path / "r" / "dataset.zarr", 50)
    cut = xr.open_zarr(tmp_path / "r" / "dataset.zarr").load()
    assert cut.sizes["time"] == 50 and cut.sizes["satellite"] == full.sizes["satellite"]
    xr.testing.assert_identical(cut, full.isel(time=slice(0, 50)))


def test_resume_cuts_arrays_a_killed_append_resized(tmp_path):
    """A kill in the middle of an append leaves some arrays resized on disk while the
    consolidated metadata still shows the old length; cutting the store back to the
    checkpoint must read the arrays' own metadata (this once let a resumed dataset end with
    variables of different lengths)."""
    from orbitgrid.runs import _truncate_zarr

    store = tmp_path / "d.zarr"
    data = xr.Dataset(
        {"a": ("time", np.arange(5.0)), "b": ("time", np.arange(5.0))},
        coords={"time": np.arange(5)},
    )
    data.to_zarr(store, mode="w", consolidated=True, zarr_format=2)
    meta = json.loads((store / "b" / ".zarray").read_text())
    meta["shape"] = [8]  # 'b' appended to, 'a' not yet, consolidated metadata not rewritten
    (store / "b" / ".zarray").write_text(json.dumps(meta))
    _truncate_zarr(store, 5)
    reopened = xr.open_zarr(store)
    assert reopened.sizes["time"] == 5
    assert json.loads((store / "b" / ".zarray").read_text())["shape"] == [5]
