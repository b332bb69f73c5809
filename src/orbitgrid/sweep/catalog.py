"""The sweep catalog: one embedded DuckDB file (``catalog.duckdb``) in the sweep's folder.

Tables:

- ``sweeps``: one row per sweep run into this folder (id, name, spec as JSON, base scenario,
  design, seed, parameters and outputs as JSON lists, point count, orbitgrid version);
- ``points``: one row per finished point, primary key (sweep_id, point_id): ``role``
  (``design`` or a ``tornado:`` point), ``status`` (``ok``, ``invalid`` for a scenario the
  validation rejects, ``error`` for a failed run), ``error`` text, the ``physics_key`` of its
  time simulation, its share of run time;
- ``point_values``: the point's parameter values and outputs, one row each (``kind`` is
  ``parameter`` or ``output``, ``name`` the dotted path, ``value`` a DOUBLE in the parameter's
  unit or the output's, ``text`` for a value that is not a number, e.g. a pointing mode);
- ``physics``: cached time-simulation summaries keyed by the hash of the physics part of the
  scenario, shared by every sweep in the folder.

Each finished point (or batch of points sharing one time simulation) is written in its own
transaction, which DuckDB makes durable in its write-ahead log before the call returns, so a
sweep killed with SIGKILL keeps every recorded point; on restart ``finished`` lists them and the
sweep skips them. Only the process that runs the sweep writes; Dask workers return results.

``points_frame`` gives a wide table (one column per parameter and output) for pandas, and
``export_parquet`` writes it atomically for any Parquet reader.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from orbitgrid.errors import OrbitgridError

CATALOG_FILE = "catalog.duckdb"
STATUS_OK = "ok"
STATUS_INVALID = "invalid"
STATUS_ERROR = "error"
# Statuses a restart does not retry: a run that worked, or a scenario that can never be valid.
FINISHED_STATUSES = (STATUS_OK, STATUS_INVALID)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    spec_file VARCHAR,
    spec_json VARCHAR,
    base VARCHAR,
    design VARCHAR,
    seed BIGINT,
    points_total BIGINT,
    parameters_json VARCHAR,
    units_json VARCHAR,
    outputs_json VARCHAR,
    orbitgrid_version VARCHAR,
    created_utc TIMESTAMP
);
CREATE TABLE IF NOT EXISTS points (
    sweep_id VARCHAR,
    point_id BIGINT,
    role VARCHAR,
    status VARCHAR,
    error VARCHAR,
    physics_key VARCHAR,
    runtime_s DOUBLE,
    finished_utc TIMESTAMP,
    PRIMARY KEY (sweep_id, point_id)
);
CREATE TABLE IF NOT EXISTS point_values (
    sweep_id VARCHAR,
    point_id BIGINT,
    kind VARCHAR,
    name VARCHAR,
    value DOUBLE,
    text VARCHAR
);
CREATE TABLE IF NOT EXISTS physics (
    physics_key VARCHAR PRIMARY KEY,
    summary_json VARCHAR,
    runtime_s DOUBLE,
    created_utc TIMESTAMP
);
"""


@dataclass(frozen=True)
class PointBatch:
    """Finished points stored together (points sharing one time simulation), by column.

    ``parameters`` maps a path to (numbers, texts): numbers in the parameter's unit (NaN where
    the point keeps the base value or the value is a category), texts None or per point the
    written value when it is not a number. ``outputs`` maps a path to one number per point.
    """

    point_ids: np.ndarray
    roles: list[str]
    status: str
    errors: str | list[str | None] | None
    physics_key: str | None
    runtime_s: float | np.ndarray
    parameters: dict[str, tuple[np.ndarray, list[Any] | None]]
    outputs: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.point_ids)


