"""Results: waterfall totals, unit-cost arithmetic, tokens model, summary.json round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orbitgrid.economics import (
    SatelliteDesign,
    annuity_factor,
    evaluate_economics,
    load_assumptions,
    satellite_mass,
    size_satellite,
)
from orbitgrid.errors import ScenarioError


@pytest.fixture
def design() -> SatelliteDesign:
    return size_satellite("h100-sxm", 114, 10, 5.0, load_assumptions().parameters())


def test_waterfall_sums_to_lifecycle_cost(design: SatelliteDesign) -> None:
    result = evaluate_economics(design, 0.6)
    for summary in (result.orbital, result.terrestrial):
        total = sum(usd for _, usd in summary.waterfall)
        assert total == pytest.approx(summary.lifecycle_cost_usd, rel=1e-12)
        assert all(usd >= 0.0 for _, usd in summary.waterfall)
    assert [name for name, _ in result.orbital.waterfall][:6] == [
        "accelerators",
        "solar_array",
        "battery",
        "radiator",
        "bus",
        "launch",
    ]


def test_undiscounted_unit_costs_are_plain_division(design: SatelliteDesign) -> None:
    """With r = 0, $/GPU-hour = total / (n · 8766 h/yr · years · fraction)."""
    params = load_assumptions().with_overrides({"discount_rate": 0.0}).parameters()
    result = evaluate_economics(design, 0.5, params)
    hours = 1140 * 365.25 * 24.0 * 5.0 * 0.5
    assert result.orbital.delivered_gpu_hours == pytest.approx(hours)
    assert result.orbital.cost_per_gpu_hour_usd == pytest.approx(
        result.orbital.lifecycle_cost_usd / hours
    )
    pflop_days = 1140 * 0.989 * 365.25 * 5.0 * 0.5
    assert result.orbital.cost_per_pflop_day_usd == pytest.approx(
        result.orbital.lifecycle_cost_usd / pflop_days
    )


def test_tokens_model_is_stated_and_applied(design: SatelliteDesign) -> None:
    """Llama-3.1-70B at 2 FLOPs/parameter/token (Kaplan 2020) and 30% utilisation."""
    params = load_assumptions().with_overrides({"discount_rate": 0.0}).parameters()
    result = evaluate_economics(design, 1.0, params)
    tokens_per_s = 1140 * 989e12 * 0.3 / (2 * 70.6e9)
    tokens = tokens_per_s * 365.25 * 86400.0 * 5.0
    assert result.orbital.cost_per_million_tokens_usd == pytest.approx(
        result.orbital.lifecycle_cost_usd / tokens * 1e6
    )
    assert "7.06e+10 parameters" in result.tokens_model


def test_annuity_factor_matches_the_year_by_year_sum() -> None:
    rate, years = 0.08, 7
    assert annuity_factor(rate, years) == pytest.approx(
        sum((1 + rate) ** -t for t in range(1, years + 1)), rel=1e-12
    )
    assert annuity_factor(0.0, 7.5) == 7.5


def test_mass_build_up(design: SatelliteDesign) -> None:
    """Rocket equation: propellant = dry (exp(Δv/(Isp g0)) − 1), Δv = 10·5 + 150 m/s, Isp 220 s."""
    mass = satellite_mass(design, load_assumptions().parameters())
    assert mass.compute_kg == pytest.approx(114 * 16.3)
    expected = mass.dry_kg * np.expm1(200.0 / (220.0 * 9.80665))
    assert mass.propellant_kg == pytest.approx(expected, rel=1e-12)
    assert mass.deorbit_propellant_kg == pytest.approx(0.75 * expected, rel=1e-12)
    assert mass.wet_kg == pytest.approx(mass.dry_kg + expected)


def test_summary_json_round_trip(tmp_path: Path, design: SatelliteDesign) -> None:
    result = evaluate_economics(design, 0.6)
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(result.to_dict(), allow_nan=False))
    loaded = json.loads(path.read_text())
    assert loaded["orbital"]["cost_per_gpu_hour_usd"] == pytest.approx(
        result.orbital.cost_per_gpu_hour_usd
    )
    assert loaded["orbital"]["waterfall_usd"][0][0] == "accelerators"
    assert loaded["break_even_launch_cost_usd_per_kg"] is None  # orbit loses at free launch


def test_swept_result_serialises_to_lists(design: SatelliteDesign) -> None:
    params = load_assumptions().parameters({"launch_cost_usd_per_kg": [100.0, 1000.0]})
    data = evaluate_economics(design, 0.6, params).to_dict()
    assert len(data["orbital"]["cost_per_gpu_hour_usd"]) == 2
    json.dumps(data, allow_nan=False)


def test_repr_pins_one_line(design: SatelliteDesign) -> None:
    text = repr(evaluate_economics(design, 0.6))
    assert text.startswith("EconomicsResult(orbital/terrestrial = ")
    assert "\n" not in text


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_delivered_fraction_outside_unit_interval_is_rejected(
    design: SatelliteDesign, fraction: float
) -> None:
    with pytest.raises(ScenarioError, match="give a fraction in"):
        evaluate_economics(design, fraction)


def test_unknown_replacement_model_lists_choices(design: SatelliteDesign) -> None:
    with pytest.raises(ScenarioError, match="choose one of satellite, compute"):
        evaluate_economics(design, 0.5, replacement="module")  # type: ignore[arg-type]


def test_zero_delivered_compute_gives_infinite_unit_cost(design: SatelliteDesign) -> None:
    result = evaluate_economics(design, 0.0)
    assert result.orbital.cost_per_gpu_hour_usd == np.inf


def test_terrestrial_refresh_buys_a_second_set_after_five_years() -> None:
    """T = 10 yr, refresh 5 yr: hardware PV = one set × (1 + (1 + r)^−5); r = 8 %."""
    params = load_assumptions().parameters()
    design = size_satellite("h100-sxm", 114, 10, 10.0, params)
    result = evaluate_economics(design, 0.9, params)
    one_set = 1140 * 25_000.0 * 1.5
    assert dict(result.terrestrial.waterfall)["accelerators"] == pytest.approx(
        one_set * (1.0 + 1.08**-5), rel=1e-12
    )


def test_launch_learning_lowers_only_replacement_launches(design: SatelliteDesign) -> None:
    """Wright's law on resupply launches: lr = 0.8 cuts replacement cost, leaves first launch."""
    table = load_assumptions()
    flat = evaluate_economics(design, 0.9, table.parameters())
    learning = evaluate_economics(design, 0.9, table.parameters({"launch_learning_rate": 0.8}))
    flat_items, learning_items = dict(flat.orbital.waterfall), dict(learning.orbital.waterfall)
    assert learning_items["launch"] == flat_items["launch"]
    assert learning_items["replacement"] < flat_items["replacement"]


