"""Schema of the scenario's ``workloads:`` section: users, request classes, serving sites and
the service options compared in one run (pydantic v2).

YAML keys are short (``latency_budget``, ``rate``); Python attributes say the unit
(``latency_budget_s``, ``rate_per_user_h``). Choices are ``Literal`` types, unknown keys are
errors, and cross-references (a class's model, an option's sites, a site's shell) are checked
where the names are known, each error naming the field path, the value and what is allowed.

Example::

    workloads:
      populations:
        - {name: Escondida, latitude: -24.27, longitude: -69.07, users: 2500, jurisdiction: CL}
        - {name: Asia-Europe ships, kind: ship, route: builtin:rotterdam-singapore, count: 30,
           users: 20}
        - {name: LHR-JFK, kind: aircraft, route: builtin:LHR-JFK, count: 12, every: 2 h,
           users: 150}
      classes:
        - {name: chat, model: llama-3.1-8b, prompt_tokens: 600, output_tokens: 250,
           upload: 4 kB, download: 2 kB, latency_budget: 20 s, rate: 4 /h, diurnal: office}
      sites:
        - {name: Ashburn, kind: ground_dc, latitude: 39.04, longitude: -77.49,
           accelerator: h100-sxm, count: 256, jurisdiction: US}
        - {name: cluster, kind: orbital_cluster, shell: dawn-dusk}
        - {name: overhead, kind: overhead_satellite, shell: starlink}
      options:
        - {name: ground only, sites: [Ashburn], policy: lowest-latency}
        - {name: orbital cluster, sites: [cluster, Ashburn], policy: fill-and-spill}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from orbitgrid.field_paths import repeated_names
from orbitgrid.units import (
    AngleDeg,
    DurationS,
    Fraction,
    LengthKm,
    RatePerH,
    SizeBytes,
    SpeedMS,
)

PopulationKind = Literal["fixed", "ship", "aircraft"]
SiteKind = Literal["ground_dc", "orbital_cluster", "overhead_satellite", "on_device"]
SITE_KINDS: tuple[str, ...] = get_args(SiteKind)
DiurnalName = Literal["flat", "office", "evening"]

# Hourly shapes of demand in the user's local solar time, normalised so their peak is 1.
# "office": working hours 08–18 at full rate, nights at 10 %; "evening": consumer use peaking
# 19–22 h. They are stated assumptions (shapes of published diurnal internet-traffic curves,
# e.g. DE-CIX and AMS-IX daily traffic graphs), not measurements of AI use; a scenario may
# give its own 24 values.
DIURNAL_PROFILES: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 24,
    "office": (0.1,) * 7 + (0.5,) + (1.0,) * 10 + (0.6, 0.4, 0.3, 0.2, 0.15, 0.1),
    "evening": (
        *(0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.35, 0.45, 0.5, 0.55, 0.6),
        *(0.6, 0.6, 0.6, 0.6, 0.65, 0.7, 0.8, 0.95, 1.0, 1.0, 0.8, 0.5),
    ),
}


class _WModel(BaseModel):
    """Base: unknown keys are errors; YAML keys are the short aliases; numbers are finite."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


def _plain_name(value: str) -> str:
    """Names appear in tables, CSV cells and the report: plain text, no comma or control
    character."""
    if "," in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a name is plain text without commas or control characters")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain_name)]


