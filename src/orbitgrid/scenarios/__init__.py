"""Shipped example scenarios: YAML files beside this module, listed by ``orbitgrid scenarios``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml


def _folder() -> Path:
    return Path(str(resources.files("orbitgrid.scenarios")))


def shipped_scenarios() -> dict[str, str]:
    """Map each shipped scenario's name to the first line of its description."""
    listing = {}
    for file in sorted(_folder().glob("*.yaml")):
        data = yaml.safe_load(file.read_text()) or {}
        description = str(data.get("description", "")).strip().splitlines()
        listing[file.stem] = description[0] if description else ""
    return listing


def shipped_scenario_path(name: str) -> Path | None:
    """The file of the shipped scenario ``name`` (with or without ``.yaml``), or None."""
    candidate = _folder() / (name if name.endswith(".yaml") else f"{name}.yaml")
    return candidate if candidate.is_file() else None
