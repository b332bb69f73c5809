"""The scenario: what a user can change, as validated data.

A scenario is a YAML file (or a dict) with sections ``time``, ``constellation``, ``spacecraft``
and ``output``. Quantities accept friendly units (``550 km``, ``1 d``, ``10 s``, ``53 deg``,
``85 C``), parsed once into the unit the field's Python name carries (``altitude_km``). YAML keys
stay short (``altitude``); the Python attribute says the unit.

Every validation problem is reported at once, each line naming the field path as written in the
YAML (``constellation[0].altitude``), the value given and what is allowed, through
``ScenarioError``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from orbitgrid.economics.assumptions import EconomicsSection
from orbitgrid.errors import FieldError, InputFileError, ScenarioError, shorten
from orbitgrid.field_paths import (
    did_you_mean,
    list_names,
    literal_choices,
    locate,
    repeated_names,
    unit_of,
    valid_keys,
)
from orbitgrid.input_files import check_path_text
from orbitgrid.network.config import NetworkConfig
from orbitgrid.observation.config import ObservationConfig
from orbitgrid.spacecraft.accelerators import accelerator_catalog
from orbitgrid.units import (
    QUANTITY,
    AngleDeg,
    AreaM2,
    DurationS,
    EnergyWh,
    Fraction,
    FractionPerYear,
    HeatCapacityJK,
    LengthKm,
    PowerW,
    TemperatureK,
)
from orbitgrid.workloads.config import WorkloadsConfig
from orbitgrid.yaml_loader import load_yaml_file


class _Model(BaseModel):
    """Base for scenario sections: unknown keys are errors, YAML keys are the short aliases.

    Numbers must be finite (``allow_inf_nan=False``): an infinite limit or area turns every
    figure downstream into NaN rather than into an answer.
    """

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


# ---------------------------------------------------------------------------------------------
# physical and practical limits of every field (docs/security.md lists them)

# datetime64[ns], the engine's time type, spans 1677-09-21 … 2262-04-11; outside it times wrap
# silently (9999-12-31 became 1816). The window is narrower: the Sun and Earth-rotation models
# are fitted to the 20th and 21st centuries.
EARLIEST_START = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_END = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
# A step below 1 ms resolves nothing any stage models; datetime64[ns] needs whole ns anyway.
MIN_STEP_S = 1e-3
# Time steps of one run: beyond this the time grid alone (8 bytes a step) is gigabytes.
MAX_STEPS = 500_000_000
MAX_SATELLITES = 1_000_000
MAX_PLANES = 10_000
MAX_SATS_PER_PLANE = 10_000
MAX_SHELLS = 1000
MAX_DESIGNS = 1000
MAX_ACCELERATORS = 1_000_000
# Far above any spacecraft built or proposed (ISS arrays ≈ 2,500 m², 40 MW "Starcloud" ≈ 4 km²
# of arrays); they keep products of several fields finite.
MAX_AREA_M2 = 1e7
MAX_POWER_W = 1e11
MAX_ENERGY_WH = 1e12
MAX_HEAT_CAPACITY_J_K = 1e13
MAX_AGE_S = 100 * 365.25 * 86400.0
# Paths quoted in a message: long enough for a deep folder, short enough for one line.
PATH_CHARS = 160
# Name of the scenario: shown in tables and used (sanitised) for the run folder.
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000


def _guess(word: object, names: list[str]) -> str:
    """``" (did you mean 'node'?)"`` for a misspelt name, else ``""``."""
    guess = did_you_mean(word, names)
    return f" ({guess})" if guess else ""


def _plain_text(value: str) -> str:
    """Refuse control characters (a name is printed on terminals and in file names)."""
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        raise ValueError(f"{shorten(value)} holds a control character; use plain text")
    return value


# ---------------------------------------------------------------------------------------------
# time


class TimeGrid(_Model):
    """The simulated window: ``start`` (UTC), ``duration`` and ``step``."""

    start: dt.datetime = Field(description="UTC start, ISO 8601, e.g. 2026-03-20T00:00:00Z")
    duration_s: DurationS = Field(
        alias="duration", gt=0, le=200 * 365.25 * 86400.0, description="e.g. '1 d'"
    )
    step_s: DurationS = Field(alias="step", ge=MIN_STEP_S, description="e.g. '10 s'")

    @field_validator("start")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            value = value.astimezone(dt.UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past year 9999 in UTC
            value = dt.datetime.max.replace(tzinfo=dt.UTC)
        if not EARLIEST_START <= value < LATEST_END:
            raise ValueError(
                f"start {value.isoformat()} is outside the supported window "
                f"[{EARLIEST_START:%Y-%m-%d}, {LATEST_END:%Y-%m-%d})"
            )
        return value

    @model_validator(mode="after")
    def _whole_steps(self) -> TimeGrid:
        if self.step_s > self.duration_s:
            raise FieldError(
                ("step",),
                f"step ({self.step_s:g} s) is longer than duration ({self.duration_s:g} s); "
                "use a step no longer than the duration",
            )
        if abs(self.step_s * 1e9 - round(self.step_s * 1e9)) > 1e-3:
            raise FieldError(
                ("step",), f"step {self.step_s!r} s is not a whole number of nanoseconds"
            )
        end = self.start + dt.timedelta(seconds=self.duration_s)
        if end > LATEST_END:
            raise FieldError(
                ("duration",),
                f"the run ends {end:%Y-%m-%d}, after {LATEST_END:%Y-%m-%d}; shorten duration "
                "or start earlier",
            )
        if self.step_count > MAX_STEPS:
            raise FieldError(
                ("step",),
                f"duration / step = {self.step_count:,} time steps; at most {MAX_STEPS:,} "
                "(lengthen time.step or shorten time.duration)",
            )
        return self

    @property
    def step_count(self) -> int:
        """Number of time steps: the grid is start + k·step for k = 0 … count−1."""
        return math.floor(self.duration_s / self.step_s + 1e-9)


# ---------------------------------------------------------------------------------------------
# spacecraft


class SolarArray(_Model):
    """Photovoltaic array: area, beginning-of-life efficiency, degradation and pointing."""

    area_m2: AreaM2 = Field(alias="area", gt=0, le=MAX_AREA_M2)
    efficiency: Fraction = Field(gt=0, le=0.5, description="cell-to-bus efficiency at 1 AU")
    degradation_per_year: FractionPerYear = Field(
        alias="degradation", default=0.005, ge=0, lt=1, description="fractional loss per year"
    )
    pointing: Literal["sun-tracking", "zenith", "orbit-normal"] = "sun-tracking"


class Battery(_Model):
    """Battery: usable window set by the depth-of-discharge limit, round-trip efficiency."""

    capacity_wh: EnergyWh = Field(alias="capacity", gt=0, le=MAX_ENERGY_WH)
    depth_of_discharge: Fraction = Field(default=0.8, gt=0, le=1)
    round_trip_efficiency: Fraction = Field(default=0.92, gt=0, le=1)
    initial_state_of_charge: Fraction = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _initial_within_window(self) -> Battery:
        floor = 1.0 - self.depth_of_discharge
        if self.initial_state_of_charge < floor - 1e-12:
            raise FieldError(
                ("initial_state_of_charge",),
                f"initial_state_of_charge {self.initial_state_of_charge:g} is below the "
                f"depth-of-discharge floor {floor:g}; allowed is [{floor:g}, 1]",
            )
        return self


class Radiator(_Model):
    """Radiator panel, lumped with the electronics into one thermal node."""

    area_m2: AreaM2 = Field(
        alias="area", gt=0, le=MAX_AREA_M2, description="area of the panel (one face)"
    )
    sides: Literal[1, 2] = 2
    emissivity: Fraction = Field(default=0.92, gt=0, le=1)
    absorptivity: Fraction = Field(default=0.20, ge=0, le=1, description="solar absorptivity")
    heat_capacity_j_k: HeatCapacityJK = Field(
        alias="heat_capacity", default=2.0e5, gt=0, le=MAX_HEAT_CAPACITY_J_K
    )
    sun_view_factor: Fraction = Field(
        default=0.0,
        ge=0,
        le=1,
        description="projected fraction of one face lit by the Sun (0 = kept edge-on)",
    )
    initial_temperature_k: TemperatureK | None = Field(
        alias="initial_temperature", default=None, description="default: the limit minus 20 K"
    )


class Compute(_Model):
    """Accelerators on board: part (from the shipped catalog), count and thermal limit."""

    accelerator: str = Field(max_length=100)
    count: int = Field(ge=0, le=MAX_ACCELERATORS)
    host_overhead_fraction: Fraction = Field(
        default=0.0, ge=0, le=5, description="host CPU/memory/network power per accelerator W"
    )
    max_temperature_k: TemperatureK = Field(alias="max_temperature", default=358.15)

    @field_validator("accelerator")
    @classmethod
    def _known_part(cls, value: str) -> str:
        catalog = accelerator_catalog()
        if value not in catalog:
            raise ValueError(
                f"unknown accelerator {shorten(value)}{_guess(value, sorted(catalog))}; the "
                f"catalog has {', '.join(sorted(catalog))}"
            )
        return value


class Spacecraft(_Model):
    """One spacecraft design, referenced by name from the shells that use it."""

    solar_array: SolarArray
    battery: Battery
    radiator: Radiator
    bus_power_w: PowerW = Field(alias="bus_power", ge=0, le=MAX_POWER_W)
    compute: Compute
    age_at_start_s: DurationS = Field(alias="age_at_start", default=0.0, ge=0, le=MAX_AGE_S)

    @model_validator(mode="after")
    def _limit_above_start(self) -> Spacecraft:
        start = self.radiator.initial_temperature_k
        if start is not None and start > self.compute.max_temperature_k:
            raise FieldError(
                ("radiator", "initial_temperature"),
                f"radiator.initial_temperature ({start:.2f} K) is above compute.max_temperature "
                f"({self.compute.max_temperature_k:.2f} K); start at or below the limit",
            )
        return self


# ---------------------------------------------------------------------------------------------
# constellation


class _Shell(_Model):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    spacecraft: str = Field(
        max_length=MAX_NAME_CHARS, description="name of an entry in the spacecraft section"
    )


class WalkerShell(_Shell):
    """Walker constellation of circular orbits: ``planes`` × ``sats_per_plane``, phasing F.

    Delta pattern spreads the planes over 360° of RAAN, star over 180°. Satellite k of plane j
    sits at argument of latitude 360°·k/S + 360°·F·j/(P·S) at the start (Walker 1984).
    """

    type: Literal["walker"]
    altitude_km: LengthKm = Field(alias="altitude", gt=100, lt=50000)
    inclination_deg: AngleDeg = Field(alias="inclination", ge=0, le=180)
    planes: int = Field(ge=1, le=MAX_PLANES)
    sats_per_plane: int = Field(ge=1, le=MAX_SATS_PER_PLANE)
    phasing: int = Field(default=0, ge=0)
    pattern: Literal["delta", "star"] = "delta"
    raan_offset_deg: AngleDeg = Field(alias="raan_offset", default=0.0, ge=-360, le=360)

    @model_validator(mode="after")
    def _phasing_range(self) -> WalkerShell:
        if self.phasing >= self.planes:
            raise FieldError(
                ("phasing",),
                f"phasing F={self.phasing} must be in [0, planes-1] = [0, {self.planes - 1}]",
            )
        return self


class SunSynchronousShell(_Shell):
    """Sun-synchronous circular shell: inclination follows from altitude and J2.

    ``ltan`` is the local time of the ascending node of plane 0 (``"18:00"`` for dawn–dusk);
    further planes are spread evenly in RAAN.
    """

    type: Literal["sso"]
    altitude_km: LengthKm = Field(alias="altitude", gt=100, lt=6000)
    ltan_h: float = Field(alias="ltan", ge=0, lt=24, description="hours, or 'HH:MM'")
    planes: int = Field(default=1, ge=1, le=MAX_PLANES)
    sats_per_plane: int = Field(ge=1, le=MAX_SATS_PER_PLANE)
    phasing: int = Field(default=0, ge=0)

    @field_validator("ltan_h", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, str) and ":" in value and len(value) <= 16:
            hours, _, minutes = value.partition(":")
            try:
                return int(hours) + int(minutes) / 60.0
            except ValueError:
                raise ValueError(f"could not read {value!r} as a time of day HH:MM") from None
        return value

    @model_validator(mode="after")
    def _phasing_range(self) -> SunSynchronousShell:
        if self.phasing >= self.planes and self.planes > 1:
            raise FieldError(
                ("phasing",), f"phasing F={self.phasing} must be in [0, {self.planes - 1}]"
            )
        return self


class CatalogShell(_Shell):
    """Satellites from a local element file: TLE/3LE or CCSDS OMM (XML, KVN or JSON).

    Satellites are numbered in file order. ``file`` is relative to the scenario file. With
    ``planes`` and ``sats_per_plane`` the file is read as plane-major (as Hypatia writes its
    TLEs), which gives each satellite its plane and slot for ``+grid`` links; with
    ``planes: auto`` the shells, planes and slots are found from the elements at the scenario
    start (``network.grouping.group_catalog``), and satellites that fit none are reported.
    """

    type: Literal["tle", "omm"]
    file: Path
    planes: int | Literal["auto"] | None = Field(
        default=None, description="count with sats_per_plane (plane-major file), or 'auto'"
    )
    sats_per_plane: int | None = Field(default=None, ge=1, le=MAX_SATS_PER_PLANE)

    @field_validator("file", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return check_path_text(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _both_or_neither(self) -> CatalogShell:
        if self.planes == "auto":
            if self.sats_per_plane is not None:
                raise FieldError(
                    ("sats_per_plane",),
                    "planes: auto finds the planes from the elements; leave sats_per_plane out",
                )
        elif (self.planes is None) != (self.sats_per_plane is None):
            raise FieldError(
                ("planes" if self.planes is None else "sats_per_plane",),
                "give both planes and sats_per_plane (satellites in file order, plane-major), "
                "or planes: auto, or neither",
            )
        elif self.planes is not None and not 1 <= self.planes <= MAX_PLANES:
            raise FieldError(
                ("planes",), f"planes must be in [1, {MAX_PLANES:,}], got {shorten(self.planes)}"
            )
        return self


Shell = Annotated[WalkerShell | SunSynchronousShell | CatalogShell, Field(discriminator="type")]


# ---------------------------------------------------------------------------------------------
# output and engine


class Output(_Model):
    """What the run folder keeps of the time-resolved data."""

    dataset: bool = Field(default=True, description="write dataset.zarr (time × satellite)")
    every_s: DurationS | None = Field(
        alias="every", default=None, description="store every Nth step only; default every step"
    )


class EngineOptions(_Model):
    """How the engine walks the time grid (results do not depend on these)."""

    chunk_satellite_steps: int = Field(
        default=1_000_000,
        ge=1000,
        le=100_000_000,
        description="time steps per chunk × satellites (memory bound)",
    )


class Scenario(_Model):
    """A complete, validated scenario."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    time: TimeGrid
    constellation: list[Shell] = Field(min_length=1, max_length=MAX_SHELLS)
    spacecraft: dict[str, Spacecraft] = Field(min_length=1, max_length=MAX_DESIGNS)
    output: Output = Output()
    engine: EngineOptions = EngineOptions()
    economics: EconomicsSection | None = Field(
        default=None, description="cost of ownership vs a terrestrial data center, if present"
    )
    network: NetworkConfig | None = Field(
        default=None, description="ground endpoints, links and routing, if present"
    )
    workloads: WorkloadsConfig | None = Field(
        default=None, description="AI requests from users served on satellites and sites"
    )
    observation: ObservationConfig | None = Field(
        default=None, description="Earth-observation sensors, onboard processing, downlink"
    )
    seed: int = Field(default=0, ge=0, lt=2**63)
    # Folder that relative paths (element files) are resolved against; not part of the YAML.
    base_dir: Path = Field(default=Path("."), exclude=True)
    # Where the scenario was read from (a file, or "<dict>"), for error messages.
    _source: str = PrivateAttr(default="<dict>")

    @property
    def source(self) -> str:
        """The file the scenario was read from, or ``<dict>`` when built from a mapping."""
        return self._source

    def blame(self, error: ScenarioError) -> ScenarioError:
        """``error`` (found after the schema, e.g. while building the plan or the network)
        as the schema's errors read: the scenario file first, then the field path."""
        message = str(error)
        if message.startswith(f"{self._source}:"):
            return error
        if error.path and error.path not in message:
            message = f"{error.path}: {message}"
        return ScenarioError(f"{self._source}: {message}", error.path, error.value)

    @contextlib.contextmanager
    def blamed(self) -> Iterator[None]:
        """Re-raise the ``ScenarioError``s of the block through ``blame``."""
        try:
            yield
        except ScenarioError as error:
            raise self.blame(error) from None

    @field_validator("name")
    @classmethod
    def _name_text(cls, value: str) -> str:
        return _plain_text(value)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        designed = sum(
            shell.planes * shell.sats_per_plane
            for shell in self.constellation
            if not isinstance(shell, CatalogShell)
        )
        if designed > MAX_SATELLITES:
            raise FieldError(
                ("constellation",),
                f"the designed shells hold {designed:,} satellites; at most {MAX_SATELLITES:,} "
                "(reduce constellation[].planes or sats_per_plane)",
            )
        names = [shell.name for shell in self.constellation]
        duplicates = repeated_names(names)
        if duplicates:
            index = next(i for i, n in enumerate(names) if n in duplicates and names.index(n) < i)
            raise FieldError(
                ("constellation", index, "name"),
                f"shell names must be unique; repeated: {', '.join(duplicates)}",
            )
        designs = sorted(self.spacecraft)
        for i, shell in enumerate(self.constellation):
            if isinstance(shell, CatalogShell):
                self._check_element_file(i, shell)
            if shell.spacecraft not in self.spacecraft:
                raise FieldError(
                    ("constellation", i, "spacecraft"),
                    f"shell {shell.name!r} uses spacecraft {shorten(shell.spacecraft)}, which is "
                    f"not defined{_guess(shell.spacecraft, designs)}; defined: "
                    f"{list_names(designs)}",
                )
        if self.workloads is not None:
            if self.network is None:
                raise FieldError(
                    ("workloads",),
                    "workloads need a network: section (the links users reach sites over); "
                    "add network: {} for the defaults",
                )
            for i, site in enumerate(self.workloads.sites):
                if site.shell is not None and site.shell not in names:
                    raise FieldError(
                        ("workloads", "sites", i, "shell"),
                        f"no constellation shell {shorten(site.shell)}"
                        f"{_guess(site.shell, names)}; shells: {list_names(names)}",
                    )
        if self.observation is not None:
            self._check_observation(names)
        every = self.output.every_s
        if every is not None:
            if every > self.time.duration_s:
                raise FieldError(
                    ("output", "every"),
                    f"output.every ({every:g} s) is longer than time.duration "
                    f"({self.time.duration_s:g} s)",
                )
            ratio = every / self.time.step_s
            if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-6:
                raise FieldError(
                    ("output", "every"),
                    f"output.every ({every:g} s) must be a whole multiple of time.step "
                    f"({self.time.step_s:g} s)",
                )
        return self

    def _check_element_file(self, index: int, shell: CatalogShell) -> None:
        """A missing element file is reported at load (``validate``), saying where relative
        paths are looked for. Only existence is checked here (a stat, which never blocks);
        the kind, size and format of the file are checked when it is read
        (``plan._load_elements``)."""
        path = self.resolve(shell.file)
        if not path.exists():
            where = (
                ""
                if shell.file.is_absolute()
                else f"; a relative path is read from the scenario file's folder "
                f"({shorten(str(self.base_dir.absolute()), PATH_CHARS)}), not the current "
                "directory"
            )
            raise FieldError(
                ("constellation", index, "file"),
                f"element file {shorten(str(shell.file), PATH_CHARS)} not found (looked for "
                f"{shorten(str(path.absolute()), PATH_CHARS)}){where}",
            )

    def _check_observation(self, names: list[str]) -> None:
        """The observation section's references: sensor shells and ground stations."""
        if self.network is None:
            raise FieldError(
                ("observation",),
                "observation needs a network: section whose endpoints are the ground "
                "stations that receive the data",
            )
        for i, sensor in enumerate(self.observation.sensors):
            if sensor.shell not in names:
                raise FieldError(
                    ("observation", "sensors", i, "shell"),
                    f"no constellation shell {shorten(sensor.shell)}"
                    f"{_guess(sensor.shell, names)}; shells: {list_names(names)}",
                )
        wanted = self.observation.ground_stations
        inline = [e.name for e in self.network.endpoints]
        if wanted is not None and not self.network.endpoint_files:
            unknown = [n for n in wanted if n not in inline]
            if unknown:
                raise FieldError(
                    ("observation", "ground_stations", wanted.index(unknown[0])),
                    f"{', '.join(shorten(n) for n in unknown)} is not a network endpoint"
                    f"{_guess(unknown[0], inline)}; endpoints: {list_names(inline)}",
                )

    @property
    def output_stride(self) -> int:
        """Store every ``output_stride``-th time step."""
        if self.output.every_s is None:
            return 1
        return round(self.output.every_s / self.time.step_s)

    @property
    def stored_stride(self) -> int:
        """``output_stride``, or 0 when no dataset is kept (stages then store no step)."""
        return self.output_stride if self.output.dataset else 0

    def resolve(self, path: Path) -> Path:
        """A path from the scenario, resolved against the scenario's folder."""
        return path if path.is_absolute() else self.base_dir / path

    def __repr__(self) -> str:
        shells = ", ".join(shell.name for shell in self.constellation)
        return (
            f"<Scenario {self.name!r}: {len(self.constellation)} shell(s) [{shells}], "
            f"{self.time.step_count} steps of {self.time.step_s:g} s>"
        )


