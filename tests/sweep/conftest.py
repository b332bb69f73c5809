"""Fixtures for sweep tests: a tiny base scenario (6 satellites, 3 h) written into tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import small_scenario_dict


def write_sweep(folder: Path, sweep: dict[str, Any], economics: bool = True) -> Path:
    """Write ``base.yaml`` (the small test scenario) and ``sweep.yaml`` into ``folder``."""
    base = small_scenario_dict()
    if economics:
        base["economics"] = {"mission": "5 yr"}
    (folder / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "base.yaml", **sweep}, sort_keys=False))
    return path


@pytest.fixture
def sweep_file(tmp_path: Path):
    def make(sweep: dict[str, Any], economics: bool = True) -> Path:
        return write_sweep(tmp_path, sweep, economics)

    return make
