"""The spacecraft operations stage: power, battery, thermal and delivered compute.

Wraps ``spacecraft.operations.operate`` (one compiled kernel, sequential in time, parallel over
satellites) in the engine's stage contract; its state is each satellite's battery energy and
node temperature at the end of the previous chunk. Its per-step variables come back at the
stored steps only (``decimated``): the summary takes its figures from the kernel's per-chunk
aggregates, and writing every step would cost as much as the physics. A later stage that needs
the delivered compute at every step (the workloads: a site serves what its satellites deliver
at that step) builds the stage with ``every_step=True``: the kernel then keeps every step and
the stage also returns ``compute_fraction_every_step`` ``[time, satellite]`` (transient, not
stored).
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import WGS84
from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.plan import Plan
from orbitgrid.spacecraft.operations import LIMIT_MEANINGS, operate

_TS = ("time", "satellite")


class OperationsStage:
    """Power flows, battery energy, temperature and delivered compute per satellite-step."""

    name = "spacecraft"
    variables = tuple(
        Variable(name, _TS, units, long_name, decimated=True, **extra)
        for name, units, long_name, extra in (
            ("power_generated_w", "W", "solar array output", {}),
            ("power_bus_w", "W", "bus power served", {}),
            ("power_compute_w", "W", "power drawn by compute (accelerators and hosts)", {}),
            ("power_charge_w", "W", "power into the battery", {}),
            ("power_discharge_w", "W", "power out of the battery", {}),
            ("power_curtailed_w", "W", "array output left unused (battery full)", {}),
            ("battery_energy_wh", "Wh", "battery energy at the end of the step", {}),
            ("state_of_charge", "1", "battery energy over capacity, end of step", {}),
            ("temperature_k", "K", "radiator/electronics node temperature, end of step", {}),
            ("compute_fraction", "1", "delivered over installed compute", {}),
            ("delivered_tflops", "TFLOPS", "delivered dense accelerator throughput", {}),
            (
                "limit_code",
                "1",
                "what limited compute",
                {"dtype": "int8", "flag_meanings": LIMIT_MEANINGS},
            ),
        )
    )

    def __init__(self, every_step: bool = False):
        self.every_step = every_step

    def initial_state(self, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        p = plan.spacecraft
        return p.initial_energy_wh.copy(), p.initial_temperature_k.copy()

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        energy_wh, temperature_k = state
        stored = plan.scenario.stored_stride
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
            1 if self.every_step else stored,
        )
        outputs["limit_code"] = limit
        if self.every_step:
            every = outputs["compute_fraction"].copy()
            keep = slice(None, None, stored) if stored else slice(0, 0)
            outputs = {
                name: values[keep] if name in _STORED else values
                for name, values in outputs.items()
            }
            outputs["compute_fraction_every_step"] = every
        return outputs, (energy_wh, temperature_k)


_STORED = frozenset(v.name for v in OperationsStage.variables)
