"""Levelising, delivered-compute metrics and the result types of the economics stage.

Convention (the same as spacedc-mdao 0.4.2 ``models/cost.py``): capital spent at t = 0, annual
streams (operations, energy, replacements) at the end of years 1..N, and delivered compute as its
own discounted stream, so a levelised cost is PV(cost) / PV(delivered units). N may be fractional
and is used in the closed-form annuity, which equals the year-by-year sum for whole years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from orbitgrid.economics.assumptions import EconomicParameters, Number
from orbitgrid.economics.mass import HOURS_PER_YEAR, MassBreakdown

SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0
DAYS_PER_YEAR = 365.25


def annuity_factor(rate: Number, years: Number) -> Number:
    """Present value of 1 USD paid at the end of each year for ``years`` years, Σ (1 + r)^−t.

    Closed form (1 − (1 + r)^−N) / r, and N when r = 0. Broadcasts.
    """
    return geometric_sum(1.0 / (1.0 + np.asarray(rate, dtype=float)), years)


def geometric_sum(ratio: Number, years: Number) -> Number:
    """Σ_{t=1..N} q^t = q (1 − q^N) / (1 − q), and N when q = 1. Broadcasts."""
    q = np.asarray(ratio, dtype=float)
    n = np.asarray(years, dtype=float)
    near_one = np.abs(1.0 - q) < 1e-12
    safe = np.where(near_one, 0.5, q)
    value = np.where(near_one, n, safe * (1.0 - safe**n) / (1.0 - safe))
    return float(value) if value.ndim == 0 else value


@dataclass(frozen=True)
class DeliveredCompute:
    """Delivered output per year of a fleet of accelerators (undiscounted).

    Tokens model: tokens/s = n_acc · peak FLOP/s · delivered fraction · utilisation /
    (k · N_params), with k = 2 FLOPs per parameter per token for inference (Kaplan et al. 2020,
    arXiv 2001.08361 §2.1), N_params and the utilisation from the assumptions table.
    """

    gpu_hours_per_year: Number
    pflop_days_per_year: Number
    tokens_per_year: Number


def delivered_compute(
    accelerator_count: Number,
    dense_tflops: Number,
    delivered_fraction: Number,
    params: EconomicParameters,
) -> DeliveredCompute:
    """Delivered accelerator-hours, PFLOP-days and tokens per year (see ``DeliveredCompute``)."""
    running = accelerator_count * delivered_fraction
    flops_per_s = running * dense_tflops * 1e12
    tokens_per_s = (
        flops_per_s
        * params.inference_flop_utilisation
        / (params.flops_per_token_per_parameter * params.model_parameters)
    )
    return DeliveredCompute(
        gpu_hours_per_year=running * HOURS_PER_YEAR,
        pflop_days_per_year=running * dense_tflops / 1000.0 * DAYS_PER_YEAR,
        tokens_per_year=tokens_per_s * SECONDS_PER_YEAR,
    )


@dataclass(frozen=True)
class CostSummary:
    """Lifecycle cost of one option (orbital or terrestrial) and its levelised unit costs.

    ``waterfall`` lists (item, present-value USD) in build order; the items sum to
    ``lifecycle_cost_usd``. Unit costs divide the present-value cost by the present value of the
    delivered units (a levelised cost). All fields broadcast over swept parameters.
    """

    label: str
    waterfall: tuple[tuple[str, Number], ...]
    capex_usd: Number
    lifecycle_cost_usd: Number
    delivered_fraction: Number
    delivered_gpu_hours: Number
    cost_per_gpu_hour_usd: Number
    cost_per_pflop_day_usd: Number
    cost_per_million_tokens_usd: Number

    def __repr__(self) -> str:
        return (
            f"CostSummary({self.label}: {_fmt(self.lifecycle_cost_usd / 1e6)} M USD lifecycle, "
            f"{_fmt(self.cost_per_gpu_hour_usd)} USD per delivered GPU-hour)"
        )


def summarise(
    label: str,
    items: list[tuple[str, Number]],
    capex_items: set[str],
    delivered: DeliveredCompute,
    delivered_fraction: Number,
    mission_years: Number,
    rate: Number,
) -> CostSummary:
    """Build a ``CostSummary`` from present-value cost items and the annual delivered output."""
    total = sum(value for _, value in items)
    capex = sum(value for name, value in items if name in capex_items)
    pv_years = annuity_factor(rate, mission_years)
    return CostSummary(
        label=label,
        waterfall=tuple(items),
        capex_usd=capex,
        lifecycle_cost_usd=total,
        delivered_fraction=delivered_fraction,
        delivered_gpu_hours=delivered.gpu_hours_per_year * mission_years,
        cost_per_gpu_hour_usd=_ratio(total, delivered.gpu_hours_per_year * pv_years),
        cost_per_pflop_day_usd=_ratio(total, delivered.pflop_days_per_year * pv_years),
        cost_per_million_tokens_usd=_ratio(total, delivered.tokens_per_year * pv_years / 1e6),
    )


def _ratio(cost: Number, units: Number) -> Number:
    # No delivered compute means an infinite unit cost, not a division warning.
    units_array = np.asarray(units, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(units_array > 0.0, np.asarray(cost) / units_array, np.inf)
    return float(value) if value.ndim == 0 else value


@dataclass(frozen=True)
class EconomicsResult:
    """Orbital against terrestrial cost of ownership for one design (or a sweep of them).

    Attributes
    ----------
    orbital, terrestrial : CostSummary
        Lifecycle costs, waterfalls and unit costs of each option.
    mass : MassBreakdown
        Mass of one satellite by subsystem, kg.
    fleet_launch_mass_kg : Number
        Wet mass of the whole fleet at first launch, kg.
    it_power_w : Number
        Installed IT power (the terrestrial reference has the same), W.
    break_even_launch_cost_usd_per_kg : Number
        Initial launch price at which the orbital cost per delivered GPU-hour equals the
        terrestrial one; NaN where even free launch does not break even.
    cost_ratio : Number
        Orbital over terrestrial cost per delivered GPU-hour.
    tokens_model : str
        The stated tokens-per-second model behind ``cost_per_million_tokens_usd``.
    compute_power_share : Number
        The accelerators' (and hosts') share of a satellite's power, against its bus: the
        whole satellite is charged to its accelerators, so where the share is small (an edge
        module on a broadband satellite) the orbital figures bound the module's cost from
        above; they are not its marginal cost.
    """

    orbital: CostSummary
    terrestrial: CostSummary
    mass: MassBreakdown
    fleet_launch_mass_kg: Number
    it_power_w: Number
    break_even_launch_cost_usd_per_kg: Number
    cost_ratio: Number
    tokens_model: str
    inputs: dict[str, Any] = field(default_factory=dict)
    compute_power_share: Number = 1.0

    def __repr__(self) -> str:
        return (
            f"EconomicsResult(orbital/terrestrial = {_fmt(self.cost_ratio)} per GPU-hour, "
            f"break-even launch {_fmt(self.break_even_launch_cost_usd_per_kg)} USD/kg)"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict for ``summary.json`` (arrays become lists, NaN/inf None)."""
        out: dict[str, Any] = {}
        for name in ("orbital", "terrestrial"):
            summary: CostSummary = getattr(self, name)
            entry = {
                f.name: _plain(getattr(summary, f.name))
                for f in fields(summary)
                if f.name not in ("waterfall",)
            }
            entry["waterfall_usd"] = [[item, _plain(usd)] for item, usd in summary.waterfall]
            out[name] = entry
        out["mass_per_satellite_kg"] = {k: _plain(v) for k, v in self.mass.items()}
        out["mass_per_satellite_kg"]["dry"] = _plain(self.mass.dry_kg)
        out["mass_per_satellite_kg"]["wet"] = _plain(self.mass.wet_kg)
        out["fleet_launch_mass_kg"] = _plain(self.fleet_launch_mass_kg)
        out["it_power_w"] = _plain(self.it_power_w)
        out["break_even_launch_cost_usd_per_kg"] = _plain(self.break_even_launch_cost_usd_per_kg)
        out["cost_ratio"] = _plain(self.cost_ratio)
        out["tokens_model"] = self.tokens_model
        out["compute_power_share"] = _plain(self.compute_power_share)
        out["inputs"] = {k: _plain(v) for k, v in self.inputs.items()}
        return out


