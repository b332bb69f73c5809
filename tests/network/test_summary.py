"""Streaming per-pair statistics: histogram percentiles against numpy's exact ones."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.summary import PairStatistics, RttHistogram, routing_summary


def _exact(values: np.ndarray, percents=(50.0, 95.0, 99.0)) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(values, percents, axis=0)


def test_histogram_percentiles_within_stated_relative_error():
    """p50/p95/p99 from the log histogram are within its relative error bound (√γ − 1 ≈ 0.1 %)
    of np.nanpercentile (linear) on RTT-like data with NaN gaps, an all-NaN column and a
    column with one value; chunking the input does not change the result."""
    rng = np.random.default_rng(3)
    values = rng.lognormal(np.log(40.0), 0.4, size=(5000, 6))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:, 0] = np.nan
    values[:, 1] = np.nan
    values[17, 1] = 42.0
    whole = RttHistogram(6)
    whole.add(values)
    chunked = RttHistogram(6)
    for part in np.array_split(values, 7):
        chunked.add(part)
    got = whole.percentiles()
    np.testing.assert_array_equal(got, chunked.percentiles())
    expected = _exact(values)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    assert whole.relative_error < 0.0011
    np.testing.assert_allclose(got[ok], expected[ok], rtol=whole.relative_error)
    assert got[0, 1] == 42.0  # clamped to the exact extremes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=2.0, max_value=800.0), min_size=1, max_size=200),
    st.sampled_from([0.0, 1.0, 50.0, 95.0, 99.0, 100.0]),
)
def test_any_percentile_within_bound(samples, percent):
    """Property: for any sample and percentile, |histogram − exact| ≤ relative error × exact."""
    values = np.array(samples)[:, None]
    hist = RttHistogram(1)
    hist.add(values)
    got = hist.percentiles((percent,))[0, 0]
    exact = np.percentile(values[:, 0], percent)
    assert abs(got - exact) <= hist.relative_error * exact * (1 + 1e-12)


def test_memory_budget_coarsens_bins():
    """Many pairs: the bins widen so the table fits the budget, and the bound says so."""
    small = RttHistogram(10)
    many = RttHistogram(200_000, memory_budget_bytes=64 * 2**20)
    assert many.counts.nbytes <= 64 * 2**20
    assert many.relative_error > small.relative_error


def _endpoints(n: int) -> EndpointTable:
    lat = np.linspace(-40, 50, n)
    lon = np.linspace(-120, 140, n)
    names = np.array([f"E{i}" for i in range(n)])
    return EndpointTable(
        name=names,
        kind=np.array(["user_terminal"] * n),
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_km=np.zeros(n),
        min_elevation_deg=np.full(n, 25.0),
        max_range_km=np.full(n, np.inf),
        jurisdiction=np.array([""] * n),
    )


def test_pair_statistics_stream_equals_one_pass():
    """Folding chunks gives the same figures as one pass; reachability and the fibre
    comparison count every step, unreachable ones included."""
    rng = np.random.default_rng(5)
    eps = _endpoints(4)
    rtt = rng.uniform(20.0, 200.0, size=(300, 4, 4))
    rtt = (rtt + rtt.transpose(0, 2, 1)) / 2
    rtt[rng.random(rtt.shape) < 0.1] = np.nan
    rtt = np.fmax(rtt, rtt.transpose(0, 2, 1))  # symmetric NaN pattern as the router gives
    changed = rng.random(rtt.shape) < 0.05
    rate = rng.uniform(1e8, 1e9, size=rtt.shape)
    one = routing_summary(rtt, changed, eps, path_rate_bps=rate)
    stream = PairStatistics(eps)
    for lo in range(0, 300, 70):
        stream.update(rtt[lo : lo + 70], changed[lo : lo + 70], rate[lo : lo + 70])
    two = stream.dataset()
    for key in one.data_vars:
        np.testing.assert_allclose(one[key].values, two[key].values, rtol=1e-12, err_msg=key)
    reach = np.mean(~np.isnan(rtt[:, 0, 1]))
    assert float(one["reachability"].sel(src="E0", dst="E1")) == reach
    assert np.isnan(one["rtt_p50_ms"].values[0, 0])  # the diagonal is not a pair
    fibre = float(one["fibre_rtt_ms"].sel(src="E0", dst="E1"))
    beats = np.mean(np.nan_to_num(rtt[:, 0, 1], nan=np.inf) < fibre)
    assert float(one["space_beats_fibre_fraction"].sel(src="E0", dst="E1")) == beats


def test_rate_figures_are_nan_without_rates():
    """Reachable steps without a path rate (the scipy backend gives none) leave the rate
    figures NaN, not 0; RTTs above 4 s stay in range when per-hop delays are long."""
    eps = _endpoints(3)
    rtt = np.full((50, 3, 3), 30.0)
    stats = PairStatistics(eps)
    stats.update(rtt, None, np.full(rtt.shape, np.nan))
    ds = stats.dataset()
    assert np.isnan(ds["path_rate_mean_mbps"].values).all()
    slow = PairStatistics(eps, per_hop_delay_ms=1000.0)
    long_rtt = np.linspace(4100.0, 9000.0, 101)[:, None, None] * np.ones((1, 3, 3))
    slow.update(long_rtt)
    p50 = float(slow.dataset()["rtt_p50_ms"].values[0, 1])
    assert abs(p50 - 6550.0) <= slow.histogram.relative_error * 6550.0


def test_hop_statistics_cover_every_pair_and_every_step():
    """hops_mean/p50/p95/max per pair equal numpy over every reachable step (lower
    percentiles: a hop count that occurred), for all pairs; a pair never reached gets NaN.
    Fed in two chunks, as the network stage does."""
    rng = np.random.default_rng(3)
    n, steps = 5, 400
    hops = rng.integers(1, 30, size=(steps, n, n)).astype(np.int16)
    hops[rng.random((steps, n, n)) < 0.1] = -1  # unreachable steps are skipped
    hops[:, 0, 4] = -1  # never reached
    rtt = np.where(hops >= 0, 20.0, np.nan)
    stats = PairStatistics(_endpoints(n))
    stats.update(rtt[:150], hop_count=hops[:150])
    stats.update(rtt[150:], hop_count=hops[150:])
    ds = stats.dataset()
    for i, j in zip(*np.triu_indices(n, k=1), strict=True):
        seen = np.sort(hops[:, i, j][hops[:, i, j] >= 0]).astype(float)
        got = {k: float(ds[k].values[i, j]) for k in ("hops_mean", "hops_p50", "hops_p95")}
        if seen.size == 0:
            assert all(np.isnan(v) for v in got.values())
            assert np.isnan(ds["hops_max"].values[i, j])
            continue
        assert got["hops_mean"] == np.mean(seen)
        assert got["hops_p50"] == np.percentile(seen, 50, method="inverted_cdf")
        assert got["hops_p95"] == np.percentile(seen, 95, method="inverted_cdf")
        assert ds["hops_max"].values[i, j] == seen.max()
        assert ds["hops_p50"].values[j, i] == got["hops_p50"]  # symmetric
