"""Peak memory of the running process, for the benchmarks' reports."""

from __future__ import annotations

from pathlib import Path


def peak_memory_mb() -> float:
    """This process's peak resident memory (Linux ``VmHWM``), MB; NaN elsewhere."""
    status = Path("/proc/self/status")
    if not status.exists():
        return float("nan")
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return float("nan")
