"""How a headline figure is written, the same everywhere: report, CLI and comparison.

One formatter per kind of figure, so that "$17.38 vs $2.45 per GPU-hour, 7.1×" reads the same
in the terminal, in the report headline and in ``orbitgrid compare``, and so that a test can
look for a ``summary.json`` value in the report by formatting it the way the report does. This
module imports nothing heavy (no plotly), so the CLI can use it without building a report.
"""

from __future__ import annotations

import math

MISSING = "—"
"""Written for a figure that is absent, null or not finite."""


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def usd(value: float | None) -> str:
    """US dollars: ``$17.38``, ``$2,720``, ``$0.142`` (three significant digits below $1)."""
    if not _finite(value):
        return MISSING
    assert value is not None
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.3g}" if abs(value) < 1 else f"${value:,.2f}"


def ratio(value: float | None) -> str:
    """A ratio of two costs with one decimal: ``7.1×``."""
    return f"{value:,.1f}×" if _finite(value) else MISSING


def percent(value: float | None) -> str:
    """A fraction (0–1) as a percentage with one decimal: ``97.5%``."""
    return f"{value:.1%}" if _finite(value) else MISSING


def general(value: float | None) -> str:
    """Three significant digits, no thousands separator: ``251``, ``3.92``, ``0``."""
    return f"{value:.3g}" if _finite(value) else MISSING


def celsius(value: float | None) -> str:
    """A temperature in °C with one decimal: ``49.6 °C``."""
    return f"{value:.1f} °C" if _finite(value) else MISSING


def milliseconds(value: float | None) -> str:
    """A delay in ms with one decimal: ``99.2 ms``."""
    return f"{value:.1f} ms" if _finite(value) else MISSING


def duration(seconds: float | None) -> str:
    """A run length in the largest fitting unit: ``365 d``, ``2 h``, ``30 min``."""
    if not _finite(seconds):
        return MISSING
    assert seconds is not None
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:.4g} s"
