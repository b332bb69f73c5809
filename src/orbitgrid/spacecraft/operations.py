"""Operations of each spacecraft step by step: power, battery, heat and the compute it delivers.

Power, battery and temperature are coupled through the compute load, so one compiled kernel
steps them together: sequential in time (state of charge and temperature carry over), parallel
over satellites. At each step the controller

1. computes the array output (``power``) and the environmental heat load (``thermal``);
2. serves the bus first, from the array and then the battery down to its floor;
3. gives compute the largest power that neither exceeds the installed power, nor the energy
   left after the bus (energy limit), nor the heat that would lift the node above its maximum
   temperature at the end of the step (thermal limit) — compute is shed before the bus;
4. draws for compute the smaller of that power and the *demanded* power, when a stage states a
   demand (below), and charges the battery with any surplus (up to full; the rest is
   curtailed) or discharges it; the node heats by the bus and the compute power drawn.

Compute demand (optional, ``demand`` ``[time, satellite]`` in [0, 1], the share of the
installed compute power the work of the step needs; without it, 1 everywhere: the
accelerators run whenever power and heat allow, as before, bit for bit): the power drawn is
min(demand + pending, 1) × installed, capped by the energy and thermal limits, and demanded
work a limited step could not do is *pending*: it waits for the next steps (first in, first
out, carried across chunks), so ``Σ drawn·Δt = (pending at the start + Σ demand − pending at
the end) × installed power × Δt``. The delivered compute (``compute_fraction``,
``delivered_tflops``, the limit code) still reports what power and heat allowed, the
capacity the work could have used; the power, battery and temperature follow what was drawn.

Delivered compute is installed compute × (compute power available / installed compute power;
without a demand that is the power drawn): a linear power-to-throughput map, a conservative
lower bound (power-capped accelerators usually keep more throughput per watt than that).

Energy accounting closes exactly at every step:
``generated + discharge = bus + compute + charge + curtailed`` and
``ΔE_battery = (η_c·charge − discharge/η_d)·Δt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from orbitgrid._compile import FASTMATH
from orbitgrid.constants import EARTH_ALBEDO, EARTH_IR_W_M2, JULIAN_YEAR_S, SECONDS_PER_HOUR
from orbitgrid.spacecraft.power import array_incidence, solar_flux_w_m2
from orbitgrid.spacecraft.thermal import (
    emitted_w,
    linearised_conductance,
    next_temperature_k,
    vertical_plate_view_factor,
)

# Limit codes stored per satellite-step.
LIMIT_NONE, LIMIT_ENERGY, LIMIT_THERMAL = 0, 1, 2
LIMIT_MEANINGS = {
    LIMIT_NONE: "compute ran at installed power",
    LIMIT_ENERGY: "compute limited by energy (array output and battery floor)",
    LIMIT_THERMAL: "compute limited by heat (radiator temperature at its maximum)",
}

# Per-satellite sums over a chunk that the kernel folds as it goes (see summary.CoreSummary).
AGGREGATE_NAMES = (
    "valid_steps",
    "sunlit",
    "state_of_charge",
    "compute_fraction",
    "delivered_tflops",
    "energy_limited_steps",
    "thermal_limited_steps",
    "bus_short_steps",
    "generated_wh",
    "curtailed_wh",
    "compute_wh",
)

OUTPUT_NAMES = (
    "power_generated_w",
    "power_bus_w",
    "power_compute_w",
    "power_charge_w",
    "power_discharge_w",
    "power_curtailed_w",
    "battery_energy_wh",
    "temperature_k",
    "state_of_charge",
    "compute_fraction",
    "delivered_tflops",
)


@dataclass(frozen=True)
class SpacecraftArrays:
    """Per-satellite parameters of the operations kernel, each an array of shape [satellite]."""

    array_area_efficiency_m2: np.ndarray  # area × beginning-of-life efficiency
    degradation_per_year: np.ndarray
    age_at_start_s: np.ndarray
    pointing_code: np.ndarray  # int64, see power.POINTING_CODES
    battery_capacity_wh: np.ndarray
    battery_floor_wh: np.ndarray
    charge_efficiency: np.ndarray
    discharge_efficiency: np.ndarray
    initial_energy_wh: np.ndarray
    radiator_face_area_m2: np.ndarray
    radiator_sides: np.ndarray  # int64, 1 or 2
    emissivity: np.ndarray
    absorptivity: np.ndarray
    heat_capacity_j_k: np.ndarray
    sun_view_factor: np.ndarray
    initial_temperature_k: np.ndarray
    max_temperature_k: np.ndarray
    bus_power_w: np.ndarray
    compute_power_installed_w: np.ndarray


# Satellites are processed in blocks: time runs sequentially inside a block (state carries
# over) while the innermost loop walks the block's satellites, which are contiguous in memory.
# Walking time innermost for one satellite would touch a new cache line at every access.
_BLOCK = 64


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _operate(
    position_km,
    sin_beta,
    sunlit,
    sun_unit,
    sun_distance_km,
    t0_s,
    step_s,
    earth_radius_km,
    p_area_eff,
    p_log_keep,
    p_age0,
    p_pointing,
    p_capacity,
    p_floor,
    p_eta_c,
    p_eta_d,
    p_face_area,
    p_sides,
    p_eps,
    p_alpha,
    p_heat_cap,
    p_sun_view,
    p_t_max,
    p_bus,
    p_compute,
    p_tflops,
    demand,
    has_demand,
    pending,
    energy_wh,
    temperature_k,
    out,
    limit,
    stride,
    sums,
    min_soc,
    max_temperature,
    block_tflops,
):
    n_time = position_km.shape[0]
    n_sat = position_km.shape[1]
    step_h = step_s / SECONDS_PER_HOUR
    n_blocks = (n_sat + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        first = b * _BLOCK
        last = min(n_sat, first + _BLOCK)
        # Per-satellite quantities that change slowly or not at all, carried along the block:
        # degradation (1 − d)^age advances by a constant factor per step, and the Earth view
        # factor (an acos and a sqrt) is recomputed only when the orbit radius has moved by
        # more than a metre (circular shells: once per chunk).
        keep = np.empty(last - first)
        keep_step = np.empty(last - first)
        radius_seen = np.full(last - first, -1.0)
        view_seen = np.empty(last - first)
        for s in range(first, last):
            keep[s - first] = math.exp((p_age0[s] + t0_s) / JULIAN_YEAR_S * p_log_keep[s])
            keep_step[s - first] = math.exp(step_s / JULIAN_YEAR_S * p_log_keep[s])
        for k in range(n_time):
            block_total_tflops = 0.0
            sx = sun_unit[k, 0]
            sy = sun_unit[k, 1]
            sz = sun_unit[k, 2]
            flux = solar_flux_w_m2(sun_distance_km[k])
            for s in range(first, last):
                energy = energy_wh[s]
                temp = temperature_k[s]
                rx = position_km[k, s, 0]
                ry = position_km[k, s, 1]
                rz = position_km[k, s, 2]
                radius = math.sqrt(rx * rx + ry * ry + rz * rz)
                cos_zenith = (rx * sx + ry * sy + rz * sz) / radius
                normal_dot_sun = sin_beta[k, s]
                lit = sunlit[k, s]

                # Power generated.
                j = s - first
                generated = (
                    flux
                    * p_area_eff[s]
                    * keep[j]
                    * array_incidence(p_pointing[s], cos_zenith, normal_dot_sun)
                    * lit
                )
                keep[j] *= keep_step[j]

                # Environmental heat on the radiator, whose faces are vertical (normal ⟂ nadir).
                if abs(radius - radius_seen[j]) > 1e-3:
                    radius_seen[j] = radius
                    view_seen[j] = vertical_plate_view_factor(radius / earth_radius_km)
                view_earth = view_seen[j] * p_sides[s]
                q_env = p_face_area[s] * (
                    p_alpha[s] * flux * p_sun_view[s] * lit
                    + p_alpha[s] * flux * EARTH_ALBEDO * view_earth * max(0.0, cos_zenith)
                    + p_eps[s] * EARTH_IR_W_M2 * view_earth
                )
                emitting_area = p_face_area[s] * p_sides[s]
                emitted_now = emitted_w(temp, p_eps[s], emitting_area)
                conductance = linearised_conductance(
                    temp, p_eps[s], emitting_area, p_heat_cap[s], step_s
                )

                # Bus first, from the array and then the battery down to its floor.
                battery_available_w = max(0.0, energy - p_floor[s]) * p_eta_d[s] / step_h
                supply_w = generated + battery_available_w
                bus = min(p_bus[s], supply_w)

                # Compute: installed, energy and thermal limits.
                energy_cap = supply_w - bus
                thermal_cap = (p_t_max[s] - temp) * conductance - q_env - bus + emitted_now
                compute = p_compute[s]
                code = 0
                if energy_cap < compute:
                    compute = energy_cap
                    code = 1
                if thermal_cap < compute:
                    compute = thermal_cap
                    code = 2
                compute = max(0.0, compute)
                available = compute
                if has_demand and p_compute[s] > 0.0:
                    # Power for the work there is (module docstring): demanded plus pending,
                    # at most installed; what the limits leave undone waits.
                    want = min(1.0, demand[k, s] + pending[s]) * p_compute[s]
                    if want < compute:
                        compute = want
                    if math.isfinite(compute):
                        pending[s] = max(0.0, pending[s] + demand[k, s] - compute / p_compute[s])

                # Battery: surplus charges (up to full, rest curtailed), deficit discharges.
                net = generated - bus - compute
                charge = 0.0
                discharge = 0.0
                curtailed = 0.0
                if net >= 0.0:
                    room_w = max(0.0, p_capacity[s] - energy) / (p_eta_c[s] * step_h)
                    charge = min(net, room_w)
                    curtailed = net - charge
                    energy = min(p_capacity[s], energy + charge * p_eta_c[s] * step_h)
                else:
                    discharge = -net
                    energy = max(p_floor[s], energy - discharge / p_eta_d[s] * step_h)

                temp = next_temperature_k(temp, q_env + bus + compute, emitted_now, conductance)

                soc = energy / p_capacity[s]
                fraction = available / p_compute[s] if p_compute[s] > 0.0 else 0.0
                tflops = fraction * p_tflops[s]
                energy_wh[s] = energy
                temperature_k[s] = temp
                # Per-step outputs only at stored steps (every stride-th step; none when the
                # stride is 0): writing them costs as much as the physics.
                if stride > 0 and k % stride == 0:
                    kk = k // stride
                    out[0, kk, s] = generated
                    out[1, kk, s] = bus
                    out[2, kk, s] = compute
                    out[3, kk, s] = charge
                    out[4, kk, s] = discharge
                    out[5, kk, s] = curtailed
                    out[6, kk, s] = energy
                    out[7, kk, s] = temp
                    out[8, kk, s] = soc
                    out[9, kk, s] = fraction
                    out[10, kk, s] = tflops
                    limit[kk, s] = code

                # Chunk aggregates for the summary (AGGREGATE_NAMES order), folded here while
                # the values are in registers rather than re-read from memory by the reducer.
                # Steps without a valid position (failed propagation) are left out.
                if math.isfinite(lit) and math.isfinite(temp):
                    sums[0, s] += 1.0
                    sums[1, s] += lit
                    sums[2, s] += soc
                    sums[3, s] += fraction
                    sums[4, s] += tflops
                    sums[5, s] += code == LIMIT_ENERGY
                    sums[6, s] += code == LIMIT_THERMAL
                    sums[7, s] += bus < p_bus[s] * (1.0 - 1e-9)
                    sums[8, s] += generated * step_h
                    sums[9, s] += curtailed * step_h
                    sums[10, s] += compute * step_h
                    min_soc[s] = min(min_soc[s], soc)
                    max_temperature[s] = max(max_temperature[s], temp)
                    block_total_tflops += tflops
            block_tflops[b, k] = block_total_tflops


def operate(
    params: SpacecraftArrays,
    position_km: np.ndarray,
    sin_beta: np.ndarray,
    sunlit_fraction: np.ndarray,
    sun_position_km: np.ndarray,
    t0_s: float,
    step_s: float,
    energy_wh: np.ndarray,
    temperature_k: np.ndarray,
    earth_radius_km: float,
    installed_tflops: np.ndarray | None = None,
    workspace=None,
    store_stride: int = 1,
    demand: np.ndarray | None = None,
    pending: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Step every satellite through one time chunk; see the module docstring for the model.

    Inputs are shaped [time, satellite(, 3)]: inertial positions, sin β (orbit normal · Sun
    direction) and the sunlit fraction; ``sun_position_km`` is [time, 3]. ``energy_wh``
    and ``temperature_k`` ([satellite]) are the state at the start of the chunk;
    ``installed_tflops`` ([satellite]) scales ``compute_fraction`` into ``delivered_tflops``.
    ``workspace`` (an ``engine.Workspace``), when given, provides the output buffers.
    The outputs also hold the chunk's aggregates for the summary: ``chunk_sums``
    ([AGGREGATE_NAMES, satellite]), ``chunk_min_state_of_charge`` and
    ``chunk_max_temperature_k`` ([satellite]) and ``chunk_total_tflops`` ([time]).
    Energy and temperature outputs are the state at the *end* of each step. Per-step outputs
    are kept at every ``store_stride``-th step of the chunk (1: all; 0: none, only the
    aggregates). Returns the outputs (each [stored time, satellite], float64), the limit code
    (int8) at the same steps and the new state (energy, temperature); the input state arrays
    are not modified. ``demand`` ([time, satellite], in [0, 1]) is the compute demand of each
    step (None: 1 everywhere, the accelerators run whenever power and heat allow) and
    ``pending`` ([satellite]) the demanded work left undone at the start of the chunk (None:
    zero); the new pending work is returned in the outputs as ``compute_pending``.
    """
    if installed_tflops is None:
        installed_tflops = np.zeros_like(params.compute_power_installed_w)
    sun_distance_km = np.linalg.norm(sun_position_km, axis=-1)
    sun_unit = np.ascontiguousarray(sun_position_km / sun_distance_km[:, None])
    n_time, n_sat = sunlit_fraction.shape
    n_stored = 0 if store_stride == 0 else -(-n_time // store_stride)
    shape = (len(OUTPUT_NAMES), n_stored, n_sat)
    if workspace is None:
        out, limit = np.empty(shape), np.empty(shape[1:], dtype=np.int8)
    else:
        out = workspace.empty("spacecraft_outputs", shape)
        limit = workspace.empty("limit_code", shape[1:], np.int8)
    energy = np.array(energy_wh, dtype=np.float64)
    temperature = np.array(temperature_k, dtype=np.float64)
    n_blocks = (n_sat + _BLOCK - 1) // _BLOCK
    sums = np.zeros((len(AGGREGATE_NAMES), n_sat))
    min_soc = np.full(n_sat, np.inf)
    max_temperature = np.full(n_sat, -np.inf)
    block_tflops = np.empty((n_blocks, n_time))
    if demand is None:
        demand_in, has_demand = np.ones((1, 1)), False
    else:
        demand_in, has_demand = np.ascontiguousarray(demand, dtype=np.float64), True
        if demand_in.shape != (n_time, n_sat):
            raise ValueError(f"demand has shape {demand_in.shape}, expected {(n_time, n_sat)}")
    pending_out = np.zeros(n_sat) if pending is None else np.array(pending, dtype=np.float64)
    p = params
    _operate(
        position_km,
        sin_beta,
        sunlit_fraction,
        sun_unit,
        sun_distance_km,
        float(t0_s),
        float(step_s),
        float(earth_radius_km),
        p.array_area_efficiency_m2,
        np.log1p(-p.degradation_per_year),
        p.age_at_start_s,
        p.pointing_code,
        p.battery_capacity_wh,
        p.battery_floor_wh,
        p.charge_efficiency,
        p.discharge_efficiency,
        p.radiator_face_area_m2,
        p.radiator_sides,
        p.emissivity,
        p.absorptivity,
        p.heat_capacity_j_k,
        p.sun_view_factor,
        p.max_temperature_k,
        p.bus_power_w,
        p.compute_power_installed_w,
        installed_tflops,
        demand_in,
        has_demand,
        pending_out,
        energy,
        temperature,
        out,
        limit,
        int(store_stride),
        sums,
        min_soc,
        max_temperature,
        block_tflops,
    )
    outputs = dict(zip(OUTPUT_NAMES, out, strict=True))
    outputs["chunk_sums"] = sums
    outputs["chunk_min_state_of_charge"] = min_soc
    outputs["chunk_max_temperature_k"] = max_temperature
    outputs["chunk_total_tflops"] = block_tflops.sum(axis=0)
    outputs["compute_pending"] = pending_out
    return outputs, limit, energy, temperature
