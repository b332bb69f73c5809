"""Summary of the workload stage: response-time distributions, served and dropped requests,
share per site kind, energy per token, handovers; ``workloads.csv`` in the run folder.

Memory does not grow with the run: per (option, population, class) the reducer keeps counters
and two histograms (time to first token and response time) on log-spaced bins from 1 ms to
10⁵ s; percentiles interpolate log-linearly inside a bin, so they are within one bin's width
(a factor ``10^(8 / bins)``: 8 % with the default 240 bins) of the exact value of the same
distribution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from orbitgrid.contract import Arrays, Chunk
from orbitgrid.plan import Plan

_LOG_LO, _LOG_HI = -3.0, 5.0  # histogram range: 1 ms … 10⁵ s
PERCENTILES = (50.0, 95.0, 99.0)
_COUNTERS = ("offered", "served", "dropped_late", "dropped_capacity", "dropped_no_site",
             "output_tokens", "energy_j", "response_s_sum")  # fmt: skip


class WorkloadSummary:
    """Reducer of ``WorkloadStage`` (see the module docstring); the stage folds each block."""

    def __init__(self, stage, plan: Plan):
        self.stage = stage
        config = stage.config
        self.n_opt = len(config.options)
        self.n_pop = len(config.populations)
        self.n_cls = len(config.classes)
        self.bins = config.histogram_bins
        shape = (self.n_opt, self.n_pop, self.n_cls)
        self.counters = {name: np.zeros(shape) for name in _COUNTERS}
        self.by_kind = np.zeros((*shape, 3))  # served per site kind
        self.hist_response = np.zeros((*shape, self.bins))
        self.hist_ttft = np.zeros((*shape, self.bins))
        self.queued_end = np.zeros(self.n_opt)
        self.backlog_change = np.zeros(self.n_opt)
        n_users = len(stage.users)
        self.handovers = np.zeros(n_users)
        self.active_s = np.zeros(n_users)
        self._rows: list[dict[str, Any]] = []
        self._population = stage.users.population
        sites = stage.sites
        self._kind = sites.kind_code
        self._energy_j = np.where(np.isfinite(sites.energy_j), sites.energy_j, 0.0)  # [site, cls]
        self._output_tokens = np.array([c.output_tokens.mean for c in config.classes])

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        """Nothing: the stage folds every block itself (``fold``)."""

    def fold(self, option: int, flows, step_s: float) -> None:
        """Fold one option's ``stage.Flows`` of a block of steps."""
        pop = self._population
        c = self.counters
        served = flows.served  # [time, user, class, site]
        for name, values in (
            ("offered", flows.offered),
            ("dropped_no_site", flows.dropped_no_site),
            ("dropped_late", flows.dropped_late.sum(-1)),
            ("dropped_capacity", flows.dropped_capacity.sum(-1)),
            ("served", served.sum(-1)),
        ):
            np.add.at(c[name][option], pop, values.sum(0))
        per_site = served.sum(0)  # [user, class, site]
        np.add.at(c["output_tokens"][option], pop, per_site.sum(-1) * self._output_tokens)
        np.add.at(c["energy_j"][option], pop, (per_site * self._energy_j.T[None]).sum(-1))
        for kind in range(3):
            np.add.at(
                self.by_kind[option, :, :, kind], pop, per_site[..., self._kind == kind].sum(-1)
            )
        response_sum = np.zeros(self.hist_response.shape[1:3])
        _histograms(
            served, flows.latency_s, flows.ttft_s, flows.wait_points_s, flows.wait_weights,
            pop, self.hist_response[option], self.hist_ttft[option], response_sum,
            _LOG_LO, _LOG_HI,
        )  # fmt: skip
        c["response_s_sum"][option] += response_sum
        self.queued_end[option] = flows.queued[-1] if len(flows.queued) else 0.0
        self.backlog_change[option] += flows.backlog_change.sum()

    def fold_users(self, handovers: np.ndarray, active: np.ndarray, step_s: float) -> None:
        self.handovers += handovers
        self.active_s += active.sum(0) * step_s

    # ------------------------------------------------------------------ results

    def finalize(self, plan: Plan) -> dict[str, Any]:
        config = self.stage.config
        options = {}
        self._rows = []
        for o, option in enumerate(config.options):
            total = {name: float(v[o].sum()) for name, v in self.counters.items()}
            options[option.name] = {
                "policy": option.policy,
                "sites": list(option.sites),
                **self._figures(
                    total,
                    self.by_kind[o].sum((0, 1)),
                    self.hist_response[o].sum((0, 1)),
                    self.hist_ttft[o].sum((0, 1)),
                ),
                "queued_at_end": _number(self.queued_end[o]),
                "per_population": {},
            }
            for p, population in enumerate(config.populations):
                for k, request in enumerate(config.classes):
                    figures = self._figures(
                        {name: float(v[o, p, k]) for name, v in self.counters.items()},
                        self.by_kind[o, p, k],
                        self.hist_response[o, p, k],
                        self.hist_ttft[o, p, k],
                    )
                    if figures["offered"] == 0:
                        continue
                    per_population = options[option.name]["per_population"]
                    per_population.setdefault(population.name, {})[request.name] = figures
                    self._rows.append(
                        {
                            "option": option.name,
                            "population": population.name,
                            "population_kind": population.kind,
                            "class": request.name,
                            **figures,
                        }
                    )
        users = self.stage.users
        movers = users.kind != "fixed"
        handovers_per_h = None
        if movers.any():
            hours = self.active_s[movers].sum() / 3600.0
            handovers_per_h = _number(self.handovers[movers].sum() / hours) if hours else None
        return {
            "workloads": {
                "users": int(users.users.sum()),
                "user_endpoints": len(users),
                "moving_endpoints": int(movers.sum()),
                "handovers_per_mover_hour": handovers_per_h,
                "percentile_relative_error": float(10 ** ((_LOG_HI - _LOG_LO) / self.bins) - 1),
                "options": options,
            }
        }

    def _figures(self, total, by_kind, hist_response, hist_ttft) -> dict[str, Any]:
        offered = total["offered"]
        served = total["served"]
        dropped = total["dropped_late"] + total["dropped_capacity"] + total["dropped_no_site"]
        figures: dict[str, Any] = {
            "offered": offered,
            "served": served,
            "served_fraction": _ratio(served, offered),
            "dropped_over_budget": total["dropped_late"],
            "dropped_no_capacity": total["dropped_capacity"],
            "dropped_no_site": total["dropped_no_site"],
            "dropped_fraction": _ratio(dropped, offered),
        }
        for name, hist in (("ttft", hist_ttft), ("response", hist_response)):
            values = _percentiles(hist, PERCENTILES)
            for q, value in zip(PERCENTILES, values, strict=True):
                figures[f"{name}_p{q:g}_s"] = _number(value)
        figures["response_mean_s"] = _ratio(total["response_s_sum"], served)
        for kind, value in zip(("ground_dc", "orbital_cluster", "overhead_satellite"), by_kind,
                               strict=True):  # fmt: skip
            figures[f"share_{kind}"] = _ratio(float(value), served)
        figures["energy_per_output_token_j"] = _ratio(total["energy_j"], total["output_tokens"])
        figures["output_tokens"] = total["output_tokens"]
        return figures

    def write(self, folder: Path) -> None:
        """``workloads.csv``: one row per option × population × class with demand."""
        from orbitgrid.runs import write_csv

        if self._rows:
            write_csv(folder / "workloads.csv", self._rows, list(self._rows[0]))


