"""The economics analysis of a run: each shell's cost against a terrestrial data center.

Runs after the time simulation, on the summary: the *delivered* compute fraction of each shell
(eclipse, energy and heat limits included) feeds ``evaluate_economics`` with the shell's
spacecraft design, under the scenario's ``economics:`` overrides and mission length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitgrid.economics.assumptions import EconomicsSection, load_assumptions
from orbitgrid.economics.costs import evaluate_economics
from orbitgrid.economics.mass import SatelliteDesign
from orbitgrid.economics.results import cost_columns
from orbitgrid.plan import Plan


def shell_economics(
    scenario: Any,
    summary: dict[str, Any],
    section: EconomicsSection,
    overrides: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """``summary["economics"]`` for a finished run: each shell's ``EconomicsResult.to_dict()``.

    ``section`` gives mission, replacement model and fixed overrides; ``overrides`` may add
    assumption values as arrays (one per sweep point), and the figures then come back as lists
    over the points. Shells without accelerators are skipped (nothing to price per GPU-hour).
    """
    params = load_assumptions().parameters({**section.overrides, **(overrides or {})})
    shells = {}
    for shell in scenario.constellation:
        design = SatelliteDesign.from_spacecraft(
            scenario.spacecraft[shell.spacecraft],
            summary["shells"][shell.name]["satellites"],
            section.mission_years,
        )
        if design.accelerators_per_satellite == 0:
            continue
        result = evaluate_economics(
            design,
            summary["shells"][shell.name]["delivered_compute_fraction"],
            params,
            terrestrial_delivered_fraction=section.terrestrial_delivered_fraction,
            replacement=section.replacement,
        )
        shells[shell.name] = result.to_dict()
    return {"mission_years": section.mission_years, "shells": shells}


def economics_analysis(plan: Plan, summary: dict[str, Any]) -> dict[str, Any]:
    """The engine's analysis when the scenario asks: ``{"economics": shell_economics(...)}``,
    and each priced shell's ``cost_columns`` merged into ``summary["shells"]``."""
    section = plan.scenario.economics
    if section is None:
        return {}
    economics = shell_economics(plan.scenario, summary, section)
    # The flat cost figures also go beside each shell's physics figures (shells.csv).
    shells = {name: cost_columns(result) for name, result in economics["shells"].items()}
    return {"economics": economics, "shells": shells}


economics_analysis.phase = "economics"  # the progress label (engine.phase_of)
