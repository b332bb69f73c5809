"""The engine: walks the time grid in chunks, runs the stages in order, assembles the Result.

A *stage* is a pure step: it takes the plan (the scenario expanded into per-satellite arrays),
the current time chunk, the arrays earlier stages produced for this chunk, and its own state
carried from the previous chunk; it returns new arrays and its next state. It never reaches back
into earlier stages or global state. The engine owns the stage order, the chunking over time and
the assembly of what stages declare as stored ``Variable``s into an ``xarray.Dataset``.

Memory is bounded by the chunk (``engine.chunk_satellite_steps``), not by the run's duration:
each chunk's stored variables go to a sink (in memory, or appended to a Zarr store on disk) and
each stage's summary reducer folds the chunk into running per-satellite accumulators.

Adding a capability (network, workloads, governance) means adding a stage with its variables
and its reducer; nothing else changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orbitgrid.contract import Analysis, Arrays, Chunk, Reducer, Sink, Stage, Variable, Workspace
from orbitgrid.orbits.timescale import julian_date_split
from orbitgrid.plan import Plan, build_plan
from orbitgrid.scenario import Scenario


def default_stages(plan: Plan) -> list[Stage]:
    """The pipeline: orbits → sun and eclipse → spacecraft operations, then the network and
    the workloads when the scenario has those sections. With an ``observation`` section the
    tiles are captured (from geometry alone) before the operations, whose accelerators then
    draw power only for the processing the tiles demand (``observation.stage``)."""
    from orbitgrid.orbits.stages import OrbitStage, SubpointStage, SunStage
    from orbitgrid.spacecraft.stages import OperationsStage

    scenario = plan.scenario
    workloads = scenario.workloads is not None
    observation = scenario.observation is not None
    # The workloads and the onboard processing read each step's delivered compute.
    every_step = workloads or observation
    from orbitgrid.network.build import serves_workloads_only

    stages: list[Stage] = [OrbitStage(), SunStage()]
    captures = None
    if observation:
        from orbitgrid.observation.stage import CaptureStage

        captures = CaptureStage(plan)
        stages.append(captures)
    stages.append(OperationsStage(every_step=every_step))
    if scenario.output.dataset:
        stages.append(SubpointStage())
    if scenario.network is not None and not serves_workloads_only(scenario):
        from orbitgrid.network.stage import NetworkStage

        stages.append(NetworkStage(plan))
    if workloads:
        from orbitgrid.workloads.stage import WorkloadStage

        stages.append(WorkloadStage(plan))
    if observation:
        from orbitgrid.observation.stage import ObservationStage

        network_stage = next((s for s in stages if s.name == "network"), None)
        stages.append(ObservationStage(plan, network_stage, captures))
    return stages


def steps_per_chunk(scenario: Scenario, satellites: int) -> int:
    """Time steps per chunk so that steps × columns stays near
    ``engine.chunk_satellite_steps``, on whole output strides.

    The columns of a step are its satellites and, with a ``workloads`` section, what each
    user endpoint keeps per step (its response time per option, its position and serving
    satellite): without them a chunk of a small constellation with many ships would hold
    hundreds of thousands of steps of per-user arrays."""
    columns = satellites
    workloads = scenario.workloads
    if workloads is not None:
        columns += workloads.user_endpoints * (len(workloads.options) + 3)
    steps = max(1, scenario.engine.chunk_satellite_steps // max(1, columns))
    # Keep chunk boundaries on the output stride so decimation is the same in every chunk.
    stride = scenario.output_stride
    return max(stride, steps // stride * stride)


def chunk_steps(plan: Plan) -> int:
    """Time steps per chunk of this plan (``steps_per_chunk``)."""
    return steps_per_chunk(plan.scenario, plan.satellite_count)


def iter_chunks(plan: Plan) -> Iterator[Chunk]:
    """The chunks of the plan's time grid, in order (sizes from ``chunk_steps``)."""
    size = chunk_steps(plan)
    step_s = plan.scenario.time.step_s
    workspace = Workspace()
    for index, start in enumerate(range(0, plan.step_count, size)):
        times = plan.times_utc[start : start + size]
        whole, fraction = julian_date_split(times)
        yield Chunk(index, start, len(times), step_s, times, whole, fraction, workspace)


@dataclass
class RunObserver:
    """Callbacks the caller may pass to watch a run (the CLI draws a progress bar)."""

    on_start: Callable[[Plan, int], None] = lambda plan, chunks: None
    on_chunk: Callable[[Chunk], None] = lambda chunk: None
    # After the last chunk: what the run is doing now (the reducers' summaries, then each
    # analysis, which may take long: e.g. delivering a day of Earth-observation tiles).
    on_phase: Callable[[str], None] = lambda phase: None


