"""Cost of ownership, orbital against terrestrial: the economics stage.

A pure module the engine calls after the time simulation::

    from orbitgrid.economics import SatelliteDesign, evaluate_economics, load_assumptions

    params = load_assumptions().parameters({"launch_cost_usd_per_kg": 500})
    result = evaluate_economics(design, delivered_compute_fraction=0.62, params=params)
    result.to_dict()  # for summary.json

Every default comes from the sourced table ``orbitgrid/data/assumptions.csv``; every cost
function broadcasts over numpy arrays of swept parameters. See ``docs/economics.md``.
"""

from orbitgrid.economics.assumptions import (
    Assumption,
    AssumptionTable,
    EconomicParameters,
    EconomicsSection,
    load_assumptions,
)
from orbitgrid.economics.costs import (
    break_even_launch_cost_usd_per_kg,
    evaluate_economics,
    orbital_cost,
)
from orbitgrid.economics.mass import (
    MassBreakdown,
    SatelliteDesign,
    satellite_mass,
    size_satellite,
)
from orbitgrid.economics.results import CostSummary, EconomicsResult, annuity_factor
from orbitgrid.economics.terrestrial import terrestrial_cost

__all__ = [
    # assumptions
    "Assumption",
    "AssumptionTable",
    # results
    "CostSummary",
    "EconomicParameters",
    "EconomicsResult",
    "EconomicsSection",
    # mass
    "MassBreakdown",
    "SatelliteDesign",
    "annuity_factor",
    # costs
    "break_even_launch_cost_usd_per_kg",
    "evaluate_economics",
    "load_assumptions",
    "orbital_cost",
    "satellite_mass",
    "size_satellite",
    "terrestrial_cost",
]
