"""Running a sweep: points → time simulations on Dask → vectorised economics → catalog.

Each point is the base scenario with the point's values written at their dotted paths. The
scenario is split in two:

- the *physics* part (everything but ``economics``, ``name`` and ``description``), run with
  ``orbitgrid.run(..., out_dir=None)`` and ``output.dataset`` forced off (a point keeps its
  summary, not its time series). Its summary is cached in the catalog under a hash of that part
  (``spec.physics_key``), so points that differ only in economics share one time simulation,
  in this sweep and in any later sweep written to the same folder;
- the *economics* part, evaluated after the physics for all points sharing a simulation at once:
  every override becomes a numpy array and ``evaluate_economics`` broadcasts over it (the same
  functions the engine's economics stage calls per run, so the figures are identical; the test
  ``test_vectorised_economics_matches_full_runs`` checks it).

Time simulations run on Dask (``distributed``): a ``LocalCluster`` of worker processes by
default, or any running cluster given by its scheduler address (SLURM, Kubernetes, cloud: see
``docs/sweeps.md``). The process calling ``run_sweep`` is the only writer of the catalog and
records each finished point at once, so a killed sweep restarted with the same folder skips what
is done.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from orbitgrid import __version__
from orbitgrid.errors import OrbitgridError
from orbitgrid.sweep.catalog import (
    CATALOG_FILE,
    STATUS_ERROR,
    STATUS_INVALID,
    STATUS_OK,
    Catalog,
    PointBatch,
    write_parquet_atomic,
)
from orbitgrid.sweep.design import SweepDesign, build_design
from orbitgrid.sweep.spec import (
    DEFAULT_OUTPUTS,
    ECONOMICS_KEY,
    SweepSpec,
    check_path,
    load_base,
    load_sweep,
    physics_key,
    set_path,
    split_economics,
)

Progress = Callable[[int, int], None]
SYNCHRONOUS = "synchronous"  # run points in this process, one after another (debugging, tests)
CONNECT_TIMEOUT = "20s"  # to an existing scheduler: long enough for a busy head node


# ---------------------------------------------------------------------------------------------
# result


@dataclass
class SweepResult:
    """What ``run_sweep`` gives back; the data itself is in the catalog.

    Attributes
    ----------
    name, sweep_id : str
        The sweep's name and its id in the catalog (hash of spec and base scenario).
    out_dir, catalog_path : Path
        The sweep folder and its ``catalog.duckdb``.
    points_total : int
        Points in the design (including tornado points).
    points_done : int
        Points finished by this call (any status).
    points_skipped : int
        Points already finished by an earlier call with the same folder.
    points_failed : int
        Points of this sweep whose status is ``invalid`` or ``error`` (after this call).
    physics_runs, physics_cached : int
        Time simulations run by this call, and physics groups served from the cache.
    elapsed_s : float
        Wall time of the call, s.
    files : dict[str, Path]
        Exported tables (``points`` Parquet; ``sobol``, ``tornado`` CSV/Parquet when present).
    """

    name: str
    sweep_id: str
    out_dir: Path
    catalog_path: Path
    points_total: int
    points_done: int
    points_skipped: int
    points_failed: int
    physics_runs: int
    physics_cached: int
    elapsed_s: float
    files: dict[str, Path] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The sweep's points as a wide table (``Catalog.points_frame``)."""
        with Catalog(self.catalog_path, read_only=True) as catalog:
            return catalog.points_frame(self.sweep_id)

    def summary(self, top: int = 3) -> str:
        """Lines for the CLI: counts, timing, where the results are and, when the sweep has
        them, what drives each output with the top ``top`` rows of the Sobol' and tornado
        tables (``explain.sensitivity_text``)."""
        lines = [
            f"sweep {self.name} ({self.sweep_id}): {self.points_total} points, "
            f"{self.points_done} run now, {self.points_skipped} already done, "
            f"{self.points_failed} failed",
            f"time simulations: {self.physics_runs} run, {self.physics_cached} from cache; "
            f"{self.elapsed_s:.1f} s",
            f"catalog: {self.catalog_path}",
        ]
        lines += [f"{name}: {path}" for name, path in self.files.items()]
        sobol, tornado = self.sensitivity_tables()
        if sobol is not None or tornado is not None:
            from orbitgrid.sweep.explain import sensitivity_text

            lines.append(sensitivity_text(sobol, tornado, top=top))
        return "\n".join(lines)

    def sensitivity_tables(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The sweep's ``sobol`` and ``tornado`` tables as written (None when absent)."""
        return tuple(  # type: ignore[return-value]
            pd.read_parquet(self.files[key]) if key in self.files else None
            for key in ("sobol_parquet", "tornado_parquet")
        )

    def __repr__(self) -> str:
        return (
            f"<SweepResult {self.name!r}: {self.points_done + self.points_skipped}/"
            f"{self.points_total} points ({self.points_skipped} skipped, {self.points_failed} "
            f"failed) in {self.out_dir}>"
        )


# ---------------------------------------------------------------------------------------------
# the work of one time simulation (runs on a Dask worker)


def simulate(physics: dict[str, Any], base_dir: str) -> tuple[str, Any, float]:
    """Run the physics part of a scenario; return ``(status, summary or message, runtime_s)``.

    Runs on a Dask worker. Failures come back as data, not exceptions, so one bad point does not
    stop the sweep: ``invalid`` with the validation message for a user error, ``error`` with the
    traceback's last lines for anything else.
    """
    import orbitgrid

    started = time.perf_counter()
    try:
        scenario = orbitgrid.scenario_from_dict(physics, base_dir=base_dir, source="sweep point")
        summary = orbitgrid.run(scenario, out_dir=None).summary
        return STATUS_OK, summary, time.perf_counter() - started
    except OrbitgridError as error:
        return STATUS_INVALID, str(error), time.perf_counter() - started
    except Exception:
        text = "".join(traceback.format_exc().splitlines(keepends=True)[-6:])
        return STATUS_ERROR, text, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# building the points

_OVERRIDES = ECONOMICS_KEY + ".overrides."


@dataclass
class _Group:
    """Points sharing one time simulation (same physics key), split by economics section."""

    key: str
    physics: dict[str, Any]
    # economics signature (values of non-override economics paths) → point indices
    batches: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    invalid: str | None = None  # validation message when the physics part is rejected

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.batches.values())


