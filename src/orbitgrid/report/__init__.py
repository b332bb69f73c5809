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

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use (PEP 562): ``orbitgrid.report.formats`` and the CZML export must not
# pull in plotly, which the CLI would otherwise import just to print a cost.
_EXPORTS = {
    "SECTIONS": "orbitgrid.report.sections",
    "HeadlineItem": "orbitgrid.report.sections",
    "RunFolder": "orbitgrid.report.runfolder",
    "Section": "orbitgrid.report.sections",
    "SectionOutput": "orbitgrid.report.sections",
    "Shown": "orbitgrid.report.sections",
    "build_czml_document": "orbitgrid.report.czml",
    "build_report": "orbitgrid.report.build",
    "compare_runs": "orbitgrid.report.compare",
    "export_czml": "orbitgrid.report.czml",
    "load_run": "orbitgrid.report.runfolder",
    "register_section": "orbitgrid.report.sections",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'orbitgrid.report' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