def _token_count(value: Any) -> Any:
    """A bare number is a fixed count: ``600`` reads as ``{mean: 600}``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"mean": value}
    return value


class TokenCount(_WModel):
    """Tokens per request: a mean and a coefficient of variation (lognormal when cv > 0).

    The stage spreads output tokens over the lognormal's mean within each probability bin of
    ``workloads.stage.TAIL_BINS`` (``token_factors``); prompt tokens are taken at their mean.
    """

    mean: float = Field(gt=0, le=1e7)
    cv: float = Field(default=0.0, ge=0, le=5)


Tokens = Annotated[TokenCount, BeforeValidator(_token_count)]


class RequestClass(_WModel):
    """One kind of request: the model it needs, its size, its budget and how often users ask.

    ``rate`` is requests per user per hour at the peak of the ``diurnal`` profile (24 hourly
    factors in the user's local solar time, or a named profile); arrivals are Poisson.
    ``latency_budget``: a request whose response would take longer is dropped (counted as
    over budget). ``max_hold``: a request an offline-first device holds for a link longer
    than this is given up (counted as expired; default: held until sent). ``upload`` /
    ``download``: bytes sent with the request and returned with
    the answer besides the tokens (an image, a sensor log); tokens add ``bytes_per_token``.
    """

    name: Name
    model: str = Field(description="key of the language-model catalog (data/language_models.csv)")
    prompt_tokens: Tokens
    output_tokens: Tokens
    upload_bytes: SizeBytes = Field(alias="upload", default=0.0, ge=0, le=1e11)
    download_bytes: SizeBytes = Field(alias="download", default=0.0, ge=0, le=1e11)
    bytes_per_token: float = Field(default=4.0, ge=0, le=100)
    latency_budget_s: DurationS = Field(alias="latency_budget", default=30.0, gt=0, le=86400)
    max_hold_s: DurationS | None = Field(alias="max_hold", default=None, gt=0, le=366 * 86400)
    rate_per_user_h: RatePerH = Field(alias="rate", gt=0, le=3600)
    diurnal: DiurnalName | list[Annotated[float, Field(ge=0)]] = "flat"

    @model_validator(mode="after")
    def _profile(self) -> RequestClass:
        if isinstance(self.diurnal, list):
            if len(self.diurnal) != 24 or max(self.diurnal) <= 0:
                raise ValueError(
                    f"diurnal: give 24 hourly factors with at least one above 0, or one of "
                    f"{', '.join(DIURNAL_PROFILES)} (got {len(self.diurnal)} values)"
                )
        return self

    @property
    def profile(self) -> tuple[float, ...]:
        """24 hourly factors, peak 1."""
        if isinstance(self.diurnal, str):
            return DIURNAL_PROFILES[self.diurnal]
        peak = max(self.diurnal)
        return tuple(v / peak for v in self.diurnal)


Waypoint = tuple[AngleDeg, AngleDeg]


class LinkWindow(_WModel):
    """When a population may use its satellite link: ``duration`` every ``every``, the first
    window opening ``start`` after the scenario start (a metered terminal switched on twice a
    day, a field team's evening uplink). Outside the windows its users have no link at all,
    for every option; inside, the link exists when a satellite is in view."""

    every_s: DurationS = Field(alias="every", gt=0, le=366 * 86400)
    duration_s: DurationS = Field(alias="duration", gt=0)
    start_s: DurationS = Field(alias="start", default=0.0, ge=0)

    @model_validator(mode="after")
    def _shorter_than_period(self) -> LinkWindow:
        if self.duration_s > self.every_s:
            raise ValueError(
                f"duration ({self.duration_s:g} s) must not exceed every ({self.every_s:g} s)"
            )
        return self


class DeviceUpdate(_WModel):
    """Content an on-device copilot keeps current: a new version of ``size`` bytes is
    published every ``every`` (model weights, a knowledge base); the device downloads the
    newest over its link when it has one (after finishing the download in progress)."""

    name: Name
    size_bytes: SizeBytes = Field(alias="size", gt=0, le=1e13)
    every_s: DurationS = Field(alias="every", gt=0, le=366 * 86400)


class Population(_WModel):
    """Users at one place (``fixed``), or a fleet of movers (``ship``, ``aircraft``).

    Fixed: ``latitude``/``longitude`` and ``users``. Ships: ``count`` vessels spread evenly
    along ``route`` (a shipped lane ``builtin:<name>`` or a list of ``[lat, lon]`` waypoints),
    sailing at ``speed`` and turning back at the end; each carries ``users``. Aircraft:
    ``count`` flights along ``route`` (a shipped corridor or two or more waypoints), the
    first departing at ``departure`` (from the scenario start), then one every ``every``;
    each flies at ``speed`` and ``altitude`` and carries ``users`` until it lands.
    ``classes``: the request classes these users send (default: all).
    """

    name: Name
    kind: PopulationKind = "fixed"
    users: int = Field(ge=1, le=10_000_000)
    latitude_deg: AngleDeg | None = Field(alias="latitude", default=None, ge=-90, le=90)
    longitude_deg: AngleDeg | None = Field(alias="longitude", default=None, ge=-180, le=360)
    route: str | Annotated[list[Waypoint], Field(max_length=10_000)] | None = None
    count: int = Field(default=1, ge=1, le=100_000)
    speed_m_s: SpeedMS | None = Field(alias="speed", default=None, gt=0, le=1000)
    departure_s: DurationS = Field(alias="departure", default=0.0, ge=0)
    every_s: DurationS = Field(alias="every", default=3600.0, gt=0)
    altitude_km: LengthKm | None = Field(alias="altitude", default=None, ge=0, le=25)
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    min_elevation_deg: AngleDeg | None = Field(alias="min_elevation", default=None, ge=0, lt=90)
    classes: list[str] | None = None
    link_window: LinkWindow | None = None

    @model_validator(mode="after")
    def _where(self) -> Population:
        if self.kind == "fixed":
            if self.latitude_deg is None or self.longitude_deg is None:
                raise ValueError("a fixed population needs latitude and longitude")
            if self.route is not None:
                raise ValueError("route is for ships and aircraft; set kind: ship or aircraft")
        else:
            if self.route is None:
                raise ValueError(
                    f"a {self.kind} population needs a route: builtin:<name> or a list of "
                    "[latitude, longitude] waypoints"
                )
            if self.latitude_deg is not None or self.longitude_deg is not None:
                raise ValueError(f"a {self.kind} moves along its route; leave out latitude")
            if isinstance(self.route, list) and len(self.route) < 2:
                raise ValueError(f"route needs at least 2 waypoints (got {len(self.route)})")
            if isinstance(self.route, str) and not self.route.startswith("builtin:"):
                raise ValueError(
                    f"route {self.route!r}: write builtin:<name> for a shipped route, or a "
                    "list of [latitude, longitude] waypoints"
                )
        return self

    @property
    def endpoints(self) -> int:
        """Network endpoints of the population: one for a fixed site, one per ship or
        aircraft (``users.build_users``)."""
        return 1 if self.kind == "fixed" else self.count


class Site(_WModel):
    """Where requests can run.

    ``ground_dc``: a terrestrial data center at ``latitude``/``longitude`` with ``count``
    accelerators (``accelerator`` from the catalog), reached through its own ground link
    (a gateway next to it). ``orbital_cluster``: every satellite of the constellation shell
    ``shell``, pooled; reached by routing to the nearest of its satellites. ``overhead_satellite``:
    the satellite of ``shell`` the user is linked to, serving with its own accelerators (one
    ground link, no ISL). Orbital capacity follows the core engine's delivered compute at
    each step (eclipse, heat and battery limits); ``utilisation`` overrides the serving
    stack's model FLOPs utilisation. ``tpot_target``: the site runs the largest batch whose
    time per output token under full load stays within it (default 50 ms, an interactive
    chat target between MLPerf Inference's 40 ms interactive and 200 ms server limits).
    ``accelerators_per_replica``: a ground DC runs ``count // accelerators_per_replica`` copies
    of each model, each on that many accelerators (8: one HGX/DGX node); an orbital site runs
    one copy per satellite on the satellite's accelerators.

    ``on_device``: an offline-first copilot on each user's device (``per: user``) or on one
    box per endpoint (``per: endpoint``, e.g. a ship's onboard server) with ``count``
    (default 1) ``accelerator`` running the local ``model``; it answers the share ``answers``
    of each class's requests (class name → fraction, default 0) without any link; an option
    that includes it sends the rest to its other sites while the user has a link and holds
    them on the device until the next link otherwise. ``updates``: content the device keeps
    current over its link (its staleness is reported). ``cost_per_accelerator_hour``: the
    price of one accelerator-hour at this site (USD), which overrides the economics model
    (``docs/workloads.md``: cost per million tokens).
    """

    name: Name
    kind: SiteKind
    latitude_deg: AngleDeg | None = Field(alias="latitude", default=None, ge=-90, le=90)
    longitude_deg: AngleDeg | None = Field(alias="longitude", default=None, ge=-180, le=360)
    accelerator: str | None = None
    count: int | None = Field(default=None, ge=1, le=10_000_000)
    shell: str | None = None
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    pue: float = Field(default=1.56, ge=1, le=5, description="ground DCs: facility energy factor")
    utilisation: Fraction | None = Field(default=None, gt=0, le=1)
    tpot_target_s: DurationS = Field(alias="tpot_target", default=0.05, gt=0, le=60)
    accelerators_per_replica: int = Field(default=8, ge=1, le=1024)
    model: str | None = None
    answers: dict[str, Annotated[Fraction, Field(ge=0, le=1)]] = Field(default_factory=dict)
    per: Literal["user", "endpoint"] = "user"
    updates: list[DeviceUpdate] = Field(default_factory=list, max_length=100)
    cost_per_accelerator_hour_usd: float | None = Field(
        alias="cost_per_accelerator_hour", default=None, ge=0, le=1e4
    )

    @model_validator(mode="after")
    def _fields_match_kind(self) -> Site:
        device_fields = {"model": self.model, "answers": self.answers or None,
                         "updates": self.updates or None}  # fmt: skip
        if self.kind == "on_device":
            if self.accelerator is None or self.model is None:
                raise ValueError("an on_device site needs accelerator and model (the local one)")
            if self.shell is not None or self.latitude_deg is not None:
                raise ValueError("an on_device site is on each user's device: no shell or place")
            return self
        given = [key for key, value in device_fields.items() if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: only for an on_device site")
        ground_fields = {
            "latitude": self.latitude_deg,
            "longitude": self.longitude_deg,
            "accelerator": self.accelerator,
            "count": self.count,
        }
        if self.kind == "ground_dc":
            missing = [key for key, value in ground_fields.items() if value is None]
            if missing:
                raise ValueError(f"a ground_dc site needs {', '.join(missing)}")
            if self.shell is not None:
                raise ValueError("shell is for orbital sites; a ground_dc has latitude/longitude")
        else:
            if self.shell is None:
                raise ValueError(
                    f"a {self.kind} site needs 'shell': the constellation shell that serves"
                )
            given = [key for key, value in ground_fields.items() if value is not None]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: not for a {self.kind} site, whose accelerators are "
                    "those of its shell's spacecraft"
                )
        return self


class Option(_WModel):
    """One way of serving the users, compared with the others in the same run.

    ``sites``: the sites this option may use; ``policy``: how each (population, class) picks
    among them at each step (``workloads.placement.POLICIES``); ``site_kinds`` and
    ``same_jurisdiction`` are rules that remove sites before the policy chooses.
    ``spill_utilisation``: the load at which ``fill-and-spill`` moves on to the next site.
    """

    name: Name
    sites: list[str] = Field(min_length=1)
    policy: str = "lowest-latency"
    site_kinds: list[SiteKind] | None = None
    same_jurisdiction: bool = False
    spill_utilisation: Fraction = Field(default=0.85, gt=0, le=1)

    @model_validator(mode="after")
    def _known_policy(self) -> Option:
        from orbitgrid.workloads.placement import POLICIES

        if self.policy not in POLICIES:
            raise ValueError(
                f"unknown policy {self.policy!r}; allowed: {', '.join(sorted(POLICIES))}"
            )
        return self


class WorkloadsConfig(_WModel):
    """The ``workloads:`` section (see the module docstring)."""

    populations: list[Population] = Field(min_length=1, max_length=100_000)
    classes: list[RequestClass] = Field(min_length=1, max_length=100)
    sites: list[Site] = Field(min_length=1, max_length=1000)
    options: list[Option] = Field(min_length=1, max_length=100)
    histogram_bins: int = Field(default=240, ge=20, le=5000)

    @property
    def user_endpoints(self) -> int:
        """Network endpoints of all the populations (``Population.endpoints``)."""
        return sum(p.endpoints for p in self.populations)

    @model_validator(mode="after")
    def _references(self) -> WorkloadsConfig:
        from orbitgrid.workloads.models import model_catalog

        for what, items in (
            ("population", self.populations),
            ("class", self.classes),
            ("site", self.sites),
            ("option", self.options),
        ):
            names = [item.name for item in items]
            repeated = repeated_names(names)
            if repeated:
                raise ValueError(f"{what} names must be unique; repeated: {', '.join(repeated)}")
        catalog = model_catalog()
        for i, request in enumerate(self.classes):
            if request.model not in catalog:
                raise ValueError(
                    f"classes[{i}].model: unknown model {request.model!r}; the catalog has "
                    f"{', '.join(sorted(catalog))}"
                )
        class_names = {c.name for c in self.classes}
        for i, population in enumerate(self.populations):
            unknown = sorted(set(population.classes or ()) - class_names)
            if unknown:
                raise ValueError(
                    f"populations[{i}].classes: unknown class {', '.join(map(repr, unknown))}; "
                    f"defined: {', '.join(sorted(class_names))}"
                )
        for i, site in enumerate(self.sites):
            if site.model is not None and site.model not in catalog:
                raise ValueError(
                    f"sites[{i}].model: unknown model {site.model!r}; the catalog has "
                    f"{', '.join(sorted(catalog))}"
                )
            unknown = sorted(set(site.answers) - class_names)
            if unknown:
                raise ValueError(
                    f"sites[{i}].answers: unknown class {', '.join(map(repr, unknown))}; "
                    f"defined: {', '.join(sorted(class_names))}"
                )
        site_names = {s.name for s in self.sites}
        devices = {s.name for s in self.sites if s.kind == "on_device"}
        for i, option in enumerate(self.options):
            unknown = sorted(set(option.sites) - site_names)
            if unknown:
                raise ValueError(
                    f"options[{i}].sites: unknown site {', '.join(map(repr, unknown))}; "
                    f"defined: {', '.join(sorted(site_names))}"
                )
            if len(devices & set(option.sites)) > 1:
                raise ValueError(
                    f"options[{i}].sites: at most one on_device site per option (got "
                    f"{', '.join(sorted(devices & set(option.sites)))})"
                )
        return self

    def __repr__(self) -> str:
        return (
            f"WorkloadsConfig({len(self.populations)} populations, {len(self.classes)} classes, "
            f"{len(self.sites)} sites, {len(self.options)} options)"
        )
