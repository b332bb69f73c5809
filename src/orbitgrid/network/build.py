"""From the scenario's ``network`` section to the arrays the routing stage needs.

``build_topology`` resolves the ISL pattern and GSL limits once per run; ``failure_masks``
turns scheduled and random failures into ``[time, element]`` masks for one chunk of time steps
(deterministic for a seed, whatever the chunking); ``routing_dataset`` labels a
``RoutingResult`` as an ``xarray.Dataset`` with dims ``time``, ``src``, ``dst``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from orbitgrid.errors import ScenarioError, shorten
from orbitgrid.field_paths import did_you_mean, list_names
from orbitgrid.network.config import NetworkConfig
from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.failures import failure_process
from orbitgrid.network.link_rates import GslRateModel
from orbitgrid.network.routing import STATUS_MESSAGES, FailureMasks, NetworkTopology, RoutingResult
from orbitgrid.network.topology import (
    ConstellationIndex,
    InterShellLinks,
    constellation_index,
    plus_grid_isls,
)


def isl_pairs(config: NetworkConfig, constellation: ConstellationIndex) -> np.ndarray:
    """``[link, 2]`` satellite ids of the fixed ISLs (``+grid``; none for other patterns)."""
    if config.isl.pattern == "+grid":
        return plus_grid_isls(constellation, config.isl.isl_shift)
    return np.zeros((0, 2), dtype=np.int64)


def check_scheduled_failures(
    config: NetworkConfig, n_satellites: int, pairs: np.ndarray, endpoints: EndpointTable
) -> None:
    """Check that every scheduled failure names an element of this run; raise one
    ``ScenarioError`` listing every bad entry with its YAML path and what exists.

    Runs when the topology is built (before the first step) and from ``check_network``
    (``orbitgrid validate``), so a typo in an endpoint name is not found minutes into a run.
    """
    names = [str(n) for n in endpoints.name]
    known = set(names)
    existing = {(min(int(a), int(b)), max(int(a), int(b))) for a, b in pairs}
    problems: list[tuple[str, str, object]] = []
    for i, f in enumerate(config.failures.scheduled):
        where = f"network.failures.scheduled[{i}]"
        if f.element == "satellite" and f.id >= n_satellites:
            problems.append(
                (
                    f"{where}.id",
                    f"satellite {f.id} does not exist; ids are 0..{n_satellites - 1}",
                    f.id,
                )
            )
        elif f.element == "isl" and tuple(sorted(f.between)) not in existing:
            a, b = sorted(f.between)
            problems.append(
                (
                    f"{where}.between",
                    f"there is no ISL between satellites {a} and {b} in the "
                    f"'{config.isl.pattern}' pattern ({len(existing):,} links)",
                    list(f.between),
                )
            )
        elif f.element == "endpoint" and not names:
            problems.append(
                (
                    f"{where}.name",
                    f"no endpoint named {shorten(f.name)}: this network section has no "
                    "endpoints of its own (it carries the workloads' links, whose users and "
                    "sites are not network endpoints); remove the failure or add the endpoint "
                    "to network.endpoints",
                    f.name,
                )
            )
        elif f.element == "endpoint" and f.name not in known:
            guess = did_you_mean(f.name, names)
            problems.append(
                (
                    f"{where}.name",
                    f"no endpoint named {shorten(f.name)}{f' ({guess})' if guess else ''}; "
                    f"endpoints: {list_names(names)}",
                    f.name,
                )
            )
    if problems:
        lines = [f"  - {path}: {text}" for path, text, _ in problems]
        count = len(problems)
        raise ScenarioError(
            "\n".join([f"{count} problem{'s' if count > 1 else ''} in the scenario:", *lines]),
            problems[0][0],
            problems[0][2],
        )


def check_plane_layout(plan) -> None:
    """A ``+grid`` ISL pattern links each satellite to its plane neighbours and the next
    planes, so every shell needs a plane layout (``planes``/``sats_per_plane``, or ``planes:
    auto`` grouping); raise a ``ScenarioError`` naming the first shell without one.

    Runs when the network stage starts and from ``check_network`` (``orbitgrid validate``).
    """
    config = plan.scenario.network
    if config is None or config.isl.pattern != "+grid":
        return
    for shell in plan.shells:
        if shell.planes is None and shell.grouping is None:
            raise ScenarioError(
                f"network.isl.pattern '+grid' needs the plane layout of every shell, "
                f"but shell {shell.name!r} (from {shell.kind} file) has none; give it "
                "planes and sats_per_plane (file in plane-major order) or planes: auto, "
                "or use isl.pattern 'none' or 'formation'",
                path="network.isl.pattern",
                value="+grid",
            )


def serves_workloads_only(scenario) -> bool:
    """A network section without endpoints of its own in a scenario with workloads carries
    only the workloads' links: the engine runs no network stage for it."""
    network = scenario.network
    return (
        network is not None
        and scenario.workloads is not None
        and not (network.endpoints or network.endpoint_files)
    )


