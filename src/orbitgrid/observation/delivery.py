"""Store-and-forward delivery of one strategy's products over the run's contact plan.

Model (docs/observation.md). Time is walked in admission windows of ``window_s``; in each:

1. Bundles whose first hop has finished sending (their last byte left) by the window's start
   leave the store.
2. New tiles captured in the window enter the store: as bundles (``raw``) or as raw tiles
   awaiting processing (``filter``, ``infer``, ``hybrid``); a store over capacity evicts
   per the policy (``storage.keep_mask``). An evicted bundle that was already routed frees
   the volume it had booked on its contacts.
3. Processing (onboard strategies): the satellite's tiles are processed FIFO, as many as the
   window's delivered compute allows (``capacity_tiles``, from each step's
   ``compute_fraction``; a fraction of a tile carries over while tiles wait). A processed
   tile leaves the store and its products enter it: ``filter`` the tile itself when kept;
   ``infer`` a result; ``hybrid`` a result and the raw tile (evicted first, routed after the
   window's results). Each product is made at window start (or at capture, if later) plus
   its rank in the window's processing queue over the processing rate.
4. The window's new bundles are routed with contact graph routing (``network.cgr``) in
   creation order on the volumes left by every earlier bundle (results before raw copies in
   ``hybrid``). A bundle's departure from its satellite is the last byte of its first hop,
   replayed from the same booked volumes CGR uses, so storage is freed when the data has
   actually left.

Simplifications (stated): admission is decided per window (items that leave during a window
count as on board until the next), relay satellites have unlimited storage, an evicted
bundle's booked volume is freed but bundles booked behind it keep their (now pessimistic)
times, a bundle CGR cannot deliver before its deadline is dropped when made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from orbitgrid.network.cgr import DELIVERED, DROPPED, CgrRouter
from orbitgrid.network.contact_plan import ContactPlan
from orbitgrid.observation.storage import keep_mask

# Product kinds of a bundle.
RAW, KEPT, RESULT, RAW_COPY = 0, 1, 2, 3
PRODUCT_NAMES = {RAW: "raw", KEPT: "kept", RESULT: "result", RAW_COPY: "raw-copy"}
# Final outcome of a bundle.
OUT_DELIVERED, OUT_STORED, OUT_DROPPED = 0, 1, 2
OUTCOME_NAMES = {OUT_DELIVERED: "delivered", OUT_STORED: "stored", OUT_DROPPED: "dropped"}


@dataclass(frozen=True)
class Tiles:
    """Captured tiles, ``[tile]`` arrays in capture order."""

    satellite: np.ndarray
    capture_s: np.ndarray
    priority: np.ndarray
    cloud_fraction: np.ndarray
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    size_bytes: np.ndarray
    keep: np.ndarray  # the filter's decision, drawn once per tile for every strategy

    def __len__(self) -> int:
        return int(self.satellite.shape[0])


@dataclass
class Outcome:
    """What happened to one strategy's tiles and bundles (``[tile]`` and ``[bundle]``).

    ``tile_processed``/``tile_dropped`` (raw tile evicted before processing); per bundle its
    tile, satellite, product, size, made time, CGR delivery time (NaN: none), outcome and the
    contacts of its route (``hop_bundle``/``hop_contact``, delivered bundles only);
    ``backlog_bytes [window]`` the bytes on board over every satellite after admission.
    """

    strategy: str
    tile_processed: np.ndarray
    tile_dropped: np.ndarray
    tile_stored: np.ndarray
    bundle_tile: np.ndarray
    bundle_satellite: np.ndarray
    bundle_product: np.ndarray
    bundle_size: np.ndarray
    bundle_created_s: np.ndarray
    bundle_delivered_s: np.ndarray
    bundle_departed_s: np.ndarray
    bundle_hops: np.ndarray
    bundle_station: np.ndarray
    bundle_outcome: np.ndarray
    hop_bundle: np.ndarray
    hop_contact: np.ndarray
    backlog_bytes: np.ndarray
    backlog_max_bytes: np.ndarray  # [satellite]
    booked_bytes: np.ndarray  # [contact] at the end
    extra: dict = field(default_factory=dict)


class _Pool:
    """Items on board, as parallel arrays (module docstring)."""

    FIELDS = ("sat", "size", "cls", "prio", "created", "tile", "bundle", "depart")

    def __init__(self) -> None:
        self.a = {
            "sat": np.zeros(0, np.int64),
            "size": np.zeros(0),
            "cls": np.zeros(0, np.int8),
            "prio": np.zeros(0, np.int64),
            "created": np.zeros(0),
            "tile": np.zeros(0, np.int64),
            "bundle": np.zeros(0, np.int64),  # −1: a raw tile awaiting processing
            "depart": np.zeros(0),
        }

    def __len__(self) -> int:
        return int(self.a["sat"].shape[0])

    def add(self, **columns) -> None:
        for key in self.FIELDS:
            self.a[key] = np.concatenate([self.a[key], np.asarray(columns[key])])

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove the items of ``mask`` and return them."""
        out = {k: v[mask] for k, v in self.a.items()}
        self.a = {k: v[~mask] for k, v in self.a.items()}
        return out


