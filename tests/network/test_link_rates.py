"""GSL data rates from a link budget (``orbitgrid.network.link_rates.GslRateModel``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.errors import ScenarioError
from orbitgrid.network.config import network_config_from_dict
from orbitgrid.network.endpoints import resolve_endpoints
from orbitgrid.network.link_budget import atmospheric_loss_db, modcod_rate_bps
from orbitgrid.network.link_rates import GslRateModel, _dvb_s2_rate_bps

PARIS = {"name": "Paris", "latitude": 48.8534, "longitude": 2.3488, "min_elevation": "5 deg"}
SINGAPORE = {"name": "Singapore", "latitude": 1.29, "longitude": 103.85}  # gsl mask: 25°


def _model(link_budget: dict | None, endpoints=(PARIS, SINGAPORE), **gsl) -> GslRateModel:
    if link_budget is not None:
        gsl["link_budget"] = link_budget
    cfg = network_config_from_dict({"endpoints": list(endpoints), "gsl": gsl})
    return GslRateModel.from_config(cfg.gsl, resolve_endpoints(cfg))


@pytest.fixture(scope="module")
def ku_model() -> GslRateModel:
    """Default Ku-band budget with ITU-R P.618 for two sites (the first itur call of the
    process loads its maps, a few seconds; the table itself takes about 0.1 s)."""
    return _model({})


def _range_for_fspl_km(fspl_db: float, frequency_mhz: float) -> float:
    """Distance at which ITU-R P.525's L = 32.45 + 20 log f[MHz] + 20 log d[km] is fspl_db."""
    return 10.0 ** ((fspl_db - 32.45 - 20.0 * math.log10(frequency_mhz)) / 20.0)


@pytest.mark.parametrize(
    ("filing", "frequency_mhz", "eirp_dbw", "fspl_db", "g_over_t_db_k", "other_db", "cn_db"),
    [
        ("SAT-LOA-20070105-00002", 12691.0, 24.0, 206.3, 36.7, 1.0, 22.0),
        ("SAT-LOA-20051221-00267", 12201.0, 17.2, 206.0, 37.0, 0.0, 16.8),
    ],
)
def test_reproduces_published_fcc_schedule_s_budgets(
    filing, frequency_mhz, eirp_dbw, fspl_db, g_over_t_db_k, other_db, cn_db
):
    """Ku-band downlink C/N of two published link budgets, FCC Schedule S attachments
    "Telemetry Link Budget (On Station)" of IBFS files SAT-LOA-20070105-00002 (12,691 MHz,
    EIRP 24.0 dBW, FSPL 206.3 dB, G/T 36.7 dB/K, other losses 1.0 dB → C/N 22.0 dB) and
    SAT-LOA-20051221-00267 (12,201 MHz, 17.2 dBW, 206.0 dB, 37.0 dB/K → 16.8 dB), both on
    fcc.report. The tables print no noise bandwidth; 1 MHz is the one value for which the rows
    of both sum to the printed C/N. The range is the one giving the printed FSPL (ITU-R
    P.525), G/T is split as G = G/T + 10 log10(100 K). Tolerance 0.05 dB: half the last
    printed digit."""
    budget = {
        "frequency": f"{frequency_mhz} MHz",
        "bandwidth": "1 MHz",
        "eirp": f"{eirp_dbw} dBW",
        "receive_gain": f"{g_over_t_db_k + 20.0} dBi",
        "system_temperature": "100 K",
        "other_losses": f"{other_db} dB",
        "atmosphere": "none",
    }
    model = _model(budget)
    assert model.g_over_t_db_k == pytest.approx(g_over_t_db_k, abs=1e-9)
    range_km = _range_for_fspl_km(fspl_db, frequency_mhz)
    cn = model.carrier_to_noise_db(np.array([0]), np.array([range_km]), np.array([30.0]))
    assert abs(cn[0] - cn_db) < 0.05, filing


