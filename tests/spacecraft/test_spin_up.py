"""The node temperature starts from the orbit's steady state, so headline extremes are physics.

Before, every run started at the compute limit − 20 K and the Starlink-like edge node needed
hours to cool to its ~14 °C operating point: "T max" was that starting value. The spin-up
(``spacecraft.stages.spin_up_temperature_k``) flies the orbit before the start until the
temperature repeats; the run then has no start-up transient to report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

import orbitgrid
from orbitgrid.scenario import scenario_from_dict
from tests.conftest import small_scenario_dict

SHIPPED = Path(orbitgrid.__file__).parent / "scenarios"
ORBIT_STEPS = 96  # one 95.6 min orbit at 60 s


def _edge_run(**radiator: str) -> orbitgrid.Result:
    """Starlink-like edge node (shipped scenario), 6 h at 60 s, every step stored."""
    path = SHIPPED / "starlink-shell1-edge.yaml"
    data = yaml.safe_load(path.read_text())
    data["time"]["duration"] = "6 h"
    data["spacecraft"]["broadband-edge"]["radiator"].update(radiator)
    return orbitgrid.run(scenario_from_dict(data, base_dir=path.parent))


def test_edge_node_has_no_start_up_transient() -> None:
    result = _edge_run()
    limit_c = 70.0  # compute.max_temperature of the shipped edge node
    t_c = result.dataset["temperature_k"].values - 273.15
    last_orbit_max = np.nanmax(t_c[-ORBIT_STEPS:])
    headline = result.summary["total"]["temperature_max_c"]
    # The headline maximum is the orbit's own maximum, far below the old start value.
    assert abs(headline - last_orbit_max) < 0.5
    assert headline < limit_c - 20.0 - 30.0
    # The first orbit looks like the last one: no cooling-down from the start.
    first_orbit = t_c[:ORBIT_STEPS]
    assert abs(np.nanmean(first_orbit) - np.nanmean(t_c[-ORBIT_STEPS:])) < 0.5


def test_a_set_initial_temperature_is_kept() -> None:
    """radiator.initial_temperature is the user's stated initial condition: no spin-up."""
    result = _edge_run(initial_temperature="40 C")
    first_c = result.dataset["temperature_k"].values[0] - 273.15
    # One 60 s step from 40 °C with a 150 kJ/K node moves it by about a kelvin, not 26 K.
    assert np.all(np.abs(first_c - 40.0) < 3.0)


def test_spin_up_is_a_periodic_state() -> None:
    """Two whole orbits: the temperature after one orbit equals the start temperature."""
    data = small_scenario_dict()
    data["time"]["duration"] = "4 h"
    result = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    t_k = result.dataset["temperature_k"].values
    np.testing.assert_allclose(t_k[ORBIT_STEPS - 1], t_k[2 * ORBIT_STEPS - 1], atol=0.3)
