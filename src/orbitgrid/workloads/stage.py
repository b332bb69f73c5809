"""The workload stage: AI requests from users served on satellites, orbital clusters and ground
data centers, step by step, for every service option of the scenario at once.

Per step (``docs/workloads.md`` has the equations and sources):

1. **Where users are**: fixed populations and movers (``users``), as network endpoints with
   per-step positions; each ground data center is an endpoint too.
2. **How far each site is**: one multi-source search per routed site (a ground DC, an orbital
   cluster's satellites) over the step's laser and ground links gives every user's one-way
   latency and the path's slowest link (``network.site_search``); the overhead satellite is the
   user's nearest visible satellite (one ground link).
3. **What each site can serve**: the serving model (``serving``) gives batch slots, prefill and
   per-token times and energy per request of each class's model on the site's accelerators at
   full power; an orbital site scales them by the compute the core engine *delivered* at that
   step (``compute_fraction``: eclipse, heat and battery limits), a pool of satellites by the
   sum over its satellites. A model that does not fit cannot be placed there.
4. **Where each request goes**: the option's rules remove sites, then its policy
   (``placement.POLICIES``) splits each (user, class) demand over the remaining sites.
5. **Queues**: each pool is an M/M/c queue in steady state (Erlang C) and a fluid FIFO backlog
   in overload (``queueing``); requests whose response would exceed the class's budget are
   dropped. Per option and step: offered = served + dropped + Δqueued.
6. **Results**: time to first token and response-time histograms per (option, population,
   class) weighted by served requests, served and dropped counts, share per site kind, energy
   and tokens, handovers of moving users.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.errors import ScenarioError
from orbitgrid.network.build import (
    build_topology,
    check_network,
    failure_masks,
    serves_workloads_only,
)
from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.routing import FailureMasks
from orbitgrid.network.site_search import site_paths
from orbitgrid.network.topology import constellation_index
from orbitgrid.orbits.frames import inertial_to_ecef_km
from orbitgrid.orbits.timescale import gmst_rad
from orbitgrid.plan import Plan
from orbitgrid.workloads import offline, serving
from orbitgrid.workloads.config import SITE_KINDS, Site, WorkloadsConfig
from orbitgrid.workloads.placement import POLICIES, PlacementProblem
from orbitgrid.workloads.quadrature import TAIL_BINS, WAIT_POINTS, token_factors, wait_point
from orbitgrid.workloads.queueing import fluid_backlog, mmc_wait
from orbitgrid.workloads.users import UserTable, build_users, local_solar_hour

# Bound on block steps × users × classes × sites handled at once (8 MB per float64 array).
GROUP_STEPS_PER_BLOCK = 1_000_000

_TO = ("time", "option")
_TOP = ("time", "option", "population")
# Batches (geometric from 1 to the memory limit) at which the per-token time is tabulated.
_BATCH_POINTS = 48


@dataclass(frozen=True, eq=False)
class SiteTable:
    """The sites as arrays: ``kind_code [site]`` (index of ``SITE_KINDS``), the routed-site
    index of DCs and clusters (``routed [site]``, −1 for overhead sites), the satellites of
    orbital sites (``satellites [site]``: a slice or None), the first queue of each site
    (``queue0``), and per (site, class) the serving figures at full delivered compute."""

    sites: tuple[Site, ...]
    kind_code: np.ndarray
    routed: np.ndarray
    satellites: tuple[slice | None, ...]
    queue0: np.ndarray
    n_queues: int
    fits: np.ndarray  # [site, class] bool
    slots: np.ndarray  # [site, class] batch slots of one server (a DC, or one satellite)
    prefill_s: np.ndarray  # [site, class]
    capacity_per_s: np.ndarray  # [site, class] requests/s of one server at full power
    energy_j: np.ndarray  # [site, class] per request (ground DCs include the PUE)
    batch_grid: np.ndarray  # [site, class, point] batches at which the per-token time is known
    tpot_grid_s: np.ndarray  # [site, class, point] time per output token at those batches
    queue_site: np.ndarray  # [queue] the site of each queue
    dc_endpoint: np.ndarray  # [site] endpoint id of a ground DC in the graph, −1 otherwise
    replicas: np.ndarray  # [site] model copies of a ground DC (1 per satellite for orbital)
    # [queue] identical independent servers behind a queue: the devices of an on_device
    # site's endpoint (its users, or 1 per endpoint); 1 for every other queue.
    queue_units: np.ndarray
    local_share: np.ndarray  # [site, class] share an on_device site answers (0 elsewhere)
    accelerators: np.ndarray  # [site] accelerators of one server (DC replica, satellite, device)


class WorkloadStage:
    """AI requests over the network and the serving sites (see the module docstring)."""

    name = "workloads"
    variables = tuple(
        Variable(name, dims, units, long_name, decimated=True)
        for name, dims, units, long_name in (
            ("offered_per_s", _TO, "1/s", "requests offered"),
            ("served_per_s", _TO, "1/s", "requests served"),
            (
                "dropped_per_s",
                _TO,
                "1/s",
                "requests dropped (no site, no capacity, over budget, given up on a device)",
            ),
            (
                "queued",
                _TO,
                "1",
                "requests waiting at the end of the step: in the sites' queues and, offline, "
                "on the users' devices",
            ),
            ("outbox_bytes", _TO, "B", "bytes of requests held on devices waiting for a link"),
            (
                "response_time_s",
                ("time", "option", "user"),
                "s",
                "mean response time of the user's served requests (NaN: none served)",
            ),
            (
                "population_offered_per_s",
                _TOP,
                "1/s",
                "requests offered by the population's users",
            ),
            (
                "population_served_per_s",
                _TOP,
                "1/s",
                "requests of the population served within budget (counted when placed)",
            ),
            ("user_latitude_deg", ("time", "user"), "deg", "user position, geodetic latitude"),
            ("user_longitude_deg", ("time", "user"), "deg", "user position, longitude"),
            (
                "serving_satellite",
                ("time", "user"),
                "1",
                "satellite the user is linked to (nearest in view; -1: none)",
            ),
        )
    )

    def __init__(self, plan: Plan):
        scenario = plan.scenario
        self.config: WorkloadsConfig = scenario.workloads
        if scenario.network is None:
            raise ScenarioError(
                "workloads need a network: section for the links users reach sites over "
                "(isl, gsl and routing settings; endpoints are optional)",
                "workloads",
                None,
            )
        self.users: UserTable = build_users(self.config)
        self.sites = _site_table(plan, self.config, self.users)
        self.endpoints = _graph_endpoints(self.users, self.sites, scenario.network)
        if serves_workloads_only(scenario):
            check_network(plan)  # an endpoint failure would name nothing: an error, not ignored
        # The network section's endpoint failures name its own endpoints, not the users and
        # sites here: only its satellite and laser-link failures apply.
        failures = scenario.network.failures
        self.network = scenario.network.model_copy(
            update={
                "failures": failures.model_copy(
                    update={"scheduled": [f for f in failures.scheduled if f.element != "endpoint"]}
                )
            }
        )
        self.topology = build_topology(self.network, constellation_index(plan), self.endpoints)
        n_users = len(self.users)
        self._dc_ecef = self.endpoints.ecef_km()[n_users:]
        self._dc_up = self.endpoints.up_unit()[n_users:]
        # The nodes each routed site's search starts from, in routed-site order.
        self._sources: list[np.ndarray] = []
        for k, site in enumerate(self.config.sites):
            if site.kind == "ground_dc":
                node = plan.satellite_count + n_users + self.sites.dc_endpoint[k]
                self._sources.append(np.array([node], np.int64))
            elif site.kind == "orbital_cluster":
                members = self.sites.satellites[k]
                self._sources.append(np.arange(members.start, members.stop, dtype=np.int64))
        self.classes = self.config.classes
        self._max_hold_s = np.array(
            [np.inf if c.max_hold_s is None else c.max_hold_s for c in self.classes]
        )
        self.summary: Any = None
        # Every (on_device site, update stream) pair, in site order.
        self.update_streams = [
            (k, update)
            for k, site in enumerate(self.config.sites)
            if site.kind == "on_device"
            for update in site.updates
        ]
        # Bytes a request sends (its payload and prompt): what an outbox holds per request.
        self.upload_bytes = np.array(
            [c.upload_bytes + c.prompt_tokens.mean * c.bytes_per_token for c in self.classes]
        )

    # ---------------------------------------------------------------- contract

    def coordinates(self, plan: Plan) -> dict[str, Any]:
        return {
            "option": ("option", np.array([o.name for o in self.config.options])),
            "population": ("population", np.array([p.name for p in self.config.populations])),
            "user": ("user", np.array([str(label) for label in self.users.label])),
            "user_population": (
                "user",
                np.array([self.users.names[p] for p in self.users.population]),
            ),
        }

    def initial_state(self, plan: Plan) -> dict[str, np.ndarray]:
        n_opt = len(self.config.options)
        n_u = len(self.users)
        return {
            "backlog": np.zeros((n_opt, self.sites.n_queues)),
            "serving_satellite": np.full(n_u, -1, np.int64),
            "outbox": np.stack([offline.new_outbox(n_u, len(self.classes))] * n_opt),
            "versions": offline.new_versions(n_u, len(self.update_streams), 0.0),
        }

    def reducer(self, plan: Plan):
        from orbitgrid.workloads.summary import WorkloadSummary

        self.summary = WorkloadSummary(self, plan)
        return self.summary

    def block_steps(self) -> int:
        per_step = len(self.users) * len(self.classes) * len(self.config.sites)
        return max(1, GROUP_STEPS_PER_BLOCK // max(1, per_step))

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        ecef_km = inertial_to_ecef_km(
            arrays["position_km"], gmst_rad(chunk.jd_whole, chunk.jd_fraction)
        )
        fraction = arrays["compute_fraction_every_step"]
        stride = plan.scenario.stored_stride
        kept: dict[str, list[np.ndarray]] = {v.name: [] for v in self.variables}
        size = self.block_steps()
        state = {key: value.copy() for key, value in state.items()}
        for start in range(0, chunk.step_count, size):
            block = slice(start, min(start + size, chunk.step_count))
            outputs = self._block(plan, chunk, block, ecef_km[block], fraction[block], state)
            if stride:
                steps = np.arange(block.start, block.stop)
                local = steps[steps % stride == 0] - block.start
                for name in kept:
                    kept[name].append(outputs[name][local])
        result = {}
        for v in self.variables:
            if kept[v.name]:
                result[v.name] = np.concatenate(kept[v.name])
            else:
                shape = [0] + [self._dim_size(d) for d in v.dims[1:]]
                result[v.name] = np.empty(shape)
        return result, state

    def _dim_size(self, dim: str) -> int:
        return {
            "option": len(self.config.options),
            "user": len(self.users),
            "population": len(self.config.populations),
        }[dim]

    # ---------------------------------------------------------------- one block of steps

    def _block(self, plan, chunk, block, sat_ecef_km, fraction, state) -> dict[str, np.ndarray]:
        t_s = chunk.t_s[block]
        times = chunk.times_utc[block]
        step_s = chunk.step_s
        users = self.users
        n_t, n_u = len(t_s), len(users)
        lat, lon, alt, active = users.positions(t_s)
        # Outside its link windows an endpoint has no ground link, for every option.
        reachable = active & users.link_open(t_s)
        user_ecef, user_up = users.ecef(lat, lon, alt)
        n_dc = self._dc_ecef.shape[0]
        ep_ecef = np.concatenate([user_ecef, np.broadcast_to(self._dc_ecef, (n_t, n_dc, 3))], 1)
        ep_up = np.concatenate([user_up, np.broadcast_to(self._dc_up, (n_t, n_dc, 3))], 1)
        ep_down = np.concatenate([~reachable, np.zeros((n_t, n_dc), bool)], 1)
        failed = self._failures(t_s)
        paths = site_paths(
            sat_ecef_km, ep_ecef, ep_up, self.topology, self._sources,
            satellite_down=failed.satellite, endpoint_down=ep_down, isl_down=failed.isl,
        )  # fmt: skip
        # A failed satellite neither relays nor serves.
        fraction = np.where(failed.satellite, 0.0, fraction)
        near = paths.overhead_satellite[:, :n_u]
        # The state is each user's last serving satellite, kept across steps without a link
        # (as within a block), so that handovers do not depend on the block or chunk size.
        handovers, state["serving_satellite"] = _handovers(near, state["serving_satellite"])
        groups = self._groups(paths, fraction, near, n_u)
        demand = self._demand(times, lon, active)
        linked = near >= 0
        if self.update_streams:
            stale = offline.staleness(
                linked,
                paths.overhead_rate_bps[:, :n_u],
                self._devices_per_endpoint(),
                t_s,
                step_s,
                np.array([u.size_bytes for _, u in self.update_streams]),
                np.array([u.every_s for _, u in self.update_streams]),
                0.0,
                state["versions"],
            )
            if self.summary is not None:
                self.summary.fold_staleness(stale, active, step_s)
        outputs: dict[str, np.ndarray] = {
            "user_latitude_deg": lat.astype(np.float32),
            "user_longitude_deg": lon.astype(np.float32),
            "serving_satellite": near.astype(np.int32),
        }
        per_option = []
        for o, option in enumerate(self.config.options):
            allowed = self._allowed(option)
            latency = np.where(allowed[None, :, None, :], groups.latency_s, np.inf)
            device = self._device_site(option)
            outbox = None
            if device is None:
                remote_per_s, local_per_s = demand, None
            else:
                # Offline first: the device answers its share; the rest goes out now if the
                # user has a link, else waits on the device for one.
                can = np.isfinite(latency[..., device])
                local_per_s = demand * np.where(can, self.sites.local_share[device], 0.0)
                held_in = state["outbox"][o][..., 0].sum()
                outbox = offline.run_outbox(
                    (demand - local_per_s) * step_s,
                    linked,
                    t_s,
                    step_s,
                    state["outbox"][o],
                    self._max_hold_s,
                )
                remote_per_s = (outbox.direct + outbox.released) / step_s
                latency_remote = latency.copy()
                latency_remote[..., device] = np.inf
            problem = PlacementProblem(
                latency_s=latency if device is None else latency_remote,
                energy_j=np.broadcast_to(self.sites.energy_j.T[None, None], latency.shape),
                demand_per_s=remote_per_s,
                queue=groups.queue,
                capacity_per_s=groups.capacity_per_s,
                spill_utilisation=option.spill_utilisation,
                preference=self._preference(option),
            )
            placed = POLICIES[option.policy](problem) * remote_per_s[..., None]
            if device is not None:
                placed[..., device] += local_per_s
            flows = _serve(
                placed,
                remote_per_s if device is None else remote_per_s + local_per_s,
                latency,
                groups,
                self.sites,
                self.classes,
                state["backlog"][o],
                step_s,
            )
            if outbox is not None:
                flows = self._with_outbox(flows, outbox, demand, held_in, step_s, device)
            state["backlog"][o] = flows.backlog_out
            per_option.append(flows)
            if self.summary is not None:
                self.summary.fold(o, flows, step_s, device=-1 if device is None else device)
        if self.summary is not None:
            self.summary.fold_users(handovers, active, step_s)
        for name in ("offered_per_s", "served_per_s", "dropped_per_s", "queued", "outbox_bytes"):
            outputs[name] = np.stack(
                [np.zeros(n_t) if getattr(f, name) is None else getattr(f, name)
                 for f in per_option], 1).astype(np.float32)  # fmt: skip
        # Per population: users' figures summed per population (linear in users).
        for name, per_user in (
            ("population_offered_per_s", lambda f: f.offered.sum(2)),
            ("population_served_per_s", lambda f: f.served.sum((2, 3))),
        ):
            stacked = np.stack([per_user(f) for f in per_option], 1)  # [time, option, user]
            outputs[name] = (self._population_sums(stacked) / step_s).astype(np.float32)
        outputs["response_time_s"] = np.stack([f.user_response_s for f in per_option], 1).astype(
            np.float32
        )
        return outputs

    def _population_sums(self, per_user: np.ndarray) -> np.ndarray:
        """``[..., user]`` → ``[..., population]``: each population's users summed, by one
        ``bincount`` over (row, population) cells for every leading index at once (linear in
        users, whatever the number of populations; a population without users sums to 0)."""
        rows = int(np.prod(per_user.shape[:-1]))
        n_p = len(self.config.populations)
        cell = np.arange(rows)[:, None] * n_p + self.users.population[None, :]
        sums = np.bincount(cell.ravel(), weights=per_user.ravel(), minlength=rows * n_p)
        return sums.reshape(*per_user.shape[:-1], n_p)

    def _demand(self, times, lon_deg, active) -> np.ndarray:
        """Offered requests/s ``[time, user, class]``: users × peak rate × diurnal factor of
        the local solar hour × active × the class mask."""
        hour = local_solar_hour(times, lon_deg).astype(np.int64) % 24
        profiles = np.array([c.profile for c in self.classes])  # [class, 24]
        peak = np.array([c.rate_per_user_h for c in self.classes]) / 3600.0
        factor = profiles[:, hour].transpose(1, 2, 0)  # [time, user, class]
        users = self.users
        return (
            users.users[None, :, None]
            * peak[None, None, :]
            * factor
            * active[..., None]
            * users.class_mask[None]
        )

    def _failures(self, t_s: np.ndarray) -> FailureMasks:
        """Satellite and laser-link failures of the network section at these steps (the same
        masks as the network stage: same seed, same ISL order)."""
        masks = failure_masks(self.network, t_s, self.topology, self.endpoints)
        return FailureMasks(satellite=masks.satellite, isl=masks.isl)

    def _device_site(self, option) -> int | None:
        """Index of the option's on_device site (at most one), None without one."""
        for k, site in enumerate(self.config.sites):
            if site.kind == "on_device" and site.name in option.sites:
                return k
        return None

    def _devices_per_endpoint(self) -> np.ndarray:
        """``[user]`` devices downloading updates over each endpoint's link (``per: user``:
        one per user; ``per: endpoint``: one) — the first on_device site's setting."""
        k = self.update_streams[0][0]
        per_user = self.config.sites[k].per == "user"
        return self.users.users if per_user else np.ones(len(self.users))

    def _with_outbox(self, flows, outbox, demand_per_s, held_in, step_s, device) -> Flows:
        """Per-step totals of an offline-first option: requests arrive at ``demand`` (not at
        what the placement saw), those held on the devices (``held_in`` before the block)
        count as queued, and those given up there as dropped; each user's mean response
        includes the wait on the device of the requests sent from the outbox (as the
        summary's response times do)."""
        held = outbox.held_end.sum((1, 2))
        held_before = np.concatenate([[held_in], held[:-1]])
        sent = outbox.direct + outbox.released
        with np.errstate(invalid="ignore", divide="ignore"):
            # Mean wait on the device of the requests sent to remote sites [time, user, class].
            deferred_s = np.where(
                sent > 0, outbox.released / sent * outbox.wait_points_s.mean(-1), 0.0
            )
        remote_served = flows.served.sum(-1) - flows.served[..., device]
        user_served = flows.served.sum((2, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            user_response = np.where(
                user_served > 0,
                flows.user_response_s + (remote_served * deferred_s).sum(-1) / user_served,
                np.nan,
            )
        return dataclasses.replace(
            flows,
            offered_per_s=demand_per_s.sum((1, 2)),
            offered=demand_per_s * step_s,
            dropped_per_s=flows.dropped_per_s + outbox.expired.sum((1, 2)) / step_s,
            queued=flows.queued + held,
            backlog_change=flows.backlog_change + held - held_before,
            outbox=outbox,
            outbox_bytes=(outbox.held_end * self.upload_bytes).sum((1, 2)),
            user_response_s=user_response,
        )

    def _preference(self, option) -> np.ndarray:
        """``[site]`` position of each site in the option's list (inf: not in it)."""
        rank = {name: i for i, name in enumerate(option.sites)}
        return np.array([rank.get(s.name, np.inf) for s in self.config.sites], np.float64)

    def _allowed(self, option) -> np.ndarray:
        """``[user, site]``: the option's sites, less those its rules remove."""
        names = [s.name for s in self.config.sites]
        in_option = np.array([n in option.sites for n in names])
        if option.site_kinds is not None:
            in_option &= np.array([s.kind in option.site_kinds for s in self.config.sites])
        allowed = np.broadcast_to(in_option, (len(self.users), len(names))).copy()
        if option.same_jurisdiction:
            site_j = np.array([s.jurisdiction or "" for s in self.config.sites], dtype=object)
            user_j = self.users.jurisdiction
            # Users without a jurisdiction (at sea, in the air) are not restricted by the rule.
            same = (user_j[:, None] == site_j[None, :]) | (user_j[:, None] == "")
            # The user's own device is where the user is: always in the user's jurisdiction.
            same |= np.array([s.kind == "on_device" for s in self.config.sites])[None, :]
            allowed &= same
        return allowed

    def _groups(self, paths, fraction, near, n_u) -> Groups:
        """Expected response times, queues and capacities of every (step, user, class, site)."""
        sites = self.sites
        n_t = near.shape[0]
        n_k = len(sites.sites)
        n_c = len(self.classes)
        one_way_ms = np.full((n_t, n_u, n_k), np.nan)
        rate_bps = np.full((n_t, n_u, n_k), np.nan)
        delivered = np.zeros((n_t, n_u, n_k))
        queue = np.zeros((n_t, n_u, n_k), np.int64)
        servers = np.zeros((n_t, sites.n_queues, n_c))
        capacity = np.zeros((n_t, sites.n_queues, n_c))
        for k, site in enumerate(sites.sites):
            q0 = sites.queue0[k]
            if site.kind == "overhead_satellite":
                sl = sites.satellites[k]
                mine = (near >= sl.start) & (near < sl.stop)
                one_way_ms[:, :, k] = np.where(mine, paths.overhead_latency_ms[:, :n_u], np.nan)
                rate_bps[:, :, k] = np.where(mine, paths.overhead_rate_bps[:, :n_u], np.nan)
                local = np.where(mine, near - sl.start, 0)
                f = fraction[:, sl][np.arange(n_t)[:, None], local]
                delivered[:, :, k] = np.where(mine, f, 0.0)
                queue[:, :, k] = q0 + local
                f_sat = fraction[:, sl]  # [time, satellite of the shell]
                capacity[:, q0 : q0 + f_sat.shape[1], :] = (
                    f_sat[..., None] * sites.capacity_per_s[k][None, None, :]
                )
                servers[:, q0 : q0 + f_sat.shape[1], :] = (f_sat[..., None] > 0) * sites.slots[k]
            elif site.kind == "on_device":
                # On the user's own device: no link, no transfer; a queue per endpoint, whose
                # devices (queue_units) each serve with the device's batch slots.
                one_way_ms[:, :, k] = 0.0
                rate_bps[:, :, k] = np.inf
                delivered[:, :, k] = 1.0
                queue[:, :, k] = q0 + np.arange(n_u)[None, :]
                units = sites.queue_units[q0 : q0 + n_u]
                capacity[:, q0 : q0 + n_u, :] = units[:, None] * sites.capacity_per_s[k]
                servers[:, q0 : q0 + n_u, :] = sites.slots[k]
            else:
                r = sites.routed[k]
                one_way_ms[:, :, k] = paths.latency_ms[:, r, :n_u]
                rate_bps[:, :, k] = paths.rate_bps[:, r, :n_u]
                queue[:, :, k] = q0
                if site.kind == "ground_dc":
                    delivered[:, :, k] = 1.0
                    replicas = sites.replicas[k]
                    capacity[:, q0, :] = replicas * sites.capacity_per_s[k][None, :]
                    servers[:, q0, :] = replicas * sites.slots[k][None, :]
                else:
                    f_sat = fraction[:, sites.satellites[k]]
                    up = (f_sat > 0).sum(axis=1)
                    total = f_sat.sum(axis=1)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        mean_f = np.where(up > 0, total / np.maximum(up, 1), 0.0)
                    delivered[:, :, k] = mean_f[:, None]
                    capacity[:, q0, :] = total[:, None] * sites.capacity_per_s[k][None, :]
                    servers[:, q0, :] = up[:, None] * sites.slots[k][None, :]
        classes = self.classes
        up_bits = np.array([8.0 * (c.upload_bytes + c.prompt_tokens.mean * c.bytes_per_token)
                            for c in classes])  # fmt: skip
        down_bits = np.array([8.0 * (c.download_bytes + c.output_tokens.mean * c.bytes_per_token)
                              for c in classes])  # fmt: skip
        with np.errstate(invalid="ignore", divide="ignore"):
            f = delivered[:, :, None, :]  # [time, user, 1, site]
            rtt_s = 2.0 * one_way_ms[:, :, None, :] / 1e3
            rate = rate_bps[:, :, None, :]
            prefill = sites.prefill_s.T[None, None] / f
            tokens_out = np.array([c.output_tokens.mean for c in classes])
            # Unloaded: every token at the batch-1 speed (the queue stage adds the load's).
            decode = tokens_out[None, None, :, None] * sites.tpot_grid_s[..., 0].T[None, None] / f
            ttft = rtt_s + up_bits[None, None, :, None] / rate + prefill
            fixed = ttft + down_bits[None, None, :, None] / rate
            total = fixed + decode
            usable = np.isfinite(total) & (f > 0) & sites.fits.T[None, None] & (rate > 0)
        return Groups(
            latency_s=np.where(usable, total, np.inf),
            fixed_s=np.where(usable, fixed, np.inf),
            slowdown=np.where(delivered > 0, 1.0 / np.where(delivered > 0, delivered, 1.0), 0.0),
            output_tokens=tokens_out,
            ttft_s=np.where(usable, ttft, np.inf),
            queue=queue,
            servers=servers,
            capacity_per_s=capacity,
        )


@dataclass(frozen=True, eq=False)
class Groups:
    """Per (step, user, class, site): ``latency_s`` (response without queueing, unloaded
    site), ``fixed_s`` (its part that does not depend on the load: round trip, transfers,
    prefill), ``ttft_s``, inf where the site cannot serve;
    ``slowdown [time, user, site]`` 1 / delivered fraction; ``output_tokens [class]``;
    ``queue [time, user, site]``; per (step, queue, class) ``servers`` (batch slots) and
    ``capacity_per_s``."""

    latency_s: np.ndarray
    fixed_s: np.ndarray
    slowdown: np.ndarray
    output_tokens: np.ndarray
    ttft_s: np.ndarray
    queue: np.ndarray
    servers: np.ndarray
    capacity_per_s: np.ndarray


@dataclass(frozen=True, eq=False)
class Flows:
    """One option's results for a block of steps.

    Per step (``[time]``): ``offered_per_s``, ``served_per_s``, ``dropped_per_s``, ``queued``
    (end of step). Per (step, user, class, site) requests in the step: ``served``,
    ``dropped_late`` (over budget), ``latency_s`` and ``ttft_s``; the wait model of each
    queue (``[time, queue]``: Erlang C ``wait_probability``, ``decay_rate_per_s``, the
    fluid ``queued_fraction`` and ``fluid_wait_s``; ``quadrature.wait_point``) and the
    ``queue [time, user, site]`` of each group, for the histograms. ``dropped_no_site [time,
    user, class]``: demand no allowed site could take; ``dropped_capacity``: dropped by
    full queues. ``user_response_s [time, user]``; ``backlog_out [queue]``.
    """

    offered_per_s: np.ndarray
    served_per_s: np.ndarray
    dropped_per_s: np.ndarray
    queued: np.ndarray
    offered: np.ndarray  # [time, user, class]
    served: np.ndarray
    dropped_late: np.ndarray
    dropped_capacity: np.ndarray  # [time, user, class, site]
    dropped_no_site: np.ndarray
    latency_s: np.ndarray
    ttft_s: np.ndarray
    queue: np.ndarray  # [time, user, site]
    wait_probability: np.ndarray  # [time, queue]
    decay_rate_per_s: np.ndarray
    queued_fraction: np.ndarray
    fluid_wait_s: np.ndarray
    decode_s: np.ndarray  # [time, user, class, site] decode time at the mean output tokens
    token_factors: np.ndarray  # [class, point] output tokens / mean
    token_weights: np.ndarray  # [point] share of requests at each token point
    budget_s: np.ndarray  # [class]
    user_response_s: np.ndarray
    backlog_out: np.ndarray
    backlog_change: np.ndarray  # [time]
    outbox: offline.OutboxFlows | None = None  # offline-first options only
    outbox_bytes: np.ndarray | None = None  # [time]


def _serve(placed_per_s, demand_per_s, latency, groups, sites, classes, backlog_in, step_s):
    """Queues of one option for a block: Erlang C in steady state, fluid backlog in overload
    (``queueing``), late requests dropped; returns ``Flows``."""
    n_t = placed_per_s.shape[0]
    n_q = sites.n_queues
    budget = np.array([c.latency_budget_s for c in classes])
    finite = np.isfinite(latency)
    placed_per_s = np.where(finite, placed_per_s, 0.0)
    lam_qc = _scatter_queues(placed_per_s, groups.queue, n_q)  # [time, queue, class]
    cap_qc = groups.capacity_per_s
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(cap_qc > 0, lam_qc / cap_qc, np.where(lam_qc > 0, np.inf, 0.0)).sum(-1)
        lam_q = lam_qc.sum(-1)
        # Capacity in requests/s at the step's class mix (its mean if nothing arrives).
        mean_cap = np.where(
            (cap_qc > 0).any(-1), cap_qc.sum(-1) / np.maximum((cap_qc > 0).sum(-1), 1), 0.0
        )
        cap_mix = np.where(lam_q > 0, np.where(rho > 0, lam_q / rho, 0.0), mean_cap)
        # Budget on the wait: the load-weighted budget less the mean response without queue.
        lat_fin = np.where(finite, latency, 0.0)
        weighted = _scatter_queues(placed_per_s * (budget[None, None, :, None] - lat_fin),
                                   groups.queue, n_q).sum(-1)  # fmt: skip
        max_wait = np.where(lam_q > 0, np.maximum(weighted / np.maximum(lam_q, 1e-300), 0.0),
                            budget.max())  # fmt: skip
    fluid = fluid_backlog(lam_q * step_s, cap_mix * step_s, max_wait, step_s, backlog_in)
    # Decode at the step's load: busy slots ρ × c set the batch (Little's law at the pool).
    tpot = _tpot_at_load(np.minimum(rho, 1.0), sites.queue_site, sites.slots,
                         sites.batch_grid, sites.tpot_grid_s)  # fmt: skip
    latency = _loaded_latency(groups.fixed_s, groups.slowdown, groups.output_tokens,
                              tpot, groups.queue)  # fmt: skip
    finite = np.isfinite(latency)
    # The decode part scales with each request's output tokens (TOKEN_POINTS of them).
    decode = np.where(finite, latency - np.where(finite, groups.fixed_s, 0.0), 0.0)
    factors = np.array([token_factors(c.output_tokens.cv) for c in classes])
    token_weights = TAIL_BINS
    if not any(c.output_tokens.cv > 0 for c in classes):
        factors, token_weights = factors[:, :1], np.ones(1)
    servers_q = np.where(lam_q > 0, _mix(groups.servers, lam_qc), groups.servers.max(-1))
    # A queue of identical devices (queue_units of them) is that many independent M/M/c
    # queues, each with its share of the arrivals: the wait of one of them.
    units = sites.queue_units[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_q = np.where(servers_q > 0, cap_mix / (units * servers_q), 0.0)
    steady = mmc_wait(servers_q, np.minimum(lam_q / units, 0.999999 * servers_q * mu_q), mu_q)
    # Capacity drops of each queue, shared by its groups in proportion to what they offered.
    offered_q = lam_q * step_s
    with np.errstate(invalid="ignore", divide="ignore"):
        drop_share = np.where(offered_q > 0, fluid.dropped / offered_q, 0.0)
    offered_g = placed_per_s * step_s
    t_idx = np.arange(n_t)[:, None, None]
    share_g = drop_share[t_idx, groups.queue][:, :, None, :]  # [time, user, 1, site]
    dropped_capacity = offered_g * np.minimum(share_g, 1.0)
    # Late: the (wait, output tokens) points whose response would exceed the class budget.
    wait = (steady.wait_probability, steady.decay_rate_per_s, fluid.queued_fraction,
            fluid.mean_queued_wait_s)  # fmt: skip
    late_share, mean_wait = _late_share(
        np.where(finite, latency, np.inf), decode, groups.queue, *wait, factors,
        token_weights, budget,
    )  # fmt: skip
    accepted = offered_g - dropped_capacity
    dropped_late = accepted * late_share
    served = accepted - dropped_late
    offered = demand_per_s * step_s
    dropped_no_site = offered - offered_g.sum(-1)
    dropped_no_site = np.where(dropped_no_site > 1e-12 * np.maximum(offered, 1), dropped_no_site,
                               0.0)  # fmt: skip
    # Served of the step in the queue sense (a backlog drains into later steps).
    queued_end = fluid.backlog.sum(-1)
    backlog_before = np.concatenate([[backlog_in.sum()], queued_end[:-1]])
    backlog_change = queued_end - backlog_before
    dropped_total = (
        dropped_no_site.sum((1, 2)) + fluid.dropped.sum(-1) + dropped_late.sum((1, 2, 3))
    )
    offered_total = offered.sum((1, 2))
    served_total = offered_total - dropped_total - backlog_change
    with np.errstate(invalid="ignore", divide="ignore"):
        response = np.where(served > 0, latency + mean_wait, 0.0)
        user_served = served.sum((2, 3))
        user_response = np.where(
            user_served > 0, (served * response).sum((2, 3)) / user_served, np.nan
        )
    return Flows(
        offered_per_s=offered_total / step_s,
        served_per_s=served_total / step_s,
        dropped_per_s=dropped_total / step_s,
        queued=queued_end,
        offered=offered,
        served=served,
        dropped_late=dropped_late,
        dropped_capacity=dropped_capacity,
        dropped_no_site=dropped_no_site,
        latency_s=np.where(finite, latency, 0.0),
        ttft_s=np.where(finite, groups.ttft_s, 0.0),
        queue=groups.queue,
        wait_probability=wait[0],
        decay_rate_per_s=wait[1],
        queued_fraction=wait[2],
        fluid_wait_s=wait[3],
        decode_s=decode,
        token_factors=factors,
        token_weights=token_weights,
        budget_s=budget,
        user_response_s=user_response,
        backlog_out=fluid.backlog_out,
        backlog_change=backlog_change,
    )


@nb.njit(cache=True)
def _late_share(latency, decode, queue, c_prob, theta, queued, fluid_wait, factors,
                token_weights, budget):  # fmt: skip
    """Per group ``[time, user, class, site]``: the share of requests over budget — over the
    wait quadrature of its queue (``quadrature.wait_point``) and the output-token points,
    those whose response ``latency + (factor − 1) × decode + wait`` exceeds the class budget
    — and the mean wait of the others at the mean output tokens."""
    n_t, n_u, n_c, n_k = latency.shape
    n_q = factors.shape[1]
    share = np.zeros(latency.shape)
    mean_wait = np.zeros(latency.shape)
    for t in range(n_t):
        for u in range(n_u):
            for k in range(n_k):
                g = queue[t, u, k]
                for c in range(n_c):
                    base = latency[t, u, c, k]
                    if not np.isfinite(base):
                        continue
                    late = 0.0
                    on_time = 0.0
                    waited = 0.0
                    for j in range(WAIT_POINTS):
                        w_s, w = wait_point(j, c_prob[t, g], theta[t, g], queued[t, g],
                                            fluid_wait[t, g])  # fmt: skip
                        if w <= 0.0:
                            continue
                        for q in range(n_q):
                            x = base + (factors[c, q] - 1.0) * decode[t, u, c, k] + w_s
                            if x > budget[c]:
                                late += w * token_weights[q]
                        if base + w_s <= budget[c]:
                            on_time += w
                            waited += w * w_s
                    share[t, u, c, k] = late
                    if on_time > 0.0:
                        mean_wait[t, u, c, k] = waited / on_time
    return share, mean_wait


@nb.njit(cache=True)
def _tpot_at_load(rho, queue_site, slots, batch_grid, tpot_grid):
    """Time per output token ``[time, queue, class]`` at the batch ``ρ × slots`` (≥ 1),
    interpolated in the site's table."""
    n_t, n_q = rho.shape
    n_c = slots.shape[1]
    out = np.empty((n_t, n_q, n_c))
    for t in range(n_t):
        for q in range(n_q):
            k = queue_site[q]
            for c in range(n_c):
                b = rho[t, q] * slots[k, c]
                if b <= batch_grid[k, c, 0]:  # idle or lightly loaded: the batch-1 speed
                    out[t, q, c] = tpot_grid[k, c, 0]
                else:
                    out[t, q, c] = np.interp(b, batch_grid[k, c], tpot_grid[k, c])
    return out


@nb.njit(cache=True)
def _loaded_latency(fixed, slowdown, tokens, tpot, queue):
    """Response time without queueing at the step's load ``[time, user, class, site]``."""
    n_t, n_u, n_c, n_k = fixed.shape
    out = np.empty(fixed.shape)
    for t in range(n_t):
        for u in range(n_u):
            for k in range(n_k):
                q = queue[t, u, k]
                for c in range(n_c):
                    out[t, u, c, k] = (
                        fixed[t, u, c, k] + tokens[c] * tpot[t, q, c] * slowdown[t, u, k]
                    )
    return out


def _mix(servers_qc: np.ndarray, lam_qc: np.ndarray) -> np.ndarray:
    """Batch slots of a pool at the step's class mix: the arrival-weighted mean over classes."""
    total = lam_qc.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (servers_qc * lam_qc).sum(-1) / total, 0.0)


@nb.njit(cache=True)
def _scatter_queues(values, queue, n_queues):
    """Sum ``values [time, user, class, site]`` into ``[time, queue, class]`` by ``queue
    [time, user, site]``."""
    n_t, n_u, n_c, n_k = values.shape
    out = np.zeros((n_t, n_queues, n_c))
    for t in range(n_t):
        for u in range(n_u):
            for k in range(n_k):
                q = queue[t, u, k]
                for c in range(n_c):
                    out[t, q, c] += values[t, u, c, k]
    return out


@nb.njit(cache=True)
def _handovers(near, last):
    """Changes of each user's serving satellite over a block ``[user]``, continuing from
    ``last`` (the satellite of the user's last step with a link before the block, −1 at the
    start: no handover); also returns that satellite at the end of the block."""
    n_t, n_u = near.shape
    out = np.zeros(n_u, np.int64)
    final = last.copy()
    for u in range(n_u):
        prev = last[u]
        for t in range(n_t):
            s = near[t, u]
            if s >= 0 and prev >= 0 and s != prev:
                out[u] += 1
            if s >= 0:
                prev = s
        final[u] = prev
    return out, final


def _site_table(plan: Plan, config: WorkloadsConfig, users: UserTable) -> SiteTable:
    """Resolve each site: its shell's satellites and spacecraft, and the serving figures of
    every class's model on its accelerators (an on_device site: of its local model)."""
    shells = {shell.name: shell for shell in plan.shells}
    n_k, n_c = len(config.sites), len(config.classes)
    fits = np.zeros((n_k, n_c), bool)
    slots = np.zeros((n_k, n_c))
    prefill = np.full((n_k, n_c), np.inf)
    capacity = np.zeros((n_k, n_c))
    energy = np.full((n_k, n_c), np.inf)
    batch_grid = np.ones((n_k, n_c, _BATCH_POINTS))
    tpot_grid = np.full((n_k, n_c, _BATCH_POINTS), np.inf)
    kind_code = np.array([SITE_KINDS.index(s.kind) for s in config.sites], np.int64)
    routed = np.full(n_k, -1, np.int64)
    queue0 = np.zeros(n_k, np.int64)
    satellites: list[slice | None] = []
    dc_endpoint = np.full(n_k, -1, np.int64)
    replicas = np.ones(n_k, np.int64)
    local_share = np.zeros((n_k, n_c))
    accelerators = np.zeros(n_k)
    unit_blocks: dict[int, np.ndarray] = {}
    n_routed = 0
    for k, site in enumerate(config.sites):
        if site.kind in ("ground_dc", "orbital_cluster"):
            routed[k] = n_routed
            queue0[k] = n_routed
            n_routed += 1
    n_queues = n_routed
    n_dc = 0
    for k, site in enumerate(config.sites):
        where = f"workloads.sites[{k}]"
        if site.kind == "ground_dc":
            accelerator, pue = site.accelerator, site.pue
            count = min(site.accelerators_per_replica, site.count)
            replicas[k] = site.count // count
            satellites.append(None)
            dc_endpoint[k] = n_dc
            n_dc += 1
        elif site.kind == "on_device":
            accelerator, count, pue = site.accelerator, site.count or 1, 1.0
            satellites.append(None)
            queue0[k] = n_queues
            n_queues += len(users)
            unit_blocks[k] = users.users if site.per == "user" else np.ones(len(users))
            local_share[k] = [site.answers.get(c.name, 0.0) for c in config.classes]
        else:
            if site.shell not in shells:
                raise ScenarioError(
                    f"{where}.shell: no constellation shell {site.shell!r}; shells: "
                    f"{', '.join(shells)}",
                    f"{where}.shell",
                    site.shell,
                )
            shell = shells[site.shell]
            compute = plan.scenario.spacecraft[shell.spacecraft].compute
            accelerator, count, pue = compute.accelerator, compute.count, 1.0
            satellites.append(shell.satellites)
            if site.kind == "overhead_satellite":
                queue0[k] = n_queues
                n_queues += shell.size
        accelerators[k] = count
        # A device runs llama.cpp-class software (its per-step overhead), sites a serving stack.
        assumptions = serving.DATACENTER_STACK
        if site.kind == "on_device":
            assumptions = serving.LLAMA_CPP_EDGE
        if site.utilisation is not None:
            assumptions = dataclasses.replace(assumptions, compute_utilisation=site.utilisation)
        for c, request in enumerate(config.classes):
            model = site.model or request.model
            point = _operating_point(request, model, accelerator, count, assumptions, site)
            fits[k, c] = point is not None and (site.kind != "on_device" or local_share[k, c] > 0)
            if point is not None:
                figures, batch_grid[k, c], tpot_grid[k, c] = point
                slots[k, c] = float(figures.slots)
                prefill[k, c] = float(figures.prefill_time_s)
                capacity[k, c] = float(figures.request_rate_per_s)
                energy[k, c] = float(figures.energy_per_request_j) * pue
    queue_site = np.zeros(n_queues, np.int64)
    queue_units = np.ones(n_queues)
    for k, site in enumerate(config.sites):
        width = 1
        if site.kind == "overhead_satellite":
            width = satellites[k].stop - satellites[k].start
        elif site.kind == "on_device":
            width = len(users)
            queue_units[queue0[k] : queue0[k] + width] = unit_blocks[k]
        queue_site[queue0[k] : queue0[k] + width] = k
    return SiteTable(
        sites=tuple(config.sites),
        kind_code=kind_code,
        routed=routed,
        satellites=tuple(satellites),
        queue0=queue0,
        n_queues=n_queues,
        fits=fits,
        slots=slots,
        prefill_s=prefill,
        capacity_per_s=capacity,
        energy_j=energy,
        batch_grid=batch_grid,
        tpot_grid_s=tpot_grid,
        queue_site=queue_site,
        dc_endpoint=dc_endpoint,
        replicas=replicas,
        queue_units=queue_units,
        local_share=local_share,
        accelerators=accelerators,
    )


def _operating_point(request, model, accelerator, count, assumptions, site: Site):
    """The serving figures of ``request``'s model on a site at its operating batch: the
    largest batch whose time per output token under full load stays within the site's
    ``tpot_target`` (serving stacks cap the batch for this; MLPerf Inference v4.1's Llama 2
    70B server scenario allows 200 ms per token, its interactive scenario 40 ms), batch 1 if
    none does; with the per-token time at ``_BATCH_POINTS`` batches up to it (a lighter load
    decodes faster). None when the model does not fit the site's memory."""
    full = serving.llm_serving_capacity(
        model,
        accelerator,
        count,
        request.prompt_tokens.mean,
        request.output_tokens.mean,
        assumptions=assumptions,
    )
    if not bool(full.fits) or not float(full.request_rate_per_s) > 0:
        return None
    largest = float(full.max_batch)
    candidates = np.round(np.geomspace(1.0, largest, _BATCH_POINTS))
    figures = serving.llm_serving_capacity(
        model,
        accelerator,
        count,
        request.prompt_tokens.mean,
        request.output_tokens.mean,
        batch=candidates,
        assumptions=assumptions,
    )
    tpot = figures.time_per_output_token_s
    meets = np.flatnonzero(tpot <= site.tpot_target_s)
    pick = int(meets[-1]) if meets.size else 0
    operating = serving.llm_serving_capacity(
        model,
        accelerator,
        count,
        request.prompt_tokens.mean,
        request.output_tokens.mean,
        batch=candidates[pick],
        assumptions=assumptions,
    )
    # Below the operating batch the per-token time of a lighter load; flat above it.
    grid = np.minimum(candidates, candidates[pick])
    return operating, grid, np.where(candidates <= candidates[pick], tpot, tpot[pick])


def _graph_endpoints(users: UserTable, sites: SiteTable, network) -> EndpointTable:
    """Users (positions at the start; movers are moved every step) then ground DCs, as the
    endpoints of the routing graph, with the network section's ground-link limits."""
    dcs = [s for s in sites.sites if s.kind == "ground_dc"]
    n_u = len(users)
    default_el = network.gsl.min_elevation_deg
    default_range = np.inf if network.gsl.max_range_km is None else network.gsl.max_range_km
    user_el = np.where(np.isnan(users.min_elevation_deg), default_el, users.min_elevation_deg)
    # Positions at the start (a flight not yet departed may have none): only the ground-link
    # rate model reads them, for its climate (ITU-R P.618) at each endpoint.
    start_lat, start_lon, _, _ = users.positions(np.zeros(1))
    start_lat, start_lon = np.nan_to_num(start_lat), np.nan_to_num(start_lon)
    return EndpointTable(
        name=np.array([*map(str, users.label), *(s.name for s in dcs)], dtype=object),
        kind=np.array(["user_terminal"] * n_u + ["data_center"] * len(dcs), dtype=object),
        latitude_deg=np.concatenate([start_lat[0], [s.latitude_deg for s in dcs]]),
        longitude_deg=np.concatenate([start_lon[0], [s.longitude_deg for s in dcs]]),
        altitude_km=np.concatenate([users.altitude_km, np.zeros(len(dcs))]),
        min_elevation_deg=np.concatenate([user_el, np.full(len(dcs), default_el)]),
        max_range_km=np.full(n_u + len(dcs), default_range),
        jurisdiction=np.array(
            [*users.jurisdiction, *(s.jurisdiction or "" for s in dcs)], dtype=object
        ),
    )
