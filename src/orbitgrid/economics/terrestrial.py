"""Terrestrial reference: a data center with the same accelerators and the same IT power.

Model: facility capex per MW of IT load (Cushman & Wakefield 2025), charged pro rata to the
mission when the facility outlives it; accelerators bought at t = 0 and again every refresh
period (straight-line residual value of the last purchase credited); electricity = IT power ×
load factor × PUE (Uptime Institute 2024) × price (EIA 2024); cooling water = IT energy × WUE
(Shehabi et al. 2016) × tariff; maintenance as a fraction of capex per year. Sources per figure in
``data/assumptions.csv``. Leaves out land, taxes, staff beyond maintenance, and network egress.
"""

from __future__ import annotations

import math

import numpy as np

from orbitgrid.economics.assumptions import EconomicParameters, Number
from orbitgrid.economics.mass import HOURS_PER_YEAR
from orbitgrid.economics.results import (
    CostSummary,
    annuity_factor,
    delivered_compute,
    summarise,
)

TERRESTRIAL_CAPEX_ITEMS = frozenset({"facility", "accelerators"})


def terrestrial_cost(
    accelerator_count: Number,
    accelerator_cost_usd: Number,
    tdp_w: Number,
    dense_tflops: Number,
    mission_years: Number,
    params: EconomicParameters,
    delivered_fraction: Number | None = None,
) -> CostSummary:
    """Lifecycle cost of a terrestrial data center with the given accelerators.

    Parameters
    ----------
    accelerator_count : Number
        Installed accelerators (the same count as the orbital fleet).
    accelerator_cost_usd : Number
        Price of one accelerator, USD (host share added from ``it_hardware_overhead_fraction``).
    tdp_w : Number
        Board power per accelerator, W.
    dense_tflops : Number
        Dense throughput per accelerator, TFLOP/s.
    mission_years : Number
        Comparison period, years.
    params : EconomicParameters
        Assumptions (``load_assumptions().parameters()``), scalars or arrays.
    delivered_fraction : Number, optional
        Delivered fraction of installed accelerator time; default ``terrestrial_availability``.

    Returns
    -------
    CostSummary
        Waterfall items ``facility``, ``accelerators``, ``electricity``, ``cooling_water``,
        ``maintenance`` in present-value USD.
    """
    p = params
    rate = p.discount_rate
    fraction = p.terrestrial_availability if delivered_fraction is None else delivered_fraction
    it_power_w = accelerator_count * tdp_w * (1.0 + p.host_power_overhead_fraction)
    pv_years = annuity_factor(rate, mission_years)

    facility_full = p.facility_capex_usd_per_mw * it_power_w / 1e6
    facility = facility_full * np.minimum(1.0, mission_years / p.facility_life_years)

    hardware_once = (
        accelerator_count * accelerator_cost_usd * (1.0 + p.it_hardware_overhead_fraction)
    )
    hardware = hardware_once * _refresh_factor(mission_years, p.hardware_refresh_years, rate)

    it_energy_kwh_per_year = it_power_w / 1e3 * p.terrestrial_it_load_factor * HOURS_PER_YEAR
    electricity = it_energy_kwh_per_year * p.pue * p.electricity_usd_per_kwh * pv_years
    water_m3_per_year = it_energy_kwh_per_year * p.water_usage_l_per_kwh / 1e3
    water = water_m3_per_year * p.water_cost_usd_per_m3 * pv_years
    maintenance = (
        p.terrestrial_maintenance_fraction_per_year * (facility_full + hardware_once) * pv_years
    )

    items: list[tuple[str, Number]] = [
        ("facility", facility),
        ("accelerators", hardware),
        ("electricity", electricity),
        ("cooling_water", water),
        ("maintenance", maintenance),
    ]
    output = delivered_compute(accelerator_count, dense_tflops, fraction, p)
    return summarise(
        "terrestrial",
        items,
        set(TERRESTRIAL_CAPEX_ITEMS),
        output,
        fraction,
        mission_years,
        rate,
    )


def _refresh_factor(mission_years: Number, refresh_years: Number, rate: Number) -> Number:
    """Present value of buying the hardware every ``refresh_years`` over the mission, per set.

    Purchase j at t = j·L is charged for the part of its life used inside the mission,
    min(1, (T − jL)/L), discounted to t = 0: straight-line depreciation with the residual value
    of the last set credited, so the cost is smooth in T.
    """
    t = np.asarray(mission_years, dtype=float)
    life = np.asarray(refresh_years, dtype=float)
    r = np.asarray(rate, dtype=float)
    purchases = math.ceil(float(np.max(t / life)))
    total = np.zeros(np.broadcast(t, life, r).shape)
    for j in range(purchases):
        used = np.clip((t - j * life) / life, 0.0, 1.0)
        total = total + used * (1.0 + r) ** (-j * life)
    return float(total) if total.ndim == 0 else total