def no_endpoints() -> EndpointTable:
    """An endpoint table with no rows."""
    empty = np.zeros(0)
    text = np.zeros(0, dtype=object)
    return EndpointTable(text, text, empty, empty, empty, empty, empty, text)


def check_network(plan) -> None:
    """What ``orbitgrid validate`` checks of the network section beyond the schema: a
    ``+grid`` pattern has plane layouts to link (``check_plane_layout``), the endpoint files
    resolve, and every scheduled failure names an element that exists.

    Cheap: no link budget tables are built (they need ITU-R maps) and nothing is routed.
    """
    from orbitgrid.network.endpoints import resolve_endpoints

    config = plan.scenario.network
    if config is None:
        return
    check_plane_layout(plan)
    if serves_workloads_only(plan.scenario):
        endpoints = no_endpoints()
    else:
        endpoints = resolve_endpoints(config, plan.scenario.base_dir)
    constellation = constellation_index(plan)
    check_scheduled_failures(
        config, constellation.n_satellites, isl_pairs(config, constellation), endpoints
    )


def build_topology(
    config: NetworkConfig, constellation: ConstellationIndex, endpoints: EndpointTable
) -> NetworkTopology:
    """The static ``NetworkTopology`` for a run (ISL pairs, GSL limits, mode, per-hop delay,
    link rates: a ``link_rates.GslRateModel`` when the GSLs have a link budget).

    Scheduled failures are checked against the run's elements here, before any step runs.
    """
    if constellation.n_satellites == 0:
        raise ScenarioError(
            "the constellation is empty; the network stage needs at least one satellite",
            "constellation",
            [],
        )
    isl = config.isl
    pairs = isl_pairs(config, constellation)
    check_scheduled_failures(config, constellation.n_satellites, pairs, endpoints)
    return NetworkTopology(
        n_satellites=constellation.n_satellites,
        isl_pairs=pairs,
        isl_max_range_km=isl.max_range_km,
        endpoint_up_unit=endpoints.up_unit(),
        endpoint_min_elevation_deg=endpoints.min_elevation_deg,
        endpoint_max_range_km=endpoints.max_range_km,
        isl_pattern=isl.pattern,
        mode=config.routing.mode,
        gsl_selection=config.gsl.selection,
        per_hop_delay_ms=isl.per_hop_delay_s * 1e3,
        isl_rate_bps=isl.rate_bps,
        gsl_rate_bps=config.gsl.rate_bps,
        gsl_rate_model=GslRateModel.from_config(config.gsl, endpoints)
        if config.gsl.link_budget is not None
        else None,
        inter_shell=inter_shell_links(config, constellation),
    )


