"""Network: round-trip time distributions and time series between endpoint pairs.

Reads the network variables with dims ``time`` × ``src`` × ``dst`` that the network stage
writes (``rtt_ms``, else ``latency_ms``; ``hop_count`` with -1 for no path). NaN means no path
at that step. Pairs are unordered (``src`` before ``dst`` in endpoint order, as in
the pair table); ``MAX_PAIRS`` are drawn: spread evenly over the range of median RTT
when the pair table is there (so a 100-endpoint run shows its short, middle and long
pairs), else the first in endpoint order. Their series are read together in
blocks of ``TIME_BLOCK`` steps, so memory is the drawn pairs' series, never the whole variable.

When the run folder has the pair table (``network_pairs.parquet``, or ``.csv`` with
``network.tables: csv``; written by the network stage), the table shows
its per-pair statistics over the whole run (p50/p95/p99, reachability, path changes) and every
figure shows the great-circle fibre RTT (``fibre_rtt_ms``) as the terrestrial reference; the
headline gives the range of the pairs' own median and 95th-percentile RTT (``per_pair`` of
``summary.json``) and the reachability, and the table's hops come from the run's count of
every step of every pair (``hops_p50``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from orbitgrid.errors import OrbitgridError
from orbitgrid.network.paths import PAIRS_STEM
from orbitgrid.network.tables import read_table, table_file
from orbitgrid.report import formats
from orbitgrid.report.decimate import DEFAULT_MAX_POINTS, bucket_envelope
from orbitgrid.report.figures import (
    TIME_AXIS_TITLE,
    ReportFigure,
    add_envelope,
    color,
    new_figure,
    table_html,
)
from orbitgrid.report.runfolder import RunFolder
from orbitgrid.report.sections import HeadlineItem, SectionOutput, Shown

MAX_PAIRS = 12
"""Endpoint pairs drawn in the distribution figure."""

MAX_SERIES = 6
"""Endpoint pairs drawn in the time-series figure."""

MAX_TABLE_ROWS = 50
"""Endpoint pairs listed in the table."""

TIME_BLOCK = 100_000
"""Time steps read at a time from the store."""

PERCENTILES = (5, 25, 50, 75, 95)
"""Box plot statistics: whiskers at the 5th/95th percentiles, box at the quartiles."""

PAIRS_CSV = "network_pairs.csv"
"""The pair table as CSV (``network.tables: csv``); ``network_pairs.parquet`` by default."""


def _variable(run: RunFolder) -> tuple[str, str]:
    ds = run.network
    assert ds is not None
    if "rtt_ms" in ds.data_vars:
        return "rtt_ms", "round-trip time"
    return "latency_ms", "one-way latency"


def _pairs(run: RunFolder) -> list[tuple[str, str]]:
    ds = run.network
    assert ds is not None
    src = [str(s) for s in ds["src"].values]
    dst = [str(d) for d in ds["dst"].values]
    pairs = [(a, b) for i, a in enumerate(src) for b in dst[i + 1 :] if a != b]
    if not pairs:  # src and dst are different sets
        pairs = [(a, b) for a in src for b in dst if a != b]
    return pairs


def _spread(items: list, count: int) -> list:
    """``count`` items evenly spaced through ``items`` (first and last included)."""
    if len(items) <= count:
        return list(items)
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, count)).astype(int))
    return [items[i] for i in picks]


def _drawn_pairs(run: RunFolder) -> list[tuple[str, str]]:
    """The pairs drawn: spread over the range of median RTT from the pair table (in
    ascending order), or the first ``MAX_PAIRS`` in endpoint order without it."""
    if "network.drawn_pairs" not in run.memo:
        pairs = _pairs(run)
        table = _pair_table(run)
        medians = [(_pair_value(table, pair, "rtt_p50_ms"), pair) for pair in pairs]
        ranked = [pair for value, pair in sorted(m for m in medians if m[0] is not None)]
        chosen = _spread(ranked, MAX_PAIRS) if ranked else pairs[:MAX_PAIRS]
        run.memo["network.drawn_pairs"] = chosen
        run.memo["network.drawn_by_median"] = bool(ranked)
    return run.memo["network.drawn_pairs"]


def _choice(run: RunFolder, shown: list) -> str:
    """How the ``shown`` pairs were chosen, for captions."""
    if len(shown) >= len(_pairs(run)):
        return "(all)"
    _drawn_pairs(run)
    if run.memo["network.drawn_by_median"]:
        return (
            f"spread over the range of median RTT ({_pairs_name(run)}; pairs never reached "
            "left out)"
        )
    return "(the first in endpoint order)"


def _label(pair: tuple[str, str]) -> str:
    return f"{pair[0]} → {pair[1]}"


def _pairs_name(run: RunFolder) -> str:
    """The file name of the run's pair table, for captions."""
    path = table_file(run.path, PAIRS_STEM)
    return path.name if path is not None else f"{PAIRS_STEM}.parquet"


