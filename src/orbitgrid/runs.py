"""Running a scenario and the run folder it leaves behind.

``run(scenario)`` is the Python entry point (notebooks); ``orbitgrid run`` calls it with an
output folder. A run folder holds:

- ``dataset.zarr``: the time-resolved dataset (dims ``time`` × ``satellite``; open with
  ``xarray.open_zarr``), streamed chunk by chunk so memory does not grow with duration; Zarr
  format 2, which every Zarr reader (Python, R, Julia, netCDF-C) opens;
- ``summary.json``: the headline figures, per shell and in total;
- ``shells.csv``: the same per-shell table, for pandas, DuckDB or a spreadsheet;
- tables of the capabilities in the run, written by their reducers: ``network_pairs.csv``,
  ``paths.csv`` and ``contacts.csv`` (runs with a ``network:`` section): RTT percentiles,
  reachability, path changes, path rates and the fibre reference per endpoint pair; each
  pair's path (node names) every time it changes; every link's contact windows;
- ``scenario.yaml``: the validated scenario as run, attribute names and SI units
  (provenance, read by the report);
- ``scenario.input.yaml``: the same scenario with YAML keys, which ``orbitgrid run`` accepts
  again to repeat the run.

The folder is built under a temporary name beside the target and renamed at the end, so a
killed run never leaves a folder that looks complete, and an existing folder is never
overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from orbitgrid import __version__
from orbitgrid.contract import Arrays, Variable
from orbitgrid.engine import RunObserver, execute, prepare
from orbitgrid.errors import OrbitgridError
from orbitgrid.plan import Plan
from orbitgrid.scenario import Scenario, load_scenario


@dataclass
class Result:
    """What a run gives back: the dataset, the summary and (when written) the run folder."""

    dataset: xr.Dataset
    summary: dict[str, Any]
    run_dir: Path | None = None

    def __repr__(self) -> str:
        sizes = " × ".join(f"{n} {d}" for d, n in self.dataset.sizes.items())
        where = f" in {self.run_dir}" if self.run_dir else ""
        return f"<Result {self.summary['scenario']!r}: {sizes}{where}>"


def _coordinates(plan: Plan, times: np.ndarray, extra: dict[str, Any] | None = None):
    shell_names = np.array([s.name for s in plan.shells])
    return (extra or {}) | {
        "time": ("time", times, {"long_name": "UTC time of the step"}),
        "satellite": ("satellite", np.arange(plan.satellite_count)),
        "satellite_name": ("satellite", plan.satellite_names.astype(str)),
        "shell": ("satellite", shell_names[plan.shell_index]),
        "plane": ("satellite", plan.plane_index, {"long_name": "plane index, -1 if unknown"}),
        "slot": ("satellite", plan.slot_index, {"long_name": "slot in plane, -1 if unknown"}),
    }


def _dataset(
    plan: Plan,
    variables: tuple[Variable, ...],
    times: np.ndarray,
    arrays: Arrays,
    extra_coords: dict[str, Any] | None = None,
) -> xr.Dataset:
    data = {
        v.name: (v.dims, np.asarray(arrays[v.name]).astype(v.dtype), v.attrs) for v in variables
    }
    return xr.Dataset(data, coords=_coordinates(plan, times, extra_coords))


class MemorySink:
    """Keeps every chunk in memory; ``close`` concatenates them into one Dataset."""

    def __init__(self, variables: tuple[Variable, ...], coords: dict[str, Any] | None = None):
        self.variables = variables
        self.coords = coords
        self._parts: list[xr.Dataset] = []

    def write(self, plan: Plan, times_utc: np.ndarray, arrays: Arrays) -> None:
        self._parts.append(_dataset(plan, self.variables, times_utc, arrays, self.coords))

    def close(self, plan: Plan) -> xr.Dataset:
        if not self._parts:
            return xr.Dataset(coords=_coordinates(plan, plan.times_utc[:0]))
        return xr.concat(self._parts, dim="time", data_vars="all")


class ZarrSink:
    """Appends chunks to a Zarr store along ``time``, a few at a time.

    Each append costs a fixed ~0.2 s in xarray and zarr whatever its size, so decimated
    chunks (often one stored step each) are buffered up to ``FLUSH_BYTES`` and written
    together; ``close`` writes what is left.
    """

    FLUSH_BYTES = 32 * 2**20

    def __init__(
        self, path: Path, variables: tuple[Variable, ...], coords: dict[str, Any] | None = None
    ):
        self.path = path
        self.variables = variables
        self.coords = coords
        self._started = False
        self._times: list[np.ndarray] = []
        self._parts: list[dict[str, np.ndarray]] = []
        self._buffered_bytes = 0

    def write(self, plan: Plan, times_utc: np.ndarray, arrays: Arrays) -> None:
        part = {v.name: np.asarray(arrays[v.name]).astype(v.dtype) for v in self.variables}
        self._times.append(np.asarray(times_utc))
        self._parts.append(part)
        self._buffered_bytes += sum(a.nbytes for a in part.values())
        if self._buffered_bytes >= self.FLUSH_BYTES:
            self._flush(plan)

    def _flush(self, plan: Plan) -> None:
        if not self._parts:
            return
        arrays = {
            v.name: np.concatenate([p[v.name] for p in self._parts], axis=0)
            if v.dims and v.dims[0] == "time"
            else self._parts[-1][v.name]
            for v in self.variables
        }
        times = np.concatenate(self._times)
        self._times, self._parts, self._buffered_bytes = [], [], 0
        part = _dataset(plan, self.variables, times, arrays, self.coords)
        if not self._started:
            encoding = {"time": {"units": "nanoseconds since 1970-01-01", "dtype": "int64"}}
            part.to_zarr(self.path, mode="w", encoding=encoding, consolidated=True, zarr_format=2)
            self._started = True
        else:
            part.to_zarr(self.path, append_dim="time", consolidated=True, zarr_format=2)

    def close(self, plan: Plan) -> None:
        self._flush(plan)


def _scenario_record(scenario: Scenario) -> dict[str, Any]:
    return json.loads(scenario.model_dump_json(by_alias=False))


SCENARIO_INPUT = "scenario.input.yaml"


def scenario_input_yaml(scenario: Scenario) -> str:
    """The scenario as YAML that ``orbitgrid run`` accepts again (``scenario.input.yaml``).

    Keys are the YAML keys the scenario set, values bare numbers in each key's own unit (km,
    s, K, …: the unit in the Python attribute's name), which the scenario reader takes as
    written, so the reloaded scenario equals this one (tested on the shipped scenarios).
    Element and endpoint files become absolute paths, as the copy no longer sits beside them.
    """
    # Only what the scenario set (defaults apply again on reading): a dump of every field
    # would, e.g., give an rf link budget the optical-only keys it refuses.
    data = json.loads(scenario.model_dump_json(by_alias=True, exclude_unset=True))
    for shell in data.get("constellation", []):
        if "file" in shell:
            shell["file"] = str(scenario.resolve(Path(shell["file"])).resolve())
    network = data.get("network") or {}
    network["endpoint_files"] = [
        name if name.startswith("builtin:") else str(scenario.resolve(Path(name)).resolve())
        for name in network.get("endpoint_files", [])
    ]
    header = (
        f"# The scenario of this run, re-runnable: orbitgrid run {SCENARIO_INPUT}\n"
        "# Bare numbers are in each key's own unit (km, s, deg, K, W, ...; docs/scenario.md).\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _summary(plan: Plan, figures: dict[str, Any], runtime_s: float) -> dict[str, Any]:
    scenario = plan.scenario
    satellite_steps = plan.satellite_count * plan.step_count
    return {
        "orbitgrid_version": __version__,
        "scenario": scenario.name,
        "description": scenario.description,
        "time": {
            "start_utc": scenario.time.start.isoformat(),
            "duration_s": scenario.time.duration_s,
            "step_s": scenario.time.step_s,
            "steps": plan.step_count,
        },
        "satellites": plan.satellite_count,
        "runtime_s": runtime_s,
        "satellite_steps_per_s": satellite_steps / runtime_s if runtime_s > 0 else None,
        **figures,
    }


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def write_tables(folder: Path, summary: dict[str, Any]) -> None:
    """Write ``summary.json`` and ``shells.csv`` (one row per shell plus ``total``) atomically."""
    _write_atomic(folder / "summary.json", json.dumps(summary, indent=2, allow_nan=True) + "\n")
    rows = [{"shell": name, **fig} for name, fig in summary["shells"].items()]
    rows.append({"shell": "total", **summary["total"]})
    fields = list(dict.fromkeys(k for row in rows for k in row))
    write_csv(folder / "shells.csv", rows, fields)


def write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    """Write ``rows`` (dicts keyed by ``fields``) as CSV, atomically."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)


