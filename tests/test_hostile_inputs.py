"""Hostile and absurd scenarios: a clean error or a valid plan, never a traceback or a hang.

Every input must end in ``validate`` succeeding or in one ``OrbitgridError`` whose message
names the field, quotes the value shortened and says what is allowed — within a few seconds and
without growing memory (issue 12). Three sources of input:

- the corpus in ``tests/data/hostile/``: each file's first line says ``# expect: <text>``, a
  piece of the message it must produce (alias bombs, nesting, encodings, tags, duplicate keys,
  numbers and dates past every limit, special files);
- hypothesis mutations of a valid scenario: one field replaced by a nasty value;
- hypothesis mutations of the YAML text: bytes inserted, deleted or replaced.

The command line is exercised on a few corpus files in subprocesses (exit 2, no traceback,
bounded memory). docs/security.md lists which guarantee each test checks.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitgrid.errors import OrbitgridError, ScenarioError, shorten
from orbitgrid.plan import build_plan
from orbitgrid.scenario import load_scenario
from orbitgrid.size_guard import check_fits, estimate_run
from tests.conftest import run_cli, small_scenario_dict

HOSTILE = Path(__file__).parent / "data" / "hostile"
CORPUS = sorted(HOSTILE.glob("*.yaml"))
# A rejection takes well under a second; this bound leaves room for a loaded CI machine.
MAX_SECONDS = 5.0
MAX_MESSAGE_CHARS = 4000


def _validate(path: Path) -> str | None:
    """What ``orbitgrid validate`` does, in process: None if valid, else the error message."""
    try:
        scenario = load_scenario(path)
        check_fits(estimate_run(scenario), None)
        build_plan(scenario)
    except OrbitgridError as error:
        return str(error)
    return None


def _expectation(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first.removeprefix("# expect: ")


def _assert_clean_message(message: str) -> None:
    assert len(message) <= MAX_MESSAGE_CHARS, f"message of {len(message)} characters"
    assert "Traceback" not in message
    for line in message.splitlines():
        assert len(line) <= 500, f"a message line of {len(line)} characters: {line[:120]}…"


def test_corpus_is_there():
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_file_is_refused_with_its_message(path: Path):
    started = time.perf_counter()
    message = _validate(path)
    elapsed = time.perf_counter() - started
    assert message is not None, f"{path.name} was accepted"
    assert _expectation(path) in message, message
    _assert_clean_message(message)
    assert elapsed < MAX_SECONDS, f"{path.name} took {elapsed:.1f} s to reject"


def test_file_contents_are_never_echoed():
    """A TLE or endpoint file that is not one is refused without quoting a byte of it."""
    passwd = Path("/etc/passwd").read_text().splitlines()
    for name in ("tle_etc_passwd.yaml", "endpoints_etc_passwd.yaml", "tle_proc_environ.yaml"):
        message = _validate(HOSTILE / name)
        assert message is not None
        assert "content is not shown" in message
        for line in passwd:
            assert line.split(":")[0] + ":x:" not in message
        assert "PATH=" not in message and "HOME=" not in message


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "elements.tle"
    os.mkfifo(fifo)
    data = small_scenario_dict()
    data["constellation"] = [{"type": "tle", "name": "t", "file": str(fifo), "spacecraft": "node"}]
    scenario_path = tmp_path / "s.yaml"
    scenario_path.write_text(yaml.safe_dump(data))
    started = time.perf_counter()
    message = _validate(scenario_path)
    assert message is not None and "FIFO" in message, message
    assert time.perf_counter() - started < MAX_SECONDS


def test_relative_file_is_resolved_against_the_scenario(tmp_path):
    """The same file name works from any working directory: it is the scenario's neighbour."""
    (tmp_path / "sub").mkdir()
    source = Path(__file__).parent / "data" / "three_satellites.3le"
    (tmp_path / "sub" / "sats.3le").write_text(source.read_text())
    data = small_scenario_dict()
    data["constellation"] = [{"type": "tle", "name": "t", "file": "sats.3le", "spacecraft": "node"}]
    (tmp_path / "sub" / "s.yaml").write_text(yaml.safe_dump(data))
    assert _validate(tmp_path / "sub" / "s.yaml") is None


def test_yaml_1_1_words_stay_text(tmp_path):
    """``NO`` (Norway), ``yes``, ``on`` and ``18:00`` are strings, not booleans or 1080."""
    data = small_scenario_dict()
    data["network"] = {
        "endpoints": [
            {"name": "Oslo", "kind": "gateway", "latitude": 59.9, "longitude": 10.7},
        ]
    }
    text = yaml.safe_dump(data) + "output:\n  dataset: off\n"
    text = text.replace("name: Oslo", "name: Oslo\n    jurisdiction: NO")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    scenario = load_scenario(path)
    assert scenario.network.endpoints[0].jurisdiction == "NO"
    assert scenario.output.dataset is False


def test_shorten_never_expands_large_values():
    nested: list = []
    for _ in range(30):
        nested = [nested] * 9  # 9^30 leaves when expanded
    assert len(shorten(nested)) <= 80
    assert "digits" in shorten(10**5000)
    assert "100,000 characters" in shorten("x" * 100_000)


# ---------------------------------------------------------------------------------------------
# hypothesis: nasty values in every field, mutated text

