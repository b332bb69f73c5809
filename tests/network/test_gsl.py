"""The culled GSL search against an exhaustive one."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.constants import WGS72
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit
from orbitgrid.network.gsl import gsl_links


def _ellipsoid_normal(ep):
    """Geodetic vertical at points ``[endpoint, 3]`` on the WGS72 ellipsoid, computed here and
    not with ``local_up_unit``: the gradient of x²/a² + y²/a² + z²/b², ∝ (x, y, z/(1 − f)²)
    (e.g. Torge & Müller, *Geodesy*, 4th ed., §4.1). The geocentric direction ep/|ep| differs
    from it by up to 0.19° at 45° latitude."""
    n = ep / np.array([1.0, 1.0, (1.0 - WGS72.flattening) ** 2])
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def _exhaustive(sat, ep, up, min_sin, max_range_km):
    """Every (endpoint, satellite) with elevation above the mask (measured from ``up``, the
    independent geodetic vertical of ``_ellipsoid_normal``) and slant range within the limit,
    by brute force."""
    d = sat[None, :, :] - ep[:, None, :]
    dist = np.linalg.norm(d, axis=-1)
    ok = (np.einsum("esk,ek->es", d, up) >= min_sin[:, None] * dist) & (
        dist <= max_range_km[:, None]
    )
    return {(int(e), int(s)) for e, s in zip(*np.nonzero(ok), strict=True)}


@pytest.mark.parametrize("latitude_deg", [0.0, 45.0, 70.0, -62.0])
@pytest.mark.parametrize("mask_deg", [5.0, 25.0])
def test_cull_keeps_every_satellite_near_the_mask(latitude_deg, mask_deg):
    """Satellites at 550 km placed 0.02–0.1° above and below the elevation mask (geodetic
    vertical) all around an endpoint with no range limit: the culled search finds exactly
    the exhaustive set (the bound allows for the geodetic–geocentric vertical difference).
    Satellites are placed and the reference is computed with the ellipsoid normal of
    ``_ellipsoid_normal``; the search gets ``local_up_unit``, so a vertical off by more than
    0.02° (e.g. geocentric instead of geodetic) fails here at 45° and 70°."""
    lat, lon = np.array([latitude_deg]), np.array([10.0])
    ep = geodetic_to_ecef_km(lat, lon, 0.0, WGS72)
    up = local_up_unit(lat, lon)
    ref_up = _ellipsoid_normal(ep)
    east = np.cross([0.0, 0.0, 1.0], ref_up[0])
    east /= np.linalg.norm(east) if np.linalg.norm(east) > 0 else 1.0
    north = np.cross(ref_up[0], east)
    r_sat = WGS72.radius_km + 550.0
    sats = []
    for az in np.radians(np.arange(0.0, 360.0, 2.0)):
        for offset in (-0.1, -0.02, 0.02, 0.05, 0.1):
            el = np.radians(mask_deg + offset)
            direction = (
                np.cos(el) * (np.cos(az) * north + np.sin(az) * east) + np.sin(el) * ref_up[0]
            )
            # Distance along the line of sight to radius r_sat from the endpoint.
            b = direction @ ep[0]
            dist = -b + np.sqrt(b * b - ep[0] @ ep[0] + r_sat**2)
            sats.append(ep[0] + dist * direction)
    sat = np.array(sats)
    min_sin = np.sin(np.radians([mask_deg]))
    max_range = np.array([np.inf])
    offsets, e, s, _, _ = gsl_links(
        sat[None], np.zeros((1, len(sat)), bool), ep, up, min_sin, max_range,
        np.zeros((1, 1), bool), False,
    )  # fmt: skip
    found = set(zip(e.tolist(), s.tolist(), strict=True))
    expected = _exhaustive(sat, ep, ref_up, min_sin, max_range)
    assert len(expected) >= 3 * 180
    assert found == expected and offsets[-1] == len(found)


def test_random_constellation_matches_exhaustive_search():
    """Random satellites (300–2,000 km) and endpoints worldwide, with range limits on some:
    the culled search returns the exhaustive set (independent vertical), endpoint-major and
    satellite-ascending."""
    rng = np.random.default_rng(11)
    n_sat, n_ep = 3000, 40
    v = rng.normal(size=(n_sat, 3))
    sat = (
        v
        / np.linalg.norm(v, axis=1)[:, None]
        * (WGS72.radius_km + rng.uniform(300, 2000, n_sat))[:, None]
    )
    lat = rng.uniform(-89, 89, n_ep)
    lon = rng.uniform(-180, 180, n_ep)
    ep = geodetic_to_ecef_km(lat, lon, 0.0, WGS72)
    up = local_up_unit(lat, lon)
    min_sin = np.sin(np.radians(rng.uniform(0, 40, n_ep)))
    max_range = np.where(rng.random(n_ep) < 0.5, np.inf, rng.uniform(800, 3000, n_ep))
    _, e, s, _, _ = gsl_links(
        sat[None], np.zeros((1, n_sat), bool), ep, up, min_sin, max_range,
        np.zeros((1, n_ep), bool), False,
    )  # fmt: skip
    assert list(zip(e.tolist(), s.tolist(), strict=True)) == sorted(
        _exhaustive(sat, ep, _ellipsoid_normal(ep), min_sin, max_range)
    )
