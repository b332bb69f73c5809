"""The self-contained HTML page: plotly.js and the world map embedded once, no network needed."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from plotly.offline import get_plotlyjs

from orbitgrid.report._world_110m import TOPOJSON_NAME, world_110m_json

CSS = """
:root { --fg: #1d2330; --muted: #5b6577; --line: #e3e6ec; --accent: #2f5fb3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: #fafbfc; }
header { background: #14213d; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c9d3e6; max-width: 1100px; }
nav { position: sticky; top: 0; z-index: 10; background: #fff; border-bottom: 1px solid var(--line);
      padding: 8px 32px; font-size: 14px; }
nav a { color: var(--accent); margin-right: 18px; text-decoration: none; }
main { max-width: 1280px; margin: 0 auto; padding: 8px 32px 48px; }
section { margin-top: 28px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 6px solid #9aa5b8;
        border-radius: 6px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .detail { color: var(--muted); font-size: 13px; }
.card.good { border-left-color: #2e9d5b; } .card.warn { border-left-color: #e0a100; }
.card.bad { border-left-color: #c8333c; }
.card.verdict { grid-column: 1 / -1; } .card.verdict .value { font-size: 24px; }
figure { margin: 14px 0 22px; background: #fff; border: 1px solid var(--line); border-radius: 6px;
         padding: 6px; }
figcaption { color: var(--muted); font-size: 13px; padding: 4px 8px 2px; }
table.data { border-collapse: collapse; background: #fff; font-size: 14px; margin: 8px 0; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 10px;
                               text-align: right; }
table.data th { background: #f1f3f7; text-align: center; }
table.data td:first-child { text-align: left; }
p.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
"""


@dataclass
class PageSection:
    """A rendered section: anchor ``key``, ``title``, HTML body (figures already inside)."""

    key: str
    title: str
    body: str


@dataclass
class Page:
    """The parts of a report page (all text already HTML unless stated)."""

    title: str
    subtitle: str = ""
    cards: str = ""
    sections: list[PageSection] = field(default_factory=list)
    footer: str = ""


def geo_assets_js() -> str:
    """JavaScript that preloads the world map into ``window.PlotlyGeoAssets`` (no CDN fetch)."""
    return (
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};\n"
        f"window.PlotlyGeoAssets.topojson[{json.dumps(TOPOJSON_NAME)}] = {world_110m_json()};\n"
    )


def render_page(page: Page, include_geo: bool = True) -> str:
    """The full HTML document: head with CSS, plotly.js (and the map) inline, then the body."""
    nav = "".join(
        f'<a href="#{html.escape(s.key)}">{html.escape(s.title)}</a>' for s in page.sections
    )
    body = "\n".join(
        f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>\n{s.body}</section>'
        for s in page.sections
    )
    geo = f"<script>{geo_assets_js()}</script>" if include_geo else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(page.title)}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
<script type="text/javascript">window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script type="text/javascript">{get_plotlyjs()}</script>
{geo}
</head>
<body>
<header><h1>{html.escape(page.title)}</h1><p>{page.subtitle}</p></header>
<nav><a href="#summary">Summary</a>{nav}</nav>
<main>
<section id="summary"><h2>Summary</h2>
{page.cards}
</section>
{body}
<footer>{page.footer}</footer>
</main>
</body>
</html>
"""