@dataclass
class Pipeline:
    """What ``execute`` runs: stages over time, reducers per chunk, analyses at the end.

    An *analysis* works on the finished summary (no time axis), e.g. economics from the
    delivered compute; what it returns is merged into the summary.
    """

    stages: Sequence[Stage]
    reducers: Sequence[Reducer] = field(default_factory=list)
    analyses: Sequence[Analysis] = field(default_factory=list)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(v for stage in self.stages for v in stage.variables)

    def coordinates(self, plan: Plan) -> dict[str, Any]:
        """Coordinates that stages add for their own dims (e.g. ``src``/``dst`` endpoints)."""
        coords: dict[str, Any] = {}
        for stage in self.stages:
            if hasattr(stage, "coordinates"):
                coords.update(stage.coordinates(plan))
        return coords


def execute(
    plan: Plan,
    pipeline: Pipeline,
    sinks: Sequence[Sink] = (),
    observer: RunObserver | None = None,
    *,
    states: list[Any] | None = None,
    start_chunk: int = 0,
    after_chunk: Callable[[Chunk, list[Any]], None] | None = None,
) -> dict[str, Any]:
    """Run ``pipeline`` over the plan's time grid; return the merged reducer summaries.

    A resumed run passes the stages' ``states`` and the ``start_chunk`` it saved them at;
    ``after_chunk(chunk, states)`` is called once a chunk is through every stage, reducer
    and sink (``runs`` saves its checkpoints there).
    """
    observer = observer or RunObserver()
    observer.on_start(plan, math.ceil(plan.step_count / chunk_steps(plan)))
    if states is None:
        states = [stage.initial_state(plan) for stage in pipeline.stages]
    stride = plan.scenario.output_stride
    stored = pipeline.variables
    for chunk in iter_chunks(plan):
        if chunk.index < start_chunk:
            continue
        arrays: Arrays = {}
        for i, stage in enumerate(pipeline.stages):
            produced, states[i] = stage(plan, chunk, arrays, states[i])
            arrays.update(produced)
        for reducer in pipeline.reducers:
            reducer.update(plan, chunk, arrays)
        if sinks:
            kept = {
                v.name: arrays[v.name] if v.decimated else _decimate(arrays[v.name], v.dims, stride)
                for v in stored
            }
            for sink in sinks:
                sink.write(plan, chunk.times_utc[::stride], kept)
        observer.on_chunk(chunk)
        if after_chunk is not None:
            after_chunk(chunk, states)
    summary: dict[str, Any] = {}
    observer.on_phase("summarising")
    for reducer in pipeline.reducers:
        _merge(summary, reducer.finalize(plan))
    for analysis in pipeline.analyses:
        observer.on_phase(phase_of(analysis))
        _merge(summary, analysis(plan, summary))
    return summary


def phase_of(analysis: Analysis) -> str:
    """What an analysis does, for progress: its own ``phase`` attribute, or that of the
    reducer it is a method of, or its name."""
    owner = getattr(analysis, "__self__", None)
    return (
        getattr(analysis, "phase", None)
        or getattr(owner, "phase", None)
        or getattr(analysis, "__name__", "analysis").strip("_").replace("_", " ")
    )


def _decimate(values: np.ndarray, dims: tuple[str, ...], stride: int) -> np.ndarray:
    if stride == 1 or not dims or dims[0] != "time":
        return values
    return values[::stride]


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def prepare(scenario: Scenario) -> tuple[Plan, Pipeline]:
    """Expand a scenario and assemble its pipeline (stages and summary reducers)."""
    from orbitgrid.summary import CoreSummary

    with scenario.blamed():  # errors found here name the scenario file and the field
        plan = build_plan(scenario)
        stages = default_stages(plan)
    reducers: list[Reducer] = [CoreSummary(plan)]
    reducers += [stage.reducer(plan) for stage in stages if hasattr(stage, "reducer")]
    analyses: list[Analysis] = []
    if scenario.economics is not None:
        from orbitgrid.economics.stage import economics_analysis

        analyses.append(economics_analysis)
    # A reducer may finish its figures once the whole summary is known (after economics).
    analyses += [reducer.analysis for reducer in reducers if hasattr(reducer, "analysis")]
    return plan, Pipeline(stages=stages, reducers=reducers, analyses=analyses)
