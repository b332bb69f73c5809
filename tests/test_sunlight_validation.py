"""Sunlight over a year through the whole pipeline (orbits → Sun → eclipse)."""

from __future__ import annotations

import numpy as np

import orbitgrid
from tests.conftest import small_scenario_dict


def test_dawn_dusk_sso_is_in_sun_most_of_the_year():
    """Dawn–dusk SSO at 650 km: near-continuous sunlight (Google "Suncatcher", arXiv
    2511.19468), with a short eclipse season around the June solstice, when β drops below the
    critical angle asin(R/(R+h)) = 65.2° (β ≈ 90° − (i − 90°) − 23.44° ≈ 58.6°).

    Checks: sunlit fraction over 2027 above 0.95; no shadow at all from September to April;
    every shadowed step lies between 1 May and 31 August; β stays above 57°.
    """
    data = small_scenario_dict()
    data["time"] = {"start": "2027-01-01T00:00:00Z", "duration": "365 d", "step": "2 min"}
    data["constellation"] = [
        {
            "type": "sso",
            "name": "dd",
            "altitude": "650 km",
            "ltan": "18:00",
            "sats_per_plane": 1,
            "spacecraft": "node",
        }
    ]
    result = orbitgrid.run(orbitgrid.scenario_from_dict(data))
    assert result.summary["total"]["sunlit_fraction"] > 0.95
    lit = result.dataset.sunlit_fraction[:, 0].to_series()
    shadowed = lit[lit < 1.0].index
    assert shadowed.min() >= np.datetime64("2027-05-01")
    assert shadowed.max() <= np.datetime64("2027-08-31")
    assert float(result.dataset.beta_deg.min()) > 57.0