def _pair_table(run: RunFolder) -> pd.DataFrame | None:
    """The pair table (``network_pairs.parquet`` or ``.csv``) indexed by ``(src, dst)``, or
    None when absent or unreadable."""
    if "network.pairs_csv" not in run.memo:
        table = None
        path = table_file(run.path, PAIRS_STEM)
        if path is not None:
            try:
                types = {"src": pa.string(), "dst": pa.string()}
                frame = read_table(path, types=types).to_pandas()
            except OrbitgridError:
                frame = None
            if frame is not None and {"src", "dst"} <= set(frame.columns):
                frame["src"] = frame["src"].astype(str)
                frame["dst"] = frame["dst"].astype(str)
                table = frame.set_index(["src", "dst"])
        run.memo["network.pairs_csv"] = table
    return run.memo["network.pairs_csv"]


def _pair_value(table: pd.DataFrame | None, pair: tuple[str, str], column: str) -> float | None:
    """A finite number of the pair table for ``pair`` (either order), else None."""
    if table is None or column not in table.columns:
        return None
    for key in (pair, pair[::-1]):
        if key in table.index:
            value = float(table.loc[key, column])
            return value if math.isfinite(value) else None
    return None


def _per_pair_percentiles(network: dict) -> list[tuple[str, tuple[float, float | None]]]:
    """``(pair label, (p50, p95))`` of every reached pair in ``summary.json`` (ms)."""
    out = []
    for pair, figures in (network.get("per_pair") or {}).items():
        p50, p95 = figures.get("rtt_p50_ms"), figures.get("rtt_p95_ms")
        if isinstance(p50, int | float) and math.isfinite(p50):
            label = pair.replace(" -> ", " → ")
            ok95 = isinstance(p95, int | float) and math.isfinite(p95)
            out.append((label, (float(p50), float(p95) if ok95 else None)))
    return out


def _fibre_ms(run: RunFolder, pair: tuple[str, str], variable: str) -> float | None:
    """The great-circle fibre reference for ``pair`` in the plotted quantity (RTT or one-way)."""
    rtt = _pair_value(_pair_table(run), pair, "fibre_rtt_ms")
    if rtt is None:
        return None
    return rtt if variable == "rtt_ms" else rtt / 2.0


