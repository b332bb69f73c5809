"""The size guard: the memory, disk and time a run will need, estimated from the scenario
before anything large is allocated, and the refusal of a run that cannot fit this machine
(``orbitgrid run --force`` skips it; docs/security.md).

Every term is a count of the scenario (satellites, steps, endpoint pairs, workload users,
classes, sites and options, observation tiles) times a constant measured on the shipped
scenarios and on larger copies of them; the comments above each group of constants say what
was measured and how. The constants are about twice the measurements: an estimate errs on
the generous side.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from orbitgrid.engine import steps_per_chunk
from orbitgrid.errors import ResourceError
from orbitgrid.input_files import MAX_ENDPOINT_FILE_BYTES, read_regular_file
from orbitgrid.network.build import serves_workloads_only
from orbitgrid.plan import cached_elements, check_endpoint_files
from orbitgrid.scenario import CatalogShell, Scenario

# Constants of the estimate, measured on the shipped scenarios (2 cores, 2026): the run's
# process before its first chunk (Python, numba, xarray, zarr), the working set of one
# satellite-step inside a chunk (positions, Sun, power, thermal, sub-points: ~40 float64
# arrays), a stored satellite-step (18 float32 variables) and a stored endpoint pair-step
# (6 variables of 4 bytes). Rates are the slower ends of what ``satellite_steps_per_s``
# reports: 5e5 without a network section, 3.5e4 with one.
BASE_MEMORY_BYTES = 600 * 2**20
WORKING_BYTES_PER_SATELLITE_STEP = 400
STORED_BYTES_PER_SATELLITE_STEP = 18 * 4
STORED_BYTES_PER_PAIR_STEP = 6 * 4
SATELLITE_STEPS_PER_S = 2e5
NETWORK_SATELLITE_STEPS_PER_S = 2e4
# A run estimated to take longer than this is refused like one that does not fit in memory:
# on this machine it would not end in a useful time.
MAX_RUN_TIME_S = 7 * 86400.0
# Share of the available memory / free disk a run may plan to use.
MEMORY_SHARE = 0.8
DISK_SHARE = 0.9

# The workload stage (``workloads.stage``). Measured on 2026-11-30 with ``/usr/bin/time -v
# orbitgrid run … --no-report -q --force`` (peak RSS, wall time; 2 cores, 1-min load average
# 1.4–2.5 from other jobs unless said) on the shipped ai-service-remote and on copies of
# ``benchmarks/bench_workloads.py``'s scenario (ai-service-remote on Starlink shell 1 at 10 s:
# 1,648 satellites, 2 classes, 6 sites, 4 options, stored every 10 min) with more
# populations, options or classes. Without the section the same runs take 301 MiB (30 min)
# and 691 MiB, 2.8–3.4 s (the shipped day at 60 s):
#   shipped (11 populations, 32 user endpoints)   1,007 MiB, 8.6 s (load 0.3) / 16–17 s
#   1,000 populations, 30 / 60 min                802 / 854 MiB, 12 ms a step
#   the same with 16 options instead of 4         1,632 MiB, 77 ms a step
#   4,000 ships in 5 fleets / 4,000 populations   730 / 1,075 MiB (30 min)
#   10,000 populations, 10 min                    1,882 MiB, 0.6 s a step
#   100,000 ships in 5 fleets, 2 min              1,157 MiB; 187 s of set-up (before
#                                                 the names were checked in linear
#                                                 time: now 15 s), 1.5 s a step
#   2,000 populations × 10 classes × 20 options   3,443 MiB, 607 MiB on disk, 44 s (1 step)
# The stage works in blocks of steps × users × classes × sites ≤ ``GROUP_STEPS_PER_BLOCK``
# (one step when a step alone is larger), holding ~10 float64 arrays of that size and ~8
# more per option (each option's flows stay until the block's outputs are stacked: 60 B
# per element and option measured); per (block step, queue, class) the queues' loads and
# waits (a queue per routed site, per satellite of an overhead site's shell, per user of an
# on-device site); the per-population sums (a (step, population) index per user); per
# (option, population, class) the summary's counters and three histograms, and at the end
# that row's figures in summary.json and the CSV tables (6.9 KiB of memory and 1.6–2 KiB
# on disk a row measured). Time: 0.2–0.4 µs per (step, user, class, site, option); the
# site searches and the ground-link scan, ≤ 0.4 µs per (step, routed site, node); the
# per-population sums, ~20 ns per (step, option, user) (two ``bincount``s of ~8 ns); at
# set-up 0.15–0.25 ms per ship or aircraft (its track: 15 s for 100,000 ships in 5 fleets,
# ``users.build_users``); ~0.1 ms per summary row. The constants below are about twice
# these: the estimates of the runs above are 1.4–2.2 × their peak memory and 1.1–3.4 ×
# their time.
WORKLOAD_BASE_BYTES = 400 * 2**20
WORKLOAD_GROUP_STEPS_PER_BLOCK = 1_000_000  # workloads.stage.GROUP_STEPS_PER_BLOCK
WORKLOAD_BYTES_PER_GROUP = 80
WORKLOAD_BYTES_PER_GROUP_OPTION = 80
WORKLOAD_BYTES_PER_QUEUE_CLASS = 100
WORKLOAD_BYTES_PER_ENDPOINT = 4096
WORKLOAD_BYTES_PER_ROW = 8192
WORKLOAD_DISK_BYTES_PER_ROW = 4096
WORKLOAD_S_PER_GROUP_OPTION = 1e-6
WORKLOAD_S_PER_SEARCH_NODE = 1e-6
WORKLOAD_S_PER_QUEUE_CLASS_OPTION = 1e-7
WORKLOAD_S_PER_USER_OPTION = 4e-8
WORKLOAD_S_PER_MOVER = 5e-4
WORKLOAD_S_PER_FIXED_ENDPOINT = 2e-5
WORKLOAD_S_PER_SITE_CLASS = 2e-3
WORKLOAD_S_PER_ROW = 2e-4

# Earth observation (``observation.stage``, ``observation.delivery``). Every tile captured
# in the run is kept until the run's end and then delivered per strategy over the contact
# plan, so the section grows with the run: it is not bounded by a chunk, and a short tile
# or a large constellation makes it large. Tiles per satellite-step are at most sub-point
# speed × step × duty cycle / tile length (7.9 km/s bounds the speed in low orbit), times
# the share in daylight (the Sun is at least e above the horizon on (1 − sin e) / 2 of the
# sphere; 1.2 × that, for orbits that favour daylight) and over land (29 % of the surface;
# 0.35 taken). Measured on 2026-11-30 (``/usr/bin/time -v orbitgrid run``, load 1.3–1.7):
# eo-sentinel2-like, 1,443 tiles (2,867 estimated); eo-dove-like (12 satellites, a day at
# 10 s, 4 strategies) with 24 / 2.4 / 0.8 km tiles: 42,072 / 420,781 / 1,262,353 tiles
# (1.4 × that estimated) took 439 / 802 / 1,623 MiB and 4.2 / 12.8 / 74.6 s: ~250 B and
# 6–18 µs per tile and strategy (the time grows with the tiles waiting on board, sorted
# again in each admission window) and ~20 B per tile and strategy on disk (the bundle
# table). The constants are 1.5–2.5 × that; the processing capacity kept per admission
# window and satellite (float64) and the backlog map's sub-points are added.
OBSERVATION_GROUND_SPEED_KM_S = 7.9
OBSERVATION_DAYLIGHT_MARGIN = 1.2
OBSERVATION_LAND_SHARE = 0.35
OBSERVATION_BYTES_PER_TILE_STRATEGY = 384
OBSERVATION_DISK_BYTES_PER_TILE_STRATEGY = 64
OBSERVATION_S_PER_TILE_STRATEGY = 2.5e-5
OBSERVATION_BYTES_PER_WINDOW_SATELLITE = 16


@dataclass(frozen=True)
class RunEstimate:
    """Memory, disk and time a run is expected to need (rough, on the generous side).

    ``populations``…``options``: the size of the ``workloads`` section (``user_endpoints``:
    its fixed populations plus every ship and aircraft); ``tiles``/``strategies``: the
    tiles the ``observation`` section is expected to capture and its strategies (0 without
    the section)."""

    satellites: int
    steps: int
    stored_steps: int
    endpoints: int
    memory_bytes: int
    disk_bytes: int
    time_s: float
    populations: int = 0
    user_endpoints: int = 0
    classes: int = 0
    sites: int = 0
    options: int = 0
    tiles: int = 0
    strategies: int = 0

    def describe(self) -> str:
        parts = [f"{self.satellites:,} satellites × {self.steps:,} steps"]
        if self.endpoints:
            parts.append(f"{self.endpoints:,} endpoints")
        if self.populations:
            parts.append(
                f"workloads of {_count(self.populations, 'population')} "
                f"({_count(self.user_endpoints, 'user endpoint')}) × "
                f"{_count(self.classes, 'class', 'classes')} × {_count(self.sites, 'site')} × "
                f"{_count(self.options, 'option')}"
            )
        if self.strategies:
            parts.append(
                f"observation of about {_count(self.tiles, 'tile')} × "
                f"{_count(self.strategies, 'strategy', 'strategies')}"
            )
        return (
            ", ".join(parts)
            + f": about {_size(self.memory_bytes)} of memory, {_size(self.disk_bytes)} of "
            f"disk, {_duration(self.time_s)}"
        )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PiB"


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.0f} s"


def _shell_sizes(scenario: Scenario) -> dict[str, int]:
    """Satellites per shell name: designed shells counted, element files read (cached)."""
    sizes = {}
    for index, shell in enumerate(scenario.constellation):
        if isinstance(shell, CatalogShell):
            sizes[shell.name] = len(cached_elements(shell, scenario, index).names)
        else:
            sizes[shell.name] = shell.planes * shell.sats_per_plane
    return sizes


def satellite_count(scenario: Scenario) -> int:
    """Satellites of the scenario: designed shells counted, element files read (cached)."""
    return sum(_shell_sizes(scenario).values())


def _endpoint_count(scenario: Scenario) -> int:
    network = scenario.network
    if network is None:
        return 0
    count = len(network.endpoints)
    for name in network.endpoint_files:
        if name.startswith("builtin:"):
            from orbitgrid.network.endpoints import builtin_endpoints

            count += len(builtin_endpoints(name[8:]))
        else:
            # Lines of a checked, bounded file: an upper bound of its rows.
            raw = read_regular_file(
                scenario.resolve(Path(name)), "endpoint file", MAX_ENDPOINT_FILE_BYTES
            )
            count += raw.count(b"\n") + 1
    return count


@dataclass(frozen=True)
class _Terms:
    """One section's share of the estimate: memory while running, bytes of each stored
    step (the dataset), other bytes written, seconds."""

    memory_bytes: float = 0.0
    stored_bytes_per_step: float = 0.0
    disk_bytes: float = 0.0
    time_s: float = 0.0


def _workload_terms(
    scenario: Scenario, shells: dict[str, int], steps: int, chunk_steps: int, chunk_stored: int
) -> _Terms:
    """The ``workloads`` section's memory, disk and time (constants above), from its counts
    alone: nothing is expanded, so a section of billions of endpoints is estimated at once."""
    config = scenario.workloads
    satellites = sum(shells.values())
    users = config.user_endpoints
    movers = users - sum(1 for p in config.populations if p.kind == "fixed")
    n_pop, n_cls = len(config.populations), len(config.classes)
    n_site, n_opt = len(config.sites), len(config.options)
    kinds = [s.kind for s in config.sites]
    routed = kinds.count("ground_dc") + kinds.count("orbital_cluster")
    queues = routed + users * kinds.count("on_device")
    queues += sum(shells.get(s.shell, 0) for s in config.sites if s.kind == "overhead_satellite")
    streams = sum(len(s.updates) for s in config.sites)
    rows = n_opt * n_pop * n_cls
    bins = config.histogram_bins
    per_step = users * n_cls * n_site
    block = min(chunk_steps, max(1, WORKLOAD_GROUP_STEPS_PER_BLOCK // max(1, per_step)))
    summary = 8 * (rows * (3 * bins + 14 + n_site) + n_pop * streams * (bins + 1) + 2 * users)
    stored_per_step = 4 * (n_opt * (5 + users + 2 * n_pop) + 3 * users)
    memory = (
        WORKLOAD_BASE_BYTES
        + block * per_step * (WORKLOAD_BYTES_PER_GROUP + n_opt * WORKLOAD_BYTES_PER_GROUP_OPTION)
        + block * queues * n_cls * WORKLOAD_BYTES_PER_QUEUE_CLASS
        + 16 * block * users  # the per-population sums' (step, population) index
        + users * WORKLOAD_BYTES_PER_ENDPOINT
        + summary
        + rows * WORKLOAD_BYTES_PER_ROW
        + 2 * chunk_stored * stored_per_step  # a chunk's stored steps, and their concatenation
    )
    nodes = satellites + users + kinds.count("ground_dc")
    per_step_s = (
        per_step * n_opt * WORKLOAD_S_PER_GROUP_OPTION
        + (routed + 1) * nodes * WORKLOAD_S_PER_SEARCH_NODE
        + queues * n_cls * n_opt * WORKLOAD_S_PER_QUEUE_CLASS_OPTION
        + n_opt * users * WORKLOAD_S_PER_USER_OPTION
    )
    setup_s = (
        movers * WORKLOAD_S_PER_MOVER
        + (users - movers) * WORKLOAD_S_PER_FIXED_ENDPOINT
        + n_site * n_cls * WORKLOAD_S_PER_SITE_CLASS
    )
    return _Terms(
        memory_bytes=memory,
        stored_bytes_per_step=stored_per_step,
        # The run's tables, and a checkpoint of the summary (with the one it replaces).
        disk_bytes=rows * WORKLOAD_DISK_BYTES_PER_ROW + 2 * summary,
        time_s=setup_s + steps * per_step_s + rows * WORKLOAD_S_PER_ROW,
    )


def _observation_tiles(scenario: Scenario, shells: dict[str, int], steps: int) -> int:
    """Tiles the ``observation`` section is expected to capture (see the constants)."""
    step_s = scenario.time.step_s
    tiles = 0.0
    for sensor in scenario.observation.sensors:
        daylight = (1.0 - math.sin(math.radians(sensor.min_sun_elevation_deg))) / 2.0
        share = min(1.0, OBSERVATION_DAYLIGHT_MARGIN * daylight)
        if sensor.land_only:
            share *= OBSERVATION_LAND_SHARE
        per_step = OBSERVATION_GROUND_SPEED_KM_S * step_s * sensor.duty_cycle
        tiles += shells.get(sensor.shell, 0) * steps * share * per_step / sensor.tile_along_km
    return math.ceil(tiles)


def _observation_terms(
    scenario: Scenario, shells: dict[str, int], steps: int, stored_steps: int
) -> _Terms:
    """The ``observation`` section's memory, disk and time (constants above)."""
    config = scenario.observation
    satellites = sum(shells.values())
    tiles = _observation_tiles(scenario, shells, steps)
    strategies = len(config.strategies)
    windows = math.ceil(steps * scenario.time.step_s / max(config.window_s, scenario.time.step_s))
    per_window = windows * satellites * OBSERVATION_BYTES_PER_WINDOW_SATELLITE
    return _Terms(
        memory_bytes=tiles * strategies * OBSERVATION_BYTES_PER_TILE_STRATEGY
        + per_window
        + 16 * stored_steps * satellites,  # sub-points of the backlog map
        disk_bytes=tiles * strategies * OBSERVATION_DISK_BYTES_PER_TILE_STRATEGY
        + per_window
        + 16 * stored_steps * satellites,
        time_s=tiles * strategies * OBSERVATION_S_PER_TILE_STRATEGY,
    )


