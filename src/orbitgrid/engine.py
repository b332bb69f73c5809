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
from typing import Any, Protocol

import numpy as np

from orbitgrid.orbits.timescale import julian_date_split
from orbitgrid.plan import Plan, build_plan
from orbitgrid.scenario import Scenario

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Variable:
    """A stored dataset variable: its name, dimensions, unit and a human description."""

    name: str
    dims: tuple[str, ...]
    units: str
    long_name: str
    dtype: str = "float32"
    flag_meanings: Mapping[int, str] | None = None
    # True when the stage already returns only the stored steps (every output-stride-th step),
    # for variables that are costly and only needed for output, such as geodetic sub-points.
    decimated: bool = False

    @property
    def attrs(self) -> dict[str, str]:
        attrs = {"units": self.units, "long_name": self.long_name}
        if self.flag_meanings:
            attrs["flag_values"] = " ".join(str(k) for k in self.flag_meanings)
            attrs["flag_meanings"] = "; ".join(f"{k}: {v}" for k, v in self.flag_meanings.items())
        return attrs


class Workspace:
    """Reusable output buffers, one per name, valid until the same name is asked for again.

    Stages take their large per-chunk arrays from here instead of allocating fresh memory at
    every chunk: first-touch page faults on fresh buffers cost as much as some of the physics.
    The contract that makes this safe: arrays a stage returns live for one chunk only; sinks
    and reducers copy or fold what they keep before the next chunk starts.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def empty(self, name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        """An uninitialised array of ``shape``; the same memory as the last call for ``name``
        when the shape and dtype match."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape or buffer.dtype != np.dtype(dtype):
            buffer = np.empty(shape, dtype=dtype)
            self._buffers[name] = buffer
        return buffer


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive time steps: ``start_step`` … ``start_step + step_count − 1``."""

    index: int
    start_step: int
    step_count: int
    step_s: float
    times_utc: np.ndarray  # [time] datetime64[ns]
    jd_whole: np.ndarray  # [time] split UTC Julian date, whole part
    jd_fraction: np.ndarray  # [time] fraction
    workspace: Workspace = field(default_factory=Workspace, compare=False, repr=False)

    @property
    def t0_s(self) -> float:
        """Seconds from the scenario start to this chunk's first step."""
        return self.start_step * self.step_s

    @property
    def t_s(self) -> np.ndarray:
        """Seconds from the scenario start of every step of the chunk."""
        return (self.start_step + np.arange(self.step_count)) * self.step_s


class Stage(Protocol):
    """One step of the pipeline (see the module docstring).

    A stage may also offer ``reducer(plan) -> Reducer`` for its summary figures and
    ``coordinates(plan)`` for dims of its own; the engine picks both up. A stage whose
    per-step arrays are large works through a chunk in blocks of its own (the network).
    """

    name: str
    variables: tuple[Variable, ...]

    def initial_state(self, plan: Plan) -> Any: ...

    def __call__(
        self, plan: Plan, chunk: Chunk, arrays: Arrays, state: Any
    ) -> tuple[Arrays, Any]: ...


class Reducer(Protocol):
    """Folds each chunk's arrays into running accumulators; ``finalize`` gives the summary.

    A reducer may also have ``write(folder)``, called with the run folder (before it is
    renamed into place) to write its own tables, e.g. the network's ``paths.csv``.
    """

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None: ...

    def finalize(self, plan: Plan) -> dict[str, Any]: ...


class Sink(Protocol):
    """Receives each chunk's stored variables (already decimated to the output stride)."""

    def write(self, plan: Plan, times_utc: np.ndarray, arrays: Arrays) -> None: ...

    def close(self, plan: Plan) -> Any: ...


def default_stages(plan: Plan) -> list[Stage]:
    """The core pipeline: orbits → sun and eclipse → spacecraft operations."""
    from orbitgrid.orbits.stages import OrbitStage, SubpointStage, SunStage
    from orbitgrid.spacecraft.stages import OperationsStage

    stages: list[Stage] = [OrbitStage(), SunStage(), OperationsStage()]
    if plan.scenario.output.dataset:
        stages.append(SubpointStage())
    if plan.scenario.network is not None:
        from orbitgrid.network.stage import NetworkStage

        stages.append(NetworkStage(plan))
    return stages


def chunk_steps(plan: Plan) -> int:
    """Time steps per chunk so that steps × satellites stays near the configured bound."""
    budget = plan.scenario.engine.chunk_satellite_steps
    steps = max(1, budget // max(1, plan.satellite_count))
    # Keep chunk boundaries on the output stride so decimation is the same in every chunk.
    stride = plan.scenario.output_stride
    return max(stride, steps // stride * stride)


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


Analysis = Callable[[Plan, dict[str, Any]], dict[str, Any]]


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
) -> dict[str, Any]:
    """Run ``pipeline`` over the plan's time grid; return the merged reducer summaries."""
    observer = observer or RunObserver()
    observer.on_start(plan, math.ceil(plan.step_count / chunk_steps(plan)))
    states = [stage.initial_state(plan) for stage in pipeline.stages]
    stride = plan.scenario.output_stride
    stored = pipeline.variables
    for chunk in iter_chunks(plan):
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
    summary: dict[str, Any] = {}
    for reducer in pipeline.reducers:
        _merge(summary, reducer.finalize(plan))
    for analysis in pipeline.analyses:
        _merge(summary, analysis(plan, summary))
    return summary


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

    plan = build_plan(scenario)
    stages = default_stages(plan)
    reducers: list[Reducer] = [CoreSummary(plan)]
    reducers += [stage.reducer(plan) for stage in stages if hasattr(stage, "reducer")]
    analyses: list[Analysis] = []
    if scenario.economics is not None:
        from orbitgrid.economics.stage import economics_analysis

        analyses.append(economics_analysis)
    return plan, Pipeline(stages=stages, reducers=reducers, analyses=analyses)
