"""The network stage of the engine and its summary reducer.

``NetworkStage`` turns each chunk's inertial satellite positions into Earth-fixed ones (GMST
rotation, as the sub-points) and routes every endpoint pair at every step with
``routing.route_chunk``; it stores ``path_length_km``, ``latency_ms``, ``rtt_ms``,
``hop_count``, ``route_status``, ``path_changed`` and ``path_rate_mbps`` with dims
``[time, src, dst]``, labelled by endpoint name. Its state carries the last step's paths
(``routing.PathState``), so path changes are counted across chunk boundaries.

``NetworkSummary`` folds every step (not only stored ones) into per-pair RTT p50/p95/p99,
reachability, path changes, path rates and the great-circle fibre reference
(``summary.PairStatistics``), plus constellation-wide figures, and logs each pair's path
whenever it changes into the ``paths`` table of the run folder (``orbitgrid paths`` reads
it), and every link's contact windows into ``contacts`` (``orbitgrid export ion`` reads it):
zstd Parquet, or CSV with ``network.tables: csv`` (``tables.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orbitgrid.constants import WGS72
from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.network.build import build_topology, check_plane_layout, failure_masks
from orbitgrid.network.contact_log import ContactLog
from orbitgrid.network.endpoints import EndpointTable, resolve_endpoints
from orbitgrid.network.paths import PAIRS_STEM, PATH_SEPARATOR, PATHS_STEM
from orbitgrid.network.routing import (
    STATUS_MESSAGES,
    FailureMasks,
    NetworkTopology,
    PathState,
    RoutingResult,
    route_chunk,
)
from orbitgrid.network.summary import PairStatistics
from orbitgrid.network.tables import PartWriter, write_table
from orbitgrid.network.topology import constellation_index
from orbitgrid.orbits.frames import inertial_to_ecef_km
from orbitgrid.orbits.timescale import gmst_rad
from orbitgrid.plan import Plan

_PAIR = ("time", "src", "dst")
# Bound on steps × endpoint pairs routed at a time: 1 M pair-steps is 8 MB per float64 array.
PAIR_STEPS_PER_BLOCK = 1_000_000


class NetworkStage:
    """Routes all endpoint pairs at every step (see the module docstring)."""

    name = "network"
    # Stored steps only (``decimated``): the stage keeps them while routing in blocks.
    variables = (
        Variable("path_length_km", _PAIR, "km", "length of the shortest path (NaN: no path)"),
        Variable("latency_ms", _PAIR, "ms", "one-way latency: propagation plus per-hop delay"),
        Variable("rtt_ms", _PAIR, "ms", "round-trip time over the same path"),
        Variable("hop_count", _PAIR, "1", "links on the path (-1: no path)", dtype="int16"),
        Variable("route_status", _PAIR, "1", "routing status", dtype="int8",
                 flag_meanings=STATUS_MESSAGES),
        Variable("path_changed", _PAIR, "1", "path differs from the previous step", dtype="int8"),
        Variable("path_rate_mbps", _PAIR, "Mbit/s",
                 "rate of the path's slowest link (NaN: no path)"),
    )  # fmt: skip
    variables = tuple(dataclasses.replace(v, decimated=True) for v in variables)
    summary: NetworkSummary | None = None

    def __init__(self, plan: Plan):
        config = plan.scenario.network
        check_plane_layout(plan)
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

    def initial_state(self, plan: Plan) -> PathState | None:
        return None  # no previous paths before the first step

    def reducer(self, plan: Plan) -> NetworkSummary:
        """The summary reducer that goes with this stage; the stage folds every routed block
        into it (see ``__call__``)."""
        self.summary = NetworkSummary(self, plan)
        return self.summary

    def block_steps(self) -> int:
        """Steps routed at a time, so that a block's ``[time, src, dst]`` arrays stay near
        ``PAIR_STEPS_PER_BLOCK`` values each (about 10 such arrays live at once)."""
        return max(1, PAIR_STEPS_PER_BLOCK // max(1, self.topology.n_endpoints**2))

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state):
        """Route the chunk in blocks of ``block_steps``; fold every step of each block into
        the summary (statistics, path log, contact windows) and keep only the stored steps
        (``output.every``) for the dataset, so memory follows the block, not the chunk or
        the output stride."""
        ecef_km = inertial_to_ecef_km(
            arrays["position_km"], gmst_rad(chunk.jd_whole, chunk.jd_fraction)
        )
        masks = failure_masks(plan.scenario.network, chunk.t_s, self.topology, self.endpoints)
        stride = plan.scenario.stored_stride
        kept: dict[str, list[np.ndarray]] = {v.name: [] for v in self.variables}
        size = self.block_steps()
        for start in range(0, chunk.step_count, size):
            block = slice(start, min(start + size, chunk.step_count))
            result = route_chunk(
                ecef_km[block],
                self.endpoint_ecef_km,
                self.topology,
                failures=_block_masks(masks, block),
                previous=state,
                backend=plan.scenario.network.routing.backend,
            )
            state = result.state
            if self.summary is not None:
                self.summary.fold(chunk.times_utc[block], chunk.t_s[block], result)
            if stride:
                # Chunks start on the stride (engine.chunk_steps): stored steps are t % stride == 0.
                steps = np.arange(block.start, block.stop)
                local = steps[steps % stride == 0] - block.start
                for name, values in _stored_outputs(result, local).items():
                    kept[name].append(values)
        n_ep = self.topology.n_endpoints
        outputs = {
            v.name: np.concatenate(kept[v.name]) if kept[v.name] else np.empty((0, n_ep, n_ep))
            for v in self.variables
        }
        return outputs, state


def _block_masks(masks: FailureMasks, block: slice) -> FailureMasks:
    """The failure masks of a block of a chunk's steps."""
    return FailureMasks(
        *(None if m is None else m[block] for m in (masks.satellite, masks.isl, masks.endpoint))
    )