class _Bundles:
    """Every bundle made, as growable arrays indexed by bundle id."""

    SPEC: ClassVar[dict] = {
        "tile": (np.int64, -1), "sat": (np.int64, -1), "product": (np.int8, -1),
        "size": (np.float64, 0.0), "created": (np.float64, np.nan),
        "delivered": (np.float64, np.nan), "hops": (np.int64, -1),
        "station": (np.int64, -1), "depart": (np.float64, np.nan),
        "route_lo": (np.int64, 0), "route_hi": (np.int64, 0),
    }  # fmt: skip

    def __init__(self) -> None:
        self.data = {k: np.full(1024, fill, dtype) for k, (dtype, fill) in self.SPEC.items()}
        self.count = 0
        self.hops = np.zeros(1024, np.int64)  # contacts of every route, bundle after bundle
        self.hop_count = 0

    def add_routes(self, ids: np.ndarray, offsets: np.ndarray, contacts: np.ndarray) -> None:
        """Record the routes of bundles ``ids`` (CGR's offsets into ``contacts``)."""
        need = self.hop_count + contacts.shape[0]
        if need > self.hops.shape[0]:
            grown = np.zeros(max(need, 2 * self.hops.shape[0]), np.int64)
            grown[: self.hop_count] = self.hops[: self.hop_count]
            self.hops = grown
        self.hops[self.hop_count : need] = contacts
        self.data["route_lo"][ids] = self.hop_count + offsets[:-1]
        self.data["route_hi"][ids] = self.hop_count + offsets[1:]
        self.hop_count = need

    def route(self, bundle: int) -> np.ndarray:
        return self.hops[self.data["route_lo"][bundle] : self.data["route_hi"][bundle]]

    def add(self, **columns) -> np.ndarray:
        n = len(columns["tile"])
        need = self.count + n
        if need > self.data["tile"].shape[0]:
            size = max(need, 2 * self.data["tile"].shape[0])
            for key, (dtype, fill) in self.SPEC.items():
                grown = np.full(size, fill, dtype)
                grown[: self.count] = self.data[key][: self.count]
                self.data[key] = grown
        ids = np.arange(self.count, need)
        for key, values in columns.items():
            self.data[key][ids] = values
        self.count = need
        return ids

    def column(self, key: str) -> np.ndarray:
        return self.data[key][: self.count].copy()


