"""Which window of a run a CZML scene shows, and the satellite positions sampled for it.

Cesium draws a satellite between its position samples with Lagrange interpolation (degree
``LAGRANGE_DEGREE`` over the samples around the time). A polynomial through samples taken
every Δt follows an orbit of angular rate ω only if ω·Δt is small: the interpolation error of
a circle of radius r is about r·(ωΔt)⁶·c/720 with c ≈ 3.5 between central samples and ≈ 7.4
at the ends of the samples. With ``SAMPLES_PER_ORBIT`` = 24 (ωΔt = 2π/24) that is ≈ 20 m at
LEO, well inside the 1 km the scene promises; Earth rotation (the samples are Earth-fixed) adds
a slower term of the same kind. The run's stored dataset is usually much sparser (the flagship
keeps one snapshot an hour, longer than an orbit), so the scene does not use it: positions are
propagated again from the run's scenario (``scenario.input.yaml``) with the engine's own orbit
stage (J2 for designed shells, SGP4 for element sets), at the scene's sample times, and
converted to WGS84 geodetic coordinates as the dataset's sub-points are.

The samples are bounded (``max_total_samples`` over all satellites, about 40 bytes each in
CZML), so a scene covers a window of the run: by default from the run's start, as long as the
run, ``DEFAULT_SCENE_S`` and the sample budget allow; ``start`` and ``duration_s`` choose
another window, and a window the budget cannot sample densely enough is refused with the
longest one it can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from orbitgrid.errors import OrbitgridError
from orbitgrid.report import formats

LAGRANGE_DEGREE = 5
"""Interpolation degree written into the CZML (Cesium uses degree + 1 samples)."""

SAMPLES_PER_ORBIT = 24
"""Position samples per orbit of the fastest satellite (see the module docstring)."""

MIN_SAMPLES = 2 * (LAGRANGE_DEGREE + 1)
"""Samples per satellite at least, so a short scene still gets full-degree windows."""

DEFAULT_SCENE_S = 86400.0
"""Longest default window: a day plays in 24 min at the scene's 60× clock."""

SCENARIO_FILE = "scenario.input.yaml"


@dataclass(frozen=True)
class SceneWindow:
    """The part of a run a scene shows and how densely it samples it.

    ``times_utc`` are the sample times (datetime64[ns], first = window start, last = window
    end); ``run_start``/``run_end`` the run's first and last step, for messages.
    """

    times_utc: np.ndarray
    step_s: float
    run_start: np.datetime64
    run_end: np.datetime64

    @property
    def seconds(self) -> np.ndarray:
        """Sample times in seconds from the window start (k · ``step_s``, unrounded)."""
        return np.arange(len(self.times_utc)) * self.step_s

    @property
    def start(self) -> np.datetime64:
        return self.times_utc[0]

    @property
    def end(self) -> np.datetime64:
        return self.times_utc[-1]

    @property
    def duration_s(self) -> float:
        return float((self.end - self.start) / np.timedelta64(1, "s"))

    @property
    def whole_run(self) -> bool:
        return bool(self.start == self.run_start and self.end == self.run_end)

    def describe(self) -> str:
        """One sentence: which window, out of which run, and how to choose another."""
        text = (
            f"{_iso(self.start)} to {_iso(self.end)} ({formats.duration(self.duration_s)}), "
            f"a sample every {self.step_s:.0f} s"
        )
        if self.whole_run:
            return text + ", the whole run"
        run_s = float((self.run_end - self.run_start) / np.timedelta64(1, "s"))
        return (
            f"{text}, of a run of {formats.duration(run_s)} from {_iso(self.run_start)} "
            "(choose another window with --start and --duration)"
        )


def _iso(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="s")) + "Z"


def sample_step_s(orbital_period_s: np.ndarray) -> float:
    """Sample spacing, s: ``SAMPLES_PER_ORBIT`` per orbit of the satellite with the shortest
    period (NaN periods, e.g. decayed element sets, are ignored)."""
    periods = np.asarray(orbital_period_s, dtype=np.float64)
    periods = periods[np.isfinite(periods) & (periods > 0)]
    if periods.size == 0:
        raise OrbitgridError("no satellite of the run has a valid orbital period to sample")
    return float(periods.min()) / SAMPLES_PER_ORBIT


