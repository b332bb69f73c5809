"""Small CSV tables of a run folder (``shells.csv``, ``workloads.csv``, …), written atomically.

A module of its own so that reducers can write their tables without importing the run
machinery (``runs`` imports the engine, which composes the stages that own the reducers).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any


def write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    """Write ``rows`` (dicts keyed by ``fields``) as CSV, atomically (a ``.partial`` file
    renamed into place, so a reader never sees half a table)."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)
