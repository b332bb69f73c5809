"""Sobol' indices against the Ishigami function's analytic values; the tornado table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orbitgrid.sweep import run_sweep
from orbitgrid.sweep.design import ROLE_DESIGN, build_design
from orbitgrid.sweep.sensitivity import sobol_indices
from orbitgrid.sweep.spec import sweep_from_dict


def test_sobol_indices_of_ishigami(tmp_path: Path):
    """Ishigami f = sin x1 + 7 sin² x2 + 0.1 x3⁴ sin x1, x ~ U(−π, π)³ (Ishigami & Homma 1990).

    Analytic indices (Saltelli et al. 2008, *Global Sensitivity Analysis: The Primer*, §4.7;
    also SALib's docs/tests): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437. Our saltelli
    design with N = 2048 (10,240 evaluations) must match within 0.03 — several times SALib's
    bootstrap confidence at this N, which is ≈ 0.01–0.03.
    """
    spec = sweep_from_dict(
        {
            "name": "ishigami",
            "base": "unused.yaml",
            "design": "saltelli",
            "samples": 2048,
            "seed": 1,
            "parameters": {f"x{i}": {"range": [-np.pi, np.pi]} for i in (1, 2, 3)},
        }
    )
    design = build_design(spec)
    x = design.numeric
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    frame = pd.DataFrame({"point_id": np.arange(len(y)), "role": design.roles, "f": y})
    table = sobol_indices(frame, design, ["f"], seed=1)
    assert list(table["parameter"]) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(table["S1"], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(table["ST"], [0.5576, 0.4424, 0.2437], atol=0.03)
    assert all(role == ROLE_DESIGN for role in design.roles)
    assert len(design) == 2048 * (3 + 2)


def test_saltelli_sweep_and_tornado_files(sweep_file, tmp_path: Path):
    """A saltelli sweep over two economic overrides writes sobol.csv and tornado.csv.

    Launch price must dominate the orbital cost per GPU-hour over the PUE (which only moves the
    terrestrial side): ST(launch) > 0.9 and ST(pue) < 0.01; the tornado ranks it first too.
    """
    path = sweep_file(
        {
            "name": "gsa",
            "design": "saltelli",
            "samples": 64,
            "tornado": True,
            "parameters": {
                "economics.overrides.launch_cost_usd_per_kg": {"range": [100, 3000]},
                "economics.overrides.pue": {"range": [1.1, 1.6]},
            },
            "outputs": ["economics.shells.w.orbital.cost_per_gpu_hour_usd"],
        }
    )
    result = run_sweep(path, tmp_path / "out", "synchronous", None, None)
    assert result.points_total == 64 * 4 + 5
    sobol = pd.read_csv(result.files["sobol_csv"]).set_index("parameter")
    assert sobol.loc["economics.overrides.launch_cost_usd_per_kg", "ST"] > 0.9
    assert abs(sobol.loc["economics.overrides.pue", "ST"]) < 0.01
    tornado = pd.read_parquet(result.files["tornado_parquet"])
    assert tornado["parameter"].iloc[0] == "economics.overrides.launch_cost_usd_per_kg"
    assert tornado["swing"].iloc[1] == pytest.approx(0.0, abs=1e-9)
    assert tornado["low_value"].iloc[0] == 100.0 and tornado["high_value"].iloc[0] == 3000.0