def inter_shell_links(
    config: NetworkConfig, constellation: ConstellationIndex
) -> InterShellLinks | None:
    """The satellites with inter-shell terminals (``network.isl.inter_shell``), or None."""
    spec = config.isl.inter_shell
    if spec is None:
        return None
    names = list(constellation.shell_names)
    unknown = [name for name in spec.shells if name not in names]
    if unknown:
        raise ScenarioError(
            f"network.isl.inter_shell.shells: no constellation shell "
            f"{', '.join(map(repr, unknown))}; shells: {', '.join(names)}",
            "network.isl.inter_shell.shells",
            spec.shells,
        )
    if len(names) < 2:
        raise ScenarioError(
            "network.isl.inter_shell: links between shells need at least two shells "
            f"(the constellation has {len(names)})",
            "network.isl.inter_shell",
            spec.shells,
        )
    shell_of = np.zeros(len(constellation.shell_index), np.int64)
    for k, cut in enumerate(constellation.shell_slices):
        shell_of[cut] = k
    members = np.concatenate(
        [np.arange(len(shell_of))[constellation.shell_slices[names.index(n)]] for n in spec.shells]
    )
    return InterShellLinks(
        members=np.unique(members).astype(np.int64),
        shell_of=shell_of,
        terminals=spec.terminals,
        max_range_km=spec.max_range_km,
        rate_bps=spec.rate_bps,
    )


