"""Data rate of every ground–satellite link (GSL), from ``gsl.link_budget`` or a constant.

``GslRateModel.from_config(config.gsl, endpoints)`` is built once per run;
``rate_bps(endpoint_index, range_km, elevation_deg)`` then rates any number of links at once
(vectorised numpy, no Python loop over links). Three models:

- **constant** (no ``link_budget``): every GSL has ``gsl.rate`` (1 Gbps by default).
- **rf**: satellite-to-user downlink budget (``link_budget.py``; defaults and their sources in
  ``config.GslLinkBudget``)::

      C/N = EIRP + G_rx − other losses − 10 log10(k T B) − FSPL(1 km) − A(endpoint, ε)
            − 20 log10(range_km)

  FSPL(d) = FSPL(1 km) + 20 log10(d / 1 km) (ITU-R P.525). A is the ITU-R P.618 attenuation
  (gases, rain, clouds, scintillation) at the endpoint's site exceeded ``exceedance`` of the
  time, from the ``itur`` package. A is tabulated per endpoint at construction on an elevation
  grid (1° steps from the lowest elevation mask, at least 1°, to 90°) as A·sin(elevation),
  interpolated linearly in elevation per link and divided by sin(elevation): slant-path
  attenuation goes as 1/sin(elevation) to first order, so the product is nearly flat.
  Rate: best DVB-S2 modcod closing with ``margin`` (ETSI EN 302 307-1 Table 13; 0 when none
  closes), or ``shannon_efficiency`` × B log2(1 + C/N).
- **optical**: ``nominal_rate`` × the endpoint's cloud-free availability (an input).

Interpolation error of A against direct ``itur`` calls every 0.1° (11.7 GHz, 1 %, 0.5 m):
≤ 0.007 dB above 5° in Paris, Svalbard, Nairobi and New York and ≤ 0.04 dB in Singapore;
from 1° up, ≤ 0.06 dB and ≤ 0.17 dB (interpolating A itself would give ≈ 4 dB near 1°).
0.04 dB is ≈ 0.3 % of a Shannon rate at C/N ≈ 15 dB. Below 5° the P.676 gas approximation in
``itur`` is outside its stated range (5–90°); links below the grid's first elevation take the
attenuation at that elevation.

Simplifications: the satellite EIRP is constant (no beam-edge roll-off, no power control that
holds the flux density constant with range), the terminal gain has no scan loss, there is no
interference (C/N, not C/(N+I)), the noise bandwidth equals the symbol rate, and the same
budget serves every satellite and endpoint.
"""

from __future__ import annotations

import math

import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S
from orbitgrid.errors import ScenarioError
from orbitgrid.network.config import GslConfig, GslLinkBudget
from orbitgrid.network.endpoints import EndpointTable
from orbitgrid.network.link_budget import (
    DVB_S2_MODCODS,
    atmospheric_loss_db,
    free_space_path_loss_db,
    noise_power_dbw,
    parabolic_gain_dbi,
    shannon_rate_bps,
)

# Below 1° the slant path through the rain layer grows without bound (itur returns inf at
# 0°); a link that low is lost in any case, so the table stops there.
_LOWEST_TABLE_ELEVATION_DEG = 1.0
_ELEVATION_STEP_DEG = 1.0
_GAS_REFERENCE_ELEVATION_DEG = 45.0
# Required Es/N0 dB and spectral efficiency bit/s/Hz of the DVB-S2 modcods, ascending.
_MODCOD_ESN0_DB = np.array([m[2] for m in DVB_S2_MODCODS])
_MODCOD_EFFICIENCY = np.array([m[1] for m in DVB_S2_MODCODS])


