"""The Earth-observation stages: tiles captured from each step's geometry, the compute demand
they make on the operations kernel, and the onboard processing capacity the core engine
delivered, folded into the observation summary.

``CaptureStage`` runs *before* the operations stage (captures come from geometry only: orbits
and Sun): per chunk (arrays ``[time, satellite]``, no loop over satellites) the tiles each
satellite captures (``sensors.capture_chunk``: ground track, daylight, land, regions) and,
unless the scenario also has ``workloads`` (whose compute use is not a demand yet), the
``compute_demand`` of the step (``demand_chunk``): the share of the installed compute power the
captured tiles need, ``tiles × seconds per tile at full delivered compute / step``, served
first in first out at most 1 per step (work above a step's capacity waits for the next
steps). The processing strategies (``filter``, ``infer``, ``hybrid``) each process every tile,
so one demand serves all three; ``raw`` processes none, so a scenario whose only strategy is
``raw`` (or without ``processing``) demands 0: its accelerators stay idle. Satellites without
a sensor demand 1 (no observation work is known for them: they run as without a demand).

``ObservationStage`` runs after the operations stage: the tiles its accelerators can process
in each admission window, ``Σ_steps installed dense FLOP/s × utilisation × compute_fraction ×
step / flops_per_tile``, with ``compute_fraction`` the operations stage's delivered share at
every step (eclipse, heat and battery limits; the engine builds
``OperationsStage(every_step=True)`` when this section is present); the laser windows to GEO
relays (``relay.RelayLog``, Earth-fixed positions from the GMST rotation); and the
sub-satellite points at the stored steps (``output.every``), where the report maps the data
waiting on board. Delivery over the contact plan happens once the run's contacts are known,
in the summary's ``analysis`` (``summary.ObservationSummary``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitgrid.contract import Arrays, Chunk
from orbitgrid.errors import ScenarioError
from orbitgrid.observation.sensors import capture_chunk, sensor_arrays, subpoints_deg
from orbitgrid.orbits.frames import inertial_to_ecef_km
from orbitgrid.orbits.timescale import gmst_rad
from orbitgrid.plan import Plan


def demand_chunk(
    count: np.ndarray, seconds_per_tile: np.ndarray, step_s: float, queue: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Compute demand ``[time, satellite]`` in [0, 1] of the tiles captured in a chunk.

    ``count`` is the tiles captured per step ``[time, satellite]``, ``seconds_per_tile`` the
    accelerator time of one tile at full delivered compute ``[satellite]`` and ``queue`` the
    work (in steps at full power) still waiting from the previous chunk. The work arriving in a
    step is ``count × seconds_per_tile / step``; it is served first in first out at most one
    step's worth per step (the Lindley recursion q_k = max(0, q_{k−1} + w_k − 1), in closed
    form from cumulative sums: q_k = S_k − min(−q_0, min_{j≤k} S_j), S_k = Σ_{i≤k}(w_i − 1)),
    and the demand is what is served, min(1, q_{k−1} + w_k). Returns the demand and the
    queue at the end of the chunk.
    """
    work = count * (seconds_per_tile / step_s)[None, :]
    if work.shape[0] == 0:
        return work, queue.copy()
    cumulative = np.cumsum(work - 1.0, axis=0)
    lowest = np.minimum(np.minimum.accumulate(cumulative, axis=0), -queue[None, :])
    after = np.maximum(0.0, cumulative - lowest)
    before = np.vstack([queue[None, :], after[:-1]])
    demand = np.clip(before + work - after, 0.0, 1.0)
    return demand, after[-1].copy()


