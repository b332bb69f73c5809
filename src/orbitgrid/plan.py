"""The plan: a scenario expanded into per-satellite arrays, once, before the time loop.

Stages never read the YAML model inside the time loop; they read the plan, where every
satellite is a row: its shell, plane and slot, its orbit source (designed elements or an element
set) and its spacecraft parameters as flat arrays. Satellites are numbered shell by shell in
scenario order, plane-major within a designed shell, file order within an element file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from orbitgrid.constants import SECONDS_PER_DAY, WGS84
from orbitgrid.errors import (
    InputFileError,
    OrbitgridError,
    ScenarioError,
    shorten,
)
from orbitgrid.input_files import (
    MAX_ELEMENT_FILE_BYTES,
    MAX_ENDPOINT_FILE_BYTES,
    head_text,
    looks_like_elements,
    looks_like_endpoints,
    read_regular_file,
)
from orbitgrid.orbits.j2 import secular_rates
from orbitgrid.orbits.shells import (
    CircularElements,
    sun_synchronous_elements,
    walker_elements,
)
from orbitgrid.orbits.sun import sun_position_km
from orbitgrid.orbits.timescale import julian_date_split
from orbitgrid.scenario import CatalogShell, Scenario, Spacecraft, SunSynchronousShell, WalkerShell
from orbitgrid.spacecraft.accelerators import accelerator_catalog
from orbitgrid.spacecraft.operations import SpacecraftArrays
from orbitgrid.spacecraft.power import POINTING_CODES


@dataclass(frozen=True)
class ShellPlan:
    """One shell's satellites: a slice of the satellite axis and where their orbits come from."""

    name: str
    kind: str  # "walker", "sso", "tle" or "omm"
    satellites: slice
    spacecraft: str
    circular: CircularElements | None = None  # designed shells
    elements: object | None = None  # element-file shells: an orbits.elements.ElementSet
    planes: int | None = None
    sats_per_plane: int | None = None
    # ``planes: auto`` shells: the network.grouping.GroupingResult found at the start (it may
    # split one file into several sub-shells, each with its own planes × slots).
    grouping: object | None = None

    @property
    def size(self) -> int:
        return self.satellites.stop - self.satellites.start


@dataclass(frozen=True)
class Plan:
    """A scenario expanded for the engine (see module docstring)."""

    scenario: Scenario
    shells: tuple[ShellPlan, ...]
    satellite_names: np.ndarray  # [satellite] str
    shell_index: np.ndarray  # [satellite] int
    plane_index: np.ndarray  # [satellite] int, −1 where unknown
    slot_index: np.ndarray  # [satellite] int, −1 where unknown
    orbital_period_s: np.ndarray  # [satellite]
    spacecraft: SpacecraftArrays
    installed_tflops: np.ndarray  # [satellite] dense TFLOPS at full power
    accelerator_count: np.ndarray  # [satellite]
    times_utc: np.ndarray  # [time] datetime64[ns]

    @property
    def satellite_count(self) -> int:
        return int(self.shell_index.shape[0])

    @property
    def step_count(self) -> int:
        return int(self.times_utc.shape[0])

    def __repr__(self) -> str:
        return (
            f"<Plan {self.scenario.name!r}: {self.satellite_count} satellites in "
            f"{len(self.shells)} shell(s) × {self.step_count} steps>"
        )


def time_grid(scenario: Scenario) -> np.ndarray:
    """UTC times of the grid, datetime64[ns]: start + k·step for k = 0 … step_count−1."""
    start = np.datetime64(scenario.time.start.replace(tzinfo=None), "ns")
    step_ns = round(scenario.time.step_s * 1e9)
    return start + np.arange(scenario.time.step_count, dtype=np.int64) * np.timedelta64(
        step_ns, "ns"
    )


