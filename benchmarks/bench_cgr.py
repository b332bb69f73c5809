"""Contact graph routing benchmark: a day of Earth-observation tiles over 200 satellites.

1. Contact plan from the engine's geometry: ``orbitgrid.run`` of a 200-satellite Walker
   constellation (10 planes × 20, 550 km, 97.6°, +grid optical ISLs at 10 Gbit/s) with the
   first 20 ground stations of ``builtin:ground_gateways`` (5° mask, 800 Mbit/s downlink), one
   day at 10 s steps; its contacts table becomes the plan (``read_contact_plan``, downlinks
   and both ISL directions). Passes last up to ~10 min, each station sees each satellite
   several times a day.
2. One bundle per captured tile: every satellite captures a tile every ``--every`` seconds
   (random phase per satellite, seed 1) of ``--tile-bytes`` bytes, destined to any station;
   ``CgrRouter.route`` routes the day's tiles in creation order, ``--repeats`` times, each with
   fresh contact volumes. Prints the median and range of the routing time, the outcome and
   latency figures.
3. The test oracle (``tests/network/test_cgr.py::oracle_delivery``, a time-expanded search on
   the integer-second grid) timed on a subset, because it needs whole-second times: the first
   2 h, the satellites of the first ``--oracle-planes`` planes and all stations, with every
   contact's light time rounded up to whole seconds (as ION does) and every rate lowered so a
   tile takes a whole number of seconds. CGR routes the same single bundles on that plan and
   must give the same answers.

Run from the repository root::

    python benchmarks/bench_cgr.py
    python benchmarks/bench_cgr.py --tile-bytes 3e9 --repeats 1     # overloaded downlinks
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import SPACECRAFT
from tests.network.test_cgr import oracle_delivery

import orbitgrid
from orbitgrid.network.cgr import DELIVERED, CgrRouter
from orbitgrid.network.contact_plan import KIND_GSL_DOWN, ContactPlan, read_contact_plan

PLANES, PER_PLANE = 10, 20
N_SAT = PLANES * PER_PLANE
N_STATIONS = 20
DAY_S = 86_400.0


def stations() -> list[dict]:
    text = files("orbitgrid.data").joinpath("ground_gateways.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    chosen = [r for r in rows if r["kind"] == "ground_station"][:N_STATIONS]
    return [
        {
            "name": r["name"],
            "kind": "ground_station",
            "latitude": float(r["latitude_deg"]),
            "longitude": float(r["longitude_deg"]),
            "altitude": f"{r['altitude_km']} km",
            "min_elevation": "5 deg",
        }
        for r in chosen
    ]


def scenario() -> dict:
    return {
        "name": "eo-cgr-bench",
        "description": "200 EO satellites, 20 ground stations, one day",
        "time": {"start": "2027-03-20T00:00:00Z", "duration": "1 d", "step": "10 s"},
        "constellation": [
            {
                "type": "walker",
                "name": "eo",
                "altitude": "550 km",
                "inclination": "97.6 deg",
                "planes": PLANES,
                "sats_per_plane": PER_PLANE,
                "phasing": 1,
                "spacecraft": "node",
            }
        ],
        "spacecraft": {"node": copy.deepcopy(SPACECRAFT)},
        "network": {
            "endpoints": stations(),
            "isl": {"pattern": "+grid", "rate": "10 Gbps"},
            "gsl": {"min_elevation": "5 deg", "rate": "800 Mbps"},
            "path_log": "none",
        },
        "output": {"dataset": False},
    }


def tiles(every_s: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(source satellite, capture time s) of every tile of the day, in time order."""
    phase = np.random.default_rng(seed).uniform(0.0, every_s, N_SAT)
    created = (np.arange(0.0, DAY_S, every_s)[:, None] + phase[None, :]).ravel()
    source = np.tile(np.arange(N_SAT), len(created) // N_SAT)
    keep = created < DAY_S
    order = np.argsort(created[keep], kind="stable")
    return source[keep][order], created[keep][order]


def oracle_subset(plan: ContactPlan, tile_bytes: float, planes: int, horizon_s: float):
    """The plan restricted to the first ``horizon_s``, the first ``planes`` planes and the
    stations, on whole seconds: light time rounded up, rates lowered so a tile takes
    ceil(size / rate) s; node ids renumbered (satellites, then stations)."""
    keep_node = np.zeros(plan.n_nodes, bool)
    keep_node[: planes * PER_PLANE] = True
    keep_node[N_SAT:] = True
    new_id = np.cumsum(keep_node) - 1
    ok = keep_node[plan.from_node] & keep_node[plan.to_node] & (plan.start_s < horizon_s)
    tx_s = np.ceil(tile_bytes * 8.0 / plan.rate_bps[ok])
    return ContactPlan.from_arrays(
        new_id[plan.from_node[ok]],
        new_id[plan.to_node[ok]],
        plan.start_s[ok],
        np.minimum(plan.end_s[ok], horizon_s),
        tile_bytes * 8.0 / tx_s,
        np.ceil(plan.owlt_s[ok]),
        n_nodes=int(keep_node.sum()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=20.0, help="tile interval per satellite, s")
    parser.add_argument("--tile-bytes", type=float, default=500e6, help="tile size, bytes")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--oracle-planes", type=int, default=3)
    parser.add_argument("--oracle-bundles", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        orbitgrid.run(orbitgrid.scenario_from_dict(scenario()), out_dir=Path(tmp) / "run")
        engine_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = read_contact_plan(Path(tmp) / "run", gsl_direction="down")
        read_s = time.perf_counter() - t0
    station_nodes = np.arange(N_SAT, plan.n_nodes)
    gsl = plan.kind == KIND_GSL_DOWN
    print(f"plan: {plan}; engine run {engine_s:.1f} s, contacts table → plan {read_s:.2f} s")
    print(
        f"  {gsl.sum()} downlink passes (median {np.median(plan.duration_s[gsl]) / 60:.1f} min, "
        f"{gsl.sum() / N_SAT / N_STATIONS:.1f} per satellite and station), "
        f"{(~gsl).sum()} ISL contacts"
    )
    source, created = tiles(args.every)
    demand = len(source) * args.tile_bytes
    capacity = plan.volume_bytes[gsl].sum()
    print(
        f"tiles: {len(source):,} of {args.tile_bytes / 1e6:.0f} MB = {demand / 1e12:.1f} TB; "
        f"downlink volume of the plan {capacity / 1e12:.1f} TB (demand {demand / capacity:.0%})"
    )

    CgrRouter(plan, station_nodes).route(source[:2000], created[:2000], args.tile_bytes)  # JIT
    route_s, build_s = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        router = CgrRouter(plan, station_nodes)
        t1 = time.perf_counter()
        result = router.route(source, created, args.tile_bytes)
        build_s.append(t1 - t0)
        route_s.append(time.perf_counter() - t1)
    load = os.getloadavg()
    ok = result.status == DELIVERED
    hops = np.bincount(result.hops[ok])
    print(
        f"CGR, {len(source):,} bundles: median {np.median(route_s):.2f} s "
        f"(range {min(route_s):.2f}–{max(route_s):.2f} s over {args.repeats} runs; index build "
        f"{np.median(build_s) * 1e3:.0f} ms); {np.median(route_s) / len(source) * 1e6:.1f} µs "
        f"per bundle; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    totals = result.totals()
    latency = result.latency_s[ok]
    print(
        f"  {result}; bytes delivered {totals['delivered_bytes'] / 1e12:.2f} TB, pending "
        f"{totals['pending_bytes'] / 1e12:.2f} TB; latency median {np.median(latency):.1f} s, "
        f"p99 {np.percentile(latency, 99):.1f} s; hops {dict(enumerate(hops.tolist()))}"
    )

    sub = oracle_subset(plan, args.tile_bytes, args.oracle_planes, 7200.0)
    sub_stations = np.arange(args.oracle_planes * PER_PLANE, sub.n_nodes)
    rng = np.random.default_rng(2)
    picks = rng.integers(0, args.oracle_planes * PER_PLANE, args.oracle_bundles)
    starts = rng.integers(0, 3600, args.oracle_bundles).astype(float)
    router = CgrRouter(sub, sub_stations, horizon_s=7200.0)
    router.route(picks[:1], starts[:1], args.tile_bytes)  # compile for this plan's dtypes
    oracle_s, cgr_s, agree = 0.0, 0.0, 0
    for src, t in zip(picks, starts, strict=True):
        t0 = time.perf_counter()
        want = oracle_delivery(sub, np.zeros(len(sub)), src, t, args.tile_bytes, sub_stations, 7200)
        t1 = time.perf_counter()
        got = CgrRouter(sub, sub_stations, horizon_s=7200.0).route(src, t, args.tile_bytes)
        cgr_s += time.perf_counter() - t1
        oracle_s += t1 - t0
        have = None if got.status[0] != DELIVERED else (got.delivered_s[0], int(got.hops[0]))
        agree += have == want
    n = args.oracle_bundles
    print(
        f"oracle subset ({sub}, 2 h, {args.oracle_planes} planes + {N_STATIONS} stations, "
        f"whole seconds): oracle {oracle_s / n * 1e3:.0f} ms per bundle, CGR "
        f"{cgr_s / n * 1e3:.2f} ms per bundle incl. index build; {agree}/{n} answers equal"
    )


if __name__ == "__main__":
    main()
