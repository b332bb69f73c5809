"""Which endpoint pairs the report's network section draws."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import xarray as xr

from orbitgrid.report.sections import network as section


def _run(tmp_path, n_endpoints: int, with_table: bool):
    names = [f"E{i:02d}" for i in range(n_endpoints)]
    ds = xr.Dataset(coords={"src": names, "dst": names})
    if with_table:
        rows = [
            {"src": a, "dst": b, "rtt_p50_ms": float(10 * i + j)}
            for i, a in enumerate(names)
            for j, b in enumerate(names)
            if j > i
        ]
        pd.DataFrame(rows).to_csv(tmp_path / section.PAIRS_CSV, index=False)
    return SimpleNamespace(network=ds, path=tmp_path, memo={})


def test_drawn_pairs_span_the_median_rtt_range(tmp_path):
    """With network_pairs.csv the drawn pairs run from the shortest to the longest median RTT,
    evenly spaced, MAX_PAIRS of them; without it, the first pairs in endpoint order."""
    run = _run(tmp_path, 20, with_table=True)
    drawn = section._drawn_pairs(run)
    table = pd.read_csv(tmp_path / section.PAIRS_CSV).sort_values("rtt_p50_ms")
    assert len(drawn) == section.MAX_PAIRS
    assert drawn[0] == tuple(table.iloc[0][["src", "dst"]])
    assert drawn[-1] == tuple(table.iloc[-1][["src", "dst"]])
    medians = [table.set_index(["src", "dst"]).loc[p, "rtt_p50_ms"] for p in drawn]
    assert np.all(np.diff(medians) > 0)
    plain = (
        _run(tmp_path / "none", 20, with_table=False)
        if (tmp_path / "none").mkdir() is None
        else None
    )
    assert section._drawn_pairs(plain) == section._pairs(plain)[: section.MAX_PAIRS]


def test_spread_keeps_ends_and_count():
    assert section._spread(list(range(100)), 6) == [0, 20, 40, 59, 79, 99]
    assert section._spread([1, 2], 6) == [1, 2]
