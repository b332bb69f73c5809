"""Schema of the scenario's ``observation:`` section: Earth-observation sensors per shell,
onboard processing, onboard storage and the strategies compared in one run (pydantic v2).

YAML keys are short (``swath``, ``gsd``); Python attributes carry the unit (``swath_km``,
``ground_sample_distance_km``). Unknown keys are errors; numbers are finite; every field has
a physical or practical limit. Cross-references (a sensor's shell, the ground stations) are
checked by ``Scenario`` where the names are known.

Example::

    observation:
      sensors:
        - {shell: flock, swath: 24 km, gsd: 3.7 m, bits_per_pixel: 12, bands: 4,
           compression: 2, land_only: true, min_sun_elevation: 10 deg}
      processing: {flops_per_tile: 3.4e12, utilisation: 0.3, result_size: 20 kB,
                   keep: 0.5, discard_cloudy: true}
      storage: {capacity: 64 GB, policy: drop-oldest}
      strategies: [raw, filter, infer, hybrid]
      relays:                       # optional GEO data relays (EDRS-like)
        - {name: EDRS-A, longitude: 9 deg, ground_station: Redu, rate: 1.8 Gbps}
      station_target: {latency: 1 h, percentile: 95}   # optional: stations needed
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from orbitgrid.field_paths import repeated_names
from orbitgrid.network.config import RateBps
from orbitgrid.units import AngleDeg, DurationS, Fraction, LengthKm, SizeBytes

Strategy = Literal["raw", "filter", "infer", "hybrid"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
StoragePolicy = Literal["drop-oldest", "drop-lowest-priority"]

# Limits: far beyond any EO payload flown or proposed; they keep products of fields finite.
MAX_SWATH_KM = 5000.0  # wide-field imagers (MODIS 2330 km) fit
MAX_TILE_BYTES = 1e12
MAX_FLOPS_PER_TILE = 1e18
MAX_STORAGE_BYTES = 1e15
MAX_REGIONS = 1000
MAX_SENSORS = 100
MAX_RELAYS = 100
# A GEO laser terminal reaches a LEO user out to ~45,000 km (EDRS LCT: Böhmer et al., Proc.
# SPIE 8246, 2012: 1.8 Gbit/s LEO–GEO over up to 45,000 km).
EDRS_LCT_RANGE_KM = 45_000.0
EDRS_LCT_RATE_BPS = 1.8e9


class _OModel(BaseModel):
    """Base: unknown keys are errors; YAML keys are the short aliases; numbers are finite."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


def _plain_name(value: str) -> str:
    if "," in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a name is plain text without commas or control characters")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain_name)]


class Region(_OModel):
    """A region of interest: a latitude/longitude box and its priority (higher is kept first
    when storage is full under ``drop-lowest-priority``). ``west`` > ``east`` crosses the
    antimeridian."""

    name: Name
    south_deg: AngleDeg = Field(alias="south", ge=-90, le=90)
    north_deg: AngleDeg = Field(alias="north", ge=-90, le=90)
    west_deg: AngleDeg = Field(alias="west", ge=-180, le=180)
    east_deg: AngleDeg = Field(alias="east", ge=-180, le=180)
    priority: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> Region:
        if self.south_deg >= self.north_deg:
            raise ValueError(
                f"south ({self.south_deg:g}°) must be below north ({self.north_deg:g}°)"
            )
        return self


class Sensor(_OModel):
    """An imager on every satellite of constellation shell ``shell``.

    A tile is ``swath`` wide and ``tile_length`` long (default: square); its size is
    (swath / gsd) × (tile_length / gsd) pixels × ``bands`` × ``bits_per_pixel`` / 8 /
    ``compression`` bytes. The sensor images a fraction ``duty_cycle`` of the time, only with
    the Sun at least ``min_sun_elevation`` above the horizon at the sub-satellite point, only
    over land when ``land_only`` (the captured area is scaled by the cell's land fraction),
    and only inside ``regions`` when any are given (the tile's priority is the highest of the
    regions holding it; 1 without regions).
    """

    shell: str = Field(min_length=1, max_length=100)
    swath_km: LengthKm = Field(alias="swath", gt=0, le=MAX_SWATH_KM)
    ground_sample_distance_km: LengthKm = Field(alias="gsd", gt=0, le=10.0)
    bits_per_pixel: int = Field(default=12, ge=1, le=64)
    bands: int = Field(default=4, ge=1, le=1000)
    compression: float = Field(default=1.0, ge=1, le=1000, description="ratio, ≥ 1")
    tile_length_km: LengthKm | None = Field(alias="tile_length", default=None, gt=0, le=5000)
    duty_cycle: Fraction = Field(default=1.0, gt=0, le=1)
    min_sun_elevation_deg: AngleDeg = Field(alias="min_sun_elevation", default=10.0, ge=-90, le=90)
    land_only: bool = True
    regions: list[Region] = Field(default_factory=list, max_length=MAX_REGIONS)

    @property
    def tile_along_km(self) -> float:
        return self.swath_km if self.tile_length_km is None else self.tile_length_km

    @property
    def tile_area_km2(self) -> float:
        return self.swath_km * self.tile_along_km

    @property
    def tile_bytes(self) -> float:
        """Bytes of one compressed tile (class docstring)."""
        pixels = (self.swath_km / self.ground_sample_distance_km) * (
            self.tile_along_km / self.ground_sample_distance_km
        )
        return pixels * self.bands * self.bits_per_pixel / 8.0 / self.compression

    @model_validator(mode="after")
    def _tile_size(self) -> Sensor:
        if self.tile_bytes > MAX_TILE_BYTES:
            raise ValueError(
                f"one tile would hold {self.tile_bytes:.3g} bytes; at most {MAX_TILE_BYTES:g} "
                "(shorten tile_length or raise gsd)"
            )
        if self.tile_bytes < 1.0:
            raise ValueError(f"one tile would hold {self.tile_bytes:.3g} bytes; at least 1")
        return self


