"""Assembling ``report.html`` from the registered sections."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import plotly.graph_objects as go

from orbitgrid import __version__
from orbitgrid.report.figures import ReportFigure, figure_html
from orbitgrid.report.page import Page, PageSection, render_page
from orbitgrid.report.runfolder import RunFolder, load_run, write_atomic
from orbitgrid.report.sections import SECTIONS, HeadlineItem, Section

REPORT_NAME = "report.html"


def cards_html(items: list[HeadlineItem]) -> str:
    """The headline cards, verdict first, then by ``order``."""
    cards = []
    for item in sorted(items, key=lambda i: i.order):
        css = f"card {item.status}" + (" verdict" if item.label == "Verdict" else "")
        cards.append(
            f'<div class="{css}"><div class="label">{html.escape(item.label)}</div>'
            f'<div class="value">{html.escape(item.value)}</div>'
            f'<div class="detail">{html.escape(item.detail)}</div></div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _subtitle(run: RunFolder) -> str:
    t = run.summary.get("time") or {}
    parts = [html.escape(str(run.summary.get("description") or ""))]
    facts = []
    if t.get("start_utc"):
        facts.append(f"start {t['start_utc']}")
    if t.get("duration_s") is not None:
        facts.append(f"{float(t['duration_s']) / 3600:.4g} h")
    if t.get("step_s") is not None:
        facts.append(f"step {float(t['step_s']):g} s")
    if run.summary.get("satellites") is not None:
        facts.append(f"{run.summary['satellites']} satellites")
    if facts:
        parts.append(html.escape(" · ".join(facts)))
    return "<br>".join(p for p in parts if p)


def render_sections(
    run: RunFolder, sections: list[Section] | None = None
) -> tuple[list[HeadlineItem], list[PageSection], list[tuple[str, go.Figure]]]:
    """Headline items, rendered sections and named figures of every section that applies."""
    items: list[HeadlineItem] = []
    rendered: list[PageSection] = []
    named: list[tuple[str, go.Figure]] = []
    for section in SECTIONS if sections is None else sections:
        if not section.applies(run):
            continue
        items.extend(section.headline(run))
        output = section.render(run)
        parts = [output.html] if output.html else []
        for fig in output.figures:
            parts.append(_figure_block(section.key, fig))
            named.append((f"{section.key}-{fig.name}", fig.figure))
        rendered.append(PageSection(section.key, section.title, "\n".join(parts)))
    return items, rendered, named


def _figure_block(section_key: str, fig: ReportFigure) -> str:
    div = figure_html(fig.figure, f"fig-{section_key}-{fig.name}")
    caption = f"<figcaption>{html.escape(fig.caption)}</figcaption>" if fig.caption else ""
    return f"<figure>{div}{caption}</figure>"


def build_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, static: bool = False
) -> Path:
    """Write the self-contained HTML report of a run folder; return its path.

    Parameters
    ----------
    run_dir : path
        A folder written by ``orbitgrid run``.
    out : path, optional
        The HTML file to write (a directory means ``<dir>/report.html``); default
        ``<run_dir>/report.html``.
    static : bool
        Also export every figure as SVG and PNG into ``<report stem>_figures/`` beside the
        report (needs kaleido and a Chromium browser).

    Raises
    ------
    OrbitgridError
        ``run_dir`` is not a run folder, its files are unreadable, or (with ``static``) static
        export is impossible here — the HTML report is written before that error.
    """
    run = load_run(run_dir)
    target = Path(out) if out is not None else run.path / REPORT_NAME
    if target.is_dir():
        target = target / REPORT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)

    items, sections, named = render_sections(run)
    if run.dataset is None:
        items.append(
            HeadlineItem(
                "Time series",
                "not kept",
                "the run kept no dataset (output.dataset: false): headline figures only",
                "info",
                95,
            )
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(
        title=f"orbitgrid report: {run.name}",
        subtitle=_subtitle(run),
        cards=cards_html(items),
        sections=sections,
        footer=(
            f"orbitgrid {html.escape(__version__)} · report written {stamp} from "
            f"{html.escape(str(run.path))}. Plots are interactive (zoom, hover, camera icon "
            "saves an SVG); time series are reduced and decimated as stated under each figure."
        ),
    )
    has_geo = any(
        getattr(trace, "type", "") == "scattergeo" for _, fig in named for trace in fig.data
    )
    write_atomic(target, render_page(page, include_geo=has_geo))
    if static:
        from orbitgrid.report.static import export_static

        export_static(named, static_folder(target))
    return target


def static_folder(report: Path) -> Path:
    """Where ``--static`` writes the figures of ``report``: ``<report stem>_figures`` beside it."""
    return report.parent / f"{report.stem}_figures"
