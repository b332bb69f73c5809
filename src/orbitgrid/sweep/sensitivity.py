"""Global and one-at-a-time sensitivity of a sweep's outputs to its parameters.

- ``sobol_indices``: first-order (S1) and total (ST) Sobol' indices with bootstrap confidence
  intervals, from a ``saltelli`` design, by SALib's ``SALib.analyze.sobol`` (Saltelli 2002;
  Saltelli et al. 2010, Comput. Phys. Commun. 181:259, estimators of Jansen 1999 for ST).
  S1 is the share of an output's variance explained by one parameter alone, ST the share it
  touches including interactions. Indices are computed in the sampled space, so they are
  invariant to the parameter's scale (log or linear).
- ``tornado_table``: one-at-a-time swings. Each parameter alone at its low and its high, all
  others at the base scenario; the swing is |output(high) − output(low)|. Cheap, but blind to
  interactions and non-monotonic responses: read it with the Sobol' table when you have one.

Both return long tables (one row per output × parameter), written by the sweep as CSV and
Parquet (``sobol.csv``, ``tornado.csv``) for plotting: sort by ``ST`` or ``swing``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orbitgrid.sweep.design import ROLE_DESIGN, ROLE_TORNADO_BASE, SweepDesign

SOBOL_COLUMNS = [
    "output",
    "parameter",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "samples",
    "unit",
    "note",
]
TORNADO_COLUMNS = [
    "output",
    "parameter",
    "unit",
    "low_value",
    "high_value",
    "base_output",
    "output_at_low",
    "output_at_high",
    "swing",
]


def sobol_from_outputs(
    names: list[str], y: np.ndarray, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """S1/ST of one output ``y`` (in Saltelli order, length N·(D+2)) for parameters ``names``.

    Wraps ``SALib.analyze.sobol.analyze`` with ``calc_second_order=False`` (the design the sweep
    draws). Returns columns ``parameter, S1, S1_conf, ST, ST_conf``.
    """
    from SALib.analyze import sobol

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    result = sobol.analyze(
        problem,
        np.asarray(y, dtype=float),
        calc_second_order=False,
        conf_level=confidence,
        print_to_console=False,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "parameter": names,
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )


def sobol_indices(
    frame: pd.DataFrame, design: SweepDesign, outputs: list[str], seed: int = 0
) -> pd.DataFrame:
    """Sobol' indices of every output of a ``saltelli`` sweep (long table, ``SOBOL_COLUMNS``).

    ``frame`` is ``Catalog.points_frame``. An output with a missing or non-finite value at any
    design point (a failed point, an infinite cost) gets NaN indices: the estimator needs the
    full Saltelli matrix. So does an output that never changes (no variance to share out).
    ``note`` says in words why an output's indices are NaN (empty otherwise); ``unit`` is the
    parameter's unit as written in the sweep file.
    """
    names = list(design.parameters)
    units = [design.parameters[name].unit for name in names]
    rows = frame[frame["role"] == ROLE_DESIGN].sort_values("point_id")
    expected = sum(1 for role in design.roles if role == ROLE_DESIGN)
    parts = []
    for output in outputs:
        y = rows[output].to_numpy(dtype=float) if output in rows else np.array([])
        note = _undefined_reason(output, y, expected)
        if not note:
            table = sobol_from_outputs(names, y, seed=seed)
        else:
            table = pd.DataFrame({"parameter": names})
            for column in ("S1", "S1_conf", "ST", "ST_conf"):
                table[column] = np.nan
        table.insert(0, "output", output)
        table["samples"] = len(y)
        table["unit"] = units
        table["note"] = note
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=SOBOL_COLUMNS)
    return pd.concat(parts, ignore_index=True)[SOBOL_COLUMNS]


def _undefined_reason(output: str, y: np.ndarray, expected: int) -> str:
    """Why Sobol' indices of an output with values ``y`` cannot be estimated ('' if they can)."""
    from orbitgrid.sweep.explain import missing_reason

    if len(y) != expected:
        return (
            f"only {len(y)} of the {expected} design points are recorded; the estimator needs "
            "every point of the Saltelli design"
        )
    missing = int(np.count_nonzero(~np.isfinite(y)))
    if missing:
        return f"{missing_reason(output, missing, expected)}; the estimator needs every point"
    if np.ptp(y) == 0:
        return f"it is {y[0]:.6g} at every point: there is no variance to share out"
    return ""


def tornado_table(frame: pd.DataFrame, design: SweepDesign, outputs: list[str]) -> pd.DataFrame:
    """One-at-a-time swings of each output (long table, ``TORNADO_COLUMNS``), largest first.

    Needs a sweep with ``tornado: true``: its base point and, per parameter, a low and a high
    point. Values are in the parameter's unit; outputs in the output's own unit.
    """
    by_role = frame.set_index("role")
    if ROLE_TORNADO_BASE not in by_role.index:
        return pd.DataFrame(columns=TORNADO_COLUMNS)
    base = by_role.loc[ROLE_TORNADO_BASE]
    rows = []
    for output in outputs:
        for path, parameter in design.parameters.items():
            low_role, high_role = f"tornado:low:{path}", f"tornado:high:{path}"
            if low_role not in by_role.index or high_role not in by_role.index:
                continue
            low, high = by_role.loc[low_role], by_role.loc[high_role]
            at_low, at_high = float(low[output]), float(high[output])
            rows.append(
                {
                    "output": output,
                    "parameter": path,
                    "unit": parameter.unit,
                    "low_value": parameter.bounds[0],
                    "high_value": parameter.bounds[1],
                    "base_output": float(base[output]),
                    "output_at_low": at_low,
                    "output_at_high": at_high,
                    "swing": abs(at_high - at_low),
                }
            )
    table = pd.DataFrame(rows, columns=TORNADO_COLUMNS)
    return table.sort_values(
        ["output", "swing"], ascending=[True, False], na_position="last", ignore_index=True
    )
