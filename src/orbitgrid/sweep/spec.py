"""The sweep file (``sweep.yaml``): which scenario fields vary, how they are sampled, what is kept.

A sweep names a base scenario and addresses scenario fields by dotted YAML paths, exactly as the
scenario's error messages spell them (``constellation[0].altitude``,
``spacecraft.compute-node.battery.capacity``, ``economics.overrides.launch_cost_usd_per_kg``)::

    name: launch-price
    base: dawn-dusk-cluster          # shipped name, or a path relative to this file
    design: latin-hypercube          # grid | random | latin-hypercube | sobol | saltelli
    samples: 64
    seed: 1
    parameters:
      economics.overrides.launch_cost_usd_per_kg: {range: [100, 3000], scale: log}
      constellation[0].altitude: {range: [500 km, 700 km]}
    outputs: [economics.shells.*.cost_ratio, total.delivered_compute_fraction]

Paths are checked against the scenario schema before anything runs: a bad path raises
``ScenarioError`` naming the path and listing the valid keys at the level where it went wrong.
See ``docs/sweeps.md`` for every key.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orbitgrid.errors import ScenarioError
from orbitgrid.field_paths import is_model, unwrap
from orbitgrid.yaml_loader import load_yaml_file

Design = Literal["grid", "random", "latin-hypercube", "sobol", "saltelli"]

# A number followed by an optional unit, as the scenario accepts it ("550 km", "30 %", "2e3").
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

# Keys of a scenario that are not physics: a change to them never needs a new time simulation.
ECONOMICS_KEY = "economics"
NON_PHYSICS_KEYS = frozenset({ECONOMICS_KEY, "name", "description"})

DEFAULT_OUTPUTS = (
    "total.delivered_compute_fraction",
    "total.sunlit_fraction",
    "total.state_of_charge_min",
    "total.temperature_max_c",
    "economics.shells.*.orbital.cost_per_gpu_hour_usd",
    "economics.shells.*.terrestrial.cost_per_gpu_hour_usd",
    "economics.shells.*.orbital.lifecycle_cost_usd",
    "economics.shells.*.cost_ratio",
    "economics.shells.*.break_even_launch_cost_usd_per_kg",
    "economics.shells.*.fleet_launch_mass_kg",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def split_quantity(value: Any) -> tuple[float, str]:
    """``"550 km"`` → ``(550.0, "km")``; a bare number → ``(value, "")``. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a quantity such as '550 km', got {value!r}")
    if isinstance(value, int | float):
        return float(value), ""
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"expected a number or a quantity such as '550 km', got {value!r}")
    return float(match.group(1)), match.group(2)


class Parameter(_Model):
    """One swept field: a list of ``values``, or a ``range`` [low, high] with a scale.

    ``range`` ends may carry a unit (``[500 km, 700 km]``; both the same unit). For the grid
    design a range needs ``num`` points (linear or geometric spacing); sampled designs draw in
    [low, high] (uniform in the value, or in its logarithm with ``scale: log``; ``triangular``
    with ``mode`` for Monte Carlo). ``integer: true`` rounds draws to whole numbers (plane
    counts, accelerator counts). A list in a sampled design is a categorical choice.
    """

    values: list[Any] | None = None
    range: tuple[Any, Any] | None = None
    num: int | None = Field(default=None, ge=1, description="grid points across the range")
    scale: Literal["linear", "log"] = "linear"
    distribution: Literal["uniform", "triangular"] = "uniform"
    mode: float | None = Field(default=None, description="peak of a triangular distribution")
    integer: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either 'values' (a list) or 'range' ([low, high]), not both")
        if self.values is not None and not self.values:
            raise ValueError("'values' is empty; give at least one value")
        if self.range is not None:
            (low, unit_low), (high, unit_high) = (split_quantity(v) for v in self.range)
            if unit_low != unit_high:
                raise ValueError(
                    f"range ends have different units ({unit_low!r}, {unit_high!r}); "
                    "use the same unit on both"
                )
            if not low <= high:
                raise ValueError(f"range low {low:g} is above high {high:g}")
            if self.scale == "log" and low <= 0:
                raise ValueError(f"scale: log needs a range above 0, got low {low:g}")
            if self.distribution == "triangular" and not (
                self.mode is not None and low <= self.mode <= high
            ):
                raise ValueError("distribution: triangular needs 'mode' within the range")
        return self

    @property
    def unit(self) -> str:
        """The unit written on the range ends or on every listed value ('' for bare numbers)."""
        if self.range is not None:
            return split_quantity(self.range[0])[1]
        units = set()
        for value in self.values or []:
            try:
                units.add(split_quantity(value)[1])
            except ValueError:
                return ""  # a categorical list (e.g. pointing modes) has no unit
        return units.pop() if len(units) == 1 else ""

    @property
    def bounds(self) -> tuple[float, float]:
        """Numeric (low, high) in ``unit``; for a list, its smallest and largest number."""
        if self.range is not None:
            return split_quantity(self.range[0])[0], split_quantity(self.range[1])[0]
        numbers = [split_quantity(v)[0] for v in self.values or []]
        return min(numbers), max(numbers)


