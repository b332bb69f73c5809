"""``orbitgrid export ion``: a run's contact windows as an ION-DTN contact plan.

Reads ``RUN_DIR/contacts.csv`` (written by runs with a ``network:`` section, see
``orbitgrid.network.contact_log``) and writes the windows with
``orbitgrid.network.contacts.ion_contact_plan`` (ionrc(5): ``a contact`` both ways with the
window's mean rate in bytes/s, ``a range`` with the light time in whole seconds), relative to
the run start (``summary.json`` ``time.start_utc``, else ``scenario.yaml`` ``time.start``).

CBHE node numbers (``ipn:N.*``): **N = orbitgrid node id + 1**, the node ids of the routing
dataset's ``path_node`` (satellite ``i`` → ``i``, endpoint ``e`` → ``S + e`` with ``S``
satellites). So satellites are ``1 … S`` in the run's satellite order and endpoints
``S + 1 … S + E`` in endpoint order (inline endpoints, then endpoint files, as listed); +1
because ipn node 0 is reserved (``ipn:0.0`` is the null endpoint). The numbers are stable for a
given scenario and match paths.csv and ``path_node``. The plan starts with a comment block
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

from orbitgrid.errors import OrbitgridError
from orbitgrid.network.contact_log import CONTACTS_FILE
from orbitgrid.network.contacts import ContactWindows, ion_contact_plan
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
    """The columns ION needs, for the rows of ``kind``; errors name the file and line."""
    columns: dict[str, list] = {name: [] for name in _NEEDED}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            raise OrbitgridError(
                f"{path} lacks column(s) {', '.join(missing)}; expected the contacts.csv of "
                f"`orbitgrid run` with columns {', '.join(_NEEDED)}"
            )
        for line, row in enumerate(reader, start=2):
            if kind != "all" and row["kind"] != kind:
                continue
            try:
                values = {
                    "kind": row["kind"],
                    "a": row["a"],
                    "b": row["b"],
                    "a_node": int(row["a_node"]),
                    "b_node": int(row["b_node"]),
                    **{c: float(row[c]) for c in _NEEDED[5:]},
                }
            except (TypeError, ValueError) as exc:
                raise OrbitgridError(f"{path}, line {line}: {exc}; expected numbers") from exc
            if values["kind"] not in ("gsl", "isl"):
                raise OrbitgridError(
                    f"{path}, line {line}: kind {values['kind']!r}; expected gsl or isl"
                )
            if np.isnan(values["mean_rate_bps"]):
                raise OrbitgridError(
                    f"{path}, line {line}: the {values['kind']} window {values['a']}–"
                    f"{values['b']} has no mean_rate_bps; ION contacts need a rate"
                )
            for name, value in values.items():
                columns[name].append(value)
    return {name: np.asarray(values) for name, values in columns.items()}


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
        Not a run folder, no ``contacts.csv`` (the run had no ``network:`` section), a
        malformed file, or a window without a rate.
    """
    if kind not in ION_KINDS:
        raise OrbitgridError(f"kind {kind!r} is not one of {', '.join(ION_KINDS)}")
    run = load_run(run_dir)
    contacts = run.path / CONTACTS_FILE
    if not contacts.is_file():
        raise OrbitgridError(
            f"{contacts} is missing: the ION export reads the contact windows that a run with a "
            "`network:` section writes. Add a network section to the scenario and run it again"
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
