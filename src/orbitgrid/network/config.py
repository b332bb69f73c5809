"""Schema of the scenario's ``network:`` section (pydantic v2).

YAML keys are short (``latitude``, ``max_range``, ``per_hop_delay``); the Python attribute says
the unit (``latitude_deg``, ``max_range_km``, ``per_hop_delay_s``). Choices are ``Literal`` types
so an invalid value is reported with the list of valid ones. Unknown keys are errors.

Example::

    network:
      endpoints:
        - {name: Paris, latitude: 48.8534, longitude: 2.3488, jurisdiction: FR}
        - {name: Svalbard, kind: ground_station, latitude: 78.23, longitude: 15.39,
           min_elevation: 5 deg, jurisdiction: SJ}
      endpoint_files: [builtin:cities_top100, my_gateways.csv]
      isl: {pattern: +grid, isl_shift: 0, max_range: 5016.591 km, rate: 100 Gbps,
            per_hop_delay: 0.1 ms}
      gsl: {selection: any-in-view, min_elevation: 25 deg, rate: 1 Gbps}
      routing: {mode: isls-only}
      failures:
        scheduled: [{element: satellite, id: 17, start: 10 min, end: 40 min}]
        random: {satellites_down_fraction: 1 %, seed: 7}
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from orbitgrid.errors import ScenarioError
from orbitgrid.units import AngleDeg, DurationS, Fraction, LengthKm, parse_quantity

EndpointKind = Literal["ground_station", "gateway", "user_terminal", "data_center"]
IslPattern = Literal["+grid", "none", "formation"]
RoutingMode = Literal["isls-only", "ground-relays"]
GslSelection = Literal["any-in-view", "nearest"]
RoutingBackend = Literal["numba", "scipy"]
FailureElement = Literal["satellite", "isl", "endpoint"]

# Data rates: bits per second inside; decimal SI prefixes as used for link rates.
_RATE_FACTORS = {"bps": 1.0, "kbps": 1e3, "Mbps": 1e6, "Gbps": 1e9, "Tbps": 1e12}
_RATE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def parse_rate_bps(value: object) -> float:
    """A data rate in bit/s from ``"100 Gbps"``, ``"220 Mbps"`` or a bare number in bit/s.

    Kept here until ``orbitgrid.units`` has a rate dimension (same grammar as its quantities).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        match = _RATE.match(value)
        if match is None or match.group(2) not in _RATE_FACTORS:
            allowed = ", ".join(_RATE_FACTORS)
            raise ValueError(
                f"could not read {value!r} as a data rate; write e.g. '100 Gbps' (units: {allowed})"
            )
        number = float(match.group(1)) * _RATE_FACTORS[match.group(2)]
    else:
        raise ValueError(f"expected a data rate such as '100 Gbps', got {value!r}")
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"data rate {value!r} must be a finite number ≥ 0")
    return number


RateBps = Annotated[float, BeforeValidator(parse_rate_bps)]
# Delays as small as "0.1 ms" read through the duration parser (seconds inside).
DelayS = DurationS


