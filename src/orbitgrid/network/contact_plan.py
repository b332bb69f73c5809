"""Contact plans for store-and-forward routing, built from the engine's link geometry.

A *contact* is a directed, scheduled transmission opportunity: ``(from node, to node, start_s,
end_s, rate_bps, owlt_s)``, the contact of CCSDS SABR (CCSDS 734.3-B-1) and ION's
``a contact`` + ``a range`` lines (ionrc(5)). Its volume is ``rate_bps × (end_s − start_s) / 8``
bytes. Contacts are never assumed: they come from the link windows that the network stage finds
on the time grid (``contacts.windows_from_mask`` or the streaming ``contact_log.ContactLog``,
written as the run's ``contacts`` table), so a contact exists exactly while the geometry
(GSL: elevation mask and slant range; ISL: the link's range within ``isl.max_range``) and the
link budget (a rate > 0) allow the link.

Conversion (vectorised, one row per window and direction):

- times: the window's ``[start_s, end_s)`` (sample-and-hold on the engine's grid, edges accurate
  to one step);
- rate: the window's mean rate over its up steps (the GSL link budget or the configured rate),
  so ``rate × duration`` equals the volume of the sampled rate profile exactly;
- one-way light time: the window's **maximum** range / c, an upper bound over the window (ION
  also gives one range per contact and rounds it *up* to whole seconds; here it is kept in
  seconds, ≈ 2–10 ms for LEO);
- directions: ISL windows give both directions; GSL windows give the downlink (satellite →
  ground), the uplink or both (``gsl_direction``), each with the window's rate. The engine's GSL
  rate is the downlink budget; an uplink with its own budget is not modelled.

Node ids are the routing dataset's ``path_node`` ids: satellite ``i`` is ``i``, endpoint ``e``
is ``n_satellites + e`` (``contact_log``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from orbitgrid.constants import SPEED_OF_LIGHT_KM_S
from orbitgrid.errors import OrbitgridError
from orbitgrid.network.contact_log import (
    CONTACT_TEXT_TYPES,
    CONTACT_TIMES,
    CONTACTS_STEM,
    ContactTable,
    contacts_file,
)
from orbitgrid.network.contacts import ContactWindows
from orbitgrid.network.tables import read_table

GslDirection = Literal["down", "up", "both"]
# Contact kinds as small integers in ContactPlan.kind.
KIND_OTHER, KIND_GSL_DOWN, KIND_GSL_UP, KIND_ISL = 0, 1, 2, 3
KIND_NAMES = {
    KIND_OTHER: "other",
    KIND_GSL_DOWN: "gsl-down",
    KIND_GSL_UP: "gsl-up",
    KIND_ISL: "isl",
}


@dataclass(frozen=True, eq=False)
class ContactPlan:
    """Directed contacts as flat ``[contact]`` arrays (module docstring).

    ``from_node``/``to_node`` int64 in ``0..n_nodes-1``; ``start_s < end_s`` seconds from the
    run start; ``rate_bps`` > 0 bit/s; ``owlt_s`` ≥ 0 one-way light time s; ``kind`` int8
    (``KIND_NAMES``); ``node_names`` optional labels. Build it with ``ContactPlan.from_arrays``
    (checks the values) or the converters of this module.
    """

    n_nodes: int
    from_node: np.ndarray
    to_node: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    rate_bps: np.ndarray
    owlt_s: np.ndarray
    kind: np.ndarray
    node_names: tuple[str, ...] | None = None

    @classmethod
    def from_arrays(
        cls,
        from_node,
        to_node,
        start_s,
        end_s,
        rate_bps,
        owlt_s=0.0,
        *,
        n_nodes: int | None = None,
        kind=KIND_OTHER,
        node_names=None,
    ) -> ContactPlan:
        """A checked plan from array-likes (scalars broadcast). ``n_nodes`` defaults to the
        largest node id + 1 (or ``len(node_names)``). Raises ``ValueError`` naming the first
        bad contact."""
        frm = np.atleast_1d(np.asarray(from_node, dtype=np.int64))
        n = frm.shape[0]

        def column(values, dtype):
            return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=dtype), (n,)))

        to = column(to_node, np.int64)
        start, end = column(start_s, np.float64), column(end_s, np.float64)
        rate, owlt = column(rate_bps, np.float64), column(owlt_s, np.float64)
        kinds = column(kind, np.int8)
        names = tuple(str(x) for x in node_names) if node_names is not None else None
        if n_nodes is None:
            largest = max(frm.max(initial=-1), to.max(initial=-1))
            n_nodes = len(names) if names is not None else int(largest) + 1
        bad_node = (frm < 0) | (frm >= n_nodes) | (to < 0) | (to >= n_nodes)
        checks = (
            (bad_node, f"node ids in 0..{n_nodes - 1}"),
            (frm == to, "from_node ≠ to_node"),
            (~(np.isfinite(start) & np.isfinite(end)) | (end <= start), "finite start_s < end_s"),
            (~np.isfinite(rate) | (rate <= 0), "a finite rate_bps > 0"),
            (~np.isfinite(owlt) | (owlt < 0), "a finite owlt_s ≥ 0"),
        )
        for bad, need in checks:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"contact {i} ({frm[i]} → {to[i]}, {start[i]}–{end[i]} s, {rate[i]} bit/s, "
                    f"owlt {owlt[i]} s) is invalid: contacts need {need}"
                )
        if names is not None and len(names) != n_nodes:
            raise ValueError(f"node_names has {len(names)} names for {n_nodes} nodes")
        return cls(int(n_nodes), frm.copy(), to, start, end, rate, owlt, kinds, names)

    def __len__(self) -> int:
        return int(self.start_s.shape[0])

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    @property
    def volume_bytes(self) -> np.ndarray:
        """Contact volume, bytes: rate × duration / 8 (SABR's contact volume)."""
        return self.rate_bps * self.duration_s / 8.0

    def node_index(self, name: str) -> int:
        """Node id of ``name`` (needs ``node_names``)."""
        if self.node_names is None:
            raise ValueError("this contact plan has no node names")
        try:
            return self.node_names.index(name)
        except ValueError:
            raise ValueError(f"no node named {name!r} in the contact plan") from None

    def __repr__(self) -> str:
        total = float(self.volume_bytes.sum()) / 1e12 if len(self) else 0.0
        return f"ContactPlan({len(self)} contacts, {self.n_nodes} nodes, {total:.3g} TB)"


def _light_time_s(max_range_km: np.ndarray) -> np.ndarray:
    return np.asarray(max_range_km, dtype=np.float64) / SPEED_OF_LIGHT_KM_S


def contact_plan_from_table(
    table: ContactTable,
    n_endpoints: int,
    *,
    gsl_direction: GslDirection = "both",
    node_names=None,
) -> ContactPlan:
    """The contact plan of a run's link windows (``ContactLog.finish()``; module docstring).

    ``n_endpoints`` completes the node count (``n_satellites + n_endpoints``); a GSL window's
    ``a`` is the endpoint, ``b`` the satellite. Windows without a positive rate (a budget that
    closes no modcod) give no contact.
    """
    gsl = np.asarray(table.kind) == "gsl"
    return _plan_from_rows(
        table.a_node,
        table.b_node,
        gsl,
        table.start_s,
        table.end_s,
        table.mean_rate_bps,
        table.max_range_km,
        table.n_satellites + int(n_endpoints),
        gsl_direction,
        node_names,
    )


def contact_plan_from_windows(
    windows: ContactWindows,
    link_nodes: np.ndarray,
    n_nodes: int,
    *,
    rate_bps: float | np.ndarray | None = None,
    gsl_links: np.ndarray | None = None,
    gsl_direction: GslDirection = "both",
    node_names=None,
) -> ContactPlan:
    """The contact plan of ``windows`` (``contacts.windows_from_mask`` on ``up [time, link]``).

    ``link_nodes [link, 2]`` gives each link's ends as node ids (a GSL's first node is the
    ground endpoint); ``rate_bps`` (scalar or ``[link]``) overrides the windows' own mean rate;
    ``gsl_links`` (bool ``[link]``) marks ground–satellite links (default: none, i.e. every
    window gives both directions).
    """
    nodes = np.asarray(link_nodes, dtype=np.int64).reshape(-1, 2)
    if rate_bps is None:
        rate = windows.rate_bps
    else:
        rate = np.broadcast_to(np.asarray(rate_bps, dtype=np.float64), (nodes.shape[0],))
        rate = rate[windows.link]
    gsl = (
        np.zeros(len(windows), bool)
        if gsl_links is None
        else np.asarray(gsl_links, bool)[windows.link]
    )
    return _plan_from_rows(
        nodes[windows.link, 0],
        nodes[windows.link, 1],
        gsl,
        windows.start_s,
        windows.end_s,
        rate,
        windows.max_range_km,
        n_nodes,
        gsl_direction,
        node_names,
    )


def read_contact_plan(
    run_dir: str | Path,
    *,
    gsl_direction: GslDirection = "both",
    antennas=None,
    antenna_policy: str = "max-volume",
) -> ContactPlan:
    """The contact plan of a run folder's contact table (``contacts.parquet`` or
    ``contacts.csv``, written by ``orbitgrid run`` with a
    ``network:`` section), with node names from its ``a``/``b`` columns. Nodes that appear
    in no window keep an empty name.

    ``antennas`` (default None: every visible pass is a contact) limits each station to its
    antennas: an int for every station, ``[n_nodes]`` counts or a mapping name → count
    (``antennas.allocate_contact_plan`` with ``antenna_policy``; docs/cgr.md).

    Raises ``OrbitgridError`` when the file is missing or lacks a column.
    """
    path = contacts_file(run_dir)
    if path is None:
        raise OrbitgridError(
            f"{Path(run_dir) / CONTACTS_STEM}.parquet (or .csv) is missing: contact plans are "
            "read from the contact windows that a run with a `network:` section writes; add "
            "one to the scenario and run it again"
        )
    needed = (
        "kind",
        "a",
        "b",
        "a_node",
        "b_node",
        "start_s",
        "end_s",
        "max_range_km",
        "mean_rate_bps",
    )
    table = read_table(path, needed, timestamps=CONTACT_TIMES, types=CONTACT_TEXT_TYPES).to_pydict()
    a = np.asarray(table["a_node"], dtype=np.int64)
    b = np.asarray(table["b_node"], dtype=np.int64)
    n_nodes = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    names = [""] * n_nodes
    for ids, labels in ((a, table["a"]), (b, table["b"])):
        for node, label in zip(ids.tolist(), labels, strict=True):
            names[node] = str(label)
    plan = _plan_from_rows(
        a,
        b,
        np.asarray(table["kind"]) == "gsl",
        np.asarray(table["start_s"], dtype=np.float64),
        np.asarray(table["end_s"], dtype=np.float64),
        np.asarray(table["mean_rate_bps"], dtype=np.float64),
        np.asarray(table["max_range_km"], dtype=np.float64),
        n_nodes,
        gsl_direction,
        names,
    )
    if antennas is None:
        return plan
    from orbitgrid.network.antennas import allocate_contact_plan  # imports this module

    return allocate_contact_plan(plan, antennas, policy=antenna_policy)


def _plan_from_rows(
    a, b, gsl, start_s, end_s, rate_bps, max_range_km, n_nodes, gsl_direction, node_names
) -> ContactPlan:
    """Directed contacts from undirected windows ``(a, b)``; for a GSL ``a`` is the ground end.

    Rows: every window a → b (for a GSL: the uplink) and b → a (the downlink), then kept by
    ``gsl_direction``, then windows without a usable rate dropped; sorted by start, from, to.
    """
    if gsl_direction not in ("down", "up", "both"):
        raise ValueError(f"gsl_direction {gsl_direction!r}; expected down, up or both")
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    gsl = np.asarray(gsl, dtype=bool)
    rate = np.asarray(rate_bps, dtype=np.float64)
    owlt = _light_time_s(max_range_km)
    frm = np.concatenate([a, b])
    to = np.concatenate([b, a])
    kind = np.concatenate(
        [np.where(gsl, KIND_GSL_UP, KIND_ISL), np.where(gsl, KIND_GSL_DOWN, KIND_ISL)]
    ).astype(np.int8)
    keep = np.concatenate([~gsl | (gsl_direction != "down"), ~gsl | (gsl_direction != "up")])
    keep &= np.tile(np.isfinite(rate) & (rate > 0), 2)
    start = np.tile(np.asarray(start_s, dtype=np.float64), 2)
    order = np.lexsort((to[keep], frm[keep], start[keep]))
    return ContactPlan.from_arrays(
        frm[keep][order],
        to[keep][order],
        start[keep][order],
        np.tile(np.asarray(end_s, dtype=np.float64), 2)[keep][order],
        np.tile(rate, 2)[keep][order],
        np.tile(owlt, 2)[keep][order],
        n_nodes=n_nodes,
        kind=kind[keep][order],
        node_names=node_names,
    )
