"""Contact windows, ION contact plan export, fibre reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from orbitgrid.constants import WGS72
from orbitgrid.network.contacts import (
    ground_to_satellite_visibility,
    ion_contact_plan,
    satellite_pair_visibility,
    windows_from_mask,
)
from orbitgrid.network.fibre import fibre_latency_ms, great_circle_km
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit


def test_windows_from_mask_matches_scalar_scan():
    """Twin: the vectorised run-length encoding equals a plain loop over links and steps."""
    rng = np.random.default_rng(0)
    up = rng.random((50, 7)) < 0.6
    up[:, 3] = True
    up[:, 4] = False
    range_km = rng.uniform(500, 2000, up.shape)
    times = np.arange(50) * 10.0
    w = windows_from_mask(up, range_km, times, 10.0)
    expected = []
    for link in range(7):
        t = 0
        while t < 50:
            if up[t, link]:
                s = t
                while t < 50 and up[t, link]:
                    t += 1
                seg = range_km[s:t, link]
                expected.append((link, s * 10.0, t * 10.0, seg.min(), seg.mean(), seg.max()))
            t += 1
    got = list(
        zip(
            w.link, w.start_s, w.end_s, w.min_range_km, w.mean_range_km, w.max_range_km, strict=True
        )
    )
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g[0] == e[0] and g[1] == e[1] and g[2] == e[2]
        np.testing.assert_allclose(g[3:], e[3:], rtol=1e-12)


def test_ground_pass_of_overhead_satellite():
    """A satellite in a 550 km equatorial orbit over an equatorial station: the pass above 10°
    lasts 2·(θ/ω_rel) where θ is the Earth-central half-angle of the visibility cone (spherical
    geometry, Vallado 4th ed. §11.3); tolerance one 5 s step."""
    r = WGS72.radius_km + 550.0
    mu = WGS72.mu_km3_s2
    n = np.sqrt(mu / r**3) - 7.292115e-5  # relative to the rotating Earth (prograde)
    times = np.arange(0, 1200.0, 5.0)
    ang = n * (times - 600.0)
    sats = np.stack([r * np.cos(ang), r * np.sin(ang), 0 * ang], axis=-1)[:, None, :]
    ep = geodetic_to_ecef_km(0.0, 0.0, 0.0, WGS72)[None]
    up, rng = ground_to_satellite_visibility(
        sats, ep, local_up_unit(np.zeros(1), np.zeros(1)), np.array([10.0]), np.array([np.inf])
    )
    w = windows_from_mask(up[:, 0, :], rng[:, 0, :], times, 5.0)
    eps = np.radians(10.0)
    theta = np.arccos(WGS72.radius_km / r * np.cos(eps)) - eps
    assert len(w) == 1
    assert abs(w.duration_s[0] - 2 * theta / n) <= 5.0
    assert abs(w.min_range_km[0] - 550.0) < 1.0


def test_satellite_pair_line_of_sight_blocked_by_earth():
    """Two satellites on opposite sides of the Earth are never in contact; neighbours are."""
    r = WGS72.radius_km + 550.0
    pos = np.array([[[r, 0, 0], [-r, 0, 0], [r * np.cos(0.1), r * np.sin(0.1), 0]]])
    up, _ = satellite_pair_visibility(pos, np.array([[0, 1], [0, 2]]), max_range_km=20000.0)
    assert up.tolist() == [[False, True]]


def test_ion_contact_plan_format():
    """Format per ionrc(5) (NASA-JPL ION-DTN ici/doc/pod5/ionrc.pod): '@' reference time,
    'a contact +t1 +t2 from to bytes_per_s' both ways, 'a range +t1 +t2 lo hi owlt_s'."""
    up = np.zeros((10, 1), bool)
    up[2:5, 0] = True
    w = windows_from_mask(up, np.full((10, 1), 1200.0), np.arange(10) * 60.0, 60.0)
    text = ion_contact_plan(w, np.array([[7, 3]]), 100e6, dt.datetime(2027, 3, 20, tzinfo=dt.UTC))
    lines = text.splitlines()
    assert lines[1] == "@ 2027/03/20-00:00:00"
    assert lines[2:] == [
        "a contact +120 +300 7 3 12500000",
        "a contact +120 +300 3 7 12500000",
        "a range +120 +300 3 7 1",
    ]
    w2 = windows_from_mask(
        up,
        np.full((10, 1), 1200.0),
        np.arange(10) * 60.0,
        60.0,
        rate_bps=np.arange(10.0)[:, None] * 8e6,
    )
    assert w2.rate_bps[0] == pytest.approx(3 * 8e6)
    assert "a contact +120 +300 7 3 3000000" in ion_contact_plan(
        w2, np.array([[7, 3]]), None, dt.datetime(2027, 3, 20)
    )
    with pytest.raises(ValueError, match="windows carry no rate"):
        ion_contact_plan(w, np.array([[7, 3]]), None, dt.datetime(2027, 3, 20))
    with pytest.raises(ValueError, match="node numbers must be ≥ 1"):
        ion_contact_plan(w, np.array([[0, 3]]), 1e6, dt.datetime(2027, 1, 1))


def test_fibre_reference():
    """London–New York great circle ≈ 5,570 km (haversine, R = 6371.0088 km; tolerance 10 km);
    one-way fibre latency at n_g = 1.4682 ≈ 27.3 ms."""
    d = great_circle_km(51.50853, -0.12574, 40.717042, -74.003663)
    assert abs(d - 5570.0) < 10.0
    assert abs(fibre_latency_ms(d) - d * 1.4682 / 299792.458 * 1e3) < 1e-12
    with pytest.raises(ValueError, match="route_factor"):
        fibre_latency_ms(d, route_factor=0.5)
