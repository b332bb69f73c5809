"""The sweep's sensitivity in words: labels with units, the inputs named as drivers, NaN reasons.

The tables are hand-made so that the expected sentence is known in advance: a parameter with
ST 0.8 must be named, one with ST 0.05 (below the 10 % threshold) must not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orbitgrid.sweep.design import build_design
from orbitgrid.sweep.explain import (
    drivers,
    output_label,
    parameter_label,
    sensitivity_text,
    tornado_reason,
)
from orbitgrid.sweep.sensitivity import sobol_indices
from orbitgrid.sweep.spec import sweep_from_dict

COST = "economics.shells.cluster.orbital.cost_per_gpu_hour_usd"
BREAK_EVEN = "economics.shells.cluster.break_even_launch_cost_usd_per_kg"
LAUNCH = "economics.overrides.launch_cost_usd_per_kg"
PUE = "economics.overrides.pue"


def _sobol(rows):
    return pd.DataFrame(
        rows, columns=["output", "parameter", "S1", "S1_conf", "ST", "ST_conf", "samples", "unit"]
    ).assign(note="")


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (COST, "orbit cost per GPU-hour, shell cluster (USD/GPU-h)"),
        ("economics.shells.a.terrestrial.cost_per_gpu_hour_usd", "Earth cost per GPU-hour"),
        ("total.temperature_max_c", "highest temperature (°C)"),
        ("economics.shells.a.fleet_launch_mass_kg", "fleet launch mass, shell a (kg)"),
        ("economics.shells.a.orbital.waterfall_usd.launch", "(USD)"),
        ("network.rtt_p50_ms", "(ms)"),
        ("some.unitless_thing", "(as in summary.json)"),
    ],
)
def test_output_labels_carry_units(path, label):
    assert label in output_label(path)


def test_parameter_labels_carry_units():
    assert parameter_label(LAUNCH) == "launch cost (USD/kg)"  # unit from the assumption table
    assert parameter_label(PUE) == "PUE"  # dimensionless: no "(1)"
    assert parameter_label("spacecraft.node.radiator.area", "m2") == "node radiator area (m2)"
    assert parameter_label("constellation[0].altitude", "km") == "shell 0 altitude (km)"
    assert parameter_label(LAUNCH, with_unit=False) == "launch cost"


def test_sobol_drivers_name_inputs_above_the_threshold():
    sobol = _sobol(
        [
            [COST, LAUNCH, 0.75, 0.02, 0.8, 0.03, 512, ""],
            [COST, PUE, 0.04, 0.01, 0.05, 0.01, 512, ""],
        ]
    )
    (found,) = drivers(sobol, None)
    sentence = found.sentence()
    assert sentence.startswith("Orbit cost per GPU-hour, shell cluster (USD/GPU-h) is driven by")
    assert "launch cost (ST 0.80)" in sentence
    assert "PUE" not in sentence and "the other input explains less than 10%" in sentence


def test_tornado_drivers_when_there_is_no_sobol_table():
    tornado = pd.DataFrame(
        {
            "output": [COST, COST],
            "parameter": [LAUNCH, PUE],
            "unit": ["", ""],
            "low_value": [100.0, 1.1],
            "high_value": [3000.0, 1.6],
            "base_output": [17.0, 17.0],
            "output_at_low": [10.0, 17.0],
            "output_at_high": [25.0, 17.01],
            "swing": [15.0, 0.01],
        }
    )
    sentence = drivers(None, tornado)[0].sentence()
    assert "moves most with launch cost (swing 15 USD/GPU-h)" in sentence
    assert "PUE" not in sentence


def test_nan_outputs_are_explained_in_words():
    sobol = _sobol([[BREAK_EVEN, LAUNCH, *[np.nan] * 4, 512, ""]]).assign(
        note="no value at any of the 512 design points (...)"
    )
    tornado = pd.DataFrame(
        {
            "output": [BREAK_EVEN],
            "parameter": [LAUNCH],
            "unit": [""],
            "low_value": [100.0],
            "high_value": [3000.0],
            "base_output": [np.nan],
            "output_at_low": [np.nan],
            "output_at_high": [np.nan],
            "swing": [np.nan],
        }
    )
    sentence = drivers(sobol, tornado)[0].sentence()
    assert "no input can be ranked: no value at any of the 512 design points" in sentence
    reason = tornado_reason(tornado.iloc[0])
    assert "no value at any of the 3 points" in reason
    assert "orbit costs more than Earth even with free launch" in reason  # break-even's hint
    text = sensitivity_text(sobol, tornado)
    assert "NaN: no value at any of the 512" in text and "no swing: no value" in text


def _frame(design, y):
    return pd.DataFrame({"point_id": np.arange(len(y)), "role": design.roles, "out": y})


def test_sobol_table_notes_why_indices_are_nan():
    spec = sweep_from_dict(
        {
            "name": "n",
            "base": "unused.yaml",
            "design": "saltelli",
            "samples": 16,
            "parameters": {"a": {"range": ["1 km", "2 km"]}, "b": {"range": [0, 1]}},
        }
    )
    design = build_design(spec)
    x = design.numeric
    good = sobol_indices(_frame(design, x[:, 0]), design, ["out"])
    assert list(good["unit"]) == ["km", ""] and (good["note"] == "").all()
    assert good["ST"].notna().all()

    constant = sobol_indices(_frame(design, np.full(len(x), 3.0)), design, ["out"])
    assert constant["ST"].isna().all()
    assert "it is 3 at every point: there is no variance" in constant["note"].iloc[0]

    holes = x[:, 0].copy()
    holes[:5] = np.nan
    missing = sobol_indices(_frame(design, holes), design, ["out"])
    assert missing["note"].iloc[0].startswith(f"no value at 5 of the {len(x)} design points")
