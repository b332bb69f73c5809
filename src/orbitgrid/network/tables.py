"""The network's tables in a run folder: compressed Parquet by default, CSV on request.

A table has a stem (``paths``, ``contacts``, ``network_pairs``) and lives in the run folder
as ``<stem>.parquet`` (zstd-compressed, typed columns: times as ``timestamp[us]`` in UTC
without a zone, as the dataset's ``time``) or, with ``network.tables: csv``, as
``<stem>.csv`` (``<stem>.csv.gz`` for a gzip path log; times as ISO 8601 text in UTC without
a zone, ``2027-01-01T00:00:00``, which DuckDB and pandas read as the same naive timestamps
as the Parquet file; a ``Z`` is accepted on reading). Readers ask ``table_file`` which one is
there and read both the same way (``read_table``, ``iter_batches``), so a reader never cares
which format a run chose. DuckDB reads either: ``SELECT … FROM 'RUN/paths.parquet'``.

A table that streams while the run goes (the path log) is written by ``PartWriter`` as
numbered part files in a hidden folder of the run's staging folder. The open part is closed
whenever the run saves a checkpoint, so a checkpoint refers only to whole files, and a
resumed run deletes the parts written after it and continues with the next number. When the
run ends the parts are joined into the one table file: Parquet rewritten in row groups of
exactly ``ROWS_PER_GROUP`` rows (the part writer cuts its row groups the same way, so the
file is the same whether the run was checkpointed, resumed or neither), CSV parts
concatenated byte for byte (only the first has the header; gzip parts are gzip members, and a
file of several members is valid gzip).
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orbitgrid.errors import OrbitgridError

TableFormat = Literal["parquet", "csv", "csv.gz"]
SUFFIXES: dict[str, str] = {"parquet": ".parquet", "csv": ".csv", "csv.gz": ".csv.gz"}
# zstd level 6: on an hour of shell-1 path log (382,158 rows) 13 % smaller than level 3 for
# 0.2 s more writing, half the size of snappy (docs/network.md, "Tables").
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 6
# Rows per Parquet row group: large enough for fast scans, small enough that the part writer's
# buffer (≈ 200 bytes a path-log row) stays near 25 MB.
ROWS_PER_GROUP = 2**17


def table_file(folder: str | Path, stem: str) -> Path | None:
    """The file of table ``stem`` in ``folder`` (``.parquet``, ``.csv`` or ``.csv.gz``), or
    None when there is none."""
    for suffix in SUFFIXES.values():
        path = Path(folder) / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


def _is_parquet(path: Path) -> bool:
    return path.name.endswith(".parquet")


def _csv_time_text(values: pa.ChunkedArray | pa.Array, unit: str | None) -> pa.Array:
    """ISO 8601 text (``2027-01-01T00:00:00``, UTC without a zone) of a naive UTC timestamp
    column; nulls stay null. ``unit`` None: seconds when every value is whole, else ms or
    µs."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    instants = array.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    if unit is None:
        micros = instants[~np.isnat(instants)].astype(np.int64)
        unit = "s" if np.all(micros % 10**6 == 0) else "ms" if np.all(micros % 10**3 == 0) else "us"
    text = np.datetime_as_string(instants, unit=unit)
    return pa.array(text, pa.string(), mask=np.isnat(instants))


