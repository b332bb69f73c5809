"""Users as network endpoints: fixed populations and fleets of ships and aircraft.

Each fixed population is one endpoint; each mover (a ship of a fleet, one flight) is one
endpoint whose position changes every step (``workloads.mobility``). ``UserTable`` holds, per
endpoint, the population it belongs to, its users, its jurisdiction and its track, and gives
positions, local solar hours and whether it is active (an aircraft before departure or after
landing is not) at any times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orbitgrid.constants import WGS72
from orbitgrid.errors import ScenarioError
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit
from orbitgrid.workloads import mobility, places
from orbitgrid.workloads.config import Population, WorkloadsConfig

# Defaults for movers on routes given as waypoints (shipped routes carry their own, with
# sources in data/): a container ship's ~17 kn service speed, a long-haul airliner's cruise at
# ~900 km/h and 11 km (typical published figures).
SHIP_SPEED_M_S = 17.0 * 1852.0 / 3600.0
AIRCRAFT_SPEED_M_S = 250.0
AIRCRAFT_ALTITUDE_KM = 11.0


@dataclass(frozen=True, eq=False)
class UserTable:
    """User endpoints as ``[endpoint]`` arrays (see the module docstring).

    ``population [endpoint]`` indexes ``names``; ``fixed [endpoint]`` is True for fixed
    populations, whose position is ``latitude_deg``/``longitude_deg``/``altitude_km``;
    movers follow ``tracks`` (their endpoint ids in ``mover_endpoint``).
    """

    names: tuple[str, ...]
    label: np.ndarray  # [endpoint] str, e.g. "LHR-JFK #3"
    population: np.ndarray  # [endpoint] int
    users: np.ndarray  # [endpoint] users on this endpoint
    jurisdiction: np.ndarray  # [endpoint] str ("" = none, e.g. at sea)
    kind: np.ndarray  # [endpoint] "fixed" | "ship" | "aircraft"
    min_elevation_deg: np.ndarray  # [endpoint] NaN = the network default
    class_mask: np.ndarray  # [endpoint, class] bool: classes these users send
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    altitude_km: np.ndarray
    tracks: mobility.Tracks | None
    mover_endpoint: np.ndarray  # [mover] endpoint id
    # [endpoint, 3]: every, duration, start (s) of the link windows; every = 0: always open.
    link_window_s: np.ndarray

    def __len__(self) -> int:
        return int(self.population.shape[0])

    def positions(self, times_s: np.ndarray):
        """``(lat_deg, lon_deg, altitude_km, active)`` each ``[time, endpoint]``."""
        n_t = len(times_s)
        lat = np.broadcast_to(self.latitude_deg, (n_t, len(self))).copy()
        lon = np.broadcast_to(self.longitude_deg, (n_t, len(self))).copy()
        alt = np.broadcast_to(self.altitude_km, (n_t, len(self))).copy()
        active = np.ones((n_t, len(self)), bool)
        if self.tracks is not None and len(self.mover_endpoint):
            m_lat, m_lon, m_alt, m_active = mobility.positions(self.tracks, times_s)
            lat[:, self.mover_endpoint] = m_lat
            lon[:, self.mover_endpoint] = m_lon
            alt[:, self.mover_endpoint] = m_alt
            active[:, self.mover_endpoint] = m_active
        return lat, lon, alt, active

    def link_open(self, times_s: np.ndarray) -> np.ndarray:
        """``[time, endpoint]`` True inside the endpoint's link windows (always, if none).

        A window opens at ``start + k × every`` (k ≥ 0) and lasts ``duration``."""
        every, duration, start = self.link_window_s.T
        since = np.asarray(times_s, np.float64)[:, None] - start[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            phase = np.mod(since, np.where(every > 0, every, 1.0)[None, :])
        return (every[None, :] == 0) | ((since >= 0) & (phase < duration[None, :]))

    def ecef(self, lat_deg, lon_deg, altitude_km):
        """ECEF km (WGS72, as the satellites) and local vertical at ``[..., endpoint]``."""
        return (
            geodetic_to_ecef_km(lat_deg, lon_deg, altitude_km, WGS72),
            local_up_unit(lat_deg, lon_deg),
        )


def local_solar_hour(times_utc: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Local mean solar time in hours ``[time, endpoint]``: UTC plus longitude / 15° per hour.

    Time zones follow borders and daylight saving; solar time is within about an hour of them
    almost everywhere and is defined for users at sea or in the air.
    """
    day = times_utc.astype("datetime64[D]")
    utc_h = (times_utc - day).astype("timedelta64[ns]").astype(np.float64) / 3.6e12
    return np.mod(utc_h[:, None] + np.asarray(lon_deg) / 15.0, 24.0)


