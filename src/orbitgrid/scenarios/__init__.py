"""Shipped example scenarios and sweeps: YAML files beside this module (sweeps in ``sweeps/``),
listed by ``orbitgrid scenarios``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from orbitgrid.yaml_loader import load_yaml_file


def _folder() -> Path:
    return Path(str(resources.files("orbitgrid.scenarios")))


def _first_lines(folder: Path, what: str) -> dict[str, str]:
    """Map each YAML file's stem in ``folder`` to the first line of its ``description``."""
    listing = {}
    for file in sorted(folder.glob("*.yaml")):
        # Shipped files go through the same bounded reader as a user's (one YAML dialect).
        data = load_yaml_file(file, what=what) or {}
        description = str(data.get("description", "")).strip().splitlines()
        listing[file.stem] = description[0] if description else ""
    return listing


def shipped_scenarios() -> dict[str, str]:
    """Map each shipped scenario's name to the first line of its description."""
    return _first_lines(_folder(), "scenario")


def shipped_sweep_descriptions() -> dict[str, str]:
    """Map each shipped sweep's name (``orbitgrid sweep NAME``) to its description's first line."""
    return _first_lines(_folder() / "sweeps", "sweep")


def shipped_scenario_path(name: str) -> Path | None:
    """The file of the shipped scenario ``name`` (with or without ``.yaml``), or None."""
    candidate = _folder() / (name if name.endswith(".yaml") else f"{name}.yaml")
    return candidate if candidate.is_file() else None
