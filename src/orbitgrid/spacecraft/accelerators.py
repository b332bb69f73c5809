"""The shipped accelerator catalog: board power and dense throughput, each row with its source.

The catalog lives in ``data/accelerators.csv`` so that adding a part is a data change. A
scenario names a part by its ``key`` (``h100-sxm``, ``b200``, ``tpu-v4``, ``jetson-agx-orin-64``).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Accelerator:
    """One accelerator part: maximum board power (W) and dense throughput (TFLOPS)."""

    key: str
    name: str
    tdp_w: float
    dense_tflops: float
    precision: str
    source: str


@functools.cache
def accelerator_catalog() -> dict[str, Accelerator]:
    """Return the shipped catalog keyed by part key, in file order."""
    text = resources.files("orbitgrid.data").joinpath("accelerators.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {
        row["key"]: Accelerator(
            key=row["key"],
            name=row["name"],
            tdp_w=float(row["tdp_w"]),
            dense_tflops=float(row["dense_tflops"]),
            precision=row["precision"],
            source=row["source"],
        )
        for row in rows
    }
