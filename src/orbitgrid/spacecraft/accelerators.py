"""The shipped accelerator catalog: power, throughput and memory, each row with its sources.

The catalog lives in ``data/accelerators.csv`` so that adding a part is a data change. A
scenario names a part by its ``key`` (``h100-sxm``, ``b200``, ``tpu-v4``, ``jetson-agx-orin-64``).
Power and 16-bit throughput drive the power, thermal and economics models; memory capacity,
memory bandwidth and the 8-bit rate drive the LLM serving model (``workloads/serving.py``).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Accelerator:
    """One accelerator part.

    Board power (W), dense 16-bit throughput (TFLOPS, at ``precision``), memory capacity (GB,
    1e9 bytes), peak memory bandwidth (GB/s) and dense 8-bit throughput (FP8, or INT8 where the
    part has no FP8; TFLOPS). ``source`` covers power and 16-bit throughput, ``serving_source``
    the memory and 8-bit figures.
    """

    key: str
    name: str
    tdp_w: float
    dense_tflops: float
    precision: str
    source: str
    memory_gb: float
    memory_bandwidth_gb_s: float
    dense_tflops_8bit: float
    serving_source: str

    @property
    def memory_bytes(self) -> float:
        """Memory capacity in bytes."""
        return self.memory_gb * 1e9

    @property
    def memory_bandwidth_b_s(self) -> float:
        """Peak memory bandwidth in bytes per second."""
        return self.memory_bandwidth_gb_s * 1e9


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
            memory_gb=float(row["memory_gb"]),
            memory_bandwidth_gb_s=float(row["memory_bandwidth_gb_s"]),
            dense_tflops_8bit=float(row["dense_tflops_8bit"]),
            serving_source=row["serving_source"],
        )
        for row in rows
    }
