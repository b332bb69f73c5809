"""A sweep killed with SIGKILL and started again loses no finished point and runs none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np

from orbitgrid.sweep import run_sweep

POINTS = 24


def test_sigkill_then_restart(sweep_file, tmp_path: Path):
    """Start a physics sweep in a subprocess, ``kill -9`` it after ≥ 4 recorded points, rerun.

    Each point changes the battery, so each needs its own time simulation (≈ 0.1 s). The
    subprocess prints ``done/total`` from the progress callback, which runs after the catalog
    transaction commits, so every point printed before the kill must survive it.
    """
    capacities = [f"{3 + 0.1 * k:.1f} kWh" for k in range(POINTS)]
    path = sweep_file(
        {
            "name": "killme",
            "parameters": {"spacecraft.node.battery.capacity": {"values": capacities}},
            "outputs": ["total.state_of_charge_min"],
        },
        economics=False,
    )
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from orbitgrid.sweep import run_sweep
        run_sweep(Path({str(path)!r}), Path({str(out)!r}), "synchronous", None,
                  lambda done, total: print(done, total, flush=True))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    committed = 0
    deadline = time.monotonic() + 120
    assert child.stdout is not None
    for line in child.stdout:
        committed = int(line.split()[0])
        if committed >= 4 or time.monotonic() > deadline:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert 4 <= committed < POINTS, "the sweep finished before it could be killed"

    result = run_sweep(path, out, "synchronous", None, None)
    assert result.points_skipped >= committed
    assert result.points_skipped + result.points_done == POINTS
    with duckdb.connect(str(result.catalog_path), read_only=True) as con:
        total, distinct, ok = con.execute(
            "SELECT count(*), count(DISTINCT point_id), count(*) FILTER (status = 'ok') FROM points"
        ).fetchone()
        duplicates = con.execute(
            "SELECT count(*) FROM (SELECT point_id, name, count(*) AS n FROM point_values "
            "GROUP BY point_id, name HAVING n > 1)"
        ).fetchone()[0]
    assert (total, distinct, ok, duplicates) == (POINTS, POINTS, POINTS, 0)
    # Values recorded before the kill, and after the restart, are the ones a clean run of
    # the same sweep gives (deterministic physics): compared point by point, exactly.
    column = "total.state_of_charge_min"
    clean = run_sweep(path, tmp_path / "clean", "synchronous", None, None)
    assert clean.points_done == POINTS and clean.points_skipped == 0
    resumed = result.table().set_index("point_id").sort_index()
    fresh = clean.table().set_index("point_id").sort_index()
    assert list(resumed.index) == list(fresh.index) and len(resumed) == POINTS
    assert resumed[column].notna().all()
    # The battery capacity differs per point, so the compared values are not all alike.
    assert resumed[column].nunique() > 1
    np.testing.assert_array_equal(resumed[column].to_numpy(), fresh[column].to_numpy())
