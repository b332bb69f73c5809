"""Headless Chromium for the report tests: render a page, collect its errors, take a screenshot.

Chromium is found as ``$ORBITGRID_CHROMIUM``, else ``chromium``, ``chromium-browser``,
``google-chrome`` on PATH (CI installs Debian's ``chromium`` package). Errors are collected by a
probe script inserted at the top of a copy of the page: it records ``console.error`` and
``console.warn`` calls, uncaught exceptions, unhandled promise rejections and failed resource
loads, and writes them into the DOM, which ``--dump-dom`` returns. Chromium's own log is also
searched for console lines, as a second witness.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)

# Collects console errors and warnings, uncaught errors, failed resources and rejected promises
# into window.__orbitgridErrors (JavaScript statements, run first in the page's <head>).
ERROR_HOOK_JS = """\
  var errors = [];
  window.__orbitgridErrors = errors;
  function note(kind, args) {
    errors.push(kind + ": " + Array.prototype.map.call(args, String).join(" "));
  }
  var origError = console.error, origWarn = console.warn;
  console.error = function () {
    note("console.error", arguments); origError.apply(console, arguments);
  };
  console.warn = function () {
    note("console.warn", arguments); origWarn.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    note("error", [e.message || (e.target && (e.target.src || e.target.href)) || "resource"]);
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("rejection", [e.reason]); });
"""

PROBE = (
    """<script>
(function () {
"""
    + ERROR_HOOK_JS
    + """  window.addEventListener("load", function () {
    setTimeout(function () {
      var out = document.createElement("pre");
      out.id = "orbitgrid-probe";
      out.textContent = JSON.stringify({
        errors: errors,
        plots: document.querySelectorAll(".js-plotly-plot").length,
        figures: document.querySelectorAll("figure").length,
        geo: document.querySelectorAll(".geolayer path.land, .geo .land").length
      });
      document.body.appendChild(out);
    }, 1500);
  });
})();
</script>"""
)


def find_chromium() -> str | None:
    """Path of a Chromium-family browser, or None."""
    env = os.environ.get("ORBITGRID_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Rendering:
    """What the probe saw: JS errors, plotly plots drawn, figures, geo land layers."""

    errors: list[str]
    plots: int
    figures: int
    geo: int
    log_console: list[str]


def _run(chromium: str, args: list[str], profile: Path, timeout_s: float) -> tuple[str, str]:
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    return done.stdout, done.stderr


def render(page: Path, work: Path, chromium: str, timeout_s: float = 60.0) -> Rendering:
    """Load a copy of ``page`` with the probe in headless Chromium; return what it saw."""
    text = page.read_text(encoding="utf-8")
    probed = work / f"probed-{page.name}"
    probed.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    stdout, stderr = _run(
        chromium,
        ["--virtual-time-budget=20000", "--dump-dom", probed.as_uri()],
        work / "profile-dom",
        timeout_s,
    )
    match = re.search(r'<pre id="orbitgrid-probe">(.*?)</pre>', stdout, re.DOTALL)
    if not match:
        raise AssertionError(f"the probe did not report; chromium stderr:\n{stderr[-3000:]}")
    data = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    console = [line for line in stderr.splitlines() if "CONSOLE" in line]
    return Rendering(data["errors"], data["plots"], data["figures"], data["geo"], console)


def screenshot(
    page: Path,
    png: Path,
    work: Path,
    chromium: str,
    size_px: tuple[int, int] = (1400, 2200),
    timeout_s: float = 60.0,
) -> Path:
    """A PNG screenshot of ``page`` (top ``size_px`` of it) after the plots have drawn."""
    _run(
        chromium,
        [
            f"--window-size={size_px[0]},{size_px[1]}",
            "--virtual-time-budget=20000",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        work / "profile-shot",
        timeout_s,
    )
    if not png.is_file():
        raise AssertionError(f"chromium wrote no screenshot {png}")
    return png
