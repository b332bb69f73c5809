"""Reading the path log of a run (the ``paths`` table) for ``orbitgrid paths RUN_DIR SRC DST``.

The log of a long run is large (a day at 1 s for 100 endpoints: millions of rows), so it is
read with pyarrow (Parquet, or the multi-threaded CSV reader) and filtered column-wise, not
row by row. ``paths.parquet``, ``paths.csv`` and ``paths.csv.gz`` read the same
(``tables.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orbitgrid.errors import OrbitgridError
from orbitgrid.network.tables import read_table, table_file

# Between node names in the ``path`` column of the path log.
PATH_SEPARATOR = " > "
PATHS_STEM = "paths"
PAIRS_STEM = "network_pairs"
PATH_COLUMNS = ("time_utc", "src", "dst", "rtt_ms", "hops", "path")
# How a CSV path log reads back as the Parquet one: names stay text, times are timestamps.
PATH_TEXT_TYPES = {"src": pa.string(), "dst": pa.string(), "path": pa.string()}
PATH_TIMES = ("time_utc",)


def path_log_file(run_dir: str | Path) -> Path | None:
    """The run's path log (``paths.parquet``, ``paths.csv`` or ``paths.csv.gz``), or None
    when it has none."""
    return table_file(run_dir, PATHS_STEM)


def _utc_text(times: pa.ChunkedArray) -> list[str]:
    """``2027-01-01T00:00:00`` (whole seconds) or with the fraction the times need."""
    instants = times.cast(pa.timestamp("us")).to_numpy()
    micros = instants.astype(np.int64)
    unit = "s" if np.all(micros % 10**6 == 0) else "ms" if np.all(micros % 10**3 == 0) else "us"
    return np.datetime_as_string(instants, unit=unit).tolist()


def read_paths(run_dir: str | Path, src: str, dst: str) -> list[dict[str, str]]:
    """Rows of the path log for the pair, in time order, oriented from ``src`` to ``dst``,
    as text: ``time_utc`` (UTC), ``rtt_ms`` (or ``unreachable``), ``hops``, ``path``.

    The log holds each unordered pair once (paths are symmetric), so the reverse direction is
    served by reversing the node list. A pair that never had a path has no rows. Errors name
    the run folder or list the known endpoints.
    """
    file = path_log_file(run_dir)
    if file is None:
        raise OrbitgridError(
            f"{run_dir} has no path log (paths.parquet or paths.csv): it is not a run folder, "
            "its scenario has no network section, or it ran with network.path_log: none"
        )
    table = read_table(file, PATH_COLUMNS, timestamps=PATH_TIMES, types=PATH_TEXT_TYPES)
    known = set(pc.unique(table["src"]).to_pylist()) | set(pc.unique(table["dst"]).to_pylist())
    for name in (src, dst):
        if name not in known:
            raise OrbitgridError(
                f"unknown endpoint {name!r} in {file}; endpoints: {', '.join(sorted(known))}"
            )
    forward = pc.and_(pc.equal(table["src"], src), pc.equal(table["dst"], dst))
    backward = pc.and_(pc.equal(table["src"], dst), pc.equal(table["dst"], src))
    rows = table.filter(pc.or_(forward, backward))
    times = _utc_text(rows["time_utc"])
    out = []
    for when, row in zip(times, rows.to_pylist(), strict=True):
        path = row["path"] or ""
        if row["src"] != src:
            path = PATH_SEPARATOR.join(reversed(path.split(PATH_SEPARATOR))) if path else ""
        rtt, hops = row["rtt_ms"], row["hops"]
        reachable = rtt is not None and not math.isnan(rtt)
        out.append(
            {
                "time_utc": when,
                "src": src,
                "dst": dst,
                "rtt_ms": f"{rtt:.2f}" if reachable else "unreachable",
                # Logs written before hops were null without a path hold -1.
                "hops": str(hops) if hops is not None and hops >= 0 else "-",
                "path": path,
            }
        )
    return out
