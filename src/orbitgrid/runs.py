"""Running a scenario and the run folder it leaves behind.

``run(scenario)`` is the Python entry point (notebooks); ``orbitgrid run`` calls it with an
output folder. A run folder holds:

- ``dataset.zarr``: the time-resolved dataset (dims ``time`` × ``satellite``; open with
  ``xarray.open_zarr``), streamed chunk by chunk so memory does not grow with duration; Zarr
  format 2, which every Zarr reader (Python, R, Julia, netCDF-C) opens;
- ``summary.json``: the headline figures, per shell and in total;
- ``shells.csv``: the same per-shell table, for pandas, DuckDB or a spreadsheet;
- tables of the capabilities in the run, written by their reducers: ``network_pairs``,
  ``paths`` and ``contacts`` (runs with a ``network:`` section; ``.parquet``, or ``.csv``
  with ``network.tables: csv``): RTT percentiles, reachability, path changes, path rates and
  the fibre reference per endpoint pair; each pair's path (node names) every time it
  changes; every link's contact windows;
- ``scenario.yaml``: the validated scenario as run, attribute names and SI units
  (provenance, read by the report);
- ``scenario.input.yaml``: the same scenario with YAML keys, which ``orbitgrid run`` accepts
  again to repeat the run.

The folder is built under a hidden staging name beside the target
(``.<name>.partial-<pid>``) and renamed at the end, so a killed run never leaves a folder that
looks complete, and an existing folder is never overwritten. The run folder is untrusted
ground too (docs/security.md):

- ``--out`` that is a file, a symlink, a non-empty folder or the target of a live run is
  refused *before* the run; the default folder name is the scenario name sanitised
  (``safe_run_name``), so it stays inside ``runs/``.
- Staging folders of processes that no longer exist (a run killed with SIGKILL) are removed
  when a later run starts in the same parent folder, unless resumed first.
- While it runs, the staging folder holds a checkpoint (``checkpoint.pkl``: the plan, the
  pipeline and its states after the last finished chunk, every ``checkpoint_every_s``), so
  ``orbitgrid run --resume RUN_DIR`` continues a killed run and ends with the same dataset,
  summary and tables as an uninterrupted one. Tables that stream (the path log) are written
  in part files there, closed at each checkpoint (``network.tables.PartWriter``).
- When the final rename fails (the target was taken meanwhile, a permission changed), the
  results are kept under a visible name beside the target, which the run reports.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from orbitgrid import __version__
from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.csv_files import write_csv
from orbitgrid.engine import Pipeline, RunObserver, execute, prepare
from orbitgrid.errors import OrbitgridError, shorten
from orbitgrid.plan import Plan
from orbitgrid.scenario import Scenario, load_scenario
from orbitgrid.size_guard import check_fits, estimate_run


@dataclass
class Result:
    """What a run gives back: the dataset, the summary and (when written) the run folder."""

    dataset: xr.Dataset
    summary: dict[str, Any]
    run_dir: Path | None = None
    # What the run did besides its job, for the user to know (stale staging removed, results
    # kept under another name, resume unavailable).
    notices: list[str] = field(default_factory=list)

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


# ---------------------------------------------------------------------------------------------
# the run folder: names, checks, staging, publishing

STAGING = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)$")
CHECKPOINT = "checkpoint.pkl"
CHECKPOINT_VERSION = 1
# Longest run folder name taken from a scenario name (file systems allow 255 bytes).
MAX_RUN_NAME_CHARS = 80


def safe_run_name(name: str) -> str:
    """The scenario name as one harmless path component: ``[A-Za-z0-9._-]``, no leading dot.

    ``../..``, ``/etc`` or a name with control characters can then only name a folder inside
    the runs folder.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:MAX_RUN_NAME_CHARS]
    return cleaned or "run"