def choose_window(
    run_times_utc: np.ndarray,
    orbital_period_s: np.ndarray,
    max_total_samples: int,
    start: np.datetime64 | None = None,
    duration_s: float | None = None,
) -> SceneWindow:
    """The scene window (see the module docstring) and its sample times.

    Raises ``OrbitgridError`` when ``start`` lies outside the run, the window would end after
    the run, or the window needs more samples than ``max_total_samples`` allows (the message
    gives the longest window that fits).
    """
    n_sat = len(orbital_period_s)
    run_start, run_end = run_times_utc[0], run_times_utc[-1]
    run_s = float((run_end - run_start) / np.timedelta64(1, "s"))
    step_s = sample_step_s(orbital_period_s)
    per_satellite = max(MIN_SAMPLES, max_total_samples // max(1, n_sat))
    budget_s = (per_satellite - 1) * step_s
    begin = run_start if start is None else np.datetime64(start, "ns")
    if not run_start <= begin <= run_end:
        raise OrbitgridError(
            f"scene start {_iso(begin)} is outside the run ({_iso(run_start)} to "
            f"{_iso(run_end)}); choose --start within it"
        )
    left_s = float((run_end - begin) / np.timedelta64(1, "s"))
    if duration_s is None:
        length_s = min(left_s, DEFAULT_SCENE_S, budget_s)
    else:
        if duration_s <= 0:
            raise OrbitgridError(f"scene duration must be positive, got {duration_s:g} s")
        if duration_s > left_s + 1e-6:
            raise OrbitgridError(
                f"a scene of {formats.duration(duration_s)} from {_iso(begin)} ends after the "
                f"run ({_iso(run_end)}); at most {formats.duration(left_s)} from there"
            )
        if duration_s > budget_s + 1e-6:
            raise OrbitgridError(
                f"a scene of {formats.duration(duration_s)} for {n_sat:,} satellites needs "
                f"{math.ceil(duration_s / step_s) + 1:,} samples each (one every "
                f"{step_s:.0f} s keeps them within 1 km of their orbits), more than the "
                f"{per_satellite:,} the cap of {max_total_samples:,} samples allows; choose "
                f"--duration of at most {formats.duration(budget_s)}"
            )
        length_s = duration_s
    if run_s == 0 or length_s <= 0:
        return SceneWindow(np.array([begin]), step_s, run_start, run_end)
    count = max(MIN_SAMPLES - 1, math.ceil(length_s / step_s - 1e-9))
    # The window ends on a whole millisecond (CZML times are ISO strings); samples are evenly
    # spaced in between, as the orbit stage's fixed step needs.
    length_s = round(length_s, 3)
    offsets_ns = np.round(np.arange(count + 1) * (length_s / count) * 1e9).astype(np.int64)
    times = begin + offsets_ns.astype("timedelta64[ns]")
    return SceneWindow(times, length_s / count, run_start, run_end)


def load_run_plan(run_path: Path):
    """The plan of the run's scenario (``scenario.input.yaml``), for propagating it again."""
    from orbitgrid.plan import build_plan
    from orbitgrid.scenario import load_scenario

    source = run_path / SCENARIO_FILE
    if not source.is_file():
        raise OrbitgridError(
            f"{run_path} has no {SCENARIO_FILE}: the scene propagates the satellites again "
            "from the run's scenario, and runs written by `orbitgrid run` keep it there"
        )
    return build_plan(load_scenario(source))


def geodetic_positions(plan, times_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude (°), longitude (°) and height (km) of every satellite at ``times_utc``
    (evenly spaced), [time, satellite], by the engine's orbit stage and sub-point conversion.
    NaN where a propagation failed."""
    from orbitgrid.contract import Workspace
    from orbitgrid.orbits.frames import ecef_to_geodetic, inertial_to_ecef_km
    from orbitgrid.orbits.stages import OrbitStage
    from orbitgrid.orbits.timescale import gmst_rad, julian_date_split

    whole, fraction = julian_date_split(times_utc)
    step_s = (
        float((times_utc[1] - times_utc[0]) / np.timedelta64(1, "s")) if len(times_utc) > 1 else 0
    )
    # The orbit stage reads only these fields of a chunk; t0_s is from the run's start, where
    # the designed shells' elements are defined.
    chunk = SimpleNamespace(
        step_count=len(times_utc),
        step_s=step_s,
        t0_s=float((times_utc[0] - plan.times_utc[0]) / np.timedelta64(1, "s")),
        times_utc=times_utc,
        jd_whole=whole,
        jd_fraction=fraction,
        workspace=Workspace(),
    )
    arrays, _ = OrbitStage()(plan, chunk, {}, None)
    position_km = np.where(arrays["orbit_status"][..., None] == 0, arrays["position_km"], np.nan)
    ecef = inertial_to_ecef_km(position_km, gmst_rad(whole, fraction))
    return ecef_to_geodetic(ecef)
