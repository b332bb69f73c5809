"""Designs and paths: shapes, bounds, scales, Monte Carlo draws, shipped example sweeps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from orbitgrid.economics import load_assumptions
from orbitgrid.sweep import shipped_sweeps
from orbitgrid.sweep.design import build_design
from orbitgrid.sweep.spec import check_path, load_base, load_sweep, set_path, sweep_from_dict
from tests.conftest import small_scenario_dict


def _design(**spec):
    return build_design(sweep_from_dict({"name": "d", "base": "x.yaml", **spec}))


def test_grid_is_the_product_with_units_and_log_spacing():
    design = _design(
        parameters={
            "constellation[0].altitude": {"range": ["500 km", "700 km"], "num": 3},
            "economics.overrides.pue": {"range": [1.0, 1.6], "num": 2, "scale": "log"},
        }
    )
    assert len(design) == 6
    assert design.written["constellation[0].altitude"][:2] == ["500.0 km", "500.0 km"]
    np.testing.assert_allclose(np.unique(design.numeric[:, 0]), [500, 600, 700])
    np.testing.assert_allclose(np.unique(design.numeric[:, 1]), [1.0, 1.6])
    assert design.parameters["constellation[0].altitude"].unit == "km"


@pytest.mark.parametrize("kind", ["random", "latin-hypercube", "sobol"])
def test_sampled_designs_stay_in_bounds(kind):
    design = _design(
        design=kind,
        samples=64,
        parameters={
            "a": {"range": [100, 3000], "scale": "log"},
            "b": {"range": [1, 4], "integer": True},
            "c": {"values": ["sun-tracking", "zenith"]},
        },
    )
    a, b = design.numeric[:, 0], design.numeric[:, 1]
    assert a.min() >= 100 and a.max() <= 3000
    assert set(b) <= {1.0, 2.0, 3.0, 4.0} and len(set(b)) == 4
    assert set(design.written["c"]) == {"sun-tracking", "zenith"}
    assert all(isinstance(v, int) for v in design.written["b"])
    # Log scale: about half the draws below the geometric mean sqrt(100·3000) ≈ 548.
    assert 20 <= np.sum(a < np.sqrt(100 * 3000)) <= 44


def test_latin_hypercube_one_point_per_stratum():
    """McKay et al. 1979: each of the n equal strata of every parameter holds exactly one draw."""
    design = _design(design="latin-hypercube", samples=50, parameters={"a": {"range": [0, 1]}})
    strata = np.floor(design.numeric[:, 0] * 50).astype(int)
    assert sorted(strata) == list(range(50))


def test_monte_carlo_triangular_matches_table():
    """Draws of each assumption fall in the table's [low, high]; a KS test against
    ``scipy.stats.triang`` with the table's value as the mode does not reject at 1 %."""
    design = _design(
        design="random",
        samples=4000,
        seed=5,
        monte_carlo={"assumptions": ["launch_cost_usd_per_kg", "pue"]},
    )
    for j, key in enumerate(["launch_cost_usd_per_kg", "pue"]):
        row = load_assumptions()[key]
        x = design.numeric[:, j]
        assert x.min() >= row.low and x.max() <= row.high
        c = (row.value - row.low) / (row.high - row.low)
        assert (
            stats.kstest(x, stats.triang(c, loc=row.low, scale=row.high - row.low).cdf).pvalue
            > 0.01
        )


def test_tornado_points():
    design = _design(
        tornado=True,
        parameters={"a": {"values": [3, 1, 2]}, "b": {"range": [10, 20], "num": 2}},
    )
    assert design.roles[6:] == [
        "tornado:base",
        "tornado:low:a",
        "tornado:high:a",
        "tornado:low:b",
        "tornado:high:b",
    ]
    assert design.point(6) == {}
    assert design.point(7) == {"a": 1} and design.point(10) == {"b": 20.0}


def test_paths_reach_defaulted_fields_and_set_creates_sections():
    base = small_scenario_dict()
    check_path("spacecraft.node.radiator.emissivity", base)  # not in the base dict: a default
    check_path("economics.overrides.pue", base)  # no economics section yet
    check_path("output.every", base)
    set_path(base, "economics.overrides.pue", 1.2)
    set_path(base, "constellation[0].altitude", "600 km")
    assert base["economics"] == {"overrides": {"pue": 1.2}}
    assert base["constellation"][0]["altitude"] == "600 km"


@pytest.mark.parametrize("name", shipped_sweeps())
def test_shipped_sweeps_are_valid(name):
    spec = load_sweep(name)
    base, _ = load_base(spec)
    design = build_design(spec)
    for path in design.parameters:
        check_path(path, base)
    assert len(design) > 1