class GslRateModel:
    """Rate in bit/s of each ground–satellite link; see the module docstring for the models.

    Build with ``from_config`` (or ``constant``). ``rate_bps`` takes ``[k]`` arrays of
    endpoint index, slant range km and elevation deg and returns ``[k]`` bit/s (0 for an RF
    link that closes no DVB-S2 modcod). ``kind`` is ``"constant"``, ``"rf"`` or ``"optical"``.
    """

    def __init__(
        self,
        kind: str,
        n_endpoints: int,
        *,
        constant_rate_bps: float = 0.0,
        optical_rate_bps: np.ndarray | None = None,
        budget: GslLinkBudget | None = None,
        rx_gain_dbi: float = 0.0,
        elevation_grid_deg: np.ndarray | None = None,
        attenuation_db: np.ndarray | None = None,
    ) -> None:
        self.kind = kind
        self.n_endpoints = n_endpoints
        self._constant_rate_bps = constant_rate_bps
        self._optical_rate_bps = optical_rate_bps
        self.budget = budget
        self.rx_gain_dbi = rx_gain_dbi
        self.elevation_grid_deg = elevation_grid_deg
        # C/N at 1 km in clear sky: everything but the range and atmosphere terms.
        self._cn_clear_1km_db = (
            0.0 if budget is None else _clear_sky_cn_at_1km_db(budget, rx_gain_dbi)
        )
        # A·sin(elevation) per [endpoint, elevation], flattened for index arithmetic. Slant-path
        # attenuation goes as 1/sin(elevation) to first order, so this product varies slowly
        # and interpolates far better near the horizon than A itself (module docstring).
        self._zenith_equivalent_flat = None
        if attenuation_db is not None:
            sin_grid = np.sin(np.radians(elevation_grid_deg))
            self._zenith_equivalent_flat = (attenuation_db * sin_grid).ravel()

    # --- construction -------------------------------------------------------------------

    @classmethod
    def constant(cls, rate_bps: float, n_endpoints: int) -> GslRateModel:
        """Every GSL gets ``rate_bps`` (the behaviour without ``gsl.link_budget``)."""
        return cls("constant", n_endpoints, constant_rate_bps=float(rate_bps))

    @classmethod
    def from_config(
        cls,
        gsl_config: GslConfig,
        endpoints: EndpointTable,
        elevation_step_deg: float = _ELEVATION_STEP_DEG,
    ) -> GslRateModel:
        """The model of ``network.gsl`` for these endpoints (ITU-R tables computed here)."""
        budget = gsl_config.link_budget
        n = len(endpoints)
        if budget is None:
            return cls.constant(gsl_config.rate_bps, n)
        if budget.kind == "optical":
            availability = _endpoint_availability(budget, endpoints)
            return cls(
                "optical", n, optical_rate_bps=budget.nominal_rate_bps * availability, budget=budget
            )
        grid_deg = _elevation_grid_deg(endpoints.min_elevation_deg, elevation_step_deg)
        return cls(
            "rf",
            n,
            budget=budget,
            rx_gain_dbi=_receive_gain_dbi(budget),
            elevation_grid_deg=grid_deg,
            attenuation_db=_attenuation_table_db(budget, endpoints, grid_deg),
        )

    # --- evaluation ---------------------------------------------------------------------

    def rate_bps(
        self, endpoint_index: np.ndarray, range_km: np.ndarray, elevation_deg: np.ndarray
    ) -> np.ndarray:
        """``[k]`` rate bit/s of links from endpoints ``endpoint_index`` at ``range_km`` and
        ``elevation_deg`` (all ``[k]``)."""
        idx, rng, el = self._checked(endpoint_index, range_km, elevation_deg)
        if self.kind == "constant":
            return np.full(idx.shape, self._constant_rate_bps)
        if self.kind == "optical":
            return self._optical_rate_bps[idx]
        cn_db = self._carrier_to_noise_db(idx, rng, el)
        budget = self.budget
        if budget.rate_model == "shannon":
            return shannon_rate_bps(cn_db, budget.bandwidth_hz, budget.shannon_efficiency)
        return _dvb_s2_rate_bps(cn_db - budget.margin_db, budget.bandwidth_hz)

    def carrier_to_noise_db(
        self, endpoint_index: np.ndarray, range_km: np.ndarray, elevation_deg: np.ndarray
    ) -> np.ndarray:
        """``[k]`` C/N dB of RF links (ValueError for other models)."""
        self._require_rf("carrier_to_noise_db")
        return self._carrier_to_noise_db(*self._checked(endpoint_index, range_km, elevation_deg))

    def atmospheric_loss_db(
        self, endpoint_index: np.ndarray, elevation_deg: np.ndarray
    ) -> np.ndarray:
        """``[k]`` interpolated ITU-R P.618 attenuation dB (0 with ``atmosphere: none``)."""
        self._require_rf("atmospheric_loss_db")
        ones = np.ones(np.shape(elevation_deg))
        idx, _, el = self._checked(endpoint_index, ones, elevation_deg)
        return self._atmospheric_loss_db(idx, el)

    @property
    def g_over_t_db_k(self) -> float:
        """Receiver figure of merit G/T dB/K of the RF budget."""
        self._require_rf("g_over_t_db_k")
        return self.rx_gain_dbi - 10.0 * math.log10(self.budget.system_temperature_k)

    def _carrier_to_noise_db(self, idx: np.ndarray, rng: np.ndarray, el: np.ndarray) -> np.ndarray:
        cn_db = self._cn_clear_1km_db - 20.0 * np.log10(rng)
        if self.budget.atmosphere == "none":
            return cn_db
        return cn_db - self._atmospheric_loss_db(idx, el)

    def _atmospheric_loss_db(self, idx: np.ndarray, el: np.ndarray) -> np.ndarray:
        """A = interpolated (A·sin ε) / sin ε, linear in elevation on the grid; links below
        the grid take its first elevation."""
        grid = self.elevation_grid_deg
        n_el, start, step = grid.size, grid[0], grid[1] - grid[0]
        el_clipped = np.clip(el, start, grid[-1])
        position = (el_clipped - start) / step
        lower = np.minimum(position.astype(np.intp), n_el - 2)  # floor, as position ≥ 0
        weight = position - lower
        flat = idx * n_el + lower
        table = self._zenith_equivalent_flat
        below = table[flat]
        zenith_equivalent_db = below + weight * (table[flat + 1] - below)
        return zenith_equivalent_db / np.sin(np.radians(el_clipped))

    def _checked(
        self, endpoint_index: object, range_km: object, elevation_deg: object
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = np.asarray(endpoint_index)
        rng = np.asarray(range_km, dtype=np.float64)
        el = np.asarray(elevation_deg, dtype=np.float64)
        if not (idx.shape == rng.shape == el.shape):
            raise ValueError(
                f"endpoint_index, range_km and elevation_deg must have one shape; got "
                f"{idx.shape}, {rng.shape}, {el.shape}"
            )
        if idx.size == 0:
            return idx.astype(np.intp), rng, el
        if not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"endpoint_index must be integers, got dtype {idx.dtype}")
        if idx.min() < 0 or idx.max() >= self.n_endpoints:
            raise ValueError(
                f"endpoint_index must be in 0..{self.n_endpoints - 1}, got {idx.min()}..{idx.max()}"
            )
        # NaN would become an arbitrary table index; a non-positive range has no path loss.
        if self.kind == "rf" and not (np.all(rng > 0) and np.all(np.isfinite(el))):
            raise ValueError("range_km must be > 0 and elevation_deg finite for every link")
        return idx, rng, el

    def _require_rf(self, what: str) -> None:
        if self.kind != "rf":
            raise ValueError(f"{what} needs an RF link budget; this model is {self.kind}")

    def __repr__(self) -> str:
        if self.kind == "constant":
            return f"GslRateModel(constant {_format_rate(self._constant_rate_bps)} per GSL)"
        b = self.budget
        if self.kind == "optical":
            mean = float(np.mean(self._optical_rate_bps)) / b.nominal_rate_bps
            return (
                f"GslRateModel(optical: {_format_rate(b.nominal_rate_bps)} × cloud-free "
                f"availability (mean {mean:.2f}) for {self.n_endpoints} endpoints)"
            )
        grid = self.elevation_grid_deg
        atmosphere = (
            f"ITU-R P.618 exceeded {b.exceedance_fraction * 100:g} % of the time"
            if b.atmosphere == "itu-r-p618"
            else "no atmosphere"
        )
        rate = (
            f"DVB-S2 with {b.margin_db:g} dB margin"
            if b.rate_model == "dvb-s2"
            else f"{b.shannon_efficiency:g} × Shannon"
        )
        return (
            f"GslRateModel(rf downlink: {b.frequency_ghz:g} GHz, {b.bandwidth_hz / 1e6:g} MHz, "
            f"EIRP {b.eirp_dbw:g} dBW, G/T {self.g_over_t_db_k:.1f} dB/K, {atmosphere}, "
            f"{rate}; table {self.n_endpoints} endpoints × {grid.size} elevations "
            f"{grid[0]:g}–{grid[-1]:g}°)"
        )