def _designed_elements(
    shell: WalkerShell | SunSynchronousShell, start_utc: np.datetime64
) -> CircularElements:
    if isinstance(shell, WalkerShell):
        return walker_elements(
            shell.altitude_km,
            shell.inclination_deg,
            shell.planes,
            shell.sats_per_plane,
            shell.phasing,
            shell.pattern,
            shell.raan_offset_deg,
        )
    whole, fraction = julian_date_split(np.array([start_utc]))
    sun = sun_position_km(whole, fraction)[0]
    return sun_synchronous_elements(
        shell.altitude_km,
        shell.ltan_h,
        shell.planes,
        shell.sats_per_plane,
        shell.phasing,
        math.atan2(sun[1], sun[0]),
    )


def _load_elements(shell: CatalogShell, scenario: Scenario, index: int):
    """The element set of a catalog shell, read as untrusted input (``input_files``).

    The file must be a regular file within ``MAX_ELEMENT_FILE_BYTES`` that starts like a TLE,
    3LE or OMM file; anything else is refused with a message that quotes none of its content
    (the element reader shows the offending line, which is right for a broken TLE file but
    must not print ``/etc/shadow``).
    """
    from orbitgrid.orbits.elements import _EXTENSION_HINTS, parse_elements

    field = f"constellation[{index}].file"
    path = scenario.resolve(shell.file)
    what = f"{field}: element file"
    try:
        raw = read_regular_file(path, what, MAX_ELEMENT_FILE_BYTES)
    except InputFileError as error:
        raise ScenarioError(str(error), path=field, value=str(shell.file)) from None
    if not looks_like_elements(raw[:4096].decode("utf-8", errors="replace")):
        raise ScenarioError(
            f"{what} {shorten(str(shell.file))} does not start like a TLE, 3LE or CCSDS OMM "
            "file (its content is not shown); give an element file",
            path=field,
            value=str(shell.file),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ScenarioError(
            f"{what} {shorten(str(shell.file))}, line {line}: not UTF-8 text",
            path=field,
            value=str(shell.file),
        ) from None
    elements = parse_elements(
        text, source_name=str(path), format_hint=_EXTENSION_HINTS.get(path.suffix.lower())
    )
    if len(elements.names) == 0:
        raise OrbitgridError(f"shell {shell.name!r}: {path} holds no satellites")
    return elements


def check_endpoint_files(scenario: Scenario) -> None:
    """Refuse endpoint files that are not regular, bounded CSVs with the endpoint header.

    The network stage reads them later (``network.endpoints``); checking here makes
    ``orbitgrid validate`` catch them, and keeps a file of another kind from being read (and
    its lines quoted in a parse error) at all.
    """
    network = scenario.network
    if network is None:
        return
    for i, name in enumerate(network.endpoint_files):
        if name.startswith("builtin:"):
            continue
        field = f"network.endpoint_files[{i}]"
        what = f"{field}: endpoint file"
        try:
            head = head_text(scenario.resolve(Path(name)), what, MAX_ENDPOINT_FILE_BYTES)
        except InputFileError as error:
            raise ScenarioError(str(error), path=field, value=name) from None
        if not looks_like_endpoints(head):
            raise ScenarioError(
                f"{what} {shorten(name)} does not start with the endpoint CSV header "
                "(name,kind,latitude_deg,longitude_deg,...; its content is not shown)",
                path=field,
                value=name,
            )


def _auto_grouping(elements, start_utc: np.datetime64):
    """Shells, planes and slots of an element set from its osculating state at ``start_utc``.

    Inclination, RAAN and argument of latitude come from r and v (SGP4, TEME) at the scenario
    start, so every satellite is seen at the same instant; mean motion and eccentricity are the
    elements' own. ``network.grouping.group_catalog`` does the clustering.
    """
    from orbitgrid.network.grouping import group_catalog
    from orbitgrid.orbits.sgp4_propagation import propagate_teme

    r, v, _ = propagate_teme(elements, np.array([start_utc]))
    r, v = r[0], v[0]
    h = np.cross(r, v)
    h_unit = h / np.linalg.norm(h, axis=-1, keepdims=True)
    inclination = np.degrees(np.arccos(np.clip(h_unit[:, 2], -1.0, 1.0)))
    node = np.stack([-h[:, 1], h[:, 0], np.zeros(len(h))], axis=-1)  # ẑ × h
    node /= np.linalg.norm(node, axis=-1, keepdims=True)
    raan = np.degrees(np.arctan2(node[:, 1], node[:, 0])) % 360.0
    r_unit = r / np.linalg.norm(r, axis=-1, keepdims=True)
    sin_u = np.einsum("sk,sk->s", h_unit, np.cross(node, r_unit))
    cos_u = np.einsum("sk,sk->s", node, r_unit)
    latitude_arg = np.degrees(np.arctan2(sin_u, cos_u)) % 360.0
    return group_catalog(
        inclination,
        raan,
        np.asarray(elements.mean_motion_rev_per_day),
        np.asarray(elements.eccentricity),
        latitude_arg,
    )


def _spacecraft_arrays(designs: list[Spacecraft], counts: list[int]) -> SpacecraftArrays:
    """Repeat each shell's design parameters over its satellites."""
    catalog = accelerator_catalog()

    def column(getter, dtype=np.float64) -> np.ndarray:
        return np.repeat(np.array([getter(d) for d in designs], dtype=dtype), counts)

    def installed_w(d: Spacecraft) -> float:
        part = catalog[d.compute.accelerator]
        return d.compute.count * part.tdp_w * (1.0 + d.compute.host_overhead_fraction)

    def initial_temperature(d: Spacecraft) -> float:
        if d.radiator.initial_temperature_k is not None:
            return d.radiator.initial_temperature_k
        return d.compute.max_temperature_k - 20.0

    return SpacecraftArrays(
        array_area_efficiency_m2=column(lambda d: d.solar_array.area_m2 * d.solar_array.efficiency),
        degradation_per_year=column(lambda d: d.solar_array.degradation_per_year),
        age_at_start_s=column(lambda d: d.age_at_start_s),
        pointing_code=column(lambda d: POINTING_CODES[d.solar_array.pointing], np.int64),
        battery_capacity_wh=column(lambda d: d.battery.capacity_wh),
        battery_floor_wh=column(
            lambda d: d.battery.capacity_wh * (1.0 - d.battery.depth_of_discharge)
        ),
        charge_efficiency=column(lambda d: math.sqrt(d.battery.round_trip_efficiency)),
        discharge_efficiency=column(lambda d: math.sqrt(d.battery.round_trip_efficiency)),
        initial_energy_wh=column(
            lambda d: d.battery.capacity_wh * d.battery.initial_state_of_charge
        ),
        radiator_face_area_m2=column(lambda d: d.radiator.area_m2),
        radiator_sides=column(lambda d: d.radiator.sides, np.int64),
        emissivity=column(lambda d: d.radiator.emissivity),
        absorptivity=column(lambda d: d.radiator.absorptivity),
        heat_capacity_j_k=column(lambda d: d.radiator.heat_capacity_j_k),
        sun_view_factor=column(lambda d: d.radiator.sun_view_factor),
        initial_temperature_k=column(initial_temperature),
        max_temperature_k=column(lambda d: d.compute.max_temperature_k),
        bus_power_w=column(lambda d: d.bus_power_w),
        compute_power_installed_w=column(installed_w),
    )


def build_plan(scenario: Scenario) -> Plan:
    """Expand ``scenario`` into a ``Plan`` (loads element files, derives designed elements)."""
    times = time_grid(scenario)
    shells: list[ShellPlan] = []
    names: list[np.ndarray] = []
    planes: list[np.ndarray] = []
    slots: list[np.ndarray] = []
    periods: list[np.ndarray] = []
    start = 0
    check_endpoint_files(scenario)
    for index, shell in enumerate(scenario.constellation):
        if isinstance(shell, CatalogShell):
            elements = cached_elements(shell, scenario, index)
            size = len(elements.names)
            plan = ShellPlan(
                shell.name,
                shell.type,
                slice(start, start + size),
                shell.spacecraft,
                elements=elements,
                planes=shell.planes,
                sats_per_plane=shell.sats_per_plane,
            )
            names.append(np.array(elements.names, dtype=str))
            if shell.planes == "auto":
                grouping = _auto_grouping(elements, times[0])
                plan = replace(plan, planes=None, grouping=grouping)
                planes.append(grouping.constellation.plane_index)
                slots.append(grouping.constellation.slot_index)
            elif shell.planes is not None:
                if shell.planes * shell.sats_per_plane != size:
                    raise ScenarioError(
                        f"shell {shell.name!r}: planes × sats_per_plane = {shell.planes} × "
                        f"{shell.sats_per_plane} = {shell.planes * shell.sats_per_plane}, but "
                        f"{shell.file} holds {size} satellites; they must match",
                        path="constellation.planes",
                        value=shell.planes,
                    )
                planes.append(np.arange(size) // shell.sats_per_plane)
                slots.append(np.arange(size) % shell.sats_per_plane)
            else:
                planes.append(np.full(size, -1))
                slots.append(np.full(size, -1))
            periods.append(SECONDS_PER_DAY / np.asarray(elements.mean_motion_rev_per_day))
        else:
            circular = _designed_elements(shell, times[0])
            size = len(circular)
            plan = ShellPlan(
                shell.name,
                shell.type,
                slice(start, start + size),
                shell.spacecraft,
                circular=circular,
                planes=shell.planes,
                sats_per_plane=shell.sats_per_plane,
            )
            names.append(
                np.array(
                    [
                        f"{shell.name}-{p}-{s}"
                        for p, s in zip(circular.plane_index, circular.slot_index, strict=True)
                    ]
                )
            )
            planes.append(circular.plane_index)
            slots.append(circular.slot_index)
            _, u_rate = secular_rates(circular.semi_major_axis_km, circular.inclination_rad, WGS84)
            periods.append(2.0 * math.pi / u_rate)
        shells.append(plan)
        start += size

    counts = [s.size for s in shells]
    designs = [scenario.spacecraft[s.spacecraft] for s in shells]
    catalog = accelerator_catalog()
    return Plan(
        scenario=scenario,
        shells=tuple(shells),
        satellite_names=np.concatenate(names),
        shell_index=np.repeat(np.arange(len(shells)), counts),
        plane_index=np.concatenate(planes),
        slot_index=np.concatenate(slots),
        orbital_period_s=np.concatenate(periods),
        spacecraft=_spacecraft_arrays(designs, counts),
        installed_tflops=np.repeat(
            [d.compute.count * catalog[d.compute.accelerator].dense_tflops for d in designs],
            counts,
        ).astype(np.float64),
        accelerator_count=np.repeat([d.compute.count for d in designs], counts),
        times_utc=times,
    )


def cached_elements(shell: CatalogShell, scenario: Scenario, index: int):
    """``_load_elements`` remembered per file version: the estimate and the plan share it."""
    path = scenario.resolve(shell.file)
    try:
        info = path.stat()
        key = (str(path.absolute()), info.st_mtime_ns, info.st_size)
    except (OSError, ValueError):
        return _load_elements(shell, scenario, index)  # reports the problem with the field
    if key not in _ELEMENT_CACHE:
        if len(_ELEMENT_CACHE) >= 8:
            _ELEMENT_CACHE.pop(next(iter(_ELEMENT_CACHE)))
        _ELEMENT_CACHE[key] = _load_elements(shell, scenario, index)
    return _ELEMENT_CACHE[key]


_ELEMENT_CACHE: dict[tuple[str, int, int], object] = {}
