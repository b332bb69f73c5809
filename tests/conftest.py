"""Shared fixtures: small scenarios built as dicts, so each test can change one field."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI (``.ci/run``) sets this: a test that would be skipped there (e.g. no Chromium for the
# browser tests) fails instead, so a missing tool can never leave CI green with tests unrun.
NO_SKIPS = os.environ.get("ORBITGRID_NO_SKIPS", "") not in ("", "0")

# In CI the property tests draw the same examples every run (a failure there is a bug to fix,
# not a dice roll); on a developer's machine they keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None)
if NO_SKIPS:
    settings.load_profile("ci")


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300, **kwargs
) -> subprocess.CompletedProcess:
    """``python -m orbitgrid ARGS`` in a child process, output captured as text (``CI=true``
    keeps rich from drawing progress bars)."""
    return subprocess.run(
        [sys.executable, "-m", "orbitgrid", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        cwd=cwd,
        timeout=timeout,
        **kwargs,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and ORBITGRID_NO_SKIPS forbids skips: {reason}"


def pytest_terminal_summary(terminalreporter):
    """Always print how many tests were skipped (0 is what CI expects)."""
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(f"orbitgrid: {skipped} test(s) skipped")


SPACECRAFT: dict[str, Any] = {
    "solar_array": {"area": "20 m2", "efficiency": "30 %", "pointing": "sun-tracking"},
    "battery": {"capacity": "4 kWh", "depth_of_discharge": "80 %"},
    "radiator": {"area": "2 m2", "sides": 2, "heat_capacity": "100 kJ/K"},
    "bus_power": "800 W",
    "compute": {"accelerator": "h100-sxm", "count": 2, "max_temperature": "60 C"},
}


def small_scenario_dict(**overrides: Any) -> dict[str, Any]:
    """A 2-plane Walker shell of 6 satellites over 3 h at 60 s: fast, with eclipses."""
    data: dict[str, Any] = {
        "name": "small",
        "description": "test scenario",
        "time": {"start": "2027-03-20T00:00:00Z", "duration": "3 h", "step": "60 s"},
        "constellation": [
            {
                "type": "walker",
                "name": "w",
                "altitude": "550 km",
                "inclination": "53 deg",
                "planes": 2,
                "sats_per_plane": 3,
                "phasing": 1,
                "spacecraft": "node",
            }
        ],
        "spacecraft": {"node": copy.deepcopy(SPACECRAFT)},
    }
    data.update(overrides)
    return data


@pytest.fixture
def small_dict() -> dict[str, Any]:
    return small_scenario_dict()