def test_default_eirp_is_the_fcc_pfd_limit_at_550_km():
    """47 CFR §25.208(b): an NGSO FSS space station in 10.7–11.7 GHz may not exceed
    −116 dB(W/m²) in any 1 MHz at 25–90° elevation. The default 33.7 dBW over 250 MHz seen
    from 550 km at zenith is within it by less than 0.1 dB (the largest constant EIRP that
    complies for a 550 km shell, rounded down)."""
    b = network_config_from_dict({"gsl": {"link_budget": {}}}).gsl.link_budget
    spreading_db = 10.0 * math.log10(4.0 * math.pi * 550e3**2)
    pfd_db_w_m2_mhz = b.eirp_dbw - spreading_db - 10.0 * math.log10(b.bandwidth_hz / 1e6)
    assert -116.1 < pfd_db_w_m2_mhz <= -116.0
    assert b.frequency_ghz == 11.7 and b.bandwidth_hz == 250e6


def test_constant_rate_without_link_budget():
    """No ``link_budget``: every GSL has ``gsl.rate`` (1 Gbps by default), whatever its
    geometry; empty input gives empty output."""
    model = _model(None)
    idx, rng, el = np.array([0, 1, 1]), np.array([550.0, 900.0, 1100.0]), np.array([90, 40, 26])
    np.testing.assert_array_equal(model.rate_bps(idx, rng, el), [1e9, 1e9, 1e9])
    assert repr(model) == "GslRateModel(constant 1 Gbps per GSL)"
    assert _model(None, rate="220 Mbps").rate_bps(idx, rng, el)[0] == 220e6
    empty = np.array([], dtype=np.int64)
    assert model.rate_bps(empty, empty.astype(float), empty.astype(float)).shape == (0,)


def test_rf_rates_and_repr_without_atmosphere():
    """Default Ku budget in clear sky: C/N falls by 20 log10 of the range ratio; DVB-S2 gives
    the top modcod (32APSK 9/10, 4.453 bit/s/Hz × 250 MHz) overhead at 550 km and a lower one
    at the 25° edge (1,123 km); Shannon rates exceed 0 and decrease with range."""
    model = _model({"atmosphere": "none"})
    idx, rng, el = np.array([0, 0]), np.array([550.0, 1123.4]), np.array([90.0, 25.0])
    cn = model.carrier_to_noise_db(idx, rng, el)
    assert cn[0] - cn[1] == pytest.approx(20 * math.log10(1123.4 / 550.0), abs=1e-9)
    rate = model.rate_bps(idx, rng, el)
    assert rate[0] == pytest.approx(4.453027 * 250e6) and 0 < rate[1] < rate[0]
    shannon = _model({"atmosphere": "none", "rate_model": "shannon"}).rate_bps(idx, rng, el)
    assert shannon[0] > shannon[1] > 0
    assert "rf downlink: 11.7 GHz, 250 MHz, EIRP 33.7 dBW, G/T 11.8 dB/K" in repr(model)
    assert "DVB-S2 with 1 dB margin" in repr(model)


def test_sorted_modcod_search_equals_link_budget_modcods():
    """The one-pass modcod search equals ``link_budget.modcod_rate_bps`` (a pass per modcod),
    including exactly at each threshold and below the lowest one."""
    esn0 = np.concatenate([np.linspace(-5, 20, 2001), [-2.35, 1.0, 16.05, 16.049999]])
    np.testing.assert_array_equal(
        _dvb_s2_rate_bps(esn0, 1e6), modcod_rate_bps(esn0, 1e6, margin_db=0.0)
    )


_MODELS = {
    "shannon": _model({"rate_model": "shannon", "atmosphere": "none"}),
    "dvb-s2": _model({"atmosphere": "none", "eirp": "20 dBW"}),  # steps within 300–3000 km
}


