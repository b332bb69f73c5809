"""CZML export: validates against czml3's model, one packet per satellite, positions match."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from czml3 import Document

from orbitgrid.errors import OrbitgridError
from orbitgrid.report import export_czml
from orbitgrid.report.scene import SAMPLES_PER_ORBIT
from tests.report.conftest import copy_run, make_run


def test_czml_validates_with_one_packet_per_satellite(small_run: Path, tmp_path: Path) -> None:
    out = export_czml(small_run, out=tmp_path / "scene.czml")
    packets = json.loads(out.read_text())
    document = Document.model_validate(packets)  # czml3's pydantic model of a CZML document
    assert document.packets[0].id == "document"
    assert document.packets[0].clock is not None
    satellites = [p for p in document.packets if p.id.startswith("satellite/")]
    ds = xr.open_zarr(small_run / "dataset.zarr")
    assert len(satellites) == ds.sizes["satellite"] == 6
    assert len({p.id for p in satellites}) == 6
    assert not list(tmp_path.glob("*.partial"))


def test_czml_first_sample_is_the_dataset_position(small_run: Path, tmp_path: Path) -> None:
    """Samples are [t s, lon °, lat °, h m], propagated again from the run's scenario: at the
    run's first step they are the dataset's position (``test_czml_accuracy`` checks between)."""
    packets = json.loads(export_czml(small_run, out=tmp_path / "s.czml").read_text())
    ds = xr.open_zarr(small_run / "dataset.zarr")
    samples = np.array(packets[1 + 3]["position"]["cartographicDegrees"]).reshape(-1, 4)
    sat = ds.isel(satellite=3, time=0)
    assert samples[0, 0] == 0.0
    np.testing.assert_allclose(samples[0, 1], sat["longitude_deg"].values, atol=1e-5)
    np.testing.assert_allclose(samples[0, 2], sat["latitude_deg"].values, atol=1e-5)
    np.testing.assert_allclose(samples[0, 3], sat["altitude_km"].values * 1e3, atol=0.5)
    # 550 km: a 95.6 min orbit, so one sample every 239 s; three hours less one step.
    spacing = np.diff(samples[:, 0])
    np.testing.assert_allclose(spacing, spacing[0])
    assert spacing[0] == pytest.approx(95.6 * 60 / SAMPLES_PER_ORBIT, rel=0.01)
    assert samples[-1, 0] == pytest.approx(3 * 3600.0 - 60.0)


def test_long_scene_is_a_window_the_user_can_choose(small_run: Path, tmp_path: Path) -> None:
    """Over the sample budget, the default scene is the part of the run that fits; a window
    that does not fit is refused with the longest that does; --start moves the window."""
    budget = 6 * 21  # 21 samples per satellite: 20 × 239 s ≈ 80 min
    out = export_czml(small_run, out=tmp_path / "s.czml", max_total_samples=budget)
    packets = json.loads(out.read_text())
    samples = np.array(packets[1]["position"]["cartographicDegrees"]).reshape(-1, 4)
    assert len(samples) == 21
    assert "choose another window with --start and --duration" in packets[0]["description"]
    interval = packets[0]["clock"]["interval"]
    assert interval.startswith("2027-03-20T00:00:00") and "/2027-03-20T01:19:" in interval
    with pytest.raises(OrbitgridError, match=r"choose --duration of at most 1\.3\d* h"):
        export_czml(small_run, tmp_path / "t.czml", max_total_samples=budget, duration_s=7200)
    later = json.loads(
        export_czml(
            small_run, out=tmp_path / "u.czml", start="2027-03-20T01:00:00Z", duration_s=3600.0
        ).read_text()
    )
    lo, hi = (pd.Timestamp(t) for t in later[0]["clock"]["interval"].split("/"))
    assert (lo, hi) == (pd.Timestamp("2027-03-20T01:00Z"), pd.Timestamp("2027-03-20T02:00Z"))
    assert pd.Timestamp(later[1]["position"]["epoch"]) == lo
    with pytest.raises(OrbitgridError, match="outside the run"):
        export_czml(small_run, out=tmp_path / "v.czml", start="2027-03-21T00:00:00Z")
    with pytest.raises(OrbitgridError, match="ends after the run"):
        export_czml(small_run, out=tmp_path / "w.czml", duration_s=4 * 3600.0)


def test_ground_stations_get_packets(small_run: Path, tmp_path: Path) -> None:
    run = copy_run(small_run, tmp_path / "run")
    scenario = yaml.safe_load((run / "scenario.yaml").read_text())
    scenario["network"] = {
        "endpoints": [
            {"name": "Svalbard", "kind": "ground_station", "latitude_deg": 78.23,
             "longitude_deg": 15.39},
        ]
    }  # fmt: skip
    (run / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    packets = json.loads(export_czml(run).read_text())
    assert (run / "scene.czml").is_file()
    station = [p for p in packets if p["id"] == "endpoint/Svalbard"]
    assert station and station[0]["position"]["cartographicDegrees"] == [15.39, 78.23, 0.0]


def test_czml_needs_the_runs_scenario_not_its_dataset(small_run: Path, tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", output={"dataset": False})
    packets = json.loads(export_czml(run).read_text())
    assert sum(p["id"].startswith("satellite/") for p in packets) == 6
    with pytest.raises(OrbitgridError, match="is not a run folder"):
        export_czml(tmp_path / "nowhere")
    bare = copy_run(small_run, tmp_path / "bare")
    (bare / "scenario.input.yaml").unlink()
    with pytest.raises(OrbitgridError, match=r"has no scenario\.input\.yaml"):
        export_czml(bare)


def test_network_run_has_endpoints_and_routed_links(network_run: Path, tmp_path: Path) -> None:
    """A network run's scene: one packet per satellite, one per endpoint (inline and from
    endpoint_files), and link packets whose polylines reference existing packets' positions,
    available only within the run window."""
    packets = json.loads(export_czml(network_run, out=tmp_path / "scene.czml").read_text())
    document = Document.model_validate(packets)
    ids = [p.id for p in document.packets]
    assert len(ids) == len(set(ids))
    ds = xr.open_zarr(network_run / "dataset.zarr")
    satellites = [i for i in ids if i.startswith("satellite/")]
    assert len(satellites) == ds.sizes["satellite"] == 240
    endpoints = sorted(i for i in ids if i.startswith("endpoint/"))
    assert endpoints == sorted(f"endpoint/{n}" for n in ds["src"].values)
    assert "endpoint/Madrid" in endpoints  # from the CSV in network.endpoint_files
    links = [p for p in packets if p["id"].startswith("link/")]
    assert links
    start = pd.Timestamp(ds["time"].values[0]).tz_localize("UTC")
    end = pd.Timestamp(ds["time"].values[-1]).tz_localize("UTC")
    for link in links:
        references = link["polyline"]["positions"]["references"]
        assert len(references) == 2
        for reference in references:
            target, prop = reference.split("#")
            assert target in ids and prop == "position"
        spans = link["availability"]
        for span in [spans] if isinstance(spans, str) else spans:
            lo, hi = (pd.Timestamp(t) for t in span.split("/"))
            assert start <= lo < hi <= end
    # Every hop of the first logged path is a link packet between the right nodes.
    first = pd.read_parquet(network_run / "paths.parquet").iloc[0]
    names = [str(n) for n in ds["satellite_name"].values]
    node = {n: f"satellite/{i}" for i, n in enumerate(names)}
    node.update({n: f"endpoint/{n}" for n in ds["src"].values})
    hops = first["path"].split(" > ")
    linked = {frozenset(p["polyline"]["positions"]["references"]) for p in links}
    assert hops[0] == first["src"] and hops[-1] == first["dst"]
    for a, b in itertools.pairwise(hops):
        assert frozenset([f"{node[a]}#position", f"{node[b]}#position"]) in linked


def test_link_packets_are_capped_at_a_time(network_run: Path, tmp_path: Path) -> None:
    """Over the cap, links are cut at one time: none is shown after it."""
    full = json.loads(export_czml(network_run, out=tmp_path / "a.czml").read_text())
    n_links = sum(p["id"].startswith("link/") for p in full)
    capped = json.loads(
        export_czml(network_run, out=tmp_path / "b.czml", max_link_packets=n_links // 3).read_text()
    )
    links = [p for p in capped if p["id"].startswith("link/")]
    assert 0 < len(links) <= n_links // 3
    ends = []
    for link in links:
        spans = link["availability"]
        ends += [
            pd.Timestamp(s.split("/")[1]) for s in ([spans] if isinstance(spans, str) else spans)
        ]
    cut = max(ends)
    run_end = pd.Timestamp(xr.open_zarr(network_run / "dataset.zarr")["time"].values[-1])
    assert cut < run_end.tz_localize("UTC")
    for link in links:  # every kept link was first used before the cut
        spans = link["availability"]
        first = spans if isinstance(spans, str) else spans[0]
        assert pd.Timestamp(first.split("/")[0]) < cut


def test_link_cap_below_the_first_step_draws_the_pairs_that_fit(
    network_run: Path, tmp_path: Path
) -> None:
    """A cap smaller than the first step's links keeps whole paths of some pairs only."""
    packets = json.loads(
        export_czml(network_run, out=tmp_path / "c.czml", max_link_packets=3).read_text()
    )
    links = [p for p in packets if p["id"].startswith("link/")]
    assert 0 < len(links) <= 3
    ends = {link["id"]: link["availability"] for link in links}
    assert all(isinstance(span, str) for span in ends.values())  # one interval each
    assert len({span.split("/")[1] for span in ends.values()}) == 1  # all cut at one time


def test_links_from_a_csv_path_log_equal_those_from_parquet(
    network_run: Path, tmp_path: Path
) -> None:
    """A run whose path log is gzip CSV (network.path_log: csv.gz, or a run written before
    Parquet, with times ending in Z) gives the same link packets as paths.parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    run = copy_run(network_run, tmp_path / "run")
    table = pq.read_table(run / "paths.parquet")
    assert table.num_rows > 0
    stamps = pc.strftime(table["time_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert stamps[0].as_py().endswith("Z")
    with pa.CompressedOutputStream(str(run / "paths.csv.gz"), "gzip") as stream:
        pacsv.write_csv(table.set_column(0, "time_utc", stamps), stream)
    (run / "paths.parquet").unlink()

    def links(folder: Path) -> list[dict]:
        packets = json.loads(export_czml(folder, out=tmp_path / f"{folder.name}.czml").read_text())
        return [p for p in packets if p["id"].startswith("link/")]

    expected = links(network_run)
    assert expected and links(run) == expected