def _is_economics(path: str) -> bool:
    return path == ECONOMICS_KEY or path.startswith((ECONOMICS_KEY + ".", ECONOMICS_KEY + "["))


def _expand_outputs(spec: SweepSpec, base: dict[str, Any], has_economics: bool) -> list[str]:
    shells = [str(s.get("name")) for s in base.get("constellation") or [] if isinstance(s, dict)]
    requested = list(spec.outputs) if spec.outputs is not None else list(DEFAULT_OUTPUTS)
    outputs: list[str] = []
    for path in requested:
        if spec.outputs is None and _is_economics(path) and not has_economics:
            continue  # defaults only: a scenario without economics has no cost figures
        if ".*." in path or path.endswith(".*"):
            head, _, tail = path.partition("*")
            outputs += [f"{head}{name}{tail}" for name in shells]
        else:
            outputs.append(path)
    return list(dict.fromkeys(outputs))


def _sweep_id(spec: SweepSpec, base: dict[str, Any], base_dir: Path) -> str:
    payload = [spec.model_dump(mode="json"), base, str(base_dir)]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _column_values(design: SweepDesign, path: str, points: list[int]) -> list[Any]:
    if path in design.written:
        column = design.written[path]
        return [column[i] for i in points]
    j = list(design.parameters).index(path)
    return [None if math.isnan(x) else float(x) for x in design.numeric[points, j]]


def _group_points(
    design: SweepDesign, pending: list[int], base: dict[str, Any], base_dir: Path
) -> tuple[dict[str, _Group], dict[tuple[Any, ...], Any], list[str]]:
    """Group pending points by physics key, then by economics section.

    Returns the groups, the validated ``EconomicsSection`` (None without economics, or the
    validation message) per economics signature, and the non-override economics paths that
    make the signature. Override values stay columns of the design: they are broadcast later.
    """
    import orbitgrid
    from orbitgrid.economics.assumptions import EconomicsSection

    base_physics, base_economics = split_economics(base)
    # Points keep summaries only: no dataset, whatever the base scenario says.
    base_physics["output"] = {**(base_physics.get("output") or {}), "dataset": False}
    physics_paths = [p for p in design.parameters if not _is_economics(p)]
    section_paths = [
        p for p in design.parameters if _is_economics(p) and not p.startswith(_OVERRIDES)
    ]
    physics_columns = [_column_values(design, p, pending) for p in physics_paths]
    section_columns = [_column_values(design, p, pending) for p in section_paths]
    groups: dict[str, _Group] = {}
    by_values: dict[str, str] = {}  # canonical physics values → physics key
    sections: dict[tuple[Any, ...], Any] = {}
    for n, i in enumerate(pending):
        physics_values = {p: c[n] for p, c in zip(physics_paths, physics_columns, strict=True)}
        signature = json.dumps(physics_values, sort_keys=True, default=str)
        key = by_values.get(signature)
        if key is None:
            physics = copy.deepcopy(base_physics)
            for path, value in physics_values.items():
                if value is not None:
                    set_path(physics, path, value)
            key = physics_key(physics, base_dir)
            by_values[signature] = key
            if key not in groups:
                group = _Group(key, physics)
                try:
                    orbitgrid.scenario_from_dict(physics, base_dir=base_dir, source="sweep point")
                except OrbitgridError as error:
                    group.invalid = str(error)
                groups[key] = group
        section_key = tuple(c[n] for c in section_columns)
        groups[key].batches.setdefault(section_key, []).append(i)
        if section_key not in sections:
            sections[section_key] = _economics_section(
                base_economics,
                {p: v for p, v in zip(section_paths, section_key, strict=True) if v is not None},
                any(p.startswith(_OVERRIDES) for p in design.parameters),
                EconomicsSection,
            )
    return groups, sections, section_paths