def default_run_dir(scenario: Scenario, root: Path = Path("runs")) -> Path:
    """``runs/<scenario>-<UTC timestamp>``: a new folder name for each run (name sanitised)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{safe_run_name(scenario.name)}-{stamp}"


def _staging_dir(target: Path, pid: int | None = None) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid() if pid is None else pid}")


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (a zombie counts as dead)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:  # a killed child not yet reaped by its parent is a zombie: as good as dead
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return True


def _stagings(parent: Path) -> list[tuple[Path, str, int]]:
    """Staging folders in ``parent``: (path, target name, pid)."""
    if not parent.is_dir():
        return []
    found = []
    for entry in parent.iterdir():
        match = STAGING.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            found.append((entry, match["name"], int(match["pid"])))
    return found


def remove_stale_staging(parent: Path, keep: Path | None = None) -> list[str]:
    """Remove staging folders of processes that no longer exist; return notices about them.

    A staging folder belongs to the process in its name; when that process is gone (killed,
    crashed) nobody will finish or remove it. It could have been resumed
    (``--resume``) until now.
    """
    notices = []
    for path, name, pid in _stagings(parent):
        if path == keep or _pid_alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        notices.append(f"removed the staging folder of a killed run of {name!r} (pid {pid})")
    return notices


def check_out_dir(target: Path) -> None:
    """Refuse, before any work, a run folder the run could not (or must not) write.

    Refused: a symlink (it could point anywhere), an existing file, a non-empty folder, a
    parent that is a file, and a target that a live run is already building.
    """
    text = str(target)
    if any(ord(c) < 32 for c in text):
        raise OrbitgridError(f"--out {shorten(text)}: a path with control characters")
    if target.is_symlink():
        raise OrbitgridError(
            f"run folder {shorten(text)} is a symlink; give a real folder (runs never write "
            "through links)"
        )
    if target.exists() and not target.is_dir():
        raise OrbitgridError(
            f"run folder {shorten(text)} exists and is a file; choose another --out"
        )
    if target.is_dir() and any(target.iterdir()):
        raise OrbitgridError(
            f"run folder {shorten(text)} already exists and is not empty; choose another --out "
            "(runs are never overwritten)"
        )
    for parent in target.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OrbitgridError(f"run folder {shorten(text)}: {parent} is not a folder")
            break
    for _, name, pid in _stagings(target.parent):
        if name == target.name and pid != os.getpid() and _pid_alive(pid):
            raise OrbitgridError(
                f"run folder {shorten(text)} is being written by another run (pid {pid}); "
                "choose another --out"
            )


def _publish(staging: Path, target: Path) -> tuple[Path, list[str]]:
    """Rename the finished staging folder to ``target``; on failure keep it under a name.

    Returns the folder that holds the results and notices. The results are never deleted:
    if ``target`` was taken meanwhile (or cannot be written), they go to
    ``<target>-<time>-<pid>`` beside it, or stay in the staging folder.
    """
    try:
        if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
            target.rmdir()  # an empty folder made for the run
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} exists")
        os.rename(staging, target)
        return target, []
    except OSError as error:
        reason = error.strerror or str(error)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        fallback = target.with_name(f"{target.name}-{stamp}-{os.getpid()}")
        try:
            os.rename(staging, fallback)
            kept = fallback
        except OSError:
            kept = staging
        return kept, [
            f"could not rename the finished run to {target} ({reason}); its results are in {kept}"
        ]


# ---------------------------------------------------------------------------------------------
# checkpoints


@dataclass
class _Progress:
    """What a checkpoint holds: everything needed to continue after ``next_chunk``."""

    version: int
    plan: Plan
    pipeline: Pipeline
    states: list[Any]
    next_chunk: int
    stored_steps: int
    runtime_s: float


def _view_of(
    base: np.ndarray, offset: int, shape: tuple, strides: tuple, dtype: np.dtype, writeable: bool
) -> np.ndarray:
    view = np.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)
    view.flags.writeable = writeable and base.flags.writeable
    return view


class _CheckpointPickler(pickle.Pickler):
    """A pickler that keeps NumPy views views of their base array.

    Plain pickle copies a view and its base separately, so a reducer that accumulates into
    one array through named views of it (``summary.CoreSummary``) would, once resumed, add to
    the base while reading stale copies. Here a view is pickled as (base, offset, shape,
    strides), and the base once, so the unpickled arrays share memory as before.
    """

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is np.ndarray and type(obj.base) is np.ndarray:
            base = obj.base
            if base.flags.c_contiguous and obj.size:
                offset = obj.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                args = (base, offset, obj.shape, obj.strides, obj.dtype, obj.flags.writeable)
                return _view_of, args
        return NotImplemented


def _write_checkpoint(staging: Path, progress: _Progress) -> str | None:
    """Write ``checkpoint.pkl`` atomically; return why not when the pipeline cannot be saved."""
    partial = staging / (CHECKPOINT + ".partial")
    try:
        with partial.open("wb") as handle:
            _CheckpointPickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(progress)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        partial.unlink(missing_ok=True)
        return str(error).split("\n")[0][:200]
    os.replace(partial, staging / CHECKPOINT)
    return None


def _truncate_zarr(path: Path, steps: int) -> None:
    """Cut every ``time`` array of the Zarr store to ``steps`` (appends after a checkpoint)."""
    import zarr

    # The arrays' own metadata, not the consolidated copy: a kill during an append leaves
    # arrays resized on disk that the (older) consolidated metadata does not show.
    group = zarr.open_group(str(path), mode="r+", zarr_format=2, use_consolidated=False)
    for _, array in group.arrays():
        dims = array.attrs.get("_ARRAY_DIMENSIONS", [])
        if dims and dims[0] == "time" and array.shape[0] > steps:
            array.resize((steps, *array.shape[1:]))
    zarr.consolidate_metadata(str(path), zarr_format=2)


def _run_chunks(
    staging: Path,
    progress: _Progress,
    sinks: list[ZarrSink],
    observer: RunObserver,
    checkpoint_every_s: float | None,
    started: float,
) -> tuple[dict[str, Any], list[str]]:
    """The engine's chunk loop (``engine.execute``) from ``progress``, with a checkpoint after
    a chunk every ``checkpoint_every_s`` of wall time: the sinks are flushed (the store then
    holds exactly the finished chunks) and the plan, pipeline and states pickled, so a
    resumed run continues from exactly the state it saved."""
    plan = progress.plan
    stride = plan.scenario.output_stride
    notices: list[str] = []
    last = time.monotonic()

    def checkpoint(chunk: Chunk, states: list[Any]) -> None:
        nonlocal checkpoint_every_s, last
        progress.next_chunk = chunk.index + 1
        done_steps = chunk.start_step + chunk.step_count
        due = checkpoint_every_s is not None and time.monotonic() - last >= checkpoint_every_s
        if due and done_steps < plan.step_count:
            for sink in sinks:
                sink.close(plan)
            # Reducers that stream tables (the network's path log) close their open part
            # file: the checkpoint must refer to whole files only.
            for reducer in progress.pipeline.reducers:
                if hasattr(reducer, "checkpoint"):
                    reducer.checkpoint()
            progress.states = states
            progress.stored_steps = -(-done_steps // stride)
            progress.runtime_s = time.perf_counter() - started
            why = _write_checkpoint(staging, progress)
            if why is not None:
                notices.append(f"this run cannot be resumed (its state cannot be saved: {why})")
                checkpoint_every_s = None
            last = time.monotonic()

    summary = execute(
        plan,
        progress.pipeline,
        sinks,
        observer,
        states=progress.states,
        start_chunk=progress.next_chunk,
        after_chunk=checkpoint,
    )
    return summary, notices


def _finish(
    staging: Path,
    target: Path,
    progress: _Progress,
    figures: dict[str, Any],
    runtime_s: float,
    notices: list[str],
) -> Result:
    plan, pipeline, scenario = progress.plan, progress.pipeline, progress.plan.scenario
    summary = _summary(plan, figures, runtime_s)
    write_tables(staging, summary)
    for reducer in pipeline.reducers:
        if hasattr(reducer, "write"):
            reducer.write(staging)
    scenario_yaml = yaml.safe_dump(_scenario_record(scenario), sort_keys=False)
    _write_atomic(staging / "scenario.yaml", scenario_yaml)
    (staging / CHECKPOINT).unlink(missing_ok=True)
    where, moved = _publish(staging, target)
    keep = scenario.output.dataset
    dataset = xr.open_zarr(where / "dataset.zarr") if keep else xr.Dataset()
    return Result(dataset, summary, where, notices + moved)


def run(
    scenario: Scenario | str | Path,
    out_dir: str | Path | None = None,
    observer: RunObserver | None = None,
    *,
    force: bool = False,
    checkpoint_every_s: float | None = 60.0,
) -> Result:
    """Run a scenario (object, YAML path or shipped name); return its dataset and summary.

    With ``out_dir`` the run folder is written there (it must not exist yet, or be an empty
    folder; see the module docstring for what is refused) and the returned dataset is opened
    lazily from its ``dataset.zarr``; a checkpoint is saved every ``checkpoint_every_s`` of
    wall time (``None``: never) so that ``resume`` can continue a killed run. Without
    ``out_dir`` everything stays in memory — fine for notebooks and small runs.

    Before anything large is allocated, the run's memory, disk and time are estimated
    (``size_guard.estimate_run``) and a run that cannot fit this machine is refused with a
    ``ResourceError``; ``force=True`` skips that check.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    target = Path(out_dir) if out_dir is not None else None
    if target is not None:
        check_out_dir(target)
    if not force:
        with scenario.blamed():
            estimate = estimate_run(scenario, in_memory=target is None)
        check_fits(estimate, target)
    started = time.perf_counter()
    observer = observer or RunObserver()
    if target is None:
        plan, pipeline = prepare(scenario)
        keep = scenario.output.dataset
        sink = MemorySink(pipeline.variables, pipeline.coordinates(plan))
        figures = execute(plan, pipeline, [sink] if keep else [], observer)
        dataset = sink.close(plan)
        summary = _summary(plan, figures, time.perf_counter() - started)
        return Result(dataset, summary, None)

    notices = remove_stale_staging(target.parent)
    staging = _staging_dir(target)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        plan, pipeline = prepare(scenario)
        states = [stage.initial_state(plan) for stage in pipeline.stages]
        progress = _Progress(CHECKPOINT_VERSION, plan, pipeline, states, 0, 0, 0.0)
        _write_atomic(staging / SCENARIO_INPUT, scenario_input_yaml(scenario))
        for reducer in pipeline.reducers:
            if hasattr(reducer, "spool_to"):
                reducer.spool_to(staging)  # streamed tables in the staging folder, resumable
        sinks = _sinks(staging, plan, pipeline, started=False)
        figures, more = _run_chunks(staging, progress, sinks, observer, checkpoint_every_s, started)
        for sink in sinks:
            sink.close(plan)
    except BaseException:
        # Nothing finished yet: a partial staging folder is of no use to anyone.
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _finish(
        staging, target, progress, figures, time.perf_counter() - started, notices + more
    )


