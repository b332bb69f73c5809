"""Static SVG/PNG export of report figures with kaleido (a headless Chromium renders them).

kaleido ≥ 1.0 drives an installed Chromium/Chrome (found on PATH, e.g. Debian's ``chromium``
package, or named by the ``BROWSER_PATH`` environment variable). It is used fully offline:
plotly.js comes from the plotly package, MathJax is disabled, and the world map is preloaded
from ``_world_110m.py`` so geo figures need no CDN.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from orbitgrid.errors import OrbitgridError
from orbitgrid.report.figures import FIGURE_HEIGHT_PX
from orbitgrid.report.page import geo_assets_js

STATIC_WIDTH_PX = 1100
"""Width of exported figures (height from each figure's layout)."""

FORMATS: tuple[str, ...] = ("svg", "png")

_HELP = (
    "static export (--static) needs the kaleido package (pip install 'kaleido>=1') and a "
    "Chromium browser (Debian: apt-get install chromium; or set BROWSER_PATH)"
)


def export_static(
    figures: Sequence[tuple[str, go.Figure]],
    folder: Path,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write each ``(name, figure)`` as ``folder/name.<format>``; return the written paths.

    Files are rendered into a temporary folder beside ``folder`` and moved into place one by
    one (``os.replace``), so a failed export leaves no half-written image.

    Raises
    ------
    OrbitgridError
        kaleido or a Chromium browser is missing, or rendering failed.
    """
    try:
        import kaleido
    except ImportError as exc:
        raise OrbitgridError(f"{_HELP}; kaleido is not installed") from exc
    if not figures:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".static-", dir=folder.parent) as tmp:
        tmp_dir = Path(tmp)
        geo_js = tmp_dir / "geo_assets.js"
        geo_js.write_text(geo_assets_js(), encoding="utf-8")
        page = kaleido.PageGenerator(mathjax=False, others=[str(geo_js)])
        jobs = []
        for name, fig in figures:
            height = int(fig.layout.height or FIGURE_HEIGHT_PX)
            for fmt in formats:
                jobs.append(
                    {
                        "fig": fig,
                        "path": str(tmp_dir / f"{name}.{fmt}"),
                        "opts": {"format": fmt, "width": STATIC_WIDTH_PX, "height": height},
                    }
                )
        try:
            errors = kaleido.write_fig_from_object_sync(
                jobs, kopts={"page_generator": page}, cancel_on_error=True
            )
        except Exception as exc:  # kaleido/choreographer raise their own types
            raise OrbitgridError(f"{_HELP}. The export failed: {exc}") from exc
        if errors:
            raise OrbitgridError(f"static export failed: {errors[0]}")
        for job in jobs:
            source = Path(job["path"])
            if not source.is_file():
                raise OrbitgridError(f"static export did not write {source.name}")
            final = folder / source.name
            os.replace(source, final)
            written.append(final)
    return written
