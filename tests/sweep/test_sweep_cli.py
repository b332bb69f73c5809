"""``orbitgrid sweep`` prints what drives each output and the top of the Sobol' and tornado
tables; ``orbitgrid scenarios`` lists the shipped sweeps; sweep files go through the project's
bounded YAML reader."""

from __future__ import annotations

import os
import subprocess
import sys

from orbitgrid.sweep import shipped_sweeps


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orbitgrid", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=300,
    )


def test_sweep_prints_drivers_and_the_top_of_both_tables(sweep_file, tmp_path):
    path = sweep_file(
        {
            "name": "gsa",
            "design": "saltelli",
            "samples": 32,
            "tornado": True,
            "parameters": {
                "economics.overrides.launch_cost_usd_per_kg": {"range": [100, 3000]},
                "economics.overrides.pue": {"range": [1.1, 1.6]},
            },
            "outputs": ["economics.shells.w.orbital.cost_per_gpu_hour_usd"],
        }
    )
    done = _cli("sweep", str(path), "--out", str(tmp_path / "out"), "--scheduler", "synchronous")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "what drives each output:" in out
    # PUE moves only the terrestrial side: launch price is the one driver named.
    assert "Orbit cost per GPU-hour, shell w (USD/GPU-h) is driven by launch cost (ST" in out
    assert "Sobol' indices, top 3 per output by ST" in out
    sobol = out[out.index("Sobol' indices, top") : out.index("tornado, top")]
    assert sobol.index("launch cost (USD/kg)") < sobol.index("PUE")  # ranked by ST
    tornado = out[out.index("tornado, top") :]
    assert "launch cost" in tornado and "100 → 3,000 USD/kg" in tornado and "swing" in tornado


def test_scenarios_lists_the_shipped_sweeps():
    done = _cli("scenarios")
    assert done.returncode == 0, done.stderr
    assert "sweeps (orbitgrid sweep NAME)" in done.stdout
    for name in shipped_sweeps():
        assert name in done.stdout
    assert "Sobol' and tornado sensitivity" in done.stdout  # its description


def test_sweep_file_is_read_with_the_bounded_loader(sweep_file, tmp_path):
    """A duplicate key, which yaml.safe_load silently resolves to the last value, is an error
    naming both lines (orbitgrid.yaml_loader)."""
    path = sweep_file({"name": "dup", "design": "grid", "parameters": {}})
    path.write_text(path.read_text() + "name: again\n")
    done = _cli("sweep", str(path), "--scheduler", "synchronous")
    assert done.returncode == 2
    assert "duplicate key 'name'" in done.stderr and "Traceback" not in done.stderr
