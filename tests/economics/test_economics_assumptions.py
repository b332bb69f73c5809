"""The shipped assumptions table, its overrides, and the wording of the errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from orbitgrid.economics import (
    EconomicParameters,
    EconomicsSection,
    SatelliteDesign,
    load_assumptions,
)
from orbitgrid.errors import ScenarioError
from orbitgrid.spacecraft.accelerators import accelerator_catalog


def test_every_row_is_sourced_and_within_its_range() -> None:
    table = load_assumptions()
    assert len(table) >= 40
    for key in table:
        row = table[key]
        assert row.source.strip(), key
        assert 1990 <= row.year <= 2030, key
        assert row.low <= row.value <= row.high, key
        assert row.unit, key


def test_estimates_say_so() -> None:
    """A row whose source is our own estimate must say 'Estimate' in its note."""
    table = load_assumptions()
    for key in table:
        row = table[key]
        if row.source.startswith("orbitgrid estimate"):
            assert "estimate" in row.note.lower(), key


def test_table_and_parameter_fields_match() -> None:
    fields = {f.name for f in dataclasses.fields(EconomicParameters)}
    assert fields == set(load_assumptions().keys())


def test_every_catalog_accelerator_has_a_price() -> None:
    params = load_assumptions().parameters()
    for key in accelerator_catalog():
        assert params.accelerator_cost_usd(key) > 0.0


def test_repr_is_one_line() -> None:
    assert repr(load_assumptions()) == "AssumptionTable(50 sourced parameters from assumptions.csv)"


def test_override_replaces_value_and_keeps_source() -> None:
    table = load_assumptions().with_overrides({"launch_cost_usd_per_kg": 500})
    assert table["launch_cost_usd_per_kg"].value == 500.0
    assert "Jones" in table["launch_cost_usd_per_kg"].source
    assert table.parameters().launch_cost_usd_per_kg == 500.0


def test_array_override_for_sweeps() -> None:
    prices = np.linspace(100.0, 3000.0, 7)
    params = load_assumptions().parameters({"launch_cost_usd_per_kg": prices})
    assert isinstance(params.launch_cost_usd_per_kg, np.ndarray)
    np.testing.assert_array_equal(params.launch_cost_usd_per_kg, prices)


def test_typo_names_the_key_the_closest_match_and_all_valid_keys() -> None:
    with pytest.raises(ScenarioError) as info:
        load_assumptions().with_overrides({"launch_cost_usd_per_kilo": 500})
    message = str(info.value)
    assert "unknown assumption 'launch_cost_usd_per_kilo'. Did you mean" in message
    assert "'launch_cost_usd_per_kg'" in message
    assert "Valid keys are: solar_array_specific_power_w_per_kg," in message
    assert info.value.path == "economics.overrides"
    assert info.value.value == "launch_cost_usd_per_kilo"


def test_scenario_section_rejects_typo_with_valid_keys() -> None:
    with pytest.raises(ValidationError) as info:
        EconomicsSection.model_validate({"overrides": {"pue_ratio": 1.2}})
    # pydantic shortens long messages in str(); the full text is in errors()
    message = info.value.errors()[0]["msg"]
    assert info.value.errors()[0]["loc"] == ("overrides",)
    assert "unknown assumption 'pue_ratio'" in message
    assert "Did you mean 'pue'" in message
    assert "Valid keys are:" in message


def test_scenario_section_applies_overrides() -> None:
    section = EconomicsSection.model_validate({"overrides": {"launch_cost_usd_per_kg": 500}})
    assert section.parameters().launch_cost_usd_per_kg == 500.0
    with pytest.raises(ValidationError):
        EconomicsSection.model_validate({"overides": {}})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("launch_cost_usd_per_kg", -1.0, "give a finite number >= 0 in USD/kg"),
        ("launch_cost_usd_per_kg", float("nan"), "give a finite number >= 0 in USD/kg"),
        ("insurance_fraction", 6.0, "this is a fraction between 0 and 1"),
        ("pue", "high", "expected a number in 1, got 'high'"),
    ],
)
def test_bad_override_values_name_field_value_and_allowed(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_assumptions().with_overrides({key: value})  # type: ignore[dict-item]
    assert f"economics.overrides.{key}" in str(info.value)
    assert expected in str(info.value)


def test_unknown_accelerator_lists_the_catalog() -> None:
    with pytest.raises(ScenarioError) as info:
        SatelliteDesign("a100", 8, 1e4, 1e3, 10.0, 1, 5)
    assert "unknown accelerator 'a100'" in str(info.value)
    assert "h100-sxm" in str(info.value)


def test_negative_design_field_is_rejected() -> None:
    with pytest.raises(ScenarioError) as info:
        SatelliteDesign("h100-sxm", 8, -1.0, 1e3, 10.0, 1, 5)
    assert "design.solar_array_power_w = -1.0 is not allowed" in str(info.value)


def test_scenario_section_parses_mission_and_choices() -> None:
    section = EconomicsSection.model_validate(
        {"mission": "10 yr", "replacement": "compute", "terrestrial_delivered_fraction": "95 %"}
    )
    assert section.mission_years == pytest.approx(10.0)
    assert section.replacement == "compute"
    assert section.terrestrial_delivered_fraction == pytest.approx(0.95)
    with pytest.raises(ValidationError, match="'satellite' or 'compute'"):
        EconomicsSection.model_validate({"replacement": "board"})
