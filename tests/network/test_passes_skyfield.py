"""Ground-station passes of a 500 km sun-synchronous satellite from a whole orbitgrid run,
against skyfield; and the per-pass volume of a Dove-like downlink against Planet's figure.

The satellite is a TLE written here (500 km sun-synchronous: i = 97.40°, n = 15.22 rev/day,
epoch 2019-12-09 12:00 UTC), so both sides run SGP4 on the same elements. orbitgrid's passes
are the downlink contacts of the run's ``contacts.parquet`` (``read_contact_plan``): the whole
chain of a scenario with a ``type: tle`` shell and a ``network:`` section (SGP4 → TEME → GMST
rotation → GSL search on the WGS72 station → streaming contact log), 10 s steps, 4 days, two
stations — Redu (50.00° N, mid-latitude) and Svalbard (78.23° N, high latitude) — each with a
5° and a 10° elevation mask.

Reference: skyfield 1.55 ``EarthSatellite.find_events(wgs84.latlon(...), t0, t1,
altitude_degrees=mask)`` with its built-in timescale (no download): its own SGP4 wrapper,
TEME → ITRS with UT1, WGS84 station. Tolerance: the same number of passes; a window
``[start, end)`` is sample-and-hold on the 10 s grid (first up step, last up step + step), so
start ∈ [rise − δ, rise + step + δ] and end ∈ [set − δ, set + step + δ], with δ = 0.5 s for
what orbitgrid's frames simplify (UTC for UT1: UT1 − UTC = −0.17 s on this date, IERS
Bulletin A, ≈ 0.1 s of pass timing; WGS72 vs WGS84 site, metres); durations within
step + 2δ. Measured over 4 days (docs/cgr.md): mask crossings ≤ 0.19 s from skyfield's, no
edge outside the sample-and-hold bracket, durations mean |Δ| 2.7–3.9 s, largest 9.8 s.
"""

from __future__ import annotations

import numpy as np
import pytest
from sgp4.io import fix_checksum
from skyfield.api import EarthSatellite, load, wgs84

import orbitgrid
from orbitgrid.constants import WGS72
from orbitgrid.network.contact_plan import read_contact_plan
from orbitgrid.network.geometry import (
    elevation_deg,
    geodetic_to_ecef_km,
    inertial_to_ecef_km,
    local_up_unit,
)
from orbitgrid.orbits.elements import parse_elements
from orbitgrid.orbits.sgp4_propagation import propagate_teme
from orbitgrid.orbits.timescale import gmst_rad, julian_date_split
from tests.conftest import small_scenario_dict

TLE = (
    fix_checksum("1 90002U 19343A   19343.50000000  .00000000  00000-0  00000-0 0  999"),
    fix_checksum("2 90002  97.4000 120.0000 0001000   0.0000   0.0000 15.22000000    1"),
)
START = (2019, 12, 9, 12, 0, 0)
DAYS = 4
STEP_S = 10.0
DELTA_S = 0.5  # frame simplifications (UT1, ellipsoid); module docstring
SITES = {  # name: (latitude deg, longitude deg, height km)
    "Redu": (50.00, 5.15, 0.37),
    "Svalbard": (78.23, 15.39, 0.50),
}
MASKS_DEG = (5.0, 10.0)
DOVE_RATE_BPS = 200e6


@pytest.fixture(scope="module")
def run_plan(tmp_path_factory):
    """The downlink contact plan of one run: every site × mask as its own ground station."""
    folder = tmp_path_factory.mktemp("sso_passes")
    (folder / "sso500.tle").write_text("\n".join(TLE) + "\n")
    data = small_scenario_dict()
    data["time"] = {"start": "2019-12-09T12:00:00Z", "duration": f"{DAYS} d", "step": "10 s"}
    data["constellation"] = [
        {"type": "tle", "name": "sso", "file": "sso500.tle", "spacecraft": "node"}
    ]
    data["network"] = {
        "endpoints": [
            {
                "name": f"{name}-{mask:g}deg",
                "kind": "ground_station",
                "latitude": lat,
                "longitude": lon,
                "altitude": f"{h_km} km",
                "min_elevation": f"{mask} deg",
            }
            for name, (lat, lon, h_km) in SITES.items()
            for mask in MASKS_DEG
        ],
        "isl": {"pattern": "none"},
        "gsl": {"rate": f"{DOVE_RATE_BPS / 1e6:g} Mbps"},
    }
    data["output"] = {"dataset": False}
    run_dir = folder / "run"
    orbitgrid.run(orbitgrid.scenario_from_dict(data, base_dir=folder), out_dir=run_dir)
    return read_contact_plan(run_dir, gsl_direction="down")


