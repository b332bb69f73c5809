"""The network tables (``network/tables.py``): Parquet by default, CSV on request, part files
that survive checkpoints, and the DuckDB queries of docs/network.md on a real run."""

from __future__ import annotations

import gzip
import pickle
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import orbitgrid
import orbitgrid.network.tables as tables
from orbitgrid.network.paths import read_paths
from orbitgrid.network.tables import PartWriter, read_table, write_table
from tests.network.test_engine_integration import _network_dict

DOCS = Path(__file__).resolve().parents[2] / "docs" / "network.md"
SCHEMA = pa.schema([("time_utc", pa.timestamp("us")), ("name", pa.string()), ("x", pa.float64())])


def _rows(start: int, count: int) -> pa.Table:
    index = np.arange(start, start + count)
    times = np.datetime64("2027-01-01T00:00:00", "us") + index.astype("timedelta64[s]")
    return pa.table(
        {"time_utc": times, "name": [f"n{i % 7}" for i in index], "x": index * 0.5},
        schema=SCHEMA,
    )


@pytest.mark.parametrize("table_format", ["parquet", "csv", "csv.gz"])
def test_parts_cut_anywhere_join_to_the_same_file(tmp_path, monkeypatch, table_format):
    """Rows appended in any batches, with parts closed (checkpoints) anywhere, give the same
    file as one uninterrupted part: Parquet byte for byte (row groups of exactly
    ROWS_PER_GROUP), CSV too (one header), gzip CSV once unpacked."""
    monkeypatch.setattr(tables, "ROWS_PER_GROUP", 10)
    whole = PartWriter("t", table_format, SCHEMA)
    whole.append(_rows(0, 95))
    (tmp_path / "a").mkdir()
    one = whole.finish(tmp_path / "a")
    cut = PartWriter("t", table_format, SCHEMA)
    cut.spool_to(tmp_path / "s")
    start = 0
    for size, close in [(3, True), (0, True), (24, False), (13, True), (40, True), (15, False)]:
        cut.append(_rows(start, size))
        start += size
        if close:
            cut.close_part()
    # Three closed parts (closing an empty one makes none) and the open one.
    assert cut.parts == 3 and len(list((tmp_path / "s" / ".t.parts").iterdir())) == 4
    (tmp_path / "b").mkdir()
    joined = cut.finish(tmp_path / "b")
    assert one.name == joined.name == f"t.{table_format}"
    if table_format == "csv.gz":  # gzip members, one a part: the same text once unpacked
        assert gzip.decompress(joined.read_bytes()) == gzip.decompress(one.read_bytes())
    else:
        assert joined.read_bytes() == one.read_bytes()
    assert not (tmp_path / "s" / ".t.parts").exists()
    back = read_table(joined, timestamps=("time_utc",), types={"name": pa.string()})
    assert back.cast(SCHEMA).equals(_rows(0, 95))
    if table_format == "parquet":
        groups = pq.ParquetFile(joined).metadata
        assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [10] * 9 + [
            5
        ]


def test_part_writer_survives_pickling_and_drops_parts_after_the_checkpoint(tmp_path, monkeypatch):
    """The checkpoint pickles the writer with its parts closed; a resumed writer deletes parts
    written after the checkpoint (the killed run's) and continues with the next number, so
    the table has every row once. An open part refuses to be pickled."""
    monkeypatch.setattr(tables, "ROWS_PER_GROUP", 10)
    writer = PartWriter("t", "parquet", SCHEMA)
    writer.spool_to(tmp_path / "run")
    writer.append(_rows(0, 30))
    with pytest.raises(pickle.PicklingError, match="open part"):
        pickle.dumps(writer)
    writer.close_part()
    saved = pickle.dumps(writer)
    writer.append(_rows(30, 20))  # after the checkpoint: lost with the killed process
    writer.close_part()
    writer.append(_rows(50, 15))  # a row group written: the open part is on disk
    assert len(list((tmp_path / "run" / ".t.parts").glob("part-*"))) == 3
    (tmp_path / "run").rename(tmp_path / "taken-over")  # resume renames the staging folder
    resumed = pickle.loads(saved)
    resumed.resume(tmp_path / "taken-over")
    assert [p.name for p in (tmp_path / "taken-over" / ".t.parts").iterdir()] == [
        "part-00000.parquet"
    ]
    resumed.append(_rows(30, 25))
    (tmp_path / "out").mkdir()
    assert pq.read_table(resumed.finish(tmp_path / "out")).equals(_rows(0, 55))


def test_empty_tables_keep_their_columns(tmp_path):
    for table_format in ("parquet", "csv"):
        folder = tmp_path / table_format
        folder.mkdir()
        path = PartWriter("t", table_format, SCHEMA).finish(folder)
        assert read_table(path).column_names == SCHEMA.names


def test_write_table_leaves_no_partial_file(tmp_path):
    path = write_table(tmp_path, "t", _rows(0, 3))
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"] and path.stat().st_size > 0


def _documented_queries() -> list[str]:
    """The ```sql blocks of docs/network.md, one statement each."""
    return re.findall(r"```sql\n(.*?)```", DOCS.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    out = {}
    for table_format in ("parquet", "csv"):
        out[table_format] = folder / table_format
        data = _network_dict(tables=table_format)
        orbitgrid.run(orbitgrid.scenario_from_dict(data), out_dir=out[table_format])
    return out


def test_documented_duckdb_queries_answer_on_a_real_run(runs):
    """Each DuckDB query of docs/network.md runs on a real run folder and gives what the
    tables say by other means (`orbitgrid paths`, the contact table, the pair table); with
    .csv instead of .parquet the same query gives the same answer."""
    queries = _documented_queries()
    assert len(queries) == 4
    answers = {}
    for table_format, run_dir in runs.items():
        answers[table_format] = []
        for query in queries:
            sql = query.replace("RUN/", f"{run_dir}/")
            if table_format == "csv":
                sql = sql.replace(".parquet", ".csv")
            answers[table_format].append(duckdb.sql(sql).fetchall())
    path_rows, per_pair, passes, worst = answers["parquet"]
    expected = read_paths(runs["parquet"], "Paris", "Berlin")
    assert [row[-1] for row in path_rows] == [row["path"] for row in expected]
    assert len(path_rows) > 3 and path_rows[0][0].isoformat() == "2027-03-20T00:00:00"
    assert (
        sum(row[2] for row in per_pair)
        == pq.read_metadata(runs["parquet"] / "paths.parquet").num_rows
    )
    contacts = pq.read_table(runs["parquet"] / "contacts.parquet").to_pandas()
    gsl = contacts[contacts["kind"] == "gsl"]
    assert {row[0]: row[1] for row in passes} == gsl.groupby("a").size().to_dict()
    pairs = pq.read_table(runs["parquet"] / "network_pairs.parquet").to_pandas()
    assert worst[0][2] == pytest.approx(pairs["rtt_p95_ms"].max())
    for mine, theirs in zip(answers["parquet"], answers["csv"], strict=True):
        assert len(mine) == len(theirs)
        for row, same in zip(mine, theirs, strict=True):
            for a, b in zip(row, same, strict=True):
                assert a == (pytest.approx(b) if isinstance(a, float) else b)