@settings(max_examples=60, deadline=None)
@given(
    endpoint=st.integers(0, 1),
    elevation_deg=st.floats(25.0, 90.0),
    range_km=st.floats(300.0, 3000.0),
    factor=st.floats(1.001, 5.0),
    rate_model=st.sampled_from(["shannon", "dvb-s2"]),
)
def test_rate_decreases_with_range_at_fixed_elevation(
    endpoint, elevation_deg, range_km, factor, rate_model
):
    """Property: at a fixed elevation a longer link never has a higher rate; with Shannon the
    rate strictly decreases (DVB-S2 is a staircase)."""
    model = _MODELS[rate_model]
    idx, el = np.array([endpoint, endpoint]), np.array([elevation_deg, elevation_deg])
    near, far = model.rate_bps(idx, np.array([range_km, range_km * factor]), el)
    assert far <= near
    if rate_model == "shannon":
        assert far < near


@pytest.mark.slow
def test_itu_r_p618_table_interpolation_matches_direct_itur(ku_model):
    """The per-endpoint table (1° grid, A·sin ε interpolated linearly in elevation) against
    direct ``itur`` evaluation (``link_budget.atmospheric_loss_db``, 11.7 GHz, 1 %, 0.5 m) at
    off-grid elevations: within 0.05 dB (measured ≤ 0.002 dB in Paris, ≤ 0.04 dB in
    Singapore); at grid points equal to 1e-9 dB (the gas part is scaled from one elevation,
    which is exact in itur's approximate P.676 mode)."""
    cases = {0: [5.5, 12.3, 25.5, 37.25, 61.7, 89.5], 1: [25.5, 37.25, 61.7, 89.5]}
    lat, lon = (48.8534, 1.29), (2.3488, 103.85)
    for e, elevations in cases.items():
        el = np.array(elevations)
        direct = atmospheric_loss_db(lat[e], lon[e], 11.7, el, 1.0, 0.5)
        table = ku_model.atmospheric_loss_db(np.full(el.size, e), el)
        np.testing.assert_allclose(table, direct, atol=0.05)
        on_grid = np.array([26.0, 45.0, 89.0])  # itur warns at exactly 90° (its own quirk)
        np.testing.assert_allclose(
            ku_model.atmospheric_loss_db(np.full(3, e), on_grid),
            atmospheric_loss_db(lat[e], lon[e], 11.7, on_grid, 1.0, 0.5),
            atol=1e-9,
        )


@pytest.mark.slow
def test_site_and_elevation_change_the_rate(ku_model):
    """With ITU-R P.618, Singapore (heavy rain) loses more than Paris at the same elevation,
    both lose more at 25° than at 90°, and the loss lowers C/N by exactly that amount."""
    el = np.array([25.0, 25.0, 90.0, 90.0])
    idx = np.array([0, 1, 0, 1])
    loss = ku_model.atmospheric_loss_db(idx, el)
    assert loss[1] > loss[0] > loss[2] > 0 and loss[1] > loss[3]
    clear = _model({"atmosphere": "none"})
    rng = np.full(4, 800.0)
    np.testing.assert_allclose(
        clear.carrier_to_noise_db(idx, rng, el) - ku_model.carrier_to_noise_db(idx, rng, el),
        loss,
        atol=1e-9,
    )
    assert "ITU-R P.618 exceeded 1 % of the time" in repr(ku_model)
    assert "2 endpoints × 86 elevations 5–90°" in repr(ku_model)


def test_optical_rate_is_nominal_times_availability():
    model = _model(
        {
            "kind": "optical",
            "nominal_rate": "10 Gbps",
            "availability": "70 %",
            "endpoint_availability": {"Singapore": 0.4},
        }
    )
    rate = model.rate_bps(np.array([0, 1]), np.array([600.0, 600.0]), np.array([50.0, 50.0]))
    np.testing.assert_allclose(rate, [7e9, 4e9])
    assert repr(model).startswith("GslRateModel(optical: 10 Gbps × cloud-free availability")


