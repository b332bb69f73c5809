"""CZML export of a run (Cesium scene) with the czml3 package.

A scene shows a window of the run (``orbitgrid.report.scene``: by default from the run's start,
at most a day and what the sample budget allows; ``start`` and ``duration_s`` choose another).
One document packet (name, version, clock over the window), one packet per satellite with
time-tagged positions in ``cartographicDegrees`` ([seconds since the window start, longitude °,
latitude °, height m], WGS84) and Lagrange interpolation of degree 5, and one packet per ground
endpoint. Satellite positions are propagated again from the run's scenario at
``SAMPLES_PER_ORBIT`` samples per orbit, so Cesium's interpolation stays within 1 km of the
simulated orbit at any instant, however sparse the stored dataset (``tests/report/
test_czml_accuracy.py`` checks this as Cesium interpolates); samples whose propagation failed
(NaN) are left out. Cesium converts cartographic samples to Cartesian before it interpolates, so
tracks crossing ±180° interpolate correctly.

Ground endpoints are all of the scenario's network endpoints, inline and from
``endpoint_files`` (``RunFolder.ground_stations``). Routed links come from the path log
(``paths.parquet`` or ``paths.csv``): a
pair's path is in use from its row's time to the pair's next row (or the end of the run), and
each hop of it (satellite–satellite or endpoint–satellite) is one link. Each distinct link is
one packet (``link/<id a>|<id b>``) whose polyline references the two node packets' positions
(``<id>#position``, straight line) and whose availability is the union of the intervals in
which any routed path used it. At most ``DEFAULT_MAX_LINK_PACKETS`` links are written: when the
routed paths use more, links are cut at the time the cap is reached (the first use of link
number cap + 1), so the scene shows every routed path before that time and none after; if the
first step alone needs more, only the endpoint pairs whose paths fit are drawn. Links are
clipped to the scene's window: the paths in use at its start are drawn from there.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from czml3 import CZML_VERSION, Clock, Color, Document, Label, Packet, Point, Position
from czml3 import Path as CzmlPath
from czml3.enums import ArcTypes, ClockRanges, ClockSteps, InterpolationAlgorithms
from czml3.properties import Polyline, PolylineMaterial, PositionList, SolidColorMaterial
from czml3.types import TimeInterval, TimeIntervalCollection

from orbitgrid.network.paths import (
    PATH_SEPARATOR,
    PATH_TEXT_TYPES,
    PATH_TIMES,
    path_log_file,
)
from orbitgrid.network.tables import iter_batches
from orbitgrid.report.figures import COLORS
from orbitgrid.report.runfolder import RunFolder, load_run, write_atomic
from orbitgrid.report.scene import (
    LAGRANGE_DEGREE,
    SceneWindow,
    choose_window,
    geodetic_positions,
    load_run_plan,
)

CZML_NAME = "scene.czml"


DEFAULT_MAX_LINK_PACKETS = 10_000
"""Link packets at most (about 6 MB of CZML). When the routed paths use more distinct links,
links are shown up to the time the cap is reached and not after (see ``link_packets``)."""


DEFAULT_MAX_TOTAL_SAMPLES = 300_000
"""Position samples over all satellites (about 12 MB of CZML): the scene's window is as long as
this budget allows at ``scene.SAMPLES_PER_ORBIT`` samples per orbit."""

KM_TO_M = 1000.0


def _utc(value: np.datetime64) -> dt.datetime:
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def _rgba(index: int) -> list[int]:
    hex_color = COLORS[index % len(COLORS)]
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)] + [255]


@dataclass
class Scene:
    """A built scene: the czml3 document and the window it shows."""

    document: Document
    window: SceneWindow
    satellites: int
    links: int


def build_scene(
    run_dir: str | os.PathLike[str],
    start: np.datetime64 | str | None = None,
    duration_s: float | None = None,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> Scene:
    """The scene of a run over a window (see the module docstring).

    Raises ``OrbitgridError`` for a folder that is not a run, a run whose scenario cannot be
    loaded again, or a window outside the run or too long for ``max_total_samples``.
    """
    run = load_run(run_dir)
    plan = load_run_plan(run.path)
    begin = None if start is None else np.datetime64(str(start).removesuffix("Z"), "ns")
    window = choose_window(
        plan.times_utc, plan.orbital_period_s, max_total_samples, begin, duration_s
    )
    epoch = _utc(window.start)
    interval = TimeInterval(start=epoch, end=_utc(window.end))
    seconds = window.seconds
    packets = [
        Packet(
            id="document",
            name=run.name,
            version=CZML_VERSION,
            description=f"{run.summary.get('description') or ''} Scene: {window.describe()}.",
            clock=Clock(
                interval=interval,
                currentTime=epoch,
                multiplier=60,
                range=ClockRanges.LOOP_STOP,
                step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
            ),
        )
    ]
    names = np.asarray(plan.satellite_names).astype(str)
    shell_names = [shell.name for shell in plan.shells]
    n_sat = plan.satellite_count
    trail_s = min(3000.0, window.duration_s)
    # All satellites at once: the window's samples are bounded by max_total_samples (or 12
    # per satellite), so these arrays stay a few MB.
    lat, lon, alt_km = geodetic_positions(plan, window.times_utc)
    lat, lon = lat.round(5), lon.round(5)
    h_m = (alt_km * KM_TO_M).round(0)
    for sat in range(n_sat):
        shell_index = int(plan.shell_index[sat])
        ok = np.isfinite(lat[:, sat]) & np.isfinite(lon[:, sat]) & np.isfinite(h_m[:, sat])
        samples = np.column_stack([seconds[ok], lon[ok, sat], lat[ok, sat], h_m[ok, sat]])
        position = None
        if ok.any():
            position = Position(
                epoch=epoch,
                cartographicDegrees=samples.ravel().tolist(),
                interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE,
                interpolationDegree=min(LAGRANGE_DEGREE, max(1, int(ok.sum()) - 1)),
            )
        packets.append(
            Packet(
                id=f"satellite/{sat}",
                name=str(names[sat]),
                description=f"shell {shell_names[shell_index]}, satellite index {sat}",
                availability=interval,
                position=position,
                point=Point(pixelSize=4, color=Color(rgba=_rgba(shell_index))),
                path=CzmlPath(
                    show=True,
                    width=1,
                    leadTime=0,
                    trailTime=trail_s,
                    resolution=max(window.step_s / 4, 30.0),
                ),
            )
        )
    stations = run.ground_stations()
    for station in stations:
        packets.append(
            Packet(
                id=f"endpoint/{station['name']}",
                name=station["name"],
                description=station["kind"],
                position=Position(
                    cartographicDegrees=[
                        station["longitude_deg"],
                        station["latitude_deg"],
                        station["altitude_km"] * KM_TO_M,
                    ]
                ),
                point=Point(pixelSize=8, color=Color(rgba=[255, 255, 255, 255])),
                label=Label(text=station["name"], font="12pt sans-serif", show=True),
            )
        )
    node_ids = {str(name): f"satellite/{sat}" for sat, name in enumerate(names)}
    node_ids.update({s["name"]: f"endpoint/{s['name']}" for s in stations})
    links = link_packets(run, window, node_ids, max_link_packets)
    document = Document(packets=packets + links)
    return Scene(document, window, n_sat, len(links))


def build_czml_document(
    run_dir: str | os.PathLike[str],
    start: np.datetime64 | str | None = None,
    duration_s: float | None = None,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> Document:
    """The czml3 ``Document`` of a run's scene (see ``build_scene``)."""
    return build_scene(run_dir, start, duration_s, max_total_samples, max_link_packets).document