def test_design_from_scenario_spacecraft() -> None:
    """The adapter reads the core scenario's spacecraft (array power = A · η · 1361 W/m²)."""
    from orbitgrid.scenario import Spacecraft

    spacecraft = Spacecraft.model_validate(
        {
            "solar_array": {"area": "20 m2", "efficiency": "30 %"},
            "battery": {"capacity": "4 kWh"},
            "radiator": {"area": "2 m2"},
            "bus_power": "800 W",
            "compute": {"accelerator": "h100-sxm", "count": 2, "host_overhead_fraction": 0.5},
        }
    )
    design = SatelliteDesign.from_spacecraft(spacecraft, satellite_count=6, mission_years=5.0)
    assert design.solar_array_power_w == pytest.approx(20 * 0.30 * 1361.0)
    assert design.battery_energy_wh == pytest.approx(4000.0)
    assert design.accelerator_count == 12
    result = evaluate_economics(design, 0.8)
    assert result.it_power_w == pytest.approx(12 * 700.0 * 1.5)


def test_compute_power_share_and_the_passenger_caution() -> None:
    """An edge module of 60 W (Jetson AGX Orin, no host overhead) on a satellite whose bus
    draws 1,400 W: the accelerators' share is 60 / 1,460 = 4.1 %, and the cost is flagged as
    a whole satellite charged to a passenger; a compute satellite is not flagged."""
    from dataclasses import replace

    from orbitgrid.economics.results import attribution_note

    params = load_assumptions().parameters()
    edge = size_satellite("jetson-agx-orin-64", 1, 100, 5.0, params, bus_power_w=1400.0)
    edge = replace(edge, host_power_overhead_fraction=0.0)
    result = evaluate_economics(edge, 1.0, params).to_dict()
    assert result["compute_power_share"] == pytest.approx(60.0 / 1460.0, rel=1e-9)
    assert attribution_note("broadband", result).startswith(
        "broadband: the accelerators draw 4% of the satellites' power"
    )
    cluster = size_satellite("h100-sxm", 114, 10, 5.0, params, bus_power_w=6000.0)
    share = evaluate_economics(cluster, 1.0, params).to_dict()["compute_power_share"]
    assert share > 0.9 and attribution_note("compute", {"compute_power_share": share}) == ""