# ---------------------------------------------------------------------------------------------
# loading


_MISSING = object()
_TAGS = ("walker", "sso", "tle", "omm")


def _raw_value(data: Any, loc: tuple[Any, ...], fallback: Any) -> Any:
    """The value as the user wrote it (before unit parsing), found by walking ``loc``."""
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif part in _TAGS:
            continue
        else:
            return fallback
    return node


# At most this many problems are listed; a fuzzed file can have thousands.
MAX_LISTED_PROBLEMS = 20
# A message of a validator may quote a value; no line of the report grows past this.
MAX_LINE_CHARS = 400
# pydantic's numeric limits, in the words of a message.
_LIMITS = {
    "greater_than": ("greater than", "gt"),
    "greater_than_equal": ("greater than or equal to", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("less than or equal to", "le"),
}


def _hint(item: dict[str, Any], given: Any) -> str:
    """Advice for mistakes that YAML makes easy and pydantic's wording does not explain."""
    if item["type"] == "string_type" and isinstance(given, bool):
        return (
            "; YAML reads an unquoted true/false as a boolean: quote the text "
            f"('{str(given).lower()}')"
        )
    if item["type"] == "string_type" and isinstance(given, int | float):
        return "; quote it to give text"
    return ""


def _number_text(value: float) -> str:
    """A number as a person writes it: integers in full, others to ten significant digits."""
    if isinstance(value, int):
        return shorten(value)
    return f"{value:.10g}"


def _quantity_text(given: Any, parsed: Any, unit: str) -> str:
    """A value as written, without quotes when it is a quantity ("55000 km"), and in the
    field's unit when written in another ("55000000 m = 55000 km")."""
    suffix = f" {unit}" if unit else ""
    if isinstance(given, bool) or not isinstance(given, int | float | str):
        return shorten(given)
    if isinstance(given, int | float):
        return f"{_number_text(given)}{suffix}"
    match = QUANTITY.match(given)
    if match is None:
        return shorten(given)
    text = given.strip()
    if isinstance(parsed, int | float) and not isinstance(parsed, bool):
        written = float(match.group(1))
        if match.group(2) != unit.replace("²", "2") or written != parsed:
            text += f" = {_number_text(parsed)}{suffix}"
    return text


def _describe(item: dict[str, Any], data: Any) -> tuple[str, str, Any]:
    """One problem as ``(YAML path, text, value as written)``."""
    loc = tuple(item["loc"])
    error = (item.get("ctx") or {}).get("error")
    blamed = isinstance(error, FieldError)
    if blamed:
        loc += error.field  # a cross-reference check names the field it is about
    at = locate(Scenario, loc)
    given = item.get("input") if data is _MISSING else _raw_value(data, loc, item.get("input"))
    if blamed and data is _MISSING:
        given = None
    kind = item["type"]
    message = item["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return at.path, "required field is missing", given
    if kind == "extra_forbidden":
        keys = valid_keys(at.parent) if at.parent is not None else []
        guess = did_you_mean(loc[-1], keys)
        return (
            at.path,
            f"unknown field{f'; {guess}' if guess else ''} (valid keys here: "
            f"{list_names(keys)}; see docs/scenario.md)",
            given,
        )
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = item["input"].get("type") if isinstance(item["input"], dict) else None
        if kind == "union_tag_not_found":
            return at.path, "each shell needs a 'type': one of 'walker', 'sso', 'tle', 'omm'", tag
        guess = did_you_mean(tag, _TAGS)
        return (
            at.path,
            f"unknown shell type {shorten(tag)}; allowed: 'walker', 'sso', 'tle', 'omm'"
            + (f"; {guess}" if guess else ""),
            tag,
        )
    if kind in _LIMITS:
        words, key = _LIMITS[kind]
        unit = unit_of(at.name)
        bound = (item.get("ctx") or {}).get(key)
        limit = _number_text(bound) if isinstance(bound, int | float) else str(bound)
        return (
            at.path,
            f"must be {words} {limit}{f' {unit}' if unit else ''} "
            f"(got {_quantity_text(given, item.get('input'), unit)})",
            given,
        )
    if kind == "literal_error":
        guess = did_you_mean(given, literal_choices(at.annotation))
        return (
            at.path,
            f"{message} (got {shorten(given)})" + (f"; {guess}" if guess else ""),
            given,
        )
    if blamed or isinstance(given, dict | list):
        # The message names the value itself; quoting a whole mapping helps no one.
        return at.path, message, given
    return at.path, f"{message} (got {shorten(given)}){_hint(item, given)}", given


def _format_errors(error: ValidationError, source: str, data: Any = _MISSING) -> ScenarioError:
    lines = []
    first_path, first_value = "", None
    items = error.errors(include_url=False)
    for item in items[:MAX_LISTED_PROBLEMS]:
        path, text, given = _describe(item, data)
        text = f"{path}: {text}"
        if not first_path:
            first_path, first_value = path, given
        if len(text) > MAX_LINE_CHARS:
            text = text[: MAX_LINE_CHARS - 1] + "…"
        lines.append(f"  - {text}")
    if len(items) > MAX_LISTED_PROBLEMS:
        lines.append(f"  … and {len(items) - MAX_LISTED_PROBLEMS} more")
    count = len(items)
    header = f"{source}: {count} problem{'s' if count > 1 else ''} in the scenario:"
    return ScenarioError("\n".join([header, *lines]), path=first_path, value=first_value)


def scenario_from_dict(data: dict[str, Any], base_dir: Path | str = ".", source: str = "<dict>"):
    """Validate a scenario given as a dict (as read from YAML) and return a ``Scenario``."""
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: a scenario is a mapping of sections (time, constellation, spacecraft, "
            f"...), got {type(data).__name__}"
        )
    try:
        scenario = Scenario.model_validate({**data, "base_dir": Path(base_dir)})
    except ValidationError as error:
        raise _format_errors(error, source, data) from None
    scenario._source = source
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario from a YAML file, or a shipped scenario by name.

    A name without a path (``starlink-shell1-edge``) is looked up among the shipped scenarios
    (``orbitgrid scenarios`` lists them).
    """
    from orbitgrid.scenarios import shipped_scenario_path

    try:
        check_path_text(str(path))
    except ValueError as error:
        raise ScenarioError(f"scenario: {error}", path="scenario", value=str(path)) from None
    file = Path(path)
    try:
        exists = file.exists()
    except OSError:  # a name the file system refuses (too long, …) names no file
        exists = False
    if not exists:
        shipped = shipped_scenario_path(str(path))
        if shipped is None:
            from orbitgrid.scenarios import shipped_scenarios

            names = ", ".join(shipped_scenarios())
            raise ScenarioError(
                f"scenario {shorten(str(path))} not found: no such file, and no shipped "
                f"scenario of that name (shipped: {names})",
                path="scenario",
                value=str(path),
            )
        file = shipped
    try:
        data = load_yaml_file(file)
    except InputFileError as error:
        raise ScenarioError(str(error), path="scenario", value=str(path)) from None
    return scenario_from_dict(data, base_dir=file.parent, source=str(file))
