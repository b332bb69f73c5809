"""Quantities with units at the edges: ``"550 km"``, ``"1 d"``, ``"10 s"``, ``"53 deg"``.

Every quantity a user writes in a scenario is parsed once, here, into the SI (or named) unit
that the code uses inside, and the field's name says which (``altitude_km``, ``duration_s``).
A bare number is taken in the field's own unit. Conversion factors are derived in one table per
dimension rather than pasted where used.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

from orbitgrid.errors import shorten

# For each dimension: the unit the code uses inside, and factors from each accepted spelling to it.
_DIMENSIONS: dict[str, tuple[str, dict[str, float]]] = {
    "length_km": ("km", {"m": 1e-3, "km": 1.0}),
    "duration_s": (
        "s",
        {
            "ms": 1e-3,
            "s": 1.0,
            "min": 60.0,
            "h": 3600.0,
            "d": 86400.0,
            "day": 86400.0,
            "days": 86400.0,
            "yr": 365.25 * 86400.0,
            "year": 365.25 * 86400.0,
            "years": 365.25 * 86400.0,
        },
    ),
    "angle_deg": ("deg", {"deg": 1.0, "rad": 180.0 / math.pi}),
    "area_m2": ("m2", {"m2": 1.0, "m^2": 1.0, "m²": 1.0, "cm2": 1e-4}),
    "power_w": ("W", {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9}),
    "energy_wh": (
        "Wh",
        {
            "Wh": 1.0,
            "kWh": 1e3,
            "MWh": 1e6,
            "J": 1.0 / 3600.0,
            "kJ": 1e3 / 3600.0,
            "MJ": 1e6 / 3600.0,
        },
    ),
    "heat_capacity_j_k": ("J/K", {"J/K": 1.0, "kJ/K": 1e3, "MJ/K": 1e6}),
    "fraction": ("", {"": 1.0, "%": 0.01}),
    "fraction_per_year": ("/yr", {"/yr": 1.0, "%/yr": 0.01, "": 1.0, "%": 0.01}),
    "mass_kg": ("kg", {"g": 1e-3, "kg": 1.0, "t": 1e3}),
    # 1 knot = 1852 m per hour exactly (international nautical mile).
    "speed_m_s": ("m/s", {"m/s": 1.0, "km/h": 1 / 3.6, "kn": 1852.0 / 3600.0}),
    # Decimal prefixes, as for link rates.
    "size_bytes": ("B", {"B": 1.0, "kB": 1e3, "MB": 1e6, "GB": 1e9}),
    "rate_per_h": ("/h", {"/s": 3600.0, "/min": 60.0, "/h": 1.0, "/d": 1 / 24.0}),
}

# Longest quantity text read: "-1.234567890123456789e-300 km/h" is 32 characters. The bound
# also keeps any regular expression linear on hostile input.
MAX_QUANTITY_CHARS = 100


class _BoundedPattern:
    """A compiled pattern whose ``match`` refuses (returns None for) overlong text."""

    def __init__(self, pattern: str):
        self._pattern = re.compile(pattern)

    def match(self, text: str) -> re.Match[str] | None:
        return None if len(text) > MAX_QUANTITY_CHARS else self._pattern.match(text)


# "<number> <unit>"; the number's digits are matched without ambiguity (no `\d+\.?\d*`), which
# backtracked cubically on long digit strings.
QUANTITY = _BoundedPattern(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")
_QUANTITY = QUANTITY


def parse_quantity(value: object, dimension: str) -> float:
    """Return ``value`` in the inside unit of ``dimension``.

    Accepts a number (already in the inside unit) or a string ``"<number> <unit>"``. Raises
    ``ValueError`` naming the value and the allowed units, which pydantic reports with the
    field path.
    """
    inside_unit, factors = _DIMENSIONS[dimension]
    if isinstance(value, bool):
        raise ValueError(
            f"expected a number or a quantity such as '10 {inside_unit}', got {value!r}"
        )
    if isinstance(value, int | float):
        number = _float(value)
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None:
            raise ValueError(
                f"could not read {shorten(value)} as a quantity; write a number and a unit, "
                f"e.g. '10 {inside_unit or '%'}' (units: {', '.join(u for u in factors if u)})"
            )
        unit = match.group(2)
        if unit not in factors:
            allowed = ", ".join(repr(u) for u in factors if u)
            raise ValueError(
                f"unknown unit {shorten(unit)} in {shorten(value)}; allowed units are {allowed}"
            )
        number = float(match.group(1)) * factors[unit]
    else:
        raise ValueError(
            f"expected a number or a quantity string, got {type(value).__name__} {shorten(value)}"
        )
    if not math.isfinite(number):
        raise ValueError(f"{shorten(value)} is not a finite number")
    return number


def _float(value: int | float) -> float:
    """``float(value)``, with an integer beyond the float range reported, not raised."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{shorten(value)} is beyond the range of numbers (about 1e308)") from None


def _quantity(dimension: str) -> BeforeValidator:
    return BeforeValidator(lambda v: parse_quantity(v, dimension))


# pydantic field types: declare a field as ``altitude_km: LengthKm`` and it accepts "550 km".
LengthKm = Annotated[float, _quantity("length_km")]
DurationS = Annotated[float, _quantity("duration_s")]
AngleDeg = Annotated[float, _quantity("angle_deg")]
AreaM2 = Annotated[float, _quantity("area_m2")]
PowerW = Annotated[float, _quantity("power_w")]
EnergyWh = Annotated[float, _quantity("energy_wh")]
HeatCapacityJK = Annotated[float, _quantity("heat_capacity_j_k")]
Fraction = Annotated[float, _quantity("fraction")]
FractionPerYear = Annotated[float, _quantity("fraction_per_year")]
MassKg = Annotated[float, _quantity("mass_kg")]
SpeedMS = Annotated[float, _quantity("speed_m_s")]
SizeBytes = Annotated[float, _quantity("size_bytes")]
RatePerH = Annotated[float, _quantity("rate_per_h")]


# Hotter than any material a spacecraft is built of stays solid; the bound also keeps T⁴
# radiation terms finite.
MAX_TEMPERATURE_K = 5000.0


def parse_temperature_k(value: object) -> float:
    """Return a temperature in kelvin from ``"85 C"``, ``"358 K"`` or a bare number in kelvin.

    Allowed: finite, above absolute zero, at most ``MAX_TEMPERATURE_K``.
    """
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None or match.group(2) not in ("K", "C", "°C", "degC"):
            raise ValueError(
                f"could not read {shorten(value)} as a temperature; write e.g. '85 C' or '358 K'"
            )
        number = float(match.group(1))
        kelvin = number if match.group(2) == "K" else number + 273.15
    elif isinstance(value, int | float) and not isinstance(value, bool):
        kelvin = _float(value)
    else:
        raise ValueError(f"expected a temperature such as '85 C', got {shorten(value)}")
    if not math.isfinite(kelvin):
        raise ValueError(f"temperature {shorten(value)} is not a finite number")
    if not kelvin > 0.0:
        raise ValueError(f"temperature {shorten(value)} is at or below absolute zero")
    if kelvin > MAX_TEMPERATURE_K:
        raise ValueError(
            f"temperature {shorten(value)} is above {MAX_TEMPERATURE_K:g} K; allowed is "
            f"(0, {MAX_TEMPERATURE_K:g}] K"
        )
    return kelvin


TemperatureK = Annotated[float, BeforeValidator(parse_temperature_k)]
