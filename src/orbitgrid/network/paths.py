"""Reading the path log of a run (``paths.csv``) for ``orbitgrid paths RUN_DIR SRC DST``.

The log of a long run is large (a day at 1 s for 100 endpoints: millions of rows), so it is
read with pyarrow's multi-threaded CSV reader and filtered column-wise, not row by row.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orbitgrid.errors import OrbitgridError

# Between node names in the ``path`` column of ``paths.csv``.
PATH_SEPARATOR = " > "
_TEXT_COLUMNS = ("time_utc", "src", "dst", "hops", "path")
PATH_LOG_NAMES = ("paths.csv", "paths.csv.gz")


def path_log_file(run_dir: str | Path) -> Path | None:
    """The run's path log (``paths.csv``, or ``paths.csv.gz`` with ``network.path_log:
    csv.gz``), or None when it has none."""
    for name in PATH_LOG_NAMES:
        if (Path(run_dir) / name).is_file():
            return Path(run_dir) / name
    return None


def read_paths(run_dir: str | Path, src: str, dst: str) -> list[dict[str, str]]:
    """Rows of ``paths.csv`` for the pair, in time order, oriented from ``src`` to ``dst``.

    The log holds each unordered pair once (paths are symmetric), so the reverse direction is
    served by reversing the node list. A pair that never had a path has no rows. Errors name
    the run folder or list the known endpoints.
    """
    file = path_log_file(run_dir)
    if file is None:
        raise OrbitgridError(
            f"{run_dir} has no paths.csv: it is not a run folder, its scenario has no network "
            "section, or it ran with network.path_log: none"
        )
    try:
        table = pacsv.read_csv(
            file,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in _TEXT_COLUMNS}
                | {"rtt_ms": pa.float64()},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise OrbitgridError(f"cannot read {file}: {exc}") from exc
    known = set(pc.unique(table["src"]).to_pylist()) | set(pc.unique(table["dst"]).to_pylist())
    for name in (src, dst):
        if name not in known:
            raise OrbitgridError(
                f"unknown endpoint {name!r} in {file}; endpoints: {', '.join(sorted(known))}"
            )
    forward = pc.and_(pc.equal(table["src"], src), pc.equal(table["dst"], dst))
    backward = pc.and_(pc.equal(table["src"], dst), pc.equal(table["dst"], src))
    out = []
    for row in table.filter(pc.or_(forward, backward)).to_pylist():
        if row["src"] != src:
            nodes = row["path"].split(PATH_SEPARATOR) if row["path"] else []
            row = {**row, "src": src, "dst": dst, "path": PATH_SEPARATOR.join(reversed(nodes))}
        rtt = row["rtt_ms"]
        row["rtt_ms"] = "unreachable" if rtt is None or math.isnan(rtt) else f"{rtt:.2f}"
        out.append(row)
    return out
