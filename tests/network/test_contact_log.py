"""Streaming contact log: equal to windows_from_mask on the whole run, whatever the chunking."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from orbitgrid.network.contact_log import CONTACT_COLUMNS, ContactLog
from orbitgrid.network.contacts import windows_from_mask

STEP_S = 10.0


def _random_run(seed: int, n_t=240, n_ep=4, n_sat=9, n_isl=7, p_gsl=0.4, p_isl=0.8):
    rng = np.random.default_rng(seed)

    # Runs of up/down of varied length: a two-state Markov chain per link, dense enough for
    # windows that span chunk edges and windows of a single step.
    def markov(shape, p_up):
        up = np.empty(shape, dtype=bool)
        up[0] = rng.random(shape[1:]) < p_up
        stay = rng.random(shape) < 0.8
        for t in range(1, shape[0]):
            up[t] = np.where(stay[t], up[t - 1], rng.random(shape[1:]) < p_up)
        return up

    gsl_up = markov((n_t, n_ep, n_sat), p_gsl)
    gsl_range = rng.uniform(500.0, 2000.0, (n_t, n_ep, n_sat))
    gsl_rate = rng.uniform(1e8, 1e9, (n_t, n_ep, n_sat))
    isl_up = markov((n_t, n_isl), p_isl)
    isl_range = rng.uniform(1000.0, 5000.0, (n_t, n_isl))
    pairs = np.array([[0, 1], [1, 2], [2, 3], [0, 3], [4, 5], [5, 8], [6, 7]], dtype=np.int64)[
        :n_isl
    ]
    times = 1000.0 + np.arange(n_t) * STEP_S
    return times, gsl_up, gsl_range, gsl_rate, isl_up, isl_range, pairs


def _feed(log, times, gsl_up, gsl_range, gsl_rate, isl_up, isl_range, sizes, shuffle_rng=None):
    at = 0
    for size in sizes:
        sl = slice(at, at + size)
        step, ep, sat = np.nonzero(gsl_up[sl])
        if shuffle_rng is not None:  # any order within a step
            order = np.lexsort((shuffle_rng.random(len(step)), step))
            step, ep, sat = step[order], ep[order], sat[order]
        log.update(
            times[sl],
            step,
            ep,
            sat,
            gsl_range[sl][step, ep, sat],
            gsl_rate[sl][step, ep, sat],
            np.where(isl_up[sl], isl_range[sl], np.nan),
            isl_rate_bps=1e11,
        )
        at += size
    assert at == len(times)
    return log.finish()


def _reference(times, gsl_up, gsl_range, gsl_rate, isl_up, isl_range, pairs):
    n_t, _, n_sat = gsl_up.shape
    g = windows_from_mask(
        gsl_up.reshape(n_t, -1),
        gsl_range.reshape(n_t, -1),
        times,
        STEP_S,
        gsl_rate.reshape(n_t, -1),
    )
    i = windows_from_mask(isl_up, isl_range, times, STEP_S, 1e11)
    rows = []
    for w, a, b, kind in (
        (g, n_sat + g.link // n_sat, g.link % n_sat, "gsl"),
        (i, pairs[i.link, 0], pairs[i.link, 1], "isl"),
    ):
        for k in range(len(w)):
            rows.append(
                (
                    w.start_s[k],
                    kind,
                    int(a[k]),
                    int(b[k]),
                    w.end_s[k],
                    w.min_range_km[k],
                    w.mean_range_km[k],
                    w.max_range_km[k],
                    w.rate_bps[k],
                )
            )
    return sorted(rows)


@pytest.mark.parametrize(
    ("seed", "sizes"),
    [
        (0, [240]),
        (1, [1, 1, 37, 100, 1, 100]),
        (2, [17, 3, 60, 60, 99, 1]),
        (3, [120, 120]),
    ],
)
def test_equals_windows_from_mask_for_any_chunking(seed, sizes):
    run = _random_run(seed)
    times, gsl_up, gsl_range, gsl_rate, isl_up, isl_range, pairs = run
    _, n_ep, n_sat = gsl_up.shape
    log = ContactLog(n_sat, n_ep, pairs, STEP_S)
    table = _feed(
        log,
        times,
        gsl_up,
        gsl_range,
        gsl_rate,
        isl_up,
        isl_range,
        sizes,
        np.random.default_rng(seed),
    )
    expected = _reference(*run)
    assert len(table) == len(expected) > 200
    got = list(
        zip(
            table.start_s,
            table.kind,
            table.a_node.tolist(),
            table.b_node.tolist(),
            table.end_s,
            table.min_range_km,
            table.mean_range_km,
            table.max_range_km,
            table.mean_rate_bps,
            strict=True,
        )
    )
    for g, e in zip(got, expected, strict=True):
        assert g[:5] == e[:5]  # start, kind, nodes, end: exact
        np.testing.assert_allclose(g[5:8], e[5:8], rtol=0, atol=1e-9)
        np.testing.assert_allclose(g[8], e[8], rtol=1e-12)
    # Ordered by start, windows crossing chunk edges are single windows.
    assert np.all(np.diff(table.start_s) >= 0)
    assert log.finish() is table


def test_windows_open_at_the_end_and_single_steps():
    log = ContactLog(2, 1, np.array([[0, 1]]), 1.0)
    log.update(
        np.array([0.0, 1.0, 2.0]),
        np.array([0, 2]),
        np.array([0, 0]),
        np.array([1, 1]),
        np.array([700.0, 900.0]),
        np.array([1e9, 2e9]),
        np.array([[np.nan], [4000.0], [4100.0]]),
        1e11,
    )
    log.update(
        np.array([3.0]),
        np.array([0]),
        np.array([0]),
        np.array([1]),
        np.array([800.0]),
        np.array([1e9]),
        np.array([[np.nan]]),
        1e11,
    )
    t = log.finish()
    assert t.kind.tolist() == ["gsl", "isl", "gsl"]
    assert t.start_s.tolist() == [0.0, 1.0, 2.0] and t.end_s.tolist() == [1.0, 3.0, 4.0]
    assert t.a_node.tolist() == [2, 0, 2] and t.b_node.tolist() == [1, 1, 1]
    assert t.mean_range_km[2] == 850.0 and t.min_range_km[2] == 800.0
    assert t.mean_rate_bps[2] == 1.5e9 and t.max_range_km[1] == 4100.0
    assert repr(t) == "ContactTable(2 GSL and 1 ISL windows)"
    with pytest.raises(RuntimeError, match="after finish"):
        log.update(np.array([4.0]), *[np.zeros(0)] * 5, np.zeros((1, 1)), 1.0)


def test_input_errors():
    log = ContactLog(3, 2, np.zeros((0, 2)), 10.0)
    empty = [np.zeros(0, np.int64)] * 3 + [np.zeros(0)] * 2
    log.update(np.array([0.0, 10.0]), *empty, np.zeros((2, 0)), 1.0)
    with pytest.raises(ValueError, match="chunks must be consecutive"):
        log.update(np.array([30.0]), *empty, np.zeros((1, 0)), 1.0)
    with pytest.raises(ValueError, match="isl_range_km has shape"):
        log.update(np.array([20.0]), *empty, np.zeros((1, 4)), 1.0)
    one = (np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="gsl_step must be ascending"):
        log.update(np.array([20.0]), [1], [0], [0], *one, np.zeros((1, 0)), 1.0)
    with pytest.raises(ValueError, match=r"gsl_satellite must be in 0\.\.2"):
        log.update(np.array([20.0]), [0], [0], [3], *one, np.zeros((1, 0)), 1.0)
    two = (np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    repeated = r"GSL \(endpoint 1, satellite 2\) appears twice at step 0"
    with pytest.raises(ValueError, match=repeated):
        log.update(np.array([20.0]), [0, 0], [1, 1], [2, 2], *two, np.zeros((1, 0)), 1.0)
    # A refused chunk changes nothing: the corrected one is accepted.
    log.update(np.array([20.0]), [0], [1], [2], *one, np.zeros((1, 0)), 1.0)
    assert log.finish().end_s.tolist() == [30.0]


def test_sparse_gsls_among_a_million_pairs():
    """1,000 endpoints × 1,000 satellites, ~1,000 links up per step: state stays O(links)."""
    import time

    rng = np.random.default_rng(5)
    n_ep = n_sat = 1000
    log = ContactLog(n_sat, n_ep, np.zeros((0, 2)), 1.0)
    # Each endpoint keeps one satellite for 60 s at a time, switching at its own phase.
    phase = rng.integers(0, 60, n_ep)
    started = time.perf_counter()
    for chunk in range(10):
        t = chunk * 120 + np.arange(120)
        step = np.repeat(np.arange(120), n_ep)
        ep = np.tile(np.arange(n_ep), 120)
        sat = ((t[step] + phase[ep]) // 60 * 7 + ep) % n_sat
        log.update(
            t.astype(float),
            step,
            ep,
            sat,
            np.full(len(step), 900.0),
            np.full(len(step), 1e9),
            np.zeros((120, 0)),
            0.0,
        )
    table = log.finish()
    assert time.perf_counter() - started < 20.0
    # Every endpoint: one window per 60 s period touched (first and last cut by the run edges).
    assert len(table) == n_ep * 21 - int(np.count_nonzero(phase == 0))
    assert table.duration_s.sum() == 1200.0 * n_ep


def _two_window_log() -> ContactLog:
    log = ContactLog(2, 1, np.array([[0, 1]]), 1.0)
    log.update(
        np.array([0.0, 1.0]),
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([1, 1]),
        np.array([700.0, 900.0]),
        np.array([1e9, 1e9]),
        np.array([[4000.0], [np.nan]]),
        1e11,
    )
    return log


def test_write_csv(tmp_path):
    log = _two_window_log()
    start = np.datetime64("2027-01-01")
    path = log.write(tmp_path, ["Paris"], ["STARLINK-1", "STARLINK-2"], start, "csv")
    assert path == tmp_path / "contacts.csv" and not (tmp_path / "contacts.csv.partial").exists()
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CONTACT_COLUMNS
    gsl = rows[0] if rows[0]["kind"] == "gsl" else rows[1]
    assert gsl["a"] == "Paris" and gsl["b"] == "STARLINK-2"
    assert (gsl["a_node"], gsl["b_node"]) == ("2", "1")
    assert gsl["start_utc"] == "2027-01-01T00:00:00" and gsl["end_utc"] == "2027-01-01T00:00:02"
    assert float(gsl["mean_range_km"]) == 800.0 and float(gsl["duration_s"]) == 2.0
    assert float(gsl["mean_rate_bps"]) == 1e9
    isl = rows[1] if gsl is rows[0] else rows[0]
    assert (isl["a"], isl["b"], float(isl["end_s"])) == ("STARLINK-1", "STARLINK-2", 1.0)


def test_parquet_is_the_default_and_holds_what_the_csv_holds(tmp_path):
    """contacts.parquet (the default) has typed columns (UTC timestamps, integer node ids) and
    the same values as contacts.csv read back through ``tables.read_table``."""
    import pyarrow as pa

    from orbitgrid.network.contact_log import CONTACT_TEXT_TYPES, CONTACT_TIMES
    from orbitgrid.network.tables import read_table

    start = np.datetime64("2027-01-01")
    names = (["Paris"], ["STARLINK-1", "STARLINK-2"])
    (tmp_path / "p").mkdir()
    (tmp_path / "c").mkdir()
    parquet = _two_window_log().write(tmp_path / "p", *names, start)
    text = _two_window_log().write(tmp_path / "c", *names, start, "csv")
    assert parquet == tmp_path / "p" / "contacts.parquet"
    table = read_table(parquet)
    assert table.schema.field("start_utc").type == pa.timestamp("us")
    assert table.schema.field("a_node").type == pa.int64()
    assert table["start_utc"].to_pylist()[0].isoformat() == "2027-01-01T00:00:00"
    back = read_table(text, timestamps=CONTACT_TIMES, types=CONTACT_TEXT_TYPES)
    assert back.cast(table.schema).equals(table)
