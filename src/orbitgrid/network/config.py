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
        random: {satellites_down_fraction: 1 %, seed: 7,
                 satellites: {mtbf: 30 days, mttr: 6 h}}
"""

from __future__ import annotations

import math
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

from orbitgrid.errors import ScenarioError, shorten
from orbitgrid.units import (
    QUANTITY,
    AngleDeg,
    DurationS,
    Fraction,
    LengthKm,
    TemperatureK,
    parse_quantity,
)

EndpointKind = Literal["ground_station", "gateway", "user_terminal", "data_center"]
IslPattern = Literal["+grid", "none", "formation"]
RoutingMode = Literal["isls-only", "ground-relays"]
GslSelection = Literal["any-in-view", "nearest"]
RoutingBackend = Literal["numba", "scipy"]
FailureElement = Literal["satellite", "isl", "endpoint"]
PathLogFormat = Literal["parquet", "csv", "csv.gz", "none"]
TablesFormat = Literal["parquet", "csv"]

# Data rates: bits per second inside; decimal SI prefixes as used for link rates.
_RATE_FACTORS = {"bps": 1.0, "kbps": 1e3, "Mbps": 1e6, "Gbps": 1e9, "Tbps": 1e12}
# The quantity grammar of orbitgrid.units, bounded in length (a long digit string made the
# older pattern backtrack for minutes).
_RATE = QUANTITY

# Endpoint lists shipped in ``orbitgrid/data``, by the name a scenario gives after "builtin:".
BUILTIN_ENDPOINT_FILES = {
    "cities_top100": "cities_top100.csv",
    "ground_gateways": "ground_gateways.csv",
}


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
    subdivision (``US-CA``), kept for policy stages. ``antennas``: dishes that can each track
    one satellite for a whole pass (``network.antennas``; used by store-and-forward delivery,
    docs/cgr.md "Ground-station antennas"); left out = unlimited (every visible pass).
    """

    name: str = Field(min_length=1, pattern=r"^[^,\n]+$")
    kind: EndpointKind = "user_terminal"
    latitude_deg: AngleDeg = Field(alias="latitude", ge=-90, le=90)
    longitude_deg: AngleDeg = Field(alias="longitude", ge=-180, le=360)
    altitude_km: LengthKm = Field(alias="altitude", default=0.0, ge=-0.5, le=100)
    min_elevation_deg: AngleDeg | None = Field(alias="min_elevation", default=None, ge=0, lt=90)
    max_range_km: LengthKm | None = Field(alias="max_range", default=None, gt=0)
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    antennas: int | None = Field(default=None, ge=0, le=1000)


class InterShellConfig(_NetModel):
    """Laser links between shells (``isl.inter_shell``): at each step every satellite of the
    ``shells`` listed links to its ``terminals`` nearest satellites of other shells within
    ``max_range`` (line of sight above the atmosphere assumed within that range), at ``rate``.
    E.g. a dawn–dusk compute cluster reaching a broadband shell below it."""

    shells: list[str] = Field(min_length=1, max_length=1000)
    terminals: int = Field(default=2, ge=1, le=16)
    max_range_km: LengthKm = Field(alias="max_range", default=5000.0, gt=0, le=100_000)
    rate_bps: RateBps = Field(alias="rate", default=10e9)


class IslConfig(_NetModel):
    """Inter-satellite links.

    ``+grid``: Hypatia's four links per satellite (next in plane, same slot + ``isl_shift`` in
    the next plane); ``formation``: every pair within ``max_range`` at each step; ``none``.
    ``inter_shell``: dynamic links between shells besides those (``InterShellConfig``).
    """

    pattern: IslPattern = "+grid"
    isl_shift: int = Field(default=0, ge=0)
    max_range_km: LengthKm = Field(alias="max_range", default=5016.591, gt=0)
    rate_bps: RateBps = Field(alias="rate", default=100e9)
    per_hop_delay_s: DelayS = Field(alias="per_hop_delay", default=0.0, ge=0, le=1)
    inter_shell: InterShellConfig | None = None