def estimate_run(scenario: Scenario, in_memory: bool = False) -> RunEstimate:
    """Estimate the memory, disk and time of a run of ``scenario`` before it starts.

    Memory: the base process, the time grid (8 bytes a step, held whole), one chunk's
    working set (``engine.chunk_satellite_steps`` satellite-steps), per-satellite state, the
    network's routing block, the workload and observation sections (``_workload_terms``,
    ``_observation_terms``) and, for a run kept in memory, the stored dataset twice (the
    chunks and their concatenation). Disk: the stored dataset uncompressed (Zarr compresses
    it, so this is an upper bound) and the sections' tables. Time: satellite-steps at the
    rates above, and the sections' own.
    """
    check_endpoint_files(scenario)
    shells = _shell_sizes(scenario)
    satellites = sum(shells.values())
    steps = scenario.time.step_count
    stride = scenario.output_stride
    stored_steps = -(-steps // stride) if scenario.output.dataset else 0
    endpoints = _endpoint_count(scenario)
    pairs = endpoints * max(endpoints - 1, 0)
    chunk_steps = min(steps, steps_per_chunk(scenario, satellites))
    chunk_stored = -(-chunk_steps // stride) if scenario.output.dataset else 0
    workloads = scenario.workloads
    observation = scenario.observation
    sections = []
    if workloads is not None:
        sections.append(_workload_terms(scenario, shells, steps, chunk_steps, chunk_stored))
    if observation is not None:
        sections.append(_observation_terms(scenario, shells, steps, stored_steps))
    stored = stored_steps * (
        satellites * STORED_BYTES_PER_SATELLITE_STEP
        + pairs * STORED_BYTES_PER_PAIR_STEP
        + sum(s.stored_bytes_per_step for s in sections)
    )
    memory = (
        BASE_MEMORY_BYTES
        + steps * 8
        + chunk_steps * satellites * WORKING_BYTES_PER_SATELLITE_STEP
        + satellites * 4096
        + (200 * 2**20 if endpoints else 0)
        + sum(s.memory_bytes for s in sections)
        + (2 * stored if in_memory else 32 * 2**20)
    )
    # The engine runs the network stage (all endpoint pairs) unless the network section is
    # there only for the workloads' links (``engine.default_stages``).
    network_stage = scenario.network is not None and not serves_workloads_only(scenario)
    rate = NETWORK_SATELLITE_STEPS_PER_S if network_stage else SATELLITE_STEPS_PER_S
    return RunEstimate(
        satellites=satellites,
        steps=steps,
        stored_steps=stored_steps,
        endpoints=endpoints,
        memory_bytes=int(memory),
        disk_bytes=0 if in_memory else int(stored + sum(s.disk_bytes for s in sections)),
        time_s=satellites * steps / rate + sum(s.time_s for s in sections),
        populations=0 if workloads is None else len(workloads.populations),
        user_endpoints=0 if workloads is None else workloads.user_endpoints,
        classes=0 if workloads is None else len(workloads.classes),
        sites=0 if workloads is None else len(workloads.sites),
        options=0 if workloads is None else len(workloads.options),
        tiles=0 if observation is None else _observation_tiles(scenario, shells, steps),
        strategies=0 if observation is None else len(observation.strategies),
    )


def available_memory_bytes() -> int:
    """Memory available to a new process: MemAvailable of /proc/meminfo, else free pages."""
    try:
        with open("/proc/meminfo", "rb") as handle:
            for line in handle:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62  # unknown: do not refuse on memory


def check_fits(estimate: RunEstimate, out_dir: Path | None) -> None:
    """Raise ``ResourceError`` when the run cannot fit this machine.

    The message gives the estimate, what is available and the fields that change it; the
    CLI's ``--force`` (``run(..., force=True)``) skips this check knowingly.
    """
    problems = []
    memory = available_memory_bytes()
    if estimate.memory_bytes > MEMORY_SHARE * memory:
        problems.append(
            f"memory: about {_size(estimate.memory_bytes)} needed, {_size(memory)} available"
        )
    if out_dir is not None and estimate.disk_bytes:
        folder = Path(out_dir).absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free = shutil.disk_usage(folder).free
        if estimate.disk_bytes > DISK_SHARE * free:
            problems.append(
                f"disk: up to {_size(estimate.disk_bytes)} of dataset and tables, "
                f"{_size(free)} free under {folder}"
            )
    if estimate.time_s > MAX_RUN_TIME_S:
        problems.append(
            f"time: about {_duration(estimate.time_s)}, more than the "
            f"{_duration(MAX_RUN_TIME_S)} a run may take"
        )
    if problems:
        sections = ""
        if estimate.populations:
            sections += (
                ", workloads.populations (and their ships' and aircraft's count), "
                "workloads.options, classes or sites, workloads.histogram_bins"
            )
        if estimate.strategies:
            sections += ", observation.sensors (tile_length, duty_cycle), observation.strategies"
        raise ResourceError(
            "this run would not fit this machine ("
            + estimate.describe()
            + "):\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nchange time.step or time.duration (steps), the constellation's size "
            "(satellites), output.every or output.dataset: false (stored data)"
            + sections
            + ", or engine.chunk_satellite_steps (memory per chunk); or pass --force to run "
            "anyway",
            path="time.step",
        )