def _reference(packet_id: str, prop: str = "position") -> str:
    """A CZML reference ``id#property``; ``\\`` and ``#`` in the id are escaped (Cesium)."""
    return packet_id.replace("\\", "\\\\").replace("#", "\\#") + "#" + prop


def link_intervals(
    run: RunFolder,
    run_start: np.datetime64,
    window_s: tuple[float, float],
    node_ids: dict[str, str],
    max_links: int | None = None,
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Seconds since ``run_start`` in which each link (pair of packet ids) is routed, within
    ``window_s`` (seconds since ``run_start``).

    The path log is streamed in its order (time order, as the network stage writes it): a
    pair's path is in use from its row's time until the pair's next row, or the end of the
    window. Rows before the window only say which path each pair uses when the window opens;
    reading stops at the window's end. Links with a node that has no packet are left out; a
    link's intervals are merged where they overlap or touch. With ``max_links``, reading stops
    at the first row that would bring in link number ``max_links + 1``: its time is the cut, at
    which every open interval ends, and links first used at the cut are dropped. If the paths at
    the window's first time alone would exceed ``max_links``, the pairs that do not fit (in file
    order) are left out for the whole window and the others cut as above. Empty when the run
    has no path log.
    """
    path = path_log_file(run.path)
    if path is None:
        return {}
    lo_s, hi_s = window_s
    before: dict[tuple[str, str], list[tuple[str, str]]] = {}  # paths in use at lo_s
    in_use: dict[tuple[str, str], tuple[float, list[tuple[str, str]]]] = {}
    raw: dict[tuple[str, str], list[tuple[float, float]]] = {}
    seen: set[tuple[str, str]] = set()
    left_out: set[tuple[str, str]] = set()
    state = {"first_s": None, "cut_s": hi_s}

    def use(t: float, pair: tuple[str, str], links: list[tuple[str, str]]) -> bool:
        """Record that ``pair`` routes over ``links`` from ``t``; False once the cap is hit."""
        if pair in left_out:
            return True
        previous = in_use.pop(pair, None)
        if previous is not None:
            for link in previous[1]:
                raw.setdefault(link, []).append((previous[0], t))
        if max_links is not None:
            new = {link for link in links if link not in seen}
            if len(seen) + len(new) > max_links:
                if state["first_s"] is None or t == state["first_s"]:
                    left_out.add(pair)  # too many pairs: draw those that fit
                    return True
                state["cut_s"] = t
                return False
            seen.update(new)
        if state["first_s"] is None:
            state["first_s"] = t
        if links:
            in_use[pair] = (t, links)
        return True

    def open_window() -> bool:
        """The paths in use when the window opens start at its first second."""
        going = all(use(lo_s, pair, links) for pair, links in before.items())
        before.clear()
        return going

    opened = False
    for t, pair, links in _path_rows(path, run_start, node_ids):
        if t >= hi_s:
            break
        if t < lo_s:
            before[pair] = links
            continue
        if not opened:
            opened = True
            if not open_window():
                break
        if not use(t, pair, links):
            break
    if not opened:
        open_window()
    cut_s = state["cut_s"]
    for start_s, links in in_use.values():
        for link in links:
            raw.setdefault(link, []).append((start_s, cut_s))
    merged: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for link, spans in raw.items():
        spans = sorted((lo, min(hi, cut_s)) for lo, hi in spans if min(hi, cut_s) > lo)
        if not spans:
            continue
        out = [spans[0]]
        for lo, hi in spans[1:]:
            if lo <= out[-1][1] + 1e-6:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        merged[link] = out
    return merged


def _path_rows(
    path: Path, run_start: np.datetime64, node_ids: dict[str, str]
) -> Iterator[tuple[float, tuple[str, str], list[tuple[str, str]]]]:
    """``(seconds since run_start, (src, dst), links)`` of each row of the path log, in file
    order, a record batch at a time (the caller stops at the window's end)."""
    columns = ("time_utc", "src", "dst", "path")
    for batch in iter_batches(path, columns, timestamps=PATH_TIMES, types=PATH_TEXT_TYPES):
        elapsed = batch.column(0).to_numpy().astype("datetime64[ns]") - run_start
        seconds = (elapsed / np.timedelta64(1, "s")).tolist()
        pairs = zip(batch.column(1).to_pylist(), batch.column(2).to_pylist(), strict=True)
        for t, pair, nodes in zip(seconds, pairs, batch.column(3).to_pylist(), strict=True):
            yield t, pair, _hops(nodes or "", node_ids)


def _hops(path: str, node_ids: dict[str, str]) -> list[tuple[str, str]]:
    """The links ``(id a, id b)``, ``a < b``, of a path-log path with known nodes."""
    ids = [node_ids.get(n) for n in path.split(PATH_SEPARATOR)] if path else []
    return [
        (a, b) if a < b else (b, a)
        for a, b in itertools.pairwise(ids)
        if a is not None and b is not None and a != b
    ]


def link_packets(
    run: RunFolder,
    window: SceneWindow,
    node_ids: dict[str, str],
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> list[Packet]:
    """One packet per routed link (see the module docstring), at most ``max_link_packets``.

    Links are taken in order of first use; if the run uses more than ``max_link_packets``,
    they are cut at one time (``link_intervals``), so paths are never shown incomplete; if the
    first step alone needs more, only the pairs whose paths fit are drawn.
    """
    lo_s = float((window.start - window.run_start) / np.timedelta64(1, "s"))
    span_s = (lo_s, lo_s + window.duration_s)
    intervals = link_intervals(run, window.run_start, span_s, node_ids, max(0, max_link_packets))
    ranked = sorted(intervals.items(), key=lambda item: item[1][0][0])  # by first use
    start = pd.Timestamp(window.run_start).tz_localize("UTC")
    node_names = {packet_id: name for name, packet_id in node_ids.items()}
    packets = []
    for (a, b), spans in ranked:
        values = [
            TimeInterval(
                start=(start + pd.Timedelta(seconds=lo)).to_pydatetime(),
                end=(start + pd.Timedelta(seconds=hi)).to_pydatetime(),
            )
            for lo, hi in spans
        ]
        ground = a.startswith("endpoint/") or b.startswith("endpoint/")
        rgba = [255, 200, 0, 200] if ground else [0, 220, 255, 200]
        packets.append(
            Packet(
                id=f"link/{a}|{b}",
                name=f"{node_names.get(a, a)} – {node_names.get(b, b)}",
                description="ground–satellite link" if ground else "inter-satellite link",
                availability=values[0]
                if len(values) == 1
                else TimeIntervalCollection(values=values),
                polyline=Polyline(
                    positions=PositionList(references=[_reference(a), _reference(b)]),
                    arcType=ArcTypes.NONE,
                    width=1.5,
                    material=PolylineMaterial(
                        solidColor=SolidColorMaterial(color=Color(rgba=rgba))
                    ),
                ),
            )
        )
    return packets


def export_scene(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    start: np.datetime64 | str | None = None,
    duration_s: float | None = None,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> tuple[Path, Scene]:
    """Write the run's CZML scene (default ``<run_dir>/scene.czml``); return its path and
    the ``Scene`` (window, satellite and link counts) for the caller to report.

    ``start`` (UTC, ISO 8601) and ``duration_s`` choose the window (default: from the run's
    start, as long as the run, a day and ``max_total_samples`` allow); at most
    ``max_link_packets`` routed links are written.

    Raises
    ------
    OrbitgridError
        Not a run folder, its scenario cannot be loaded again, or the window is outside the
        run or needs more samples than ``max_total_samples``.
    """
    scene = build_scene(run_dir, start, duration_s, max_total_samples, max_link_packets)
    target = Path(out) if out is not None else Path(run_dir) / CZML_NAME
    if target.is_dir():
        target = target / CZML_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, scene.document.model_dump_json(exclude_none=True))
    return target, scene


def export_czml(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    start: np.datetime64 | str | None = None,
    duration_s: float | None = None,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> Path:
    """Write the run's CZML scene and return its path (see ``export_scene``)."""
    path, _ = export_scene(run_dir, out, start, duration_s, max_total_samples, max_link_packets)
    return path
