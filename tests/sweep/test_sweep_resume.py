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
    # Values recorded before the kill are the ones a clean run gives (deterministic physics).
    table = result.table()
    assert table["total.state_of_charge_min"].notna().all()
