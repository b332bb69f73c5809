"""Geostationary data relays (EDRS-like): laser contacts from LEO satellites to a GEO relay
and the relay's feeder link to its ground station, as contacts for contact graph routing.

Model (docs/observation.md, "GEO relay"):

- **Position.** A relay sits on the geostationary ring at its ``longitude``: radius
  42,164.17 km (GM/ω² with GM = 398,600.4418 km³/s² and ω = 7.2921159e-5 rad/s), in the
  equatorial plane, fixed in the Earth frame (no station-keeping box, no inclination drift).
- **LEO → relay laser link.** Up at a step when the segment between the satellite and the
  relay clears a sphere of the WGS72 equatorial radius + ``grazing_altitude`` (80 km keeps the
  beam above the dense atmosphere, the network's ISL rule, ``contacts.satellite_pair_visibility``)
  and the range is ≤ ``max_range`` (45,000 km for the EDRS laser terminal, Böhmer et al., Proc.
  SPIE 8246, 2012). Windows come from the engine's steps (sample-and-hold, edges accurate to
  one step, ``ContactLog``); one contact per window at ``rate``; one-way light time = the
  window's largest range / c (≈ 0.12–0.15 s). A relay with N ``terminals`` serves at most N
  satellites at once: its windows are allocated like ground-station passes
  (``network.antennas.allocate_passes``, ``max-volume``).
- **Feeder link.** Relay → ``ground_station``: one contact over the whole run at
  ``feeder_rate`` (a GEO relay stays in view of its ground station), light time = slant range
  / c; refused when the station does not see the relay above its elevation mask.

The relay's onboard storage is unlimited (as every relay node in CGR); the feeder is shared
by every bundle through CGR's booked volumes.
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72
from orbitgrid.errors import ScenarioError
from orbitgrid.network.antennas import allocate_passes
from orbitgrid.network.contact_log import ContactLog
from orbitgrid.observation.config import Relay

GEO_RADIUS_KM = 42_164.17
"""Geostationary radius, km: (GM / ω²)^(1/3), GM = 398,600.4418 km³/s² (WGS84/IERS),
ω = 7.2921159e-5 rad/s (sidereal rotation)."""


def relay_ecef_km(longitude_deg: np.ndarray) -> np.ndarray:
    """``[relay, 3]`` Earth-fixed positions of relays on the geostationary ring, km."""
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    return np.stack([GEO_RADIUS_KM * np.cos(lon), GEO_RADIUS_KM * np.sin(lon), 0.0 * lon], -1)


def relay_visibility(
    sat_ecef_km: np.ndarray,
    relay_km: np.ndarray,
    max_range_km: np.ndarray,
    grazing_altitude_km: np.ndarray,
) -> np.ndarray:
    """Range ``[time, satellite, relay]`` in km where the laser link is up, NaN where not
    (module docstring): range ≤ ``max_range_km [relay]`` and the segment's closest approach
    to the Earth's centre ≥ R + ``grazing_altitude_km [relay]``."""
    a = sat_ecef_km[:, :, None, :]
    d = relay_km[None, None, :, :] - a
    rng = np.linalg.norm(d, axis=-1)
    s = np.clip(-np.einsum("tsrk,tsrk->tsr", a, d) / np.maximum(rng**2, 1e-12), 0.0, 1.0)
    closest = np.linalg.norm(a + s[..., None] * d, axis=-1)
    up = (rng <= max_range_km) & (closest >= WGS72.radius_km + grazing_altitude_km)
    return np.where(up, rng, np.nan)


class RelayLog:
    """The LEO → relay windows of a run, chunk by chunk (a ``ContactLog`` whose "ISLs" are the
    satellite × relay links; relay ``r`` is node ``first_relay_node + r``)."""

    def __init__(self, n_satellites: int, relays: list[Relay], first_relay_node: int, step_s):
        self.relays = relays
        self.n_satellites = n_satellites
        self.first_relay_node = first_relay_node
        sat = np.repeat(np.arange(n_satellites), len(relays))
        relay = np.tile(np.arange(len(relays)), n_satellites) + first_relay_node
        self.log = ContactLog(n_satellites, 0, np.stack([sat, relay], axis=1), step_s)
        self.relay_km = relay_ecef_km([r.longitude_deg for r in relays])
        self.max_range_km = np.array([r.max_range_km for r in relays])
        self.grazing_km = np.array([r.grazing_altitude_km for r in relays])

    def update(self, times_s: np.ndarray, sat_ecef_km: np.ndarray) -> None:
        """Add one chunk: ``sat_ecef_km [time, satellite, 3]`` at ``times_s [time]``."""
        rng = relay_visibility(sat_ecef_km, self.relay_km, self.max_range_km, self.grazing_km)
        empty = np.zeros(0, np.int64)
        self.log.update(times_s, empty, empty, empty, np.zeros(0), np.zeros(0),
                        rng.reshape(len(times_s), -1), 1.0)  # fmt: skip

    def contacts(self, horizon_s: float, station_node: np.ndarray, station_ecef_km: np.ndarray,
                 station_up: np.ndarray, station_min_elevation_deg: np.ndarray,
                 station_names: list[str]) -> dict[str, np.ndarray]:  # fmt: skip
        """Directed contacts of every relay (``[contact]`` arrays ``from_node, to_node,
        start_s, end_s, rate_bps, owlt_s``): the laser windows its terminals serve, then its
        feeder link to ``station_node [relay]`` over ``[0, horizon_s)`` (module docstring)."""
        table = self.log.finish()
        relay = table.b_node - self.first_relay_node
        rate = np.array([r.rate_bps for r in self.relays])[relay]
        terminals = np.array([r.terminals for r in self.relays], np.int64)
        served = allocate_passes(relay, table.start_s, table.end_s, terminals,
                                 weight=rate * table.duration_s / 8.0) >= 0  # fmt: skip
        # Feeder: the relay must stand above the station's mask (a GEO relay never sets).
        los = self.relay_km - station_ecef_km
        slant = np.linalg.norm(los, axis=-1)
        elevation = np.degrees(np.arcsin(np.einsum("rk,rk->r", los, station_up) / slant))
        low = np.flatnonzero(elevation < station_min_elevation_deg)
        if low.size:
            i = int(low[0])
            raise ScenarioError(
                f"observation.relays[{i}].ground_station: {station_names[i]} sees relay "
                f"{self.relays[i].name} at {elevation[i]:.1f}° elevation, below its mask of "
                f"{station_min_elevation_deg[i]:g}°; choose a station under the relay's "
                "longitude or move the relay",
                path=f"observation.relays[{i}].ground_station",
                value=station_names[i],
            )
        n_r = len(self.relays)
        nodes = self.first_relay_node + np.arange(n_r)
        return {
            "from_node": np.r_[table.a_node[served], nodes],
            "to_node": np.r_[table.b_node[served], station_node],
            "start_s": np.r_[table.start_s[served], np.zeros(n_r)],
            "end_s": np.r_[table.end_s[served], np.full(n_r, float(horizon_s))],
            "rate_bps": np.r_[rate[served], [r.feeder_rate_bps for r in self.relays]],
            "owlt_s": np.r_[table.max_range_km[served], slant] / SPEED_OF_LIGHT_KM_S,
            "laser": np.r_[np.ones(int(served.sum()), bool), np.zeros(n_r, bool)],
            "visible_windows": np.array(len(table)),
        }
