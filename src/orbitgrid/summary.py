"""Summary of the core pipeline: per-shell figures folded chunk by chunk.

Accumulators are per satellite (shape [satellite]) so memory does not grow with the run's
duration; ``finalize`` reduces them per shell and over the whole constellation. The operations
kernel delivers each chunk's sums already folded (``chunk_sums`` and friends), so the reducer
never re-reads the [time, satellite] arrays. Satellite-steps whose propagation failed (NaN
position) are left out of means and extremes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitgrid.constants import SECONDS_PER_HOUR, ZERO_CELSIUS_K
from orbitgrid.contract import Arrays, Chunk
from orbitgrid.plan import Plan
from orbitgrid.spacecraft.operations import AGGREGATE_NAMES

FEASIBLE_FRACTION = 0.99
"""Delivered over installed compute at or above which a design counts as meeting its capacity."""

MARGINAL_FRACTION = 0.90
"""Below this delivered fraction the design is reported as not meeting its capacity."""


def verdict(fraction: float | None, failed_steps: float | None) -> tuple[str, str]:
    """The headline answer of a run: (text, status) from its delivered compute fraction.

    ≥ 99 % of installed compute delivered → feasible; ≥ 90 % → marginal; below → not feasible
    as designed. Failed propagation steps always downgrade to at most marginal. ``status`` is
    ``good``, ``warn``, ``bad`` or ``info`` (no compute figure). The run writes the text into
    ``summary.json`` (``verdict``, per shell and in total); the CLI, the report headline and
    ``orbitgrid compare`` all show that one text.
    """
    if fraction is None or not np.isfinite(fraction):
        return "no compute result", "info"
    if fraction >= FEASIBLE_FRACTION and not failed_steps:
        return "Feasible: delivers its installed compute", "good"
    if fraction >= MARGINAL_FRACTION:
        return "Marginal: compute is limited part of the time", "warn"
    return "Not feasible as designed: compute is limited", "bad"


class CoreSummary:
    """Reducer for orbits, sun and spacecraft operations (see the module docstring)."""

    def __init__(self, plan: Plan):
        n = plan.satellite_count
        self._stacked = np.zeros((len(AGGREGATE_NAMES), n))
        self._sums = dict(zip(AGGREGATE_NAMES, self._stacked, strict=True))  # views into _stacked
        self._min_soc = np.full(n, np.inf)
        self._max_temperature_k = np.full(n, -np.inf)
        self._total_tflops_min = np.inf
        self._total_tflops_max = -np.inf

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        # The operations kernel folds each chunk into per-satellite aggregates as it steps.
        self._stacked += arrays["chunk_sums"]
        np.minimum(self._min_soc, arrays["chunk_min_state_of_charge"], out=self._min_soc)
        np.maximum(
            self._max_temperature_k, arrays["chunk_max_temperature_k"], out=self._max_temperature_k
        )
        total = arrays["chunk_total_tflops"]
        self._total_tflops_min = min(self._total_tflops_min, float(total.min()))
        self._total_tflops_max = max(self._total_tflops_max, float(total.max()))

    def _group(self, plan: Plan, members: np.ndarray) -> dict[str, Any]:
        sums = {key: values[members] for key, values in self._sums.items()}
        steps = sums["valid_steps"]
        step_h = plan.scenario.time.step_s / SECONDS_PER_HOUR
        with np.errstate(invalid="ignore", divide="ignore"):
            per_sat_mean = {
                key: sums[key] / steps for key in AGGREGATE_NAMES if key != "valid_steps"
            }
        eclipse_min = (1.0 - per_sat_mean["sunlit"]) * plan.orbital_period_s[members] / 60.0
        installed_tflops = float(plan.installed_tflops[members].sum())
        delivered_tflops_mean = float(np.nansum(per_sat_mean["delivered_tflops"]))
        compute_installed_w = plan.spacecraft.compute_power_installed_w[members]
        fraction = delivered_tflops_mean / installed_tflops if installed_tflops > 0 else 0.0
        failed = int((plan.step_count - steps).sum())
        return {
            "satellites": int(members.sum()),
            "sunlit_fraction": _mean(per_sat_mean["sunlit"]),
            "eclipse_minutes_per_orbit": _mean(eclipse_min),
            "state_of_charge_min": _min(self._min_soc[members]),
            "state_of_charge_mean": _mean(per_sat_mean["state_of_charge"]),
            "temperature_max_c": _max(self._max_temperature_k[members]) - ZERO_CELSIUS_K,
            "installed_compute_pflops": installed_tflops / 1000.0,
            "delivered_compute_pflops_mean": delivered_tflops_mean / 1000.0,
            "delivered_compute_fraction": fraction,
            "installed_compute_power_mw": float(compute_installed_w.sum()) / 1e6,
            "hours_limited_by_energy_per_satellite": _mean(sums["energy_limited_steps"]) * step_h,
            "hours_limited_by_heat_per_satellite": _mean(sums["thermal_limited_steps"]) * step_h,
            "hours_bus_underpowered_per_satellite": _mean(sums["bus_short_steps"]) * step_h,
            "energy_generated_mwh": float(sums["generated_wh"].sum()) / 1e6,
            "energy_curtailed_mwh": float(sums["curtailed_wh"].sum()) / 1e6,
            "energy_to_compute_mwh": float(sums["compute_wh"].sum()) / 1e6,
            "satellite_steps_failed": failed,
            # A shell without accelerators has nothing to deliver: no verdict, not "not feasible".
            "verdict": verdict(fraction if installed_tflops > 0 else None, failed)[0],
        }

    def finalize(self, plan: Plan) -> dict[str, Any]:
        shells = {
            shell.name: self._group(plan, plan.shell_index == i)
            for i, shell in enumerate(plan.shells)
        }
        for shell in plan.shells:
            if shell.elements is not None:
                shells[shell.name]["days_from_element_epoch_max"] = _days_from_epoch(plan, shell)
        grouping = {
            shell.name: _grouping_record(plan, shell)
            for shell in plan.shells
            if shell.grouping is not None
        }
        total = self._group(plan, np.ones(plan.satellite_count, dtype=bool))
        total["delivered_compute_pflops_min"] = self._total_tflops_min / 1000.0
        total["delivered_compute_pflops_max"] = self._total_tflops_max / 1000.0
        figures = {"shells": shells, "total": total}
        if grouping:
            figures["grouping"] = grouping
        return figures


def _grouping_record(plan: Plan, shell) -> dict[str, Any]:
    """What ``planes: auto`` found in an element file: sub-shells and unplaced satellites."""
    result = shell.grouping
    found = result.constellation
    names = plan.satellite_names[shell.satellites]
    return {
        "sub_shells": [
            {
                "altitude_km": float(a),
                "inclination_deg": float(i),
                "planes": int(p),
                "sats_per_plane": int(n),
            }
            for a, i, p, n in zip(
                result.shell_altitude_km,
                result.shell_inclination_deg,
                found.planes,
                found.sats_per_plane,
                strict=True,
            )
        ],
        "unplaced": len(result.unplaced),
        "unplaced_satellites": {str(names[k]): str(result.reason[k]) for k in result.unplaced[:50]},
    }


def _days_from_epoch(plan: Plan, shell) -> float:
    """Largest distance in days between a satellite's element epoch and the run window:
    SGP4's error grows with it, so the CLI warns when it is large."""
    from orbitgrid.orbits.timescale import julian_date_split

    whole, fraction = julian_date_split(plan.times_utc[[0, -1]])
    window = whole + fraction
    epochs = np.asarray(shell.elements.epoch_jd)
    return float(np.max(np.abs(window[:, None] - epochs[None, :])))


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _min(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.min()) if finite.size else float("nan")


def _max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")
