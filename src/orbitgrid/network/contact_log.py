"""Streaming contact log: link windows of a run, fed chunk by chunk, written as ``contacts``
(``contacts.parquet``, or ``contacts.csv`` with ``network.tables: csv``; ``tables.py``).

The network stage gives, for every chunk, the ground–satellite links (GSLs) up at each step
(a sparse list: ~10³ links per step out of up to 10⁶ endpoint × satellite pairs) and the range
of every ISL (NaN when down). ``ContactLog`` keeps the windows that are still open between
chunks, so a window spanning chunks is one window, and closes a window at the first step its
link is not up. Conventions are those of ``contacts.windows_from_mask`` (sample-and-hold): a
window runs from its first up step to its last up step + ``step_s``; min/mean/max range and
the mean rate are over the window's up steps. ``finish`` closes the windows still open at the
end of the run the same way.

Open GSL windows live in a pool of slots (accumulators) found through a dense
``[endpoint × satellite]`` int32 table, so each step costs O(links up at this step and the
previous one; memory 12 bytes per endpoint × satellite pair); ISL windows are kept per link.
Both loops are compiled (numba).

Node ids are those of the routing dataset's ``path_node``: satellite ``i`` is ``i``, endpoint
``e`` is ``n_satellites + e``. A GSL window has the endpoint as ``a`` and the satellite as
``b``; an ISL window has ``isl_pairs[link]`` as ``a``, ``b``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np
import pyarrow as pa

from orbitgrid.network.tables import TableFormat, table_file, write_table

# contacts table columns, in order. a_node/b_node are path_node ids (satellite i → i, endpoint
# e → n_satellites + e); `orbitgrid export ion` numbers CBHE nodes from them.
CONTACT_COLUMNS = (
    "kind",
    "a",
    "b",
    "a_node",
    "b_node",
    "start_utc",
    "end_utc",
    "start_s",
    "end_s",
    "duration_s",
    "min_range_km",
    "mean_range_km",
    "max_range_km",
    "mean_rate_bps",
)
CONTACTS_STEM = "contacts"
# How a CSV contact table reads back as the Parquet one does: names stay text (a satellite
# called "1" is not a number), times are timestamps.
CONTACT_TEXT_TYPES = {"kind": pa.string(), "a": pa.string(), "b": pa.string()}
CONTACT_TIMES = ("start_utc", "end_utc")

# Window accumulators (float columns): first up time, last up time, sum of ranges, min range,
# max range, sum of rates. Output rows: start, end, min, mean, max range, mean rate.
_START, _LAST, _SUM_R, _MIN_R, _MAX_R, _SUM_RATE = range(6)


@nb.njit(cache=True)
def _emit(acc, count, step_s, out_f, n):
    out_f[n, 0] = acc[_START]
    out_f[n, 1] = acc[_LAST] + step_s
    out_f[n, 2] = acc[_MIN_R]
    out_f[n, 3] = acc[_SUM_R] / count
    out_f[n, 4] = acc[_MAX_R]
    out_f[n, 5] = acc[_SUM_RATE] / count


@nb.njit(cache=True)
def _open(acc, time_s):
    acc[_START] = time_s
    acc[_SUM_R] = 0.0
    acc[_MIN_R] = np.inf
    acc[_MAX_R] = -np.inf
    acc[_SUM_RATE] = 0.0


@nb.njit(cache=True)
def _add(acc, time_s, range_km, rate_bps):
    acc[_LAST] = time_s
    acc[_SUM_R] += range_km
    acc[_MIN_R] = min(acc[_MIN_R], range_km)
    acc[_MAX_R] = max(acc[_MAX_R], range_km)
    acc[_SUM_RATE] += rate_bps


@nb.njit(cache=True)
def _gsl_chunk(
    times_s,
    step_s,
    first_step,
    offsets,
    key,
    range_km,
    rate_bps,
    open_slot,
    slot_acc,
    slot_int,
    free,
    counters,
    active,
    next_active,
    out_key,
    out_f,
):
    """Advance the GSL windows over one chunk; returns the number of windows closed.

    ``offsets [T + 1]`` delimit each step's entries; ``key = endpoint × S + satellite``.
    ``slot_int[:, 0]`` is a slot's key, ``[:, 1]`` the global step it was last seen at,
    ``[:, 2]`` its up-step count. ``counters`` = [free slots, active keys].
    """
    n_out = 0
    for t in range(times_s.shape[0]):
        g = first_step + t
        # Mark the links up again at this step, then close the previous step's others.
        for j in range(offsets[t], offsets[t + 1]):
            s = open_slot[key[j]]
            if s >= 0:
                slot_int[s, 1] = g
        for i in range(counters[1]):
            s = open_slot[active[i]]
            if slot_int[s, 1] != g:
                out_key[n_out] = slot_int[s, 0]
                _emit(slot_acc[s], slot_int[s, 2], step_s, out_f, n_out)
                n_out += 1
                open_slot[active[i]] = -1
                free[counters[0]] = s
                counters[0] += 1
        n_next = 0
        for j in range(offsets[t], offsets[t + 1]):
            k = key[j]
            s = open_slot[k]
            if s < 0:
                counters[0] -= 1
                s = free[counters[0]]
                open_slot[k] = s
                slot_int[s, 0] = k
                slot_int[s, 1] = g
                slot_int[s, 2] = 0
                _open(slot_acc[s], times_s[t])
            slot_int[s, 2] += 1
            _add(slot_acc[s], times_s[t], range_km[j], rate_bps[j])
            next_active[n_next] = k
            n_next += 1
        active[:n_next] = next_active[:n_next]
        counters[1] = n_next
    return n_out


@nb.njit(cache=True)
def _first_repeat(first_step, step, key, last_seen):
    """Index of the first entry whose key already appeared at the same step, or −1.

    ``last_seen [pairs]`` keeps the mark (``first_step`` + step) each key was last given at;
    marks only grow, so it never needs resetting between chunks.
    """
    for j in range(key.shape[0]):
        g = first_step + step[j]
        if last_seen[key[j]] == g:
            return j
        last_seen[key[j]] = g
    return -1


@nb.njit(cache=True)
def _isl_chunk(times_s, step_s, range_km, rate_bps, is_open, acc, count, out_link, out_f):
    """Advance the per-link ISL windows over one chunk (NaN range = down); returns closures."""
    n_out = 0
    for t in range(range_km.shape[0]):
        for link in range(range_km.shape[1]):
            r = range_km[t, link]
            if r == r:  # not NaN: up
                if not is_open[link]:
                    is_open[link] = True
                    count[link] = 0
                    _open(acc[link], times_s[t])
                count[link] += 1
                _add(acc[link], times_s[t], r, rate_bps)
            elif is_open[link]:
                out_link[n_out] = link
                _emit(acc[link], count[link], step_s, out_f, n_out)
                n_out += 1
                is_open[link] = False
    return n_out


@dataclass(frozen=True, eq=False)
class ContactTable:
    """Closed windows as flat ``[window]`` arrays, ordered by start, then kind, a, b.

    ``kind`` is ``"gsl"`` or ``"isl"``; ``a_node``/``b_node`` are path_node ids (module
    docstring); times are seconds from the run start; ranges km; ``mean_rate_bps`` bit/s.
    """

    n_satellites: int
    kind: np.ndarray
    a_node: np.ndarray
    b_node: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    min_range_km: np.ndarray
    mean_range_km: np.ndarray
    max_range_km: np.ndarray
    mean_rate_bps: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.shape[0])

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    def __repr__(self) -> str:
        n_gsl = int(np.count_nonzero(self.kind == "gsl"))
        return f"ContactTable({n_gsl} GSL and {len(self) - n_gsl} ISL windows)"


class ContactLog:
    """Link windows of a run, accumulated chunk by chunk (module docstring).

    ``update`` takes consecutive chunks; ``finish`` closes the windows still open and returns
    the ``ContactTable``; ``write`` writes the ``contacts`` table into a run folder.
    """

    def __init__(self, n_satellites: int, n_endpoints: int, isl_pairs: np.ndarray, step_s: float):
        self.n_satellites = int(n_satellites)
        self.n_endpoints = int(n_endpoints)
        self.isl_pairs = np.asarray(isl_pairs, dtype=np.int64).reshape(-1, 2)
        self.step_s = float(step_s)
        self._steps = 0
        self._last_time_s: float | None = None
        self._table: ContactTable | None = None
        # GSL: dense pair → slot table, a slot pool grown on demand, the keys up at the last step.
        self._open_slot = np.full(self.n_endpoints * self.n_satellites, -1, dtype=np.int32)
        self._last_given = np.full(self.n_endpoints * self.n_satellites, -1, dtype=np.int64)
        self._marks_used = 0
        self._slot_acc = np.zeros((0, 6))
        self._slot_int = np.zeros((0, 3), dtype=np.int64)
        self._free = np.zeros(0, dtype=np.int64)
        self._active = np.zeros(0, dtype=np.int64)
        self._counters = np.zeros(2, dtype=np.int64)  # free slots, active keys
        # ISL: one accumulator per link.
        n_isl = len(self.isl_pairs)
        self._isl_open = np.zeros(n_isl, dtype=bool)
        self._isl_acc = np.zeros((n_isl, 6))
        self._isl_count = np.zeros(n_isl, dtype=np.int64)
        self._closed: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"gsl": [], "isl": []}

    def _grow_slots(self, needed: int) -> None:
        capacity = self._slot_acc.shape[0]
        if needed <= capacity:
            return
        new = max(needed, 2 * capacity)
        self._slot_acc = np.concatenate([self._slot_acc, np.zeros((new - capacity, 6))])
        self._slot_int = np.concatenate(
            [self._slot_int, np.zeros((new - capacity, 3), dtype=np.int64)]
        )
        n_free = int(self._counters[0])
        free = np.empty(new, dtype=np.int64)
        free[:n_free] = self._free[:n_free]
        free[n_free : n_free + new - capacity] = np.arange(capacity, new)
        self._free = free
        self._counters[0] = n_free + new - capacity
        active = np.empty(new, dtype=np.int64)
        active[: self._counters[1]] = self._active[: self._counters[1]]
        self._active = active

    def update(
        self,
        times_s: np.ndarray,
        gsl_step: np.ndarray,
        gsl_endpoint: np.ndarray,
        gsl_satellite: np.ndarray,
        gsl_range_km: np.ndarray,
        gsl_rate_bps: np.ndarray,
        isl_range_km: np.ndarray,
        isl_rate_bps: float,
    ) -> None:
        """Add one chunk of steps ``times_s [T]`` (seconds from the run start, following the
        previous chunk). GSLs up: one entry per (step, endpoint, satellite), ``gsl_step``
        ascending; ``isl_range_km [T, L]`` NaN where the ISL is down."""
        if self._table is not None:
            raise RuntimeError("ContactLog.update after finish")
        times_s = np.ascontiguousarray(times_s, dtype=np.float64)
        n_t = times_s.shape[0]
        if n_t == 0:
            return
        step = np.ascontiguousarray(gsl_step, dtype=np.int64)
        endpoint = np.asarray(gsl_endpoint, dtype=np.int64)
        satellite = np.asarray(gsl_satellite, dtype=np.int64)
        range_km = np.ascontiguousarray(gsl_range_km, dtype=np.float64)
        rate = np.ascontiguousarray(gsl_rate_bps, dtype=np.float64)
        isl_range = np.ascontiguousarray(isl_range_km, dtype=np.float64)
        self._check(times_s, step, endpoint, satellite, range_km, rate, isl_range)
        key = endpoint * self.n_satellites + satellite
        offsets = np.searchsorted(step, np.arange(n_t + 1), side="left")
        per_step_max = int(np.diff(offsets).max())
        self._grow_slots(max(per_step_max, 1))
        next_active = np.empty(max(per_step_max, 1), dtype=np.int64)
        capacity = int(self._counters[1]) + len(key)  # each closure ends a carried or new window
        out_key = np.empty(capacity, dtype=np.int64)
        out_f = np.empty((capacity, 6))
        n = _gsl_chunk(
            times_s,
            self.step_s,
            self._steps,
            offsets,
            key,
            range_km,
            rate,
            self._open_slot,
            self._slot_acc,
            self._slot_int,
            self._free,
            self._counters,
            self._active,
            next_active,
            out_key,
            out_f,
        )
        self._closed["gsl"].append((out_key[:n].copy(), out_f[:n].copy()))
        # ISLs: closures are exactly the up → down transitions, counted up front.
        up = ~np.isnan(isl_range)
        before = np.concatenate([self._isl_open[None, :], up[:-1]], axis=0)
        n_close = int(np.count_nonzero(before & ~up))
        out_link = np.empty(n_close, dtype=np.int64)
        out_isl = np.empty((n_close, 6))
        n = _isl_chunk(
            times_s,
            self.step_s,
            isl_range,
            float(isl_rate_bps),
            self._isl_open,
            self._isl_acc,
            self._isl_count,
            out_link,
            out_isl,
        )
        self._closed["isl"].append((out_link[:n], out_isl[:n]))
        self._steps += n_t
        self._last_time_s = float(times_s[-1])

    def _check(self, times_s, step, endpoint, satellite, range_km, rate, isl_range) -> None:
        n_t, k = times_s.shape[0], step.shape[0]
        if not all(a.shape == (k,) for a in (endpoint, satellite, range_km, rate)):
            raise ValueError(
                "gsl_step, gsl_endpoint, gsl_satellite, gsl_range_km and gsl_rate_bps must be "
                "1-d arrays of the same length"
            )
        if isl_range.shape != (n_t, len(self.isl_pairs)):
            raise ValueError(
                f"isl_range_km has shape {isl_range.shape}; expected "
                f"({n_t}, {len(self.isl_pairs)}) = (steps, ISL pairs)"
            )
        if self._last_time_s is not None:
            expected = self._last_time_s + self.step_s
            if abs(times_s[0] - expected) > 1e-6 * self.step_s:
                raise ValueError(
                    f"chunks must be consecutive: this one starts at {times_s[0]} s, the "
                    f"previous one ended at {self._last_time_s} s (step {self.step_s} s)"
                )
        if k == 0:
            return
        if np.any(np.diff(step) < 0) or step[0] < 0 or step[-1] >= n_t:
            raise ValueError(f"gsl_step must be ascending step indices in 0..{n_t - 1}")
        if endpoint.min() < 0 or endpoint.max() >= self.n_endpoints:
            raise ValueError(f"gsl_endpoint must be in 0..{self.n_endpoints - 1}")
        if satellite.min() < 0 or satellite.max() >= self.n_satellites:
            raise ValueError(f"gsl_satellite must be in 0..{self.n_satellites - 1}")
        key = endpoint * self.n_satellites + satellite
        # Fresh marks for every call, so a call refused here does not spoil a retry.
        j = _first_repeat(self._marks_used, step, key, self._last_given)
        self._marks_used += n_t
        if j >= 0:
            raise ValueError(
                f"GSL (endpoint {endpoint[j]}, satellite {satellite[j]}) appears twice at step "
                f"{step[j]} of the chunk; give each link once per step"
            )

    def finish(self) -> ContactTable:
        """Close the windows still open (end = last up step + ``step_s``) and return all
        windows. Idempotent; ``update`` is refused afterwards."""
        if self._table is not None:
            return self._table
        n_active = int(self._counters[1])
        keys = self._active[:n_active]
        slots = self._open_slot[keys]
        gsl_open = self._open_rows(self._slot_acc[slots], self._slot_int[slots, 2])
        self._closed["gsl"].append((keys.copy(), gsl_open))
        links = np.flatnonzero(self._isl_open)
        self._closed["isl"].append(
            (links, self._open_rows(self._isl_acc[links], self._isl_count[links]))
        )
        gsl_key, gsl_f = (np.concatenate(x) for x in zip(*self._closed["gsl"], strict=True))
        isl_link, isl_f = (np.concatenate(x) for x in zip(*self._closed["isl"], strict=True))
        s = self.n_satellites
        kind = np.array(["gsl"] * len(gsl_key) + ["isl"] * len(isl_link), dtype="<U3")
        a = np.concatenate([s + gsl_key // max(s, 1), self.isl_pairs[isl_link, 0]])
        b = np.concatenate([gsl_key % max(s, 1), self.isl_pairs[isl_link, 1]])
        f = np.concatenate([gsl_f, isl_f])
        order = np.lexsort((b, a, kind, f[:, 0]))
        self._table = ContactTable(
            n_satellites=s,
            kind=kind[order],
            a_node=a[order].astype(np.int64),
            b_node=b[order].astype(np.int64),
            start_s=f[order, 0],
            end_s=f[order, 1],
            min_range_km=f[order, 2],
            mean_range_km=f[order, 3],
            max_range_km=f[order, 4],
            mean_rate_bps=f[order, 5],
        )
        return self._table

    def _open_rows(self, acc: np.ndarray, count: np.ndarray) -> np.ndarray:
        rows = np.empty((len(count), 6))
        rows[:, 0] = acc[:, _START]
        rows[:, 1] = acc[:, _LAST] + self.step_s
        rows[:, 2] = acc[:, _MIN_R]
        rows[:, 3] = acc[:, _SUM_R] / count
        rows[:, 4] = acc[:, _MAX_R]
        rows[:, 5] = acc[:, _SUM_RATE] / count
        return rows

    def write(
        self,
        folder: Path,
        endpoint_names: Sequence[str],
        satellite_names: Sequence[str] | None = None,
        start_utc: np.datetime64 | dt.datetime | None = None,
        table_format: TableFormat = "parquet",
    ) -> Path:
        """Write ``folder/contacts.parquet`` (or ``.csv``; ``CONTACT_COLUMNS``; calls
        ``finish``) atomically.

        ``start_utc`` (the run start) fills ``start_utc``/``end_utc``; they are null without
        it. Times in s to 1 µs, ranges in km to 1 mm, rates in bit/s.
        """
        table = contact_arrow_table(self.finish(), endpoint_names, satellite_names, start_utc)
        return write_table(folder, CONTACTS_STEM, table, table_format)


def contacts_file(run_dir: str | Path) -> Path | None:
    """The run's contact table (``contacts.parquet`` or ``contacts.csv``), or None."""
    return table_file(run_dir, CONTACTS_STEM)