class Processing(_OModel):
    """Onboard processing on the spacecraft's own accelerators (``spacecraft.<design>.compute``,
    from the catalog): each tile costs ``flops_per_tile`` at ``utilisation`` of the dense
    throughput delivered at that step (``compute_fraction``: eclipse, heat, battery limits).

    ``infer``/``hybrid`` send ``result_size`` bytes per tile (detections, masks, embeddings).
    ``filter`` keeps a tile with probability ``keep``, times the chance that it is clear when
    ``discard_cloudy`` (1 − the cloud fraction at its location), and sends the kept tiles raw.
    """

    flops_per_tile: float = Field(gt=0, le=MAX_FLOPS_PER_TILE, description="FLOP per tile")
    utilisation: Fraction = Field(default=0.3, gt=0, le=1)
    result_size_bytes: SizeBytes = Field(alias="result_size", default=20e3, gt=0, le=1e12)
    keep: Fraction = Field(default=1.0, ge=0, le=1)
    discard_cloudy: bool = True


class Storage(_OModel):
    """Onboard storage per satellite: ``capacity`` bytes; when a new item does not fit,
    ``drop-oldest`` evicts the oldest items, ``drop-lowest-priority`` the lowest-priority ones
    (oldest first among equals; a new item below everything stored is itself dropped)."""

    capacity_bytes: SizeBytes = Field(alias="capacity", gt=0, le=MAX_STORAGE_BYTES)
    policy: StoragePolicy = "drop-oldest"


class Relay(_OModel):
    """A geostationary data-relay satellite (EDRS-like, docs/observation.md "GEO relay").

    Sits at ``longitude`` on the geostationary ring (42,164 km from the Earth's centre, fixed
    in the Earth frame). A satellite reaches it by laser at ``rate`` while the line of sight
    clears the Earth by ``grazing_altitude`` and the range is ≤ ``max_range``; it has
    ``terminals`` laser terminals (each serves one satellite for a whole visibility window).
    It forwards to ``ground_station`` (a ``network`` endpoint that must see it above its
    elevation mask) over a feeder link of ``feeder_rate``, available all the time.
    Defaults: the EDRS laser terminal (1.8 Gbit/s to 45,000 km; Böhmer et al., SPIE 8246).
    """

    name: Name
    longitude_deg: AngleDeg = Field(alias="longitude", ge=-180, le=360)
    ground_station: str = Field(min_length=1, max_length=200)
    rate_bps: RateBps = Field(alias="rate", default=EDRS_LCT_RATE_BPS)
    feeder_rate_bps: RateBps = Field(alias="feeder_rate", default=EDRS_LCT_RATE_BPS)
    max_range_km: LengthKm = Field(alias="max_range", default=EDRS_LCT_RANGE_KM, gt=0,
                                   le=200_000)  # fmt: skip
    grazing_altitude_km: LengthKm = Field(alias="grazing_altitude", default=80.0, ge=0, le=1000)
    terminals: int = Field(default=1, ge=1, le=100)


class StationTarget(_OModel):
    """Ask for the number of ground stations needed so that the ``percentile`` of
    capture-to-ground latency (every bundle made; one not delivered counts as infinitely late)
    is ≤ ``latency`` (docs/observation.md "Ground stations needed")."""

    latency_s: DurationS = Field(alias="latency", gt=0)
    percentile: float = Field(default=95.0, gt=0, le=100)


class ObservationConfig(_OModel):
    """The ``observation:`` section (module docstring).

    ``ground_stations``: names of ``network`` endpoints that receive data (default: every
    endpoint of kind ``ground_station``). ``window``: the time resolution of storage
    admission and processing (default 60 s, at least the time step). ``deadline``: a
    bundle not delivered within this time after it was made expires (dropped); default none.
    """

    sensors: list[Sensor] = Field(min_length=1, max_length=MAX_SENSORS)
    processing: Processing | None = None
    storage: Storage
    strategies: list[Strategy] = Field(default_factory=lambda: ["raw"], min_length=1)
    ground_stations: list[str] | None = Field(default=None, max_length=10_000)
    window_s: DurationS = Field(alias="window", default=60.0, gt=0, le=86400)
    deadline_s: DurationS | None = Field(alias="deadline", default=None, gt=0)
    relays: list[Relay] = Field(default_factory=list, max_length=MAX_RELAYS)
    station_target: StationTarget | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ObservationConfig:
        if len(set(self.strategies)) != len(self.strategies):
            raise ValueError(f"strategies repeat a name: {self.strategies}")
        onboard = [s for s in self.strategies if s != "raw"]
        if onboard and self.processing is None:
            raise ValueError(
                f"strategies {', '.join(onboard)} process tiles onboard: add a processing: "
                "section (flops_per_tile, ...)"
            )
        shells = [s.shell for s in self.sensors]
        if len(set(shells)) != len(shells):
            raise ValueError(f"one sensor per shell; repeated: {shells}")
        relays = [r.name for r in self.relays]
        if len(set(relays)) != len(relays):
            raise ValueError(f"relay names repeat: {relays}")
        repeated = repeated_names(self.ground_stations or [])
        if repeated:
            raise ValueError(f"ground_stations names a station more than once: {repeated[:10]}")
        return self
