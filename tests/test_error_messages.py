"""The wording of user errors: each names the field path, the value given and what is allowed.

Pinned here so that messages stay helpful (in the spirit of xarray's test_error_messages.py).
"""

from __future__ import annotations

import copy

import pytest

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
    assert "less than or equal to 1" in message
    assert "'120 %'" in message


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
    assert "b200, h100-sxm, jetson-agx-orin-64, tpu-v4" in message


def test_undefined_spacecraft_reference():
    data = small_scenario_dict()
    data["constellation"][0]["spacecraft"] = "nope"
    message = str(_error(data))
    assert "uses spacecraft 'nope', which is not defined; defined: node" in message


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
