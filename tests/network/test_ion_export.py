"""``orbitgrid export ion``: the contact table of a run folder (``contacts.parquet`` or
``contacts.csv``) → ionrc contact plan + node table."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from orbitgrid.cli import app
from orbitgrid.errors import OrbitgridError
from orbitgrid.network.contact_log import ContactLog
from orbitgrid.report.ion import export_ion


def _run_folder(tmp_path, with_contacts=True, table_format="parquet"):
    """A hand-made run folder: 2 satellites, endpoint Paris, one GSL and one ISL window."""
    run = tmp_path / "run"
    run.mkdir()
    summary = {
        "scenario": "hand-made",
        "time": {"start_utc": "2027-01-01T00:00:00+00:00", "duration_s": 3.0, "step_s": 1.0},
        "satellites": 2,
        "shells": {},
        "total": {},
    }
    (run / "summary.json").write_text(json.dumps(summary))
    if with_contacts:
        log = ContactLog(2, 1, np.array([[0, 1]]), 1.0)
        log.update(
            np.array([0.0, 1.0, 2.0]),
            np.array([0, 1]),
            np.array([0, 0]),
            np.array([1, 1]),
            np.array([700.0, 900.0]),
            np.array([1e9, 1e9]),
            np.array([[4000.0], [np.nan], [np.nan]]),
            1e11,
        )
        start = np.datetime64("2027-01-01")
        log.write(run, ["Paris"], ["STARLINK-1", "STARLINK-2"], start, table_format)
    return run


EXPECTED_PLAN = """\
# 2 contact windows of run run, from {file}
# CBHE node numbers: orbitgrid node id + 1 (satellites 1..S in satellite order, endpoints \
S+1..S+E in endpoint order)
# node 1 = STARLINK-1 (satellite)
# node 2 = STARLINK-2 (satellite)
# node 3 = Paris (endpoint)
# contact plan written by orbitgrid (ionrc format: rates in bytes/s, ranges in light seconds)
@ 2027/01/01-00:00:00
a contact +0 +1 1 2 12500000000
a contact +0 +1 2 1 12500000000
a range +0 +1 1 2 1
a contact +0 +2 3 2 125000000
a contact +0 +2 2 3 125000000
a range +0 +2 2 3 1
"""


@pytest.mark.parametrize("table_format", ["parquet", "csv"])
def test_cli_writes_plan_and_node_table(tmp_path, table_format):
    """Parquet (the default) and CSV contact tables give the same plan."""
    run = _run_folder(tmp_path, table_format=table_format)
    result = CliRunner().invoke(app, ["export", "ion", str(run)])
    assert result.exit_code == 0, result.output
    assert "2 windows, 3 nodes" in result.output
    expected = EXPECTED_PLAN.replace("{file}", f"contacts.{table_format}")
    assert (run / "ion.ionrc").read_text() == expected
    with (run / "ion_nodes.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"node": "1", "name": "STARLINK-1", "kind": "satellite", "orbitgrid_node": "0"},
        {"node": "2", "name": "STARLINK-2", "kind": "satellite", "orbitgrid_node": "1"},
        {"node": "3", "name": "Paris", "kind": "endpoint", "orbitgrid_node": "2"},
    ]


def test_kind_filter_and_out(tmp_path):
    run = _run_folder(tmp_path)
    out = tmp_path / "plans" / "gsl.ionrc"
    result = CliRunner().invoke(app, ["export", "ion", str(run), "--kind", "gsl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "# 1 gsl contact windows" in text and "a contact +0 +2 3 2 125000000" in text
    assert "12500000000" not in text and "# node 1 =" not in text
    assert (tmp_path / "plans" / "gsl_nodes.csv").exists()
    isl = export_ion(run, tmp_path / "isl.ionrc", "isl")
    assert (isl.windows, isl.nodes) == (1, 2)
    result = CliRunner().invoke(app, ["export", "ion", str(run), "--kind", "sat"])
    assert result.exit_code == 2  # typer lists the choices


def test_missing_contacts_is_a_user_error(tmp_path):
    run = _run_folder(tmp_path, with_contacts=False)
    result = CliRunner().invoke(app, ["export", "ion", str(run)])
    assert isinstance(result.exception, OrbitgridError)
    assert "contacts.parquet (or .csv) is missing" in str(result.exception)
    assert "`network:` section" in str(result.exception)
    # Through the real entry point: exit status 2, message, no traceback.
    done = subprocess.run(
        [sys.executable, "-m", "orbitgrid", "export", "ion", str(run)],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=300,
    )
    assert done.returncode == 2
    assert "contacts.parquet (or .csv) is missing" in done.stderr
    assert "Traceback" not in done.stderr
    not_a_run = CliRunner().invoke(app, ["export", "ion", str(tmp_path / "nowhere")])
    assert "is not a run folder" in str(not_a_run.exception)


def test_malformed_contacts_name_the_line(tmp_path):
    run = _run_folder(tmp_path, table_format="csv")
    text = (run / "contacts.csv").read_text().splitlines()
    assert text[1].replace('"', "").startswith("gsl,Paris,STARLINK-2,")
    text[1] = text[1].rsplit(",", 1)[0] + ",nan"
    (run / "contacts.csv").write_text("\n".join(text) + "\n")
    result = CliRunner().invoke(app, ["export", "ion", str(run), "--kind", "gsl"])
    assert "contacts.csv, line 2: the gsl window Paris–STARLINK-2 has no mean_rate_bps" in str(
        result.exception
    )
    (run / "contacts.csv").write_text("kind,a,b\ngsl,x,y\n")
    result = CliRunner().invoke(app, ["export", "ion", str(run)])
    assert "lacks column(s) a_node, b_node, start_s" in str(result.exception)


def test_parquet_window_without_a_rate_names_the_row(tmp_path):
    run = _run_folder(tmp_path)
    table = pq.read_table(run / "contacts.parquet")
    assert table["kind"].to_pylist() == ["gsl", "isl"]
    rates = pc.if_else(pc.equal(table["kind"], "gsl"), None, table["mean_rate_bps"])
    pq.write_table(table.set_column(13, "mean_rate_bps", rates), run / "contacts.parquet")
    result = CliRunner().invoke(app, ["export", "ion", str(run)])
    message = str(result.exception)
    assert (
        "contacts.parquet, row 1: the gsl window Paris–STARLINK-2 has no mean_rate_bps" in message
    )
