"""Reading a run folder (as ``orbitgrid run`` writes it) for reports and exports.

A run folder holds ``summary.json`` (required), ``scenario.yaml`` (the scenario as run, SI
units), ``shells.csv`` and, unless the scenario turned it off, ``dataset.zarr`` (dims ``time`` ×
``satellite``). Network results, when present, are variables with dims ``time``, ``src``,
``dst`` either in ``dataset.zarr`` or in a separate ``network.zarr`` beside it.

Nothing here loads a full variable: the dataset is opened lazily and the report reads it in
time blocks (see ``decimate.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from orbitgrid.errors import InputFileError, OrbitgridError, ScenarioError
from orbitgrid.network.config import network_config_from_dict
from orbitgrid.network.endpoints import resolve_endpoints
from orbitgrid.report.decimate import ShellReduction, shell_labels, shell_reductions

NETWORK_DIMS = ("time", "src", "dst")
"""Dimensions of the network variables (``rtt_ms``, ``latency_ms``, ...)."""


@dataclass
class RunFolder:
    """A run folder opened for reading: summary, scenario and the lazily opened datasets.

    Attributes
    ----------
    path : Path
        The run folder.
    summary : dict
        ``summary.json`` as written by the run.
    scenario : dict
        ``scenario.yaml`` (SI units, keys with units in their names); empty if absent.
    """

    path: Path
    summary: dict[str, Any]
    scenario: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    """Results computed once per report and shared between sections (keyed by their purpose)."""
    _reductions: dict[str, dict[str, ShellReduction]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (
            f"<RunFolder {self.name!r}: {self.summary.get('satellites', '?')} satellites, "
            f"{self.summary.get('time', {}).get('steps', '?')} steps in {self.path}>"
        )

    @property
    def name(self) -> str:
        """The scenario name (or the folder name when the summary has none)."""
        return str(self.summary.get("scenario") or self.path.name)

    @cached_property
    def dataset(self) -> xr.Dataset | None:
        """``dataset.zarr`` opened lazily, or None when the run kept no dataset."""
        store = self.path / "dataset.zarr"
        if not store.exists():
            return None
        return _open_zarr(store)

    @cached_property
    def network(self) -> xr.Dataset | None:
        """Network variables (dims ``time``, ``src``, ``dst``), or None when the run has none."""
        sources = []
        if self.dataset is not None:
            sources.append(self.dataset)
        store = self.path / "network.zarr"
        if store.exists():
            sources.append(_open_zarr(store))
        for ds in sources:
            names = [n for n, v in ds.data_vars.items() if set(NETWORK_DIMS) <= set(v.dims)]
            if names:
                return ds
        return None

    def has_variables(self, *names: str) -> bool:
        """True when the dataset exists and holds every variable in ``names``."""
        ds = self.dataset
        return ds is not None and all(n in ds.data_vars for n in names)

    def shell_reductions(
        self,
        variable: str,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        key: str | None = None,
    ) -> dict[str, ShellReduction]:
        """Per-shell mean/min/max/sum over satellites of a ``[time, satellite]`` variable.

        Read once in time blocks (``decimate.shell_reductions``) and cached under ``key``
        (default: the variable name) for other sections. ``transform`` maps each block first
        (e.g. a flag test); give a distinct ``key`` with it.
        """
        cache_key = key or variable
        if cache_key not in self._reductions:
            ds = self.dataset
            if ds is None or variable not in ds.data_vars:
                raise KeyError(f"run {self.path} has no variable {variable!r}")
            self._reductions[cache_key] = shell_reductions(
                ds[variable], shell_labels(ds), transform=transform
            )
        return self._reductions[cache_key]

    @cached_property
    def time_utc(self) -> np.ndarray:
        """The ``time`` coordinate (``datetime64[ns]``, UTC) of the dataset (empty if none)."""
        ds = self.dataset
        if ds is None:
            return np.array([], dtype="datetime64[ns]")
        return np.asarray(ds["time"].values)

    @property
    def total(self) -> dict[str, Any]:
        """The ``total`` figures of the summary (empty dict if missing)."""
        return dict(self.summary.get("total") or {})

    @property
    def shells(self) -> dict[str, dict[str, Any]]:
        """Per-shell figures of the summary, by shell name."""
        return dict(self.summary.get("shells") or {})

    def spacecraft_by_shell(self) -> dict[str, dict[str, Any]]:
        """The ``spacecraft`` entry (SI units) used by each shell, from ``scenario.yaml``."""
        craft = self.scenario.get("spacecraft") or {}
        out: dict[str, dict[str, Any]] = {}
        for shell in self.scenario.get("constellation") or []:
            spec = craft.get(shell.get("spacecraft"))
            if shell.get("name") is not None and isinstance(spec, dict):
                out[str(shell["name"])] = spec
        return out

    def max_temperature_k_by_shell(self) -> dict[str, float]:
        """Compute temperature limit (K) of each shell's spacecraft (``compute.max_temperature_k``).

        Shells whose spacecraft or limit cannot be found are left out.
        """
        limits: dict[str, float] = {}
        for name, spec in self.spacecraft_by_shell().items():
            limit = (spec.get("compute") or {}).get("max_temperature_k")
            if limit is not None:
                limits[name] = float(limit)
        return limits

    def battery_floor_by_shell(self) -> dict[str, float]:
        """Lowest allowed state of charge (1 − depth of discharge, fraction) of each shell."""
        floors: dict[str, float] = {}
        for name, spec in self.spacecraft_by_shell().items():
            dod = (spec.get("battery") or {}).get("depth_of_discharge")
            if dod is not None:
                floors[name] = 1.0 - float(dod)
        return floors

    def ground_stations(self) -> list[dict[str, Any]]:
        """Every endpoint of the scenario's network section: inline and ``endpoint_files``.

        Resolved with ``orbitgrid.network.resolve_endpoints`` (inline first, then each file in
        order, as the run did). ``builtin:`` lists and absolute paths resolve anywhere; a
        relative file is looked up in the run folder, then the current directory, and left out
        when found in neither. Returns dicts with ``name``, ``kind``, ``latitude_deg``,
        ``longitude_deg`` and ``altitude_km``; empty when the run has no network section.
        """
        network = self.scenario.get("network")
        if not isinstance(network, dict):
            return []
        try:
            config = network_config_from_dict(network)
        except ScenarioError:
            return _inline_endpoints(network)
        files = []
        for name in config.endpoint_files:
            if name.startswith("builtin:") or Path(name).is_absolute():
                files.append(name)
                continue
            for base in (self.path, Path.cwd()):
                if (base / name).is_file():
                    files.append(str((base / name).resolve()))
                    break
        config = config.model_copy(update={"endpoint_files": files})
        try:
            table = resolve_endpoints(config, self.path)
        except (ScenarioError, InputFileError):
            return _inline_endpoints(network)
        return [
            {
                "name": str(table.name[i]),
                "kind": str(table.kind[i]),
                "latitude_deg": float(table.latitude_deg[i]),
                "longitude_deg": float(table.longitude_deg[i]),
                "altitude_km": float(table.altitude_km[i]),
            }
            for i in range(len(table))
        ]


def _inline_endpoints(network: dict[str, Any]) -> list[dict[str, Any]]:
    """Endpoints written inline in ``network.endpoints`` (when the section does not validate)."""
    stations = []
    for item in network.get("endpoints") or []:
        if not isinstance(item, dict):
            continue
        lat = item.get("latitude_deg", item.get("latitude"))
        lon = item.get("longitude_deg", item.get("longitude"))
        if lat is None or lon is None:
            continue
        stations.append(
            {
                "name": str(item.get("name", f"endpoint {len(stations)}")),
                "kind": str(item.get("kind", "endpoint")),
                "latitude_deg": float(lat),
                "longitude_deg": float(lon),
                "altitude_km": float(item.get("altitude_km", item.get("altitude", 0.0)) or 0.0),
            }
        )
    return stations


def _open_zarr(store: Path) -> xr.Dataset:
    try:
        return xr.open_zarr(store, chunks=None)
    except Exception as exc:  # zarr raises several types for a damaged store
        raise OrbitgridError(
            f"cannot open the dataset {store}: {exc}. Expected a Zarr store written by "
            "`orbitgrid run`; re-run the scenario to rebuild it"
        ) from exc


def load_run(run_dir: str | os.PathLike[str], *, require_dataset: bool = False) -> RunFolder:
    """Open a run folder: read ``summary.json`` and ``scenario.yaml``, open datasets lazily.

    Parameters
    ----------
    run_dir : path
        A folder written by ``orbitgrid run``.
    require_dataset : bool
        Raise if the folder has no ``dataset.zarr`` (the CZML export needs positions).

    Raises
    ------
    OrbitgridError
        The folder does not exist, is not a run folder (no ``summary.json``), a file is
        unreadable, or the dataset is required and missing.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise OrbitgridError(
            f"{path} is not a run folder: expected a folder written by `orbitgrid run` "
            "holding summary.json (and dataset.zarr)"
        )
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise OrbitgridError(
            f"{path} is not a run folder: summary.json is missing. Expected a folder written "
            "by `orbitgrid run SCENARIO --out DIR`"
        )
    try:
        summary = json.loads(summary_file.read_text())
    except (OSError, ValueError) as exc:
        raise OrbitgridError(f"cannot read {summary_file}: {exc}; expected JSON") from exc
    if not isinstance(summary, dict):
        raise OrbitgridError(f"{summary_file} does not hold a JSON object; expected a run summary")
    scenario: dict[str, Any] = {}
    scenario_file = path / "scenario.yaml"
    if scenario_file.is_file():
        try:
            loaded = yaml.safe_load(scenario_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise OrbitgridError(f"cannot read {scenario_file}: {exc}; expected YAML") from exc
        scenario = loaded if isinstance(loaded, dict) else {}
    run = RunFolder(path=path, summary=summary, scenario=scenario)
    if require_dataset and not (path / "dataset.zarr").exists():
        raise OrbitgridError(
            f"{path} has no dataset.zarr: the run kept no time series (scenario "
            "output.dataset: false). Re-run with output.dataset: true to export positions"
        )
    return run


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` via ``path.partial`` and ``os.replace`` (never half-written)."""
    partial = path.with_name(path.name + ".partial")
    try:
        if isinstance(data, bytes):
            partial.write_bytes(data)
        else:
            partial.write_text(data, encoding="utf-8")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