def _station_windows(plan, station: str):
    mine = plan.to_node == plan.node_index(station)
    order = np.argsort(plan.start_s[mine])
    return plan.start_s[mine][order], plan.end_s[mine][order]


def _skyfield_events(site: str, mask_deg: float):
    ts = load.timescale(builtin=True)
    t0 = ts.utc(*START)
    t1 = ts.utc(*START[:5], START[5] + DAYS * 86400.0)
    lat, lon, h_km = SITES[site]
    satellite = EarthSatellite(*TLE, ts=ts)
    when, event = satellite.find_events(
        wgs84.latlon(lat, lon, elevation_m=h_km * 1e3), t0, t1, altitude_degrees=mask_deg
    )
    return t0, when, event


def skyfield_passes(site: str, mask_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Rise and set times (s from the run start) of skyfield's passes above ``mask_deg``; a
    pass cut by the run's start (end) gets rise −step (set = the run's end), which the
    sample-and-hold bounds then accept for the window starting at 0 s (ending at the end)."""
    t0, when, event = _skyfield_events(site, mask_deg)
    offset_s = (when.tt - t0.tt) * 86400.0
    rises, sets = offset_s[event == 0], offset_s[event == 2]
    if len(sets) and (not len(rises) or sets[0] < rises[0]):
        rises = np.concatenate([[-STEP_S], rises])
    if len(rises) > len(sets):
        sets = np.concatenate([sets, [DAYS * 86400.0]])
    return rises, sets


def pass_errors(plan, site: str, mask_deg: float) -> dict[str, float]:
    """Window edges against skyfield's rise/set: how far outside the sample-and-hold bracket
    (s, 0 when inside) and the duration difference (s) of passes not cut by the run's ends."""
    start, end = _station_windows(plan, f"{site}-{mask_deg:g}deg")
    rises, sets = skyfield_passes(site, mask_deg)
    assert len(start) == len(rises), (site, mask_deg, len(start), len(rises))
    excess = np.concatenate(
        [
            np.maximum(rises - start, 0.0),
            np.maximum(start - (rises + STEP_S), 0.0),
            np.maximum(sets - end, 0.0),
            np.maximum(end - (sets + STEP_S), 0.0),
        ]
    )
    whole = (rises > 0) & (sets < DAYS * 86400.0)
    dur_error = (end - start)[whole] - (sets - rises)[whole]
    return {
        "passes": float(len(start)),
        "edge_excess_max_s": float(excess.max()),
        "duration_abs_mean_s": float(np.abs(dur_error).mean()),
        "duration_abs_max_s": float(np.abs(dur_error).max()),
    }


def crossing_offsets_s(site: str, mask_deg: float) -> np.ndarray:
    """How much later orbitgrid's chain (the network stage's: SGP4 on the same TLE, GMST
    rotation, WGS72 station) crosses the mask than skyfield, s, at each skyfield rise and set:
    orbitgrid's elevation error at skyfield's instant over its elevation rate (1 s difference).
    This is the propagation and frame difference the bracket's δ must cover."""
    _, when, event = _skyfield_events(site, mask_deg)
    edge = event != 1
    utc = np.array([t.replace(tzinfo=None) for t in when[edge].utc_datetime()], "datetime64[us]")
    times = np.concatenate([utc, utc + np.timedelta64(1, "s")]).astype("datetime64[ns]")
    teme, _, status = propagate_teme(parse_elements("\n".join(TLE) + "\n"), times)
    assert (status == 0).all()
    sat = inertial_to_ecef_km(teme, gmst_rad(*julian_date_split(times)))
    lat, lon, h_km = (np.array([x]) for x in SITES[site])
    site_km = geodetic_to_ecef_km(lat, lon, h_km, WGS72)
    el = elevation_deg(sat, site_km, local_up_unit(lat, lon))[:, 0, 0]
    n = int(edge.sum())
    rate_deg_s = el[n:] - el[:n]
    return -(el[:n] - mask_deg) / rate_deg_s


