"""The wording of user errors: each names the field path, the value given and what is allowed.

Pinned here so that messages stay helpful (in the spirit of xarray's test_error_messages.py).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import yaml

from orbitgrid.errors import ScenarioError
from orbitgrid.scenario import load_scenario, scenario_from_dict
from tests.conftest import small_scenario_dict


def _error(data) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    return info.value


def test_bad_unit_names_path_value_and_allowed_units():
    data = small_scenario_dict()
    data["constellation"][0]["altitude"] = "550 kn"
    error = _error(data)
    assert "constellation[0].altitude: unknown unit 'kn' in '550 kn'" in str(error)
    assert "allowed units are 'm', 'km'" in str(error)
    assert error.path == "constellation[0].altitude"
    assert error.value == "550 kn"


def test_out_of_range_value():
    data = small_scenario_dict()
    data["spacecraft"]["node"]["battery"]["depth_of_discharge"] = "120 %"
    message = str(_error(data))
    assert "spacecraft.node.battery.depth_of_discharge" in message
    assert "must be less than or equal to 1 (got 120 % = 1.2)" in message


def test_unknown_shell_type_lists_valid_types():
    data = small_scenario_dict()
    data["constellation"][0]["type"] = "walkr"
    message = str(_error(data))
    assert (
        "constellation[0]: unknown shell type 'walkr'; allowed: 'walker', 'sso', 'tle', 'omm'"
        in message
    )


def test_unknown_field_is_reported():
    data = small_scenario_dict()
    data["constellation"][0]["altitud"] = "550 km"
    assert "constellation[0].altitud: unknown field" in str(_error(data))


def test_missing_field_is_reported():
    data = small_scenario_dict()
    del data["time"]["step"]
    assert "time.step: required field is missing" in str(_error(data))


def test_unknown_accelerator_lists_catalog():
    data = small_scenario_dict()
    data["spacecraft"]["node"]["compute"]["accelerator"] = "h200"
    message = str(_error(data))
    assert "spacecraft.node.compute.accelerator: unknown accelerator 'h200'" in message
    assert "b200, h100-sxm, jetson-agx-orin-64, jetson-orin-nano-8gb, tpu-v4" in message


def test_undefined_spacecraft_reference():
    """Reported at the field that names it, with a suggestion, not at "(top level)" with the
    scenario quoted."""
    data = small_scenario_dict()
    data["constellation"][0]["spacecraft"] = "nodes"
    error = _error(data)
    message = str(error)
    assert (
        "constellation[0].spacecraft: shell 'w' uses spacecraft 'nodes', which is not defined "
        "(did you mean 'node'?); defined: node" in message
    )
    assert "(top level)" not in message and "'time'" not in message  # no mapping dumped
    assert error.path == "constellation[0].spacecraft" and error.value == "nodes"


def test_walker_phasing_range():
    data = small_scenario_dict()
    data["constellation"][0]["phasing"] = 2
    assert "phasing F=2 must be in [0, planes-1] = [0, 1]" in str(_error(data))


def test_all_problems_are_reported_at_once():
    data = small_scenario_dict()
    data["time"]["duration"] = "1 dy"
    data["constellation"][0]["altitude"] = "fast"
    message = str(_error(data))
    assert message.startswith("s.yaml: 2 problems in the scenario:")
    assert "time.duration" in message and "constellation[0].altitude" in message


def test_output_every_must_be_a_multiple_of_step():
    data = small_scenario_dict(output={"every": "90 s"})
    assert "output.every (90 s) must be a whole multiple of time.step (60 s)" in str(_error(data))


def test_battery_initial_charge_below_floor():
    data = small_scenario_dict()
    data["spacecraft"]["node"]["battery"]["initial_state_of_charge"] = 0.1
    assert "below the depth-of-discharge floor 0.2" in str(_error(data))


def test_missing_scenario_lists_shipped_ones(tmp_path):
    with pytest.raises(ScenarioError, match=r"no shipped scenario of that name.*dawn-dusk-cluster"):
        load_scenario(tmp_path / "nope.yaml")


def test_not_a_mapping(tmp_path):
    file = tmp_path / "list.yaml"
    file.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="a scenario is a mapping of sections"):
        load_scenario(file)


def test_invalid_yaml(tmp_path):
    file = tmp_path / "broken.yaml"
    file.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(file)


def test_scenario_is_not_modified_by_validation():
    data = small_scenario_dict()
    before = copy.deepcopy(data)
    scenario_from_dict(data)
    assert data == before


def test_scenario_reference_documents_every_key():
    """docs/scenario.md names every YAML key of the schema (so the reference cannot drift)."""
    import typing
    from pathlib import Path

    from pydantic import BaseModel

    from orbitgrid.scenario import Scenario

    doc = (Path(__file__).parents[1] / "docs" / "scenario.md").read_text()
    missing, visited = [], set()

    def models_in(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
        for arg in typing.get_args(annotation):
            yield from models_in(arg)

    def walk(model: type[BaseModel]) -> None:
        visited.add(model.__name__)
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            key = field.alias or name
            if f"`{key}" not in doc and f".{key}`" not in doc:
                missing.append(f"{model.__name__}.{key}")
            for inner in models_in(field.annotation):
                walk(inner)

    walk(Scenario)
    assert {"WalkerShell", "Radiator", "EconomicsSection"} <= visited
    assert not missing, f"undocumented scenario keys: {missing}"


# ---------------------------------------------------------------------------------------------
# issue 11: units in limits, "did you mean", field paths for cross-references, checks that
# `orbitgrid validate` makes before a run


def test_limits_carry_the_field_unit():
    data = small_scenario_dict()
    data["constellation"][0]["altitude"] = "55000 km"
    message = str(_error(data))
    assert "constellation[0].altitude: must be less than 50000 km (got 55000 km)" in message
    data["constellation"][0]["altitude"] = "55000000 m"  # another unit: shown converted too
    assert "(got 55000000 m = 55000 km)" in str(_error(data))
    data = small_scenario_dict()
    data["spacecraft"]["node"]["radiator"]["area"] = 0
    assert "radiator.area: must be greater than 0 m² (got 0 m²)" in str(_error(data))


def test_unknown_key_suggests_the_closest_valid_one():
    data = small_scenario_dict()
    data["spacecraft"]["node"]["battery"]["capacty"] = "1 kWh"
    message = str(_error(data))
    assert "spacecraft.node.battery.capacty: unknown field; did you mean 'capacity'?" in message
    assert "valid keys here: capacity, depth_of_discharge" in message


def test_misspelt_choices_and_names_get_a_suggestion():
    data = small_scenario_dict()
    data["network"] = {
        "endpoints": [{"name": "A", "latitude": 0, "longitude": 0}],
        "isl": {"pattern": "grid"},
    }
    data["spacecraft"]["node"]["compute"]["accelerator"] = "b20"
    message = str(_error(data))
    assert "network.isl.pattern: Input should be '+grid', 'none' or 'formation'" in message
    assert "(got 'grid'); did you mean '+grid'?" in message
    assert "unknown accelerator 'b20' (did you mean 'b200'?)" in message


def test_model_level_problems_name_their_field_not_the_mapping():
    data = small_scenario_dict()
    data["constellation"][0]["phasing"] = 5
    error = _error(data)
    assert "constellation[0].phasing: phasing F=5 must be in [0, planes-1]" in str(error)
    assert "{" not in str(error)  # the shell's mapping is not quoted


def test_missing_element_file_says_paths_are_relative_to_the_scenario(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    data = small_scenario_dict()
    data["constellation"] = [
        {"type": "tle", "name": "t", "file": "data/sats.tle", "spacecraft": "node"}
    ]
    (folder / "s.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)  # elsewhere: the path must still be the scenario's neighbour
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder / "s.yaml")
    message = str(info.value)
    assert "constellation[0].file: element file 'data/sats.tle' not found" in message
    assert str(folder / "data" / "sats.tle") in message
    assert "a relative path is read from the scenario file's folder" in message
    assert "current directory unless" not in message
    assert info.value.path == "constellation[0].file"


def test_validate_refuses_a_failure_naming_an_unknown_endpoint(tmp_path):
    """Caught by `orbitgrid validate` with its YAML path, not seconds into the run."""
    data = small_scenario_dict()
    data["network"] = {
        "endpoints": [
            {"name": "Paris", "latitude": 48.85, "longitude": 2.35},
            {"name": "London", "latitude": 51.5, "longitude": -0.12},
        ],
        "isl": {"pattern": "none"},
        "routing": {"mode": "ground-relays"},
        "failures": {"scheduled": [{"element": "endpoint", "name": "Londn"}]},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "orbitgrid", "validate", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=300,
    )
    assert done.returncode == 2, done.stdout
    assert (
        "network.failures.scheduled[0].name: no endpoint named 'Londn' (did you mean 'London'?)"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
