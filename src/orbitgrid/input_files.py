"""Files a scenario refers to: regular files only, bounded in size, never echoed.

A scenario names files (its element files, endpoint CSVs); the scenario itself is a file named
on the command line. Whoever wrote the scenario chooses those paths, so reading them must not
hang (a FIFO, ``/dev/urandom``), exhaust memory (``/dev/zero``, a 50 GB log) or show the
content of a file that is not what the scenario says it is (``/etc/passwd`` as a TLE file).

- ``read_regular_file`` opens without blocking (``O_NONBLOCK``: opening a FIFO for reading
  otherwise waits for a writer), checks on the open descriptor that it is a regular file (no
  race between check and read), and reads at most ``max_bytes`` (``/proc`` files say size 0).
- ``check_regular_file`` does the same checks without reading, for files read later by
  another module.
- ``looks_like`` sniffs the first bytes for the expected format, so that a file of another
  kind is refused with a message that quotes none of it.
- ``check_path_text`` refuses path strings no file system accepts (NUL bytes, control
  characters, absurd lengths) before they reach ``open``, which would raise ``ValueError``.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from orbitgrid.errors import InputFileError, shorten

# Element files: a TLE record is ~140 bytes, so 256 MB holds the whole public catalogue ~60
# times; endpoint CSVs are far smaller.
MAX_ELEMENT_FILE_BYTES = 256 * 2**20
MAX_ENDPOINT_FILE_BYTES = 64 * 2**20
MAX_PATH_CHARS = 4096


def check_path_text(text: str) -> str:
    """Return ``text`` if it can name a file; raise ``ValueError`` (for pydantic) otherwise."""
    if len(text) > MAX_PATH_CHARS:
        raise ValueError(f"a path of {len(text):,} characters; at most {MAX_PATH_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(
            f"the path {shorten(text)} holds a NUL or control character; paths are plain text"
        )
    if not text.strip():
        raise ValueError("the path is empty")
    return text


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _open_regular(path: Path, what: str, max_bytes: int) -> tuple[int, int]:
    """Open ``path`` read-only without blocking; return (fd, size) of a regular file."""
    try:
        check_path_text(str(path))
    except ValueError as error:
        raise InputFileError(f"{what} {shorten(str(path))}: {error}") from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(
            f"{what} {shorten(str(path))} not found (looked for {shorten(str(path.absolute()))})"
        ) from None
    except IsADirectoryError:
        raise InputFileError(f"{what} {shorten(str(path))} is a directory, not a file") from None
    except OSError as error:
        raise InputFileError(
            f"{what} {shorten(str(path))} cannot be opened: {error.strerror or error}"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputFileError(
            f"{what} {shorten(str(path))} is {_kind(info.st_mode)}; only regular files are read"
        )
    if info.st_size > max_bytes:
        os.close(fd)
        raise InputFileError(
            f"{what} {shorten(str(path))} is {info.st_size:,} bytes; the limit is "
            f"{max_bytes:,} bytes"
        )
    return fd, info.st_size


def check_regular_file(path: str | Path, what: str, max_bytes: int) -> Path:
    """Raise ``InputFileError`` unless ``path`` is a readable regular file within the bound."""
    fd, _ = _open_regular(Path(path), what, max_bytes)
    os.close(fd)
    return Path(path)


def read_regular_file(path: str | Path, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see the module docstring)."""
    path = Path(path)
    fd, _ = _open_regular(path, what, max_bytes)
    try:
        with os.fdopen(fd, "rb", closefd=True) as handle:
            # One byte more than allowed tells a file that grew (or a /proc file of size 0
            # that streams) apart from one within the bound.
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise InputFileError(
            f"{what} {shorten(str(path))} cannot be read: {error.strerror or error}"
        ) from None
    if len(raw) > max_bytes:
        raise InputFileError(
            f"{what} {shorten(str(path))} holds more than {max_bytes:,} bytes; the limit is "
            f"{max_bytes:,} bytes"
        )
    return raw


def head_text(path: str | Path, what: str, max_bytes: int, head_bytes: int = 4096) -> str:
    """The first ``head_bytes`` of a checked regular file, decoded leniently (for sniffing)."""
    fd, _ = _open_regular(Path(path), what, max_bytes)
    with os.fdopen(fd, "rb", closefd=True) as handle:
        return handle.read(head_bytes).decode("utf-8-sig", errors="replace")


_TLE_LINE1 = re.compile(r"^1 [ 0-9A-Z]{5}[A-Z ] ")
# KVN must open with its version keyword (or a comment): ``KEY=value`` alone would let
# /proc/self/environ through as "OMM".
_OMM_START = re.compile(
    r"^(?:<\?xml|<!--|<ndm|<omm|\[|\{|CCSDS_OMM_VERS\s*=|COMMENT\b|OBJECT_NAME,)"
)


def looks_like_elements(head: str) -> bool:
    """Whether text starts like a TLE, 3LE or CCSDS OMM file (see ``orbits.elements``).

    TLE: the first non-blank line is a line 1, or the second is (a 3LE name line first).
    OMM: XML, JSON, KVN (opening with ``CCSDS_OMM_VERS =``) or CelesTrak CSV with its header.
    """
    lines = [line.rstrip("\r") for line in head.splitlines() if line.strip()][:2]
    if not lines:
        return True  # empty: the element reader says "holds no satellites"
    if _OMM_START.match(lines[0].lstrip()) or "NORAD_CAT_ID" in lines[0].upper():
        return True
    return any(_TLE_LINE1.match(line) for line in lines)


def looks_like_endpoints(head: str) -> bool:
    """Whether text starts like an endpoint CSV: a header with name, latitude_deg, longitude_deg.

    Comment lines (``#``) before the header are allowed.
    """
    for line in head.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        header = {cell.strip().lower() for cell in line.split(",")}
        return {"name", "latitude_deg", "longitude_deg"} <= header
    return True  # empty: the endpoint reader reports it
