"""Design of experiments: the points of a sweep, deterministic for a given spec and seed.

Designs (``design:`` in sweep.yaml):

- ``grid``: the Cartesian product of each parameter's list (or ``num`` points across its range,
  evenly spaced, geometrically with ``scale: log``);
- ``random``: independent uniform draws (plain Monte Carlo), ``numpy.random.default_rng(seed)``;
- ``latin-hypercube``: ``scipy.stats.qmc.LatinHypercube`` (McKay, Beckman & Conover 1979);
- ``sobol``: scrambled Sobol' sequence, ``scipy.stats.qmc.Sobol`` (Sobol' 1967; Owen scrambling);
- ``saltelli``: SALib's Saltelli/Sobol' sample, N·(D+2) points, whose outputs give first and
  total Sobol' indices (Saltelli 2002; Saltelli et al. 2010, Comput. Phys. Commun. 181:259).

Sampled designs draw in the unit hypercube and map each column to its parameter: uniform in the
value or in its logarithm, triangular (inverse CDF) for Monte Carlo over an assumption's
low/value/high, rounding for integers, and a categorical choice for a list. ``tornado: true``
adds one-at-a-time points: the base scenario, and each parameter alone at its low and its high.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from orbitgrid.errors import ScenarioError
from orbitgrid.sweep.spec import Parameter, SweepSpec

ROLE_DESIGN = "design"
ROLE_TORNADO_BASE = "tornado:base"


@dataclass(frozen=True)
class SweepDesign:
    """The points of a sweep, stored by column (a 10,000-point design is 10,000 rows).

    Attributes
    ----------
    parameters : dict[str, Parameter]
        Swept paths (including Monte Carlo assumptions) in column order.
    numeric : numpy.ndarray
        [point, parameter] the value in the parameter's unit; NaN where the point keeps the
        base scenario's value (tornado points) or the value is not a number (a category).
    written : dict[str, list]
        For parameters whose scenario value is not the bare number (a unit, an integer, a
        category): per point the value as the YAML holds it (``"550.0 km"``), None where the
        point keeps the base value. Other parameters are written as ``numeric``.
    roles : list[str]
        ``design``, ``tornado:base``, ``tornado:low:<path>`` or ``tornado:high:<path>``.
    unit_samples : numpy.ndarray or None
        [design point, parameter] the unit-hypercube draws (sampled designs).
    """

    parameters: dict[str, Parameter]
    numeric: np.ndarray
    written: dict[str, list[Any]]
    roles: list[str]
    unit_samples: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.roles)

    def __repr__(self) -> str:
        return f"<SweepDesign {len(self)} points × {len(self.parameters)} parameters>"

    def value(self, i: int, path: str) -> Any:
        """The value point ``i`` writes at ``path``, or None when it keeps the base value."""
        if path in self.written:
            return self.written[path][i]
        number = self.numeric[i, list(self.parameters).index(path)]
        return None if math.isnan(number) else float(number)

    def point(self, i: int) -> dict[str, Any]:
        """Path → written value for point ``i`` (only the paths it changes)."""
        values = {}
        for j, path in enumerate(self.parameters):
            if path in self.written:
                value = self.written[path][i]
            else:
                number = self.numeric[i, j]
                value = None if math.isnan(number) else float(number)
            if value is not None:
                values[path] = value
        return values


def swept_parameters(spec: SweepSpec) -> dict[str, Parameter]:
    """The spec's parameters plus one per Monte Carlo assumption (``economics.overrides.<k>``)."""
    from orbitgrid.economics.assumptions import load_assumptions

    parameters = dict(spec.parameters)
    if spec.monte_carlo is not None:
        table = load_assumptions()
        keys = (
            table.keys() if spec.monte_carlo.assumptions == "all" else spec.monte_carlo.assumptions
        )
        for key in keys:
            row = table[key]  # raises with the valid keys on a typo
            path = f"economics.overrides.{key}"
            if path in parameters or row.low == row.high:
                continue  # swept explicitly, or nothing to vary
            triangular = spec.monte_carlo.distribution == "triangular"
            parameters[path] = Parameter(
                range=(row.low, row.high),
                distribution="triangular" if triangular else "uniform",
                mode=row.value if triangular else None,
            )
    return parameters


def _written(parameter: Parameter, number: float) -> Any:
    """The value as the scenario YAML would hold it: a number, or "<number> <unit>"."""
    value: Any = round(number) if parameter.integer else float(number)
    return f"{value!r} {parameter.unit}" if parameter.unit else value


def _number(value: Any) -> float:
    from orbitgrid.sweep.spec import split_quantity

    try:
        return split_quantity(value)[0]
    except ValueError:
        return math.nan


def _needs_text(parameter: Parameter) -> bool:
    """Whether the scenario value differs from the bare float (unit, integer, category)."""
    return parameter.values is not None or parameter.integer or bool(parameter.unit)


