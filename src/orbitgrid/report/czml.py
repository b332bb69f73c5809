"""CZML export of a run (Cesium scene) with the czml3 package.

One document packet (name, version, clock over the run window), one packet per satellite with
time-tagged positions in ``cartographicDegrees`` ([seconds since epoch, longitude °, latitude °,
height m], WGS84, from the dataset's ``longitude_deg``, ``latitude_deg``, ``altitude_km``) and
Lagrange interpolation, and one packet per ground endpoint written inline in the scenario's
``network.endpoints``. Positions are sampled every ``stride`` steps so each satellite has at most
``samples_per_satellite(...)`` samples (plus the last step); steps whose position is NaN (a failed
propagation) are left out. Cesium converts cartographic samples to Cartesian before it
interpolates, so tracks crossing ±180° interpolate correctly.

Ground endpoints are all of the scenario's network endpoints, inline and from
``endpoint_files`` (``RunFolder.ground_stations``). Routed links come from ``paths.csv``: a
pair's path is in use from its row's time to the pair's next row (or the end of the run), and
each hop of it (satellite–satellite or endpoint–satellite) is one link. Each distinct link is
one packet (``link/<id a>|<id b>``) whose polyline references the two node packets' positions
(``<id>#position``, straight line) and whose availability is the union of the intervals in
which any routed path used it. At most ``DEFAULT_MAX_LINK_PACKETS`` links are written: when the
routed paths use more, links are cut at the time the cap is reached (the first use of link
number cap + 1), so the scene shows every routed path before that time and none after; if the
first step alone needs more, only the endpoint pairs whose paths fit are drawn.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import itertools
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from czml3 import CZML_VERSION, Clock, Color, Document, Label, Packet, Point, Position
from czml3 import Path as CzmlPath
from czml3.enums import ArcTypes, ClockRanges, ClockSteps, InterpolationAlgorithms
from czml3.properties import Polyline, PolylineMaterial, PositionList, SolidColorMaterial
from czml3.types import TimeInterval, TimeIntervalCollection

from orbitgrid.errors import OrbitgridError
from orbitgrid.network.paths import PATH_SEPARATOR, path_log_file
from orbitgrid.report.decimate import shell_labels
from orbitgrid.report.figures import COLORS
from orbitgrid.report.runfolder import RunFolder, load_run, write_atomic

CZML_NAME = "scene.czml"


DEFAULT_MAX_LINK_PACKETS = 10_000
"""Link packets at most (about 6 MB of CZML). When the routed paths use more distinct links,
links are shown up to the time the cap is reached and not after (see ``link_packets``)."""


DEFAULT_MAX_SAMPLES_PER_SATELLITE = 360
"""Position samples per satellite: one per 4 min over a day, ~24 per LEO orbit."""

DEFAULT_MAX_TOTAL_SAMPLES = 300_000
"""Position samples over all satellites (about 12 MB of CZML): large constellations get fewer
samples per satellite, but never fewer than ``MIN_SAMPLES_PER_SATELLITE``."""

MIN_SAMPLES_PER_SATELLITE = 48

SATELLITE_BLOCK = 2000
"""Satellites read at a time (bounds memory for very large constellations)."""

KM_TO_M = 1000.0

_POSITION_VARIABLES = ("latitude_deg", "longitude_deg", "altitude_km")


def _utc(value: np.datetime64) -> dt.datetime:
    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def _rgba(index: int) -> list[int]:
    hex_color = COLORS[index % len(COLORS)]
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)] + [255]


def sample_indices(n_time: int, max_samples: int) -> np.ndarray:
    """Time indices every ``ceil(n_time / max_samples)`` steps, always including the last."""
    stride = max(1, math.ceil(n_time / max(1, max_samples)))
    idx = np.arange(0, n_time, stride)
    if n_time and idx[-1] != n_time - 1:
        idx = np.append(idx, n_time - 1)
    return idx


def samples_per_satellite(
    n_satellite: int,
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
) -> int:
    """Samples per satellite: the per-satellite cap, lowered so the total stays under
    ``max_total_samples``, but not below ``MIN_SAMPLES_PER_SATELLITE``."""
    share = max_total_samples // max(1, n_satellite)
    return max(
        min(max_samples_per_satellite, MIN_SAMPLES_PER_SATELLITE),
        min(max_samples_per_satellite, share),
    )


def build_czml_document(
    run_dir: str | os.PathLike[str],
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> Document:
    """The czml3 ``Document`` of a run (see the module docstring for its content)."""
    run = load_run(run_dir, require_dataset=True)
    ds = run.dataset
    assert ds is not None
    missing = [v for v in _POSITION_VARIABLES if v not in ds.data_vars]
    if missing:
        raise OrbitgridError(
            f"{run.path / 'dataset.zarr'} has no {', '.join(missing)}: the CZML export needs "
            f"satellite positions ({', '.join(_POSITION_VARIABLES)})"
        )
    time = run.time_utc
    if len(time) == 0:
        raise OrbitgridError(f"{run.path / 'dataset.zarr'} has no time steps to export")
    start, end = _utc(time[0]), _utc(time[-1])
    step_s = float((time[1] - time[0]) / np.timedelta64(1, "s")) if len(time) > 1 else 60.0
    per_satellite = samples_per_satellite(
        ds.sizes["satellite"], max_samples_per_satellite, max_total_samples
    )
    idx = sample_indices(len(time), per_satellite)
    seconds = ((time[idx] - time[0]) / np.timedelta64(1, "s")).astype(np.float64)
    interval = TimeInterval(start=start, end=end)

    packets = [
        Packet(
            id="document",
            name=run.name,
            version=CZML_VERSION,
            description=str(run.summary.get("description") or ""),
            clock=Clock(
                interval=interval,
                currentTime=start,
                multiplier=60,
                range=ClockRanges.LOOP_STOP,
                step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
            ),
        )
    ]
    shells = shell_labels(ds)
    shell_names = list(dict.fromkeys(shells.tolist()))
    names = (
        np.asarray(ds["satellite_name"].values).astype(str)
        if "satellite_name" in ds.coords
        else np.asarray(ds["satellite"].values).astype(str)
    )
    n_sat = ds.sizes["satellite"]
    trail_s = min(3000.0, float(seconds[-1]) if len(seconds) else 0.0)
    for first in range(0, n_sat, SATELLITE_BLOCK):
        block = slice(first, min(first + SATELLITE_BLOCK, n_sat))
        sub = ds[list(_POSITION_VARIABLES)].isel(time=idx, satellite=block)
        lat = np.asarray(sub["latitude_deg"].values, dtype=np.float64).round(5)
        lon = np.asarray(sub["longitude_deg"].values, dtype=np.float64).round(5)
        h_m = (np.asarray(sub["altitude_km"].values, dtype=np.float64) * KM_TO_M).round(0)
        for k in range(lat.shape[1]):
            sat = first + k
            shell_index = shell_names.index(shells[sat])
            ok = np.isfinite(lat[:, k]) & np.isfinite(lon[:, k]) & np.isfinite(h_m[:, k])
            samples = np.column_stack([seconds[ok], lon[ok, k], lat[ok, k], h_m[ok, k]])
            position = None
            if ok.any():
                position = Position(
                    epoch=start,
                    cartographicDegrees=samples.ravel().tolist(),
                    interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE,
                    interpolationDegree=5 if ok.sum() > 5 else 1,
                )
            packets.append(
                Packet(
                    id=f"satellite/{sat}",
                    name=str(names[sat]),
                    description=f"shell {shells[sat]}, satellite index {sat}",
                    availability=interval,
                    position=position,
                    point=Point(pixelSize=4, color=Color(rgba=_rgba(shell_index))),
                    path=CzmlPath(
                        show=True,
                        width=1,
                        leadTime=0,
                        trailTime=trail_s,
                        resolution=max(step_s, 60.0),
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
    packets += link_packets(run, time, node_ids, max_link_packets)
    return Document(packets=packets)


def _reference(packet_id: str, prop: str = "position") -> str:
    """A CZML reference ``id#property``; ``\\`` and ``#`` in the id are escaped (Cesium)."""
    return packet_id.replace("\\", "\\\\").replace("#", "\\#") + "#" + prop