class _NetModel(BaseModel):
    """Base: unknown keys are errors; YAML keys are the short aliases."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Endpoint(_NetModel):
    """A fixed ground endpoint: ground station, gateway, user terminal or ground data center.

    Visibility of a satellite needs elevation ≥ ``min_elevation`` and slant range ≤
    ``max_range`` (either may be left out; when both are, the ``gsl`` section defaults apply).
    ``jurisdiction`` is an ISO 3166-1 alpha-2 country code, optionally with an ISO 3166-2
    subdivision (``US-CA``), kept for policy stages.
    """

    name: str = Field(min_length=1, pattern=r"^[^,\n]+$")
    kind: EndpointKind = "user_terminal"
    latitude_deg: AngleDeg = Field(alias="latitude", ge=-90, le=90)
    longitude_deg: AngleDeg = Field(alias="longitude", ge=-180, le=360)
    altitude_km: LengthKm = Field(alias="altitude", default=0.0, ge=-0.5, le=100)
    min_elevation_deg: AngleDeg | None = Field(alias="min_elevation", default=None, ge=0, lt=90)
    max_range_km: LengthKm | None = Field(alias="max_range", default=None, gt=0)
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


class IslConfig(_NetModel):
    """Inter-satellite links.

    ``+grid``: Hypatia's four links per satellite (next in plane, same slot + ``isl_shift`` in
    the next plane); ``formation``: every pair within ``max_range`` at each step; ``none``.
    """

    pattern: IslPattern = "+grid"
    isl_shift: int = Field(default=0, ge=0)
    max_range_km: LengthKm = Field(alias="max_range", default=5016.591, gt=0)
    rate_bps: RateBps = Field(alias="rate", default=100e9)
    per_hop_delay_s: DelayS = Field(alias="per_hop_delay", default=0.0, ge=0, le=1)


class GslConfig(_NetModel):
    """Ground–satellite links: defaults for endpoints that give no limit, and selection.

    ``any-in-view``: an endpoint may use any visible satellite (routing picks); ``nearest``:
    only the closest visible satellite. Default limits are Hypatia's Starlink values
    (25° elevation; 1,089,686 m slant range).
    """

    selection: GslSelection = "any-in-view"
    min_elevation_deg: AngleDeg = Field(alias="min_elevation", default=25.0, ge=0, lt=90)
    max_range_km: LengthKm | None = Field(alias="max_range", default=None, gt=0)
    rate_bps: RateBps = Field(alias="rate", default=1e9)


class RoutingConfig(_NetModel):
    """``isls-only``: ground–sat–…–sat–ground, endpoints never relay (satgenpy's
    ``algorithm_free_one_only_over_isls``); ``ground-relays``: endpoints may relay (bent pipe)."""

    mode: RoutingMode = "isls-only"
    backend: RoutingBackend = "numba"


class ScheduledFailure(_NetModel):
    """One element down over ``[start, end)`` seconds from the scenario start.

    ``element: satellite`` with ``id``; ``isl`` with ``between: [a, b]``; ``endpoint`` with
    ``name``.
    """

    element: FailureElement
    id: int | None = Field(default=None, ge=0)
    between: tuple[int, int] | None = None
    name: str | None = None
    start_s: DurationS = Field(alias="start", default=0.0, ge=0)
    end_s: DurationS = Field(alias="end", default=math.inf, gt=0)

    @model_validator(mode="after")
    def _target_given(self) -> ScheduledFailure:
        need = {"satellite": "id", "isl": "between", "endpoint": "name"}[self.element]
        if getattr(self, need) is None:
            raise ValueError(f"a failure of a {self.element} needs '{need}'")
        if self.end_s <= self.start_s:
            raise ValueError(f"end ({self.end_s} s) must be after start ({self.start_s} s)")
        return self


class RandomFailures(_NetModel):
    """Elements down for the whole run, drawn independently with a seed (deterministic)."""

    satellites_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    isls_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    endpoints_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    seed: int = 0


class FailureConfig(_NetModel):
    scheduled: list[ScheduledFailure] = Field(default_factory=list)
    random: RandomFailures = Field(default_factory=RandomFailures)


class NetworkConfig(_NetModel):
    """The ``network:`` section: endpoints, links, routing and failures."""

    endpoints: list[Endpoint] = Field(default_factory=list)
    endpoint_files: list[str] = Field(
        default_factory=list,
        description="CSV files (relative to the scenario) or builtin:cities_top100 / "
        "builtin:ground_gateways",
    )
    isl: IslConfig = Field(default_factory=IslConfig)
    gsl: GslConfig = Field(default_factory=GslConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    failures: FailureConfig = Field(default_factory=FailureConfig)

    @field_validator("endpoint_files")
    @classmethod
    def _builtin_known(cls, files: list[str]) -> list[str]:
        from orbitgrid.network.endpoints import BUILTIN_ENDPOINT_FILES

        for f in files:
            if f.startswith("builtin:") and f[8:] not in BUILTIN_ENDPOINT_FILES:
                allowed = ", ".join(f"builtin:{k}" for k in BUILTIN_ENDPOINT_FILES)
                raise ValueError(f"unknown built-in endpoint list {f!r}; available: {allowed}")
        return files

    @model_validator(mode="after")
    def _unique_names(self) -> NetworkConfig:
        seen: set[str] = set()
        for e in self.endpoints:
            if e.name in seen:
                raise ValueError(f"endpoint name {e.name!r} appears twice; names must be unique")
            seen.add(e.name)
        return self

    def __repr__(self) -> str:
        return (
            f"NetworkConfig({len(self.endpoints)} inline endpoints + {len(self.endpoint_files)} "
            f"files, isl={self.isl.pattern}, mode={self.routing.mode})"
        )


def network_config_from_dict(data: dict[str, Any] | None, path: str = "network") -> NetworkConfig:
    """Validate a ``network:`` mapping; every problem is reported at once in a ScenarioError.

    Each line names the field path as written in the YAML (``network.isl.pattern``), the value
    given and what is allowed (pydantic lists the valid choices of a Literal).
    """
    try:
        return NetworkConfig.model_validate(data or {})
    except ValidationError as exc:
        lines = []
        first_path, first_value = path, None
        for i, err in enumerate(exc.errors()):
            loc = path
            for part in err["loc"]:
                loc += f"[{part}]" if isinstance(part, int) else f".{part}"
            value = err.get("input")
            if i == 0:
                first_path, first_value = loc, value
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{loc}: {msg} (got {value!r})")
        raise ScenarioError(
            "invalid network section:\n  " + "\n  ".join(lines), first_path, first_value
        ) from None


def delay_ms(value: object) -> float:
    """Milliseconds from a duration quantity such as ``"0.1 ms"`` (helper for CLIs and tests)."""
    return parse_quantity(value, "duration_s") * 1e3