def test_config_errors_name_the_yaml_path():
    """Bad kind, negative bandwidth, out-of-range exceedance, keys of the other kind and a
    missing optical rate are ScenarioErrors naming the YAML path, the value and what is
    allowed; an unknown endpoint name is reported when the model is built."""
    with pytest.raises(ScenarioError) as exc:
        network_config_from_dict({"gsl": {"link_budget": {"kind": "laser"}}})
    assert "network.gsl.link_budget.kind: Input should be 'rf' or 'optical' (got 'laser')" in str(
        exc.value
    )
    assert exc.value.path == "network.gsl.link_budget.kind"
    with pytest.raises(ScenarioError) as exc:
        network_config_from_dict({"gsl": {"link_budget": {"bandwidth": "-250 MHz"}}})
    assert "network.gsl.link_budget.bandwidth: Input should be greater than 0" in str(exc.value)
    assert exc.value.path == "network.gsl.link_budget.bandwidth"
    cases = {
        "exceedance: must be between 0.001 % and 5 %": {"exceedance": "10 %"},
        "frequency: could not read '12 furlongs' as a frequency": {"frequency": "12 furlongs"},
        "eirp: could not read '30 W'": {"eirp": "30 W"},
        "link_budget: 'eirp': only for kind 'rf'": {
            "kind": "optical",
            "nominal_rate": "1 Gbps",
            "eirp": "30 dBW",
        },
        "link_budget: kind 'optical' needs 'nominal_rate'": {"kind": "optical"},
        "covers 1–55 GHz, not 80 GHz": {"frequency": "80 GHz"},
    }
    for expected, budget in cases.items():
        with pytest.raises(ScenarioError, match=expected):
            network_config_from_dict({"gsl": {"link_budget": budget}})
    optical = {"kind": "optical", "nominal_rate": "1 Gbps", "endpoint_availability": {"Rome": 1}}
    with pytest.raises(ScenarioError, match="endpoint_availability: unknown endpoint 'Rome'"):
        _model(optical)


def test_units_are_parsed():
    b = network_config_from_dict(
        {
            "gsl": {
                "link_budget": {
                    "frequency": "19.7 GHz",
                    "bandwidth": "0.5 GHz",
                    "eirp": "66 dBm",
                    "receive_antenna_diameter": "0.6 m",
                    "system_temperature": "200 K",
                    "margin": "2 dB",
                    "exceedance": "0.1 %",
                }
            }
        }
    ).gsl.link_budget
    assert (b.frequency_ghz, b.bandwidth_hz, b.eirp_dbw) == (19.7, 5e8, 36.0)
    assert b.receive_antenna_diameter_m == pytest.approx(0.6) and b.system_temperature_k == 200
    assert b.margin_db == 2.0 and b.exceedance_fraction == pytest.approx(1e-3)


def test_rate_input_checks():
    model = _model({"atmosphere": "none"})
    with pytest.raises(ValueError, match="must have one shape"):
        model.rate_bps(np.array([0, 1]), np.array([600.0]), np.array([50.0, 50.0]))
    with pytest.raises(ValueError, match=r"endpoint_index must be in 0..1, got 0..2"):
        model.rate_bps(np.array([0, 2]), np.array([600.0, 600.0]), np.array([50.0, 50.0]))
    with pytest.raises(ValueError, match="range_km must be > 0"):
        model.rate_bps(np.array([0]), np.array([0.0]), np.array([50.0]))
    with pytest.raises(ValueError, match="needs an RF link budget"):
        _model(None).carrier_to_noise_db(np.array([0]), np.array([600.0]), np.array([50.0]))


def test_nan_signal_closes_no_modcod():
    """A NaN Es/N0 (e.g. a missing attenuation value) closes no DVB-S2 modcod: rate 0, as
    link_budget.modcod_rate_bps gives, never the fastest one."""
    from orbitgrid.network.link_budget import modcod_rate_bps
    from orbitgrid.network.link_rates import _dvb_s2_rate_bps

    esn0_db = np.array([np.nan, -5.0, 5.0, 20.0])
    np.testing.assert_array_equal(
        _dvb_s2_rate_bps(esn0_db, 1e6), modcod_rate_bps(esn0_db, 1e6, margin_db=0.0)
    )
    assert _dvb_s2_rate_bps(esn0_db, 1e6)[0] == 0.0
