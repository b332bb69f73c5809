"""Reading the path log of a run (``paths.csv``) for ``orbitgrid paths RUN_DIR SRC DST``."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from orbitgrid.errors import OrbitgridError

# Between node names in the ``path`` column of ``paths.csv``.
PATH_SEPARATOR = " > "


def read_paths(run_dir: str | Path, src: str, dst: str) -> list[dict[str, str]]:
    """Rows of ``paths.csv`` for the pair, in time order, oriented from ``src`` to ``dst``.

    The log holds each unordered pair once (paths are symmetric), so the reverse direction is
    served by reversing the node list. Errors name the run folder or list the known endpoints.
    """
    file = Path(run_dir) / "paths.csv"
    if not file.is_file():
        raise OrbitgridError(
            f"{run_dir} has no paths.csv: it is not a run folder, or its scenario has no "
            "network section"
        )
    with file.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    known = sorted({r["src"] for r in rows} | {r["dst"] for r in rows})
    for name in (src, dst):
        if name not in known:
            raise OrbitgridError(
                f"unknown endpoint {name!r} in {file}; endpoints: {', '.join(known)}"
            )
    out = []
    for row in rows:
        if (row["src"], row["dst"]) == (src, dst):
            out.append(row)
        elif (row["src"], row["dst"]) == (dst, src):
            out.append(
                {
                    **row,
                    "src": src,
                    "dst": dst,
                    "path": " > ".join(reversed(row["path"].split(" > "))),
                }
            )
    for row in out:
        rtt = float(row["rtt_ms"])
        row["rtt_ms"] = "unreachable" if math.isnan(rtt) else f"{rtt:.2f}"
    return out
