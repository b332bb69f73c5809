"""Decimation: per-shell reductions agree with xarray, bucketing keeps extremes and the budget."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from orbitgrid.report.decimate import (
    break_antimeridian,
    bucket_envelope,
    sample_satellites,
    shell_reductions,
    time_blocks,
)


def _dataset(n_time: int = 101, n_sat: int = 7) -> xr.Dataset:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(n_time, n_sat)).astype(np.float32)
    values[5, 2] = np.nan  # a failed propagation step
    shells = np.array(["a", "a", "b", "a", "b", "b", "c"])[:n_sat]
    return xr.Dataset(
        {"x": (("time", "satellite"), values)},
        coords={
            "time": np.arange(n_time).astype("datetime64[m]").astype("datetime64[ns]"),
            "shell": ("satellite", shells),
        },
    )


@pytest.mark.parametrize("block_values", [7, 50, 10_000])
def test_shell_reductions_match_xarray_groupby(block_values: int) -> None:
    """Independent reference: xarray's groupby over the ``shell`` coordinate."""
    ds = _dataset()
    got = shell_reductions(ds["x"], ds["shell"].values, block_values=block_values)
    grouped = ds["x"].astype(np.float64).groupby("shell")
    for name, func in (("mean", "mean"), ("minimum", "min"), ("maximum", "max"), ("total", "sum")):
        expected = getattr(grouped, func)("satellite", skipna=True)
        for shell in ("a", "b", "c"):
            np.testing.assert_allclose(
                getattr(got[shell], name), expected.sel(shell=shell).values, rtol=1e-12
            )
    assert [got[s].satellites for s in ("a", "b", "c")] == [3, 3, 1]


def test_time_blocks_cover_every_step_once() -> None:
    blocks = time_blocks(103, 10, 250)
    steps = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
    assert np.array_equal(steps, np.arange(103))
    assert all(b.stop - b.start <= 25 for b in blocks)


def test_bucket_envelope_keeps_extremes_within_budget() -> None:
    n = 100_003
    t = np.arange(n).astype("datetime64[s]")
    y = np.sin(np.linspace(0, 20 * np.pi, n))
    y[54_321] = 7.0  # one-step spike
    y[77_777] = -9.0  # one-step dip
    env = bucket_envelope(t, y, max_points=1000)
    assert len(env.time) <= 1000
    assert env.maximum.max() == 7.0 and env.minimum.min() == -9.0
    assert np.all(env.minimum <= env.mean) and np.all(env.mean <= env.maximum)
    assert env.time[0] == t[0]
    assert np.mean(env.mean) == pytest.approx(np.mean(y), abs=1e-3)


def test_short_series_are_untouched() -> None:
    t = np.arange(10).astype("datetime64[s]")
    y = np.arange(10.0)
    env = bucket_envelope(t, y, max_points=10)
    assert np.array_equal(env.mean, y) and np.array_equal(env.time, t)


def test_antimeridian_breaks_and_satellite_sample() -> None:
    lon, lat = break_antimeridian(np.array([170.0, 179.0, -179.0, -170.0]), np.zeros(4))
    assert np.isnan(lon[2]) and len(lon) == 5 and np.isnan(lat[2])
    assert list(sample_satellites(5, 10)) == [0, 1, 2, 3, 4]
    picked = sample_satellites(1584, 6)
    assert len(picked) == 6 and picked[0] == 0 and picked[-1] == 1583
