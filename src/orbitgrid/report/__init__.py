"""Reports of a run folder: a self-contained HTML report, a CZML scene and run comparisons.

The front door::

    from orbitgrid.report import build_report, compare_runs, export_czml

    build_report(Path("runs/my-run"))                  # runs/my-run/report.html
    build_report(Path("runs/my-run"), static=True)     # ... and report_figures/*.svg, *.png
    export_czml(Path("runs/my-run"))                   # runs/my-run/scene.czml (Cesium)
    compare_runs([Path("runs/a"), Path("runs/b")], Path("compare.html"))

The HTML report embeds plotly.js and the world map once and opens offline. Its sections come
from the registry in ``orbitgrid.report.sections`` (each with ``applies``/``render``), so a
capability absent from the run leaves no section. Large runs are reduced per shell over
satellites and decimated in time (``orbitgrid.report.decimate``); the raw dataset is never
embedded.
"""

from orbitgrid.report.build import build_report
from orbitgrid.report.compare import compare_runs
from orbitgrid.report.czml import build_czml_document, export_czml
from orbitgrid.report.runfolder import RunFolder, load_run
from orbitgrid.report.sections import (
    SECTIONS,
    HeadlineItem,
    Section,
    SectionOutput,
    register_section,
)

__all__ = [
    # sections registry
    "SECTIONS",
    "HeadlineItem",
    # run folders
    "RunFolder",
    "Section",
    "SectionOutput",
    # entry points
    "build_czml_document",
    "build_report",
    "compare_runs",
    "export_czml",
    "load_run",
    "register_section",
]