def csv_ready(table: pa.Table, time_unit: str | None = None) -> pa.Table:
    """``table`` with its timestamp columns as ISO 8601 text, as the CSV files hold them
    (pyarrow would write ``2027-01-01 00:00:00.000000``, with needless digits)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            text = _csv_time_text(table.column(index), time_unit)
            table = table.set_column(index, column.name, text)
    return table


def parquet_options(schema: pa.Schema, dictionary: Sequence[str] | None = None) -> dict:
    """Writer options: zstd, and dictionary encoding for ``dictionary`` (default: every text
    column). Names repeat (endpoints, satellites, ``gsl``/``isl``) and a dictionary stores
    them once; a column of mostly distinct values (the path log's ``path``) is smaller
    without one (a dictionary page that zstd compresses worse than the plain text)."""
    if dictionary is None:
        dictionary = [f.name for f in schema if pa.types.is_string(f.type)]
    return {
        "compression": COMPRESSION,
        "compression_level": COMPRESSION_LEVEL,
        "use_dictionary": list(dictionary),
    }


def write_table(
    folder: str | Path,
    stem: str,
    table: pa.Table,
    table_format: TableFormat = "parquet",
    dictionary: Sequence[str] | None = None,
) -> Path:
    """Write ``table`` as ``folder/<stem>.<format>`` through a ``.partial`` file, renamed
    into place (a killed run leaves no half file under the real name); ``dictionary`` as in
    ``parquet_options``."""
    path = Path(folder) / f"{stem}{SUFFIXES[table_format]}"
    partial = path.with_name(path.name + ".partial")
    if table_format == "parquet":
        options = parquet_options(table.schema, dictionary)
        pq.write_table(table, partial, row_group_size=ROWS_PER_GROUP, **options)
    else:
        options = pacsv.WriteOptions(quoting_style="needed")
        with pa.OSFile(str(partial), "wb") as raw:
            stream = pa.CompressedOutputStream(raw, "gzip") if table_format == "csv.gz" else raw
            pacsv.write_csv(csv_ready(table), stream, write_options=options)
            if stream is not raw:
                stream.close()
    os.replace(partial, path)
    return path


def _parse_times(table: pa.Table, timestamps: Sequence[str]) -> pa.Table:
    """CSV text times (with or without ``Z``, ``T`` or a space) as naive UTC timestamps."""
    for name in timestamps:
        # Parquet (and CSV read with types) already hold timestamps.
        if name in table.column_names and pa.types.is_string(table.schema.field(name).type):
            index = table.column_names.index(name)
            text = pc.replace_substring_regex(table.column(index), r"Z$", "")
            table = table.set_column(index, name, text.cast(pa.timestamp("us")))
    return table


def _csv_options(
    timestamps: Sequence[str], types: dict[str, pa.DataType] | None
) -> pacsv.ConvertOptions:
    column_types = {name: pa.string() for name in timestamps} | (types or {})
    return pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=False)


def read_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    timestamps: Sequence[str] = (),
    types: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """The table in ``path`` (Parquet or CSV, gzip or not) as Arrow.

    For CSV, ``timestamps`` names the time columns (parsed as naive UTC, as Parquet holds
    them) and ``types`` fixes the type of other columns (a column of names that look like
    numbers stays text). Missing ``columns`` and unreadable files raise ``OrbitgridError``
    naming the file.
    """
    path = Path(path)
    try:
        if _is_parquet(path):
            table = pq.read_table(path)
        else:
            table = pacsv.read_csv(path, convert_options=_csv_options(timestamps, types))
            table = _parse_times(table, timestamps)
    except (pa.ArrowInvalid, OSError) as exc:
        raise OrbitgridError(f"cannot read {path}: {exc}") from exc
    if columns is None:
        return table
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise OrbitgridError(
            f"{path} lacks column(s) {', '.join(missing)}; expected {', '.join(columns)}"
        )
    return table.select(list(columns))


def iter_batches(
    path: str | Path,
    columns: Sequence[str],
    *,
    timestamps: Sequence[str] = (),
    types: dict[str, pa.DataType] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of ``path`` in file order, a record batch at a time (the reader may stop
    early; memory is one batch). Errors as ``read_table``."""
    path = Path(path)
    try:
        if _is_parquet(path):
            source = pq.ParquetFile(path)
            names = source.schema_arrow.names
            batches = None
        else:
            source = pacsv.open_csv(path, convert_options=_csv_options(timestamps, types))
            names = source.schema.names
            batches = source
        missing = [c for c in columns if c not in names]
        if missing:
            raise OrbitgridError(
                f"{path} lacks column(s) {', '.join(missing)}; expected {', '.join(columns)}"
            )
        if batches is None:
            batches = source.iter_batches(columns=list(columns))
        for batch in batches:
            table = _parse_times(pa.Table.from_batches([batch]), timestamps)
            yield from table.select(list(columns)).to_batches()
    except (pa.ArrowInvalid, OSError) as exc:
        raise OrbitgridError(f"cannot read {path}: {exc}") from exc


class _GroupBuffer:
    """Rows waiting for a full Parquet row group: ``take_full`` hands out groups of exactly
    ``ROWS_PER_GROUP`` rows, ``take_rest`` what remains."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.tables.append(table)
        self.rows += table.num_rows

    def take_full(self) -> Iterator[pa.Table]:
        while self.rows >= ROWS_PER_GROUP:
            whole = pa.concat_tables(self.tables)
            # One chunk per column: the writer's pages then do not depend on how the rows
            # arrived (a resumed run's parts arrive cut elsewhere).
            yield whole.slice(0, ROWS_PER_GROUP).combine_chunks()
            rest = whole.slice(ROWS_PER_GROUP)
            self.tables, self.rows = [rest], rest.num_rows

    def take_rest(self) -> pa.Table | None:
        rest = pa.concat_tables(self.tables).combine_chunks() if self.rows else None
        self.tables, self.rows = [], 0
        return rest


class PartWriter:
    """A table appended to while the run goes, in part files closed at every checkpoint
    (model in the module docstring).

    ``append`` adds rows; ``close_part`` ends the open part (the run calls it through the
    reducer's ``checkpoint`` before it pickles the pipeline: an open file cannot be saved);
    ``resume`` re-points the writer at the staging folder a resumed run took over and deletes
    parts newer than the checkpoint; ``finish`` joins the parts into ``<stem>.<format>``.
    Until ``spool_to`` gives it the run's staging folder, parts go to a private temporary
    folder removed when the writer is collected (a run kept in memory leaves nothing behind).
    """

    def __init__(
        self,
        stem: str,
        table_format: TableFormat,
        schema: pa.Schema,
        csv_time_unit: str | None = None,
        dictionary: Sequence[str] | None = None,
    ) -> None:
        self.stem = stem
        self.table_format = table_format
        self.schema = schema
        self.csv_time_unit = csv_time_unit
        self.parquet_options = parquet_options(schema, dictionary)
        self.parts = 0  # closed part files: 0 .. parts-1
        self._folder = Path(tempfile.mkdtemp(prefix=f"orbitgrid-{stem}-"))
        self._finalizer: weakref.finalize | None = weakref.finalize(
            self, shutil.rmtree, self._folder, True
        )
        self._open_part()

    def _open_part(self) -> None:
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self._stream: pa.NativeFile | None = None
        self._buffer = _GroupBuffer()

    def part_path(self, number: int) -> Path:
        return self._folder / f"part-{number:05d}{SUFFIXES[self.table_format]}"

    def spool_to(self, folder: Path) -> None:
        """Write the parts into ``folder/.<stem>.parts`` (the run's staging folder) from now
        on, moving any written so far."""
        target = Path(folder) / f".{self.stem}.parts"
        self.close_part()
        target.mkdir(parents=True, exist_ok=True)
        for number in range(self.parts):
            shutil.move(self.part_path(number), target / self.part_path(number).name)
        if self._finalizer is not None:
            self._finalizer()  # the private temporary folder
            self._finalizer = None
        self._folder = target

    def resume(self, folder: Path) -> None:
        """Continue in ``folder/.<stem>.parts`` (the staging folder a resumed run took over)
        after the checkpoint: parts from ``parts`` on were written after it and go."""
        self._folder = Path(folder) / f".{self.stem}.parts"
        self._folder.mkdir(parents=True, exist_ok=True)
        suffix = SUFFIXES[self.table_format]
        for path in self._folder.glob(f"part-*{suffix}*"):
            number = path.name.removeprefix("part-").split(".")[0]
            if not number.isdigit() or int(number) >= self.parts or path.name.endswith(".partial"):
                path.unlink()
        self._open_part()

    def append(self, table: pa.Table) -> None:
        """Add rows (columns of ``schema``, in order)."""
        if table.num_rows == 0:
            return
        if self.table_format != "parquet":
            self._csv_writer().write_table(csv_ready(table, self.csv_time_unit))
            return
        self._buffer.add(table)
        for group in self._buffer.take_full():
            self._parquet_writer().write_table(group, row_group_size=ROWS_PER_GROUP)

    def _parquet_writer(self) -> pq.ParquetWriter:
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.part_path(self.parts), self.schema, **self.parquet_options
            )
        return self._writer

    def _csv_writer(self) -> pacsv.CSVWriter:
        if self._writer is None:
            stream = pa.OSFile(str(self.part_path(self.parts)), "wb")
            if self.table_format == "csv.gz":
                stream = pa.CompressedOutputStream(stream, "gzip")
            self._stream = stream
            text_schema = csv_ready(self.schema.empty_table(), self.csv_time_unit).schema
            options = pacsv.WriteOptions(quoting_style="needed", include_header=self.parts == 0)
            self._writer = pacsv.CSVWriter(stream, text_schema, write_options=options)
        return self._writer

    def close_part(self) -> None:
        """Write what is buffered and close the open part; the next rows open a new one."""
        rest = self._buffer.take_rest()
        if rest is not None:
            self._parquet_writer().write_table(rest, row_group_size=ROWS_PER_GROUP)
        if self._writer is None:
            return
        self._writer.close()
        if self._stream is not None:
            self._stream.close()
        self.parts += 1
        self._open_part()

    def finish(self, folder: Path) -> Path:
        """Close the last part and join all parts into ``folder/<stem>.<format>`` (an empty
        table with the header when no row was written); the parts are removed."""
        self.close_part()
        target = Path(folder) / f"{self.stem}{SUFFIXES[self.table_format]}"
        partial = target.with_name(target.name + ".partial")
        parts = [self.part_path(n) for n in range(self.parts)]
        if not parts:
            empty = self.schema.empty_table()
            write_table(
                folder, self.stem, empty, self.table_format, self.parquet_options["use_dictionary"]
            )
        elif len(parts) == 1:
            shutil.move(parts[0], partial)
        elif self.table_format == "parquet":
            self._join_parquet(parts, partial)
        else:
            with partial.open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out, 2**20)
        if parts:
            os.replace(partial, target)
        shutil.rmtree(self._folder, ignore_errors=True)
        return target

    def _join_parquet(self, parts: list[Path], out: Path) -> None:
        """Rewrite the parts' rows, in order, in row groups of exactly ``ROWS_PER_GROUP``."""
        buffer = _GroupBuffer()
        with pq.ParquetWriter(out, self.schema, **self.parquet_options) as writer:
            for part in parts:
                for batch in pq.ParquetFile(part).iter_batches(batch_size=ROWS_PER_GROUP):
                    buffer.add(pa.Table.from_batches([batch], self.schema))
                    for group in buffer.take_full():
                        writer.write_table(group, row_group_size=ROWS_PER_GROUP)
            rest = buffer.take_rest()
            if rest is not None:
                writer.write_table(rest, row_group_size=ROWS_PER_GROUP)

    def __getstate__(self) -> dict:
        # An open file cannot be saved: the run closes the part (``close_part``) before it
        # pickles; refusing here keeps a forgotten close from losing the buffered rows.
        if self._writer is not None or self._buffer.rows:
            raise pickle.PicklingError(f"the {self.stem} table has an open part; close it first")
        state = self.__dict__.copy()
        del state["_writer"], state["_stream"], state["_buffer"]
        # The finalizer removes a private temporary folder: only this process's to remove.
        state["_finalizer"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._open_part()
