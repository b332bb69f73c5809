"""The stage contract: what a stage, a reducer and a sink are, and what they exchange.

Stages (orbits, spacecraft operations, network, workloads, ...) and reducers depend on this
module only; the engine (``orbitgrid.engine``) composes them. A *stage* takes the plan, the
current time ``Chunk``, the arrays earlier stages produced for this chunk and its own state
carried from the previous chunk; it returns new arrays and its next state, and declares the
ones to store as ``Variable``s. A *reducer* folds each chunk into running accumulators for the
summary. A *sink* receives the stored variables. An *analysis* works on the finished summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from orbitgrid.plan import Plan

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
    renamed into place) to write its own tables, e.g. the network's ``paths.parquet``.
    """

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None: ...

    def finalize(self, plan: Plan) -> dict[str, Any]: ...


class Sink(Protocol):
    """Receives each chunk's stored variables (already decimated to the output stride)."""

    def write(self, plan: Plan, times_utc: np.ndarray, arrays: Arrays) -> None: ...

    def close(self, plan: Plan) -> Any: ...


Analysis = Callable[["Plan", dict[str, Any]], dict[str, Any]]
