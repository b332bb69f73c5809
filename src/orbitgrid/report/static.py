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

KALEIDO_HELP = "install it with: pip install 'kaleido>=1'"
CHROMIUM_HELP = (
    "install Chromium (Debian: apt-get install chromium) or point BROWSER_PATH at a Chromium "
    "or Chrome binary"
)

# choreographer (kaleido's browser driver) exceptions that mean "no usable browser".
_NO_BROWSER = ("ChromeNotFoundError", "BrowserFailedError", "BrowserDepsError")


def export_static(
    figures: Sequence[tuple[str, go.Figure]],
    folder: Path,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write each ``(name, figure)`` as ``folder/name.<format>``; return the written paths.

    Files are rendered into a temporary folder beside ``folder`` and moved into place one by
    one (``os.replace``), so a failed export leaves no half-written image. Paths are made
    absolute first: the browser loads the preloaded world map by its path, and a relative one
    would not resolve there (plotly then tries its CDN, which an offline export must not).

    Raises
    ------
    OrbitgridError
        kaleido is not installed, no Chromium could be started, or a figure failed to render;
        the message names which, with the underlying error.
    """
    try:
        import kaleido
    except ImportError as exc:
        raise OrbitgridError(f"static export (--static) needs kaleido ≥ 1; {KALEIDO_HELP}") from exc
    if not figures:
        return []
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".static-", dir=folder.parent) as tmp:
        tmp_dir = Path(tmp).resolve()
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
            # Errors come back as a list (cancel_on_error=False): cancelling the other renders
            # left kaleido tasks failing in the background with tracebacks of their own.
            errors = kaleido.write_fig_from_object_sync(
                jobs, kopts={"page_generator": page}, cancel_on_error=False
            )
        except Exception as exc:  # kaleido/choreographer raise their own types
            kind = type(exc).__name__
            if kind in _NO_BROWSER:
                raise OrbitgridError(
                    f"static export (--static) could not start a Chromium browser for kaleido "
                    f"({kind}: {exc}); {CHROMIUM_HELP}"
                ) from exc
            raise OrbitgridError(
                f"static export (--static) failed in kaleido: {kind}: {exc}"
            ) from exc
        if errors:
            raise OrbitgridError(
                f"static export (--static): {len(errors)} of {len(jobs)} image(s) failed to "
                f"render; the first: {type(errors[0]).__name__}: {errors[0]}"
            )
        for job in jobs:
            source = Path(job["path"])
            if not source.is_file():
                raise OrbitgridError(
                    f"static export (--static): kaleido reported no error but wrote no "
                    f"{source.name}"
                )
            final = folder / source.name
            os.replace(source, final)
            written.append(final)
    return written