def _grid_levels(parameter: Parameter) -> list[Any]:
    if parameter.values is not None:
        return list(parameter.values)
    low, high = parameter.bounds
    num = parameter.num or 1
    if parameter.scale == "log":
        numbers = np.geomspace(low, high, num)
    else:
        numbers = np.linspace(low, high, num)
    return [_written(parameter, x) for x in numbers]


def _from_unit(parameter: Parameter, u: np.ndarray) -> np.ndarray | list[Any]:
    """Map unit-interval draws ``u`` to ``parameter``: numbers, or written values if needed."""
    if parameter.values is not None:
        k = len(parameter.values)
        index = np.minimum((u * k).astype(int), k - 1)
        return [parameter.values[i] for i in index]
    low, high = parameter.bounds
    if parameter.integer:
        numbers = np.minimum(np.floor(low + u * (high - low + 1.0)), high)
    elif parameter.distribution == "triangular" and high > low:
        c = ((parameter.mode or low) - low) / (high - low)
        numbers = stats.triang.ppf(u, c, loc=low, scale=high - low)
    elif parameter.scale == "log":
        numbers = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
    else:
        numbers = low + u * (high - low)
    if _needs_text(parameter):
        return [_written(parameter, x) for x in numbers]
    return np.asarray(numbers, dtype=float)


def _unit_samples(spec: SweepSpec, dimensions: int) -> np.ndarray:
    n = spec.samples or 0
    if spec.design == "random":
        return np.random.default_rng(spec.seed).random((n, dimensions))
    if spec.design == "latin-hypercube":
        return qmc.LatinHypercube(d=dimensions, rng=np.random.default_rng(spec.seed)).random(n)
    if spec.design == "sobol":
        _require_power_of_two(n, "sobol")
        sampler = qmc.Sobol(d=dimensions, scramble=True, rng=np.random.default_rng(spec.seed))
        return sampler.random_base2(int(math.log2(n)))
    if spec.design == "saltelli":
        from SALib.sample import sobol as salib_sobol

        _require_power_of_two(n, "saltelli")
        problem = {
            "num_vars": dimensions,
            "names": [f"x{i}" for i in range(dimensions)],
            "bounds": [[0.0, 1.0]] * dimensions,
        }
        # First and total indices only: N·(D+2) model runs instead of N·(2D+2).
        return salib_sobol.sample(problem, n, calc_second_order=False, seed=spec.seed)
    raise AssertionError(spec.design)


def _require_power_of_two(n: int, design: str) -> None:
    if n & (n - 1):
        raise ScenarioError(
            f"sweep samples: design {design!r} needs a power of two (its balance properties "
            f"hold only then), got {n}; try {1 << max(n - 1, 1).bit_length()}",
            "samples",
            n,
        )


def build_design(spec: SweepSpec) -> SweepDesign:
    """Expand ``spec`` into its points; the same spec and seed always give the same points."""
    parameters = swept_parameters(spec)
    paths = list(parameters)
    unit = None
    columns: list[list[Any] | np.ndarray]
    if spec.design == "grid":
        levels = [_grid_levels(parameters[p]) for p in paths]
        rows = list(itertools.product(*levels))
        columns = [
            [row[j] for row in rows]
            if _needs_text(parameters[p])
            else np.array([row[j] for row in rows], dtype=float)
            for j, p in enumerate(paths)
        ]
        count = len(rows)
    else:
        unit = _unit_samples(spec, len(paths))
        columns = [_from_unit(parameters[p], unit[:, j]) for j, p in enumerate(paths)]
        count = unit.shape[0]
    roles = [ROLE_DESIGN] * count
    extra: list[tuple[str, str, Any]] = []  # (role, path, written value); base: path ""
    if spec.tornado:
        extra.append((ROLE_TORNADO_BASE, "", None))
        for path in paths:
            parameter = parameters[path]
            low, high = parameter.bounds
            for side, number in (("low", low), ("high", high)):
                if parameter.values is not None:
                    # The listed value whose number is the extreme, as the user wrote it.
                    written = min(parameter.values, key=lambda v: abs(_number(v) - number))
                else:
                    written = _written(parameter, number)
                extra.append((f"tornado:{side}:{path}", path, written))
    roles += [role for role, _, _ in extra]
    numeric = np.full((len(roles), len(paths)), np.nan)
    written: dict[str, list[Any]] = {}
    for j, path in enumerate(paths):
        column = columns[j]
        tail = [value if p == path else None for _, p, value in extra]
        if isinstance(column, np.ndarray):
            numeric[:count, j] = column
            numeric[count:, j] = [np.nan if v is None else _number(v) for v in tail]
        else:
            written[path] = list(column) + tail
            numeric[:, j] = [np.nan if v is None else _number(v) for v in written[path]]
    return SweepDesign(parameters, numeric, written, roles, unit)