# --- helpers -----------------------------------------------------------------------------


def _receive_gain_dbi(budget: GslLinkBudget) -> float:
    """``receive_gain`` if given, else the dish gain η (π D f / c)² (Balanis §15.4)."""
    if budget.receive_gain_dbi is not None:
        return budget.receive_gain_dbi
    return parabolic_gain_dbi(
        budget.receive_antenna_diameter_m, budget.frequency_ghz, budget.receive_antenna_efficiency
    )


def _clear_sky_cn_at_1km_db(budget: GslLinkBudget, rx_gain_dbi: float) -> float:
    """C/N dB of the budget at 1 km without atmosphere: the range term is added per link."""
    return (
        budget.eirp_dbw
        + rx_gain_dbi
        - budget.other_losses_db
        - noise_power_dbw(budget.system_temperature_k, budget.bandwidth_hz)
        - float(free_space_path_loss_db(1.0, budget.frequency_ghz))
    )


def _elevation_grid_deg(min_elevation_deg: np.ndarray, step_deg: float) -> np.ndarray:
    """Grid ending exactly at 90° and starting at or below the lowest mask, but not below 1°
    (links under the first grid point take its value)."""
    if not 0.0 < step_deg <= 10.0:
        raise ValueError(f"elevation_step_deg must be in (0, 10], got {step_deg!r}")
    lowest = max(float(np.min(min_elevation_deg)), _LOWEST_TABLE_ELEVATION_DEG)
    n_steps = math.ceil((90.0 - lowest) / step_deg - 1e-9)
    if 90.0 - n_steps * step_deg < _LOWEST_TABLE_ELEVATION_DEG:
        n_steps -= 1
    return 90.0 - step_deg * np.arange(max(n_steps, 1), -1, -1, dtype=np.float64)


