"""Sweeps: many scenario variants on Dask, recorded in a DuckDB catalog, with sensitivity.

The front door (the ``orbitgrid sweep`` command calls it)::

    from orbitgrid.sweep import run_sweep
    result = run_sweep(Path("sweep.yaml"), out_dir=None, scheduler=None, workers=None,
                       progress=None)
    result.table()      # pandas: one row per point, a column per parameter and output
    result.catalog_path # sweeps/<name>/catalog.duckdb

See ``docs/sweeps.md`` for the sweep file, the catalog tables and running on a cluster.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from orbitgrid.sweep.catalog import Catalog
from orbitgrid.sweep.design import SweepDesign, build_design
from orbitgrid.sweep.execute import SweepResult, evaluate_group_economics, run_sweep
from orbitgrid.sweep.sensitivity import sobol_indices, tornado_table
from orbitgrid.sweep.spec import SweepSpec, check_path, load_sweep, sweep_from_dict


def shipped_sweeps() -> list[str]:
    """Names of the example sweeps shipped in ``orbitgrid/scenarios/sweeps/``."""
    folder = Path(str(resources.files("orbitgrid.scenarios"))) / "sweeps"
    return sorted(p.stem for p in folder.glob("*.yaml"))


def shipped_sweep_path(name: str) -> Path | None:
    """The file of the shipped sweep ``name`` (with or without ``.yaml``), or None."""
    folder = Path(str(resources.files("orbitgrid.scenarios"))) / "sweeps"
    candidate = folder / (name if name.endswith(".yaml") else f"{name}.yaml")
    return candidate if candidate.is_file() else None


__all__ = [
    "Catalog",
    "SweepDesign",
    "SweepResult",
    "SweepSpec",
    "build_design",
    "check_path",
    "evaluate_group_economics",
    "load_sweep",
    "run_sweep",
    "shipped_sweep_path",
    "shipped_sweeps",
    "sobol_indices",
    "sweep_from_dict",
    "tornado_table",
]
