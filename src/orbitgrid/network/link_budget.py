"""Link budgets: a rate for a link, not only a delay.

RF (ground–satellite): received carrier-to-noise ratio

    C/N [dB] = EIRP [dBW] + G_rx [dBi] − FSPL − A_atm − L_other − 10 log10(k T_sys B)

with free-space path loss FSPL = 20 log10(4π d f / c) (ITU-R P.525-4, eq. 4 in linear form),
parabolic antenna gain G = η (π D f / c)² (Balanis, *Antenna Theory*, 4th ed., §15.4),
Boltzmann's constant k = 1.380649e-23 J/K (SI 2019, exact), and the atmospheric attenuation
A_atm (gases, rain, clouds, scintillation) of ITU-R P.618 for a link exceeded ``p`` % of the
time, computed by the ``itur`` package (ITU-Rpy) when installed. The rate is then either
Shannon-bounded, B log2(1 + C/N) scaled by an implementation efficiency, or the best DVB-S2
modcod whose required Es/N0 (ETSI EN 302 307-1 V1.4.1, Table 13, AWGN, PER 1e-7) fits below
C/N − margin (Es/N0 ≈ C/N for a symbol-rate-matched filter).

Optical (inter-satellite or space–ground laser): the terminal's nominal rate times a weather
availability factor (cloud-free line-of-sight probability) for space–ground links; space–space
links have availability 1. The factor is an input: orbitgrid ships no cloud climatology.
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S

BOLTZMANN_J_K = 1.380649e-23  # SI 2019, exact
_C_M_S = SPEED_OF_LIGHT_KM_S * 1e3

# DVB-S2 modcods: (name, spectral efficiency bit/s/Hz, required Es/N0 dB), ETSI EN 302 307-1
# V1.4.1 Table 13 (normal FECFRAME, AWGN, quasi-error-free).
DVB_S2_MODCODS: tuple[tuple[str, float, float], ...] = (
    ("QPSK 1/4", 0.490243, -2.35),
    ("QPSK 1/2", 0.988858, 1.00),
    ("QPSK 3/4", 1.487473, 4.03),
    ("8PSK 2/3", 1.980636, 6.62),
    ("8PSK 3/4", 2.228124, 7.91),
    ("16APSK 3/4", 2.966728, 10.21),
    ("16APSK 5/6", 3.300184, 11.61),
    ("32APSK 5/6", 4.119540, 14.28),
    ("32APSK 9/10", 4.453027, 16.05),
)


def free_space_path_loss_db(distance_km: np.ndarray | float, frequency_ghz: float) -> np.ndarray:
    """FSPL dB = 20 log10(4π d f / c) (ITU-R P.525-4); distance km, frequency GHz."""
    d_m = np.asarray(distance_km, dtype=np.float64) * 1e3
    return 20.0 * np.log10(4.0 * np.pi * d_m * frequency_ghz * 1e9 / _C_M_S)


def parabolic_gain_dbi(diameter_m: float, frequency_ghz: float, efficiency: float = 0.6) -> float:
    """Boresight gain dBi of a dish: 10 log10(η (π D f / c)²) (Balanis 4th ed. §15.4)."""
    return float(
        10.0 * np.log10(efficiency * (np.pi * diameter_m * frequency_ghz * 1e9 / _C_M_S) ** 2)
    )


def noise_power_dbw(system_temperature_k: float, bandwidth_hz: float) -> float:
    """Thermal noise power 10 log10(k T B), dBW."""
    return float(10.0 * np.log10(BOLTZMANN_J_K * system_temperature_k * bandwidth_hz))


def atmospheric_loss_db(
    latitude_deg: np.ndarray | float,
    longitude_deg: np.ndarray | float,
    frequency_ghz: float,
    elevation_deg: np.ndarray | float,
    exceedance_percent: float = 1.0,
    antenna_diameter_m: float = 1.0,
    include_gas: bool = True,
) -> np.ndarray:
    """Total slant-path attenuation dB (gas, rain, cloud, scintillation) exceeded ``p`` % of
    the time, ITU-R P.618 via ``itur.atmospheric_attenuation_slant_path``.

    Needs the optional ``itur`` package (its ITU-R maps ship inside the package; nothing is
    downloaded). Raises ImportError with the install command when it is missing. Latitude and
    longitude may be arrays shaped like ``elevation_deg`` (one site per element).
    ``include_gas=False`` leaves out the gaseous part (ITU-R P.676), the slow one in ``itur``.
    """
    try:
        import itur
    except ImportError as exc:  # pragma: no cover - exercised only without itur
        raise ImportError(
            "atmospheric attenuation needs the optional package 'itur' (pip install itur)"
        ) from exc
    el = np.atleast_1d(np.asarray(elevation_deg, dtype=np.float64))
    att = itur.atmospheric_attenuation_slant_path(
        latitude_deg,
        longitude_deg,
        frequency_ghz,
        el,
        exceedance_percent,
        antenna_diameter_m,
        include_gas=include_gas,
    )
    return np.asarray(att.value, dtype=np.float64).reshape(el.shape)


def carrier_to_noise_db(
    distance_km: np.ndarray | float,
    frequency_ghz: float,
    eirp_dbw: float,
    rx_gain_dbi: float,
    system_temperature_k: float,
    bandwidth_hz: float,
    atmospheric_loss_db: np.ndarray | float = 0.0,
    other_losses_db: float = 0.0,
) -> np.ndarray:
    """C/N dB of an RF link (equation in the module docstring)."""
    return (
        eirp_dbw
        + rx_gain_dbi
        - free_space_path_loss_db(distance_km, frequency_ghz)
        - np.asarray(atmospheric_loss_db)
        - other_losses_db
        - noise_power_dbw(system_temperature_k, bandwidth_hz)
    )


def shannon_rate_bps(
    cn_db: np.ndarray | float, bandwidth_hz: float, efficiency: float = 0.75
) -> np.ndarray:
    """Rate bit/s = efficiency × B log2(1 + C/N): the Shannon bound scaled by an implementation
    efficiency (0.75 by default: DVB-S2 operates within about 1 dB of the bound, which is
    about 75–85 % of it at the spectral efficiencies above)."""
    snr = 10.0 ** (np.asarray(cn_db, dtype=np.float64) / 10.0)
    return efficiency * bandwidth_hz * np.log2(1.0 + snr)


def modcod_rate_bps(
    cn_db: np.ndarray | float, symbol_rate_baud: float, margin_db: float = 1.0
) -> np.ndarray:
    """Rate bit/s of the best DVB-S2 modcod (table above) whose Es/N0 ≤ C/N − margin; 0 when
    none closes. Es/N0 is taken as C/N (bandwidth = symbol rate)."""
    cn = np.asarray(cn_db, dtype=np.float64) - margin_db
    rate = np.zeros_like(cn)
    for _, eff, esn0 in DVB_S2_MODCODS:  # ordered by efficiency: the last that fits wins
        rate = np.where(cn >= esn0, eff * symbol_rate_baud, rate)
    return rate


def optical_rate_bps(
    nominal_rate_bps: float, weather_availability: np.ndarray | float = 1.0
) -> np.ndarray:
    """Expected optical link rate = nominal rate × availability (cloud-free probability for
    space–ground; 1 for space–space links). Availability must be in [0, 1]."""
    a = np.asarray(weather_availability, dtype=np.float64)
    if np.any((a < 0) | (a > 1)):
        raise ValueError(f"weather availability must be in [0, 1], got {weather_availability!r}")
    return nominal_rate_bps * a
