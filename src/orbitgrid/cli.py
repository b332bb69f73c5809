"""Command line: ``orbitgrid run | validate | sweep | report | export | compare | paths |
scenarios``.

User errors (``OrbitgridError``: a bad scenario, a missing file, a run folder that exists) are
printed without a traceback and exit with status 2; anything else is a bug and keeps its
traceback. Progress is drawn on a terminal only, never with ``--quiet`` or in CI.
"""

from __future__ import annotations

import os
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orbitgrid.errors import OrbitgridError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="orbitgrid: plan and simulate AI infrastructure in and through space.",
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ScenarioArg = Annotated[
    str, typer.Argument(help="scenario YAML file, or the name of a shipped scenario")
]
# Beyond this many days from the element epoch, a TLE-based run gets a warning.
EPOCH_WARNING_DAYS = 30.0

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")]


def _print_version(value: bool) -> None:
    if value:
        from orbitgrid import __version__

        console.print(f"orbitgrid {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """orbitgrid: plan and simulate AI infrastructure in and through space."""


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and not os.environ.get("CI")


_HEADLINE = (
    ("satellites", "satellites", "{:,.0f}"),
    ("sunlit_fraction", "sunlit fraction", "{:.3f}"),
    ("eclipse_minutes_per_orbit", "eclipse min/orbit", "{:.1f}"),
    ("state_of_charge_min", "SoC min", "{:.3f}"),
    ("state_of_charge_mean", "SoC mean", "{:.3f}"),
    ("temperature_max_c", "T max (°C)", "{:.1f}"),
    ("installed_compute_power_mw", "compute power (MW)", "{:.3f}"),
    ("delivered_compute_fraction", "delivered/installed", "{:.3f}"),
    ("delivered_compute_pflops_mean", "delivered PFLOPS", "{:,.1f}"),
    ("hours_limited_by_energy_per_satellite", "h energy-limited/sat", "{:.2f}"),
    ("hours_limited_by_heat_per_satellite", "h heat-limited/sat", "{:.2f}"),
)


def _summary_table(summary: dict[str, Any]) -> Table:
    table = Table(
        title=f"{summary['scenario']} — {summary['time']['steps']:,} steps "
        f"of {summary['time']['step_s']:g} s from {summary['time']['start_utc']}"
    )
    table.add_column("figure")
    groups = {**summary["shells"], "total": summary["total"]}
    for name in groups:
        table.add_column(name, justify="right")
    for key, label, fmt in _HEADLINE:
        table.add_row(label, *(fmt.format(fig[key]) for fig in groups.values()))
    return table


def _economics_table(economics: dict[str, Any]) -> Table:
    table = Table(title=f"cost of ownership over {economics['mission_years']:g} years")
    for column in ("shell", "orbit $/GPU-h", "Earth $/GPU-h", "orbit/Earth", "break-even $/kg"):
        table.add_column(column, justify="right")
    from orbitgrid.economics.results import attribution_note
    from orbitgrid.report import formats  # the report's own formatting: same figures

    notes = []
    for name, result in economics["shells"].items():
        break_even = result["break_even_launch_cost_usd_per_kg"]
        table.add_row(
            name,
            formats.usd(result["orbital"]["cost_per_gpu_hour_usd"]),
            formats.usd(result["terrestrial"]["cost_per_gpu_hour_usd"]),
            formats.ratio(result["cost_ratio"]),
            "none" if break_even is None else formats.usd(break_even),
        )
        notes.append(attribution_note(name, result))
    table.caption = "\n".join(note for note in notes if note) or None
    return table


def _verdict_line(summary: dict[str, Any]) -> str:
    """The report headline's verdict, as ``summary.json`` states it."""
    from orbitgrid.report import formats

    total = summary["total"]
    return (
        f"verdict: {total.get('verdict', '—')} (delivered "
        f"{formats.percent(total.get('delivered_compute_fraction'))} of installed compute)"
    )


def _network_table(network: dict[str, Any], limit: int = 12) -> Table:
    median = network["rtt_median_ms"]
    table = Table(
        title=f"network: {network['endpoints']} endpoints, reachability "
        f"{network['reachability']:.3f}, median RTT "
        + ("—" if median is None else f"{median:.1f} ms")
    )
    columns = ("pair", "RTT p50 ms", "RTT p99 ms", "fibre RTT ms", "path Mbit/s", "reachable")
    for column in columns:
        table.add_column(column, justify="right")
    pairs = list(network["per_pair"].items())
    for pair, figures in pairs[:limit]:
        table.add_row(
            pair,
            *(
                "—" if figures.get(key) is None else f"{figures[key]:,.1f}"
                for key in ("rtt_p50_ms", "rtt_p99_ms", "fibre_rtt_ms", "path_rate_mean_mbps")
            ),
            f"{figures['reachability']:.3f}",
        )
    if len(pairs) > limit:
        table.caption = f"{len(pairs) - limit} more pairs in the network_pairs table"
    return table


def _workloads_table(workloads: dict[str, Any]) -> Table:
    """One row per service option: served share, latency percentiles, where it ran, energy,
    cost; a caption on requests that waited on devices for a link and on unpriced sites."""
    from orbitgrid.report import formats
    from orbitgrid.workloads.summary import unserved_note

    table = Table(
        title=f"AI service: {workloads['users']:,} users on {workloads['user_endpoints']} "
        f"endpoints ({workloads['moving_endpoints']} moving)"
    )
    columns = ("option", "served", "TTFT p50 s", "response p50 / p95 s",
               "DC / orbit / sat / device", "J per token", "$ per M tokens")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")

    def number(value: float | None, fmt: str) -> str:
        return "—" if value is None else format(value, fmt)

    notes = []
    for name, figures in workloads["options"].items():
        shares = " / ".join(
            number(figures.get(f"share_{kind}"), ".0%")
            for kind in ("ground_dc", "orbital_cluster", "overhead_satellite", "on_device")
        )
        table.add_row(
            name,
            number(figures["served_fraction"], ".1%"),
            number(figures["ttft_p50_s"], ",.2f"),
            f"{number(figures['response_p50_s'], ',.2f')} / "
            f"{number(figures['response_p95_s'], ',.2f')}",
            shares,
            number(figures["energy_per_output_token_j"], ",.3f"),
            number(figures.get("cost_per_million_output_tokens_usd"), ",.3f"),
        )
        unserved = unserved_note(figures)
        if unserved:
            notes.append(f"{name}: {unserved}")
        if figures.get("deferred"):
            notes.append(
                f"{name}: {figures['deferred_fraction']:.2%} of requests waited on the device "
                f"for a link (p50 {formats.duration(figures['deferred_wait_p50_s'])})"
            )
        if figures.get("unpriced_sites"):
            notes.append(f"{name}: no cost, unpriced site {', '.join(figures['unpriced_sites'])}")
    table.caption = "\n".join([*notes, "per population and class: workloads.csv"])
    return table


def _observation_table(observation: dict[str, Any]) -> Table:
    """One row per Earth-observation strategy: bytes made and delivered, what waits or was
    dropped, capture-to-insight percentiles, ground-station hours and onboard energy."""
    table = Table(
        title=f"Earth observation: {observation['tiles_captured']:,} tiles from "
        f"{observation['satellites_with_sensors']} satellites, "
        f"{observation['passes']['count']} passes"
    )
    columns = ("strategy", "made GB", "delivered GB", "stored / dropped GB",
               "insight p50 / p95 min", "station h needed", "onboard Wh")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")

    def gb(value: float) -> str:
        return f"{value / 1e9:,.1f}"

    def minutes(value: float | None) -> str:
        return "—" if value is None else f"{value / 60:,.1f}"

    for name, f in observation["strategies"].items():
        table.add_row(
            name,
            gb(f["made_bytes"]),
            gb(f["delivered_bytes"]),
            f"{gb(f['stored_bytes'])} / {gb(f['dropped_bytes'])}",
            f"{minutes(f['capture_to_insight_p50_s'])} / {minutes(f['capture_to_insight_p95_s'])}",
            f"{f['station_hours_needed']:,.2f}",
            f"{f['onboard_energy_wh']:,.1f}",
        )
    notes = []
    dishes = observation.get("antennas") or {}
    if any(n >= 0 for n in dishes.values()):
        passes = observation["passes"]
        notes.append(
            f"antennas: {passes['count']} of {passes['visible_count']} visible passes tracked ("
            + ", ".join(f"{k} {v if v >= 0 else '∞'}" for k, v in dishes.items())
            + ")"
        )
    for relay in observation.get("relays", []):
        notes.append(
            f"relay {relay['name']}: {relay['laser_hours']:,.1f} h of laser contact, carried "
            + ", ".join(f"{k} {gb(v)} GB" for k, v in relay["carried_bytes"].items())
        )
    found = observation.get("stations_needed")
    if found:
        chosen = found.get("chosen") or {}
        needed = ", ".join(
            f"{k} {'—' if v is None else v}"
            + (f" ({', '.join(chosen[k])})" if chosen.get(k) else "")
            for k, v in found["needed"].items()
        )
        notes.append(
            f"ground stations for p{found['percentile']:g} capture-to-ground ≤ "
            f"{minutes(found['latency_target_s'])} min: {needed} (of "
            f"{len(found['order'])}; coverage order {', '.join(found['order'])})"
        )
    notes.append("per satellite: observation.csv; every bundle: observation_bundles.parquet")
    table.caption = "\n".join(notes)
    return table


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        "--no-size-guard",
        help="run even when the estimate says it will not fit this machine's memory, disk or time",
    ),
]


