"""Shipped real routes and remote sites for moving and remote users, each row with its source.

Data files (package data, read with ``importlib.resources``, parsed once and cached):

- ``data/shipping_lanes.csv``: major shipping lanes as waypoint sequences (ports from UN/LOCODE,
  waypoints at straits and capes), with a typical service speed per lane;
- ``data/air_routes.csv``: long-haul air corridors between airports (ICAO/IATA, AIP reference
  points), flown as great circles at a typical cruise speed and altitude;
- ``data/remote_sites.csv``: large remote sites (mines, offshore platforms, polar stations) with
  country, published workforce and source. The file is also a valid endpoint list for
  ``network.endpoints.read_endpoints_csv`` (kind ``user_terminal``).

A ``Route`` turns into ``mobility.Mover`` objects with ``Route.mover`` or ``Route.fleet``.
Column layouts and sources: the ``#`` header of each file and ``docs/mobility.md``.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from orbitgrid.errors import ScenarioError
from orbitgrid.workloads.mobility import (
    KNOT_M_S,
    Mover,
    build_tracks,
    spread_fleet,
)


@dataclass(frozen=True)
class Route:
    """A shipped route: waypoints (deg), speed (m/s), altitude (km) and sources.

    ``kind`` is ``"ship"`` or ``"aircraft"``; ``vehicle`` the vessel type or aircraft class the
    speed belongs to; ``waypoint_names`` and ``sources`` are per waypoint (``sources`` for air
    routes: the route's source for both airports).
    """

    key: str
    kind: str
    waypoint_names: tuple[str, ...]
    latitude_deg: tuple[float, ...]
    longitude_deg: tuple[float, ...]
    speed_m_s: float
    altitude_km: float
    vehicle: str
    sources: tuple[str, ...]

    @property
    def waypoints_deg(self) -> np.ndarray:
        """``[waypoint, 2]`` (latitude, longitude) in degrees."""
        return np.column_stack([self.latitude_deg, self.longitude_deg])

    @property
    def length_m(self) -> float:
        """One-way length (m) along the great-circle legs on the mean-radius sphere."""
        return float(build_tracks([self.mover()]).route_length_m[0])

    def mover(
        self,
        name: str | None = None,
        *,
        departure_s: float = 0.0,
        after_arrival: str | None = None,
        phase: float = 0.0,
        speed_m_s: float | None = None,
        reverse: bool = False,
    ) -> Mover:
        """One mover on this route (``reverse`` sails/flies it from the last waypoint).

        Defaults: name = route key, the route's speed and altitude, ``after_arrival`` ``loop``
        for ships (a vessel in service keeps sailing the lane) and ``stop`` for aircraft.
        """
        wp = self.waypoints_deg[::-1] if reverse else self.waypoints_deg
        return Mover(
            name=name or self.key,
            waypoints_deg=wp,
            speed_m_s=self.speed_m_s if speed_m_s is None else speed_m_s,
            departure_s=departure_s,
            altitude_km=self.altitude_km,
            after_arrival=after_arrival or ("loop" if self.kind == "ship" else "stop"),
            phase=phase,
            kind=self.kind,
        )

    def fleet(
        self,
        n: int,
        name: str | None = None,
        *,
        departure_s: float = 0.0,
        after_arrival: str | None = None,
        speed_m_s: float | None = None,
        reverse: bool = False,
    ) -> list[Mover]:
        """``n`` movers spread evenly along the route's cycle (``mobility.spread_fleet``).

        Arguments as for ``mover``; names are ``<name or key>-<k>``, phases as ``spread_fleet``
        gives them (k/n on a closed route, (k + ¼)/n on an open one looped there and back).
        Ships loop by default, so a fleet on an open lane sails both directions.
        """
        one = self.mover(
            name,
            departure_s=departure_s,
            after_arrival=after_arrival,
            speed_m_s=speed_m_s,
            reverse=reverse,
        )
        return spread_fleet(one, n)


@dataclass(frozen=True)
class RemoteSite:
    """A remote fixed site: position (deg, km), ISO 3166-1 alpha-2 country, workforce, source.

    ``workforce`` is the published number of people on site (None when not published).
    """

    name: str
    site_type: str
    latitude_deg: float
    longitude_deg: float
    altitude_km: float
    country: str
    workforce: int | None
    source: str


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("orbitgrid.data").joinpath(filename).read_text("utf-8")
    return list(csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#")))


@functools.cache
def _shipping_lanes() -> tuple[Route, ...]:
    lanes: dict[str, list[dict[str, str]]] = {}
    for row in _rows("shipping_lanes.csv"):
        lanes.setdefault(row["lane"], []).append(row)
    out = []
    for key, rows in lanes.items():
        rows.sort(key=lambda r: int(r["seq"]))
        first = rows[0]
        out.append(
            Route(
                key=key,
                kind="ship",
                waypoint_names=tuple(r["waypoint"] for r in rows),
                latitude_deg=tuple(float(r["latitude_deg"]) for r in rows),
                longitude_deg=tuple(float(r["longitude_deg"]) for r in rows),
                speed_m_s=float(first["service_speed_kn"]) * KNOT_M_S,
                altitude_km=0.0,
                vehicle=first["vessel_type"],
                sources=tuple(r["source"] for r in rows),
            )
        )
    return tuple(out)


@functools.cache
def _air_routes() -> tuple[Route, ...]:
    out = []
    for r in _rows("air_routes.csv"):
        out.append(
            Route(
                key=r["route"],
                kind="aircraft",
                waypoint_names=(
                    f"{r['origin_iata']} ({r['origin_icao']})",
                    f"{r['destination_iata']} ({r['destination_icao']})",
                ),
                latitude_deg=(
                    float(r["origin_latitude_deg"]),
                    float(r["destination_latitude_deg"]),
                ),
                longitude_deg=(
                    float(r["origin_longitude_deg"]),
                    float(r["destination_longitude_deg"]),
                ),
                speed_m_s=float(r["cruise_speed_m_s"]),
                altitude_km=float(r["cruise_altitude_km"]),
                vehicle="long-haul twin-aisle jet",
                sources=(r["source"], r["source"]),
            )
        )
    return tuple(out)


@functools.cache
def _remote_sites() -> tuple[RemoteSite, ...]:
    return tuple(
        RemoteSite(
            name=r["name"],
            site_type=r["site_type"],
            latitude_deg=float(r["latitude_deg"]),
            longitude_deg=float(r["longitude_deg"]),
            altitude_km=float(r["altitude_km"]),
            country=r["jurisdiction"],
            workforce=int(r["workforce"]) if r["workforce"] else None,
            source=r["source"],
        )
        for r in _rows("remote_sites.csv")
    )


def builtin_shipping_lanes() -> dict[str, Route]:
    """The shipped shipping lanes by key (``rotterdam-singapore``, ``shanghai-los-angeles``…)."""
    return {r.key: r for r in _shipping_lanes()}


def builtin_air_routes() -> dict[str, Route]:
    """The shipped long-haul air corridors by key (``LHR-JFK``, ``SYD-LAX``, ``JFK-HKG``…)."""
    return {r.key: r for r in _air_routes()}


def shipped_routes(kind: str | None = None) -> dict[str, Route]:
    """Shipped routes by key: ``kind`` ``"ship"`` (lanes), ``"aircraft"`` (air corridors) or
    None (both; keys are unique across the two files)."""
    if kind not in (None, "ship", "aircraft"):
        raise ScenarioError(f"unknown route kind {kind!r}; use ship or aircraft", "kind", kind)
    out: dict[str, Route] = {}
    if kind in (None, "ship"):
        out.update(builtin_shipping_lanes())
    if kind in (None, "aircraft"):
        out.update(builtin_air_routes())
    return out


def builtin_route(key: str) -> Route:
    """One shipped route by key; the error lists the available keys."""
    routes = shipped_routes()
    if key not in routes:
        raise ScenarioError(
            f"unknown built-in route {key!r}; available: {', '.join(routes)}", "route", key
        )
    return routes[key]


def builtin_remote_sites() -> dict[str, RemoteSite]:
    """The shipped remote sites by name (Escondida, Grasberg, Troll A, McMurdo Station…)."""
    return {s.name: s for s in _remote_sites()}


def builtin_routes(kind: str | None = None) -> dict[str, np.ndarray]:
    """Waypoints ``[waypoint, 2]`` (latitude, longitude deg) of the shipped routes by key.

    ``kind``: ``"ship"`` for the shipping lanes of ``data/shipping_lanes.csv``, ``"aircraft"``
    for the air corridors of ``data/air_routes.csv``, None for both. Speeds, altitudes, names
    and sources of the same routes: ``shipped_routes``. Fresh arrays per call.
    """
    return {key: route.waypoints_deg for key, route in shipped_routes(kind).items()}
