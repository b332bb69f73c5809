"""The spacecraft operations stage: power, battery, thermal and delivered compute.

Wraps ``spacecraft.operations.operate`` (one compiled kernel, sequential in time, parallel over
satellites) in the engine's stage contract; its state is each satellite's battery energy and
node temperature at the end of the previous chunk.
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import WGS84
from orbitgrid.engine import Arrays, Chunk, Variable
from orbitgrid.plan import Plan
from orbitgrid.spacecraft.operations import LIMIT_MEANINGS, operate

_TS = ("time", "satellite")


class OperationsStage:
    """Power flows, battery energy, temperature and delivered compute per satellite-step."""

    name = "spacecraft"
    variables = (
        Variable("power_generated_w", _TS, "W", "solar array output"),
        Variable("power_bus_w", _TS, "W", "bus power served"),
        Variable("power_compute_w", _TS, "W", "power drawn by compute (accelerators and hosts)"),
        Variable("power_charge_w", _TS, "W", "power into the battery"),
        Variable("power_discharge_w", _TS, "W", "power out of the battery"),
        Variable("power_curtailed_w", _TS, "W", "array output left unused (battery full)"),
        Variable("battery_energy_wh", _TS, "Wh", "battery energy at the end of the step"),
        Variable("state_of_charge", _TS, "1", "battery energy over capacity, end of step"),
        Variable("temperature_k", _TS, "K", "radiator/electronics node temperature, end of step"),
        Variable("compute_fraction", _TS, "1", "delivered over installed compute"),
        Variable("delivered_tflops", _TS, "TFLOPS", "delivered dense accelerator throughput"),
        Variable(
            "limit_code",
            _TS,
            "1",
            "what limited compute",
            dtype="int8",
            flag_meanings=LIMIT_MEANINGS,
        ),
    )

    def initial_state(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        p = plan.spacecraft
        return p.initial_energy_wh.copy(), p.initial_temperature_k.copy()

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        energy_wh, temperature_k = state
        outputs, limit, energy_wh, temperature_k = operate(
            plan.spacecraft,
            arrays["position_km"],
            arrays["sin_beta"],
            arrays["sunlit_fraction"],
            arrays["sun_position_km"],
            chunk.t0_s,
            chunk.step_s,
            energy_wh,
            temperature_k,
            WGS84.radius_km,
            plan.installed_tflops,
            chunk.workspace,
        )
        outputs["limit_code"] = limit
        return outputs, (energy_wh, temperature_k)