class Catalog:
    """The DuckDB catalog of one sweep folder (see module docstring). Use as a context manager."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as error:
            raise OrbitgridError(
                f"catalog {self.path} cannot be opened ({error}); is another sweep writing "
                "to this folder? Wait for it or choose another --out"
            ) from None
        if not read_only:
            self.con.execute(_SCHEMA)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def __repr__(self) -> str:
        return f"<Catalog {self.path}>"

    # -- sweeps --------------------------------------------------------------------------

    def register_sweep(
        self,
        sweep_id: str,
        name: str,
        spec_file: str,
        spec: dict[str, Any],
        base: str,
        design: str,
        seed: int,
        points_total: int,
        parameters: Sequence[str],
        units: Sequence[str],
        outputs: Sequence[str],
        version: str,
    ) -> None:
        """Insert the sweep's row unless a sweep with this id is already there (a restart)."""
        self.con.execute(
            "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [
                sweep_id,
                name,
                spec_file,
                json.dumps(spec, default=str),
                base,
                design,
                seed,
                points_total,
                json.dumps(list(parameters)),
                json.dumps(list(units)),
                json.dumps(list(outputs)),
                version,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )

    def sweeps(self) -> pd.DataFrame:
        """All sweeps recorded in this catalog, newest last."""
        return self.con.execute("SELECT * FROM sweeps ORDER BY created_utc").df()

    def sweep_info(self, sweep_id: str) -> dict[str, Any]:
        """The ``sweeps`` row of ``sweep_id``, with the JSON columns decoded."""
        row = self.con.execute("SELECT * FROM sweeps WHERE sweep_id = ?", [sweep_id]).df()
        if row.empty:
            raise OrbitgridError(f"catalog {self.path} has no sweep {sweep_id!r}")
        info = row.iloc[0].to_dict()
        for key in ("spec_json", "parameters_json", "units_json", "outputs_json"):
            info[key.removesuffix("_json")] = json.loads(info.pop(key))
        return info

    # -- points --------------------------------------------------------------------------

    def finished(self, sweep_id: str) -> set[int]:
        """Point ids of ``sweep_id`` that a restart must skip (status ok or invalid)."""
        rows = self.con.execute(
            "SELECT point_id FROM points WHERE sweep_id = ? AND status IN (?, ?)",
            [sweep_id, *FINISHED_STATUSES],
        ).fetchall()
        return {int(r[0]) for r in rows}

    def record(self, sweep_id: str, batch: PointBatch) -> int:
        """Store finished points in one transaction (durable on return); return how many.

        A point already present (an ``error`` being retried) is replaced.
        """
        m = len(batch)
        if m == 0:
            return 0
        ids = np.asarray(batch.point_ids, dtype=np.int64)
        points = pd.DataFrame(
            {
                "sweep_id": sweep_id,
                "point_id": ids,
                "role": batch.roles,
                "status": batch.status,
                "error": batch.errors if isinstance(batch.errors, list) else [batch.errors] * m,
                "physics_key": batch.physics_key,
                "runtime_s": np.broadcast_to(np.asarray(batch.runtime_s, dtype=float), (m,)),
                "finished_utc": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }
        )
        parts = []
        columns = [("parameter", k, n, t) for k, (n, t) in batch.parameters.items()]
        columns += [("output", k, n, None) for k, n in batch.outputs.items()]
        for kind, name, numbers, texts in columns:
            numbers = np.broadcast_to(np.asarray(numbers, dtype=float), (m,))
            if texts is None:
                keep = ~np.isnan(numbers) if kind == "parameter" else np.ones(m, bool)
                text_column: Any = None
            else:
                keep = np.array([t is not None for t in texts])
                text_column = [None if t is None else str(t) for t in texts]
            part = pd.DataFrame(
                {
                    "point_id": ids,
                    "kind": kind,
                    "name": name,
                    # Missing outputs (NaN, inf) are stored as NULL.
                    "value": np.where(np.isfinite(numbers), numbers, np.nan),
                    "text": text_column,
                }
            )
            parts.append(part[keep])
        values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        self.con.register("_points", points)
        self.con.register("_values", values)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "DELETE FROM point_values WHERE sweep_id = ? AND point_id IN "
                "(SELECT point_id FROM _points)",
                [sweep_id],
            )
            self.con.execute("INSERT OR REPLACE INTO points SELECT * FROM _points")
            if not values.empty:
                self.con.execute(
                    "INSERT INTO point_values SELECT ?, point_id, kind, name, value, text "
                    "FROM _values",
                    [sweep_id],
                )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister("_points")
            self.con.unregister("_values")
        return m

    def counts(self, sweep_id: str) -> dict[str, int]:
        """Number of recorded points of ``sweep_id`` by status."""
        rows = self.con.execute(
            "SELECT status, count(*) FROM points WHERE sweep_id = ? GROUP BY status", [sweep_id]
        ).fetchall()
        return {str(s): int(n) for s, n in rows}

    def points_frame(self, sweep_id: str) -> pd.DataFrame:
        """Wide table of a sweep: ``point_id, role, status, error, runtime_s`` + a column per
        parameter (in its unit) and per output (dotted summary path), ordered by point id.

        Parameter columns hold the number written into the scenario (NaN where the point kept
        the base value, e.g. tornado points; the text for a category); output columns NaN for a
        missing figure.
        """
        info = self.sweep_info(sweep_id)
        frame = self.con.execute(
            "SELECT point_id, role, status, error, runtime_s FROM points WHERE sweep_id = ? "
            "ORDER BY point_id",
            [sweep_id],
        ).df()
        values = self.con.execute(
            "SELECT point_id, name, value, text FROM point_values WHERE sweep_id = ?",
            [sweep_id],
        ).df()
        frame = frame.set_index("point_id")
        names = list(info["parameters"]) + list(info["outputs"])
        if not values.empty:
            numbers = values.pivot(index="point_id", columns="name", values="value")
            frame = frame.join(numbers.reindex(columns=names))
            texts = values.dropna(subset=["text"])
            if not texts.empty:
                wide = texts.pivot(index="point_id", columns="name", values="text")
                for name in wide.columns:
                    column = wide[name].reindex(frame.index)
                    if frame[name].notna().sum() < column.notna().sum():
                        frame[name] = column  # a category: keep the text
        for name in names:
            if name not in frame:
                frame[name] = np.nan
        columns = ["point_id", "role", "status", "error", "runtime_s", *names]
        return frame.reset_index()[columns]

    # -- physics cache -------------------------------------------------------------------

    def physics(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Cached time-simulation summaries for those of ``keys`` already computed."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        rows = self.con.execute(
            "SELECT physics_key, summary_json FROM physics WHERE list_contains(?, physics_key)",
            [wanted],
        ).fetchall()
        return {k: json.loads(s) for k, s in rows}

    def store_physics(self, key: str, summary: dict[str, Any], runtime_s: float) -> None:
        """Cache a time-simulation summary (first writer wins)."""
        self.con.execute(
            "INSERT INTO physics VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                key,
                json.dumps(summary, default=str),
                runtime_s,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` via a temporary file and a rename (never half-written)."""
    partial = path.with_name(path.name + ".partial")
    frame.to_parquet(partial, index=False)
    os.replace(partial, path)
    return path


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV via a temporary file and a rename."""
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)
    return path
