"""Command line: ``orbitgrid run | validate | scenarios``.

User errors (``OrbitgridError``: a bad scenario, a missing file, a run folder that exists) are
printed without a traceback and exit with status 2; anything else is a bug and keeps its
traceback. Progress is drawn on a terminal only, never with ``--quiet`` or in CI.
"""

from __future__ import annotations

import os
import sys
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
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")]


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


@app.command()
def run(
    scenario: ScenarioArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="run folder (default runs/<name>-<time>)")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run a scenario and write its run folder (dataset, summary.json, shells.csv)."""
    from orbitgrid.engine import RunObserver
    from orbitgrid.runs import default_run_dir
    from orbitgrid.runs import run as run_scenario
    from orbitgrid.scenario import load_scenario

    loaded = load_scenario(scenario)
    target = out if out is not None else default_run_dir(loaded)
    if _show_progress(quiet):
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=errors, transient=True) as progress:
            task = progress.add_task(loaded.name, total=None)
            observer = RunObserver(
                on_start=lambda plan, chunks: progress.update(task, total=chunks),
                on_chunk=lambda chunk: progress.advance(task),
            )
            result = run_scenario(loaded, target, observer)
    else:
        result = run_scenario(loaded, target)
    if not quiet:
        console.print(_summary_table(result.summary))
        rate = result.summary["satellite_steps_per_s"]
        console.print(f"{result.summary['runtime_s']:.2f} s, {rate:,.0f} satellite-steps/s")
    console.print(f"run folder: {result.run_dir}")


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario (schema, units, references, element files) without running it."""
    from orbitgrid.plan import build_plan
    from orbitgrid.scenario import load_scenario

    loaded = load_scenario(scenario)
    plan = build_plan(loaded)
    console.print(f"ok: {plan!r}")


@app.command()
def scenarios() -> None:
    """List the shipped scenarios, one line each."""
    from orbitgrid.scenarios import shipped_scenarios

    for name, description in shipped_scenarios().items():
        console.print(f"[bold]{name}[/bold]  {description}", highlight=False)


def main() -> None:
    """Entry point: user errors exit 2 with their message and no traceback.

    Usage errors (unknown option, missing argument) are typer's own, also exit 2.
    """
    try:
        app()
    except OrbitgridError as error:
        errors.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        sys.exit(2)
