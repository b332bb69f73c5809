"""The contact plan that Earth-observation products are routed over.

Three sources, combined into one ``ContactPlan`` (nodes: satellites ``0..S-1``, network
endpoints ``S..S+E-1``, relays ``S+E..``):

1. **The network's link windows** (downlinks from geometry and the link budget, ISLs), read
   from the network stage's in-memory contact log (``contact_plan_from_table``, downlinks
   only, and only those into the receiving stations: a downlink into any other endpoint
   would be a dead end, and is not a pass of this ground segment).
2. **Ground-station antennas.** A station with ``antennas: N`` (``network.endpoints[]``)
   tracks at most N satellites at once, each for a whole pass: the visible passes are
   allocated with ``network.antennas.allocate_contact_plan`` (``max-volume``: the passes of
   largest total volume, min-cost flow; docs/cgr.md "Ground-station antennas"). Endpoints
   without ``antennas`` keep every visible pass (unlimited), so scenarios without the key
   are unchanged.
3. **GEO relays** (``relay.py``): laser windows to each relay (allocated to its terminals)
   and its feeder link to its ground station. A feeder station that is not itself one of
   the receiving stations (``observation.ground_stations``) gets data only through its
   relay: its own direct passes are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orbitgrid.errors import ScenarioError
from orbitgrid.network.antennas import allocate_contact_plan
from orbitgrid.network.contact_plan import (
    KIND_GSL_DOWN,
    KIND_ISL,
    KIND_OTHER,
    ContactPlan,
    contact_plan_from_table,
)

KIND_RELAY_LASER = KIND_ISL
"""LEO → GEO laser contacts are inter-satellite links (``ContactPlan.kind``)."""
KIND_FEEDER = KIND_OTHER
"""Relay → ground feeder contacts."""


@dataclass(frozen=True)
class DeliveryPlan:
    """The combined plan, the destination nodes (receiving stations, relay feeders' stations
    included), per-station antenna counts (−1: unlimited) and what the allocation kept."""

    plan: ContactPlan
    stations: np.ndarray
    node_names: list[str]
    station_antennas: dict[str, int]
    visible_passes: int
    visible_contact_hours: float
    relay_nodes: np.ndarray
    relay_station: np.ndarray  # [relay] node of each relay's ground station


def _station_nodes(config, names: list[str], kinds: list[str], n_sat: int) -> np.ndarray:
    wanted = config.ground_stations
    chosen = (
        [i for i, k in enumerate(kinds) if k == "ground_station"]
        if wanted is None
        else [names.index(n) for n in wanted if n in names]
    )
    missing = [] if wanted is None else [n for n in wanted if n not in names]
    if missing or not chosen:
        raise ScenarioError(
            f"observation.ground_stations: {missing or 'none'} among the network "
            f"endpoints ({', '.join(names)}); name endpoints, or give some kind: "
            "ground_station",
            path="observation.ground_stations",
            value=wanted,
        )
    return np.array(chosen, dtype=np.int64) + n_sat


def delivery_plan(config, network_stage, satellite_names: list[str], relay_log, horizon_s):
    """The ``DeliveryPlan`` of a finished run (module docstring)."""
    endpoints = network_stage.endpoints
    names = [str(n) for n in endpoints.name]
    kinds = [str(k) for k in endpoints.kind]
    n_sat = len(satellite_names)
    relays = config.relays
    node_names = [*satellite_names, *names, *(r.name for r in relays)]
    table = network_stage.summary.contacts.finish()
    visible = contact_plan_from_table(
        table, len(names), gsl_direction="down", node_names=node_names[: n_sat + len(names)]
    )
    stations = _station_nodes(config, names, kinds, n_sat)
    # Downlinks into endpoints that receive nothing (not in ``ground_stations``, or not a
    # ground station at all) are dead ends for routing: they are not passes of this ground
    # segment and would only inflate the pass counts and hours.
    useful = (visible.kind != KIND_GSL_DOWN) | np.isin(visible.to_node, stations)
    if not useful.all():
        visible = _subset(visible, useful)
    down = visible.kind == KIND_GSL_DOWN
    antennas = getattr(endpoints, "antennas", None)
    antennas = np.full(len(names), -1, np.int64) if antennas is None else np.asarray(antennas)
    plan = visible
    if (antennas >= 0).any():
        # Unlimited = as many dishes as satellites: no station can then drop a pass.
        counts = np.r_[np.zeros(n_sat, np.int64), np.where(antennas >= 0, antennas, n_sat)]
        plan = allocate_contact_plan(visible, counts, policy="max-volume")
    relay_nodes = n_sat + len(names) + np.arange(len(relays), dtype=np.int64)
    relay_station = np.zeros(len(relays), np.int64)
    if relays:
        for i, relay in enumerate(relays):
            if relay.ground_station not in names:
                raise ScenarioError(
                    f"observation.relays[{i}].ground_station: {relay.ground_station!r} is not "
                    f"a network endpoint; endpoints: {', '.join(names[:12])}",
                    path=f"observation.relays[{i}].ground_station",
                    value=relay.ground_station,
                )
            relay_station[i] = n_sat + names.index(relay.ground_station)
        e = relay_station - n_sat
        extra = relay_log.contacts(
            horizon_s, relay_station, endpoints.ecef_km()[e], endpoints.up_unit()[e],
            endpoints.min_elevation_deg[e], [names[i] for i in e],
        )  # fmt: skip
        kind = np.where(extra["laser"], KIND_RELAY_LASER, KIND_FEEDER)
        # A feeder station not among the receiving stations gets data only through its relay.
        feeder_only = np.setdiff1d(relay_station, stations)
        own = ~((plan.kind == KIND_GSL_DOWN) & np.isin(plan.to_node, feeder_only))
        plan = ContactPlan.from_arrays(
            np.r_[plan.from_node[own], extra["from_node"]],
            np.r_[plan.to_node[own], extra["to_node"]],
            np.r_[plan.start_s[own], extra["start_s"]],
            np.r_[plan.end_s[own], extra["end_s"]],
            np.r_[plan.rate_bps[own], extra["rate_bps"]],
            np.r_[plan.owlt_s[own], extra["owlt_s"]],
            n_nodes=len(node_names),
            kind=np.r_[plan.kind[own], kind],
            node_names=node_names,
        )
        stations = np.union1d(stations, relay_station)
    station_names = [node_names[i] for i in stations]
    return DeliveryPlan(
        plan=plan,
        stations=stations,
        node_names=node_names,
        station_antennas={n: int(antennas[names.index(n)]) for n in station_names},
        visible_passes=int(down.sum()),
        visible_contact_hours=float(visible.duration_s[down].sum() / 3600.0),
        relay_nodes=relay_nodes,
        relay_station=relay_station,
    )


def _subset(plan: ContactPlan, mask: np.ndarray) -> ContactPlan:
    """The contacts of ``plan`` where ``mask`` holds (order and node names kept)."""
    return ContactPlan.from_arrays(
        plan.from_node[mask], plan.to_node[mask], plan.start_s[mask], plan.end_s[mask],
        plan.rate_bps[mask], plan.owlt_s[mask], n_nodes=plan.n_nodes, kind=plan.kind[mask],
        node_names=plan.node_names,
    )  # fmt: skip


def restrict_to_stations(delivery: DeliveryPlan, keep: np.ndarray) -> ContactPlan:
    """The plan with the downlinks and relay feeders into the stations ``keep`` only (and the
    laser contacts of relays whose station is kept); ISLs stay."""
    plan = delivery.plan
    kept_relays = delivery.relay_nodes[np.isin(delivery.relay_station, keep)]
    ground = (plan.kind == KIND_GSL_DOWN) | (plan.kind == KIND_FEEDER)
    into_relay = np.isin(plan.to_node, delivery.relay_nodes)
    mask = np.where(ground, np.isin(plan.to_node, keep), True)
    mask &= ~into_relay | np.isin(plan.to_node, kept_relays)
    return _subset(plan, mask)