def _economics_section(
    base_economics: dict[str, Any] | None,
    values: dict[str, Any],
    has_overrides: bool,
    model: Any,
) -> Any:
    """The validated economics section of a signature: model, None, or the error message."""
    if base_economics is None and not values and not has_overrides:
        return None
    wrapper = {ECONOMICS_KEY: copy.deepcopy(base_economics) or {}}
    for path, value in values.items():
        set_path(wrapper, path, value)
    try:
        return model.model_validate(wrapper[ECONOMICS_KEY])
    except ValidationError as error:
        lines = [
            f"  - economics.{'.'.join(str(p) for p in e['loc'])}: "
            f"{e['msg'].removeprefix('Value error, ')} (got {e.get('input')!r})"
            for e in error.errors()
        ]
        return "sweep point: problems in the scenario:\n" + "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# economics, vectorised over the points of one physics group


def evaluate_group_economics(
    scenario: Any,
    summary: dict[str, Any],
    section: Any,
    overrides: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Economics of many points sharing one time simulation, in one broadcast evaluation.

    The engine's own ``economics.stage.shell_economics`` with the swept overrides as arrays
    over the points: ``section`` is the points' common
    ``EconomicsSection`` (mission, replacement model, fixed overrides), ``overrides`` maps an
    assumption key to one value per point. Returns the ``summary["economics"]`` dict, each
    varying figure a list over the points. Raises ``ScenarioError`` for a bad override value.
    """
    from orbitgrid.economics.stage import shell_economics

    return shell_economics(scenario, summary, section, overrides)


# ---------------------------------------------------------------------------------------------
# outputs


def _column(node: Any, path: str, m: int) -> np.ndarray:
    """The figure at dotted ``path`` as one value per point (lists of length m are per point)."""
    where = ""
    for part in path.split("."):
        if isinstance(node, list) and all(isinstance(p, list) and len(p) == 2 for p in node):
            node = dict(node)  # a waterfall: [item, usd] pairs read as a mapping
        if not isinstance(node, dict) or part not in node:
            valid = ", ".join(node) if isinstance(node, dict) else "(a value, no keys)"
            raise OrbitgridError(
                f"sweep outputs: {path!r} is not in the point summary; "
                f"{where or 'the summary'} has: {valid}"
            )
        node = node[part]
        where = f"{where}.{part}" if where else part
    if isinstance(node, list) and len(node) == m:
        return np.array([np.nan if x is None else x for x in node], dtype=float)
    if node is None:
        return np.full(m, np.nan)
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise OrbitgridError(f"sweep outputs: {path!r} is not a number (got {node!r})")
    return np.full(m, float(node))


# ---------------------------------------------------------------------------------------------
# running


def _client(scheduler: str | None, workers: int | None, tasks: int) -> tuple[Any, Any]:
    """A Dask client: to ``scheduler`` if given, else to a new LocalCluster of processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError) as error:
            raise OrbitgridError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({error}); check the address "
                "(e.g. tcp://host:8786) and that the scheduler is running"
            ) from None
    cpus = os.cpu_count() or 1
    n = workers or max(1, min(cpus, tasks))
    # One task at a time per worker process (the GIL would serialise Python parts of two), and
    # the engine's parallel numba kernels get this worker's share of the cores: without it
    # every worker starts one thread per core and they oversubscribe the machine.
    threads = str(max(1, cpus // n))
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env={"NUMBA_NUM_THREADS": threads, "OMP_NUM_THREADS": threads},
    )
    return Client(cluster), cluster


def run_sweep(
    spec_path: Path,
    out_dir: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run (or resume) the sweep described by ``spec_path``; record every point in the catalog.

    Parameters
    ----------
    spec_path : Path
        The sweep YAML (or the name of a shipped example sweep).
    out_dir : Path, optional
        Sweep folder; default ``sweeps/<name>``. Restarting with the same folder skips the
        points already finished (status ``ok`` or ``invalid``) and retries ``error`` points.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: a LocalCluster.
        ``"synchronous"`` runs every point in this process (debugging).
    workers : int, optional
        Worker processes of the LocalCluster; default one per CPU, at most one per simulation.
    progress : callable, optional
        Called as ``progress(points_finished, points_total)`` after each recorded batch,
        skipped points included.

    Returns
    -------
    SweepResult
        Counts, timing and the exported files.

    Raises
    ------
    ScenarioError
        A bad sweep file, base scenario, parameter path or output path.
    """
    started = time.perf_counter()
    spec = load_sweep(spec_path)
    base, base_dir = load_base(spec)
    design = build_design(spec)
    for path in design.parameters:
        check_path(path, base)
    has_economics = base.get(ECONOMICS_KEY) is not None or any(
        _is_economics(p) for p in design.parameters
    )
    outputs = _expand_outputs(spec, base, has_economics)
    sweep_id = _sweep_id(spec, base, base_dir)
    folder = Path(out_dir) if out_dir is not None else Path("sweeps") / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    catalog_path = folder / CATALOG_FILE
    total = len(design)

    with Catalog(catalog_path) as catalog:
        catalog.register_sweep(
            sweep_id,
            spec.name,
            str(Path(spec_path)),
            spec.model_dump(mode="json"),
            spec.base,
            spec.design,
            spec.seed,
            total,
            list(design.parameters),
            [p.unit for p in design.parameters.values()],
            outputs,
            __version__,
        )
        finished = catalog.finished(sweep_id)
        skipped = len(finished)
        pending = [i for i in range(total) if i not in finished]
        state = {"done": 0, "physics_runs": 0, "physics_cached": 0}

        def report(count: int) -> None:
            state["done"] += count
            if progress is not None:
                progress(skipped + state["done"], total)

        if progress is not None:
            progress(skipped, total)
        groups, sections, _ = _group_points(design, pending, base, base_dir)

        def finish(group: _Group, status: str, payload: Any, runtime_s: float) -> None:
            if status == STATUS_OK:
                catalog.store_physics(group.key, payload, runtime_s)
            for batch in _group_batches(
                group, status, payload, runtime_s, design, sections, outputs, base_dir
            ):
                report(catalog.record(sweep_id, batch))

        cached = catalog.physics(g.key for g in groups.values() if g.invalid is None)
        to_run: list[_Group] = []
        for group in groups.values():
            if group.invalid is not None:
                finish(group, STATUS_INVALID, group.invalid, 0.0)
            elif group.key in cached:
                state["physics_cached"] += 1
                finish(group, STATUS_OK, cached[group.key], 0.0)
            else:
                to_run.append(group)

        if to_run and scheduler == SYNCHRONOUS:
            for group in to_run:
                status, payload, runtime_s = simulate(group.physics, str(base_dir))
                state["physics_runs"] += 1
                finish(group, status, payload, runtime_s)
        elif to_run:
            _run_on_dask(to_run, scheduler, workers, base_dir, finish, state)

        counts = catalog.counts(sweep_id)
        frame = catalog.points_frame(sweep_id)
        files = {"points": write_parquet_atomic(frame, folder / "points.parquet")}
        files.update(_write_sensitivity(frame, spec, design, outputs, folder))

    return SweepResult(
        name=spec.name,
        sweep_id=sweep_id,
        out_dir=folder,
        catalog_path=catalog_path,
        points_total=total,
        points_done=state["done"],
        points_skipped=skipped,
        points_failed=counts.get(STATUS_INVALID, 0) + counts.get(STATUS_ERROR, 0),
        physics_runs=state["physics_runs"],
        physics_cached=state["physics_cached"],
        elapsed_s=time.perf_counter() - started,
        files=files,
    )


def _run_on_dask(
    groups: list[_Group],
    scheduler: str | None,
    workers: int | None,
    base_dir: Path,
    finish: Callable[[_Group, str, Any, float], None],
    state: dict[str, Any],
) -> None:
    from distributed import as_completed

    client, cluster = _client(scheduler, workers, len(groups))
    try:
        futures = {
            client.submit(
                simulate, g.physics, str(base_dir), key=f"orbitgrid-{g.key}", pure=False
            ): g
            for g in groups
        }
        for future in as_completed(futures):
            group = futures[future]
            try:
                status, payload, runtime_s = future.result()
            except Exception as error:
                status, payload, runtime_s = STATUS_ERROR, f"{type(error).__name__}: {error}", 0.0
            state["physics_runs"] += 1
            finish(group, status, payload, runtime_s)
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _group_batches(
    group: _Group,
    status: str,
    payload: Any,
    runtime_s: float,
    design: SweepDesign,
    sections: dict[tuple[Any, ...], Any],
    outputs: list[str],
    base_dir: Path,
) -> list[PointBatch]:
    """Turn one finished time simulation into the catalog batches of all its points."""
    import orbitgrid
    from orbitgrid.economics import load_assumptions

    paths = list(design.parameters)
    override_columns = {
        p.removeprefix(_OVERRIDES): j for j, p in enumerate(paths) if p.startswith(_OVERRIDES)
    }
    per_point_s = runtime_s / max(group.size, 1)

    def batch(points: list[int], status: str, error: Any, values: dict[str, np.ndarray]):
        index = np.asarray(points, dtype=np.int64)
        parameters = {
            p: (
                design.numeric[index, j],
                [design.written[p][i] for i in points] if p in design.written else None,
            )
            for j, p in enumerate(paths)
        }
        return PointBatch(
            index,
            [design.roles[i] for i in points],
            status,
            error,
            group.key,
            per_point_s,
            parameters,
            values,
        )

    if status != STATUS_OK:
        return [batch(points, status, str(payload), {}) for points in group.batches.values()]

    summary = payload
    table = load_assumptions()
    scenario = None
    batches = []
    for signature, points in group.batches.items():
        section = sections[signature]
        if isinstance(section, str):
            batches.append(batch(points, STATUS_INVALID, section, {}))
            continue
        pending = list(points)
        while pending:
            m = len(pending)
            economics = None
            if section is not None:
                if scenario is None:
                    scenario = orbitgrid.scenario_from_dict(group.physics, base_dir=base_dir)
                index = np.asarray(pending)
                overrides = {}
                for key, j in override_columns.items():
                    column = design.numeric[index, j]
                    fill = section.overrides.get(key, table[key].value)  # tornado: base value
                    overrides[key] = np.where(np.isnan(column), fill, column)
                try:
                    economics = evaluate_group_economics(scenario, summary, section, overrides)
                except OrbitgridError:
                    # Some point has a bad override: find them, record them, redo the rest.
                    bad, messages = [], []
                    for n, i in enumerate(pending):
                        try:
                            table.parameters({k: float(v[n]) for k, v in overrides.items()})
                        except OrbitgridError as error:
                            bad.append(i)
                            messages.append(str(error))
                    if not bad:
                        raise
                    batches.append(batch(bad, STATUS_INVALID, messages, {}))
                    pending = [i for i in pending if i not in set(bad)]
                    continue
            values = {}
            for path in outputs:
                if path.startswith(ECONOMICS_KEY + "."):
                    if economics is None:
                        values[path] = np.full(m, np.nan)
                    else:
                        values[path] = _column(economics, path.removeprefix(ECONOMICS_KEY + "."), m)
                else:
                    values[path] = _column(summary, path, m)
            batches.append(batch(pending, STATUS_OK, None, values))
            pending = []
    return batches


def _write_sensitivity(
    frame: pd.DataFrame,
    spec: SweepSpec,
    design: SweepDesign,
    outputs: list[str],
    folder: Path,
) -> dict[str, Path]:
    from orbitgrid.sweep.catalog import write_csv_atomic
    from orbitgrid.sweep.sensitivity import sobol_indices, tornado_table

    files: dict[str, Path] = {}
    tables = {}
    if spec.design == "saltelli":
        tables["sobol"] = sobol_indices(frame, design, outputs, seed=spec.seed)
    if spec.tornado:
        tables["tornado"] = tornado_table(frame, design, outputs)
    for name, table in tables.items():
        if table is None or table.empty:
            continue
        files[f"{name}_csv"] = write_csv_atomic(table, folder / f"{name}.csv")
        files[f"{name}_parquet"] = write_parquet_atomic(table, folder / f"{name}.parquet")
    return files