NASTY_VALUES = st.one_of(
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            float("-inf"),
            1e308,
            -1e308,
            5e-324,
            0,
            -1,
            2**63,
            10**99,
            -(10**99),
            "",
            " ",
            "\t",
            "NO",
            "yes",
            "~",
            "1e999 km",
            "-0 s",
            "nan C",
            "inf W",
            "9" * 5000,
            "1" * 200 + " s",
            "x" * 10_000,
            "../../../../etc/passwd",
            "/dev/zero",
            "/proc/self/environ",
            "é☃\u202e\ufeff",
            "9999-12-31T23:00:00Z",
            "1677-01-01T00:00:00Z",
            "2262-04-12T00:00:00Z",
            True,
            False,
            None,
            [],
            {},
            [[[[[]]]]],
            {"a": {"b": {"c": 1}}},
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=40),
)


def _paths(node, prefix=()):
    """Every (path, value) of a nested dict/list structure."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _base() -> dict:
    data = small_scenario_dict()
    data["economics"] = {"mission": "5 yr"}
    data["network"] = {
        "endpoints": [
            {"name": "A", "kind": "gateway", "latitude": 10, "longitude": 20, "jurisdiction": "US"},
            {"name": "B", "kind": "gateway", "latitude": -10, "longitude": 40},
        ],
        "isl": {"rate": "100 Gbps"},
        "gsl": {"rate": "1 Gbps", "min_elevation": "25 deg"},
    }
    data["output"] = {"dataset": True, "every": "60 s"}
    return data


BASE_PATHS = [path for path, _ in _paths(_base()) if path]


def _set(data: dict, path: tuple, value) -> dict:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def _check_text(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text)
    started = time.perf_counter()
    try:
        message = _validate(path)
    except RecursionError:  # pragma: no cover - the assertion below names the bug
        pytest.fail("RecursionError escaped")
    if message is not None:
        _assert_clean_message(message)
    assert time.perf_counter() - started < MAX_SECONDS


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(BASE_PATHS), value=NASTY_VALUES)
def test_nasty_value_in_any_field(tmp_path, path, value):
    data = _set(_base(), path, value)
    text = yaml.safe_dump(data, allow_unicode=True).encode("utf-8", errors="surrogatepass")
    path_file = tmp_path / "fuzz.yaml"
    path_file.write_bytes(text)
    started = time.perf_counter()
    message = _validate(path_file)
    assert time.perf_counter() - started < MAX_SECONDS
    if message is not None:
        _assert_clean_message(message)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10_000),
            st.integers(min_value=0, max_value=8),
            st.binary(max_size=12)
            | st.sampled_from(
                [b"&a ", b"*a", b"[", b"{", b"!!int ", b"!!timestamp ", b"\xff", b"\x00", b": "]
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_yaml_text(tmp_path, edits):
    text = bytearray(yaml.safe_dump(_base()).encode())
    for position, delete, insert in edits:
        at = position % (len(text) + 1)
        text[at : at + delete] = insert
    _check_text(tmp_path, bytes(text))


def test_mutation_strategy_can_find_a_refusal(tmp_path):
    """The fuzzers above would notice a crash: a known-bad edit does reach the validator."""
    data = _set(_base(), ("time", "step"), float("nan"))
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    message = _validate(path)
    assert message is not None and "time.step" in message


def test_scenario_error_names_field_value_and_allowed(tmp_path):
    data = _set(small_scenario_dict(), ("spacecraft", "node", "compute", "count"), 10**18)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as caught:
        check_fits(estimate_run(load_scenario(path)), None)
    message = str(caught.value)
    assert "spacecraft.node.compute.count" in message
    assert "1000000000000000000" in message
    assert "less than or equal to 1000000" in message


# ---------------------------------------------------------------------------------------------
# the command line: exit 2, one message, no traceback, bounded memory


@pytest.mark.parametrize(
    "name",
    ["alias_bomb.yaml", "deep_flow_lists.yaml", "invalid_utf8.yaml", "tle_dev_zero.yaml"],
)
def test_cli_refuses_with_exit_2_and_bounded_memory(name, tmp_path):
    done, peak_kib = _cli_with_peak(tmp_path, "validate", str(HOSTILE / name))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert _expectation(HOSTILE / name) in done.stderr
    assert done.stderr.count("error:") == 1
    assert peak_kib < 600 * 1024, f"peak {peak_kib / 1024:.0f} MiB"


# Runs the command as its own child and writes that child's peak RSS (KiB) to a file: the
# test process's RUSAGE_CHILDREN would include every earlier child of the test session.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(done.returncode)\n"
)


def _cli_with_peak(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    peak_file = tmp_path / "peak_kib"
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), sys.executable, "-m", "orbitgrid",
         *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
    )  # fmt: skip
    return done, int(peak_file.read_text())


def test_cli_size_guard_and_force(tmp_path):
    data = small_scenario_dict()
    data["constellation"][0].update(planes=1000, sats_per_plane=1000, phasing=0)
    data["time"].update(duration="10 yr", step="1 s")
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data))
    done = run_cli("validate", str(path))
    assert done.returncode == 2, done.stdout
    assert "would not fit this machine" in done.stderr
    assert "time.step" in done.stderr and "--force" in done.stderr
    assert "Traceback" not in done.stderr
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(small_scenario_dict()))
    done = run_cli("validate", str(small))
    assert done.returncode == 0 and "estimate: 6 satellites × 180 steps" in done.stdout