@nb.njit(cache=True)
def _histograms(served, latency, ttft, points, weights, pop, h_resp, h_ttft, resp_sum, lo, hi):
    """Spread each group's served requests over the wait quadrature points into the
    per-(population, class) histograms of response time and time to first token."""
    n_t, n_u, n_c, n_k = served.shape
    n_j = points.shape[-1]
    bins = h_resp.shape[-1]
    scale = bins / (hi - lo)
    for t in range(n_t):
        for u in range(n_u):
            p = pop[u]
            for c in range(n_c):
                for k in range(n_k):
                    s = served[t, u, c, k]
                    if not s > 0.0:
                        continue
                    norm = 0.0
                    for j in range(n_j):
                        norm += weights[t, u, c, k, j]
                    if not norm > 0.0:
                        continue
                    for j in range(n_j):
                        w = weights[t, u, c, k, j]
                        if not w > 0.0:
                            continue
                        mass = s * w / norm
                        wait = points[t, u, c, k, j]
                        x = latency[t, u, c, k] + wait
                        y = ttft[t, u, c, k] + wait
                        resp_sum[p, c] += mass * x
                        h_resp[p, c, _bin(x, lo, scale, bins)] += mass
                        h_ttft[p, c, _bin(y, lo, scale, bins)] += mass


@nb.njit(cache=True, inline="always")
def _bin(x, lo, scale, bins):
    if not x > 0.0:
        return 0
    b = int((np.log10(x) - lo) * scale)
    return min(max(b, 0), bins - 1)


def _percentiles(hist: np.ndarray, qs) -> list[float]:
    """Percentiles of a log-binned histogram, log-linear inside the bin (NaN if empty)."""
    total = hist.sum()
    if not total > 0:
        return [float("nan")] * len(qs)
    edges = np.linspace(_LOG_LO, _LOG_HI, hist.shape[-1] + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(hist)]) / total
    out = []
    for q in qs:
        target = q / 100.0
        i = int(np.searchsorted(cumulative, target, side="left"))
        i = min(max(i, 1), len(edges) - 1)
        below, above = cumulative[i - 1], cumulative[i]
        part = 0.0 if above <= below else (target - below) / (above - below)
        out.append(float(10 ** (edges[i - 1] + part * (edges[i] - edges[i - 1]))))
    return out


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b > 0 else None


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
