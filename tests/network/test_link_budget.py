"""RF and optical link budgets."""

from __future__ import annotations

import numpy as np
import pytest

from orbitgrid.network.link_budget import (
    carrier_to_noise_db,
    free_space_path_loss_db,
    modcod_rate_bps,
    noise_power_dbw,
    optical_rate_bps,
    parabolic_gain_dbi,
    shannon_rate_bps,
)


def test_fspl_matches_itu_r_p525_practical_formula():
    """ITU-R P.525-4 eq. (4): L = 32.45 + 20 log f[MHz] + 20 log d[km]; tolerance 0.01 dB."""
    for d_km, f_ghz in [(550.0, 12.0), (1089.686, 20.0), (2000.0, 2.2)]:
        ref = 32.45 + 20 * np.log10(f_ghz * 1e3) + 20 * np.log10(d_km)
        assert abs(free_space_path_loss_db(d_km, f_ghz) - ref) < 0.01


def test_gain_noise_and_rates():
    """A 0.6 m dish at 12 GHz, η = 0.6: 35.4 dBi (Balanis formula; 0.1 dB). kTB at 290 K in
    1 Hz: −204.0 dBW. Shannon rate grows with C/N; modcod rate never exceeds the Shannon bound
    and is 0 when no modcod closes."""
    assert abs(parabolic_gain_dbi(0.6, 12.0, 0.6) - 35.4) < 0.1
    assert abs(noise_power_dbw(290.0, 1.0) + 204.0) < 0.05
    cn = carrier_to_noise_db(np.array([550.0, 1100.0]), 12.0, 36.0, 35.4, 150.0, 250e6)
    assert cn[0] - cn[1] == pytest.approx(20 * np.log10(2), abs=1e-9)
    r_shannon = shannon_rate_bps(cn, 250e6, efficiency=1.0)
    r_modcod = modcod_rate_bps(cn, 250e6, margin_db=0.0)
    assert np.all(r_modcod <= r_shannon) and r_shannon[0] > r_shannon[1]
    assert modcod_rate_bps(-10.0, 1e6) == 0.0
    assert modcod_rate_bps(20.0, 1e6, margin_db=0.0) == pytest.approx(4.453027e6)


def test_optical_availability():
    assert optical_rate_bps(100e9, 0.7) == pytest.approx(70e9)
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        optical_rate_bps(100e9, 1.2)


@pytest.mark.slow
def test_itur_attenuation_decreases_with_elevation():
    """ITU-R P.618 via itur: attenuation at 12 GHz, Paris, 1 % of the time, is positive and
    lower at 60° than at 25° elevation (shorter path through the atmosphere)."""
    from orbitgrid.network.link_budget import atmospheric_loss_db

    att = atmospheric_loss_db(48.85, 2.35, 12.0, np.array([25.0, 60.0]), 1.0, 0.6)
    assert att[0] > att[1] > 0