def default_run_dir(scenario: Scenario, root: Path = Path("runs")) -> Path:
    """``runs/<scenario>-<UTC timestamp>``: a new folder name for each run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{scenario.name}-{stamp}"


def run(
    scenario: Scenario | str | Path,
    out_dir: str | Path | None = None,
    observer: RunObserver | None = None,
) -> Result:
    """Run a scenario (object, YAML path or shipped name); return its dataset and summary.

    With ``out_dir`` the run folder is written there (it must not exist yet, or be empty) and
    the returned dataset is opened lazily from its ``dataset.zarr``. Without it everything stays
    in memory — fine for notebooks and small runs.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    target = Path(out_dir) if out_dir is not None else None
    if target is not None and target.exists() and any(target.iterdir()):
        raise OrbitgridError(
            f"run folder {target} already exists and is not empty; choose another --out "
            "(runs are never overwritten)"
        )
    started = time.perf_counter()
    plan, pipeline = prepare(scenario)
    keep = scenario.output.dataset
    if target is None:
        sink = MemorySink(pipeline.variables, pipeline.coordinates(plan))
        figures = execute(plan, pipeline, [sink] if keep else [], observer)
        dataset = sink.close(plan)
        summary = _summary(plan, figures, time.perf_counter() - started)
        return Result(dataset, summary, None)

    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        sinks = (
            [ZarrSink(staging / "dataset.zarr", pipeline.variables, pipeline.coordinates(plan))]
            if keep
            else []
        )
        figures = execute(plan, pipeline, sinks, observer)
        for sink in sinks:
            sink.close(plan)
        summary = _summary(plan, figures, time.perf_counter() - started)
        write_tables(staging, summary)
        for reducer in pipeline.reducers:
            if hasattr(reducer, "write"):
                reducer.write(staging)
        scenario_yaml = yaml.safe_dump(_scenario_record(scenario), sort_keys=False)
        _write_atomic(staging / "scenario.yaml", scenario_yaml)
        _write_atomic(staging / SCENARIO_INPUT, scenario_input_yaml(scenario))
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    dataset = xr.open_zarr(target / "dataset.zarr") if keep else xr.Dataset()
    return Result(dataset, summary, target)
