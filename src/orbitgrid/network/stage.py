"""The network stage of the engine and its summary reducer.

``NetworkStage`` turns each chunk's inertial satellite positions into Earth-fixed ones (GMST
rotation, as the sub-points) and routes every endpoint pair at every step with
``routing.route_chunk``; it stores ``path_length_km``, ``latency_ms``, ``rtt_ms``,
``hop_count``, ``route_status`` and ``path_changed`` with dims ``[time, src, dst]``, labelled by
endpoint name. Its state carries the last step's paths, so path changes are counted across
chunk boundaries.

``NetworkSummary`` keeps each step's RTTs (4 bytes per pair and step) and at the end gives
per-pair p50/p95/p99, reachability, path changes and the great-circle fibre reference
(``summary.routing_summary``), plus constellation-wide medians. It also logs each pair's path
whenever it changes into ``paths.csv`` in the run folder (``orbitgrid paths`` reads it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from orbitgrid.constants import WGS72
from orbitgrid.engine import Arrays, Chunk, Variable
from orbitgrid.errors import ScenarioError
from orbitgrid.network.build import build_topology, failure_masks
from orbitgrid.network.endpoints import EndpointTable, resolve_endpoints
from orbitgrid.network.routing import STATUS_MESSAGES, NetworkTopology, route_chunk
from orbitgrid.network.summary import routing_summary
from orbitgrid.network.topology import ConstellationIndex
from orbitgrid.orbits.frames import inertial_to_ecef_km
from orbitgrid.orbits.timescale import gmst_rad
from orbitgrid.plan import Plan

_PAIR = ("time", "src", "dst")


def constellation_index(plan: Plan) -> ConstellationIndex:
    """Shell, plane and slot of every satellite, as the network topology wants them.

    Each scenario shell with a plane layout is one network shell; a ``planes: auto`` shell
    contributes the sub-shells its grouping found. Satellites without a layout (a TLE shell
    given no planes, or ones grouping could not place) keep plane −1 and get no +grid links.
    """
    shell_index = np.full(plan.satellite_count, -1, dtype=np.int64)
    planes: list[int] = []
    per_plane: list[int] = []
    for shell in plan.shells:
        cut = shell.satellites
        if shell.grouping is not None:
            found = shell.grouping.constellation
            shell_index[cut] = np.where(found.shell_index >= 0, found.shell_index + len(planes), -1)
            planes.extend(int(p) for p in found.planes)
            per_plane.extend(int(s) for s in found.sats_per_plane)
        elif shell.planes is not None:
            shell_index[cut] = len(planes)
            planes.append(shell.planes)
            per_plane.append(shell.sats_per_plane)
    return ConstellationIndex(
        shell_index=shell_index,
        plane_index=plan.plane_index,
        slot_index=plan.slot_index,
        planes=np.array(planes, dtype=np.int64),
        sats_per_plane=np.array(per_plane, dtype=np.int64),
    )


class NetworkStage:
    """Routes all endpoint pairs at every step (see the module docstring)."""

    name = "network"
    variables = (
        Variable("path_length_km", _PAIR, "km", "length of the shortest path (NaN: no path)"),
        Variable("latency_ms", _PAIR, "ms", "one-way latency: propagation plus per-hop delay"),
        Variable("rtt_ms", _PAIR, "ms", "round-trip time over the same path"),
        Variable("hop_count", _PAIR, "1", "links on the path (-1: no path)", dtype="int16"),
        Variable(
            "route_status",
            _PAIR,
            "1",
            "routing status",
            dtype="int8",
            flag_meanings=STATUS_MESSAGES,
        ),
        Variable("path_changed", _PAIR, "1", "path differs from the previous step", dtype="int8"),
    )

    def __init__(self, plan: Plan):
        config = plan.scenario.network
        if config.isl.pattern == "+grid":
            for shell in plan.shells:
                if shell.planes is None and shell.grouping is None:
                    raise ScenarioError(
                        f"network.isl.pattern '+grid' needs the plane layout of every shell, "
                        f"but shell {shell.name!r} (from {shell.kind} file) has none; give it "
                        "planes and sats_per_plane (file in plane-major order) or planes: auto, "
                        "or use "
                        "isl.pattern 'none' or 'formation'",
                        path="network.isl.pattern",
                        value="+grid",
                    )
        self.endpoints: EndpointTable = resolve_endpoints(config, plan.scenario.base_dir)
        self.topology: NetworkTopology = build_topology(
            config, constellation_index(plan), self.endpoints
        )
        self.endpoint_ecef_km = self.endpoints.ecef_km(WGS72)

    def coordinates(self, plan: Plan) -> dict[str, Any]:
        names = np.array([str(n) for n in self.endpoints.name])
        kinds = np.array([str(k) for k in self.endpoints.kind])
        return {
            "src": ("src", names),
            "dst": ("dst", names),
            "src_kind": ("src", kinds),
            "dst_kind": ("dst", kinds),
        }

    def initial_state(self, plan: Plan) -> np.ndarray | None:
        return None  # no previous paths before the first step

    def reducer(self, plan: Plan) -> NetworkSummary:
        """The summary reducer that goes with this stage."""
        return NetworkSummary(self, plan)

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        ecef_km = inertial_to_ecef_km(
            arrays["position_km"], gmst_rad(chunk.jd_whole, chunk.jd_fraction)
        )
        masks = failure_masks(plan.scenario.network, chunk.t_s, self.topology, self.endpoints)
        result = route_chunk(
            ecef_km,
            self.endpoint_ecef_km,
            self.topology,
            failures=masks,
            previous_path_nodes=state,
            backend=plan.scenario.network.routing.backend,
        )
        outputs = {
            "path_length_km": result.path_length_km,
            "latency_ms": result.latency_ms,
            "rtt_ms": result.rtt_ms,
            "hop_count": result.hop_count,
            "route_status": result.status,
            "path_changed": result.path_changed.astype(np.int8),
        }
        outputs["path_nodes"] = result.path_nodes  # transient: logged by NetworkSummary
        return outputs, result.path_nodes[-1]


class NetworkSummary:
    """Per-pair RTT statistics over the run, and the log of path changes (``paths.csv``)."""

    def __init__(self, stage: NetworkStage, plan: Plan):
        self.stage = stage
        self._rtt: list[np.ndarray] = []
        self._changes: np.ndarray | None = None
        self._path_rows: list[dict[str, Any]] = []
        self._pair_rows: list[dict[str, Any]] = []
        endpoint_names = [str(n) for n in stage.endpoints.name]
        self._labels = np.array([*plan.satellite_names.astype(str), *endpoint_names], dtype=object)
        self._endpoint_names = endpoint_names

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        self._rtt.append(np.asarray(arrays["rtt_ms"], dtype=np.float32))
        changed = arrays["path_changed"].astype(bool)
        changes = changed.sum(axis=0, dtype=np.int64)
        self._changes = changes if self._changes is None else self._changes + changes
        self._log_paths(chunk, arrays, changed)

    def _log_paths(self, chunk: Chunk, arrays: Arrays, changed: np.ndarray) -> None:
        # One row per unordered pair each time its path changes (and at the first step), so
        # that `orbitgrid paths` can tell which path was in use at any time.
        if chunk.start_step == 0:
            changed = changed.copy()
            changed[0] = True
        n = changed.shape[1]
        upper = np.triu(np.ones((n, n), dtype=bool), k=1)
        steps, src, dst = np.nonzero(changed & upper[None])
        nodes = arrays["path_nodes"]
        times = np.datetime_as_string(chunk.times_utc, unit="s")
        for k, i, j in zip(steps, src, dst, strict=True):
            row = nodes[k, i, j]
            path = " > ".join(self._labels[row[row >= 0]])
            self._path_rows.append(
                {
                    "time_utc": str(times[k]),
                    "src": self._endpoint_names[i],
                    "dst": self._endpoint_names[j],
                    "rtt_ms": float(arrays["rtt_ms"][k, i, j]),
                    "hops": int(arrays["hop_count"][k, i, j]),
                    "path": path,
                }
            )

    def write(self, folder: Path) -> None:
        """Write ``network_pairs.csv`` (the per-pair figures of the summary) and ``paths.csv``
        (time_utc, src, dst, rtt_ms, hops, path as node names) into the run folder."""
        from orbitgrid.runs import write_csv

        if self._pair_rows:
            write_csv(folder / "network_pairs.csv", self._pair_rows, list(self._pair_rows[0]))
        fields = ["time_utc", "src", "dst", "rtt_ms", "hops", "path"]
        write_csv(folder / "paths.csv", self._path_rows, fields)

    def finalize(self, plan: Plan) -> dict[str, Any]:
        rtt = np.concatenate(self._rtt, axis=0)
        table = routing_summary(rtt, self._changes[None], self.stage.endpoints)
        names = [str(n) for n in self.stage.endpoints.name]
        columns = {key: table[key].values for key in table.data_vars}
        pairs = {}
        for i, src in enumerate(names):
            for j, dst in enumerate(names):
                if j <= i:
                    continue  # paths are symmetric: report each unordered pair once
                pairs[f"{src} -> {dst}"] = {
                    key: _number(values[i, j]) for key, values in columns.items()
                }
        self._pair_rows = [
            {"src": pair.split(" -> ")[0], "dst": pair.split(" -> ")[1], **figures}
            for pair, figures in pairs.items()
        ]
        upper = np.triu_indices(len(names), k=1)
        finite = np.isfinite(rtt[:, upper[0], upper[1]])
        return {
            "network": {
                "endpoints": len(names),
                "pairs": len(pairs),
                "reachability": float(finite.mean()) if finite.size else float("nan"),
                "rtt_median_ms": _number(np.nanmedian(rtt[:, upper[0], upper[1]]))
                if finite.any()
                else None,
                "per_pair": pairs,
            }
        }


def _number(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