def _departures(plan: ContactPlan, booked_before: np.ndarray, result, order: np.ndarray):
    """Last-byte time of each delivered bundle's first hop (NaN otherwise), replaying CGR's
    booked volumes: on contact c, ``first = max(ready, start + booked · 8 / rate)``, where
    ``booked`` counts every bundle of the batch routed earlier over c at *any* hop (a bundle
    relayed through this satellite books its downlink too), as CGR did."""
    n = len(result)
    depart = np.full(n, np.nan)
    delivered = (result.status == DELIVERED) & (result.hops > 0)
    if not delivered.any():
        return depart
    # Every hop of every delivered route: (bundle, contact, is its first hop).
    lengths = np.diff(result.route_offsets)
    hop_bundle = np.repeat(np.arange(n), lengths)
    hop_contact = result.route_contacts
    is_first = np.zeros(hop_contact.shape[0], bool)
    is_first[result.route_offsets[:-1][lengths > 0]] = True
    live = delivered[hop_bundle]
    hop_bundle, hop_contact, is_first = hop_bundle[live], hop_contact[live], is_first[live]
    # CGR routes in creation order (stable): replay in that order per contact.
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    seq = np.lexsort((rank[hop_bundle], hop_contact))
    ids, contacts, first = hop_bundle[seq], hop_contact[seq], is_first[seq]
    sizes = result.size_bytes[ids]
    cum = np.cumsum(sizes)
    group_start = np.r_[0, np.flatnonzero(np.diff(contacts)) + 1]
    starts = np.repeat(group_start, np.diff(np.r_[group_start, len(ids)]))
    before = cum - sizes - np.where(starts > 0, cum[starts - 1], 0.0)
    ids, contacts, sizes, before = ids[first], contacts[first], sizes[first], before[first]
    queue_free = (
        plan.start_s[contacts] + (booked_before[contacts] + before) * 8.0 / plan.rate_bps[contacts]
    )
    first_byte = np.maximum(result.created_s[ids], queue_free)
    depart[ids] = first_byte + sizes * 8.0 / plan.rate_bps[contacts]
    return depart