def _utc_instants(start_utc: np.datetime64 | dt.datetime, seconds: np.ndarray) -> np.ndarray:
    if isinstance(start_utc, dt.datetime) and start_utc.tzinfo is not None:
        start_utc = start_utc.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(start_utc, "us") + np.round(seconds * 1e6).astype("timedelta64[us]")


def contact_arrow_table(
    table: ContactTable,
    endpoint_names: Sequence[str],
    satellite_names: Sequence[str] | None = None,
    start_utc: np.datetime64 | dt.datetime | None = None,
) -> pa.Table:
    """``table`` as Arrow columns ``CONTACT_COLUMNS`` (names, node ids, UTC times, seconds,
    ranges, rates).

    Built column-wise with pyarrow (a day of windows is ~10⁵–10⁶ rows; Python strings per
    cell would cost hundreds of MB). Times and ranges are rounded to 1 µs and 1 mm, rates to
    1 bit/s.
    """
    s = table.n_satellites
    sats = (
        [str(n) for n in satellite_names]
        if satellite_names is not None
        else [f"sat{i}" for i in range(s)]
    )
    labels = pa.array([*sats, *(str(n) for n in endpoint_names)], pa.string())
    if start_utc is None:
        start_time = end_time = pa.nulls(len(table), pa.timestamp("us"))
    else:
        start_time = pa.array(_utc_instants(start_utc, table.start_s), pa.timestamp("us"))
        end_time = pa.array(_utc_instants(start_utc, table.end_s), pa.timestamp("us"))
    columns = {
        "kind": pa.array(table.kind, pa.string()),
        "a": labels.take(pa.array(table.a_node)),
        "b": labels.take(pa.array(table.b_node)),
        "a_node": pa.array(table.a_node, pa.int64()),
        "b_node": pa.array(table.b_node, pa.int64()),
        "start_utc": start_time,
        "end_utc": end_time,
        "start_s": pa.array(np.round(table.start_s, 6), pa.float64()),
        "end_s": pa.array(np.round(table.end_s, 6), pa.float64()),
        "duration_s": pa.array(np.round(table.duration_s, 6), pa.float64()),
        "min_range_km": pa.array(np.round(table.min_range_km, 6), pa.float64()),
        "mean_range_km": pa.array(np.round(table.mean_range_km, 6), pa.float64()),
        "max_range_km": pa.array(np.round(table.max_range_km, 6), pa.float64()),
        "mean_rate_bps": pa.array(np.round(table.mean_rate_bps, 0), pa.float64()),
    }
    return pa.table({name: columns[name] for name in CONTACT_COLUMNS})
