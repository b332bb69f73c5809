"""The Earth-observation stage: tiles captured from each step's geometry and the onboard
processing capacity the core engine delivered, folded into the observation summary.

Per chunk (arrays ``[time, satellite]``, no loop over satellites): the tiles each satellite
captures (``sensors.capture_chunk``: ground track, daylight, land, regions) and the tiles its
accelerators can process in each admission window, ``Σ_steps installed dense FLOP/s ×
utilisation × compute_fraction × step / flops_per_tile``, with ``compute_fraction`` the
operations stage's delivered share at every step (eclipse, heat and battery limits; the
engine builds ``OperationsStage(every_step=True)`` when this section is present); the laser
windows to GEO relays (``relay.RelayLog``, Earth-fixed positions from the GMST rotation); and
the sub-satellite points at the stored steps (``output.every``), where the report maps the
data waiting on board. Delivery over the contact plan happens once the run's contacts are
known, in the summary's ``analysis`` (``summary.ObservationSummary``).
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


class ObservationStage:
    """Captures and processing capacity per step (module docstring); stores no variables."""

    name = "observation"
    variables = ()

    def __init__(self, plan: Plan, network_stage: Any):
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
        self.sensors = sensor_arrays(
            config,
            [shell.name for shell in plan.shells],
            plan.shell_index,
            plan.orbital_period_s,
        )
        self.summary = None
        self.stride = plan.scenario.output_stride
        step_s = plan.scenario.time.step_s
        self.window_s = max(config.window_s, step_s)
        self.n_windows = max(1, int(np.ceil(plan.step_count * step_s / self.window_s)))
        processing = config.processing
        # Tiles one satellite processes per second at full delivered compute.
        self.tiles_per_s = (
            np.zeros(plan.satellite_count)
            if processing is None
            else plan.installed_tflops * 1e12 * processing.utilisation / processing.flops_per_tile
        )
        self.tiles_per_s = np.where(self.sensors.has_sensor, self.tiles_per_s, 0.0)

    def initial_state(self, plan: Plan) -> np.ndarray:
        return np.zeros(plan.satellite_count)  # imaged area not yet a whole tile, km²

    def reducer(self, plan: Plan):
        from orbitgrid.observation.summary import ObservationSummary

        self.summary = ObservationSummary(self, plan)
        return self.summary

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state: np.ndarray):
        captures, carry = capture_chunk(
            self.sensors,
            arrays["position_km"],
            arrays["sun_position_km"],
            chunk.jd_whole,
            chunk.jd_fraction,
            chunk.step_s,
            state,
        )
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
        return {}, carry