class MonteCarlo(_Model):
    """Draw economic assumptions within the table's low/high (``data/assumptions.csv``).

    Each named key becomes a parameter ``economics.overrides.<key>`` over [low, high], uniform
    or triangular with the table's value as the mode.
    """

    assumptions: Literal["all"] | list[str] = "all"
    distribution: Literal["uniform", "triangular"] = "triangular"


class SweepSpec(_Model):
    """A validated ``sweep.yaml`` (see the module docstring and ``docs/sweeps.md``)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    base: str = Field(min_length=1, description="shipped scenario name or path to its YAML")
    design: Design = "grid"
    samples: int | None = Field(default=None, ge=1, description="points of a sampled design")
    seed: int = 0
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    monte_carlo: MonteCarlo | None = None
    outputs: list[str] | None = None
    tornado: bool = Field(default=False, description="add one-at-a-time low/high points")
    # Folder the base path is resolved against; not part of the YAML.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _design_needs(self) -> SweepSpec:
        if not self.parameters and self.monte_carlo is None:
            raise ValueError("a sweep needs 'parameters' or 'monte_carlo'")
        if self.design == "grid":
            if self.monte_carlo is not None:
                raise ValueError("monte_carlo needs a sampled design (random, latin-hypercube...)")
            for path, parameter in self.parameters.items():
                if parameter.range is not None and parameter.num is None:
                    raise ValueError(
                        f"parameters.{path}: a range on the grid design needs 'num' "
                        "(how many points), or use a sampled design"
                    )
        elif self.samples is None:
            raise ValueError(f"design {self.design!r} needs 'samples' (number of draws)")
        return self

    def __repr__(self) -> str:
        return (
            f"<SweepSpec {self.name!r}: {self.design} over {len(self.parameters)} parameter(s) "
            f"of {self.base!r}>"
        )


def _format_errors(error: ValidationError, source: str) -> ScenarioError:
    lines, first = [], ""
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        first = first or path
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (see docs/sweeps.md)"
        lines.append(f"  - {path}: {message}")
    header = f"{source}: {len(lines)} problem{'s' if len(lines) > 1 else ''} in the sweep:"
    return ScenarioError("\n".join([header, *lines]), path=first)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; raise ``ScenarioError`` naming each problem."""
    file = Path(path)
    if not file.is_file():
        from orbitgrid.sweep import shipped_sweep_path

        shipped = shipped_sweep_path(str(path))
        if shipped is None:
            raise ScenarioError(f"sweep file {str(path)!r} not found", path="sweep", value=path)
        file = shipped
    # The project's bounded reader: a sweep file may come from someone else (docs/security.md).
    data = load_yaml_file(file, what="sweep")
    return sweep_from_dict(data, base_dir=file.parent, source=str(file))


def sweep_from_dict(
    data: dict[str, Any], base_dir: Path | str = ".", source: str = "<dict>"
) -> SweepSpec:
    """Validate a sweep given as a dict (as read from YAML)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a sweep is a mapping (name, base, parameters, ...)")
    try:
        return SweepSpec.model_validate({**data, "base_dir": Path(base_dir)})
    except ValidationError as error:
        raise _format_errors(error, source) from None


def load_base(spec: SweepSpec) -> tuple[dict[str, Any], Path]:
    """The base scenario as a raw dict (before validation) and the folder it came from."""
    from orbitgrid.scenarios import shipped_scenario_path, shipped_scenarios

    file = spec.base_dir / spec.base
    if not file.is_file():
        shipped = shipped_scenario_path(spec.base)
        if shipped is None:
            raise ScenarioError(
                f"sweep base: scenario {spec.base!r} not found: no such file beside the sweep "
                f"({file}), and no shipped scenario of that name "
                f"(shipped: {', '.join(shipped_scenarios())})",
                path="base",
                value=spec.base,
            )
        file = shipped
    data = load_yaml_file(file, what="scenario")
    if not isinstance(data, dict):
        raise ScenarioError(f"{file}: a scenario is a mapping of sections", path="base")
    return data, file.parent.resolve()


# ---------------------------------------------------------------------------------------------
# dotted paths into the scenario


def parse_path(path: str) -> list[str | int]:
    """``"constellation[0].altitude"`` → ``["constellation", 0, "altitude"]``."""
    parts: list[str | int] = []
    position = 0
    for match in _PATH_PART.finditer(path):
        gap = path[position : match.start()]
        if gap not in ("", "."):
            raise ScenarioError(f"sweep parameter {path!r}: cannot read {gap!r}", path, path)
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts or path[position:]:
        raise ScenarioError(
            f"sweep parameter {path!r} is not a dotted path such as constellation[0].altitude",
            path,
            path,
        )
    return parts


def _field_aliases(model: type[BaseModel]) -> dict[str, Any]:
    """YAML key → annotation for a scenario section (aliases as written in YAML)."""
    keys = {}
    for name, info in model.model_fields.items():
        if info.exclude:
            continue  # e.g. Scenario.base_dir: not a YAML key
        keys[info.alias or name] = info.annotation
    return keys


def _union_member(annotation: Any, raw: Any) -> Any:
    """The member of a tagged union (shell types) that the raw dict's ``type`` selects."""
    tag = raw.get("type") if isinstance(raw, dict) else None
    for member in typing.get_args(annotation):
        member = unwrap(member)
        if is_model(member) and "type" in member.model_fields:
            allowed = typing.get_args(member.model_fields["type"].annotation)
            if tag in allowed:
                return member
    return None


