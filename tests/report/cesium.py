"""Load a CZML scene in a real CesiumJS, in headless Chromium with software WebGL, offline.

CesiumJS comes from the npm package ``cesium`` (``make cesium`` installs the pinned version into
``.venv/share/cesium``; ``$ORBITGRID_CESIUM`` may name another ``Build/Cesium`` folder). The
page, the scene and Cesium's build are served from a temporary folder by a local HTTP server on
127.0.0.1 (Cesium's workers and assets do not load from ``file://``); nothing is fetched from
the internet: the viewer has no imagery, terrain or Ion token, and a probe records every
console error and warning, uncaught error, rejected promise and failed resource load.

The page creates a ``Viewer`` (WebGL through SwiftShader), loads the scene with
``CzmlDataSource.load``, renders frames over the scene's clock, and reports the entity count,
the clock interval and the Earth-fixed position (m) of asked entities at asked times.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.report.browser import ERROR_HOOK_JS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BUILD = REPO / ".venv/share/cesium/node_modules/cesium/Build/Cesium"

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--use-angle=swiftshader",  # software WebGL: no GPU on CI machines
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)

PAGE = (
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>
(function () {
"""
    + ERROR_HOOK_JS
    + """})();
window.CESIUM_BASE_URL = "/Cesium/";
</script>
<script src="/Cesium/Cesium.js"></script>
<link rel="stylesheet" href="/Cesium/Widgets/widgets.css">
</head><body>
<div id="viewer" style="width:640px;height:480px"></div>
<script>
var QUERIES = __QUERIES__;
function report(out) {
  out.errors = window.__orbitgridErrors;
  var pre = document.createElement("pre");
  pre.id = "cesium-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}
(async function () {
  var out = {positions: []};
  try {
    Cesium.Ion.defaultAccessToken = "";
    var viewer = new Cesium.Viewer("viewer", {
      baseLayer: false, baseLayerPicker: false, geocoder: false, homeButton: false,
      sceneModePicker: false, navigationHelpButton: false, animation: false, timeline: false,
      fullscreenButton: false, infoBox: false, selectionIndicator: false, skyBox: false,
      skyAtmosphere: false, shouldAnimate: false,
      useDefaultRenderLoop: false  // frames only when asked: software WebGL is slow
    });
    out.webgl2 = viewer.scene.context.webgl2;
    var source = await Cesium.CzmlDataSource.load("scene.czml");
    await viewer.dataSources.add(source);
    out.entities = source.entities.values.length;
    out.clock = [Cesium.JulianDate.toIso8601(source.clock.startTime, 3),
                 Cesium.JulianDate.toIso8601(source.clock.stopTime, 3)];
    QUERIES.forEach(function (q) {
      var entity = source.entities.getById(q.id);
      var p = entity ? entity.position.getValue(Cesium.JulianDate.fromIso8601(q.time)) : undefined;
      out.positions.push(p ? [p.x, p.y, p.z] : null);
    });
    // Draw frames across the scene so that every packet's graphics are built.
    var start = source.clock.startTime, stop = source.clock.stopTime;
    var span = Cesium.JulianDate.secondsDifference(stop, start);
    for (var i = 0; i <= 10; i++) {
      viewer.clock.currentTime = Cesium.JulianDate.addSeconds(
        start, span * i / 10, new Cesium.JulianDate());
      viewer.render();
      await new Promise(function (r) { setTimeout(r, 50); });
    }
    out.rendered = true;
  } catch (e) {
    out.exception = String(e && e.stack || e);
  }
  setTimeout(function () { report(out); }, 500);
})();
</script></body></html>
"""
)


def find_cesium() -> Path | None:
    """The ``Build/Cesium`` folder of an installed CesiumJS, or None."""
    env = os.environ.get("ORBITGRID_CESIUM")
    build = Path(env) if env else DEFAULT_BUILD
    return build if (build / "Cesium.js").is_file() else None


def cesium_version(build: Path) -> str:
    package = build.parents[1] / "package.json"
    if package.is_file():
        return str(json.loads(package.read_text()).get("version", "?"))
    return "?"


@dataclass
class CesiumView:
    """What the page saw."""

    errors: list[str]
    entities: int | None
    clock: list[str] | None
    positions: list[list[float] | None]
    rendered: bool
    exception: str | None
    webgl2: bool | None
    failed_requests: list[str]


class _Handler(http.server.SimpleHTTPRequestHandler):
    failed: list[str]

    def log_message(self, format: str, *args: object) -> None:
        if len(args) > 1 and str(args[1]).startswith(("4", "5")):
            self.failed.append(" ".join(str(a) for a in args))


def load_scene(
    scene: Path,
    work: Path,
    chromium: str,
    build: Path,
    queries: list[dict[str, str]],
    timeout_s: float = 240.0,
) -> CesiumView:
    """Serve ``scene`` with Cesium from ``work`` and load it in headless Chromium."""
    site = work / "site"
    site.mkdir()
    shutil.copyfile(scene, site / "scene.czml")
    (site / "Cesium").symlink_to(build, target_is_directory=True)
    (site / "index.html").write_text(PAGE.replace("__QUERIES__", json.dumps(queries)))
    failed: list[str] = []
    handler = type("Handler", (_Handler,), {"failed": failed})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        done = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={work / 'profile'}",
                "--virtual-time-budget=30000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    match = re.search(r'<pre id="cesium-probe">(.*?)</pre>', done.stdout, re.DOTALL)
    if not match:
        tail = done.stderr[-3000:]
        raise AssertionError(f"the Cesium page did not report; chromium stderr:\n{tail}")
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    data = json.loads(text.replace("&amp;", "&"))
    return CesiumView(
        errors=data.get("errors", []),
        entities=data.get("entities"),
        clock=data.get("clock"),
        positions=data.get("positions", []),
        rendered=bool(data.get("rendered")),
        exception=data.get("exception"),
        webgl2=data.get("webgl2"),
        failed_requests=failed,
    )