def _stored_outputs(result: RoutingResult, local: np.ndarray) -> dict[str, np.ndarray]:
    """The dataset variables of a routed block at its stored steps ``local``."""
    return {
        "path_length_km": result.path_length_km[local],
        "latency_ms": result.latency_ms[local],
        "rtt_ms": result.rtt_ms[local],
        "hop_count": result.hop_count[local],
        "route_status": result.status[local],
        "path_changed": result.path_changed[local].astype(np.int8),
        "path_rate_mbps": (result.path_rate_bps[local] / 1e6).astype(np.float32),
    }


class NetworkSummary:
    """Per-pair RTT statistics over the run, the log of path changes (``paths``) and the
    contact windows (``contacts``).

    All three stream: the stage folds each routed block (``fold``) into the statistics
    (``summary.PairStatistics``), a path log appended to part files (``tables.PartWriter``)
    that ``write`` joins in the run folder, and the open and closed windows of
    ``contact_log.ContactLog``, so memory does not grow with the run's length (except by the
    closed windows themselves). The run checkpoints it through ``spool_to`` (parts in the
    staging folder), ``checkpoint`` (close the open part before pickling) and ``resume``.
    """

    def __init__(self, stage: NetworkStage, plan: Plan):
        self.stage = stage
        self.statistics = PairStatistics(
            stage.endpoints, per_hop_delay_ms=stage.topology.per_hop_delay_ms
        )
        self._pair_rows: list[dict[str, Any]] = []
        self._endpoint_names = [str(n) for n in stage.endpoints.name]
        self._satellite_names = [str(n) for n in plan.satellite_names]
        self._tables = plan.scenario.network.tables
        self._path_log = PathLogWriter(
            plan.scenario.network.path_log_format,
            self._satellite_names,
            self._endpoint_names,
            plan.scenario.time.step_s,
        )
        topology = stage.topology
        # Formation ISLs change from step to step: their windows are not logged (GSLs are).
        self._isl_logged = topology.isl_pattern != "formation"
        self.contacts = ContactLog(
            topology.n_satellites,
            topology.n_endpoints,
            topology.isl_pairs if self._isl_logged else np.zeros((0, 2), np.int64),
            plan.scenario.time.step_s,
        )
        self._start_utc = plan.times_utc[0]

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        """Nothing: the stage folds each routed block itself (``fold``), because the dataset
        keeps only every ``output.every``-th step and the summary needs them all."""

    def fold(self, times_utc: np.ndarray, t_s: np.ndarray, result: RoutingResult) -> None:
        """Fold one routed block of consecutive steps (``times_utc``, seconds ``t_s``)."""
        self.statistics.update(
            result.rtt_ms, result.path_changed, result.path_rate_bps, result.hop_count
        )
        self._path_log.append(times_utc, result)
        gsl = result.gsl
        isl_range_km = (
            result.isl_length_km if self._isl_logged else np.zeros((len(t_s), 0), dtype=np.float64)
        )
        self.contacts.update(
            t_s,
            gsl.step_index,
            gsl.endpoint,
            gsl.satellite,
            gsl.range_km,
            gsl.rate_bps,
            isl_range_km,
            self.stage.topology.isl_rate_bps,
        )

    def spool_to(self, folder: Path) -> None:
        """Stream the path log's parts into ``folder`` (the run's staging folder), where a
        checkpoint can refer to them."""
        if self._path_log.parts is not None:
            self._path_log.parts.spool_to(folder)

    def checkpoint(self) -> None:
        """Close the path log's open part: the run pickles this reducer next."""
        if self._path_log.parts is not None:
            self._path_log.parts.close_part()

    def resume(self, folder: Path) -> None:
        """Continue in the staging folder ``folder`` taken over by a resumed run (parts
        written after the checkpoint are dropped)."""
        if self._path_log.parts is not None:
            self._path_log.parts.resume(folder)

    def write(self, folder: Path) -> None:
        """Write the network tables into the run folder, as ``network.tables`` says
        (``tables.py``): ``network_pairs`` (the per-pair figures of the summary), ``paths``
        (the path log, ``PathLogWriter``) and ``contacts`` (every GSL and ISL window,
        ``contact_log``; ``orbitgrid export ion`` reads it)."""
        if self._pair_rows:
            schema = pa.schema(
                [("src", pa.string()), ("dst", pa.string())]
                + [(key, pa.float64()) for key in self._pair_rows[0] if key not in ("src", "dst")]
            )
            pairs = pa.Table.from_pylist(self._pair_rows, schema=schema)
            write_table(folder, PAIRS_STEM, pairs, self._tables)
        if self._path_log.parts is not None:
            self._path_log.parts.finish(folder)
        self.contacts.write(
            folder, self._endpoint_names, self._satellite_names, self._start_utc, self._tables
        )

    def finalize(self, plan: Plan) -> dict[str, Any]:
        table = self.statistics.dataset()
        names = self._endpoint_names
        columns = {key: table[key].values for key in table.data_vars}
        self._pair_rows = []
        pairs = {}
        for i, j in zip(*np.triu_indices(len(names), k=1), strict=True):
            figures = {key: _number(values[i, j]) for key, values in columns.items()}
            pairs[f"{names[i]} -> {names[j]}"] = figures
            self._pair_rows.append({"src": names[i], "dst": names[j], **figures})
        stats = self.statistics
        reached = int(stats.reached.sum())
        total = stats.steps * len(stats.reached)
        median = stats.histogram.overall_percentiles((50.0,))[0]
        return {
            "network": {
                "endpoints": len(names),
                "pairs": len(pairs),
                "reachability": reached / total if total else float("nan"),
                "rtt_median_ms": _number(median) if reached else None,
                "rtt_percentile_relative_error": table.attrs["rtt_percentile_relative_error"],
                "per_pair": pairs,
            }
        }