def _bad_key(path: str, where: str, key: object, valid: list[str]) -> ScenarioError:
    close = difflib.get_close_matches(str(key), valid, n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ScenarioError(
        f"sweep parameter {path!r}: {where or 'the scenario'} has no key {key!r}.{hint} "
        f"Valid keys there: {', '.join(valid) if valid else '(none)'}",
        path,
        key,
    )


def check_path(path: str, base: dict[str, Any]) -> None:
    """Check that ``path`` addresses a field of the scenario schema (and of ``base`` for names).

    Walks the pydantic schema of ``Scenario`` alongside the raw base dict: list indices must
    exist in the base (``constellation[3]`` with one shell is an error), named entries
    (``spacecraft.<name>``) must be defined, assumption keys must be in the table. Raises
    ``ScenarioError`` naming the path and listing the valid keys at the failing level.
    """
    from orbitgrid.economics.assumptions import EconomicsSection, load_assumptions
    from orbitgrid.scenario import Scenario

    annotation: Any = Scenario
    raw: Any = base
    where = ""
    for part in parse_path(path):
        annotation = unwrap(annotation)
        origin = typing.get_origin(annotation)
        if is_model(annotation):
            keys = _field_aliases(annotation)
            if not isinstance(part, str) or part not in keys:
                raise _bad_key(path, where, part, list(keys))
            if annotation is EconomicsSection and part == "overrides":
                annotation = ("assumptions", None)
            else:
                annotation = keys[part]
            raw = raw.get(part) if isinstance(raw, dict) else None
        elif annotation == ("assumptions", None):
            valid = load_assumptions().keys()
            if part not in valid:
                raise _bad_key(path, where, part, valid)
            annotation, raw = float, None
        elif origin is list:
            if not isinstance(part, int):
                raise ScenarioError(
                    f"sweep parameter {path!r}: {where} is a list; address an entry as {where}[0]",
                    path,
                    part,
                )
            count = len(raw) if isinstance(raw, list) else 0
            if part >= count:
                raise ScenarioError(
                    f"sweep parameter {path!r}: {where} has {count} entr"
                    f"{'y' if count == 1 else 'ies'} in the base scenario; valid indices are "
                    f"0..{count - 1}",
                    path,
                    part,
                )
            raw = raw[part]
            member = typing.get_args(annotation)[0]
            annotation = unwrap(member)
            if not is_model(annotation):
                annotation = _union_member(annotation, raw) or annotation
        elif origin is dict:
            valid = list(raw) if isinstance(raw, dict) else []
            if part not in valid:
                raise _bad_key(path, where, part, [str(v) for v in valid])
            raw = raw[part]
            annotation = typing.get_args(annotation)[1]
        else:
            raise ScenarioError(
                f"sweep parameter {path!r}: {where} is a value, not a section; it has no "
                f"key {part!r}",
                path,
                part,
            )
        where = (
            f"{where}[{part}]" if isinstance(part, int) else (f"{where}.{part}" if where else part)
        )


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` in ``data`` in place, creating missing sections (``{}``)."""
    parts = parse_path(path)
    node: Any = data
    for part, following in itertools.pairwise(parts):
        if isinstance(part, int):
            node = node[part]
            continue
        if node.get(part) is None:
            node[part] = [] if isinstance(following, int) else {}
        node = node[part]
    node[parts[-1]] = value


def physics_key(physics: dict[str, Any], base_dir: Path) -> str:
    """Hash of everything that the time simulation depends on.

    The scenario minus ``economics``, ``name`` and ``description`` (they do not change the
    physics), plus the folder relative element files resolve against. SHA-256 of canonical JSON.
    """
    payload = {k: v for k, v in physics.items() if k not in NON_PHYSICS_KEYS}
    text = json.dumps([payload, str(base_dir)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def split_economics(base: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(scenario without ``economics``, deep copy of the economics section or None)."""
    physics = {k: copy.deepcopy(v) for k, v in base.items() if k != ECONOMICS_KEY}
    economics = base.get(ECONOMICS_KEY)
    return physics, (copy.deepcopy(economics) if economics is not None else None)