class NetworkSection:
    """RTT per endpoint pair: distribution (box), time series, fibre reference and pair table."""

    key = "network"
    title = "Network latency"
    shows = (
        Shown("network.rtt_median_ms", formats.milliseconds, "section"),
        Shown("network.reachability", formats.percent),
    )

    def applies(self, run: RunFolder) -> bool:
        ds = run.network
        return ds is not None and ("rtt_ms" in ds.data_vars or "latency_ms" in ds.data_vars)

    def _series(self, run: RunFolder, variable: str) -> dict[tuple[str, str], np.ndarray]:
        """The full time series of the drawn pairs (``_drawn_pairs``; read once, cached)."""
        key = f"network.series.{variable}"
        if key not in run.memo:
            run.memo[key] = _read_pairs(run, variable, _drawn_pairs(run))
        return run.memo[key]

    def _stats(self, run: RunFolder) -> list[dict]:
        if "network.pair_stats" not in run.memo:
            run.memo["network.pair_stats"] = self._compute_stats(run)
        return run.memo["network.pair_stats"]

    def _compute_stats(self, run: RunFolder) -> list[dict]:
        variable, _ = _variable(run)
        ds = run.network
        assert ds is not None
        hops = (
            _read_pairs(run, "hop_count", _drawn_pairs(run))
            if ("hop_count" in ds.data_vars)
            else {}
        )
        stats = []
        for pair, values in self._series(run, variable).items():
            ok = np.isfinite(values)
            entry: dict = {"pair": pair, "reachability": float(ok.mean()) if values.size else 0.0}
            if ok.any():
                entry.update(zip(PERCENTILES, np.percentile(values[ok], PERCENTILES), strict=True))
            if pair in hops:
                h = hops[pair]
                h = h[h >= 0]
                entry["hops"] = float(np.median(h)) if h.size else None
            entry["fibre"] = _fibre_ms(run, pair, variable)
            stats.append(entry)
        return stats

    def headline(self, run: RunFolder) -> list[HeadlineItem]:
        variable, label = _variable(run)
        network = run.summary.get("network") or {}
        reach = network.get("reachability")
        per_pair = _per_pair_percentiles(network) if variable == "rtt_ms" else []
        if per_pair and isinstance(reach, int | float):
            # Each pair's own p50 and p95: pooling every pair's steps into one median mixes
            # a 500 km pair with a 15,000 km one and describes neither.
            p50 = sorted((v[0], pair) for pair, v in per_pair)
            p95 = sorted((v[1], pair) for pair, v in per_pair if v[1] is not None)
            status = "good" if reach >= 0.99 else "warn"
            if len(per_pair) == 1:
                value = formats.milliseconds(p50[0][0])
                detail = f"median RTT of {p50[0][1]}; 95th percentile " + (
                    formats.milliseconds(p95[0][0]) if p95 else "—"
                )
                title = "Median RTT"
            else:
                value = f"{p50[0][0]:.1f}–{formats.milliseconds(p50[-1][0])}"
                detail = (
                    f"median RTT per pair, from {p50[0][1]} to {p50[-1][1]} "
                    f"({len(per_pair)} pairs reached; middle pair "
                    f"{formats.milliseconds(p50[len(p50) // 2][0])})"
                )
                if p95:
                    detail += (
                        f"; 95th percentile per pair {p95[0][0]:.1f}–"
                        f"{formats.milliseconds(p95[-1][0])}"
                    )
                title = "RTT per pair, median"
            detail += f"; reachable {formats.percent(reach)}"
            beats = self._beats_fibre(run)
            if beats is not None:
                detail += f"; faster than great-circle fibre {beats:.0%} of the time"
            return [HeadlineItem(title, value, detail, status, 15)]
        if network.get("per_pair") is not None and isinstance(reach, int | float):
            return [HeadlineItem("Latency", "no path", "no endpoint pair was reachable", "bad", 15)]
        stats = self._stats(run)
        medians = [s[50] for s in stats if 50 in s]
        if not medians:
            return [HeadlineItem("Latency", "no path", "no endpoint pair was reachable", "bad", 15)]
        reach = float(np.mean([s["reachability"] for s in stats]))
        return [
            HeadlineItem(
                f"Median {label}",
                f"{np.median(medians):.1f} ms",
                f"median over {len(medians)} endpoint pairs; reachable {reach:.1%} of the time",
                "good" if reach >= 0.99 else "warn",
                15,
            )
        ]

    def _beats_fibre(self, run: RunFolder) -> float | None:
        table = _pair_table(run)
        if table is None or "space_beats_fibre_fraction" not in table.columns:
            return None
        values = table["space_beats_fibre_fraction"].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else None

    def render(self, run: RunFolder) -> SectionOutput:
        variable, label = _variable(run)
        stats = self._stats(run)
        return SectionOutput(
            html=self._table(run, stats, label),
            figures=[self._boxes(run, stats, label), self._timeseries(run, variable, label)],
        )

    def _table(self, run: RunFolder, stats: list[dict], label: str) -> str:
        table = _pair_table(run)
        pairs = _pairs(run)
        if table is not None and "rtt_p50_ms" in table.columns:
            # Hops of every pair from the run's own count (the pair table's hops_p50); the
            # drawn pairs' stored series only for a run written before it had the column.
            if "hops_p50" in table.columns:
                hops = {p: _pair_value(table, p, "hops_p50") for p in pairs[:MAX_TABLE_ROWS]}
            else:
                hops = {s["pair"]: s.get("hops") for s in stats}
            columns = [
                ("rtt_p50_ms", "median RTT (ms)"),
                ("rtt_p95_ms", "95th pct RTT (ms)"),
                ("rtt_p99_ms", "99th pct RTT (ms)"),
                ("fibre_rtt_ms", "great-circle fibre RTT (ms)"),
                ("space_beats_fibre_fraction", "faster than fibre (share of steps)"),
                ("reachability", "reachable (share of steps)"),
                ("path_changes", "path changes"),
            ]
            rows = [
                [_label(p)] + [_pair_value(table, p, c) for c, _ in columns] + [hops.get(p)]
                for p in pairs[:MAX_TABLE_ROWS]
            ]
            header = ["pair", *(h for _, h in columns), "median hops"]
            note = f"From {_pairs_name(run)}, over the whole run"
        else:
            rows = [
                [_label(s["pair"]), s.get(50), s.get(95), s["reachability"], s.get("hops")]
                for s in stats
            ]
            header = ["pair", f"median {label} (ms)", f"95th pct {label} (ms)", "reachable",
                      "median hops"]  # fmt: skip
            note = "Over the whole run"
        shown = len(rows)
        more = (
            f"; first {shown} of {len(pairs)} pairs in endpoint order" if shown < len(pairs) else ""
        )
        pooled = (run.summary.get("network") or {}).get("rtt_median_ms")
        if isinstance(pooled, int | float) and math.isfinite(pooled):
            more += (
                f". Every pair's steps pooled: median RTT {formats.milliseconds(pooled)} "
                "(the headline gives each pair's own median instead)"
            )
        return f'<p class="note">{note}{more}.</p>' + table_html(header, rows)

    def _boxes(self, run: RunFolder, stats: list[dict], label: str) -> ReportFigure:
        fig = new_figure(f"{label.capitalize()} distribution per pair", "pair", f"{label} (ms)")
        shown = [s for s in stats if 50 in s]
        names = [_label(s["pair"]) for s in shown]
        fig.add_trace(
            go.Box(
                x=names,
                q1=[s[25] for s in shown],
                median=[s[50] for s in shown],
                q3=[s[75] for s in shown],
                lowerfence=[s[5] for s in shown],
                upperfence=[s[95] for s in shown],
                marker={"color": color(0)},
                name=label,
                showlegend=False,
            )
        )
        fibre = [(n, s["fibre"]) for n, s in zip(names, shown, strict=True) if s.get("fibre")]
        if fibre:
            fig.add_trace(
                go.Scatter(
                    x=[n for n, _ in fibre],
                    y=[v for _, v in fibre],
                    mode="markers",
                    marker={"symbol": "diamond", "size": 9, "color": "#d62728"},
                    name="great-circle fibre",
                )
            )
        fig.update_layout(hovermode="closest")
        caption = (
            f"Distribution over time of the {label} per endpoint pair (ms), over reachable steps: "
            "box at the quartiles, line at the median, whiskers at the 5th and 95th percentiles. "
            f"{len(shown)} pairs {_choice(run, shown)}."
        )
        if fibre:
            caption += (
                " Red diamonds: the great-circle fibre reference "
                f"({_pairs_name(run)}, fibre_rtt_ms)."
            )
        return ReportFigure("latency-distribution", fig, caption)

    def _timeseries(self, run: RunFolder, variable: str, label: str) -> ReportFigure:
        ds = run.network
        assert ds is not None
        time = np.asarray(ds["time"].values)
        fig = new_figure(f"{label.capitalize()} over time", TIME_AXIS_TITLE, f"{label} (ms)")
        series = self._series(run, variable)
        any_fibre = False
        drawn = _spread(list(series), MAX_SERIES)
        for index, pair in enumerate(drawn):
            values = series[pair]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                env = bucket_envelope(time, values, values, values)
            add_envelope(fig, env, _label(pair), index, band_label="min–max")
            fibre = _fibre_ms(run, pair, variable)
            if fibre is not None and len(time):
                any_fibre = True
                fig.add_trace(
                    go.Scatter(
                        x=[time[0], time[-1]],
                        y=[fibre, fibre],
                        mode="lines",
                        line={"color": color(index), "width": 1.2, "dash": "dash"},
                        legendgroup=f"g{index}-{_label(pair)}",
                        showlegend=False,  # named in the caption; keeps the legend short
                        name=f"{_label(pair)} fibre",
                    )
                )
        n = len(time)
        if n > DEFAULT_MAX_POINTS:
            size = math.ceil(n / DEFAULT_MAX_POINTS)
            decimation = (
                f"{n} steps decimated to {math.ceil(n / size)} buckets of {size} steps "
                "(bucket mean for the line, bucket min/max for the band)"
            )
        else:
            decimation = f"all {n} steps shown"
        caption = (
            f"{label.capitalize()} per pair (ms), {len(drawn)} pairs {_choice(run, drawn)}; "
            f"gaps: no path. {decimation[0].upper()}{decimation[1:]}."
        )
        if any_fibre:
            caption += (
                f" Dashed, in the pair's colour: its great-circle fibre RTT ({_pairs_name(run)})."
            )
        return ReportFigure("latency-timeseries", fig, caption)