COST_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cost_per_gpu_hour_orbit_usd", ("orbital", "cost_per_gpu_hour_usd")),
    ("cost_per_gpu_hour_earth_usd", ("terrestrial", "cost_per_gpu_hour_usd")),
    ("cost_ratio_orbit_to_earth", ("cost_ratio",)),
    ("break_even_launch_cost_usd_per_kg", ("break_even_launch_cost_usd_per_kg",)),
    ("lifecycle_cost_orbit_usd", ("orbital", "lifecycle_cost_usd")),
    ("lifecycle_cost_earth_usd", ("terrestrial", "lifecycle_cost_usd")),
    ("cost_per_million_tokens_orbit_usd", ("orbital", "cost_per_million_tokens_usd")),
    ("cost_per_million_tokens_earth_usd", ("terrestrial", "cost_per_million_tokens_usd")),
)
"""Flat per-shell cost figures (column name, path in ``EconomicsResult.to_dict()``), for the
per-shell tables (``shells.csv``) beside the physics figures."""


def cost_columns(result: dict[str, Any]) -> dict[str, Any]:
    """The ``COST_COLUMNS`` of one shell's ``EconomicsResult.to_dict()`` (None where absent)."""
    row: dict[str, Any] = {}
    for column, path in COST_COLUMNS:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        row[column] = value
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        number = float(array)
        return number if math.isfinite(number) else None
    return [None if not math.isfinite(x) else x for x in array.ravel().tolist()]


def _fmt(value: Number) -> str:
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return f"array{array.shape} median {np.nanmedian(array):.4g}"


# Below this share of a satellite's power the accelerators are a passenger (an edge module on
# a broadband satellite): the orbital figures then charge them a whole satellite.
PASSENGER_SHARE = 0.5


def attribution_note(shell: str, result: dict[str, Any]) -> str:
    """A caution for a shell whose accelerators draw a small share of its satellites' power
    (``EconomicsResult.compute_power_share`` below ``PASSENGER_SHARE``), else ""."""
    share = result.get("compute_power_share")
    if not isinstance(share, int | float) or share >= PASSENGER_SHARE:
        return ""
    return (
        f"{shell}: the accelerators draw {share:.0%} of the satellites' power, yet the whole "
        "satellite is charged to them: an upper bound on their cost, not the marginal cost "
        "of adding them to satellites flown for another purpose"
    )