class PathLogWriter:
    """The path log: each routed block's path changes, appended to a ``tables.PartWriter``.

    One row per unordered pair each time its path changes (and at the run's first step), so
    that ``orbitgrid paths`` can tell which path was in use at any time: ``time_utc``
    (timestamp, UTC), ``src``, ``dst``, ``rtt_ms`` and ``hops`` (null when the pair has no
    path), ``path`` (node names joined by ``PATH_SEPARATOR``; empty without a path). Rows are
    built with pyarrow from the router's change log (no Python loop over rows); ``none``
    keeps no log.
    """

    SCHEMA = pa.schema(
        [
            ("time_utc", pa.timestamp("us")),
            ("src", pa.string()),
            ("dst", pa.string()),
            ("rtt_ms", pa.float64()),
            ("hops", pa.int16()),
            ("path", pa.string()),
        ]
    )
    FIELDS = tuple(SCHEMA.names)

    def __init__(
        self,
        log_format: str,
        satellite_names: list[str],
        endpoint_names: list[str],
        step_s: float = 1.0,
    ) -> None:
        self.log_format = log_format
        # Node labels by node id: satellites 0..S-1, then endpoints.
        self._labels = pa.array([*satellite_names, *endpoint_names], pa.string())
        self._endpoints = pa.array(endpoint_names, pa.string())
        # CSV times in whole seconds when every step is (as the log has always been written).
        unit = "s" if float(step_s).is_integer() else "ms" if (step_s * 1e3).is_integer() else "us"
        self.parts = (
            None
            if log_format == "none"
            # No dictionary for ``path``: nearly every row's path is new.
            else PartWriter(
                PATHS_STEM, log_format, self.SCHEMA, csv_time_unit=unit, dictionary=("src", "dst")
            )
        )

    def append(self, times_utc: np.ndarray, result: RoutingResult) -> None:
        """Log the path changes of one routed block of steps ``times_utc``."""
        if self.parts is None:
            return
        ch = result.changes
        step = ch.step
        times = pa.array(np.asarray(times_utc).astype("datetime64[us]"), pa.timestamp("us"))
        nodes = pa.ListArray.from_arrays(
            pa.array(ch.offsets.astype(np.int64)), self._labels.take(pa.array(ch.nodes))
        )
        rtt_ms = result.rtt_ms[step, ch.src, ch.dst]
        hops = result.hop_count[step, ch.src, ch.dst]
        table = pa.table(
            {
                "time_utc": times.take(pa.array(step)),
                "src": self._endpoints.take(pa.array(ch.src)),
                "dst": self._endpoints.take(pa.array(ch.dst)),
                # Null, not NaN or -1, for a pair without a path: SQL aggregates skip it.
                "rtt_ms": pa.array(rtt_ms, pa.float64(), mask=~np.isfinite(rtt_ms)),
                "hops": pa.array(hops, pa.int16(), mask=hops < 0),
                "path": pc.binary_join(nodes, PATH_SEPARATOR),
            },
            schema=self.SCHEMA,
        )
        self.parts.append(table)


def _number(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
