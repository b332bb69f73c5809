"""Cost of ownership of an orbital compute constellation, against a terrestrial reference.

Orbital model (present value at ``discount_rate``, capital at t = 0, annual streams at the end of
years 1..N):

- hardware: accelerators (plus host share), solar array ($/W), battery ($/Wh), radiator ($/m²),
  bus ($/kg of bus dry mass plus a fixed $/satellite);
- launch: fleet wet mass × launch price; the disposal propellant is shown as ``end_of_life``;
- insurance: a fraction of launch plus hardware value (launch and first year);
- ground segment capex, and operations per year;
- replacement of failed units: expected first failures N (1 − e^(−λT)) spread evenly over the
  mission, each rebuilt and relaunched (``replacement="satellite"``) or, as in spacedc-mdao,
  only its compute payload resupplied (``replacement="compute"``); with a launch learning rate
  lr < 1 the price of a launch in year t is p₀ · lr^(t / T₂) (Wright's law on cumulative
  launched mass doubling every T₂ years).

Every cost is linear in the initial launch price p₀, so the break-even price has a closed form.
The delivered compute fraction comes from the time simulation (eclipse, throttling, outages);
unit costs divide by delivered, not installed, compute.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from orbitgrid.economics.assumptions import (
    EconomicParameters,
    Number,
    as_number,
    load_assumptions,
)
from orbitgrid.economics.mass import MassBreakdown, SatelliteDesign, satellite_mass
from orbitgrid.economics.results import (
    CostSummary,
    EconomicsResult,
    annuity_factor,
    delivered_compute,
    geometric_sum,
    summarise,
)
from orbitgrid.economics.terrestrial import terrestrial_cost
from orbitgrid.errors import ScenarioError

Replacement = Literal["satellite", "compute"]
_REPLACEMENTS: tuple[str, ...] = ("satellite", "compute")

ORBITAL_CAPEX_ITEMS = frozenset(
    {
        "accelerators",
        "solar_array",
        "battery",
        "radiator",
        "bus",
        "launch",
        "end_of_life",
        "insurance",
        "ground_segment",
    }
)


def orbital_cost(
    design: SatelliteDesign,
    params: EconomicParameters,
    delivered_fraction: Number,
    *,
    replacement: Replacement = "satellite",
    mass: MassBreakdown | None = None,
) -> CostSummary:
    """Lifecycle cost of the orbital fleet ``design`` and its levelised unit costs.

    Parameters
    ----------
    design : SatelliteDesign
        The installed design (fields may be arrays for a sweep).
    params : EconomicParameters
        Assumptions, scalars or arrays (``load_assumptions().parameters(overrides)``).
    delivered_fraction : Number
        Fraction of installed accelerator time that delivered compute, from the simulation.
    replacement : {"satellite", "compute"}
        What a failure costs: a whole new satellite launched, or only the compute payload.
    mass : MassBreakdown, optional
        Precomputed ``satellite_mass(design, params)``.

    Returns
    -------
    CostSummary
        Waterfall items in present-value USD: accelerators, solar_array, battery, radiator, bus,
        launch, end_of_life, insurance, ground_segment, operations, replacement.
    """
    if replacement not in _REPLACEMENTS:
        raise ScenarioError(
            f"economics.replacement: {replacement!r} is not allowed; "
            f"choose one of {', '.join(_REPLACEMENTS)}",
            "economics.replacement",
            replacement,
        )
    p = params
    m = satellite_mass(design, p) if mass is None else mass
    n_sat = design.satellite_count
    years = design.mission_years
    rate = p.discount_rate
    launch_price = p.launch_cost_usd_per_kg

    unit_accelerator_usd = p.accelerator_cost_usd(design.accelerator) * (
        1.0 + p.it_hardware_overhead_fraction
    )
    accelerators = design.accelerator_count * unit_accelerator_usd
    solar = n_sat * design.solar_array_power_w * p.solar_array_cost_usd_per_w
    battery = n_sat * design.battery_energy_wh * p.battery_cost_usd_per_wh
    radiator = n_sat * design.radiator_area_m2 * p.radiator_cost_usd_per_m2
    bus = n_sat * (m.bus_kg * p.bus_cost_usd_per_kg + p.bus_cost_usd_per_satellite)
    hardware = accelerators + solar + battery + radiator + bus

    launch = n_sat * (m.dry_kg + m.station_keeping_propellant_kg) * launch_price
    end_of_life = n_sat * m.deorbit_propellant_kg * launch_price
    insurance = p.insurance_fraction * (hardware + launch + end_of_life)
    ground = p.ground_segment_capex_usd + 0.0 * hardware
    operations = p.operations_cost_usd_per_year * annuity_factor(rate, years)

    # Replacement: first failures only (a replacement's own failure is second order at λT < 1).
    if replacement == "satellite":
        units = n_sat
        unit_hardware_usd = hardware / n_sat
        unit_mass_kg = m.wet_kg
    else:
        units = design.accelerator_count
        unit_hardware_usd = unit_accelerator_usd
        unit_mass_kg = p.compute_mass_kg_per_accelerator * (1.0 + p.shielding_mass_fraction)
    failures_per_year = units * -np.expm1(-p.orbital_failure_rate_per_year * years) / years
    # Launch price of a resupply in year t: p0 · lr^(t/T2), discounted by (1 + r)^-t.
    learning_ratio = p.launch_learning_rate ** (1.0 / p.launch_mass_doubling_time_years)
    launch_years = geometric_sum(learning_ratio / (1.0 + rate), years)
    replacement_usd = (
        (1.0 + p.insurance_fraction)
        * failures_per_year
        * (
            unit_hardware_usd * annuity_factor(rate, years)
            + unit_mass_kg * launch_price * launch_years
        )
    )

    items: list[tuple[str, Number]] = [
        ("accelerators", accelerators),
        ("solar_array", solar),
        ("battery", battery),
        ("radiator", radiator),
        ("bus", bus),
        ("launch", launch),
        ("end_of_life", end_of_life),
        ("insurance", insurance),
        ("ground_segment", ground),
        ("operations", operations),
        ("replacement", replacement_usd),
    ]
    output = delivered_compute(design.accelerator_count, design.dense_tflops, delivered_fraction, p)
    return summarise(
        "orbital", items, set(ORBITAL_CAPEX_ITEMS), output, delivered_fraction, years, rate
    )


def evaluate_economics(
    design: SatelliteDesign,
    delivered_compute_fraction: Number,
    params: EconomicParameters | None = None,
    *,
    terrestrial_delivered_fraction: Number | None = None,
    replacement: Replacement = "satellite",
) -> EconomicsResult:
    """Orbital against terrestrial cost of ownership for ``design``: the economics stage.

    The terrestrial reference has the same accelerators (hence the same installed IT power) over
    the same period. Unit costs are levelised on *delivered* compute: the orbital side uses
    ``delivered_compute_fraction`` from the simulation, the terrestrial side
    ``terrestrial_delivered_fraction`` (default: ``terrestrial_availability``).

    Parameters
    ----------
    design : SatelliteDesign
        Installed design from the engine (fields may be arrays).
    delivered_compute_fraction : Number
        Delivered fraction of installed accelerator time in orbit, in [0, 1].
    params : EconomicParameters, optional
        Assumptions; default the shipped table.
    terrestrial_delivered_fraction : Number, optional
        Delivered fraction on Earth.
    replacement : {"satellite", "compute"}
        Failure replacement model (see ``orbital_cost``).

    Returns
    -------
    EconomicsResult
        Both cost summaries, the mass breakdown, the break-even launch price and the ratio.
    """
    p = load_assumptions().parameters() if params is None else params
    if design.host_power_overhead_fraction is not None:
        # The design's host share wins, so both sides carry the same IT power.
        p = p.replace(host_power_overhead_fraction=design.host_power_overhead_fraction)
    for name, value in (
        ("delivered_compute_fraction", delivered_compute_fraction),
        ("terrestrial_delivered_fraction", terrestrial_delivered_fraction),
    ):
        if value is not None and np.any(
            ~np.isfinite(np.asarray(value, dtype=float))
            | (np.asarray(value) < 0.0)
            | (np.asarray(value) > 1.0)
        ):
            raise ScenarioError(
                f"economics: {name} = {value!r} is not allowed; give a fraction in [0, 1]",
                name,
                value,
            )
    mass = satellite_mass(design, p)
    orbital = orbital_cost(
        design, p, delivered_compute_fraction, replacement=replacement, mass=mass
    )
    terrestrial = terrestrial_cost(
        design.accelerator_count,
        p.accelerator_cost_usd(design.accelerator),
        design.tdp_w,
        design.dense_tflops,
        design.mission_years,
        p,
        terrestrial_delivered_fraction,
    )
    break_even = _break_even_launch_price(
        design, p, delivered_compute_fraction, terrestrial, replacement, mass
    )
    tokens_model = (
        f"tokens/s = delivered FLOP/s x {_scalar_text(p.inference_flop_utilisation)} utilisation"
        f" / ({_scalar_text(p.flops_per_token_per_parameter)} FLOPs per parameter x "
        f"{_scalar_text(p.model_parameters)} parameters)"
    )
    per_satellite_it_w = np.asarray(design.it_power_w(p)) / np.asarray(design.satellite_count)
    share = per_satellite_it_w / (per_satellite_it_w + np.asarray(design.bus_power_w))
    return EconomicsResult(
        orbital=orbital,
        terrestrial=terrestrial,
        mass=mass,
        fleet_launch_mass_kg=design.satellite_count * mass.wet_kg,
        it_power_w=design.it_power_w(p),
        break_even_launch_cost_usd_per_kg=break_even,
        cost_ratio=as_number(
            np.asarray(orbital.cost_per_gpu_hour_usd)
            / np.asarray(terrestrial.cost_per_gpu_hour_usd)
        ),
        tokens_model=tokens_model,
        compute_power_share=as_number(share),
        inputs={
            "accelerator": design.accelerator,
            "accelerator_count": design.accelerator_count,
            "satellite_count": design.satellite_count,
            "mission_years": design.mission_years,
            "delivered_compute_fraction": delivered_compute_fraction,
            "launch_cost_usd_per_kg": p.launch_cost_usd_per_kg,
            "replacement": replacement,
        },
    )


def break_even_launch_cost_usd_per_kg(
    design: SatelliteDesign,
    delivered_compute_fraction: Number,
    params: EconomicParameters | None = None,
    *,
    terrestrial_delivered_fraction: Number | None = None,
    replacement: Replacement = "satellite",
) -> Number:
    """Initial launch price (USD/kg) at which orbit and Earth cost the same per delivered GPU-hour.

    Closed form: the orbital present-value cost is a + b·p₀ (every launch term is proportional
    to p₀), so p* = (c_Earth · H_orbit − a) / b with H_orbit the present value of delivered
    GPU-hours. NaN where p* < 0, i.e. orbit costs more even with free launch.
    """
    p = load_assumptions().parameters() if params is None else params
    if design.host_power_overhead_fraction is not None:
        p = p.replace(host_power_overhead_fraction=design.host_power_overhead_fraction)
    terrestrial = terrestrial_cost(
        design.accelerator_count,
        p.accelerator_cost_usd(design.accelerator),
        design.tdp_w,
        design.dense_tflops,
        design.mission_years,
        p,
        terrestrial_delivered_fraction,
    )
    mass = satellite_mass(design, p)
    return _break_even_launch_price(
        design, p, delivered_compute_fraction, terrestrial, replacement, mass
    )


def _break_even_launch_price(
    design: SatelliteDesign,
    params: EconomicParameters,
    delivered_fraction: Number,
    terrestrial: CostSummary,
    replacement: Replacement,
    mass: MassBreakdown,
) -> Number:
    free = orbital_cost(
        design,
        params.replace(launch_cost_usd_per_kg=0.0),
        delivered_fraction,
        replacement=replacement,
        mass=mass,
    )
    unit = orbital_cost(
        design,
        params.replace(launch_cost_usd_per_kg=1.0),
        delivered_fraction,
        replacement=replacement,
        mass=mass,
    )
    a = np.asarray(free.lifecycle_cost_usd, dtype=float)
    b = np.asarray(unit.lifecycle_cost_usd, dtype=float) - a
    output = delivered_compute(
        design.accelerator_count, design.dense_tflops, delivered_fraction, params
    )
    gpu_hours_pv = output.gpu_hours_per_year * annuity_factor(
        params.discount_rate, design.mission_years
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        price = (np.asarray(terrestrial.cost_per_gpu_hour_usd) * gpu_hours_pv - a) / b
    price = np.where(np.isfinite(price) & (price >= 0.0), price, np.nan)
    return float(price) if price.ndim == 0 else price


def _scalar_text(value: Number) -> str:
    array = np.asarray(value, dtype=float)
    return f"{float(array):.4g}" if array.ndim == 0 else "swept"
