"""Random failures that start and end during a run: an alternating renewal process per element.

Model. Each element (satellite, ISL or endpoint) is up or down. Up times are exponential with
mean MTBF, down times exponential with mean MTTR, all independent: a two-state continuous-time
Markov chain with failure rate 1/MTBF and repair rate 1/MTTR (an alternating renewal process
with exponential sojourns; e.g. Ross, *Introduction to Probability Models*, §7.5 and §6.9).
Its steady-state unavailability is ``MTTR / (MTBF + MTTR)``. The state at the run start is
drawn from that steady state, and because exponential sojourns are memoryless the first
sojourn needs no special residual law, so the process is stationary from the first step: the
expected down fraction is the unavailability at every instant and down intervals have mean
MTTR. An element is down at a step ``t`` when ``start <= t < end`` for one of its down
intervals (as scheduled failures, ``[start, end)``).

Determinism and chunking. Sojourns are generated in batches of ``SOJOURNS_PER_BATCH`` per
element; batch ``b`` of element type ``k`` is drawn from ``numpy.random.default_rng([seed, k,
b])`` alone, so an element's sequence of up and down times depends on the seed and the element
count only, never on which chunks were asked for first or how long the run is. Batches are
added until every element's sequence covers the latest time asked for; the down intervals are
kept sorted, and a chunk's masks come from a binary search for the intervals that overlap it
and a compiled loop over those intervals (no loop over elements × steps in Python).

Memory: 28 bytes per down interval, about ``elements × duration / (MTBF + MTTR)`` intervals.
"""

from __future__ import annotations

import functools
import threading

import numba as nb
import numpy as np

from orbitgrid.network.config import RandomFailures, RepairProcess

# Even, so a sojourn's parity (up or down after the initial state) is its index in the batch.
SOJOURNS_PER_BATCH = 16
# Random streams of the element types: default_rng([seed, stream, batch]).
_STREAMS = {"satellites": 1, "isls": 2, "endpoints": 3}


@nb.njit(cache=True)
def _fill_down(mask, element, first_step, end_step):
    """Set ``mask[first_step[k]:end_step[k], element[k]]`` for every interval ``k``."""
    for k in range(element.shape[0]):
        e = element[k]
        for t in range(first_step[k], end_step[k]):
            mask[t, e] = True