def build_users(config: WorkloadsConfig) -> UserTable:
    """Expand the populations into endpoints (fixed ones first in scenario order, then each
    fleet's movers)."""
    class_names = [c.name for c in config.classes]
    rows: list[dict] = []
    mover_specs: list[tuple[int, Population, int]] = []
    for index, population in enumerate(config.populations):
        mask = np.array(
            [population.classes is None or name in population.classes for name in class_names]
        )
        base = {
            "population": index,
            "users": population.users,
            "jurisdiction": population.jurisdiction or "",
            "kind": population.kind,
            "min_elevation_deg": np.nan
            if population.min_elevation_deg is None
            else population.min_elevation_deg,
            "class_mask": mask,
            "window": (0.0, 0.0, 0.0)
            if population.link_window is None
            else (
                population.link_window.every_s,
                population.link_window.duration_s,
                population.link_window.start_s,
            ),
        }
        if population.kind == "fixed":
            rows.append(
                {
                    **base,
                    "label": population.name,
                    "lat": population.latitude_deg,
                    "lon": population.longitude_deg,
                    "alt": 0.0 if population.altitude_km is None else population.altitude_km,
                }
            )
        else:
            for k in range(population.count):
                label = population.name if population.count == 1 else f"{population.name} #{k + 1}"
                mover_specs.append((len(rows), population, k))
                rows.append({**base, "label": label, "lat": np.nan, "lon": np.nan, "alt": 0.0})
    tracks = _tracks(config, mover_specs) if mover_specs else None
    return UserTable(
        names=tuple(p.name for p in config.populations),
        label=np.array([r["label"] for r in rows], dtype=object),
        population=np.array([r["population"] for r in rows], np.int64),
        users=np.array([r["users"] for r in rows], np.float64),
        jurisdiction=np.array([r["jurisdiction"] for r in rows], dtype=object),
        kind=np.array([r["kind"] for r in rows], dtype=object),
        min_elevation_deg=np.array([r["min_elevation_deg"] for r in rows], np.float64),
        class_mask=np.array([r["class_mask"] for r in rows], bool).reshape(len(rows), -1),
        latitude_deg=np.array([r["lat"] for r in rows], np.float64),
        longitude_deg=np.array([r["lon"] for r in rows], np.float64),
        altitude_km=np.array([r["alt"] for r in rows], np.float64),
        tracks=tracks,
        mover_endpoint=np.array([i for i, _, _ in mover_specs], np.int64),
        link_window_s=np.array([r["window"] for r in rows], np.float64).reshape(len(rows), 3),
    )


def _route(population: Population, where: str):
    """``(waypoints [n, 2] lat/lon deg, default speed m/s, default altitude km)`` of a
    population's route: a shipped one (``workloads.places``) or the waypoints given."""
    if isinstance(population.route, list):
        return np.array(population.route, np.float64), None, None
    name = population.route.removeprefix("builtin:")
    routes = (
        places.builtin_shipping_lanes()
        if population.kind == "ship"
        else places.builtin_air_routes()
    )
    if name not in routes:
        raise ScenarioError(
            f"{where}.route: unknown shipped {population.kind} route {name!r}; available: "
            f"{', '.join(routes)}",
            f"{where}.route",
            population.route,
        )
    route = routes[name]
    return route.waypoints_deg, route.speed_m_s, route.altitude_km


def _tracks(config: WorkloadsConfig, specs: list[tuple[int, Population, int]]) -> mobility.Tracks:
    """One track per mover: ships spread evenly along their lane and sailing back and forth;
    flights departing every ``every`` from ``departure`` and stopping on arrival."""
    index = {id(p): i for i, p in enumerate(config.populations)}
    movers = []
    where_of: dict[str, tuple[str, Population]] = {}
    for _, population, k in specs:
        where = f"workloads.populations[{index[id(population)]}]"
        points, route_speed, route_altitude = _route(population, where)
        speed = population.speed_m_s or route_speed
        if population.kind == "ship":
            mover = mobility.Mover(
                name=f"{population.name}-{k}",
                waypoints_deg=points,
                speed_m_s=speed or SHIP_SPEED_M_S,
                departure_s=population.departure_s,
                altitude_km=population.altitude_km or 0.0,
                after_arrival="loop",
                # (k + ¼)/n: ships at the midpoints of n equal parts of the out-and-back
                # cycle, alternately outbound and homebound (k/n would pair them up).
                phase=(k + 0.25) / population.count,
                kind="ship",
            )
        else:
            altitude = (
                population.altitude_km if population.altitude_km is not None else route_altitude
            )
            mover = mobility.Mover(
                name=f"{population.name}-{k}",
                waypoints_deg=points,
                speed_m_s=speed or AIRCRAFT_SPEED_M_S,
                departure_s=population.departure_s + k * population.every_s,
                altitude_km=AIRCRAFT_ALTITUDE_KM if altitude is None else altitude,
                after_arrival="stop",
                kind="aircraft",
            )
        movers.append(mover)
        where_of[mover.name] = (where, population)
    try:
        return mobility.build_tracks(movers)
    except ScenarioError as error:
        # Name the scenario field, not the mover the expansion made of it.
        mover_name, _, field = error.path.rpartition(".")
        if mover_name not in where_of:
            raise
        where, population = where_of[mover_name]
        key = "route" if field == "waypoints" else field
        value = population.route if key == "route" else error.value
        message = str(error).replace(f"mover {mover_name!r}: ", "")
        raise ScenarioError(
            f"{where}.{key}: {message} (got {value!r})", f"{where}.{key}", value
        ) from None
