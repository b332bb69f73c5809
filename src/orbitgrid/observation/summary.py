"""The observation reducer: records captures and processing capacity during the run, then —
once the run's contacts are known — delivers every strategy's products over the contact plan
(``delivery.simulate``) and reports, per strategy and per satellite, bytes captured,
processed, stored, dropped, downlinked and relayed, the backlog over time, capture-to-ground
and capture-to-insight percentiles, onboard energy and ground-station hours (with each
station's antennas), bytes through GEO relays, and — with ``station_target`` — the number of
ground stations each strategy needs for a latency target (``stations.py``).

Outputs: ``summary.json`` → ``observation``; ``observation.csv`` (one row per strategy ×
satellite, and a ``total`` row per strategy); ``observation_backlog.csv`` (bytes on board per
admission window and strategy); ``observation_bundles.parquet`` (every bundle with its
outcome and times; DuckDB reads it: ``select strategy, count(*) from
'observation_bundles.parquet' group by all``); ``observation_backlog_map.parquet`` (bytes
on board per satellite at each stored step with its sub-satellite point: where data waits).

Byte accounting per satellite and strategy (tested): captured = delivered + stored + dropped
+ reduced, where *reduced* = raw bytes processed − product bytes made (what onboard
processing removed; negative for ``hybrid``, which adds results to the raw tiles).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orbitgrid.contract import Arrays, Chunk
from orbitgrid.network.contact_plan import KIND_GSL_DOWN
from orbitgrid.observation.contacts import delivery_plan, restrict_to_stations
from orbitgrid.observation.delivery import (
    KEPT,
    OUT_DELIVERED,
    OUT_DROPPED,
    OUT_STORED,
    OUTCOME_NAMES,
    PRODUCT_NAMES,
    RAW,
    RESULT,
    Outcome,
    Tiles,
    simulate,
)
from orbitgrid.observation.relay import RelayLog
from orbitgrid.observation.stations import greedy_order, station_windows, stations_needed
from orbitgrid.plan import Plan

PERCENTILES = (50.0, 95.0, 99.0)
INSIGHT_PRODUCT = {"raw": RAW, "filter": KEPT, "infer": RESULT, "hybrid": RESULT}
BYTE_FIGURES = (
    "captured_bytes", "processed_bytes", "made_bytes", "delivered_bytes", "stored_bytes",
    "dropped_bytes", "reduced_bytes", "downlinked_bytes", "relayed_bytes", "geo_relayed_bytes",
)  # fmt: skip
TILE_FIGURES = ("captured_tiles", "tiles_delivered", "tiles_filtered_out", "tiles_stored",
                "tiles_dropped")  # fmt: skip


class ObservationSummary:
    """Reducer of the observation stage (module docstring)."""

    phase = "delivering Earth-observation data by contact graph routing"

    def __init__(self, stage, plan: Plan):
        self.stage = stage
        self.config = plan.scenario.observation
        self._records: list[tuple[np.ndarray, ...]] = []
        self.capacity_tiles = np.zeros((stage.n_windows, plan.satellite_count))
        self.imaged_km2 = np.zeros(plan.satellite_count)
        self.outcomes: dict[str, Outcome] = {}
        self.tiles: Tiles | None = None
        self._rows: list[dict[str, Any]] = []
        self._satellite_names = [str(n) for n in plan.satellite_names]
        self._node_names: list[str] = []
        self._positions: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        n_endpoints = len(stage.network_stage.endpoints)
        self.relay_log = (
            RelayLog(plan.satellite_count, list(self.config.relays),
                     plan.satellite_count + n_endpoints, plan.scenario.time.step_s)
            if self.config.relays
            else None
        )  # fmt: skip
        self.delivery = None

    def fold(self, chunk: Chunk, captures, window: np.ndarray, capacity: np.ndarray) -> None:
        """Keep a chunk's tiles and add its processing capacity to each admission window."""
        self._records.append(
            (
                captures.satellite,
                chunk.t_s[captures.step],
                captures.priority,
                captures.cloud_fraction,
                captures.latitude_deg,
                captures.longitude_deg,
            )
        )
        self.imaged_km2 += captures.imaged_km2
        starts = np.r_[0, np.flatnonzero(np.diff(window)) + 1]
        self.capacity_tiles[window[starts]] += np.add.reduceat(capacity, starts, axis=0)

    def fold_positions(self, t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> None:
        """Keep the sub-satellite points ``[time, satellite]`` at the stored steps."""
        self._positions.append((t_s, lat.astype(np.float32), lon.astype(np.float32)))

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        """Nothing: the stage folds each chunk itself (``fold``)."""

    def finalize(self, plan: Plan) -> dict[str, Any]:
        return {}

    def _tiles(self, plan: Plan) -> Tiles:
        cols = (
            [np.concatenate(c) for c in zip(*self._records, strict=True)]
            if self._records
            else [np.zeros(0)] * 6
        )
        sat = cols[0].astype(np.int64)
        cloud = cols[3]
        processing = self.config.processing
        rng = np.random.default_rng([plan.scenario.seed, 13])
        keep_probability = np.ones(len(sat))
        if processing is not None:
            keep_probability = processing.keep * (1.0 - cloud if processing.discard_cloudy else 1.0)
        return Tiles(
            satellite=sat,
            capture_s=cols[1].astype(np.float64),
            priority=cols[2].astype(np.int64),
            cloud_fraction=cloud,
            latitude_deg=cols[4],
            longitude_deg=cols[5],
            size_bytes=self.stage.sensors.tile_bytes[sat],
            keep=rng.random(len(sat)) < keep_probability,
        )

    def contact_plan(self, plan: Plan):
        """The run's contact plan (downlinks after antenna allocation, ISLs, GEO relays;
        ``contacts.delivery_plan``) and the node ids of the receiving ground stations."""
        horizon_s = plan.step_count * plan.scenario.time.step_s
        self.delivery = delivery_plan(self.config, self.stage.network_stage,
                                      self._satellite_names, self.relay_log, horizon_s)  # fmt: skip
        self._node_names = self.delivery.node_names
        return self.delivery.plan, self.delivery.stations

    def analysis(self, plan: Plan, summary: dict[str, Any]) -> dict[str, Any]:
        """Deliver every strategy over the run's contact plan and compute the figures."""
        contact_plan, stations = self.contact_plan(plan)
        self.contact_plan_ = contact_plan
        tiles = self._tiles(plan)
        self.tiles = tiles
        horizon_s = plan.step_count * plan.scenario.time.step_s
        storage = self.config.storage
        processing = self.config.processing
        result_bytes = processing.result_size_bytes if processing is not None else 0.0
        strategies: dict[str, Any] = {}
        self._rows = []
        sample_t = self.sample_times_s()
        samples = np.minimum((sample_t // self.stage.window_s).astype(np.int64),
                             self.stage.n_windows - 1)  # fmt: skip

        def deliver(strategy: str, over, to, sample_windows=None) -> Outcome:
            return simulate(
                strategy,
                tiles,
                None if strategy == "raw" else self.capacity_tiles,
                plan.satellite_count,
                self.stage.window_s,
                horizon_s,
                over,
                to,
                storage.capacity_bytes,
                storage.policy,
                result_bytes,
                self.config.deadline_s,
                sample_windows,
            )

        for strategy in self.config.strategies:
            outcome = deliver(strategy, contact_plan, stations, samples)
            self.outcomes[strategy] = outcome
            per_sat = per_satellite_figures(outcome, tiles, contact_plan, plan, self)
            totals = {k: float(v.sum()) for k, v in per_sat.items()}
            totals.update(_latencies(outcome, tiles))
            totals.update(_station_hours(outcome, contact_plan, self._node_names))
            totals["backlog_max_bytes"] = float(outcome.backlog_bytes.max(initial=0.0))
            totals["backlog_end_bytes"] = float(outcome.backlog_bytes[-1])
            totals["satellite_backlog_max_bytes"] = float(outcome.backlog_max_bytes.max())
            strategies[strategy] = totals
            sensed = np.flatnonzero(self.stage.sensors.has_sensor)
            for s in sensed:
                row = {"strategy": strategy, "satellite": self._satellite_names[s]}
                row.update({k: _clean(v[s]) for k, v in per_sat.items()})
                self._rows.append(row)
            self._rows.append(
                {"strategy": strategy, "satellite": "total"} | {k: totals[k] for k in per_sat}
            )
        raw_made = strategies.get("raw", {}).get("made_bytes")
        for figures in strategies.values():
            made = figures["made_bytes"]
            figures["downlink_reduction"] = raw_made / made if raw_made and made > 0 else None
        gsl = contact_plan.kind == KIND_GSL_DOWN
        passes = contact_plan.duration_s[gsl]
        delivery = self.delivery
        extra: dict[str, Any] = {}
        if self.config.station_target is not None:
            extra["stations_needed"] = self._stations_needed(deliver, tiles)
        if self.config.relays:
            extra["relays"] = _relay_figures(self.config.relays, delivery, self.outcomes)
        return {
            "observation": extra
            | {
                "satellites_with_sensors": int(self.stage.sensors.has_sensor.sum()),
                "tiles_captured": len(tiles),
                "imaged_km2": float(self.imaged_km2.sum()),
                "window_s": self.stage.window_s,
                "ground_stations": [self._node_names[i] for i in stations],
                "antennas": delivery.station_antennas,
                "passes": {
                    "visible_count": delivery.visible_passes,
                    "visible_contact_hours": delivery.visible_contact_hours,
                    "count": int(gsl.sum()),
                    "duration_p50_s": _percentile(passes, 50.0),
                    "volume_p50_bytes": _percentile(contact_plan.volume_bytes[gsl], 50.0),
                    "contact_hours": float(passes.sum() / 3600.0),
                },
                "strategies": strategies,
            }
        }

    def sample_times_s(self) -> np.ndarray:
        """Times of the stored steps whose sub-satellite points were kept, s."""
        return np.concatenate([p[0] for p in self._positions]) if self._positions else np.zeros(0)

    def _stations_needed(self, deliver, tiles: Tiles) -> dict[str, Any]:
        """Ground stations each strategy needs for ``station_target`` (``stations.py``)."""
        target = self.config.station_target
        d = self.delivery
        n = len(self._satellite_names)
        windows = station_windows(d.plan, d.stations, d.relay_nodes, d.relay_station, n)
        order, covered = greedy_order(windows)

        # With every station kept and no contact removed, the main delivery is that delivery.
        reuse = len(restrict_to_stations(d, d.stations)) == len(d.plan)
        delivered = [0]

        def latency_of(kept: np.ndarray, strategy: str) -> np.ndarray:
            if reuse and len(kept) == len(d.stations):
                o = self.outcomes[strategy]
            else:
                o = deliver(strategy, restrict_to_stations(d, d.stations[kept]), d.stations[kept])
                delivered[0] += 1
            return o.bundle_delivered_s - tiles.capture_s[o.bundle_tile]

        found = stations_needed(order, list(self.config.strategies), latency_of,
                                target.latency_s, target.percentile)  # fmt: skip

        def names(indices: list[int]) -> list[str]:
            return [self._node_names[d.stations[i]] for i in indices]

        def seconds(value: float) -> float | None:
            return value if np.isfinite(value) else None

        return {
            "latency_target_s": target.latency_s,
            "percentile": target.percentile,
            "metric": "capture_to_ground, undelivered bundles count as infinitely late",
            "order": names(order),
            "covered_hours": [c / 3600.0 for c in covered],
            "needed": found.needed,
            "chosen": {s: names(c) for s, c in found.chosen.items()},
            "latency_at_k_s": [{k: seconds(v) for k, v in t.items()} for t in found.tried],
            "latency_all_stations_s": {k: seconds(v) for k, v in found.full.items()},
            "deliveries": delivered[0],
        }

    def write(self, folder: Path) -> None:
        """``observation.csv``, ``observation_backlog.csv`` and ``observation_bundles.parquet``
        (module docstring), each written to a temporary name and renamed."""
        from orbitgrid.csv_files import write_csv

        if self._rows:
            write_csv(folder / "observation.csv", self._rows, list(self._rows[0]))
        if self.outcomes:
            window = self.stage.window_s
            n = len(next(iter(self.outcomes.values())).backlog_bytes)
            rows = [
                {"time_s": k * window}
                | {f"{s}_bytes": float(o.backlog_bytes[k]) for s, o in self.outcomes.items()}
                for k in range(n)
            ]
            write_csv(folder / "observation_backlog.csv", rows, list(rows[0]))
            table = bundles_table(self.outcomes, self.tiles, self._satellite_names,
                                  self._node_names)  # fmt: skip
            tmp = folder / ".observation_bundles.parquet.tmp"
            pq.write_table(table, tmp)
            os.replace(tmp, folder / "observation_bundles.parquet")
            if self._positions:
                tmp = folder / ".observation_backlog_map.parquet.tmp"
                pq.write_table(self.backlog_map_table(), tmp)
                os.replace(tmp, folder / "observation_backlog_map.parquet")

    def backlog_map_table(self) -> pa.Table:
        """Bytes on board per strategy, stored step and satellite with the sub-satellite
        point (satellites with a sensor only): where data waits."""
        t = self.sample_times_s()
        lat = np.concatenate([p[1] for p in self._positions])
        lon = np.concatenate([p[2] for p in self._positions])
        sensed = np.flatnonzero(self.stage.sensors.has_sensor)
        names = np.asarray(self._satellite_names, dtype=object)
        parts = []
        for strategy, o in self.outcomes.items():
            held = o.extra["backlog_samples"][:, sensed]
            n_t = held.shape[0]
            parts.append(pa.table({
                "strategy": pa.array([strategy] * held.size, pa.string()),
                "time_s": pa.array(np.repeat(t[:n_t], len(sensed))),
                "satellite": pa.array(np.tile(names[sensed], n_t)),
                "latitude_deg": pa.array(lat[:n_t][:, sensed].ravel()),
                "longitude_deg": pa.array(lon[:n_t][:, sensed].ravel()),
                "backlog_bytes": pa.array(held.ravel()),
            }))  # fmt: skip
        return pa.concat_tables(parts)


def per_satellite_figures(outcome: Outcome, tiles: Tiles, contact_plan, plan: Plan, summary):
    """``[satellite]`` arrays of the byte and tile figures (module docstring)."""
    n = plan.satellite_count

    def by_sat(sat, weights=None) -> np.ndarray:
        return np.bincount(sat, weights=weights, minlength=n).astype(np.float64)

    o = outcome
    size = o.bundle_size
    sat = o.bundle_satellite
    raw_dropped = o.tile_dropped
    raw_stored = o.tile_stored
    figures = {
        "captured_tiles": by_sat(tiles.satellite),
        "captured_bytes": by_sat(tiles.satellite, tiles.size_bytes),
        "processed_tiles": by_sat(tiles.satellite[o.tile_processed]),
        "processed_bytes": by_sat(
            tiles.satellite[o.tile_processed], tiles.size_bytes[o.tile_processed]
        ),
        "made_bytes": by_sat(sat, size),
    }
    for code, name in ((OUT_DELIVERED, "delivered"), (OUT_STORED, "stored"),
                       (OUT_DROPPED, "dropped")):  # fmt: skip
        mine = o.bundle_outcome == code
        figures[f"{name}_bytes"] = by_sat(sat[mine], size[mine])
    figures["stored_bytes"] += by_sat(tiles.satellite[raw_stored], tiles.size_bytes[raw_stored])
    figures["dropped_bytes"] += by_sat(tiles.satellite[raw_dropped], tiles.size_bytes[raw_dropped])
    processed_products = o.bundle_product != RAW
    figures["reduced_bytes"] = figures["processed_bytes"] - by_sat(
        sat[processed_products], size[processed_products]
    )
    hop_from = contact_plan.from_node[o.hop_contact]
    hop_size = size[o.hop_bundle]
    down = contact_plan.kind[o.hop_contact] == KIND_GSL_DOWN
    figures["downlinked_bytes"] = by_sat(hop_from[down], hop_size[down])
    relay = (hop_from != sat[o.hop_bundle]) & (hop_from < n)
    figures["relayed_bytes"] = by_sat(hop_from[relay], hop_size[relay])
    # Bytes each satellite sent up to a GEO relay (any node past the ground endpoints).
    relay_nodes = summary.delivery.relay_nodes if summary.delivery is not None else []
    geo = (hop_from < n) & np.isin(contact_plan.to_node[o.hop_contact], relay_nodes)
    figures["geo_relayed_bytes"] = by_sat(hop_from[geo], hop_size[geo])
    # Tile outcomes, through the product that carries each tile's insight.
    insight = INSIGHT_PRODUCT[o.strategy]
    carrier = o.bundle_product == insight
    tile_outcome = np.full(len(tiles), -1)
    tile_outcome[o.bundle_tile[carrier]] = o.bundle_outcome[carrier]
    filtered = o.tile_processed & (tile_outcome < 0)
    figures["tiles_delivered"] = by_sat(tiles.satellite[tile_outcome == OUT_DELIVERED])
    figures["tiles_filtered_out"] = by_sat(tiles.satellite[filtered])
    figures["tiles_stored"] = by_sat(tiles.satellite[(tile_outcome == OUT_STORED) | raw_stored])
    figures["tiles_dropped"] = by_sat(tiles.satellite[(tile_outcome == OUT_DROPPED) | raw_dropped])
    # Onboard energy: the accelerators' installed power for the time each processed tile
    # takes at full delivered compute (the core model runs them at that power).
    processing = summary.config.processing
    if processing is not None:
        seconds_per_tile = np.divide(
            1.0, summary.stage.tiles_per_s, out=np.zeros(n), where=summary.stage.tiles_per_s > 0
        )
        joules = plan.spacecraft.compute_power_installed_w * seconds_per_tile
        figures["onboard_energy_wh"] = figures["processed_tiles"] * joules / 3600.0
    else:
        figures["onboard_energy_wh"] = np.zeros(n)
    return figures


def _latencies(outcome: Outcome, tiles: Tiles) -> dict[str, float | None]:
    o = outcome
    delivered = o.bundle_outcome == OUT_DELIVERED
    ground = o.bundle_delivered_s[delivered] - tiles.capture_s[o.bundle_tile[delivered]]
    insight_mask = delivered & (o.bundle_product == INSIGHT_PRODUCT[o.strategy])
    insight = o.bundle_delivered_s[insight_mask] - tiles.capture_s[o.bundle_tile[insight_mask]]
    out: dict[str, float | None] = {}
    for name, values in (("capture_to_ground", ground), ("capture_to_insight", insight)):
        for p in PERCENTILES:
            out[f"{name}_p{p:.0f}_s"] = _percentile(values, p)
    return out


def _station_hours(outcome: Outcome, contact_plan, node_names) -> dict[str, Any]:
    """Hours of ground-station contact used (booked downlink volume at each pass's rate, in
    total and per station: antenna-hours, since each tracked pass holds one dish) and needed
    to move every product made at the mean downlink rate."""
    gsl = contact_plan.kind == KIND_GSL_DOWN
    rate = contact_plan.rate_bps[gsl]
    used_s = outcome.booked_bytes[gsl] * 8.0 / rate
    mean_rate = float(np.average(rate, weights=contact_plan.duration_s[gsl])) if gsl.any() else 0
    made = float(outcome.bundle_size.sum())
    station = contact_plan.to_node[gsl]
    per_station = np.bincount(station, weights=used_s, minlength=contact_plan.n_nodes)
    return {
        "station_hours_used": float(used_s.sum() / 3600.0),
        "station_hours_used_by_station": {
            node_names[i]: float(per_station[i] / 3600.0) for i in np.unique(station)
        },
        "station_hours_needed": made * 8.0 / mean_rate / 3600.0 if mean_rate else float("nan"),
    }


def _relay_figures(relays, delivery, outcomes: dict[str, Outcome]) -> list[dict[str, Any]]:
    """Per relay: its laser contacts and hours, and per strategy the bytes it carried."""
    plan = delivery.plan
    out = []
    for relay, node in zip(relays, delivery.relay_nodes, strict=True):
        laser = plan.to_node == node
        carried = {
            s: float(np.bincount(plan.to_node[o.hop_contact] == node,
                                 weights=o.bundle_size[o.hop_bundle], minlength=2)[1])
            for s, o in outcomes.items()
        }  # fmt: skip
        out.append({
            "name": relay.name,
            "longitude_deg": relay.longitude_deg,
            "ground_station": relay.ground_station,
            "laser_contacts": int(laser.sum()),
            "laser_hours": float(plan.duration_s[laser].sum() / 3600.0),
            "carried_bytes": carried,
        })  # fmt: skip
    return out


def bundles_table(outcomes, tiles: Tiles, satellite_names, node_names) -> pa.Table:
    """Every bundle of every strategy as an Arrow table (``observation_bundles.parquet``)."""
    parts = []
    for strategy, o in outcomes.items():
        n = len(o.bundle_size)
        station = np.where(o.bundle_station >= 0, o.bundle_station, 0)
        names = np.asarray(node_names, dtype=object)[station] if len(node_names) else np.array([])
        parts.append(
            pa.table(
                {
                    "strategy": pa.array([strategy] * n, pa.string()),
                    "satellite": pa.array(
                        np.asarray(satellite_names, object)[o.bundle_satellite], pa.string()
                    ),
                    "product": pa.array(
                        [PRODUCT_NAMES[int(p)] for p in o.bundle_product], pa.string()
                    ),
                    "tile": pa.array(o.bundle_tile),
                    "capture_s": pa.array(tiles.capture_s[o.bundle_tile]),
                    "created_s": pa.array(o.bundle_created_s),
                    "size_bytes": pa.array(o.bundle_size),
                    "outcome": pa.array(
                        [OUTCOME_NAMES[int(c)] for c in o.bundle_outcome], pa.string()
                    ),
                    "delivered_s": pa.array(o.bundle_delivered_s, from_pandas=True),
                    "departed_s": pa.array(o.bundle_departed_s, from_pandas=True),
                    "hops": pa.array(o.bundle_hops),
                    "station": pa.array(
                        np.where(o.bundle_station >= 0, names, None) if n else [], pa.string()
                    ),
                    "priority": pa.array(tiles.priority[o.bundle_tile]),
                    "latitude_deg": pa.array(tiles.latitude_deg[o.bundle_tile]),
                    "longitude_deg": pa.array(tiles.longitude_deg[o.bundle_tile]),
                }
            )
        )
    return pa.concat_tables(parts)


def _percentile(values: np.ndarray, p: float) -> float | None:
    return float(np.percentile(values, p)) if len(values) else None


def _clean(value: float) -> float:
    return float(value)
