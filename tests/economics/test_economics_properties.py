"""Invariants of the cost model (hypothesis) and agreement of the vectorised and scalar paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from orbitgrid.economics import (
    EconomicParameters,
    break_even_launch_cost_usd_per_kg,
    evaluate_economics,
    load_assumptions,
    size_satellite,
)

fractions = st.floats(min_value=0.05, max_value=1.0)
prices = st.floats(min_value=0.0, max_value=20_000.0)


def _params(**overrides: float) -> EconomicParameters:
    return load_assumptions().with_overrides(overrides).parameters()


@settings(max_examples=60, deadline=None, database=None)
@given(
    low=prices,
    step=st.floats(min_value=1.0, max_value=5_000.0),
    fraction=fractions,
    learning=st.floats(min_value=0.7, max_value=1.0),
    replacement=st.sampled_from(["satellite", "compute"]),
)
def test_cost_is_monotone_in_launch_price(
    low: float, step: float, fraction: float, learning: float, replacement: str
) -> None:
    params = _params(launch_learning_rate=learning)
    design = size_satellite("h100-sxm", 64, 20, 5.0, params)
    cheap = evaluate_economics(
        design, fraction, params.replace(launch_cost_usd_per_kg=low), replacement=replacement
    )
    dear = evaluate_economics(
        design,
        fraction,
        params.replace(launch_cost_usd_per_kg=low + step),
        replacement=replacement,
    )
    assert dear.orbital.lifecycle_cost_usd > cheap.orbital.lifecycle_cost_usd
    assert dear.orbital.cost_per_gpu_hour_usd > cheap.orbital.cost_per_gpu_hour_usd
    assert dear.terrestrial.lifecycle_cost_usd == cheap.terrestrial.lifecycle_cost_usd


@settings(max_examples=60, deadline=None, database=None)
@given(
    fraction=fractions,
    terrestrial_fraction=fractions,
    electricity=st.floats(min_value=0.02, max_value=0.5),
    accelerator_usd=st.floats(min_value=0.0, max_value=60_000.0),
    rate=st.floats(min_value=0.0, max_value=0.12),
)
def test_break_even_price_makes_the_two_costs_equal(
    fraction: float,
    terrestrial_fraction: float,
    electricity: float,
    accelerator_usd: float,
    rate: float,
) -> None:
    params = _params(
        electricity_usd_per_kwh=electricity,
        accelerator_cost_usd_h100_sxm=accelerator_usd,
        discount_rate=rate,
        # cheap orbit so that a break-even price exists for most draws
        solar_array_cost_usd_per_w=0.5,
        bus_cost_usd_per_kg=100.0,
        ground_segment_capex_usd=0.0,
        operations_cost_usd_per_year=0.0,
    )
    design = size_satellite("h100-sxm", 64, 20, 5.0, params)
    price = break_even_launch_cost_usd_per_kg(
        design, fraction, params, terrestrial_delivered_fraction=terrestrial_fraction
    )
    result = evaluate_economics(
        design,
        fraction,
        params.replace(launch_cost_usd_per_kg=0.0),
        terrestrial_delivered_fraction=terrestrial_fraction,
    )
    if np.isnan(price):
        # Orbit costs more even with free launch.
        assert result.orbital.cost_per_gpu_hour_usd > result.terrestrial.cost_per_gpu_hour_usd
        return
    at_break_even = evaluate_economics(
        design,
        fraction,
        params.replace(launch_cost_usd_per_kg=price),
        terrestrial_delivered_fraction=terrestrial_fraction,
    )
    assert at_break_even.orbital.cost_per_gpu_hour_usd == pytest.approx(
        at_break_even.terrestrial.cost_per_gpu_hour_usd, rel=1e-9
    )


def test_closed_form_break_even_agrees_with_brentq() -> None:
    """Closed form against scipy.optimize.brentq on the cost difference, to 1e-6 USD/kg."""
    params = _params(
        launch_learning_rate=0.8,
        solar_array_cost_usd_per_w=0.5,
        bus_cost_usd_per_kg=100.0,
        compute_mass_kg_per_accelerator=3.0,
        electricity_usd_per_kwh=0.3,
        ground_segment_capex_usd=0.0,
        operations_cost_usd_per_year=0.0,
    )
    design = size_satellite("b200", 32, 100, 6.0, params)

    def gap(price: float) -> float:
        result = evaluate_economics(design, 0.95, params.replace(launch_cost_usd_per_kg=price))
        return float(
            result.orbital.cost_per_gpu_hour_usd - result.terrestrial.cost_per_gpu_hour_usd
        )

    closed = evaluate_economics(design, 0.95, params).break_even_launch_cost_usd_per_kg
    assert closed > 0.0
    numeric = brentq(gap, 0.0, 1e5, xtol=1e-9)
    assert closed == pytest.approx(numeric, abs=1e-6)


def test_unreachable_break_even_is_nan() -> None:
    params = _params(solar_array_cost_usd_per_w=300.0)
    design = size_satellite("h100-sxm", 64, 20, 5.0, params)
    assert np.isnan(evaluate_economics(design, 0.5, params).break_even_launch_cost_usd_per_kg)


@settings(max_examples=40, deadline=None, database=None)
@given(fraction=fractions, scale=st.floats(min_value=1.01, max_value=10.0))
def test_more_delivered_compute_is_cheaper_per_unit(fraction: float, scale: float) -> None:
    params = _params()
    design = size_satellite("h100-sxm", 64, 20, 5.0, params)
    low = evaluate_economics(design, fraction / scale, params)
    high = evaluate_economics(design, fraction, params)
    assert high.orbital.cost_per_gpu_hour_usd == pytest.approx(
        low.orbital.cost_per_gpu_hour_usd / scale, rel=1e-12
    )
    assert high.orbital.lifecycle_cost_usd == low.orbital.lifecycle_cost_usd


def test_vectorised_sweep_equals_scalar_loop() -> None:
    """The same 50 points as one broadcast call and as 50 scalar calls agree to 1e-12."""
    rng = np.random.default_rng(7)
    n = 50
    swept = {
        "launch_cost_usd_per_kg": rng.uniform(100.0, 3000.0, n),
        "solar_array_specific_power_w_per_kg": rng.uniform(30.0, 200.0, n),
        "discount_rate": rng.uniform(0.0, 0.12, n),
        "launch_learning_rate": rng.uniform(0.8, 1.0, n),
        "orbital_failure_rate_per_year": rng.uniform(0.01, 0.1, n),
    }
    delivered = rng.uniform(0.3, 1.0, n)
    table = load_assumptions()
    vector_params = table.parameters(swept)
    design = size_satellite("h100-sxm", 64, 20, 5.0, table.parameters())
    vector = evaluate_economics(design, delivered, vector_params)
    for i in range(n):
        scalar_params = table.parameters({k: float(v[i]) for k, v in swept.items()})
        scalar = evaluate_economics(design, float(delivered[i]), scalar_params)
        for name in ("cost_per_gpu_hour_usd", "cost_per_pflop_day_usd", "lifecycle_cost_usd"):
            assert getattr(vector.orbital, name)[i] == pytest.approx(
                getattr(scalar.orbital, name), rel=1e-12
            )
        assert vector.break_even_launch_cost_usd_per_kg[i] == pytest.approx(
            scalar.break_even_launch_cost_usd_per_kg, rel=1e-9, nan_ok=True
        )
