"""Reducing large runs to what a plot needs, without loading the dataset.

Two steps, both stated in the report and in ``docs/report.md``:

1. **Across satellites, per shell** (``shell_reductions``): each ``[time, satellite]`` variable is
   read in blocks of whole time steps (about ``block_values`` numbers at a time, so memory does
   not grow with the run) and reduced, per shell, to the mean, minimum, maximum and sum over the
   shell's satellites (NaN, e.g. a failed propagation, is ignored). The result is ``[time]`` per
   shell.
2. **In time** (``bucket_envelope``): a series longer than ``max_points`` is cut into at most
   ``max_points`` consecutive buckets of equal length; each bucket keeps the mean of the means,
   the minimum of the minima and the maximum of the maxima. Extremes therefore survive the
   decimation (a brief eclipse dip or temperature peak stays visible in the band), while the
   line shows the average.

Ground tracks use a sample of satellites (``sample_satellites``), spread evenly over the
satellite index (hence over planes and shells), over a short window.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

DEFAULT_MAX_POINTS = 1500
"""Points per plotted series after decimation: enough for a laptop screen's width."""

DEFAULT_BLOCK_VALUES = 8_000_000
"""Numbers read at a time from a ``[time, satellite]`` variable (32 MB of float32)."""


@dataclass(frozen=True)
class Envelope:
    """A series reduced over satellites and buckets of time.

    Attributes
    ----------
    time : numpy.ndarray
        ``datetime64[ns]`` UTC start of each bucket, shape ``(n,)``.
    mean, minimum, maximum : numpy.ndarray
        Mean line and min/max band, shape ``(n,)``, in the variable's units.
    """

    time: np.ndarray
    mean: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    def scaled(self, factor: float, offset: float = 0.0) -> Envelope:
        """The same envelope in other units: ``value · factor + offset``."""
        return Envelope(
            self.time,
            self.mean * factor + offset,
            self.minimum * factor + offset,
            self.maximum * factor + offset,
        )


@dataclass(frozen=True)
class ShellReduction:
    """Reductions over the satellites of one shell, one value per time step.

    ``mean``, ``minimum``, ``maximum`` and ``total`` (sum) have shape ``(time,)`` and the units
    of the reduced variable; ``first`` is the series of the shell's first satellite (index
    ``first_index``), kept to show one orbit's cycle; ``satellites`` is the number of satellites
    in the shell.
    """

    mean: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    total: np.ndarray
    first: np.ndarray
    first_index: int
    satellites: int


def shell_labels(ds: xr.Dataset) -> np.ndarray:
    """Shell name of each satellite (the ``shell`` coordinate, or ``"all"`` if it is missing)."""
    if "shell" in ds.coords:
        return np.asarray(ds["shell"].values).astype(str)
    return np.full(ds.sizes["satellite"], "all")


def time_blocks(n_time: int, n_satellite: int, block_values: int) -> list[slice]:
    """Slices of whole time steps holding at most about ``block_values`` numbers each."""
    steps = max(1, block_values // max(1, n_satellite))
    return [slice(start, min(start + steps, n_time)) for start in range(0, n_time, steps)]


def shell_reductions(
    da: xr.DataArray,
    shells: np.ndarray,
    block_values: int = DEFAULT_BLOCK_VALUES,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, ShellReduction]:
    """Mean, min, max and sum over each shell's satellites of a ``[time, satellite]`` variable.

    Reads ``da`` in blocks of whole time steps (``time_blocks``), so peak memory is about
    ``block_values`` numbers whatever the run length. NaN values are ignored; a step where all of
    a shell's satellites are NaN gives NaN (and 0 for the sum).

    Parameters
    ----------
    da : xarray.DataArray
        Dims ``time`` × ``satellite`` (lazy is fine).
    shells : numpy.ndarray
        Shell name of each satellite, shape ``(satellite,)``.
    block_values : int
        Numbers read at a time.
    transform : callable, optional
        Applied to each block before reducing, e.g. ``lambda x: x == 1`` to count a flag.

    Returns
    -------
    dict
        Shell name → ``ShellReduction``, in order of first appearance.
    """
    da = da.transpose("time", "satellite")
    n_time, n_sat = da.shape
    names = list(dict.fromkeys(shells.tolist()))
    columns = {name: np.flatnonzero(shells == name) for name in names}
    out = {
        name: {k: np.empty(n_time) for k in ("mean", "minimum", "maximum", "total", "first")}
        for name in names
    }
    for block in time_blocks(n_time, n_sat, block_values):
        raw = np.asarray(da.isel(time=block).values)
        values = np.asarray(raw if transform is None else transform(raw), dtype=np.float64)
        for name, cols in columns.items():
            part = values if len(cols) == n_sat else values[:, cols]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps give NaN
                out[name]["mean"][block] = np.nanmean(part, axis=1)
                out[name]["minimum"][block] = np.nanmin(part, axis=1)
                out[name]["maximum"][block] = np.nanmax(part, axis=1)
            out[name]["total"][block] = np.nansum(part, axis=1)
            out[name]["first"][block] = values[:, cols[0]]
    return {
        name: ShellReduction(
            satellites=len(columns[name]), first_index=int(columns[name][0]), **arrays
        )
        for name, arrays in out.items()
    }


def bucket_envelope(
    time: np.ndarray,
    mean: np.ndarray,
    minimum: np.ndarray | None = None,
    maximum: np.ndarray | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
) -> Envelope:
    """Decimate a series to at most ``max_points`` buckets, keeping its extremes.

    Consecutive equal-length buckets of ``ceil(n / max_points)`` steps (the last may be
    shorter); each bucket gives its start time, the mean of ``mean``, the minimum of
    ``minimum`` and the maximum of ``maximum`` (``minimum``/``maximum`` default to ``mean``).
    A series of ``max_points`` or fewer is returned unchanged.
    """
    time = np.asarray(time)
    mean = np.asarray(mean, dtype=np.float64)
    lo = mean if minimum is None else np.asarray(minimum, dtype=np.float64)
    hi = mean if maximum is None else np.asarray(maximum, dtype=np.float64)
    n = mean.shape[0]
    if n <= max_points:
        return Envelope(time, mean, lo, hi)
    size = math.ceil(n / max_points)
    count = math.ceil(n / size)
    pad = count * size - n

    def blocks(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.full(pad, np.nan)]).reshape(count, size)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets stay NaN
        return Envelope(
            time[::size],
            np.nanmean(blocks(mean), axis=1),
            np.nanmin(blocks(lo), axis=1),
            np.nanmax(blocks(hi), axis=1),
        )


def sample_satellites(n_satellite: int, count: int) -> np.ndarray:
    """``count`` satellite indices spread evenly over ``0 .. n_satellite - 1`` (all if fewer)."""
    if n_satellite <= count:
        return np.arange(n_satellite)
    return np.unique(np.linspace(0, n_satellite - 1, count).round().astype(int))


def break_antimeridian(longitude_deg: np.ndarray, latitude_deg: np.ndarray) -> tuple:
    """Insert NaN where a track jumps across ±180° longitude, so maps draw no wrap-around line.

    Returns the new ``(longitude_deg, latitude_deg)`` arrays (1-D, NaN marks a gap).
    """
    lon = np.asarray(longitude_deg, dtype=np.float64)
    lat = np.asarray(latitude_deg, dtype=np.float64)
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lon, jumps, np.nan), np.insert(lat, jumps, np.nan)