def _attenuation_table_db(
    budget: GslLinkBudget, endpoints: EndpointTable, grid_deg: np.ndarray
) -> np.ndarray:
    """``[endpoint, elevation]`` ITU-R P.618 total attenuation dB at the endpoints' sites.

    ``itur`` evaluates the gaseous part (P.676 Annex 2, its default "approx" mode) point by
    point at about 1 ms each; that part is the zenith attenuation / sin(elevation) at every
    elevation in this mode, so it is computed once per endpoint and scaled. The total is then
    exactly ``itur``'s: gas + sqrt((rain + cloud)² + scintillation²).
    """
    n_ep, n_el = len(endpoints), grid_deg.size
    if budget.atmosphere == "none":
        return np.zeros((n_ep, n_el))
    site = {
        "frequency_ghz": budget.frequency_ghz,
        "exceedance_percent": budget.exceedance_fraction * 100.0,
        "antenna_diameter_m": _scintillation_diameter_m(budget),
    }
    lat, lon = endpoints.latitude_deg, endpoints.longitude_deg
    # Gas at 45°, not at zenith: itur warns that its approximation is out of range at 90°
    # (it tests elevation mod 90 < 5). Gas = total − total without gas (the sum is linear).
    reference = np.full(n_ep, _GAS_REFERENCE_ELEVATION_DEG)
    gas_zenith_db = math.sin(math.radians(_GAS_REFERENCE_ELEVATION_DEG)) * (
        atmospheric_loss_db(lat, lon, elevation_deg=reference, **site)
        - atmospheric_loss_db(lat, lon, elevation_deg=reference, include_gas=False, **site)
    )
    rest_db = atmospheric_loss_db(
        np.repeat(lat, n_el),
        np.repeat(lon, n_el),
        elevation_deg=np.tile(grid_deg, n_ep),
        include_gas=False,
        **site,
    ).reshape(n_ep, n_el)
    return gas_zenith_db[:, None] / np.sin(np.radians(grid_deg))[None, :] + rest_db


def _scintillation_diameter_m(budget: GslLinkBudget) -> float:
    """Aperture for P.618 scintillation: the dish, or the one giving ``receive_gain``."""
    if budget.receive_gain_dbi is None:
        return budget.receive_antenna_diameter_m
    wavelength_m = SPEED_OF_LIGHT_KM_S * 1e3 / (budget.frequency_ghz * 1e9)
    gain = 10.0 ** (budget.receive_gain_dbi / 10.0)
    return wavelength_m / math.pi * math.sqrt(gain / budget.receive_antenna_efficiency)


def _endpoint_availability(budget: GslLinkBudget, endpoints: EndpointTable) -> np.ndarray:
    """``[endpoint]`` cloud-free availability: ``availability`` with per-name overrides."""
    availability = np.full(len(endpoints), budget.availability)
    names = {str(name): i for i, name in enumerate(endpoints.name)}
    for name, value in budget.endpoint_availability.items():
        if name not in names:
            known = ", ".join(list(names)[:8]) + (" …" if len(names) > 8 else "")
            raise ScenarioError(
                f"network.gsl.link_budget.endpoint_availability: unknown endpoint {name!r} "
                f"(known endpoints: {known})",
                "network.gsl.link_budget.endpoint_availability",
                name,
            )
        availability[names[name]] = value
    return availability


def _dvb_s2_rate_bps(esn0_db: np.ndarray, symbol_rate_baud: float) -> np.ndarray:
    """Best modcod with required Es/N0 ≤ ``esn0_db`` (one sorted search instead of a pass per
    modcod; same result as ``link_budget.modcod_rate_bps``); 0 when none closes."""
    best = np.searchsorted(_MODCOD_ESN0_DB, esn0_db, side="right") - 1
    # NaN sorts after every threshold: it must close nothing, not the best modcod.
    closes = (best >= 0) & np.isfinite(esn0_db)
    efficiency = np.where(closes, _MODCOD_EFFICIENCY[np.maximum(best, 0)], 0.0)
    return efficiency * symbol_rate_baud


def _format_rate(rate_bps: float) -> str:
    for unit, factor in (("Tbps", 1e12), ("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if rate_bps >= factor:
            return f"{rate_bps / factor:g} {unit}"
    return f"{rate_bps:g} bps"
