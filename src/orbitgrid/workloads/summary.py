"""Summary of the workload stage: response-time distributions, served and dropped requests,
share per site kind, energy per token, handovers; ``workloads.csv`` (figures per option ×
population × class) and ``workloads_histograms.csv`` (the distributions) in the run folder.

Memory does not grow with the run: per (option, population, class) the reducer keeps counters
and two histograms (time to first token and response time) on log-spaced bins from 1 ms to
10⁵ s; percentiles interpolate log-linearly inside a bin, so they are within one bin's width
(a factor ``10^(8 / bins)``: 8 % with the default 240 bins) of the exact value of the same
distribution. Waits on a device for a link and the staleness of what devices hold use bins
from 1 ms to 10⁸ s (link windows, ``max_hold`` and update periods reach a year).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from orbitgrid.contract import Arrays, Chunk
from orbitgrid.csv_files import write_csv
from orbitgrid.plan import Plan
from orbitgrid.workloads.config import SITE_KINDS
from orbitgrid.workloads.quadrature import WAIT_POINTS, wait_point

_LOG_LO, _LOG_HI = -3.0, 5.0  # histogram range: 1 ms … 10⁵ s
# Range of the device-side histograms (deferred waits, staleness): up to 10⁸ s, ~3 years.
_DEVICE_LOG_HI = 8.0
HISTOGRAM_CSV = "workloads_histograms.csv"
PERCENTILES = (50.0, 95.0, 99.0)
_COUNTERS = ("offered", "served", "dropped_late", "dropped_capacity", "dropped_no_site",
             "dropped_expired", "output_tokens", "energy_j", "response_s_sum",
             "deferred")  # fmt: skip


class WorkloadSummary:
    """Reducer of ``WorkloadStage`` (see the module docstring); the stage folds each block."""

    phase = "pricing the served tokens"

    def __init__(self, stage, plan: Plan):
        self.stage = stage
        config = stage.config
        self.n_opt = len(config.options)
        self.n_pop = len(config.populations)
        self.n_cls = len(config.classes)
        self.bins = config.histogram_bins
        shape = (self.n_opt, self.n_pop, self.n_cls)
        self.counters = {name: np.zeros(shape) for name in _COUNTERS}
        self.by_kind = np.zeros((*shape, len(SITE_KINDS)))  # served per site kind
        self.hist_response = np.zeros((*shape, self.bins))
        self.hist_ttft = np.zeros((*shape, self.bins))
        # Offline first: waits on the device of the requests sent when a link came, and the
        # largest outbox of one device (bytes) per population.
        self.hist_deferred_wait = np.zeros((*shape, self.bins))
        self.outbox_max_bytes = np.zeros((self.n_opt, self.n_pop))
        self.has_device = np.zeros(self.n_opt, bool)
        self.hist_staleness = np.zeros((self.n_pop, len(stage.update_streams), self.bins))
        self.staleness_max_s = np.zeros((self.n_pop, len(stage.update_streams)))
        self.queued_end = np.zeros(self.n_opt)
        # Of those, the requests still held on devices (never placed, so not yet served).
        self.held_end = np.zeros(self.n_opt)
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
        # Accelerator-seconds per served request [site, class] and their sums per option.
        with np.errstate(invalid="ignore", divide="ignore"):
            self._accelerator_s = np.where(
                sites.capacity_per_s > 0, sites.accelerators[:, None] / sites.capacity_per_s, 0.0
            )
        self.accelerator_s = np.zeros((*shape, len(config.sites)))
        self._options: dict[str, Any] = {}

    def update(self, plan: Plan, chunk: Chunk, arrays: Arrays) -> None:
        """Nothing: the stage folds every block itself (``fold``)."""

    def fold(self, option: int, flows, step_s: float, device: int = -1) -> None:
        """Fold one option's ``stage.Flows`` of a block of steps (``device``: the option's
        on_device site, −1 without one)."""
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
        np.add.at(self.accelerator_s[option], pop, per_site * self._accelerator_s.T[None])
        for kind in range(len(SITE_KINDS)):
            np.add.at(
                self.by_kind[option, :, :, kind], pop, per_site[..., self._kind == kind].sum(-1)
            )
        outbox = flows.outbox
        if outbox is None:
            deferred_share = np.zeros(served.shape[:3])
            deferred_wait = np.zeros((*served.shape[:3], 1))
        else:
            self.has_device[option] = True
            sent = outbox.direct + outbox.released
            with np.errstate(invalid="ignore", divide="ignore"):
                deferred_share = np.where(sent > 0, outbox.released / sent, 0.0)
            deferred_wait = outbox.wait_points_s
            np.add.at(c["deferred"][option], pop, outbox.released.sum(0))
            np.add.at(c["dropped_expired"][option], pop, outbox.expired.sum(0))
            _spread(outbox.released, deferred_wait, pop, self.hist_deferred_wait[option],
                    _LOG_LO, _DEVICE_LOG_HI)  # fmt: skip
            devices = self.stage.sites.queue_units[self.stage.sites.queue0[device] :][: len(pop)]
            per_device = (outbox.held_end * self.stage.upload_bytes).sum(2) / devices
            np.maximum.at(self.outbox_max_bytes[option], pop, per_device.max(0, initial=0.0))
        response_sum = np.zeros(self.hist_response.shape[1:3])
        _histograms(
            served, flows.latency_s, flows.ttft_s, flows.queue, flows.wait_probability,
            flows.decay_rate_per_s, flows.queued_fraction, flows.fluid_wait_s, flows.decode_s,
            flows.token_factors, flows.token_weights, flows.budget_s,
            deferred_share, deferred_wait, device,
            pop, self.hist_response[option], self.hist_ttft[option], response_sum,
            _LOG_LO, _LOG_HI,
        )  # fmt: skip
        c["response_s_sum"][option] += response_sum
        self.queued_end[option] = flows.queued[-1] if len(flows.queued) else 0.0
        if outbox is not None and len(outbox.held_end):
            self.held_end[option] = outbox.held_end[-1].sum()
        self.backlog_change[option] += flows.backlog_change.sum()

    def fold_staleness(self, stale_s: np.ndarray, active: np.ndarray, step_s: float) -> None:
        """Fold ``[time, user, stream]`` staleness, weighted by active users × time."""
        weight = active * self.stage.users.users[None, :] * step_s
        for s in range(stale_s.shape[2]):
            _spread(weight[..., None], stale_s[..., s, None, None], self._population,
                    self.hist_staleness[:, s, None], _LOG_LO, _DEVICE_LOG_HI)  # fmt: skip
            largest = np.where(active, stale_s[..., s], 0.0).max(0, initial=0.0)
            np.maximum.at(self.staleness_max_s[:, s], self._population, largest)

    def fold_users(self, handovers: np.ndarray, active: np.ndarray, step_s: float) -> None:
        self.handovers += handovers
        self.active_s += active.sum(0) * step_s

    # ------------------------------------------------------------------ results

    def finalize(self, plan: Plan) -> dict[str, Any]:
        config = self.stage.config
        options = {}
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
                **self._offline(
                    o,
                    total,
                    self.hist_deferred_wait[o].sum((0, 1)),
                    self.outbox_max_bytes[o].max(initial=0.0),
                ),
                "queued_at_end": _number(self.queued_end[o]),
                "held_on_devices_at_end": _number(self.held_end[o]),
                "per_population": {},
            }
            for p, population in enumerate(config.populations):
                for k, request in enumerate(config.classes):
                    counts = {name: float(v[o, p, k]) for name, v in self.counters.items()}
                    figures = self._figures(
                        counts,
                        self.by_kind[o, p, k],
                        self.hist_response[o, p, k],
                        self.hist_ttft[o, p, k],
                    )
                    figures.update(
                        self._offline(
                            o, counts, self.hist_deferred_wait[o, p, k], self.outbox_max_bytes[o, p]
                        )
                    )
                    if figures["offered"] == 0:
                        continue
                    per_population = options[option.name]["per_population"]
                    per_population.setdefault(population.name, {})[request.name] = figures
        # The same dicts as in the run's summary: the analysis adds costs to them in place.
        self._options = options
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
                **self._staleness(),
            }
        }

    def _offline(self, option: int, total, hist_wait, outbox_max_bytes) -> dict[str, Any]:
        """Figures of an offline-first option: requests that waited for a link, how long
        (p50/p95/p99 of the wait on the device), the largest outbox of one device."""
        if not self.has_device[option]:
            return {}
        figures: dict[str, Any] = {
            "deferred": total["deferred"],
            "deferred_fraction": _ratio(total["deferred"], total["offered"]),
        }
        waits = _percentiles(hist_wait, PERCENTILES, _DEVICE_LOG_HI)
        for q, value in zip(PERCENTILES, waits, strict=True):
            figures[f"deferred_wait_p{q:g}_s"] = _number(value)
        figures["outbox_max_bytes_per_device"] = float(outbox_max_bytes)
        return figures

    def _staleness(self) -> dict[str, Any]:
        """``devices``: per on_device site, population and update stream, the age of what
        the devices hold (p50/p95 over users × time, and the largest)."""
        streams = self.stage.update_streams
        if not streams:
            return {}
        sites = self.stage.config.sites
        devices: dict[str, Any] = {}
        for s, (k, update) in enumerate(streams):
            site = devices.setdefault(sites[k].name, {"per_population": {}})
            for p, population in enumerate(self.stage.config.populations):
                p50, p95 = _percentiles(self.hist_staleness[p, s], (50.0, 95.0), _DEVICE_LOG_HI)
                site["per_population"].setdefault(population.name, {})[update.name] = {
                    "staleness_p50_s": _number(p50),
                    "staleness_p95_s": _number(p95),
                    "staleness_max_s": _number(self.staleness_max_s[p, s]),
                    "published_every_s": update.every_s,
                }
        return {"devices": devices}

    def _figures(self, total, by_kind, hist_response, hist_ttft) -> dict[str, Any]:
        offered = total["offered"]
        served = total["served"]
        dropped = (
            total["dropped_late"]
            + total["dropped_capacity"]
            + total["dropped_no_site"]
            + total["dropped_expired"]
        )
        figures: dict[str, Any] = {
            "offered": offered,
            "served": served,
            "served_fraction": _ratio(served, offered),
            "dropped_over_budget": total["dropped_late"],
            "dropped_no_capacity": total["dropped_capacity"],
            "dropped_no_site": total["dropped_no_site"],
            "dropped_expired": total["dropped_expired"],
            "dropped_fraction": _ratio(dropped, offered),
        }
        for name, hist in (("ttft", hist_ttft), ("response", hist_response)):
            values = _percentiles(hist, PERCENTILES)
            for q, value in zip(PERCENTILES, values, strict=True):
                figures[f"{name}_p{q:g}_s"] = _number(value)
        figures["response_mean_s"] = _ratio(total["response_s_sum"], served)
        for kind, value in zip(SITE_KINDS, by_kind, strict=True):
            figures[f"share_{kind}"] = _ratio(float(value), served)
        figures["energy_per_output_token_j"] = _ratio(total["energy_j"], total["output_tokens"])
        figures["output_tokens"] = total["output_tokens"]
        return figures

    def analysis(self, plan: Plan, summary: dict[str, Any]) -> dict[str, Any]:
        """Costs per million output tokens (``workloads.costs``), once the economics of the
        run are known."""
        from orbitgrid.workloads.costs import price_options

        tokens = self.counters["output_tokens"]
        return {"workloads": price_options(plan.scenario, summary, self.accelerator_s, tokens)}

    def write(self, folder: Path) -> None:
        """``workloads.csv``: one row per option × population × class with demand."""
        config = self.stage.config
        kinds = {p.name: p.kind for p in config.populations}
        self._rows = [
            {
                "option": option_name,
                "population": population,
                "population_kind": kinds[population],
                "class": class_name,
                **{k: v for k, v in figures.items() if k != "unpriced_sites"},
                "unpriced_sites": " ".join(figures.get("unpriced_sites", [])),
            }
            for option_name, option in self._options.items()
            for population, classes in option["per_population"].items()
            for class_name, figures in classes.items()
        ]
        if self._rows:
            # Offline-first options add columns; other rows leave them empty.
            fields = list(dict.fromkeys(key for row in self._rows for key in row))
            write_csv(folder / "workloads.csv", self._rows, fields)
        histograms = self.histogram_rows()
        if histograms:
            write_csv(folder / HISTOGRAM_CSV, histograms, list(histograms[0]))

    def histogram_rows(self) -> list[dict[str, Any]]:
        """The distributions behind the percentiles, as a tidy table: per option, population,
        class and quantity (``response``, ``ttft``, ``deferred_wait``), the requests in each
        non-empty log-spaced bin ``[lower_s, upper_s)``."""
        config = self.stage.config
        rows = []
        quantities = (
            ("response", self.hist_response, _LOG_HI),
            ("ttft", self.hist_ttft, _LOG_HI),
            ("deferred_wait", self.hist_deferred_wait, _DEVICE_LOG_HI),
        )
        for quantity, hist, hi in quantities:
            edges = 10.0 ** np.linspace(_LOG_LO, hi, self.bins + 1)
            for o, p, c, b in zip(*np.nonzero(hist > 0), strict=True):
                rows.append(
                    {
                        "option": config.options[o].name,
                        "population": config.populations[p].name,
                        "class": config.classes[c].name,
                        "quantity": quantity,
                        "lower_s": float(edges[b]),
                        "upper_s": float(edges[b + 1]),
                        "requests": float(hist[o, p, c, b]),
                    }
                )
        return rows


@nb.njit(cache=True)
def _histograms(served, latency, ttft, queue, c_prob, theta, queued, fluid_wait, decode,
                factors, token_weights, budget, deferred_share, deferred_wait, device, pop,
                h_resp, h_ttft, resp_sum, lo, hi):  # fmt: skip
    """Spread each group's served requests over the wait quadrature of its queue
    (``quadrature.wait_point``) and the output-token points (``factors [class, point]`` × the
    mean decode time, weights ``token_weights``), less the combinations over the class budget
    (dropped), into the per-(population, class) histograms of response time and time to
    first token. At remote sites (all but ``device``) the share ``deferred_share [time, user,
    class]`` of them waited on the device first, ``deferred_wait [time, user, class, point]``
    (equal weights)."""
    n_t, n_u, n_c, n_k = served.shape
    n_q = factors.shape[1]
    n_d = deferred_wait.shape[-1]
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
                    g = queue[t, u, k]
                    norm = 0.0
                    for j in range(WAIT_POINTS):
                        wait, w = wait_point(j, c_prob[t, g], theta[t, g], queued[t, g],
                                             fluid_wait[t, g])  # fmt: skip
                        for q in range(n_q):
                            x = latency[t, u, c, k] + (factors[c, q] - 1.0) * decode[t, u, c, k]
                            if x + wait <= budget[c]:
                                norm += w * token_weights[q]
                    if not norm > 0.0:
                        continue
                    phi = 0.0 if k == device else deferred_share[t, u, c]
                    for j in range(WAIT_POINTS):
                        wait, w = wait_point(j, c_prob[t, g], theta[t, g], queued[t, g],
                                             fluid_wait[t, g])  # fmt: skip
                        if not w > 0.0:
                            continue
                        for q in range(n_q):
                            x0 = (latency[t, u, c, k] + (factors[c, q] - 1.0) * decode[t, u, c, k]
                                  + wait)  # fmt: skip
                            if x0 > budget[c]:
                                continue
                            mass = s * w * token_weights[q] / norm
                            for d in range(-1, n_d if phi > 0.0 else 0):
                                if d < 0:
                                    part = mass * (1.0 - phi)
                                    extra = 0.0
                                else:
                                    part = mass * phi / n_d
                                    extra = deferred_wait[t, u, c, d]
                                x = x0 + extra
                                y = ttft[t, u, c, k] + wait + extra
                                resp_sum[p, c] += part * x
                                h_resp[p, c, _bin(x, lo, scale, bins)] += part
                                h_ttft[p, c, _bin(y, lo, scale, bins)] += part


@nb.njit(cache=True)
def _spread(counts, points, pop, hist, lo, hi):
    """Add ``counts [time, user, class]``, each spread equally over its ``points [time,
    user, class, point]``, to ``hist [population, class, bin]``."""
    n_t, n_u, n_c = counts.shape
    n_j = points.shape[-1]
    bins = hist.shape[-1]
    scale = bins / (hi - lo)
    for t in range(n_t):
        for u in range(n_u):
            for c in range(n_c):
                mass = counts[t, u, c] / n_j
                if not mass > 0.0:
                    continue
                for j in range(n_j):
                    hist[pop[u], c, _bin(points[t, u, c, j], lo, scale, bins)] += mass


@nb.njit(cache=True, inline="always")
def _bin(x, lo, scale, bins):
    if not x > 0.0:
        return 0
    b = int((np.log10(x) - lo) * scale)
    return min(max(b, 0), bins - 1)


def _percentiles(hist: np.ndarray, qs, hi: float = _LOG_HI) -> list[float]:
    """Percentiles of a histogram log-binned from 10^_LOG_LO to 10^``hi`` s, log-linear
    inside the bin (NaN if empty)."""
    total = hist.sum()
    if not total > 0:
        return [float("nan")] * len(qs)
    edges = np.linspace(_LOG_LO, hi, hist.shape[-1] + 1)
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


# Why requests went unserved, as summary.json names the causes (docs/workloads.md): the
# drops, and what was still held on a device when the run ended (requests still queued at a
# site were placed, hence counted as served).
_DROP_CAUSES = (
    ("dropped_no_site", "no site could take them"),
    ("dropped_over_budget", "over the response budget"),
    ("dropped_no_capacity", "no capacity"),
    ("dropped_expired", "given up on the device after max_hold"),
    ("held_on_devices_at_end", "still held on a device at the end"),
)


def unserved_note(figures: dict[str, Any]) -> str:
    """ "7.6% not served: no site could take them 7.6%" — why an option's requests were not
    served, largest first, each as a share of the offered requests; empty when nearly
    everything was served."""
    offered = figures.get("offered") or 0.0
    if offered <= 0.0:
        return ""
    causes = sorted(((figures.get(key) or 0.0, text) for key, text in _DROP_CAUSES), reverse=True)
    parts = [f"{text} {count / offered:.1%}" for count, text in causes if count / offered >= 5e-4]
    if not parts:
        return ""
    total = sum(count for count, _ in causes)
    return f"{total / offered:.1%} not served: {', '.join(parts)}"
