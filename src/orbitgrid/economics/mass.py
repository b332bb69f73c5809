"""Mass build-up of an orbital compute satellite from its design.

Model: subsystem masses from specific figures (array W/kg, battery Wh/kg, radiator kg/m², server
kg per accelerator, shielding as a fraction of compute, fixed comms and avionics per satellite),
plus structure and margin as fractions (Wertz & Larson, *Space Mission Analysis and Design*, 3rd
ed., ch. 10), plus propellant for station keeping and end-of-life disposal from the rocket
equation (Tsiolkovsky). Every figure comes from ``data/assumptions.csv``.

All fields and parameters may be numpy arrays; results broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from orbitgrid.constants import JULIAN_YEAR_S, SECONDS_PER_HOUR, SOLAR_CONSTANT_W_M2
from orbitgrid.economics.assumptions import EconomicParameters, Number
from orbitgrid.errors import ScenarioError
from orbitgrid.spacecraft.accelerators import accelerator_catalog

# Standard gravity for the rocket equation, m/s² (CGPM 1901, exact).
STANDARD_GRAVITY_M_S2 = 9.80665
# Julian year in hours, the same year that units.py uses for "yr".
HOURS_PER_YEAR = JULIAN_YEAR_S / SECONDS_PER_HOUR


@dataclass(frozen=True)
class SatelliteDesign:
    """One satellite type of an orbital compute constellation, as the engine installed it.

    Parameters
    ----------
    accelerator : str
        Catalog key of the accelerator (``h100-sxm``, ``b200``, ...; ``data/accelerators.csv``).
    accelerators_per_satellite : float
        Installed accelerators on each satellite.
    solar_array_power_w : float
        Array output per satellite at beginning of life, W (covers IT, bus and battery charging).
    battery_energy_wh : float
        Installed battery energy per satellite, Wh (0 for a design that sleeps in eclipse).
    radiator_area_m2 : float
        Radiator panel area per satellite, m².
    satellite_count : float
        Number of satellites of this type.
    mission_years : float
        Design life, years; hardware is not refreshed in orbit.
    accelerator_tdp_w : float or None
        Board power per accelerator, W; ``None`` takes the catalog TDP.
    bus_power_w : float
        Housekeeping power per satellite, W. Informational: its array and battery share is
        already in ``solar_array_power_w`` and ``battery_energy_wh``.
    host_power_overhead_fraction : float or None
        Host (CPU, memory, network) power per accelerator W; ``None`` takes the assumptions
        table's ``host_power_overhead_fraction``.
    """

    accelerator: str
    accelerators_per_satellite: Number
    solar_array_power_w: Number
    battery_energy_wh: Number
    radiator_area_m2: Number
    satellite_count: Number
    mission_years: Number
    accelerator_tdp_w: Number | None = None
    bus_power_w: Number = 0.0
    host_power_overhead_fraction: Number | None = None

    def __post_init__(self) -> None:
        if self.accelerator not in accelerator_catalog():
            raise ScenarioError(
                f"economics: unknown accelerator {self.accelerator!r}; "
                f"allowed: {', '.join(accelerator_catalog())}",
                "accelerator",
                self.accelerator,
            )
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "accelerator" or value is None:
                continue
            array = np.asarray(value, dtype=float)
            positive = field.name in ("satellite_count", "mission_years")
            bad = ~np.isfinite(array) | (array <= 0.0 if positive else array < 0.0)
            if np.any(bad):
                allowed = "> 0" if positive else ">= 0"
                raise ScenarioError(
                    f"economics: design.{field.name} = {value!r} is not allowed; "
                    f"give a finite number {allowed}",
                    f"design.{field.name}",
                    value,
                )

    @property
    def tdp_w(self) -> Number:
        """Board power per accelerator, W (the design's, else the catalog TDP)."""
        if self.accelerator_tdp_w is not None:
            return self.accelerator_tdp_w
        return accelerator_catalog()[self.accelerator].tdp_w

    @property
    def dense_tflops(self) -> float:
        """Dense throughput per accelerator, TFLOP/s, from the catalog."""
        return accelerator_catalog()[self.accelerator].dense_tflops

    @property
    def accelerator_count(self) -> Number:
        """Accelerators in the whole fleet."""
        return self.accelerators_per_satellite * self.satellite_count

    def it_power_w(self, params: EconomicParameters) -> Number:
        """Installed IT power of the fleet, W: accelerators × TDP × (1 + host overhead)."""
        host = self.host_power_overhead_fraction
        if host is None:
            host = params.host_power_overhead_fraction
        return self.accelerator_count * self.tdp_w * (1.0 + host)

    @classmethod
    def from_spacecraft(
        cls, spacecraft: Any, satellite_count: Number, mission_years: Number
    ) -> SatelliteDesign:
        """Design from a scenario ``Spacecraft`` (duck-typed: the attributes below are read).

        Array power at beginning of life is area × cell-to-bus efficiency × 1361 W/m² (Kopp &
        Lean 2011), the scenario's own definition; battery is ``battery.capacity_wh``, radiator
        ``radiator.area_m2`` (one face of the panel), compute ``compute.accelerator`` ×
        ``compute.count`` with ``compute.host_overhead_fraction``.
        """
        array = spacecraft.solar_array
        compute = spacecraft.compute
        return cls(
            accelerator=compute.accelerator,
            accelerators_per_satellite=float(compute.count),
            solar_array_power_w=array.area_m2 * array.efficiency * SOLAR_CONSTANT_W_M2,
            battery_energy_wh=spacecraft.battery.capacity_wh,
            radiator_area_m2=spacecraft.radiator.area_m2,
            satellite_count=satellite_count,
            mission_years=mission_years,
            bus_power_w=spacecraft.bus_power_w,
            host_power_overhead_fraction=getattr(compute, "host_overhead_fraction", None),
        )


@dataclass(frozen=True)
class MassBreakdown:
    """Mass of one satellite by subsystem, kg. ``dry_kg`` + ``propellant_kg`` = ``wet_kg``."""

    compute_kg: Number
    shielding_kg: Number
    solar_array_kg: Number
    battery_kg: Number
    radiator_kg: Number
    comms_kg: Number
    avionics_propulsion_kg: Number
    structure_kg: Number
    margin_kg: Number
    station_keeping_propellant_kg: Number
    deorbit_propellant_kg: Number

    @property
    def dry_kg(self) -> Number:
        """Dry mass, kg."""
        return (
            self.compute_kg
            + self.shielding_kg
            + self.solar_array_kg
            + self.battery_kg
            + self.radiator_kg
            + self.comms_kg
            + self.avionics_propulsion_kg
            + self.structure_kg
            + self.margin_kg
        )

    @property
    def propellant_kg(self) -> Number:
        """Propellant for station keeping plus disposal, kg."""
        return self.station_keeping_propellant_kg + self.deorbit_propellant_kg

    @property
    def wet_kg(self) -> Number:
        """Launch mass of one satellite, kg."""
        return self.dry_kg + self.propellant_kg

    @property
    def bus_kg(self) -> Number:
        """Dry mass other than compute, array, battery and radiator (costed per kg of bus)."""
        return (
            self.shielding_kg
            + self.comms_kg
            + self.avionics_propulsion_kg
            + self.structure_kg
            + self.margin_kg
        )

    def items(self) -> list[tuple[str, Number]]:
        """(subsystem, kg) pairs in build-up order."""
        return [(f.name.removesuffix("_kg"), getattr(self, f.name)) for f in fields(self)]


def satellite_mass(design: SatelliteDesign, params: EconomicParameters) -> MassBreakdown:
    """Mass build-up of one satellite of ``design``, kg.

    Model
    -----
    subsystems = compute + shielding + array + battery + radiator + comms + avionics/propulsion,
    with compute = n_acc · m_acc, shielding = f_shield · compute, array = P_array / (W/kg),
    battery = E / (Wh/kg), radiator = A · (kg/m²); structure = f_struct · subsystems; margin =
    f_margin · (subsystems + structure). Propellant: m_p = m_dry (exp(Δv / (Isp g0)) − 1) with
    Δv = Δv_sk · years + Δv_deorbit (rocket equation), split between the two uses in proportion
    to their Δv.

    Sources: structure fraction, Wertz & Larson SMAD 3rd ed. Table 10-9; margin, AIAA
    S-120A-2015; the rest as listed in ``data/assumptions.csv``. Leaves out harness and thermal
    control hardware other than radiators (inside structure and margin) and propellant tanks.
    """
    p = params
    compute = design.accelerators_per_satellite * p.compute_mass_kg_per_accelerator
    shielding = p.shielding_mass_fraction * compute
    array = design.solar_array_power_w / p.solar_array_specific_power_w_per_kg
    battery = design.battery_energy_wh / p.battery_specific_energy_wh_per_kg
    radiator = design.radiator_area_m2 * p.radiator_areal_mass_kg_per_m2
    comms = p.comms_mass_kg_per_satellite + 0.0 * compute
    avionics = p.avionics_propulsion_mass_kg_per_satellite + 0.0 * compute
    subsystems = compute + shielding + array + battery + radiator + comms + avionics
    structure = p.structure_mass_fraction * subsystems
    margin = p.mass_margin_fraction * (subsystems + structure)
    dry = subsystems + structure + margin
    dv_keep = p.station_keeping_delta_v_m_per_s_per_year * design.mission_years
    dv_total = dv_keep + p.deorbit_delta_v_m_per_s
    propellant = dry * np.expm1(dv_total / (p.thruster_isp_s * STANDARD_GRAVITY_M_S2))
    # Apportion the propellant by Δv so disposal (end of life) can be costed on its own line.
    keep_share = np.where(dv_total > 0.0, dv_keep / np.where(dv_total > 0.0, dv_total, 1.0), 0.0)
    return MassBreakdown(
        compute_kg=compute,
        shielding_kg=shielding,
        solar_array_kg=array,
        battery_kg=battery,
        radiator_kg=radiator,
        comms_kg=comms,
        avionics_propulsion_kg=avionics,
        structure_kg=structure,
        margin_kg=margin,
        station_keeping_propellant_kg=propellant * keep_share,
        deorbit_propellant_kg=propellant * (1.0 - keep_share),
    )


def size_satellite(
    accelerator: str,
    accelerators_per_satellite: Number,
    satellite_count: Number,
    mission_years: Number,
    params: EconomicParameters,
    *,
    sunlit_fraction: Number = 0.63,
    eclipse_duration_s: Number = 35.5 * 60.0,
    bus_power_w: Number = 0.0,
) -> SatelliteDesign:
    """First-order sizing of a design when no time simulation is at hand (tests, benchmarks).

    Model: load = n_acc · TDP · (1 + host overhead) + bus power; array at end of life carries
    the load in sunlight and recharges the battery for eclipse, P_eol = load (1 + (1 − f) /
    (f η_rt)), oversized for degradation P_bol = P_eol / (1 − d)^years; battery E = load ·
    t_eclipse / DoD; radiator A = load / q_net (Starcloud white paper net 633 W/m²). The same
    energy balance as spacedc-mdao 0.4.2 ``models/power.py``. Defaults are a 550 km orbit at
    β = 0 (sunlit 0.63, 35.5 min eclipse). The engine's power and thermal stages replace this.
    """
    catalog = accelerator_catalog()
    if accelerator not in catalog:
        raise ScenarioError(
            f"economics: unknown accelerator {accelerator!r}; allowed: {', '.join(catalog)}",
            "accelerator",
            accelerator,
        )
    p = params
    tdp_w = catalog[accelerator].tdp_w
    load_w = accelerators_per_satellite * tdp_w * (1.0 + p.host_power_overhead_fraction)
    load_w = load_w + bus_power_w
    f_sun = np.asarray(sunlit_fraction, dtype=float)
    if np.any((f_sun <= 0.0) | (f_sun > 1.0)):
        raise ScenarioError(
            f"economics: sunlit_fraction {sunlit_fraction!r} must be in (0, 1]",
            "sunlit_fraction",
            sunlit_fraction,
        )
    eclipse_share = (1.0 - f_sun) / f_sun
    array_eol_w = load_w * (1.0 + eclipse_share / p.battery_round_trip_efficiency)
    array_bol_w = array_eol_w / (1.0 - p.solar_array_degradation_per_year) ** mission_years
    battery_wh = load_w * (eclipse_duration_s / 3600.0) / p.battery_depth_of_discharge
    radiator_m2 = load_w / p.radiator_net_flux_w_per_m2
    return SatelliteDesign(
        accelerator=accelerator,
        accelerators_per_satellite=accelerators_per_satellite,
        solar_array_power_w=array_bol_w,
        battery_energy_wh=battery_wh,
        radiator_area_m2=radiator_m2,
        satellite_count=satellite_count,
        mission_years=mission_years,
        bus_power_w=bus_power_w,
    )
