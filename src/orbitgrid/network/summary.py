"""Per-pair summary of routing over a run, with the fibre reference beside it, streamed.

A day at 1 s for 100 endpoints is 86,400 × 4,950 RTTs (1.7 GB as float32), so the summary
never keeps them: ``PairStatistics.update`` folds each chunk into counts, sums and one RTT
histogram per unordered pair, and memory does not grow with the run's length.

Percentiles come from the histogram (the idea of DDSketch, Masson et al., VLDB 2019): bins
are logarithmic, bin ``k`` holding ``[lo·γ^k, lo·γ^(k+1))`` ms with γ = 1.002 by default, over
``RTT_RANGE_MS``; a value is represented by its bin's geometric middle, so its relative
error is at most √γ − 1 ≈ 0.1 %. The two order statistics that numpy's linear percentile
interpolates between are each taken from the histogram and interpolated with numpy's weight,
and the result is clamped to the pair's exact minimum and maximum, so the reported percentile
is within that relative error of ``np.nanpercentile`` over every step (tested). γ grows when
the pairs × bins table would exceed ``MEMORY_BUDGET_BYTES`` (many endpoints); the achieved
bound is reported as ``rtt_percentile_relative_error``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import xarray as xr

from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.fibre import fibre_latency_ms, great_circle_matrix_km

# Round-trip times below 1 ms or above 4 s (plus 2 × 64 hops of per-hop delay) are clamped
# into the end bins (a path through space takes ≥ 2 × 2 × ~300 km / c ≈ 4 ms; GEO hops take
# ~0.5 s); the pair's exact minimum and maximum still bound every reported percentile.
RTT_RANGE_MS = (1.0, 4000.0)
MAX_HOPS_IN_RANGE = 64
BIN_RATIO = 1.002
MEMORY_BUDGET_BYTES = 256 * 2**20
PERCENTS = (50.0, 95.0, 99.0)


@nb.njit(parallel=True, cache=True)
def _fold(values, lo, inv_log_ratio, counts, minimum, maximum):
    """Add ``values [time, pair]`` (NaN skipped) to the per-pair histograms and extremes."""
    n_t, n_p = values.shape
    n_bins = counts.shape[1]
    for p in nb.prange(n_p):
        for t in range(n_t):
            v = values[t, p]
            if not np.isfinite(v):
                continue
            k = math.floor(math.log(max(v, 1e-300) / lo) * inv_log_ratio)
            counts[p, min(max(k, 0), n_bins - 1)] += 1
            minimum[p] = min(minimum[p], v)
            maximum[p] = max(maximum[p], v)


@nb.njit(cache=True)
def _rank_values(counts, ranks, lo, log_ratio):
    """Geometric bin middles holding each (ascending) 0-based rank of one histogram."""
    out = np.empty(ranks.shape[0])
    seen = 0
    k = 0
    for i in range(ranks.shape[0]):
        while seen + counts[k] <= ranks[i]:
            seen += counts[k]
            k += 1
        out[i] = lo * math.exp((k + 0.5) * log_ratio)
    return out


@nb.njit(cache=True)
def _percentiles(counts, minimum, maximum, percents, lo, log_ratio):
    """``[percent, pair]`` percentiles (numpy's linear method) from the histograms."""
    n_p = counts.shape[0]
    out = np.full((percents.shape[0], n_p), np.nan)
    ranks = np.empty(2 * percents.shape[0], np.int64)
    for p in range(n_p):
        n = 0
        for k in range(counts.shape[1]):
            n += counts[p, k]
        if n == 0:
            continue
        for i in range(percents.shape[0]):
            pos = (n - 1) * percents[i] / 100.0
            ranks[2 * i] = math.floor(pos)
            ranks[2 * i + 1] = min(math.floor(pos) + 1, n - 1)
        order = np.argsort(ranks)
        values = np.empty(ranks.shape[0])
        values[order] = _rank_values(counts[p], ranks[order], lo, log_ratio)
        for i in range(percents.shape[0]):
            pos = (n - 1) * percents[i] / 100.0
            weight = pos - math.floor(pos)
            v = values[2 * i] + (values[2 * i + 1] - values[2 * i]) * weight
            out[i, p] = min(max(v, minimum[p]), maximum[p])
    return out


class RttHistogram:
    """Log-binned RTT histograms, one per pair (model and error bound in the module doc)."""

    def __init__(
        self,
        n_pairs: int,
        range_ms: tuple[float, float] = RTT_RANGE_MS,
        bin_ratio: float = BIN_RATIO,
        memory_budget_bytes: int = MEMORY_BUDGET_BYTES,
    ):
        self.lo_ms, hi_ms = range_ms
        span = math.log(hi_ms / self.lo_ms)
        wanted = math.ceil(span / math.log(bin_ratio))
        affordable = memory_budget_bytes // (4 * max(n_pairs, 1))
        n_bins = max(64, min(wanted, affordable))
        self.log_ratio = span / n_bins
        self.counts = np.zeros((n_pairs, n_bins), np.uint32)
        self.minimum = np.full(n_pairs, np.inf)
        self.maximum = np.full(n_pairs, -np.inf)

    @property
    def relative_error(self) -> float:
        """Bound on |reported − exact| / exact for values inside the range."""
        return math.expm1(self.log_ratio / 2.0)

    def add(self, values_ms: np.ndarray) -> None:
        """Fold ``[time, pair]`` RTTs (NaN = unreachable, skipped)."""
        _fold(
            np.ascontiguousarray(values_ms, dtype=np.float64),
            self.lo_ms,
            1.0 / self.log_ratio,
            self.counts,
            self.minimum,
            self.maximum,
        )

    def percentiles(self, percents: tuple[float, ...] = PERCENTS) -> np.ndarray:
        """``[percent, pair]``; NaN for pairs never reached."""
        return _percentiles(
            self.counts,
            self.minimum,
            self.maximum,
            np.asarray(percents, dtype=np.float64),
            self.lo_ms,
            self.log_ratio,
        )

    def overall_percentiles(self, percents: tuple[float, ...] = PERCENTS) -> np.ndarray:
        """Percentiles over all pairs and steps together, ``[percent]``."""
        merged = self.counts.sum(axis=0, dtype=np.uint64)[None]
        return _percentiles(
            merged,
            np.array([self.minimum.min(initial=np.inf)]),
            np.array([self.maximum.max(initial=-np.inf)]),
            np.asarray(percents, dtype=np.float64),
            self.lo_ms,
            self.log_ratio,
        )[:, 0]


HOP_BINS = 256
"""Hop counts are counted exactly up to ``HOP_BINS − 1`` links (far beyond any path routed:
Starlink shell 1's longest +grid path is under 60 hops); a longer path counts in the last bin."""


def hop_percentile(counts: np.ndarray, percent: float) -> np.ndarray:
    """Per row of a ``[pair, hops]`` count table, the smallest hop count with at least
    ``percent`` % of the reachable steps at or below it (the lower percentile: hops are whole
    numbers, so the median is a hop count that occurred). NaN for a pair never reached."""
    total = counts.sum(axis=1)
    cumulative = np.cumsum(counts, axis=1)
    need = np.ceil(total * percent / 100.0)
    index = (cumulative < need[:, None]).sum(axis=1).astype(np.float64)
    return np.where(total > 0, index, np.nan)


class PairStatistics:
    """Streaming per-pair figures over a run (each unordered pair once, upper triangle).

    ``update`` takes one chunk's ``[time, src, dst]`` arrays; ``dataset`` gives RTT
    p50/p95/p99, reachability, path changes, the slowest-link rate, the great-circle fibre
    RTT and how often space beats it, and, when hop counts are given, hop statistics of every
    pair over its reachable steps (mean, median, 95th percentile, most: one exact count table
    of ``HOP_BINS`` bins per pair, so they cover every step and every pair, not a sample).
    """

    def __init__(
        self,
        endpoints: EndpointTable,
        fibre_route_factor: float = 1.0,
        per_hop_delay_ms: float = 0.0,
    ):
        self.endpoints = endpoints
        n = len(endpoints.name)
        self._upper = np.triu_indices(n, k=1)
        n_pairs = len(self._upper[0])
        # Processing delays lengthen every RTT: 2 × up to MAX_HOPS_IN_RANGE hops each way.
        top_ms = RTT_RANGE_MS[1] + 2.0 * MAX_HOPS_IN_RANGE * per_hop_delay_ms
        self.histogram = RttHistogram(n_pairs, range_ms=(RTT_RANGE_MS[0], top_ms))
        fibre = 2.0 * fibre_latency_ms(
            great_circle_matrix_km(endpoints.latitude_deg, endpoints.longitude_deg),
            fibre_route_factor,
        )
        self.fibre_route_factor = fibre_route_factor
        self.fibre_rtt_ms = fibre[self._upper]
        self.steps = 0
        self.reached = np.zeros(n_pairs, np.int64)
        self.beats_fibre = np.zeros(n_pairs, np.int64)
        self.path_changes = np.zeros(n_pairs, np.int64)
        self.rate_sum_bps = np.zeros(n_pairs)
        self.rate_steps = np.zeros(n_pairs, np.int64)
        self.rate_min_bps = np.full(n_pairs, np.inf)
        self.hop_counts = np.zeros((n_pairs, HOP_BINS), np.int64)
        self.has_hops = False

    def update(
        self,
        rtt_ms: np.ndarray,
        path_changed: np.ndarray | None = None,
        path_rate_bps: np.ndarray | None = None,
        hop_count: np.ndarray | None = None,
    ) -> None:
        up = self._upper
        rtt = np.asarray(rtt_ms)[:, up[0], up[1]]
        finite = np.isfinite(rtt)
        self.steps += rtt.shape[0]
        self.reached += finite.sum(axis=0)
        self.beats_fibre += (np.where(finite, rtt, np.inf) < self.fibre_rtt_ms).sum(axis=0)
        self.histogram.add(rtt)
        if path_changed is not None:
            self.path_changes += np.asarray(path_changed)[:, up[0], up[1]].sum(axis=0)
        if path_rate_bps is not None:
            rate = np.asarray(path_rate_bps)[:, up[0], up[1]]
            ok = finite & np.isfinite(rate)
            self.rate_sum_bps += np.where(ok, rate, 0.0).sum(axis=0)
            self.rate_steps += ok.sum(axis=0)
            self.rate_min_bps = np.minimum(
                self.rate_min_bps, np.where(ok, rate, np.inf).min(axis=0, initial=np.inf)
            )
        if hop_count is not None:
            self._add_hops(np.asarray(hop_count)[:, up[0], up[1]])

    def _add_hops(self, hops: np.ndarray) -> None:
        """Count ``[time, pair]`` hop counts (−1: no path, skipped) into the pair tables."""
        self.has_hops = True
        reached = hops >= 0
        pair = np.broadcast_to(np.arange(hops.shape[1]), hops.shape)[reached]
        value = np.minimum(hops[reached].astype(np.int64), HOP_BINS - 1)
        self.hop_counts += np.bincount(
            pair * HOP_BINS + value, minlength=self.hop_counts.size
        ).reshape(self.hop_counts.shape)

    def dataset(self) -> xr.Dataset:
        """``[src, dst]`` figures labelled by endpoint name; symmetric, NaN on the diagonal."""
        pct = self.histogram.percentiles(PERCENTS)
        steps = max(self.steps, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate_mean = np.where(self.rate_steps > 0, self.rate_sum_bps / self.rate_steps, np.nan)
        rate_min = np.where(np.isfinite(self.rate_min_bps), self.rate_min_bps, np.nan)
        fields = {
            "rtt_p50_ms": (pct[0], "ms", "median RTT"),
            "rtt_p95_ms": (pct[1], "ms", "95th percentile RTT"),
            "rtt_p99_ms": (pct[2], "ms", "99th percentile RTT"),
            "reachability": (self.reached / steps, "1", "fraction of steps with a path"),
            "path_changes": (self.path_changes, "1", "number of path changes"),
            "path_rate_mean_mbps": (
                rate_mean / 1e6,
                "Mbit/s",
                "mean rate of the path's slowest link over reachable steps",
            ),
            "path_rate_min_mbps": (rate_min / 1e6, "Mbit/s", "lowest slowest-link rate"),
            "fibre_rtt_ms": (
                self.fibre_rtt_ms,
                "ms",
                f"great-circle fibre RTT, route factor {self.fibre_route_factor}",
            ),
            "space_beats_fibre_fraction": (
                self.beats_fibre / steps,
                "1",
                "fraction of steps RTT < fibre RTT",
            ),
        }
        if self.has_hops:
            fields.update(self._hop_fields())
        names = [str(n) for n in self.endpoints.name]
        dims = ("src", "dst")
        variables = {
            key: (dims, self._square(values), {"units": units, "long_name": long_name})
            for key, (values, units, long_name) in fields.items()
        }
        ds = xr.Dataset(variables, coords={"src": names, "dst": names})
        ds.attrs["rtt_percentile_relative_error"] = self.histogram.relative_error
        return ds

    def _hop_fields(self) -> dict[str, tuple[np.ndarray, str, str]]:
        counts = self.hop_counts
        total = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (counts * np.arange(HOP_BINS)).sum(axis=1) / total
        most = np.where(total > 0, HOP_BINS - 1 - np.argmax(counts[:, ::-1] > 0, axis=1), np.nan)
        return {
            "hops_mean": (mean, "1", "mean links on the path over reachable steps"),
            "hops_p50": (hop_percentile(counts, 50.0), "1", "median links on the path"),
            "hops_p95": (hop_percentile(counts, 95.0), "1", "95th percentile of links"),
            "hops_max": (most.astype(np.float64), "1", "most links on the path"),
        }

    def _square(self, upper_values: np.ndarray) -> np.ndarray:
        n = len(self.endpoints.name)
        out = np.full((n, n), np.nan)
        out[self._upper] = upper_values
        out[self._upper[1], self._upper[0]] = upper_values
        return out


def routing_summary(
    rtt_ms: np.ndarray,
    path_changed: np.ndarray,
    endpoints: EndpointTable,
    fibre_route_factor: float = 1.0,
    path_rate_bps: np.ndarray | None = None,
    hop_count: np.ndarray | None = None,
) -> xr.Dataset:
    """``PairStatistics`` of one set of ``[time, src, dst]`` arrays (see ``dataset``).

    Percentiles are over reachable steps only (histogram, relative error in the dataset's
    ``rtt_percentile_relative_error`` attribute); ``space_beats_fibre_fraction`` is the
    fraction of all steps whose RTT is below the great-circle fibre reference (``fibre.py``).
    """
    stats = PairStatistics(endpoints, fibre_route_factor)
    stats.update(rtt_ms, path_changed, path_rate_bps, hop_count)
    return stats.dataset()