# --- GSL link budget (``gsl.link_budget``) --------------------------------------------------
# Units of the link-budget fields: a bare number is in the field's own unit (the attribute name
# says which); a string carries its unit ("11.7 GHz", "250 MHz", "33.7 dBW", "0.5 m").
LinkBudgetKind = Literal["rf", "optical"]
GslRateFormula = Literal["dvb-s2", "shannon"]
AtmosphereModel = Literal["itu-r-p618", "none"]

_FREQUENCY_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


def _split_quantity(
    value: object, what: str, example: str, units: dict[str, float]
) -> tuple[float, str]:
    """``(number, unit)`` from a bare number (unit ``""``) or ``"<number> <unit>"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number, unit = float(value), ""
    elif isinstance(value, str):
        match = _RATE.match(value)
        if match is None or match.group(2) not in units:
            raise ValueError(
                f"could not read {value!r} as a {what}; write e.g. {example!r} "
                f"(units: {', '.join(units)})"
            )
        number, unit = float(match.group(1)), match.group(2)
    else:
        raise ValueError(f"expected a {what} such as {example!r}, got {value!r}")
    if not math.isfinite(number):
        raise ValueError(f"{what} {value!r} must be a finite number")
    return number, unit


def _frequency_in(inside_unit: str) -> BeforeValidator:
    """Frequencies and bandwidths: Hz, kHz, MHz, GHz, converted to ``inside_unit``."""

    def parse(value: object) -> float:
        number, unit = _split_quantity(value, "frequency", f"12 {inside_unit}", _FREQUENCY_HZ)
        return number if unit == "" else number * _FREQUENCY_HZ[unit] / _FREQUENCY_HZ[inside_unit]

    return BeforeValidator(parse)


def _decibels_in(inside_unit: str, offsets_db: dict[str, float]) -> BeforeValidator:
    """Decibel quantities; ``offsets_db`` converts other references (dBm = dBW + 30)."""

    def parse(value: object) -> float:
        number, unit = _split_quantity(value, "level in decibels", f"3 {inside_unit}", offsets_db)
        return number + offsets_db.get(unit, 0.0)

    return BeforeValidator(parse)


def _parse_length_m(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return parse_quantity(value, "length_km") * 1e3


FrequencyGhz = Annotated[float, _frequency_in("GHz")]
BandwidthHz = Annotated[float, _frequency_in("Hz")]
DecibelW = Annotated[float, _decibels_in("dBW", {"dBW": 0.0, "dBm": -30.0})]
DecibelI = Annotated[float, _decibels_in("dBi", {"dBi": 0.0})]
Decibel = Annotated[float, _decibels_in("dB", {"dB": 0.0})]
LengthM = Annotated[float, BeforeValidator(_parse_length_m)]
Availability = Annotated[Fraction, Field(ge=0, le=1)]

_RF_FIELDS = (
    "frequency_ghz",
    "bandwidth_hz",
    "eirp_dbw",
    "receive_antenna_diameter_m",
    "receive_antenna_efficiency",
    "receive_gain_dbi",
    "system_temperature_k",
    "other_losses_db",
    "rate_model",
    "margin_db",
    "shannon_efficiency",
    "atmosphere",
    "exceedance_fraction",
)
_OPTICAL_FIELDS = ("nominal_rate_bps", "availability", "endpoint_availability")


class GslLinkBudget(_NetModel):
    """Link budget giving each GSL a rate from its slant range, elevation and endpoint site.

    ``kind: rf`` (satellite-to-user downlink, the direction that limits a user link):
    C/N = EIRP + G_rx − FSPL(range) − A_atm(endpoint, elevation) − other losses − kTB
    (``orbitgrid.network.link_budget``); the rate is the best DVB-S2 modcod closing with
    ``margin`` (ETSI EN 302 307-1 Table 13) or ``shannon_efficiency`` × B log2(1 + C/N).
    ``A_atm`` is ITU-R P.618 (gas, rain, cloud, scintillation) exceeded ``exceedance`` of the
    time at the endpoint, or 0 with ``atmosphere: none``.

    Defaults: a Ku-band LEO user downlink. 11.7 GHz is the centre of the 10.7–12.7 GHz user
    downlink band of SpaceX's FCC filings (SAT-LOA-20161115-00118) and 250 MHz a channel of it;
    33.7 dBW in 250 MHz is the largest constant EIRP (rounded down) that keeps a satellite at
    550 km within the 47 CFR §25.208(b) NGSO power-flux-density limit in 10.7–11.7 GHz
    (−116 dB(W/m²) in any 1 MHz at 25–90° elevation, −126 to −116 below): the limit binds
    overhead, where the range is shortest, with ≥ 2 dB to spare at every elevation below 25°.
    The terminal (0.5 m aperture, 60 % efficiency, 150 K system noise temperature, 1 dB other
    losses) is an assumption of a consumer-sized terminal, not a published figure.
    ``kind: optical``: ``nominal_rate`` × cloud-free availability of the endpoint (an input;
    orbitgrid ships no cloud climatology).
    """

    kind: LinkBudgetKind = "rf"
    frequency_ghz: FrequencyGhz = Field(alias="frequency", default=11.7, gt=0)
    bandwidth_hz: BandwidthHz = Field(alias="bandwidth", default=250e6, gt=0)
    eirp_dbw: DecibelW = Field(alias="eirp", default=33.7)
    receive_antenna_diameter_m: LengthM = Field(
        alias="receive_antenna_diameter", default=0.5, gt=0, le=100
    )
    receive_antenna_efficiency: Fraction = Field(default=0.6, gt=0, le=1)
    receive_gain_dbi: DecibelI | None = Field(alias="receive_gain", default=None)
    system_temperature_k: TemperatureK = Field(alias="system_temperature", default=150.0)
    other_losses_db: Decibel = Field(alias="other_losses", default=1.0, ge=0)
    rate_model: GslRateFormula = "dvb-s2"
    margin_db: Decibel = Field(alias="margin", default=1.0, ge=0)
    shannon_efficiency: Fraction = Field(default=0.75, gt=0, le=1)
    atmosphere: AtmosphereModel = "itu-r-p618"
    exceedance_fraction: Fraction = Field(alias="exceedance", default=0.01)
    nominal_rate_bps: RateBps | None = Field(alias="nominal_rate", default=None, gt=0)
    availability: Availability = 1.0
    endpoint_availability: dict[str, Availability] = Field(default_factory=dict)

    @field_validator("exceedance_fraction")
    @classmethod
    def _p618_range(cls, value: float) -> float:
        # ITU-R P.618-13 §2.2.1.1: the rain attenuation method holds for 0.001 % to 5 %.
        if not 1e-5 <= value <= 0.05:
            raise ValueError(
                f"must be between 0.001 % and 5 % of the time, the range of ITU-R P.618 "
                f"(read {value * 100:g} %)"
            )
        return value

    @model_validator(mode="after")
    def _fields_match_kind(self) -> GslLinkBudget:
        other = _OPTICAL_FIELDS if self.kind == "rf" else _RF_FIELDS
        given = [name for name in other if name in self.model_fields_set]
        if given:
            keys = ", ".join(repr(type(self).model_fields[n].alias or n) for n in given)
            other_kind = "optical" if self.kind == "rf" else "rf"
            raise ValueError(
                f"{keys}: only for kind {other_kind!r}, and this budget is kind {self.kind!r}"
            )
        if self.kind == "optical" and self.nominal_rate_bps is None:
            raise ValueError("kind 'optical' needs 'nominal_rate', e.g. '10 Gbps'")
        p618 = self.kind == "rf" and self.atmosphere == "itu-r-p618"
        if p618 and not 1.0 <= self.frequency_ghz <= 55.0:
            raise ValueError(
                f"ITU-R P.618 (atmosphere: itu-r-p618) covers 1–55 GHz, not "
                f"{self.frequency_ghz:g} GHz; use atmosphere: none outside it"
            )
        return self


class GslConfig(_NetModel):
    """Ground–satellite links: defaults for endpoints that give no limit, and selection.

    ``any-in-view``: an endpoint may use any visible satellite (routing picks); ``nearest``:
    only the closest visible satellite. Default limits are Hypatia's Starlink values
    (25° elevation; 1,089,686 m slant range). Rate of each link: ``rate`` for all, or from
    ``link_budget`` when given (``orbitgrid.network.link_rates.GslRateModel``).
    """

    selection: GslSelection = "any-in-view"
    min_elevation_deg: AngleDeg = Field(alias="min_elevation", default=25.0, ge=0, lt=90)
    max_range_km: LengthKm | None = Field(alias="max_range", default=None, gt=0)
    rate_bps: RateBps = Field(alias="rate", default=1e9)
    link_budget: GslLinkBudget | None = None


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


class RepairProcess(_NetModel):
    """Failures and repairs of one element type: mean time between failures (mean up time)
    and mean time to repair (mean down time). Each element alternates exponential up and down
    times, independently of the others (``orbitgrid.network.failures.FailureProcess``)."""

    mtbf_s: DurationS = Field(alias="mtbf")
    mttr_s: DurationS = Field(alias="mttr")

    @field_validator("mtbf_s", "mttr_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(
                f"must be a duration > 0 such as '30 days' or '6 h' (read {value:g} s)"
            )
        return value


class RandomFailures(_NetModel):
    """Random failures, deterministic for a ``seed``.

    ``*_down_fraction``: that fraction of the elements, drawn once, is down for the whole run.
    ``satellites`` / ``isls`` / ``endpoints`` with ``{mtbf, mttr}``: every element of the type
    fails and is repaired during the run (an alternating renewal process; an element is down
    when either applies).
    """

    satellites_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    isls_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    endpoints_down_fraction: Fraction = Field(default=0.0, ge=0, le=1)
    satellites: RepairProcess | None = None
    isls: RepairProcess | None = None
    endpoints: RepairProcess | None = None
    seed: int = Field(default=0, ge=0)


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
    tables: TablesFormat = Field(
        default="parquet",
        description="network tables (paths, contacts, network_pairs) as zstd Parquet or CSV",
    )
    path_log: PathLogFormat | None = Field(
        default=None,
        description="the path log's own format when it should differ from tables: parquet, "
        "csv, gzip-compressed csv.gz, or none (no log); unset: as tables",
    )

    @field_validator("endpoint_files")
    @classmethod
    def _builtin_known(cls, files: list[str]) -> list[str]:
        from orbitgrid.input_files import check_path_text

        if len(files) > 1000:
            raise ValueError(f"{len(files):,} endpoint files; at most 1,000")
        for f in files:
            check_path_text(f)  # NUL or control characters: no file has that name
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

    @property
    def path_log_format(self) -> PathLogFormat:
        """The path log's format: ``path_log`` when set, else ``tables``."""
        return self.path_log if self.path_log is not None else self.tables

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
            # A model-level problem has the whole mapping as its input: do not quote it.
            got = "" if isinstance(value, dict | list) else f" (got {shorten(value)})"
            lines.append(f"{loc}: {msg}{got}")
        raise ScenarioError(
            "invalid network section:\n  " + "\n  ".join(lines), first_path, first_value
        ) from None


def delay_ms(value: object) -> float:
    """Milliseconds from a duration quantity such as ``"0.1 ms"`` (helper for CLIs and tests)."""
    return parse_quantity(value, "duration_s") * 1e3