class CaptureStage:
    """Tiles captured per step and the compute demand they make (module docstring); runs
    before the operations stage and stores no variables."""

    name = "observation_captures"
    variables = ()

    def __init__(self, plan: Plan):
        config = plan.scenario.observation
        self.sensors = sensor_arrays(
            config,
            [shell.name for shell in plan.shells],
            plan.shell_index,
            plan.orbital_period_s,
        )
        processing = config.processing
        # Tiles one satellite processes per second at full delivered compute.
        tiles_per_s = (
            np.zeros(plan.satellite_count)
            if processing is None
            else plan.installed_tflops * 1e12 * processing.utilisation / processing.flops_per_tile
        )
        self.tiles_per_s = np.where(self.sensors.has_sensor, tiles_per_s, 0.0)
        # The workloads serve requests on the same accelerators: no demand is stated then.
        self.states_demand = plan.scenario.workloads is None
        processes = processing is not None and any(s != "raw" for s in config.strategies)
        self.seconds_per_tile = np.divide(
            1.0,
            self.tiles_per_s,
            out=np.zeros(plan.satellite_count),
            where=(self.tiles_per_s > 0) & processes,
        )

    def initial_state(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        # Imaged area not yet a whole tile (km²); work waiting (steps at full power).
        return np.zeros(plan.satellite_count), np.zeros(plan.satellite_count)

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        carry, queue = state
        captures, carry = capture_chunk(
            self.sensors,
            arrays["position_km"],
            arrays["sun_position_km"],
            chunk.jd_whole,
            chunk.jd_fraction,
            chunk.step_s,
            carry,
        )
        produced: dict[str, Any] = {"observation_captures": captures}
        if self.states_demand:
            count = np.zeros((chunk.step_count, plan.satellite_count))
            np.add.at(count, (captures.step, captures.satellite), 1.0)
            demand, queue = demand_chunk(count, self.seconds_per_tile, chunk.step_s, queue)
            produced["compute_demand"] = np.where(self.sensors.has_sensor, demand, 1.0)
        return produced, (carry, queue)


class ObservationStage:
    """Captures and processing capacity per step (module docstring); stores no variables."""

    name = "observation"
    variables = ()

    def __init__(self, plan: Plan, network_stage: Any, captures: CaptureStage | None = None):
        config = plan.scenario.observation
        if network_stage is None:
            raise ScenarioError(
                "observation needs ground stations: add network.endpoints (kind: "
                "ground_station) or network.endpoint_files",
                path="observation",
                value=None,
            )
        self.config = config
        self.network_stage = network_stage
        # The capture stage (before the operations stage) captures the tiles; a stage built
        # without one builds its own (its captures must then be in the chunk's arrays).
        self.captures = captures if captures is not None else CaptureStage(plan)
        self.sensors = self.captures.sensors
        self.tiles_per_s = self.captures.tiles_per_s
        self.summary = None
        self.stride = plan.scenario.output_stride
        step_s = plan.scenario.time.step_s
        self.window_s = max(config.window_s, step_s)
        self.n_windows = max(1, int(np.ceil(plan.step_count * step_s / self.window_s)))

    def initial_state(self, plan: Plan) -> None:
        return None  # the capture stage carries the imaged area

    def reducer(self, plan: Plan):
        from orbitgrid.observation.summary import ObservationSummary

        self.summary = ObservationSummary(self, plan)
        return self.summary

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state: None):
        captures = arrays["observation_captures"]
        fraction = np.nan_to_num(arrays["compute_fraction_every_step"])
        capacity = fraction * self.tiles_per_s[None, :] * chunk.step_s  # [time, sat] tiles
        window = np.minimum((chunk.t_s // self.window_s).astype(np.int64), self.n_windows - 1)
        if self.summary is not None:
            self.summary.fold(chunk, captures, window, capacity)
            position = arrays["position_km"]
            # Chunks start on the output stride, so the stored steps are every stride-th.
            stored = slice(0, None, self.stride)
            lat, lon = subpoints_deg(position[stored], chunk.jd_whole[stored],
                                     chunk.jd_fraction[stored])  # fmt: skip
            self.summary.fold_positions(chunk.t_s[stored], lat, lon)
            if self.summary.relay_log is not None:
                gmst = gmst_rad(chunk.jd_whole, chunk.jd_fraction)
                self.summary.relay_log.update(chunk.t_s, inertial_to_ecef_km(position, gmst))
        return {}, None