def failure_masks(
    config: NetworkConfig,
    times_s: np.ndarray,
    topology: NetworkTopology,
    endpoints: EndpointTable,
) -> FailureMasks:
    """Down-masks for the time steps ``times_s`` (seconds from the scenario start).

    Scheduled failures are down over ``[start, end)``. Random ``*_down_fraction`` failures
    draw, once per run from ``numpy.random.default_rng(seed)``, which elements are down for the
    whole run. Random ``{mtbf, mttr}`` failures come from the run's ``FailureProcess``
    (``network.failures``: alternating exponential up and down times, generated once per run
    and cached), so any chunking gives the same masks. Errors name the failure entry and the
    valid ids.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    n_t, n_sat, n_ep = times_s.shape[0], topology.n_satellites, topology.n_endpoints
    n_isl = len(topology.isl_pairs)
    rnd = config.failures.random
    rng = np.random.default_rng(rnd.seed)
    sat_static = rng.random(n_sat) < rnd.satellites_down_fraction
    isl_static = rng.random(n_isl) < rnd.isls_down_fraction
    ep_static = rng.random(n_ep) < rnd.endpoints_down_fraction
    sat = np.broadcast_to(sat_static, (n_t, n_sat)).copy()
    isl = np.broadcast_to(isl_static, (n_t, n_isl)).copy()
    ep = np.broadcast_to(ep_static, (n_t, n_ep)).copy()
    if any(p is not None for p in (rnd.satellites, rnd.isls, rnd.endpoints)):
        process = failure_process(rnd, n_sat, n_isl, n_ep)
        for mask, down in zip((sat, isl, ep), process.down_masks(times_s), strict=True):
            if down is not None:
                mask |= down
    pair_index = {(int(a), int(b)): k for k, (a, b) in enumerate(topology.isl_pairs)}
    for i, f in enumerate(config.failures.scheduled):
        where = f"network.failures.scheduled[{i}]"
        active = (times_s >= f.start_s) & (times_s < f.end_s)
        if f.element == "satellite":
            if f.id >= n_sat:
                raise ScenarioError(
                    f"{where}.id: satellite {f.id} does not exist; ids are 0..{n_sat - 1}",
                    f"{where}.id",
                    f.id,
                )
            sat[active, f.id] = True
        elif f.element == "isl":
            a, b = sorted(f.between)
            if (a, b) not in pair_index:
                raise ScenarioError(
                    f"{where}.between: there is no ISL between satellites {a} and {b} in the "
                    f"'{topology.isl_pattern}' pattern ({n_isl} links)",
                    f"{where}.between",
                    f.between,
                )
            isl[active, pair_index[(a, b)]] = True
        else:
            ep[active, endpoints.index(f.name)] = True
    return FailureMasks(satellite=sat, isl=isl, endpoint=ep)


def routing_dataset(
    result: RoutingResult, times: np.ndarray, endpoints: EndpointTable
) -> xr.Dataset:
    """Label a ``RoutingResult`` with dims ``time``, ``src``, ``dst`` (endpoint names).

    ``path_node`` keeps the node lists (``[time, src, dst, hop]``; satellites ``0..S-1``,
    endpoint ``e`` as ``S + e``, −1 padding), so ``orbitgrid paths RUN_DIR SRC DST`` can read
    any path back. Every variable carries ``units`` and ``long_name``.
    """
    names = [str(n) for n in endpoints.name]
    dims = ("time", "src", "dst")
    ds = xr.Dataset(
        {
            "path_length_km": (
                dims,
                result.path_length_km,
                {"units": "km", "long_name": "length of the shortest path (straight links)"},
            ),
            "latency_ms": (
                dims,
                result.latency_ms,
                {"units": "ms", "long_name": "one-way latency: propagation + per-hop delay"},
            ),
            "rtt_ms": (dims, result.rtt_ms, {"units": "ms", "long_name": "round-trip time"}),
            "hop_count": (
                dims,
                result.hop_count,
                {"units": "1", "long_name": "links on the path (-1 unreachable)"},
            ),
            "route_status": (
                dims,
                result.status,
                {
                    "units": "1",
                    "long_name": "routing status",
                    "flag_meanings": "; ".join(f"{k}: {v}" for k, v in STATUS_MESSAGES.items()),
                },
            ),
            "path_changed": (
                dims,
                result.path_changed,
                {"units": "1", "long_name": "path differs from the previous step"},
            ),
            "path_node": (
                (*dims, "hop"),
                result.path_nodes,
                {
                    "units": "1",
                    "long_name": "node ids along the path",
                    "n_satellites": result.n_satellites,
                },
            ),
            "gsl_visible_count": (
                ("time", "endpoint"),
                result.gsl_visible_count,
                {"units": "1", "long_name": "satellites an endpoint can link to"},
            ),
        },
        coords={"time": times, "src": names, "dst": names, "endpoint": names},
    )
    return ds


def path_history(
    dataset: xr.Dataset, src: str, dst: str, satellite_names: list[str] | None = None
) -> list[tuple[np.datetime64, float, list[str]]]:
    """The path between two endpoints each time it changes: ``(time, rtt_ms, node labels)``.

    Serves ``orbitgrid paths RUN_DIR SRC DST``: reads ``path_node`` and ``rtt_ms`` from a
    routing dataset (``routing_dataset``) and labels nodes with endpoint names and
    ``sat<i>`` (or ``satellite_names``). Unknown endpoint names raise ScenarioError listing
    the known ones. Unreachable steps give an empty node list and NaN RTT.
    """
    names = [str(n) for n in dataset["src"].values]
    for name in (src, dst):
        if name not in names:
            known = ", ".join(names[:8]) + (f" … ({len(names)} in all)" if len(names) > 8 else "")
            raise ScenarioError(f"unknown endpoint {name!r}; known endpoints: {known}", "", name)
    n_sat = int(dataset["path_node"].attrs["n_satellites"])
    nodes = dataset["path_node"].sel(src=src, dst=dst).values
    rtt = dataset["rtt_ms"].sel(src=src, dst=dst).values
    times = dataset["time"].values
    out: list[tuple[np.datetime64, float, list[str]]] = []
    previous: tuple[int, ...] | None = None
    for t in range(nodes.shape[0]):
        row = tuple(int(n) for n in nodes[t] if n >= 0)
        if row == previous:
            continue
        previous = row
        labels = [
            names[n - n_sat]
            if n >= n_sat
            else (satellite_names[n] if satellite_names else f"sat{n}")
            for n in row
        ]
        out.append((times[t], float(rtt[t]), labels))
    return out
