"""``orbitgrid export ion``: a run's contact windows as an ION-DTN contact plan.

Reads the run's contact table (``RUN_DIR/contacts.parquet``, or ``contacts.csv`` with
``network.tables: csv``; written by runs with a ``network:`` section, see
``orbitgrid.network.contact_log``) and writes the windows with
``orbitgrid.network.contacts.ion_contact_plan`` (ionrc(5): ``a contact`` both ways with the
window's mean rate in bytes/s, ``a range`` with the light time in whole seconds), relative to
the run start (``summary.json`` ``time.start_utc``, else ``scenario.yaml`` ``time.start``).

CBHE node numbers (``ipn:N.*``): **N = orbitgrid node id + 1**, the node ids of the routing
dataset's ``path_node`` (satellite ``i`` → ``i``, endpoint ``e`` → ``S + e`` with ``S``
satellites). So satellites are ``1 … S`` in the run's satellite order and endpoints
``S + 1 … S + E`` in endpoint order (inline endpoints, then endpoint files, as listed); +1
because ipn node 0 is reserved (``ipn:0.0`` is the null endpoint). The numbers are stable for a
given scenario and match the path log and ``path_node``. The plan starts with a comment block
naming every node it uses, and ``<out stem>_nodes.csv`` (``node,name,kind,orbitgrid_node``)
holds the same table for scripts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from orbitgrid.errors import OrbitgridError
from orbitgrid.network.contact_log import (
    CONTACT_TEXT_TYPES,
    CONTACT_TIMES,
    CONTACTS_STEM,
    contacts_file,
)
from orbitgrid.network.contacts import ContactWindows, ion_contact_plan
from orbitgrid.network.tables import read_table
from orbitgrid.report.runfolder import RunFolder, load_run, write_atomic

ION_PLAN_NAME = "ion.ionrc"
ION_KINDS = ("gsl", "isl", "all")
_NEEDED = (
    "kind",
    "a",
    "b",
    "a_node",
    "b_node",
    "start_s",
    "end_s",
    "min_range_km",
    "mean_range_km",
    "max_range_km",
    "mean_rate_bps",
)


@dataclass(frozen=True)
class IonExport:
    """What ``export_ion`` wrote: the plan, the node table and how many windows and nodes."""

    plan_path: Path
    nodes_path: Path
    windows: int
    nodes: int


def _reference_time(run: RunFolder) -> dt.datetime:
    start = run.summary.get("time", {}).get("start_utc") or run.scenario.get("time", {}).get(
        "start"
    )
    if start is None:
        raise OrbitgridError(
            f"{run.path} gives no run start: neither summary.json time.start_utc nor "
            "scenario.yaml time.start is present; the ION plan needs it as its reference time"
        )
    try:
        when = start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(str(start))
    except ValueError as exc:
        raise OrbitgridError(
            f"{run.path}: run start {start!r} is not an ISO 8601 time such as 2027-01-01T00:00:00Z"
        ) from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _read_contacts(path: Path, kind: str) -> dict[str, np.ndarray]:
    """The columns ION needs, for the rows of ``kind``; errors name the file and the CSV line
    (or the Parquet row)."""
    types = CONTACT_TEXT_TYPES | {"a_node": pa.int64(), "b_node": pa.int64()}
    types |= {name: pa.float64() for name in _NEEDED[5:]}
    try:
        table = read_table(path, _NEEDED, timestamps=CONTACT_TIMES, types=types)
    except OrbitgridError as exc:
        raise OrbitgridError(
            f"{exc}; expected the contacts table of `orbitgrid run` with columns "
            f"{', '.join(_NEEDED)}"
        ) from None
    columns = {name: table[name].to_numpy(zero_copy_only=False) for name in _NEEDED}
    kinds = columns["kind"]

    def where(row: int) -> str:
        # The CSV line (the header is line 1) or the Parquet row, counted from 1.
        return (
            f"{path}, line {row + 2}"
            if path.name.endswith((".csv", ".csv.gz"))
            else (f"{path}, row {row + 1}")
        )

    bad_kind = np.flatnonzero(~np.isin(kinds, ["gsl", "isl"]))
    if bad_kind.size:
        row = int(bad_kind[0])
        raise OrbitgridError(f"{where(row)}: kind {kinds[row]!r}; expected gsl or isl")
    for name in ("a_node", "b_node"):
        if table[name].null_count:
            row = int(np.flatnonzero(table[name].is_null().to_numpy(zero_copy_only=False))[0])
            raise OrbitgridError(f"{where(row)}: no {name}; expected a node number")
    rate = np.asarray(columns["mean_rate_bps"], dtype=np.float64)
    no_rate = np.flatnonzero(np.isnan(rate))
    if no_rate.size:
        row = int(no_rate[0])
        raise OrbitgridError(
            f"{where(row)}: the {kinds[row]} window {columns['a'][row]}–{columns['b'][row]} has "
            "no mean_rate_bps; ION contacts need a rate"
        )
    keep = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
    return {name: values[keep] for name, values in columns.items()}


def _node_table(rows: dict[str, np.ndarray], path: Path) -> dict[int, tuple[str, str]]:
    """orbitgrid node id → (name, satellite|endpoint); a GSL's ``a`` is the endpoint."""
    nodes: dict[int, tuple[str, str]] = {}
    for kind, a, b, a_node, b_node in zip(
        rows["kind"].tolist(),
        rows["a"].tolist(),
        rows["b"].tolist(),
        rows["a_node"].tolist(),
        rows["b_node"].tolist(),
        strict=True,
    ):
        a_role = "endpoint" if kind == "gsl" else "satellite"
        for node, name, role in ((a_node, a, a_role), (b_node, b, "satellite")):
            known = nodes.setdefault(node, (name, role))
            if known != (name, role):
                raise OrbitgridError(
                    f"{path}: node {node} is both {known[1]} {known[0]!r} and {role} {name!r}; "
                    "the file is inconsistent, re-run the scenario to rewrite it"
                )
    return nodes


