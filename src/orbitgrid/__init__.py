"""orbitgrid: plan and simulate AI infrastructure in and through space.

The front door for notebooks and scripts::

    import orbitgrid
    scenario = orbitgrid.load_scenario("starlink-shell1-edge")   # a shipped name or a YAML path
    result = orbitgrid.run(scenario)                             # or run(scenario, out_dir=...)
    result.dataset          # xarray.Dataset, dims time × satellite, units on every variable
    result.summary["total"] # headline figures

Everything else is reachable by module path (``orbitgrid.orbits.j2``, ...) but not advertised.
"""

__version__ = "0.1.0"

from orbitgrid.contract import Chunk, Reducer, Stage, Variable
from orbitgrid.engine import Pipeline, RunObserver
from orbitgrid.errors import InputFileError, OrbitgridError, ScenarioError
from orbitgrid.runs import Result, run
from orbitgrid.scenario import Scenario, load_scenario, scenario_from_dict
from orbitgrid.scenarios import shipped_scenarios

__all__ = [
    # the stage protocol
    "Chunk",
    # errors
    "InputFileError",
    "OrbitgridError",
    "Pipeline",
    "Reducer",
    # running
    "Result",
    "RunObserver",
    # scenarios
    "Scenario",
    "ScenarioError",
    "Stage",
    "Variable",
    "__version__",
    "load_scenario",
    "run",
    "scenario_from_dict",
    "shipped_scenarios",
]
