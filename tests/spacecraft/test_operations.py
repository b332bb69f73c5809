"""Invariants of the operations kernel (power, battery, heat, compute) under random designs.

Property tests (hypothesis): state of charge stays within [floor, capacity]; the energy balance
closes at every step; delivered compute never exceeds installed nor goes negative; compute that
runs keeps the node at or below its limit; compute below installed is always explained by a
limit code.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.constants import AU_KM
from orbitgrid.spacecraft.operations import LIMIT_NONE, SpacecraftArrays, operate

N_SAT, N_TIME, STEP_S = 5, 240, 60.0


def _geometry(seed: int):
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(N_TIME, N_SAT, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    position_km = direction * rng.uniform(6700.0, 8000.0, size=(1, N_SAT, 1))
    normal = rng.normal(size=(N_TIME, N_SAT, 3))
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    # Sunlit fraction: long lit and dark stretches with penumbra values between.
    phase = np.linspace(0, 4 * np.pi, N_TIME)[:, None] + rng.uniform(0, 2 * np.pi, N_SAT)
    sunlit = np.clip(np.sin(phase) * 3 + 0.5, 0.0, 1.0)
    sun_km = np.tile([AU_KM, 0.0, 0.0], (N_TIME, 1))
    return position_km, normal, sunlit, sun_km


design = st.fixed_dictionaries(
    {
        "area_eff": st.floats(0.5, 200.0),
        "degradation": st.floats(0.0, 0.05),
        "pointing": st.integers(0, 2),
        "capacity": st.floats(100.0, 50_000.0),
        "dod": st.floats(0.1, 1.0),
        "eta": st.floats(0.7, 1.0),
        "soc0": st.floats(0.0, 1.0),
        "face_area": st.floats(0.2, 50.0),
        "sides": st.integers(1, 2),
        "eps": st.floats(0.5, 1.0),
        "alpha": st.floats(0.05, 0.9),
        "heat_cap": st.floats(1e4, 1e7),
        "sun_view": st.floats(0.0, 1.0),
        "t_max": st.floats(300.0, 380.0),
        "t0_below": st.floats(0.0, 40.0),
        "bus": st.floats(0.0, 5000.0),
        "compute": st.floats(0.0, 50_000.0),
        "seed": st.integers(0, 2**16),
    }
)


def _arrays(d) -> SpacecraftArrays:
    def full(value, dtype=np.float64):
        return np.full(N_SAT, value, dtype=dtype)

    floor = d["capacity"] * (1.0 - d["dod"])
    eta = np.sqrt(d["eta"])
    return SpacecraftArrays(
        array_area_efficiency_m2=full(d["area_eff"]),
        degradation_per_year=full(d["degradation"]),
        age_at_start_s=full(0.0),
        pointing_code=full(d["pointing"], np.int64),
        battery_capacity_wh=full(d["capacity"]),
        battery_floor_wh=full(floor),
        charge_efficiency=full(eta),
        discharge_efficiency=full(eta),
        initial_energy_wh=full(floor + d["soc0"] * (d["capacity"] - floor)),
        radiator_face_area_m2=full(d["face_area"]),
        radiator_sides=full(d["sides"], np.int64),
        emissivity=full(d["eps"]),
        absorptivity=full(d["alpha"]),
        heat_capacity_j_k=full(d["heat_cap"]),
        sun_view_factor=full(d["sun_view"]),
        initial_temperature_k=full(d["t_max"] - d["t0_below"]),
        max_temperature_k=full(d["t_max"]),
        bus_power_w=full(d["bus"]),
        compute_power_installed_w=full(d["compute"]),
    )


@settings(max_examples=60, deadline=None)
@given(design)
def test_operations_invariants(d):
    params = _arrays(d)
    position_km, normal, sunlit, sun_km = _geometry(d["seed"])
    sin_beta = normal[..., 0]  # sun along +x
    out, limit, energy_end, temp_end = operate(
        params,
        position_km,
        sin_beta,
        sunlit,
        sun_km,
        0.0,
        STEP_S,
        params.initial_energy_wh,
        params.initial_temperature_k,
        6378.137,
    )
    capacity, floor = params.battery_capacity_wh[0], params.battery_floor_wh[0]
    energy = out["battery_energy_wh"]
    scale = max(1.0, d["compute"] + d["bus"] + d["area_eff"] * 1400)

    # State of charge within [floor, capacity].
    assert energy.min() >= floor - 1e-9 * capacity
    assert energy.max() <= capacity + 1e-9 * capacity

    # Power balance at every step.
    supply = out["power_generated_w"] + out["power_discharge_w"]
    demand = (
        out["power_bus_w"]
        + out["power_compute_w"]
        + out["power_charge_w"]
        + out["power_curtailed_w"]
    )
    np.testing.assert_allclose(supply, demand, atol=1e-9 * scale)

    # Battery energy follows charge and discharge exactly.
    step_h = STEP_S / 3600.0
    previous = np.vstack([params.initial_energy_wh[None, :], energy[:-1]])
    eta = params.charge_efficiency[0]
    expected = previous + (out["power_charge_w"] * eta - out["power_discharge_w"] / eta) * step_h
    np.testing.assert_allclose(energy, expected, atol=1e-9 * scale)

    # Compute within [0, installed]; any shortfall is explained by a limit.
    compute = out["power_compute_w"]
    assert compute.min() >= 0.0
    assert compute.max() <= d["compute"] * (1 + 1e-12)
    short = compute < d["compute"] * (1 - 1e-9)
    assert np.all(limit[short] != LIMIT_NONE)

    # Running compute never lifts the node above its limit.
    running = compute > 1e-9
    assert np.all(out["temperature_k"][running] <= d["t_max"] + 1e-6)

    # The returned state is the last step's.
    np.testing.assert_array_equal(energy_end, energy[-1])
    np.testing.assert_array_equal(temp_end, out["temperature_k"][-1])


def test_energy_limited_in_eclipse_then_recovers():
    """A small array and battery: compute is shed in eclipse (limit code 1), runs in sun."""
    d = _eclipse_design()
    params = _arrays(d)
    position_km, normal, _, sun_km = _geometry(1)
    sunlit = np.zeros((N_TIME, N_SAT))
    sunlit[: N_TIME // 2] = 1.0
    out, limit, _, _ = operate(
        params,
        position_km,
        normal[..., 0],
        sunlit,
        sun_km,
        0.0,
        STEP_S,
        params.initial_energy_wh,
        params.initial_temperature_k,
        6378.137,
    )
    assert np.all(limit[3 * N_TIME // 4 :] == 1)  # once the usable 250 Wh are spent
    assert np.all(out["power_compute_w"][3 * N_TIME // 4 :] == 0.0)
    assert np.all(out["power_bus_w"][: N_TIME // 2] == 200.0)
    assert out["power_compute_w"][: N_TIME // 2].max() > 0


def _operate(params, geometry, demand=None, pending=None):
    position_km, normal, sunlit, sun_km = geometry
    return operate(
        params,
        position_km,
        normal[..., 0],
        sunlit,
        sun_km,
        0.0,
        STEP_S,
        params.initial_energy_wh,
        params.initial_temperature_k,
        6378.137,
        np.full(N_SAT, 100.0),
        demand=demand,
        pending=pending,
    )


@settings(max_examples=30, deadline=None)
@given(design)
def test_a_demand_of_one_everywhere_is_bit_identical_to_no_demand(d):
    """The default (no demand) and a demand of 1 at every step give the same outputs, limit
    codes, aggregates and end state, bit for bit: the accelerators run whenever power and heat
    allow, as before demands existed."""
    params = _arrays(d)
    geometry = _geometry(d["seed"])
    out0, limit0, e0, t0 = _operate(params, geometry)
    out1, limit1, e1, t1 = _operate(params, geometry, np.ones((N_TIME, N_SAT)))
    out1.pop("compute_pending")
    out0.pop("compute_pending")
    assert out0.keys() == out1.keys()
    for name in out0:
        np.testing.assert_array_equal(out0[name], out1[name], err_msg=name)
    np.testing.assert_array_equal(limit0, limit1)
    np.testing.assert_array_equal(e0, e1)
    np.testing.assert_array_equal(t0, t1)


@settings(max_examples=60, deadline=None)
@given(design, st.floats(0.0, 1.0), st.floats(0.0, 3.0))
def test_power_drawn_follows_the_demand_and_work_left_undone_waits(d, level, pending0):
    """Under any design and a random demand: power drawn ≤ what the limits allow (the
    reported compute fraction × installed), ≤ installed; the energy balance still closes;
    drawn energy = (pending at the start + Σ demand − pending at the end) × installed power
    × Δt (demanded work is done or waits, never lost nor invented); the node stays at or
    below its limit whenever compute runs. Tolerance 1e-9 relative."""
    params = _arrays(d)
    geometry = _geometry(d["seed"])
    rng = np.random.default_rng(d["seed"])
    demand = np.clip(rng.uniform(0.0, 2.0 * level, size=(N_TIME, N_SAT)), 0.0, 1.0)
    start = np.full(N_SAT, pending0)
    out, _, _, _ = _operate(params, geometry, demand, start)
    installed = d["compute"]
    drawn = out["power_compute_w"]
    scale = max(1.0, installed + d["bus"] + d["area_eff"] * 1400)
    assert drawn.min() >= 0.0
    assert np.all(drawn <= out["compute_fraction"] * installed + 1e-9 * scale)
    supply = out["power_generated_w"] + out["power_discharge_w"]
    used = out["power_bus_w"] + drawn + out["power_charge_w"] + out["power_curtailed_w"]
    np.testing.assert_allclose(supply, used, atol=1e-9 * scale)
    if installed > 0:
        expected = (start + demand.sum(axis=0) - out["compute_pending"]) * installed
        np.testing.assert_allclose(drawn.sum(axis=0), expected, rtol=1e-9, atol=1e-9 * scale)
        assert np.all(out["compute_pending"] >= 0.0)
    running = drawn > 1e-9
    assert np.all(out["temperature_k"][running] <= d["t_max"] + 1e-6)


def _eclipse_design():
    return {
        "area_eff": 5.0,
        "degradation": 0.0,
        "pointing": 0,
        "capacity": 500.0,
        "dod": 0.5,
        "eta": 0.9,
        "soc0": 0.0,
        "face_area": 10.0,
        "sides": 2,
        "eps": 0.9,
        "alpha": 0.2,
        "heat_cap": 1e5,
        "sun_view": 0.0,
        "t_max": 350.0,
        "t0_below": 30.0,
        "bus": 200.0,
        "compute": 1000.0,
        "seed": 1,
    }


def test_low_demand_changes_battery_and_heat_and_energy_is_demand_times_power():
    """A node that power and heat never limit (large array, battery and radiator): at a demand
    of 10 % the accelerators draw 10 % of installed power, so the battery ends fuller and the
    node cooler than at full duty, the compute energy is exactly Σ demand × installed power ×
    Δt, and the delivered compute fraction still reports the full available capacity (1)."""
    d = _eclipse_design() | {"area_eff": 2.0, "capacity": 50_000.0, "soc0": 0.5,
                             "face_area": 40.0}  # fmt: skip
    params = _arrays(d)
    geometry = _geometry(1)
    full, limit_full, _, _ = _operate(params, geometry)
    assert np.all(limit_full == LIMIT_NONE)
    demand = np.full((N_TIME, N_SAT), 0.1)
    low, limit_low, _, _ = _operate(params, geometry, demand)
    assert np.all(limit_low == LIMIT_NONE)
    np.testing.assert_array_equal(low["compute_fraction"], 1.0)
    step_h = STEP_S / 3600.0
    energy_wh = low["power_compute_w"].sum(axis=0) * step_h
    np.testing.assert_allclose(energy_wh, demand.sum(axis=0) * d["compute"] * step_h, rtol=1e-12)
    np.testing.assert_array_equal(low["compute_pending"], 0.0)
    assert np.all(low["battery_energy_wh"][-1] > full["battery_energy_wh"][-1] + 100.0)
    assert np.all(low["battery_energy_wh"].mean(axis=0) > full["battery_energy_wh"].mean(axis=0))
    assert np.all(low["temperature_k"][-1] < full["temperature_k"][-1] - 5.0)


def test_demanded_processing_stops_when_energy_limits_it_and_catches_up_in_sun():
    """The eclipse design above with a demand of 30 %: in sun the accelerators draw 30 % of
    installed power; once the usable battery is spent in eclipse, compute stops (limit code 1,
    nothing drawn) and the demanded work waits; when the Sun returns, the waiting work is done
    at up to installed power."""
    d = _eclipse_design() | {"soc0": 1.0}
    params = _arrays(d)
    position_km, normal, _, sun_km = _geometry(1)
    sunlit = np.zeros((N_TIME, N_SAT))
    sunlit[: N_TIME // 3] = 1.0
    sunlit[2 * N_TIME // 3 :] = 1.0
    demand = np.full((N_TIME, N_SAT), 0.3)
    out, limit, _, _ = _operate(params, (position_km, normal, sunlit, sun_km), demand)
    drawn = out["power_compute_w"]
    first_sun = slice(0, N_TIME // 3)
    assert np.all(drawn[first_sun][limit[first_sun] == LIMIT_NONE] == 0.3 * d["compute"])
    eclipse_end = slice(N_TIME // 2, 2 * N_TIME // 3)
    assert np.all(limit[eclipse_end] == 1)
    assert np.all(drawn[eclipse_end] == 0.0)
    # Back in the Sun: the waiting work runs above the demand until it is done.
    back = drawn[2 * N_TIME // 3]
    assert np.all(back > 0.3 * d["compute"] + 1.0)
    step = STEP_S
    expected = (demand.sum(axis=0) - out["compute_pending"]) * d["compute"] * step
    np.testing.assert_allclose(drawn.sum(axis=0) * step, expected, rtol=1e-9)
