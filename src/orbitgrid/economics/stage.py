"""The economics analysis of a run: each shell's cost against a terrestrial data center.

Runs after the time simulation, on the summary: the *delivered* compute fraction of each shell
(eclipse, energy and heat limits included) feeds ``evaluate_economics`` with the shell's
spacecraft design, under the scenario's ``economics:`` overrides and mission length.
"""

from __future__ import annotations

from typing import Any

from orbitgrid.economics.assumptions import load_assumptions
from orbitgrid.economics.costs import evaluate_economics
from orbitgrid.economics.mass import SatelliteDesign
from orbitgrid.plan import Plan


def economics_analysis(plan: Plan, summary: dict[str, Any]) -> dict[str, Any]:
    """Return ``{"economics": {"shells": {name: EconomicsResult.to_dict()}}}`` for the run."""
    section = plan.scenario.economics
    if section is None:
        return {}
    params = load_assumptions().parameters(section.overrides)
    shells = {}
    for shell in plan.shells:
        design = SatelliteDesign.from_spacecraft(
            plan.scenario.spacecraft[shell.spacecraft], shell.size, section.mission_years
        )
        if design.accelerators_per_satellite == 0:
            continue  # nothing to price per GPU-hour
        result = evaluate_economics(
            design,
            summary["shells"][shell.name]["delivered_compute_fraction"],
            params,
            terrestrial_delivered_fraction=section.terrestrial_delivered_fraction,
            replacement=section.replacement,
        )
        shells[shell.name] = result.to_dict()
    return {"economics": {"mission_years": section.mission_years, "shells": shells}}