def export_ion(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, kind: str = "all"
) -> IonExport:
    """Write the ION contact plan of a run (default ``RUN_DIR/ion.ionrc``) and its node table.

    ``kind``: ``gsl`` (ground–satellite), ``isl`` (satellite–satellite) or ``all``.

    Raises
    ------
    OrbitgridError
        Not a run folder, no contact table (the run had no ``network:`` section), a
        malformed file, or a window without a rate.
    """
    if kind not in ION_KINDS:
        raise OrbitgridError(f"kind {kind!r} is not one of {', '.join(ION_KINDS)}")
    run = load_run(run_dir)
    contacts = contacts_file(run.path)
    if contacts is None:
        raise OrbitgridError(
            f"{run.path / CONTACTS_STEM}.parquet (or .csv) is missing: the ION export reads "
            "the contact windows that a run with a `network:` section writes. Add a network "
            "section to the scenario and run it again"
        )
    reference = _reference_time(run)
    rows = _read_contacts(contacts, kind)
    nodes = _node_table(rows, contacts)
    pairs = np.stack([rows["a_node"], rows["b_node"]], axis=1).reshape(-1, 2).astype(np.int64)
    link_pairs, link = np.unique(pairs, axis=0, return_inverse=True)
    windows = ContactWindows(
        link=link.reshape(-1).astype(np.int64),
        start_s=rows["start_s"].astype(float),
        end_s=rows["end_s"].astype(float),
        min_range_km=rows["min_range_km"].astype(float),
        mean_range_km=rows["mean_range_km"].astype(float),
        max_range_km=rows["max_range_km"].astype(float),
        rate_bps=rows["mean_rate_bps"].astype(float),
    )
    plan = ion_contact_plan(windows, link_pairs + 1, None, reference)
    header = [
        f"# {len(windows)} {'' if kind == 'all' else kind + ' '}contact windows of run "
        f"{run.path.name}, from {contacts.name}",
        "# CBHE node numbers: orbitgrid node id + 1 (satellites 1..S in satellite order, "
        "endpoints S+1..S+E in endpoint order)",
        *(f"# node {node + 1} = {name} ({role})" for node, (name, role) in sorted(nodes.items())),
    ]
    target = Path(out) if out is not None else run.path / ION_PLAN_NAME
    if target.is_dir():
        target = target / ION_PLAN_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, "\n".join(header) + "\n" + plan)
    nodes_path = target.with_name(f"{target.stem}_nodes.csv")
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(("node", "name", "kind", "orbitgrid_node"))
    for node, (name, role) in sorted(nodes.items()):
        writer.writerow((node + 1, name, role, node))
    write_atomic(nodes_path, table.getvalue())
    return IonExport(target, nodes_path, len(windows), len(nodes))