@pytest.mark.parametrize("mask_deg", MASKS_DEG, ids=lambda m: f"mask{m:g}")
@pytest.mark.parametrize("site", SITES)
def test_mask_crossings_agree_with_skyfield_within_delta(site, mask_deg):
    """Source: skyfield ``find_events``. orbitgrid's elevation reaches the mask within δ = 0.5 s
    of skyfield's rise and set times (measured: ≤ 0.19 s, docs/cgr.md; UT1 − UTC = −0.17 s is
    the main part), so δ in the window bracket is not hiding a larger error."""
    offsets = crossing_offsets_s(site, mask_deg)
    assert len(offsets) >= 10
    assert np.abs(offsets).max() <= DELTA_S


@pytest.mark.parametrize("mask_deg", MASKS_DEG, ids=lambda m: f"mask{m:g}")
@pytest.mark.parametrize("site", SITES)
def test_pass_count_and_durations_match_skyfield_find_events(run_plan, site, mask_deg):
    """Source: skyfield ``find_events`` (module docstring). Same pass count over 4 days; every
    window edge within the sample-and-hold bracket ± 0.5 s; every duration within one step
    + 1 s of skyfield's. The SSO satellite passes a mid-latitude station a few times a day and
    Svalbard on most orbits."""
    got = pass_errors(run_plan, site, mask_deg)
    assert got["edge_excess_max_s"] <= DELTA_S
    assert got["duration_abs_max_s"] <= STEP_S + 2 * DELTA_S
    least = {"Redu": 3 * DAYS, "Svalbard": 9 * DAYS}[site]  # passes per day, at least
    assert got["passes"] >= least


def dove_volumes(plan) -> tuple[np.ndarray, np.ndarray]:
    """Durations (min) and volumes (GB = 1e9 bytes) of the passes over Redu, 5° mask."""
    mine = plan.to_node == plan.node_index("Redu-5deg")
    return plan.duration_s[mine] / 60.0, plan.volume_bytes[mine] / 1e9


def test_dove_like_per_pass_volume_matches_planet_figure(run_plan):
    """Source: Devaraj et al., "Dove High Speed Downlink System", SSC17-VII-02 (AIAA/USU Small
    Satellite Conference 2017), abstract: "over 220 Mbps peak and 160 Mbps average data
    throughput" and "downlink volumes of 12-15 GB during a single ground station pass, which
    has a duration of 7 to 10 minutes" (X-band, 4.5–7.6 m dishes).

    Here: the 500 km SSO satellite over a mid-latitude station (Redu, 50° N, the 5° mask of
    the shipped ground-station catalogue), a constant 200 Mbit/s (between the paper's average
    and peak), 4 days. Consistent means: (1) no pass longer than the paper's 10 min + one
    step, and at least half of the passes in its 7–10 min range (the rest are low passes
    near the horizon); (2) over the passes of 7–10 min, the median per-pass volume within
    the paper's 12–15 GB and the largest at most 15 GB; (3) the volume is rate × duration
    (the contact plan's constant rate). Measured: docs/cgr.md."""
    minutes, gigabytes = dove_volumes(run_plan)
    assert len(minutes) >= 3 * DAYS
    assert minutes.max() <= 10.0 + STEP_S / 60.0
    long = (minutes >= 7.0) & (minutes <= 10.0)
    assert long.mean() >= 0.5
    assert 12.0 <= np.median(gigabytes[long]) <= 15.0
    assert gigabytes[long].max() <= 15.0
    np.testing.assert_allclose(gigabytes, DOVE_RATE_BPS * minutes * 60.0 / 8.0 / 1e9, rtol=1e-12)
