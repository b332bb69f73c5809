"""Invariants of the Earth-observation delivery (docs/observation.md, "Model" and
"Accounting"): on random small contact plans (downlinks of several stations, ISLs, light
times, storage from ample to smaller than one tile, both policies, deadlines, processing
capacity from none to ample) every strategy conserves bytes and tiles, never books a contact
beyond its volume, frees the volume of evicted bundles, and never lets a bundle leave or
arrive before it was made or before its first contact could send it; and on a shipped
scenario the results do not depend on the engine's chunking."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.engine import execute, prepare
from orbitgrid.network.contact_plan import KIND_GSL_DOWN, KIND_ISL, ContactPlan
from orbitgrid.observation.delivery import (
    KEPT,
    OUT_DELIVERED,
    OUT_DROPPED,
    OUT_STORED,
    RAW,
    RESULT,
    Tiles,
    simulate,
)
from orbitgrid.observation.summary import ObservationSummary
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.scenarios import shipped_scenario_path
from orbitgrid.yaml_loader import load_yaml_file

HORIZON_S = 2000.0
RESULT_BYTES = 3e4


def _random_case(seed: int) -> dict:
    """1–3 satellites, 1–2 stations, up to 9 downlinks and 4 ISL windows, up to 24 tiles."""
    rng = np.random.default_rng(seed)
    n_sat, n_gs = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    rows = []
    for _ in range(int(rng.integers(1, 10))):
        start = float(rng.integers(0, 1800))
        rows.append(
            (
                int(rng.integers(0, n_sat)),
                n_sat + int(rng.integers(0, n_gs)),
                start,
                start + float(rng.integers(5, 300)),
                float(rng.choice([1e5, 1e6, 5e6])),
                float(rng.choice([0.0, 0.01, 0.12])),
                KIND_GSL_DOWN,
            )
        )
    for _ in range(int(rng.integers(0, 5)) if n_sat > 1 else 0):
        a, b = rng.choice(n_sat, 2, replace=False)
        start = float(rng.integers(0, 1800))
        rows.append(
            (int(a), int(b), start, start + float(rng.integers(5, 300)), 1e7, 1e-3, KIND_ISL)
        )
    frm, to, start, end, rate, owlt, kind = zip(*rows, strict=True)
    plan = ContactPlan.from_arrays(frm, to, start, end, rate, owlt, n_nodes=n_sat + n_gs, kind=kind)
    n = int(rng.integers(0, 25))
    tiles = Tiles(
        satellite=rng.integers(0, n_sat, n),
        capture_s=np.sort(rng.integers(0, 1900, n).astype(float)),
        priority=rng.integers(1, 3, n),
        cloud_fraction=np.zeros(n),
        latitude_deg=np.zeros(n),
        longitude_deg=np.zeros(n),
        size_bytes=rng.choice([1e5, 5e5, 2e6], n),
        keep=rng.random(n) < 0.5,
    )
    window = float(rng.choice([10.0, 60.0, 300.0]))
    n_windows = int(np.ceil(HORIZON_S / window))
    return {
        "n_sat": n_sat,
        "stations": n_sat + np.arange(n_gs),
        "plan": plan,
        "tiles": tiles,
        "window": window,
        "capacity_tiles": rng.choice([0.0, 0.3, 1.0, 5.0], (n_windows, n_sat)),
        "storage": float(rng.choice([np.inf, 3e6, 1e6, 5e4])),
        "policy": str(rng.choice(["drop-oldest", "drop-lowest-priority"])),
        "deadline": None if rng.random() < 0.7 else float(rng.integers(50, 1500)),
    }


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), strategy=st.sampled_from(["raw", "filter", "infer", "hybrid"])
)
def test_delivery_invariants_on_random_plans(seed, strategy):
    """Per random case and strategy: (1) each tile is exactly one of processed, dropped raw
    or stored raw (onboard strategies), or has exactly one raw bundle (``raw``); a processed
    tile has exactly one result (``infer``/``hybrid``) or at most one kept copy
    (``filter``); so captured = delivered + stored + dropped + reduced exactly. (2) Booked
    volume = the bytes of the delivered bundles routed over each contact (evicted bundles
    freed theirs), ≤ rate × duration. (3) Times: capture ≤ made ≤ departed (last byte of
    the first hop, not before that contact starts) and departed + first hop's light time ≤
    delivered, with equality for one-hop routes; routes chain from the bundle's satellite to
    a station. (4) No satellite holds more than its store after admission."""
    c = _random_case(seed)
    plan, tiles = c["plan"], c["tiles"]
    o = simulate(
        strategy,
        tiles,
        None if strategy == "raw" else c["capacity_tiles"],
        c["n_sat"],
        c["window"],
        HORIZON_S,
        plan,
        c["stations"],
        c["storage"],
        c["policy"],
        RESULT_BYTES,
        c["deadline"],
    )
    n = len(tiles)
    # (1) tiles and bytes.
    if strategy == "raw":
        assert np.array_equal(np.sort(o.bundle_tile), np.arange(n))
        assert np.all(o.bundle_product == RAW)
    else:
        flags = o.tile_processed.astype(int) + o.tile_dropped + o.tile_stored
        assert np.all(flags == 1)
        carrier = KEPT if strategy == "filter" else RESULT
        per_tile = np.bincount(o.bundle_tile[o.bundle_product == carrier], minlength=n)
        if strategy == "filter":
            np.testing.assert_array_equal(per_tile, o.tile_processed & tiles.keep)
        else:
            np.testing.assert_array_equal(per_tile, o.tile_processed)
    products = np.isin(o.bundle_product, [KEPT, RESULT]) | (o.bundle_product > RESULT)
    reduced = tiles.size_bytes[o.tile_processed].sum() - o.bundle_size[products].sum()
    parts = sum(
        o.bundle_size[o.bundle_outcome == k].sum() for k in (OUT_DELIVERED, OUT_STORED, OUT_DROPPED)
    )
    raw_left = tiles.size_bytes[o.tile_dropped | o.tile_stored].sum()
    assert tiles.size_bytes.sum() == pytest.approx(parts + raw_left + reduced, rel=1e-12, abs=1e-6)
    # (2) booked volumes.
    booked = np.zeros(len(plan))
    np.add.at(booked, o.hop_contact, o.bundle_size[o.hop_bundle])
    np.testing.assert_allclose(o.booked_bytes, booked, rtol=1e-9, atol=1e-3)
    assert np.all(o.booked_bytes <= plan.volume_bytes * (1 + 1e-9))
    # (3) times and routes.
    made = o.bundle_created_s
    assert np.all(made >= tiles.capture_s[o.bundle_tile] - 1e-9)
    delivered = np.flatnonzero(o.bundle_outcome == OUT_DELIVERED)
    assert np.all(np.isnan(o.bundle_delivered_s[o.bundle_outcome != OUT_DELIVERED]))
    for b in delivered:
        route = o.hop_contact[o.hop_bundle == b]
        assert len(route) == o.bundle_hops[b] >= 1
        assert plan.from_node[route[0]] == o.bundle_satellite[b]
        assert np.all(plan.to_node[route[:-1]] == plan.from_node[route[1:]])
        assert plan.to_node[route[-1]] == o.bundle_station[b] and o.bundle_station[b] >= c["n_sat"]
        first, depart, arrive = route[0], o.bundle_departed_s[b], o.bundle_delivered_s[b]
        assert made[b] <= depart and plan.start_s[first] <= depart <= plan.end_s[first] + 1e-9
        assert depart + plan.owlt_s[first] <= arrive + 1e-9
        if len(route) == 1:
            assert depart + plan.owlt_s[first] == pytest.approx(arrive, abs=1e-9)
        if c["deadline"] is not None:
            assert arrive <= made[b] + c["deadline"] + 1e-9
    # (4) storage.
    assert np.all(o.backlog_max_bytes <= c["storage"] * (1 + 1e-9))


def _sentinel2(duration: str, chunk_satellite_steps: int) -> dict:
    data = load_yaml_file(shipped_scenario_path("eo-sentinel2-like"))
    data["time"]["duration"] = duration
    data["observation"].pop("station_target")
    data["observation"]["storage"]["capacity"] = "60 GB"  # evictions happen too
    data["engine"] = {"chunk_satellite_steps": chunk_satellite_steps}
    return data


def _run(data: dict):
    plan, pipeline = prepare(scenario_from_dict(data, base_dir="."))
    summary = execute(plan, pipeline)
    reducer = next(r for r in pipeline.reducers if isinstance(r, ObservationSummary))
    return summary["observation"], reducer


def test_delivery_does_not_depend_on_the_chunking():
    """Sentinel-2-like, 6 h, a 60 GB store: 1,000 satellite-steps per chunk (9 chunks of
    480 steps, on the 10 min output stride) and one chunk give the same tiles, processing
    capacity, summary figures and bundles, exactly (engine.chunk_satellite_steps: "results
    do not depend on these"); the imaged area is a float sum in another order (1e-12)."""
    small, r_small = _run(_sentinel2("6 h", 1000))
    large, r_large = _run(_sentinel2("6 h", 10_000_000))
    assert small.pop("imaged_km2") == pytest.approx(large.pop("imaged_km2"), rel=1e-12)
    assert small == large
    np.testing.assert_array_equal(r_small.tiles.capture_s, r_large.tiles.capture_s)
    np.testing.assert_array_equal(r_small.capacity_tiles, r_large.capacity_tiles)
    for strategy, o in r_small.outcomes.items():
        other = r_large.outcomes[strategy]
        np.testing.assert_array_equal(o.bundle_outcome, other.bundle_outcome)
        np.testing.assert_array_equal(o.bundle_delivered_s, other.bundle_delivered_s)
    raw = small["strategies"]["raw"]
    assert raw["dropped_bytes"] > 0 and raw["delivered_bytes"] > 0


def test_more_storage_never_drops_more_raw_bytes_on_a_scenario():
    """Raw downlink on the Sentinel-2-like day (6 h): with a store twice as large no more
    bytes are dropped and no fewer delivered-or-stored (a larger store only keeps what a
    smaller one evicted, drop-oldest); the figures add up to the bytes captured."""
    figures = []
    for capacity in ("30 GB", "60 GB"):
        data = _sentinel2("6 h", 10_000_000)
        data["observation"]["storage"]["capacity"] = capacity
        data["observation"]["strategies"] = ["raw"]
        figures.append(_run(copy.deepcopy(data))[0]["strategies"]["raw"])
    small, large = figures
    assert large["dropped_bytes"] <= small["dropped_bytes"]
    for f in figures:
        kept = f["delivered_bytes"] + f["stored_bytes"] + f["dropped_bytes"]
        assert kept == pytest.approx(f["captured_bytes"], rel=1e-12)
