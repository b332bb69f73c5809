"""The sourced economic assumptions table, its loader, and scenario overrides.

Every number the cost model uses comes from ``data/assumptions.csv``: one row per parameter with
``value``, ``unit``, ``low``/``high`` (the plausible range for sweeps), ``source``, ``year`` and a
``note`` that says when the figure is our estimate. A scenario may override any key::

    economics:
      overrides: {launch_cost_usd_per_kg: 500}

and a swept parameter may be a numpy array: the cost functions broadcast.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator

from orbitgrid.constants import JULIAN_YEAR_S
from orbitgrid.errors import InputFileError, ScenarioError
from orbitgrid.units import DurationS, Fraction

# A parameter is a float, or an array of floats when a sweep varies it.
Number = float | NDArray[np.float64]

_FILE = "assumptions.csv"
_COLUMNS = ("key", "value", "unit", "low", "high", "source", "year", "note")
# Units whose values are fractions of a whole: an override above 1 is a mistake.
_FRACTION_UNITS = frozenset({"1"})
_FRACTION_EXEMPT = frozenset(
    {"model_parameters", "flops_per_token_per_parameter", "pue", "it_hardware_overhead_fraction"}
)


@dataclass(frozen=True)
class Assumption:
    """One row of the assumptions table: default value, unit, range and where it comes from."""

    key: str
    value: float
    unit: str
    low: float
    high: float
    source: str
    year: int
    note: str


@dataclass(frozen=True)
class AssumptionTable:
    """The assumptions table keyed by parameter name, in file order.

    Use ``table["pue"].value`` for one row, ``table.parameters()`` for the typed bundle the cost
    functions take, and ``table.with_overrides({...})`` for a scenario's changes.
    """

    rows: Mapping[str, Assumption]

    def __getitem__(self, key: str) -> Assumption:
        if key not in self.rows:
            raise ScenarioError(_unknown_key_message(key, self.rows), "economics.overrides", key)
        return self.rows[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"AssumptionTable({len(self.rows)} sourced parameters from {_FILE})"

    def keys(self) -> list[str]:
        """Parameter names, in file order."""
        return list(self.rows)

    def with_overrides(self, overrides: Mapping[str, float]) -> AssumptionTable:
        """Return a copy whose values are replaced by ``overrides`` (scalars only).

        Raises ``ScenarioError`` naming the key and the valid keys on a typo, or naming the value
        and the allowed range when it is negative, not finite, or a fraction above 1.
        """
        rows = dict(self.rows)
        for key, value in overrides.items():
            row = self[key]
            rows[key] = dataclasses.replace(row, value=_checked_value(key, row.unit, value))
        return AssumptionTable(rows)

    def parameters(self, overrides: Mapping[str, ArrayLike] | None = None) -> EconomicParameters:
        """Return the typed parameter bundle, with ``overrides`` (scalars or arrays) applied.

        Array overrides are how a sweep varies a parameter: the cost functions broadcast them.
        """
        values: dict[str, Number] = {key: row.value for key, row in self.rows.items()}
        for key, value in (overrides or {}).items():
            row = self[key]
            array = np.asarray(value, dtype=float)
            if array.ndim == 0:
                values[key] = _checked_value(key, row.unit, float(array))
                continue
            # Check a swept array at once; report the first offending element.
            bad = ~np.isfinite(array) | (array < 0.0)
            if row.unit in _FRACTION_UNITS and key not in _FRACTION_EXEMPT:
                bad |= array > 1.0
            if np.any(bad):
                _checked_value(key, row.unit, float(array[bad].ravel()[0]))
            values[key] = array
        missing = set(_PARAMETER_FIELDS) - set(values)
        if missing:
            raise InputFileError(f"{_FILE} lacks the rows {sorted(missing)}")
        return EconomicParameters(**{name: values[name] for name in _PARAMETER_FIELDS})


def _unknown_key_message(key: str, rows: Mapping[str, Assumption]) -> str:
    close = difflib.get_close_matches(key, list(rows), n=3)
    # A key that contains a valid one, or is contained in it, is a likely typo too.
    close += [k for k in rows if k not in close and len(k) >= 3 and (k in key or key in k)][:3]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"economics.overrides: unknown assumption {key!r}.{hint} Valid keys are: {', '.join(rows)}"
    )


def _checked_value(key: str, unit: str, value: object) -> float:
    path = f"economics.overrides.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ScenarioError(f"{path}: expected a number in {unit}, got {value!r}", path, value)
    number = float(value)
    if not math.isfinite(number) or number < 0.0:
        raise ScenarioError(
            f"{path}: {value!r} is not allowed; give a finite number >= 0 in {unit}", path, value
        )
    if unit in _FRACTION_UNITS and key not in _FRACTION_EXEMPT and number > 1.0:
        raise ScenarioError(
            f"{path}: {value!r} is not allowed; this is a fraction between 0 and 1", path, value
        )
    return number


@functools.cache
def load_assumptions() -> AssumptionTable:
    """Load the shipped, sourced assumptions table from ``orbitgrid/data/assumptions.csv``.

    Returns
    -------
    AssumptionTable
        Rows keyed by parameter name. Lines starting with ``#`` are comments.
    """
    text = resources.files("orbitgrid.data").joinpath(_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise InputFileError(f"{_FILE}: header must be {','.join(_COLUMNS)}")
    rows: dict[str, Assumption] = {}
    for line_number, row in enumerate(reader, start=2):
        try:
            item = Assumption(
                key=row["key"],
                value=float(row["value"]),
                unit=row["unit"],
                low=float(row["low"]),
                high=float(row["high"]),
                source=row["source"],
                year=int(row["year"]),
                note=row["note"],
            )
        except (TypeError, ValueError) as error:
            raise InputFileError(f"{_FILE} line {line_number}: {error}") from error
        if not item.low <= item.value <= item.high:
            raise InputFileError(
                f"{_FILE} line {line_number}: {item.key} value {item.value} is outside "
                f"[{item.low}, {item.high}]"
            )
        rows[item.key] = item
    return AssumptionTable(rows)


@dataclass(frozen=True)
class EconomicParameters:
    """The cost model's inputs, one attribute per row of the assumptions table.

    Each attribute is a float or, for a swept parameter, a numpy array; the cost functions
    broadcast them together. Units are in the names; see ``data/assumptions.csv`` for sources.
    """

    solar_array_specific_power_w_per_kg: Number
    battery_specific_energy_wh_per_kg: Number
    battery_depth_of_discharge: Number
    battery_round_trip_efficiency: Number
    solar_array_degradation_per_year: Number
    radiator_areal_mass_kg_per_m2: Number
    radiator_net_flux_w_per_m2: Number
    compute_mass_kg_per_accelerator: Number
    host_power_overhead_fraction: Number
    shielding_mass_fraction: Number
    structure_mass_fraction: Number
    mass_margin_fraction: Number
    comms_mass_kg_per_satellite: Number
    avionics_propulsion_mass_kg_per_satellite: Number
    station_keeping_delta_v_m_per_s_per_year: Number
    deorbit_delta_v_m_per_s: Number
    thruster_isp_s: Number
    launch_cost_usd_per_kg: Number
    launch_cost_target_usd_per_kg: Number
    launch_learning_rate: Number
    launch_mass_doubling_time_years: Number
    accelerator_cost_usd_h100_sxm: Number
    accelerator_cost_usd_b200: Number
    accelerator_cost_usd_tpu_v4: Number
    accelerator_cost_usd_jetson_agx_orin_64: Number
    accelerator_cost_usd_jetson_orin_nano_8gb: Number
    it_hardware_overhead_fraction: Number
    solar_array_cost_usd_per_w: Number
    battery_cost_usd_per_wh: Number
    radiator_cost_usd_per_m2: Number
    bus_cost_usd_per_kg: Number
    bus_cost_usd_per_satellite: Number
    insurance_fraction: Number
    ground_segment_capex_usd: Number
    operations_cost_usd_per_year: Number
    orbital_failure_rate_per_year: Number
    discount_rate: Number
    facility_capex_usd_per_mw: Number
    facility_life_years: Number
    pue: Number
    electricity_usd_per_kwh: Number
    terrestrial_it_load_factor: Number
    water_usage_l_per_kwh: Number
    water_cost_usd_per_m3: Number
    hardware_refresh_years: Number
    terrestrial_maintenance_fraction_per_year: Number
    terrestrial_availability: Number
    model_parameters: Number
    flops_per_token_per_parameter: Number
    inference_flop_utilisation: Number

    def accelerator_cost_usd(self, accelerator: str) -> Number:
        """Unit price of one accelerator of catalog key ``accelerator`` (e.g. ``h100-sxm``)."""
        name = "accelerator_cost_usd_" + accelerator.replace("-", "_")
        if not hasattr(self, name):
            known = [
                f.name.removeprefix("accelerator_cost_usd_").replace("_", "-")
                for f in dataclasses.fields(self)
                if f.name.startswith("accelerator_cost_usd_")
            ]
            raise ScenarioError(
                f"no price for accelerator {accelerator!r} in {_FILE}; priced parts are "
                f"{', '.join(known)} (add a row accelerator_cost_usd_<key>)",
                "economics.accelerator",
                accelerator,
            )
        return getattr(self, name)

    def replace(self, **changes: ArrayLike) -> EconomicParameters:
        """Return a copy with some parameters changed (no validation: for internal use)."""
        converted = {k: as_number(v) for k, v in changes.items()}
        return dataclasses.replace(self, **converted)


def as_number(value: ArrayLike) -> Number:
    """A Python float for a scalar, a float array otherwise (how parameters are stored)."""
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


_PARAMETER_FIELDS = tuple(f.name for f in dataclasses.fields(EconomicParameters))


class EconomicsSection(BaseModel):
    """The ``economics:`` section of a scenario: overrides of the sourced assumptions.

    ``overrides`` maps an assumption key to a number in that row's unit. An unknown key is
    rejected with the list of valid keys (and the closest match). ``mission`` is the comparison
    period (``"5 yr"``), ``replacement`` the failure model, ``terrestrial_delivered_fraction``
    the delivered fraction on Earth (default: the table's ``terrestrial_availability``).
    """

    # Finite numbers only: an infinite cost or lifetime gives NaN figures, not an answer.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    overrides: dict[str, float] = Field(default_factory=dict, max_length=1000)
    # 100 years bounds the yearly cash-flow loops (1e300 yr never ended) far beyond any asset.
    mission_s: DurationS = Field(
        alias="mission",
        default=5.0 * JULIAN_YEAR_S,
        gt=0,
        le=100 * JULIAN_YEAR_S,
        description="comparison period, at most 100 yr",
    )
    replacement: Literal["satellite", "compute"] = Field(
        default="satellite", description="what a failure costs: a new satellite or its payload"
    )
    terrestrial_delivered_fraction: Fraction | None = Field(default=None, ge=0, le=1)

    @property
    def mission_years(self) -> float:
        """Comparison period in Julian years."""
        return self.mission_s / JULIAN_YEAR_S

    @field_validator("overrides", mode="before")
    @classmethod
    def _known_keys(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        table = load_assumptions()
        for key, number in value.items():
            if key not in table.rows:
                # ValueError so pydantic reports it with the field path; the text lists keys.
                raise ValueError(_unknown_key_message(str(key), table.rows))
            try:
                _checked_value(key, table.rows[key].unit, number)
            except ScenarioError as error:
                raise ValueError(str(error)) from None
        return value

    def parameters(self, table: AssumptionTable | None = None) -> EconomicParameters:
        """Return the assumptions with this section's overrides applied."""
        return (table or load_assumptions()).with_overrides(self.overrides).parameters()