def link_intervals(
    run: RunFolder,
    time: np.ndarray,
    node_ids: dict[str, str],
    max_links: int | None = None,
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Seconds since the first step in which each link (pair of packet ids) is routed.

    ``paths.csv`` is streamed in its order (time order, as the network stage writes it): a
    pair's path is in use from its row's time until the pair's next row, or the end of the run.
    Links with a node that has no packet are left out; a link's intervals are merged where they
    overlap or touch. With ``max_links``, reading stops at the first row that would bring in
    link number ``max_links + 1``: its time is the cut, at which every open interval ends, and
    links first used at the cut are dropped. If the paths of the first step alone would exceed
    ``max_links``, the pairs that do not fit (in file order) are left out for the whole run
    and the others cut as above. Empty when the run has no ``paths.csv``.
    """
    path = path_log_file(run.path)
    if path is None or len(time) == 0:
        return {}
    end_s = float((time[-1] - time[0]) / np.timedelta64(1, "s"))
    seconds: dict[str, float] = {}
    in_use: dict[tuple[str, str], tuple[float, list[tuple[str, str]]]] = {}
    raw: dict[tuple[str, str], list[tuple[float, float]]] = {}
    seen: set[tuple[str, str]] = set()
    left_out: set[tuple[str, str]] = set()
    first_s: float | None = None
    cut_s = end_s
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"time_utc", "src", "dst", "path"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"missing column(s) {', '.join(sorted(missing))}")
            for row in reader:
                stamp = row["time_utc"]
                if stamp not in seconds:
                    elapsed = np.datetime64(stamp.removesuffix("Z"), "ns") - time[0]
                    seconds[stamp] = float(elapsed / np.timedelta64(1, "s"))
                t = seconds[stamp]
                pair = (row["src"], row["dst"])
                if pair in left_out:
                    continue
                previous = in_use.pop(pair, None)
                if previous is not None:
                    for link in previous[1]:
                        raw.setdefault(link, []).append((previous[0], t))
                links = _hops(row["path"] or "", node_ids)
                if max_links is not None:
                    new = {link for link in links if link not in seen}
                    if len(seen) + len(new) > max_links:
                        if first_s is None or t == first_s:
                            left_out.add(pair)  # too many pairs: draw those that fit
                            continue
                        cut_s = t
                        break
                    seen |= new
                if first_s is None:
                    first_s = t
                if links:
                    in_use[pair] = (t, links)
    except (OSError, ValueError) as exc:
        raise OrbitgridError(
            f"cannot read {path}: {exc}; expected the network stage's path log with columns "
            "time_utc, src, dst, rtt_ms, hops, path"
        ) from exc
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


def _hops(path: str, node_ids: dict[str, str]) -> list[tuple[str, str]]:
    """The links ``(id a, id b)``, ``a < b``, of a ``paths.csv`` path with known nodes."""
    ids = [node_ids.get(n) for n in path.split(PATH_SEPARATOR)] if path else []
    return [
        (a, b) if a < b else (b, a)
        for a, b in itertools.pairwise(ids)
        if a is not None and b is not None and a != b
    ]


def link_packets(
    run: RunFolder,
    time: np.ndarray,
    node_ids: dict[str, str],
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> list[Packet]:
    """One packet per routed link (see the module docstring), at most ``max_link_packets``.

    Links are taken in order of first use; if the run uses more than ``max_link_packets``,
    they are cut at one time (``link_intervals``), so paths are never shown incomplete; if the
    first step alone needs more, only the pairs whose paths fit are drawn.
    """
    intervals = link_intervals(run, time, node_ids, max(0, max_link_packets))
    ranked = sorted(intervals.items(), key=lambda item: item[1][0][0])  # by first use
    start = pd.Timestamp(time[0]).tz_localize("UTC")
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


def export_czml(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    max_samples_per_satellite: int = DEFAULT_MAX_SAMPLES_PER_SATELLITE,
    max_total_samples: int = DEFAULT_MAX_TOTAL_SAMPLES,
    max_link_packets: int = DEFAULT_MAX_LINK_PACKETS,
) -> Path:
    """Write the run's CZML scene (default ``<run_dir>/scene.czml``); return its path.

    Each satellite gets at most ``max_samples_per_satellite`` position samples, fewer when the
    constellation would exceed ``max_total_samples`` (see ``samples_per_satellite``); at most
    ``max_link_packets`` routed links are written.

    Raises
    ------
    OrbitgridError
        Not a run folder, or it has no dataset with satellite positions.
    """
    document = build_czml_document(
        run_dir, max_samples_per_satellite, max_total_samples, max_link_packets
    )
    target = Path(out) if out is not None else Path(run_dir) / CZML_NAME
    if target.is_dir():
        target = target / CZML_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, document.model_dump_json(exclude_none=True))
    return target