@app.command()
def run(
    scenario: Annotated[
        str | None,
        typer.Argument(help="scenario YAML file, or the name of a shipped scenario"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="run folder (default runs/<name>-<time>)")
    ] = None,
    quiet: QuietOpt = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="skip writing report.html into the run folder")
    ] = False,
    force: ForceOpt = False,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="continue a killed run that was to write this run folder"),
    ] = None,
    checkpoint_every: Annotated[
        float,
        typer.Option("--checkpoint-every", help="seconds between checkpoints (for --resume)"),
    ] = 60.0,
) -> None:
    """Run a scenario and write its run folder (dataset, summary, report.html)."""
    from orbitgrid.engine import RunObserver
    from orbitgrid.runs import default_run_dir
    from orbitgrid.runs import resume as resume_run
    from orbitgrid.runs import run as run_scenario
    from orbitgrid.scenario import load_scenario

    if (scenario is None) == (resume is None):
        raise OrbitgridError("give a scenario to run, or --resume RUN_DIR (not both)")
    if scenario is not None:
        loaded = load_scenario(scenario)
        target = out if out is not None else default_run_dir(loaded)
        label = loaded.name

        def run_scenario_with(observer=None):
            return run_scenario(
                loaded, target, observer, force=force, checkpoint_every_s=checkpoint_every
            )
    else:
        label = str(resume)

        def run_scenario_with(observer=None):
            return resume_run(resume, observer, checkpoint_every_s=checkpoint_every)

    if _show_progress(quiet):
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=errors, transient=True) as progress:
            task = progress.add_task(label, total=None)
            observer = RunObserver(
                on_start=lambda plan, chunks: progress.update(task, total=chunks),
                on_chunk=lambda chunk: progress.advance(task),
                on_phase=lambda phase: progress.update(task, description=f"{label}: {phase}"),
            )
            result = run_scenario_with(observer)
    else:
        result = run_scenario_with()
    for notice in result.notices:
        errors.print(f"[yellow]note:[/yellow] {escape(notice)}", highlight=False)
    for name, figures in result.summary["shells"].items():
        days = figures.get("days_from_element_epoch_max", 0.0)
        if days > EPOCH_WARNING_DAYS:
            errors.print(
                f"[yellow]warning:[/yellow] shell {name!r} runs up to {days:,.0f} days from "
                "its element epochs; SGP4 errors grow with that distance (use fresher elements "
                "or a window near the epochs)",
                highlight=False,
            )
    for name, found in result.summary.get("grouping", {}).items():
        layout = ", ".join(
            f"{g['planes']}×{g['sats_per_plane']} at {g['altitude_km']:.0f} km/"
            f"{g['inclination_deg']:.1f}°"
            for g in found["sub_shells"]
        )
        errors.print(
            f"shell {name!r}: planes found: {layout or 'none'}; {found['unplaced']} satellite(s) "
            "fit no plane (listed in summary.json under grouping)",
            highlight=False,
        )
    if not quiet:
        console.print(_summary_table(result.summary))
        console.print(_verdict_line(result.summary), highlight=False)
        if "economics" in result.summary:
            console.print(_economics_table(result.summary["economics"]))
        if "network" in result.summary:
            console.print(_network_table(result.summary["network"]))
        if "workloads" in result.summary:
            console.print(_workloads_table(result.summary["workloads"]))
        if "observation" in result.summary:
            console.print(_observation_table(result.summary["observation"]))
        rate = result.summary["satellite_steps_per_s"]
        console.print(f"{result.summary['runtime_s']:.2f} s, {rate:,.0f} satellite-steps/s")
    if not no_report:
        from orbitgrid.report import build_report

        report_path = build_report(result.run_dir)
        if not quiet:
            console.print(f"report: {report_path}")
    console.print(f"run folder: {result.run_dir}")