def _sinks(staging: Path, plan: Plan, pipeline: Pipeline, started: bool) -> list[ZarrSink]:
    if not plan.scenario.output.dataset:
        return []
    sink = ZarrSink(staging / "dataset.zarr", pipeline.variables, pipeline.coordinates(plan))
    sink._started = started
    return [sink]


def resume(
    run_dir: str | Path,
    observer: RunObserver | None = None,
    *,
    checkpoint_every_s: float | None = 60.0,
) -> Result:
    """Continue a killed run whose run folder was to be ``run_dir``, from its last checkpoint.

    The staging folder of the killed run (``.<name>.partial-<pid>``, its process gone) is
    taken over, its dataset cut back to the checkpoint, and the chunks after it are run with
    the saved plan, pipeline and states; the result is the same dataset and summary as an
    uninterrupted run (``runtime_s`` counts both parts).
    """
    target = Path(run_dir)
    if target.is_dir() and (target / "summary.json").exists():
        raise OrbitgridError(f"{shorten(str(target))} is a finished run; nothing to resume")
    candidates = [
        (path, pid) for path, name, pid in _stagings(target.parent) if name == target.name
    ]
    live = [pid for _, pid in candidates if _pid_alive(pid)]
    if live:
        raise OrbitgridError(f"{shorten(str(target))} is still being written by pid {live[0]}")
    resumable = [path for path, _ in candidates if (path / CHECKPOINT).is_file()]
    if not resumable:
        raise OrbitgridError(
            f"no resumable run for {shorten(str(target))}: no staging folder "
            f".{target.name}.partial-<pid> with a {CHECKPOINT} in {target.parent} (a run saves "
            "its first checkpoint after --checkpoint-every seconds; staging folders of killed "
            "runs are removed when a later run starts in the same folder)"
        )
    check_out_dir(target)
    staging = _staging_dir(target)
    os.rename(resumable[0], staging)  # claim it: our pid in the name marks it live
    try:
        with (staging / CHECKPOINT).open("rb") as handle:
            progress = pickle.load(handle)
    except Exception as error:  # a checkpoint from another version, or damaged
        raise OrbitgridError(
            f"the checkpoint in {staging} cannot be read ({type(error).__name__}); start the "
            "run again"
        ) from None
    if not isinstance(progress, _Progress) or progress.version != CHECKPOINT_VERSION:
        raise OrbitgridError(f"the checkpoint in {staging} is of another orbitgrid version")
    plan = progress.plan
    observer = observer or RunObserver()
    started = time.perf_counter() - progress.runtime_s
    if (staging / "dataset.zarr").exists():
        _truncate_zarr(staging / "dataset.zarr", progress.stored_steps)
    for reducer in progress.pipeline.reducers:
        if hasattr(reducer, "resume"):
            reducer.resume(staging)  # drops table parts written after the checkpoint
    sinks = _sinks(staging, plan, progress.pipeline, started=progress.stored_steps > 0)
    # A failure here leaves the staging folder (and its checkpoint) for another --resume.
    figures, notices = _run_chunks(staging, progress, sinks, observer, checkpoint_every_s, started)
    for sink in sinks:
        sink.close(plan)
    return _finish(staging, target, progress, figures, time.perf_counter() - started, notices)
