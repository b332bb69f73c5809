"""Error messages of sweep files: each names the path, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from orbitgrid.errors import OrbitgridError, ScenarioError
from orbitgrid.sweep import run_sweep


def _error(sweep_file, tmp_path: Path, parameters: dict) -> str:
    path = sweep_file({"name": "e", "parameters": parameters})
    with pytest.raises(ScenarioError) as caught:
        run_sweep(path, tmp_path / "out", "synchronous", None, None)
    return str(caught.value)


def test_unknown_field_lists_valid_keys(sweep_file, tmp_path: Path):
    text = _error(sweep_file, tmp_path, {"spacecraft.node.battery.capacty": {"values": [1]}})
    assert "'spacecraft.node.battery.capacty'" in text
    assert "Did you mean 'capacity'?" in text
    assert "depth_of_discharge" in text and "spacecraft.node.battery has no key" in text


def test_unknown_spacecraft_name_lists_defined(sweep_file, tmp_path: Path):
    text = _error(sweep_file, tmp_path, {"spacecraft.nod.bus_power": {"values": ["1 kW"]}})
    assert "spacecraft has no key 'nod'" in text and "Valid keys there: node" in text


def test_list_index_out_of_range(sweep_file, tmp_path: Path):
    text = _error(sweep_file, tmp_path, {"constellation[2].altitude": {"values": ["500 km"]}})
    assert "constellation has 1 entry" in text and "0..0" in text


def test_unknown_assumption_key(sweep_file, tmp_path: Path):
    text = _error(sweep_file, tmp_path, {"economics.overrides.launch_usd_per_kg": {"values": [1]}})
    assert "Did you mean 'launch_cost_usd_per_kg'" in text


def test_walker_field_names_come_from_the_shell_type(sweep_file, tmp_path: Path):
    text = _error(sweep_file, tmp_path, {"constellation[0].ltan": {"values": [6]}})
    assert "constellation[0] has no key 'ltan'" in text and "sats_per_plane" in text


def test_spec_problems_are_listed(sweep_file, tmp_path: Path):
    path = sweep_file(
        {
            "name": "e",
            "design": "sobol",
            "samples": 10,
            "parameters": {"economics.overrides.pue": {"range": [1.1, 1.6]}},
        }
    )
    with pytest.raises(ScenarioError, match=r"needs a power of two .* got 10; try 16"):
        run_sweep(path, tmp_path / "out", "synchronous", None, None)
    path = sweep_file({"name": "e", "parameters": {"economics.overrides.pue": {"range": [1, 2]}}})
    with pytest.raises(ScenarioError, match=r"range on the grid design needs 'num'"):
        run_sweep(path, tmp_path / "out", "synchronous", None, None)


def test_unknown_output_names_the_level(sweep_file, tmp_path: Path):
    path = sweep_file(
        {
            "name": "e",
            "parameters": {"economics.overrides.pue": {"values": [1.2]}},
            "outputs": ["total.sunlit_fractoin"],
        }
    )
    with pytest.raises(OrbitgridError, match=r"total has: satellites, sunlit_fraction"):
        run_sweep(path, tmp_path / "out", "synchronous", None, None)