@app.command()
def validate(scenario: ScenarioArg, force: ForceOpt = False) -> None:
    """Check a scenario (schema, units, references, element files, size) without running it."""
    from orbitgrid.plan import build_plan
    from orbitgrid.scenario import load_scenario
    from orbitgrid.size_guard import check_fits, estimate_run

    loaded = load_scenario(scenario)
    with loaded.blamed():  # errors past the schema name the file and the field too
        # The estimate comes before the plan, which allocates the time grid.
        estimate = estimate_run(loaded)
        if not force:
            check_fits(estimate, None)
        plan = build_plan(loaded)
        if loaded.network is not None:
            from orbitgrid.network.build import check_network

            check_network(plan)  # endpoint files, and failures naming elements that exist
    console.print(f"ok: {plan!r}")
    console.print(f"estimate: {estimate.describe()}", highlight=False)


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="sweep YAML: base scenario, parameters, outputs")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="sweep folder; rerun to resume")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="address of an existing Dask scheduler")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="local Dask workers (default: cores)")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run a design of experiments over a scenario on Dask, recorded in a DuckDB catalog."""
    from orbitgrid.sweep import run_sweep

    if _show_progress(quiet):
        columns = (
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("points, {task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=errors, transient=True) as progress:
            task = progress.add_task("sweep", total=None, rate="")
            started = time.perf_counter()

            def report(done: int, total: int) -> None:
                elapsed = time.perf_counter() - started
                rate = f"{done / elapsed:.1f}/s" if elapsed > 0 and done else ""
                progress.update(task, completed=done, total=total, rate=rate)

            result = run_sweep(spec, out, scheduler, workers, report)
    else:
        result = run_sweep(spec, out, scheduler, workers, None)
    if quiet:
        console.print(f"catalog: {result.catalog_path}")
    else:
        # Plain text: parameter paths hold brackets ("constellation[0]") that are not markup.
        console.print(result.summary(), highlight=False, markup=False)
    folder = Path(result.catalog_path).parent
    if (folder / "tornado.csv").exists() or (folder / "sobol.csv").exists():
        from orbitgrid.report.sweep import build_sweep_report

        console.print(f"sensitivity report: {build_sweep_report(folder)}")


RunDirArg = Annotated[Path, typer.Argument(help="a run folder written by 'orbitgrid run'")]


@app.command()
def report(
    run_dir: RunDirArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="default RUN_DIR/report.html")
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="also export each figure as PNG/SVG")
    ] = False,
) -> None:
    """Write the self-contained HTML report of a run (opens offline in any browser)."""
    from orbitgrid.report import build_report
    from orbitgrid.report.build import static_folder

    path = build_report(run_dir, out=out, static=static)
    console.print(f"report: {path.resolve()}", highlight=False)
    if static:
        folder = static_folder(path).resolve()
        count = sum(1 for f in folder.iterdir() if f.suffix in (".svg", ".png"))
        console.print(f"static figures: {folder} ({count} files, SVG and PNG)", highlight=False)


export_app = typer.Typer(help="Export a run to other tools' formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("czml")
def export_czml(
    run_dir: RunDirArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="default RUN_DIR/scene.czml")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="scene start, UTC (ISO 8601); default the run's start"),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="scene length, e.g. '6 h' or '2 d'; default up to a day"),
    ] = None,
) -> None:
    """Write a CZML scene (satellites, ground stations, routed links) for Cesium.

    A scene samples every satellite densely enough to stay within 1 km of its orbit, so it
    covers a window of a long run; the command prints which one.
    """
    from orbitgrid.report.czml import export_scene
    from orbitgrid.units import parse_quantity

    duration_s = None
    if duration is not None:
        try:
            duration_s = parse_quantity(duration, "duration_s")
        except ValueError as exc:
            raise OrbitgridError(f"--duration: {exc}") from exc
    if start is not None:
        import numpy as np

        try:
            np.datetime64(start.removesuffix("Z"), "ns")
        except ValueError as exc:
            raise OrbitgridError(
                f"--start: cannot read {start!r} as a UTC time; write e.g. 2027-01-01T06:00:00Z"
            ) from exc
    path, scene = export_scene(run_dir, out=out, start=start, duration_s=duration_s)
    console.print(f"czml: {path}", highlight=False)
    console.print(f"scene: {scene.window.describe()}", highlight=False)


class ContactKind(StrEnum):
    """Which links ``orbitgrid export ion`` writes."""

    gsl = "gsl"
    isl = "isl"
    all = "all"


@export_app.command("ion")
def export_ion(
    run_dir: RunDirArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="default RUN_DIR/ion.ionrc")
    ] = None,
    kind: Annotated[
        ContactKind,
        typer.Option("--kind", help="ground–satellite (gsl), inter-satellite (isl) or all links"),
    ] = ContactKind.all,
) -> None:
    """Write the run's contact windows as an ION-DTN contact plan (ionrc) and its node table.

    CBHE node numbers are orbitgrid node ids + 1: satellites 1..S, then endpoints S+1..S+E.
    """
    from orbitgrid.report.ion import export_ion as export

    done = export(run_dir, out=out, kind=kind.value)
    console.print(
        f"ion contact plan: {done.plan_path} ({done.windows:,} windows, {done.nodes:,} nodes)"
    )
    console.print(f"node numbers: {done.nodes_path}")


@app.command()
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="two or more run folders")],
    out: Annotated[Path, typer.Option("--out", "-o", help="comparison report file")] = Path(
        "comparison.html"
    ),
) -> None:
    """Write a report comparing the summaries of several runs."""
    from orbitgrid.report import compare_runs

    if len(run_dirs) < 2:
        raise OrbitgridError(f"compare needs at least two run folders, got {len(run_dirs)}")
    page = compare_runs(run_dirs, out)
    console.print(f"comparison: {page} (table: {page.with_suffix('.csv')})")


@app.command()
def paths(
    run_dir: RunDirArg,
    src: Annotated[str, typer.Argument(help="endpoint name")],
    dst: Annotated[str, typer.Argument(help="endpoint name")],
) -> None:
    """Show the path between two endpoints each time it changed during a run."""
    from orbitgrid.network.paths import read_paths

    rows = read_paths(run_dir, src, dst)
    table = Table(title=f"{src} → {dst}: {len(rows)} path(s)")
    for column in ("from (UTC)", "RTT ms", "hops", "path"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for row in rows:
        table.add_row(row["time_utc"], row["rtt_ms"], row["hops"], row["path"])
    console.print(table)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios and sweeps, one line each."""
    from orbitgrid.scenarios import shipped_scenarios, shipped_sweep_descriptions

    for title, listing in (
        ("scenarios (orbitgrid run NAME)", shipped_scenarios()),
        ("sweeps (orbitgrid sweep NAME)", shipped_sweep_descriptions()),
    ):
        console.print(f"[underline]{title}[/underline]", highlight=False)
        for name, description in listing.items():
            console.print(f"  [bold]{name}[/bold]  {escape(description)}", highlight=False)


def main() -> None:
    """Entry point: user errors exit 2 with their message and no traceback.

    Usage errors (unknown option, missing argument) are typer's own, also exit 2.
    """
    try:
        app()
    except OrbitgridError as error:
        errors.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        sys.exit(2)