def simulate(
    strategy: str,
    tiles: Tiles,
    capacity_tiles: np.ndarray | None,
    n_satellites: int,
    window_s: float,
    horizon_s: float,
    plan: ContactPlan,
    stations: np.ndarray,
    capacity_bytes: float,
    policy: str,
    result_bytes: float,
    deadline_s: float | None,
    sample_windows: np.ndarray | None = None,
) -> Outcome:
    """Walk the windows for one strategy (module docstring). ``capacity_tiles [window,
    satellite]``: tiles the delivered compute can process in each window (onboard strategies
    only). Satellite ``i`` is contact-plan node ``i``. ``sample_windows``: windows at which
    each satellite's bytes on board are kept (``extra["backlog_samples"] [sample,
    satellite]``, after admission), e.g. those holding the stored steps."""
    router = CgrRouter(plan, stations, horizon_s=horizon_s)
    n_windows = max(1, int(np.ceil(horizon_s / window_s)))
    pool = _Pool()
    bundles = _Bundles()
    n_tiles = len(tiles)
    tile_processed = np.zeros(n_tiles, bool)
    tile_dropped = np.zeros(n_tiles, bool)
    bundle_dropped: list[np.ndarray] = []
    credit = np.zeros(n_satellites)
    backlog = np.zeros(n_windows)
    backlog_max = np.zeros(n_satellites)
    samples = np.zeros(0, np.int64) if sample_windows is None else np.asarray(sample_windows)
    backlog_samples = np.zeros((len(samples), n_satellites))
    onboard = strategy != "raw"
    window_of_tile = np.minimum((tiles.capture_s // window_s).astype(np.int64), n_windows - 1)
    tile_bounds = np.searchsorted(window_of_tile, np.arange(n_windows + 1))
    deadline = np.inf if deadline_s is None else deadline_s

    def admit() -> None:
        a = pool.a
        keep = keep_mask(a["sat"], a["size"], a["cls"], a["prio"], a["created"],
                         capacity_bytes, policy)  # fmt: skip
        if keep.all():
            return
        gone = pool.take(~keep)
        raw = gone["bundle"] < 0
        tile_dropped[gone["tile"][raw]] = True
        dropped = gone["bundle"][~raw]
        bundle_dropped.append(dropped)
        # Free the volume the evicted bundles had booked (routed ones only).
        routed = np.isfinite(gone["depart"][~raw])
        for b, size in zip(dropped[routed], gone["size"][~raw][routed], strict=True):
            np.subtract.at(router.booked_bytes, bundles.route(int(b)), size)

    def route(ids: np.ndarray, sat: np.ndarray, created: np.ndarray, size: np.ndarray) -> None:
        if ids.size == 0:
            return
        booked_before = router.booked_bytes.copy()
        result = router.route(sat, created, size, deadline_s=created + deadline)
        order = np.argsort(created, kind="stable")
        depart = _departures(plan, booked_before, result, order)
        delivered = result.status == DELIVERED
        bundles.add_routes(ids, result.route_offsets, result.route_contacts)
        d = bundles.data
        d["delivered"][ids] = np.where(delivered, result.delivered_s, np.nan)
        d["hops"][ids] = result.hops
        d["station"][ids] = result.destination_node
        d["depart"][ids] = depart
        mine = np.isin(pool.a["bundle"], ids)
        pos = np.searchsorted(ids, pool.a["bundle"][mine])
        pool.a["depart"][mine] = np.where(delivered[pos], depart[pos], np.inf)
        expired = result.status == DROPPED
        if expired.any():
            gone = pool.take(np.isin(pool.a["bundle"], ids[expired]))
            bundle_dropped.append(gone["bundle"])

    def make(tile_ids, sat, size, created, product, cls, prio) -> np.ndarray:
        ids = bundles.add(tile=tile_ids, sat=sat, product=np.full(len(tile_ids), product),
                          size=size, created=created)  # fmt: skip
        n = len(ids)
        pool.add(sat=sat, size=size, cls=np.full(n, cls, np.int8), prio=prio, created=created,
                 tile=tile_ids, bundle=ids, depart=np.full(n, np.inf))  # fmt: skip
        return ids

    for k in range(n_windows):
        t0 = k * window_s
        left = pool.a["depart"] <= t0
        if left.any():
            pool.take(left)
        new = np.arange(tile_bounds[k], tile_bounds[k + 1])
        t_sat, t_cap = tiles.satellite[new], tiles.capture_s[new]
        t_size, t_prio = tiles.size_bytes[new], tiles.priority[new]
        batches: list[np.ndarray] = []
        if not onboard:
            batches.append(make(new, t_sat, t_size, t_cap, RAW, 1, t_prio))
        else:
            pool.add(sat=t_sat, size=t_size, cls=np.ones(len(new), np.int8), prio=t_prio,
                     created=t_cap, tile=new, bundle=np.full(len(new), -1),
                     depart=np.full(len(new), np.inf))  # fmt: skip
        admit()
        if onboard:
            batches += _process(strategy, k, t0, window_s, pool, capacity_tiles, credit,
                                tile_processed, tiles, result_bytes, make)  # fmt: skip
            admit()
        # Route the survivors of this window's new bundles (results before raw copies).
        for ids in batches:
            alive = ids[np.isin(ids, pool.a["bundle"])]
            if alive.size:
                d = bundles.data
                route(alive, d["sat"][alive], d["created"][alive], d["size"][alive])
        per_sat = np.bincount(pool.a["sat"], weights=pool.a["size"], minlength=n_satellites)
        backlog[k] = per_sat.sum()
        np.maximum(backlog_max, per_sat, out=backlog_max)
        backlog_samples[samples == k] = per_sat

    outcome = _outcome(strategy, tiles, bundles, pool, tile_processed, tile_dropped,
                       bundle_dropped, backlog, backlog_max,
                       router.booked_bytes.copy())  # fmt: skip
    outcome.extra["backlog_samples"] = backlog_samples
    return outcome


def _process(strategy, k, t0, window_s, pool, capacity_tiles, credit, tile_processed, tiles,
             result_bytes, make) -> list[np.ndarray]:  # fmt: skip
    """Process this window's share of each satellite's waiting tiles (module docstring)."""
    a = pool.a
    waiting = np.flatnonzero(a["bundle"] < 0)
    n_sat = credit.shape[0]
    if waiting.size == 0:
        credit[:] = 0.0
        return []
    order = waiting[np.lexsort((a["created"][waiting], a["sat"][waiting]))]
    sat = a["sat"][order]
    counts = np.bincount(sat, minlength=n_sat)
    budget = credit + capacity_tiles[k]
    n_proc = np.minimum(counts, np.floor(budget + 1e-9)).astype(np.int64)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(order.size) - first[sat]
    chosen = rank < n_proc[sat]
    credit[:] = np.where(counts > n_proc, budget - n_proc, 0.0)
    items = order[chosen]
    if items.size == 0:
        return []
    rate_per_s = np.maximum(capacity_tiles[k], 1e-12) / window_s
    p_sat = a["sat"][items]
    made = np.maximum(t0, a["created"][items]) + (rank[chosen] + 1) / rate_per_s[p_sat]
    made = np.minimum(made, t0 + window_s)
    tile_ids = a["tile"][items]
    prio = a["prio"][items]
    mask = np.zeros(len(pool), bool)
    mask[items] = True
    pool.take(mask)
    tile_processed[tile_ids] = True
    out = []
    if strategy == "filter":
        kept = tiles.keep[tile_ids]
        out.append(make(tile_ids[kept], p_sat[kept], tiles.size_bytes[tile_ids][kept],
                        made[kept], KEPT, 1, prio[kept]))  # fmt: skip
    else:
        n = tile_ids.size
        out.append(make(tile_ids, p_sat, np.full(n, result_bytes), made, RESULT, 1, prio))
        if strategy == "hybrid":
            out.append(make(tile_ids, p_sat, tiles.size_bytes[tile_ids], made, RAW_COPY, 0, prio))
    return out


def _outcome(strategy, tiles, bundles, pool, tile_processed, tile_dropped, bundle_dropped,
             backlog, backlog_max, booked) -> Outcome:  # fmt: skip
    n = bundles.count
    delivered_s = bundles.column("delivered")
    depart = bundles.column("depart")
    hops = bundles.column("hops")
    station = bundles.column("station")
    dropped = np.zeros(n, bool)
    if bundle_dropped:
        dropped[np.concatenate(bundle_dropped).astype(np.int64)] = True
    outcome = np.where(dropped, OUT_DROPPED, np.where(np.isfinite(delivered_s), OUT_DELIVERED,
                                                      OUT_STORED))  # fmt: skip
    delivered_s = np.where(outcome == OUT_DELIVERED, delivered_s, np.nan)
    lo, hi = bundles.column("route_lo"), bundles.column("route_hi")
    hop_bundle = np.repeat(np.arange(n), hi - lo)
    hop_contact = bundles.hops[_ranges(lo, hi)]
    live = outcome[hop_bundle] == OUT_DELIVERED
    tile_stored = np.zeros(len(tiles), bool)
    waiting = pool.a["bundle"] < 0
    tile_stored[pool.a["tile"][waiting]] = True
    return Outcome(
        strategy=strategy,
        tile_processed=tile_processed,
        tile_dropped=tile_dropped,
        tile_stored=tile_stored,
        bundle_tile=bundles.column("tile"),
        bundle_satellite=bundles.column("sat"),
        bundle_product=bundles.column("product"),
        bundle_size=bundles.column("size"),
        bundle_created_s=bundles.column("created"),
        bundle_delivered_s=delivered_s,
        bundle_departed_s=np.where(outcome == OUT_DELIVERED, depart, np.nan),
        bundle_hops=np.where(outcome == OUT_DELIVERED, hops, -1),
        bundle_station=np.where(outcome == OUT_DELIVERED, station, -1),
        bundle_outcome=outcome.astype(np.int8),
        hop_bundle=hop_bundle[live],
        hop_contact=hop_contact[live],
        backlog_bytes=backlog,
        backlog_max_bytes=backlog_max,
        booked_bytes=booked,
    )


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` over i, without a Python loop."""
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    starts = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return starts + np.arange(total)
