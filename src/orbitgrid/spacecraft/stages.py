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

Compute demand: when an earlier stage of the chunk produced ``compute_demand`` ``[time,
satellite]`` (the Earth-observation capture stage does, from the tiles captured), the
accelerators draw power and make heat only for that work (``operations`` module docstring);
the demanded work a limited step left undone is the third part of the state, carried to the
next chunk. Without it the demand is 1 everywhere (bit-identical to a run before demands).

Start-up: the node temperature starts from the orbit's periodic steady state, not from an
arbitrary value (``spin_up_temperature_k``): the orbit just before the run's start is flown
again and again, from the default start temperature (the compute limit − 20 K), until its end
temperature changes by less than ``SPIN_UP_TOLERANCE_K``; that end temperature is the state at
the first step. Without it, headline extremes (the maximum temperature) reported the initial
value for hours of a run whose node cools within an orbit or two. A temperature set in the
scenario (``radiator.initial_temperature``) is used as given. The battery starts at its
configured charge (full by default) in every case: a periodic battery state would hide a
design that drains over days.
"""

from __future__ import annotations

import math

import numpy as np

from orbitgrid.constants import WGS84
from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.plan import Plan
from orbitgrid.spacecraft.operations import LIMIT_MEANINGS, operate

_TS = ("time", "satellite")

SPIN_UP_TOLERANCE_K = 0.01
"""The spin-up stops when an orbit changes no satellite's end temperature by more than this."""

SPIN_UP_MAX_ORBITS = 60
"""At most this many spin-up orbits (a node with a time constant of ten orbits settles in 60)."""

SPIN_UP_MAX_STEPS = 400
"""Steps per spin-up orbit at most (a finer run step is coarsened for the spin-up only)."""


def spin_up_temperature_k(plan: Plan) -> np.ndarray:
    """Periodic steady-state node temperature at the run's start, K, [satellite].

    Flies the orbit before the start (``n`` steps of the run's step, or coarser, over the
    longest orbital period of the plan, ending one step before the start) with the operations
    kernel, starting from the plan's initial temperature and the configured battery charge,
    and repeats it from each orbit's end temperature until that changes by less than
    ``SPIN_UP_TOLERANCE_K`` (at most ``SPIN_UP_MAX_ORBITS``). Satellites whose scenario sets
    ``radiator.initial_temperature``, or whose spin-up propagation failed, keep the plan's
    value. For satellites of a shorter period the window is not a whole orbit; the fixed point
    then differs from the periodic state by a fraction of the orbit's temperature swing.
    """
    from orbitgrid.contract import Workspace
    from orbitgrid.orbits.stages import OrbitStage, SunStage
    from orbitgrid.orbits.timescale import julian_date_split

    seed = plan.spacecraft.initial_temperature_k.astype(np.float64)
    periods = plan.orbital_period_s[np.isfinite(plan.orbital_period_s)]
    if periods.size == 0 or plan.step_count == 0:
        return seed.copy()
    step_s = plan.scenario.time.step_s
    step_s *= math.ceil(float(periods.max()) / step_s / SPIN_UP_MAX_STEPS)
    n = max(1, math.ceil(float(periods.max()) / step_s))
    times = plan.times_utc[0] - np.arange(n, 0, -1) * np.timedelta64(round(step_s * 1e9), "ns")
    whole, fraction = julian_date_split(times)
    chunk = Chunk(-1, -n, n, step_s, times, whole, fraction, Workspace())
    # Chunk.t0_s is start_step × step, i.e. −n·step_s here: the orbit before the start.
    arrays: Arrays = {}
    for stage in (OrbitStage(), SunStage()):
        produced, _ = stage(plan, chunk, arrays, None)
        arrays.update(produced)
    temperature = seed.copy()
    for _ in range(SPIN_UP_MAX_ORBITS):
        _, _, _, end = operate(
            plan.spacecraft,
            arrays["position_km"],
            arrays["sin_beta"],
            arrays["sunlit_fraction"],
            arrays["sun_position_km"],
            chunk.t0_s,
            step_s,
            plan.spacecraft.initial_energy_wh,
            temperature,
            WGS84.radius_km,
            plan.installed_tflops,
            None,
            0,
        )
        end = np.where(np.isfinite(end), end, seed)
        change = float(np.max(np.abs(end - temperature))) if end.size else 0.0
        temperature = end
        if change < SPIN_UP_TOLERANCE_K:
            break
    return np.where(_temperature_set(plan), seed, temperature)


def _temperature_set(plan: Plan) -> np.ndarray:
    """True for satellites whose scenario sets ``radiator.initial_temperature``."""
    explicit = np.zeros(plan.satellite_count, dtype=bool)
    for shell in plan.shells:
        design = plan.scenario.spacecraft[shell.spacecraft]
        explicit[shell.satellites] = design.radiator.initial_temperature_k is not None
    return explicit


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

    def initial_state(self, plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Battery as configured; temperature from the orbit's steady state (module docstring);
        # no demanded work pending.
        return (
            plan.spacecraft.initial_energy_wh.copy(),
            spin_up_temperature_k(plan),
            np.zeros(plan.satellite_count),
        )

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        energy_wh, temperature_k, *rest = state
        pending = rest[0] if rest else np.zeros(plan.satellite_count)
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
            arrays.get("compute_demand"),
            pending,
        )
        pending = outputs.pop("compute_pending")
        outputs["limit_code"] = limit
        if self.every_step:
            every = outputs["compute_fraction"].copy()
            keep = slice(None, None, stored) if stored else slice(0, 0)
            outputs = {
                name: values[keep] if name in _STORED else values
                for name, values in outputs.items()
            }
            outputs["compute_fraction_every_step"] = every
        return outputs, (energy_wh, temperature_k, pending)


_STORED = frozenset(v.name for v in OperationsStage.variables)