def _read_pairs(
    run: RunFolder, variable: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], np.ndarray]:
    """``{pair: series}`` of ``variable`` for ``pairs``, read in blocks of ``TIME_BLOCK`` steps.

    Only the rows and columns the pairs touch are read; float series come back as float64,
    integer ones (``hop_count``) as they are stored.
    """
    ds = run.network
    assert ds is not None
    if not pairs:
        return {}
    src_names = [str(s) for s in ds["src"].values]
    dst_names = [str(d) for d in ds["dst"].values]
    rows = sorted({src_names.index(a) for a, _ in pairs})
    cols = sorted({dst_names.index(b) for _, b in pairs})
    where = [(rows.index(src_names.index(a)), cols.index(dst_names.index(b))) for a, b in pairs]
    da = ds[variable].transpose("time", "src", "dst")
    n = ds.sizes["time"]
    parts: list[np.ndarray] = []
    for start in range(0, n, TIME_BLOCK):
        block = np.asarray(
            da.isel(time=slice(start, start + TIME_BLOCK), src=rows, dst=cols).values
        )
        parts.append(np.stack([block[:, i, j] for i, j in where], axis=1))
    data = np.concatenate(parts, axis=0) if parts else np.empty((0, len(pairs)))
    if np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    return {pair: data[:, k] for k, pair in enumerate(pairs)}