class RepairSchedule:
    """Down intervals of ``n_elements`` elements of one type (see the module docstring).

    ``down_mask(times_s)`` gives ``[time, element]`` (True = down); the schedule grows on
    demand and is the same whatever order times are asked for in.
    """

    def __init__(self, n_elements: int, mtbf_s: float, mttr_s: float, seed: int, stream: int):
        if not (mtbf_s > 0 and mttr_s > 0):
            raise ValueError(f"mtbf_s and mttr_s must be > 0, got {mtbf_s!r} and {mttr_s!r}")
        self.n_elements = int(n_elements)
        self.mtbf_s = float(mtbf_s)
        self.mttr_s = float(mttr_s)
        self.seed = int(seed)
        self.stream = int(stream)
        self._batches = 0
        self._initial_down = np.zeros(self.n_elements, dtype=bool)
        self._covered_s = np.zeros(self.n_elements)  # end of each element's last sojourn
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._lock = threading.Lock()
        self._index()

    @property
    def unavailability(self) -> float:
        """Steady-state probability of being down: MTTR / (MTBF + MTTR)."""
        return self.mttr_s / (self.mtbf_s + self.mttr_s)

    @property
    def covered_s(self) -> float:
        """Every element's state is known on ``[0, covered_s)``."""
        return float(self._covered_s.min()) if self.n_elements else np.inf

    def intervals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All down intervals generated so far: ``element``, ``start_s``, ``end_s`` (sorted
        by start). Intervals may end after ``covered_s``; they are complete sojourns."""
        return self._element, self._start_s, self._end_s

    def cover(self, horizon_s: float) -> None:
        """Generate batches until every element's state is known at ``horizon_s``."""
        self._covered_index(horizon_s)

    def _covered_index(self, horizon_s: float) -> tuple[np.ndarray, ...]:
        """Extend to ``horizon_s`` and return a consistent snapshot of the sorted intervals
        (under the lock, so threads sharing the cached schedule never see half an update)."""
        with self._lock:
            added = False
            while self.n_elements and self._covered_s.min() <= horizon_s:
                self._add_batch()
                added = True
            if added:
                self._index()
            return self._element, self._start_s, self._end_s, self._end_cummax_s

    def _add_batch(self) -> None:
        rng = np.random.default_rng([self.seed, self.stream, self._batches])
        n, k = self.n_elements, SOJOURNS_PER_BATCH
        if self._batches == 0:
            self._initial_down = rng.random(n) < self.unavailability
        duration_s = rng.standard_exponential((n, k))
        down = self._initial_down[:, None] ^ (np.arange(k) % 2 == 1)[None, :]
        duration_s *= np.where(down, self.mttr_s, self.mtbf_s)
        end_s = self._covered_s[:, None] + np.cumsum(duration_s, axis=1)
        # Starts are the previous ends themselves, so consecutive sojourns share exact bounds.
        start_s = np.concatenate([self._covered_s[:, None], end_s[:, :-1]], axis=1)
        element, sojourn = np.nonzero(down)
        self._parts.append(
            (element.astype(np.int32), start_s[element, sojourn], end_s[element, sojourn])
        )
        self._covered_s = end_s[:, -1].copy()
        self._batches += 1

    def _index(self) -> None:
        if self._parts:
            element = np.concatenate([p[0] for p in self._parts])
            start_s = np.concatenate([p[1] for p in self._parts])
            end_s = np.concatenate([p[2] for p in self._parts])
            order = np.argsort(start_s, kind="stable")
            element, start_s, end_s = element[order], start_s[order], end_s[order]
            self._parts = [(element, start_s, end_s)]  # later batches merge into this one
        else:
            element, start_s, end_s = np.zeros(0, np.int32), np.zeros(0), np.zeros(0)
        self._element, self._start_s, self._end_s = element, start_s, end_s
        # Running maximum of the ends in start order: intervals before the first position where
        # it exceeds t0 all end at or before t0, so a chunk starting at t0 can skip them.
        self._end_cummax_s = np.maximum.accumulate(self._end_s) if len(end_s) else self._end_s

    def down_mask(self, times_s: np.ndarray) -> np.ndarray:
        """``[time, element]`` bool, True where the element is down at ``times_s[t]``."""
        times_s = np.asarray(times_s, dtype=np.float64)
        mask = np.zeros((times_s.shape[0], self.n_elements), dtype=bool)
        if times_s.shape[0] == 0 or self.n_elements == 0:
            return mask
        if np.any(np.diff(times_s) < 0):
            order = np.argsort(times_s, kind="stable")
            mask[order] = self.down_mask(times_s[order])
            return mask
        t0, t1 = float(times_s[0]), float(times_s[-1])
        if t0 < 0:
            raise ValueError(f"failure times start at 0 s (the run start); got {t0} s")
        element, start_s, end_s, end_cummax_s = self._covered_index(t1)
        lo = int(np.searchsorted(end_cummax_s, t0, side="right"))
        hi = int(np.searchsorted(start_s, t1, side="right"))
        first = np.searchsorted(times_s, start_s[lo:hi], side="left")
        end = np.searchsorted(times_s, end_s[lo:hi], side="left")
        hit = end > first
        _fill_down(mask, element[lo:hi][hit], first[hit], end[hit])
        return mask

    def __repr__(self) -> str:
        return (
            f"RepairSchedule({self.n_elements} elements, MTBF {self.mtbf_s:g} s, "
            f"MTTR {self.mttr_s:g} s, {len(self._element)} down intervals to "
            f"{self.covered_s:g} s)"
        )


class FailureProcess:
    """The repair processes of a run's satellites, ISLs and endpoints (those configured).

    Build it once per run (``failure_process`` caches it) and ask it for each chunk's masks;
    ``horizon_s`` (e.g. the run duration) generates the schedule up front, otherwise it grows
    as later times are asked for, with the same result.
    """

    def __init__(
        self,
        config: RandomFailures,
        n_satellites: int,
        n_isls: int,
        n_endpoints: int,
        horizon_s: float | None = None,
    ):
        counts = {"satellites": n_satellites, "isls": n_isls, "endpoints": n_endpoints}
        self.schedules: dict[str, RepairSchedule | None] = {}
        for kind, count in counts.items():
            process: RepairProcess | None = getattr(config, kind)
            self.schedules[kind] = (
                None
                if process is None
                else RepairSchedule(
                    count, process.mtbf_s, process.mttr_s, config.seed, _STREAMS[kind]
                )
            )
        if horizon_s is not None:
            for schedule in self.schedules.values():
                if schedule is not None:
                    schedule.cover(horizon_s)

    def down_masks(
        self, times_s: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``satellite [time, sat]``, ``isl [time, link]``, ``endpoint [time, endpoint]``
        down masks (True = down), None for a type without a repair process."""
        return tuple(  # type: ignore[return-value]
            None if s is None else s.down_mask(times_s) for s in self.schedules.values()
        )

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={s!r}" for k, s in self.schedules.items() if s is not None)
        return f"FailureProcess({inner or 'no repair processes'})"


@functools.lru_cache(maxsize=8)
def failure_process(
    config: RandomFailures, n_satellites: int, n_isls: int, n_endpoints: int
) -> FailureProcess:
    """The run's ``FailureProcess``, built once per configuration and element counts.

    ``failure_masks`` calls this for every chunk; the cache (keyed on the frozen config and
    the counts) makes each schedule be generated once per run rather than once per chunk.
    """
    return FailureProcess(config, n_satellites, n_isls, n_endpoints)
