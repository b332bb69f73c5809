"""Satellites from element files: TLE, 3LE and CCSDS OMM (XML, KVN, JSON, CSV).

Every satellite becomes a python-sgp4 ``Satrec`` (WGS72 constants, improved mode 'i': the
defaults of Vallado et al., "Revisiting Spacetrack Report #3", AIAA 2006-6753) plus a few
per-satellite arrays (epoch, inclination, RAAN, ...) that later stages can use without touching
the records. The elements are SGP4 *mean* elements in the TEME frame with UTC epochs; they are
not osculating Keplerian elements.

Formats, detected from the content (the file extension is only a hint):

- TLE: pairs of 69-column lines "1 ..." and "2 ..." (NORAD/Space-Track two-line elements).
  Columns, separators and the modulo-10 checksum are checked; a bad line is reported with the
  official column template above it, in the manner of python-sgp4's ``io.py``.
- 3LE: a name line before each pair (a leading "0 " as Space-Track writes it is dropped).
- CCSDS OMM (CCSDS 502.0-B-3, Orbit Data Messages) in XML, KVN ("KEY = value [unit]") and
  JSON (CelesTrak's ``FORMAT=json`` arrays of flat records, or one record), and CelesTrak's
  CSV. Only ``MEAN_ELEMENT_THEORY = SGP4`` (ephemeris type 0 or 2) is accepted: SGP4-XP
  elements need a different propagator.

Reading a file never touches the network.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from orbitgrid.constants import UNIX_EPOCH_JD
from orbitgrid.errors import InputFileError

__all__ = ["ElementFormat", "ElementSet", "load_elements", "parse_elements"]

ElementFormat = Literal["tle", "omm-xml", "omm-kvn", "omm-json", "omm-csv"]

# The epoch argument of sgp4init counts days from 1949 December 31 00:00 UT (JD 2433281.5).
_SGP4_EPOCH0_JD = 2433281.5
# Julian date of 0001-01-01 00:00 minus one, so that JD(midnight) = date.toordinal() + this.
_ORDINAL_TO_JD = 1721424.5
# Radians per minute per (revolution per day): SGP4 works in rad/min.
_REV_PER_DAY_TO_RAD_PER_MIN = 2.0 * math.pi / 1440.0
# Alpha-5 catalogue numbers stop at Z9999 = 339999; no TLE, and no python-sgp4 record, can
# hold a larger one.
_MAX_ALPHA5_SATNUM = 339_999

_EXTENSION_HINTS: dict[str, ElementFormat] = {
    ".tle": "tle",
    ".3le": "tle",
    ".2le": "tle",
    ".txt": "tle",
    ".xml": "omm-xml",
    ".kvn": "omm-kvn",
    ".json": "omm-json",
    ".csv": "omm-csv",
}

_FORMAT_NAMES: dict[ElementFormat, str] = {
    "tle": "TLE/3LE",
    "omm-xml": "CCSDS OMM XML",
    "omm-kvn": "CCSDS OMM KVN",
    "omm-json": "OMM JSON",
    "omm-csv": "OMM CSV",
}


@dataclass(frozen=True, eq=False)
class ElementSet:
    """SGP4 mean elements of N satellites, in file order.

    Attributes
    ----------
    names : tuple[str, ...]
        Name per satellite: the 3LE name line or OMM ``OBJECT_NAME``, else ``"NORAD <id>"``.
    satrecs : tuple[sgp4.api.Satrec, ...]
        python-sgp4 records (WGS72, opsmode 'i'), the input of every propagator. Treat them
        as read-only: propagators cache work keyed on this ElementSet.
    norad_id : ndarray[int64], shape [satellite]
        NORAD catalogue number (alpha-5 numbers decoded; OMM numbers may exceed 339999).
    epoch_jd : ndarray[float64], shape [satellite]
        Epoch as a UTC Julian date in one float (about 40 µs resolution; the split pair used
        for propagation is kept in ``satrecs[i].jdsatepoch`` / ``jdsatepochF``).
    inclination_deg, raan_deg, arg_perigee_deg, mean_anomaly_deg : ndarray[float64]
        Mean angles at epoch, degrees, TEME.
    eccentricity : ndarray[float64]
        Mean eccentricity at epoch.
    mean_motion_rev_per_day : ndarray[float64]
        Kozai mean motion at epoch, revolutions per day, as written in the file.
    bstar_per_earth_radius : ndarray[float64]
        SGP4 drag term B*, 1/earth radii.
    deep_space : ndarray[bool]
        True where SGP4 switches to its deep-space branch (SDP4; period ≥ 225 min).
    tle_lines : tuple[tuple[str, str] | None, ...]
        The TLE line pair per satellite: as read for TLE input, written by
        ``sgp4.exporter.export_tle`` for OMM input (angles rounded to the TLE's 1e-4 degree,
        alpha-5 catalogue numbers for 100000–339999), ``None`` when no TLE can hold the
        satellite (catalogue number above 339999, or an angle outside the TLE range).
    source : str
        File name or ``source_name`` the elements came from.
    source_format : ElementFormat
        Detected format.
    """

    names: tuple[str, ...]
    satrecs: tuple[Satrec, ...]
    norad_id: np.ndarray
    epoch_jd: np.ndarray
    inclination_deg: np.ndarray
    raan_deg: np.ndarray
    eccentricity: np.ndarray
    arg_perigee_deg: np.ndarray
    mean_anomaly_deg: np.ndarray
    mean_motion_rev_per_day: np.ndarray
    bstar_per_earth_radius: np.ndarray
    deep_space: np.ndarray
    tle_lines: tuple[tuple[str, str] | None, ...]
    source: str
    source_format: ElementFormat

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        if len(self) == 0:
            return f"ElementSet(0 satellites from {self.source})"
        epochs_utc = self.epoch_utc
        first, last = epochs_utc.min(), epochs_utc.max()
        epochs = f"epoch {first}" if first == last else f"epochs {first} … {last}"
        return (
            f"ElementSet({len(self)} satellites from {self.source} "
            f"({_FORMAT_NAMES[self.source_format]}), {epochs} UTC)"
        )

    @property
    def epoch_utc(self) -> np.ndarray:
        """Epochs as ``datetime64[ns]`` UTC, shape [satellite] (a TLE epoch resolves 0.864 ms)."""
        return np.array([_jd_to_datetime64(s.jdsatepoch, s.jdsatepochF) for s in self.satrecs])

    def __getstate__(self) -> dict:
        # python-sgp4's compiled Satrec cannot be pickled, yet element sets must travel to
        # worker processes (Dask): keep the numbers each record was built from instead.
        state = dict(self.__dict__)
        from_tle = self.source_format == "tle"
        state["satrecs"] = [
            ("tle", *lines) if from_tle else ("init", *_satrec_init_args(satrec))
            for satrec, lines in zip(self.satrecs, self.tle_lines, strict=True)
        ]
        return state

    def __setstate__(self, state: dict) -> None:
        records = state.pop("satrecs")
        satrecs = tuple(
            Satrec.twoline2rv(r[1], r[2], WGS72) if r[0] == "tle" else _satrec_from_init_args(r[1:])
            for r in records
        )
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # unpickled arrays come back writeable
        self.__dict__.update(state, satrecs=satrecs)

    def to_tle_text(self) -> str:
        """The satellites as 3LE text (name line, line 1, line 2); fails if one has no TLE."""
        missing = [n for n, lines in zip(self.names, self.tle_lines, strict=True) if not lines]
        if missing:
            raise InputFileError(
                f"{self.source}: {len(missing)} satellite(s) cannot be written as TLE "
                f"(catalogue number above {_MAX_ALPHA5_SATNUM} or angle out of range), "
                f"e.g. {missing[0]!r}"
            )
        rows = []
        for name, pair in zip(self.names, self.tle_lines, strict=True):
            rows += [name, *pair]  # type: ignore[misc]  # None was ruled out above
        return "\n".join(rows) + "\n"


def load_elements(path: str | os.PathLike[str]) -> ElementSet:
    """Load SGP4 mean elements from a TLE, 3LE or CCSDS OMM (XML, KVN, JSON, CSV) file.

    The format is detected from the content; the extension (``.tle``, ``.3le``, ``.txt``,
    ``.xml``, ``.kvn``, ``.json``, ``.csv``) is used as a hint when the content is ambiguous
    and in error messages. Records become python-sgp4 ``Satrec`` objects with the WGS72
    constants that SGP4 is defined with (Vallado et al., AIAA 2006-6753); epochs are UTC.

    Parameters
    ----------
    path : str or os.PathLike
        A local file. Nothing is downloaded.

    Returns
    -------
    ElementSet
        One entry per satellite, in file order.

    Raises
    ------
    InputFileError
        The file is missing or unreadable, or a record is malformed. The message names the
        file and the line, shows the line and says what was expected there.
    """
    file_path = Path(path)
    display = str(path)
    try:
        raw = file_path.read_bytes()
    except FileNotFoundError:
        raise _file_error(
            display,
            None,
            f"element file not found (looked for {file_path.resolve()}); check the path, "
            "which is relative to the current directory unless absolute",
        ) from None
    except IsADirectoryError:
        raise _file_error(
            display, None, "is a directory; expected a TLE, 3LE or OMM file"
        ) from None
    except OSError as exc:
        raise _file_error(display, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_number = raw.count(b"\n", 0, exc.start) + 1
        raise _file_error(
            display,
            line_number,
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); element files are ASCII/UTF-8",
        ) from None
    hint = _EXTENSION_HINTS.get(file_path.suffix.lower())
    return parse_elements(text, source_name=display, format_hint=hint)


def parse_elements(
    text: str, source_name: str = "<text>", *, format_hint: ElementFormat | None = None
) -> ElementSet:
    """Parse SGP4 mean elements from TLE, 3LE or CCSDS OMM text (see ``load_elements``).

    Parameters
    ----------
    text : str
        The content of an element file.
    source_name : str
        Name used in error messages and in ``ElementSet.source``.
    format_hint : ElementFormat, optional
        Format to assume when the content does not decide it (e.g. from a file extension).

    Returns
    -------
    ElementSet

    Raises
    ------
    InputFileError
        A record is malformed, or no satellite was found.
    """
    text = text.removeprefix("\ufeff")
    file_format = _detect_format(text, source_name, format_hint)
    norad_ids: list[int] | None = None
    if file_format == "tle":
        try:
            names, satrecs, tle_lines = _parse_tle(text, source_name)
        except InputFileError as error:
            if format_hint in (None, "tle"):
                raise
            # A misnamed TLE file still loads; only when it fails is the name worth a word.
            line_number = error.line_number  # type: ignore[attr-defined]
            where = source_name if line_number is None else f"{source_name}, line {line_number}"
            problem = str(error).removeprefix(f"{where}: ")
            note = (
                f"(The file name suggests {_FORMAT_NAMES[format_hint]}, but the content does "
                "not look like it, so it was read as TLE/3LE.)"
            )
            hinted = _file_error(source_name, line_number, f"{problem}\n\n{note}")
            hinted.line = error.line  # type: ignore[attr-defined]
            raise hinted from None
    else:
        read_records = {
            "omm-xml": _omm_records_xml,
            "omm-kvn": _omm_records_kvn,
            "omm-json": _omm_records_json,
            "omm-csv": _omm_records_csv,
        }[file_format]
        names, satrecs, tle_lines, norad_ids = [], [], [], []
        for record in read_records(text, source_name):
            name, satrec, norad_id = _satrec_from_omm(record, source_name)
            names.append(name)
            satrecs.append(satrec)
            norad_ids.append(norad_id)
            tle_lines.append(_tle_lines_for(satrec, norad_id))
    if not satrecs:
        raise _file_error(
            source_name,
            None,
            f"holds no satellites; expected {_FORMAT_NAMES[file_format]} records",
        )
    return _build(names, satrecs, tle_lines, source_name, file_format, norad_ids)


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _file_error(
    source: str,
    line_number: int | None,
    problem: str,
    line: str | None = None,
    detail: str = "",
) -> InputFileError:
    """An InputFileError whose message reads "<file>, line <n>: <problem>" plus the line."""
    where = source if line_number is None else f"{source}, line {line_number}"
    message = f"{where}: {problem}"
    if detail:
        message += "\n\n" + detail
    elif line is not None:
        message += f"\n\n    {line}"
    error = InputFileError(message)
    error.source = source  # type: ignore[attr-defined]
    error.line_number = line_number  # type: ignore[attr-defined]
    error.line = line  # type: ignore[attr-defined]
    return error


def _jd_to_datetime64(jd_whole: float, jd_fraction: float) -> np.datetime64:
    """UTC datetime64[ns] of a split Julian date; each part is converted on its own, so the
    result keeps the fraction's full precision (folding both into one float would not)."""
    whole_ns = round((jd_whole - UNIX_EPOCH_JD) * 86_400_000_000_000)
    return np.datetime64(whole_ns + round(jd_fraction * 86_400_000_000_000), "ns")


def _detect_format(text: str, source: str, hint: ElementFormat | None) -> ElementFormat:
    """Decide the format from the first meaningful characters; fall back to the hint."""
    stripped = text.lstrip()
    if not stripped:
        expected = _FORMAT_NAMES[hint] if hint else "TLE, 3LE or OMM"
        raise _file_error(source, None, f"is empty; expected {expected} content")
    if stripped.startswith("<"):
        return "omm-xml"
    if stripped[0] in "[{":
        return "omm-json"
    first_line = stripped.splitlines()[0].strip()
    if re.match(r"(COMMENT\b|[A-Z][A-Z0-9_]*\s*=)", first_line):
        return "omm-kvn"
    if first_line.startswith("OBJECT_NAME,") or (
        "," in first_line and "NORAD_CAT_ID" in first_line.upper()
    ):
        return "omm-csv"
    return "tle"


def _build(
    names: Sequence[str],
    satrecs: Sequence[Satrec],
    tle_lines: Sequence[tuple[str, str] | None],
    source: str,
    file_format: ElementFormat,
    norad_ids: Sequence[int] | None = None,
) -> ElementSet:
    """Assemble the ElementSet and its read-only per-satellite arrays."""

    def column(values, dtype=np.float64) -> np.ndarray:
        array = np.array(values, dtype=dtype)
        array.flags.writeable = False
        return array

    to_deg = 180.0 / math.pi
    return ElementSet(
        names=tuple(names),
        satrecs=tuple(satrecs),
        norad_id=column(norad_ids or [s.satnum for s in satrecs], np.int64),
        epoch_jd=column([s.jdsatepoch + s.jdsatepochF for s in satrecs]),
        inclination_deg=column([s.inclo * to_deg for s in satrecs]),
        raan_deg=column([s.nodeo * to_deg for s in satrecs]),
        eccentricity=column([s.ecco for s in satrecs]),
        arg_perigee_deg=column([s.argpo * to_deg for s in satrecs]),
        mean_anomaly_deg=column([s.mo * to_deg for s in satrecs]),
        mean_motion_rev_per_day=column([s.no_kozai / _REV_PER_DAY_TO_RAD_PER_MIN for s in satrecs]),
        bstar_per_earth_radius=column([s.bstar for s in satrecs]),
        deep_space=column([s.method == "d" for s in satrecs], bool),
        tle_lines=tuple(tle_lines),
        source=source,
        source_format=file_format,
    )


# ---------------------------------------------------------------------------------------------
# TLE / 3LE

# The official column layout, an N where each digit goes (as python-sgp4's io.py shows it).
_TLE_TEMPLATE = {
    1: "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN",
    2: "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN",
}
_TLE_COLUMNS = 69
_SATNUM_RE = r" *\d{1,5}|[A-HJ-NP-Z]\d{4}"  # digits, or alpha-5 (letters I and O unused)
_ANGLE_RE = r"[ \d]{3}\.\d{4}"
_EXPONENT_RE = r"[ +-]\d{5}[+-]\d"

# (start, stop) 0-based slice, what the field is, the pattern it must match.
_TLE_FIELDS: dict[int, tuple[tuple[int, int, str, str], ...]] = {
    1: (
        (2, 7, "satellite catalogue number", _SATNUM_RE),
        (7, 8, "classification U, C or S", r"[UCS ]"),
        (9, 17, "international designator", r"[ -~]{8}"),
        (18, 20, "two-digit epoch year", r"\d\d"),
        (20, 32, "epoch day of year", r"[ \d]{3}\.\d{8}"),
        (33, 43, "mean motion rate / 2 in rev/day²", r"[ +-]\.\d{8}"),
        (44, 52, "mean motion acceleration / 6, implied decimal point", _EXPONENT_RE),
        (53, 61, "B* drag term, implied decimal point", _EXPONENT_RE),
        (62, 63, "ephemeris type", r"[\d ]"),
        (64, 68, "element set number", r" *\d*"),
        (68, 69, "checksum", r"\d"),
    ),
    2: (
        (2, 7, "satellite catalogue number", _SATNUM_RE),
        (8, 16, "inclination in degrees", _ANGLE_RE),
        (17, 25, "right ascension of the ascending node in degrees", _ANGLE_RE),
        (26, 33, "eccentricity, implied leading decimal point", r"\d{7}"),
        (34, 42, "argument of perigee in degrees", _ANGLE_RE),
        (43, 51, "mean anomaly in degrees", _ANGLE_RE),
        (52, 63, "mean motion in revolutions per day", r"[ \d]\d\.\d{8}"),
        (63, 68, "revolution number at epoch", r" *\d*"),
        (68, 69, "checksum", r"\d"),
    ),
}
_TLE_FIELD_RES = {
    pattern: re.compile(pattern) for fields in _TLE_FIELDS.values() for *_, pattern in fields
}
_TLE_BLANKS = {1: (1, 8, 17, 32, 43, 52, 61, 63), 2: (1, 7, 16, 25, 33, 42, 51)}
# (start, stop, name, lowest, highest) checked after the columns are right.
_TLE_RANGES = (
    (8, 16, "inclination", 0.0, 180.0),
    (17, 25, "right ascension of the ascending node", 0.0, 360.0),
    (34, 42, "argument of perigee", 0.0, 360.0),
    (43, 51, "mean anomaly", 0.0, 360.0),
)


def _tle_checksum(line: str) -> int:
    """Modulo-10 sum of the first 68 columns: digits count as themselves, '-' as 1."""
    head = line[:68]
    # str.count runs in C: ten passes beat one Python-level pass over 68 characters.
    return (sum(d * head.count(str(d)) for d in range(1, 10)) + head.count("-")) % 10


def _tle_line_error(
    source: str, line_number: int, line: str, which: int, problem: str, start: int, stop: int
) -> InputFileError:
    """Error showing the column template above the offending line and a caret under it."""
    caret = " " * start + "^" * max(stop - start, 1)
    detail = (
        f"A TLE line {which} has exactly {_TLE_COLUMNS} columns laid out like this template "
        f"(N = a digit), then your line:\n\n"
        f"    {_TLE_TEMPLATE[which]}\n    {line}\n    {caret}"
    )
    return _file_error(source, line_number, problem, line, detail)


def _columns(start: int, stop: int) -> str:
    return f"column {start + 1}" if stop - start == 1 else f"columns {start + 1}–{stop}"


def _check_tle_line(source: str, line_number: int, line: str, which: int) -> None:
    """Raise InputFileError unless ``line`` is a well-formed TLE line ``which`` (1 or 2)."""
    if len(line) != _TLE_COLUMNS:
        start = min(len(line), _TLE_COLUMNS)
        raise _tle_line_error(
            source,
            line_number,
            line,
            which,
            f"TLE line {which} is {len(line)} columns long; it must have exactly "
            f"{_TLE_COLUMNS} (the last one is the checksum)",
            start,
            max(len(line), start + 1),
        )
    for index in _TLE_BLANKS[which]:
        if line[index] != " ":
            raise _tle_line_error(
                source,
                line_number,
                line,
                which,
                f"TLE line {which} column {index + 1} must be a blank separator, "
                f"found {line[index]!r}",
                index,
                index + 1,
            )
    for start, stop, what, pattern in _TLE_FIELDS[which]:
        value = line[start:stop]
        if not _TLE_FIELD_RES[pattern].fullmatch(value):
            raise _tle_line_error(
                source,
                line_number,
                line,
                which,
                f"TLE line {which}, {_columns(start, stop)} ({what}): expected the form "
                f"{_TLE_TEMPLATE[which][start:stop]!r}, found {value!r}",
                start,
                stop,
            )
    expected = _tle_checksum(line)
    if int(line[68]) != expected:
        raise _tle_line_error(
            source,
            line_number,
            line,
            which,
            f"TLE line {which} checksum (column 69) is {line[68]} but the line's digits tally "
            f"to {expected}; the line is corrupted or was edited by hand",
            68,
            69,
        )
    if which == 1:
        if line[62] == "4":
            raise _tle_line_error(
                source,
                line_number,
                line,
                which,
                "TLE line 1 column 63 gives ephemeris type 4 (SGP4-XP elements); these need "
                "the SGP4-XP propagator, which orbitgrid does not have; use SGP4 elements",
                62,
                63,
            )
        day = float(line[20:32])
        if not 1.0 <= day < 367.0:
            raise _tle_line_error(
                source,
                line_number,
                line,
                which,
                f"TLE line 1 epoch day of year is {day}; it must be in [1, 367)",
                20,
                32,
            )
        return
    for start, stop, what, lowest, highest in _TLE_RANGES:
        value = float(line[start:stop])
        if not lowest <= value <= highest:
            raise _tle_line_error(
                source,
                line_number,
                line,
                which,
                f"TLE line 2 {what} is {value} degrees; it must be within "
                f"[{lowest:g}, {highest:g}]",
                start,
                stop,
            )
    if float(line[52:63]) <= 0.0:
        raise _tle_line_error(
            source,
            line_number,
            line,
            which,
            "TLE line 2 mean motion must be positive (revolutions per day)",
            52,
            63,
        )


def _parse_tle(
    text: str, source: str
) -> tuple[list[str], list[Satrec], list[tuple[str, str] | None]]:
    """Walk the lines as [name] + line 1 + line 2 groups and build one Satrec per group."""
    lines = [
        (number, raw.rstrip())
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]
    names: list[str] = []
    satrecs: list[Satrec] = []
    pairs: list[tuple[str, str] | None] = []
    i = 0
    while i < len(lines):
        number, line = lines[i]
        name = None
        if line.startswith("2 "):
            raise _tle_line_error(
                source,
                number,
                line,
                2,
                "found TLE line 2 where a satellite name or TLE line 1 was expected "
                "(is line 1 of this satellite missing?)",
                0,
                1,
            )
        next_is_line1 = i + 1 < len(lines) and lines[i + 1][1].startswith("1 ")
        if not (line.startswith("1 ") and not next_is_line1):
            # A 3LE name line; Space-Track prefixes names with "0 ".
            name_number, name = number, line.strip().removeprefix("0 ").strip()
            i += 1
            if i == len(lines):
                raise _file_error(
                    source,
                    name_number,
                    "the file ends after this line; expected a satellite name followed by "
                    "TLE lines 1 and 2",
                    line,
                )
            number, line = lines[i]
            if not line.startswith("1 "):
                raise _tle_line_error(
                    source,
                    number,
                    line,
                    1,
                    f"expected TLE line 1 after the name line {name!r} (line {name_number}); "
                    "a line 1 starts with '1 '",
                    0,
                    2,
                )
        line1_number, line1 = number, line
        i += 1
        if i == len(lines):
            raise _file_error(
                source,
                line1_number,
                "the file ends after TLE line 1; expected TLE line 2 next",
                line1,
            )
        line2_number, line2 = lines[i]
        i += 1
        if not line2.startswith("2 "):
            raise _tle_line_error(
                source,
                line2_number,
                line2,
                2,
                f"expected TLE line 2 after the TLE line 1 on line {line1_number}; "
                "a line 2 starts with '2 '",
                0,
                2,
            )
        _check_tle_line(source, line1_number, line1, 1)
        _check_tle_line(source, line2_number, line2, 2)
        if line1[2:7] != line2[2:7]:
            raise _tle_line_error(
                source,
                line2_number,
                line2,
                2,
                f"TLE line 2 is for catalogue number {line2[2:7].strip()!r} but the line 1 "
                f"above it (line {line1_number}) is for {line1[2:7].strip()!r}",
                2,
                7,
            )
        satrec = Satrec.twoline2rv(line1, line2, WGS72)
        names.append(name or f"NORAD {satrec.satnum}")
        satrecs.append(satrec)
        pairs.append((line1, line2))
    return names, satrecs, pairs


# ---------------------------------------------------------------------------------------------
# CCSDS OMM


@dataclass
class _OmmRecord:
    """One OMM record: its fields as text and where each field sits in the source."""

    fields: dict[str, str]
    where: dict[str, tuple[int, int]]  # field -> (1-based line, 0-based column)
    first_line: int | None
    label: str  # "record 3", "segment 2", "row 5": how messages name the record
    source_lines: list[str]


_OMM_REQUIRED = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
# Expected metadata; CelesTrak JSON and CSV omit these and mean exactly these values.
_OMM_METADATA = {
    "CENTER_NAME": ("EARTH",),
    "REF_FRAME": ("TEME",),
    "TIME_SYSTEM": ("UTC",),
    "MEAN_ELEMENT_THEORY": ("SGP4", "SGP/SGP4"),
}
# Allowed [unit] annotations in KVN, compared without case and spaces.
_OMM_UNITS = {
    "MEAN_MOTION": ("rev/day",),
    "INCLINATION": ("deg",),
    "RA_OF_ASC_NODE": ("deg",),
    "ARG_OF_PERICENTER": ("deg",),
    "MEAN_ANOMALY": ("deg",),
}
_EPOCH_RE = re.compile(
    r"(?P<year>\d{4})-(?:(?P<month>\d{2})-(?P<day>\d{2})|(?P<doy>\d{3}))"
    r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}(?:\.\d*)?)Z?"
)


def _omm_field_error(
    source: str, record: _OmmRecord, key: str | None, problem: str
) -> InputFileError:
    """Error naming the record and showing the source line that holds ``key``."""
    line_number, column = record.where.get(key, (record.first_line, 0)) if key else (None, 0)
    line_number = line_number or record.first_line
    shown = None
    if line_number and 0 < line_number <= len(record.source_lines):
        shown = record.source_lines[line_number - 1].rstrip()
        if len(shown) > 120:  # compact JSON keeps a whole catalogue on one line
            start = max(column - 40, 0)
            shown = ("…" if start else "") + shown[start : start + 110] + "…"
    return _file_error(source, line_number, f"OMM {record.label}: {problem}", shown)


def _omm_float(source: str, record: _OmmRecord, key: str) -> float:
    text = record.fields[key].strip()
    try:
        value = float(text)
    except ValueError:
        raise _omm_field_error(
            source, record, key, f"{key} should be a number; found {text!r}"
        ) from None
    if not math.isfinite(value):
        raise _omm_field_error(source, record, key, f"{key} must be finite; found {text!r}")
    return value


def _omm_int(source: str, record: _OmmRecord, key: str, default: int) -> int:
    text = record.fields.get(key, "").strip()
    if not text:
        return default
    try:
        value = float(text)  # JSON writers sometimes emit 25544.0
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value)):
        raise _omm_field_error(source, record, key, f"{key} should be an integer; found {text!r}")
    return int(value)


def _omm_epoch_jd(source: str, record: _OmmRecord) -> tuple[float, float]:
    """Split UTC Julian date (midnight whole part, day fraction) of the EPOCH field."""
    text = record.fields["EPOCH"].strip()
    match = _EPOCH_RE.fullmatch(text)
    problem = (
        f"EPOCH {text!r} is not a CCSDS UTC time; expected YYYY-MM-DDThh:mm:ss[.ffffff] or "
        "YYYY-DDDThh:mm:ss[.ffffff]"
    )
    if not match:
        raise _omm_field_error(source, record, "EPOCH", problem)
    year = int(match["year"])
    try:
        if match["doy"]:
            day = date(year, 1, 1).toordinal() + int(match["doy"]) - 1
            if int(match["doy"]) < 1 or date.fromordinal(day).year != year:
                raise ValueError
        else:
            day = date(year, int(match["month"]), int(match["day"])).toordinal()
    except ValueError:
        raise _omm_field_error(source, record, "EPOCH", problem) from None
    hour, minute, second = int(match["hour"]), int(match["minute"]), float(match["second"])
    if hour > 23 or minute > 59 or second >= 61.0:
        raise _omm_field_error(source, record, "EPOCH", problem)
    return day + _ORDINAL_TO_JD, (hour * 3600 + minute * 60 + second) / 86400.0


def _satrec_from_omm(record: _OmmRecord, source: str) -> tuple[str, Satrec, int]:
    """Validate one OMM record and initialise its Satrec as ``sgp4.omm.initialize`` does."""
    for key in _OMM_REQUIRED:
        if not record.fields.get(key, "").strip():
            raise _omm_field_error(
                source,
                record,
                None,
                f"required field {key} is missing; an OMM for SGP4 needs "
                + ", ".join(_OMM_REQUIRED),
            )
    for key, allowed in _OMM_METADATA.items():
        value = record.fields.get(key, "").strip()
        if value and value.upper() not in allowed:
            raise _omm_field_error(
                source,
                record,
                key,
                f"{key} is {value!r}; SGP4 elements need {' or '.join(allowed)}",
            )
    for key, allowed in _OMM_UNITS.items():
        unit = record.fields.get(f"{key}@unit", "")
        if unit and unit.replace(" ", "").lower() not in allowed:
            raise _omm_field_error(
                source, record, key, f"{key} is in [{unit}]; expected [{allowed[0]}]"
            )
    ephemeris_type = _omm_int(source, record, "EPHEMERIS_TYPE", 0)
    if ephemeris_type not in (0, 2):
        raise _omm_field_error(
            source,
            record,
            "EPHEMERIS_TYPE",
            f"EPHEMERIS_TYPE {ephemeris_type} is not SGP4 (0 or 2); type 4 means SGP4-XP "
            "elements, which need a propagator orbitgrid does not have",
        )
    norad_id = _omm_int(source, record, "NORAD_CAT_ID", 0)
    if norad_id < 0:
        raise _omm_field_error(source, record, "NORAD_CAT_ID", "NORAD_CAT_ID must be ≥ 0")
    values = {
        key: _omm_float(source, record, key)
        for key in _OMM_REQUIRED
        if key not in ("EPOCH", "NORAD_CAT_ID")
    }
    for key, lowest, highest in (
        ("INCLINATION", 0.0, 180.0),
        ("RA_OF_ASC_NODE", 0.0, 360.0),
        ("ARG_OF_PERICENTER", 0.0, 360.0),
        ("MEAN_ANOMALY", 0.0, 360.0),
    ):
        if not lowest <= values[key] <= highest:
            raise _omm_field_error(
                source,
                record,
                key,
                f"{key} is {values[key]} degrees; it must be within [{lowest:g}, {highest:g}]",
            )
    if values["MEAN_MOTION"] <= 0.0:
        raise _omm_field_error(
            source, record, "MEAN_MOTION", "MEAN_MOTION must be positive (rev/day)"
        )
    if not 0.0 <= values["ECCENTRICITY"] < 1.0:
        raise _omm_field_error(source, record, "ECCENTRICITY", "ECCENTRICITY must be within [0, 1)")
    jd_whole, jd_fraction = _omm_epoch_jd(source, record)

    object_id = (record.fields.get("OBJECT_ID") or "").strip()
    rev_per_day = _REV_PER_DAY_TO_RAD_PER_MIN
    satrec = _satrec_from_init_args(
        (
            (record.fields.get("CLASSIFICATION_TYPE") or "U").strip()[:1] or "U",
            # "1998-067A" -> "98067A", the TLE's international designator.
            object_id[2:].replace("-", "")[:8] if len(object_id) > 2 else "",
            ephemeris_type,
            _omm_int(source, record, "ELEMENT_SET_NO", 999) % 10_000,
            _omm_int(source, record, "REV_AT_EPOCH", 0) % 100_000,
            # python-sgp4 stores at most alpha-5 Z9999; beyond, the catalogue number lives
            # only in ElementSet.norad_id (SGP4 itself never uses it).
            norad_id if norad_id <= _MAX_ALPHA5_SATNUM else 0,
            jd_whole,
            jd_fraction,
            values["BSTAR"],
            # OMM rates use the TLE columns' units, rev/day² and rev/day³ (as sgp4.omm does).
            values["MEAN_MOTION_DOT"] * rev_per_day / 1440.0,
            values["MEAN_MOTION_DDOT"] * rev_per_day / 1440.0**2,
            values["ECCENTRICITY"],
            math.radians(values["ARG_OF_PERICENTER"]),
            math.radians(values["INCLINATION"]),
            math.radians(values["MEAN_ANOMALY"]),
            values["MEAN_MOTION"] * rev_per_day,
            math.radians(values["RA_OF_ASC_NODE"]),
        )
    )
    name = (record.fields.get("OBJECT_NAME") or "").strip() or f"NORAD {norad_id}"
    return name, satrec, norad_id


def _satrec_from_init_args(args: Sequence) -> Satrec:
    """A WGS72 Satrec from (classification, intldesg, ephtype, elnum, revnum, satnum,
    epoch JD whole, epoch JD fraction, then sgp4init's bstar ... nodeo in SGP4 units)."""
    classification, intldesg, ephtype, elnum, revnum, satnum, jd_whole, jd_fraction = args[:8]
    satrec = Satrec()
    satrec.classification = classification
    satrec.intldesg = intldesg
    satrec.ephtype = ephtype
    satrec.elnum = elnum
    satrec.revnum = revnum
    satrec.sgp4init(WGS72, "i", satnum, _sgp4init_epoch_days(jd_whole, jd_fraction), *args[8:])
    # sgp4init folds the epoch into one float (±0.3 µs); restore the exact split so that the
    # time since epoch, formed from these two numbers at every step, keeps full precision.
    satrec.jdsatepoch, satrec.jdsatepochF = jd_whole, jd_fraction
    return satrec


def _satrec_init_args(satrec: Satrec) -> tuple:
    """The arguments ``_satrec_from_init_args`` rebuilds ``satrec`` from."""
    return (
        satrec.classification,
        satrec.intldesg,
        satrec.ephtype,
        satrec.elnum,
        satrec.revnum,
        satrec.satnum,
        satrec.jdsatepoch,
        satrec.jdsatepochF,
        *_sgp4init_elements(satrec),
    )


def _sgp4init_epoch_days(jd_whole: float, jd_fraction: float) -> float:
    """sgp4init's epoch argument: days since 1949 December 31 00:00 UT, from a split JD."""
    return (jd_whole - _SGP4_EPOCH0_JD) + jd_fraction


def _sgp4init_elements(satrec: Satrec) -> tuple:
    """The mean elements sgp4init takes after the epoch, read back from ``satrec``: bstar, ndot,
    nddot, ecco, argpo, inclo, mo, no_kozai, nodeo (SGP4 units)."""
    return (
        satrec.bstar,
        satrec.ndot,
        satrec.nddot,
        satrec.ecco,
        satrec.argpo,
        satrec.inclo,
        satrec.mo,
        satrec.no_kozai,
        satrec.nodeo,
    )


def _tle_lines_for(satrec: Satrec, norad_id: int) -> tuple[str, str] | None:
    """TLE lines written from an OMM-built Satrec, or None when a TLE cannot hold it."""
    if norad_id > _MAX_ALPHA5_SATNUM:
        return None
    try:
        return export_tle(satrec)
    except ValueError:  # an angle outside the TLE's range
        return None


# KVN values that are free text: a trailing "[...]" there is part of the value, not a unit.
_KVN_TEXT_KEYS = ("OBJECT_NAME", "OBJECT_ID", "ORIGINATOR", "MESSAGE_ID")


def _omm_records_kvn(text: str, source: str) -> list[_OmmRecord]:
    """KVN: "KEY = value [unit]" lines; each CCSDS_OMM_VERS line starts a new record."""
    source_lines = text.splitlines()
    records: list[_OmmRecord] = []
    current: _OmmRecord | None = None
    for number, raw in enumerate(source_lines, start=1):
        line = raw.strip()
        if not line or line.startswith("COMMENT"):
            continue
        match = re.fullmatch(r"([A-Z0-9_]+)\s*=\s*(.*)", line)
        if not match:
            raise _file_error(
                source,
                number,
                "expected a KVN line 'KEY = value [unit]' (or 'COMMENT ...')",
                raw.rstrip(),
            )
        key, value, unit = match[1], match[2], None
        if key not in _KVN_TEXT_KEYS:
            with_unit = re.fullmatch(r"(.*?)\s*\[([^\]]*)\]", value)
            if with_unit:
                value, unit = with_unit[1], with_unit[2].strip()
        if key == "CCSDS_OMM_VERS":
            current = _OmmRecord({}, {}, number, f"record {len(records) + 1}", source_lines)
            records.append(current)
            continue
        if current is None:
            raise _file_error(
                source,
                number,
                "an OMM KVN message must start with 'CCSDS_OMM_VERS = <version>'",
                raw.rstrip(),
            )
        if key in current.fields:
            raise _file_error(
                source,
                number,
                f"OMM {current.label}: {key} appears twice (first on line "
                f"{current.where[key][0]}); start each message with CCSDS_OMM_VERS",
                raw.rstrip(),
            )
        current.fields[key] = value
        current.where[key] = (number, raw.index(key))
        if unit:
            current.fields[f"{key}@unit"] = unit
    return records


def _omm_records_xml(text: str, source: str) -> list[_OmmRecord]:
    """CCSDS NDM/XML: one record per <segment>, from the leaf elements inside it."""
    source_lines = text.splitlines()
    records: list[_OmmRecord] = []
    # expat rather than ElementTree: it reports the line of every element. It does not
    # fetch external entities, so parsing stays local.
    parser = xml.parsers.expat.ParserCreate()
    open_tags: list[tuple[str, int, int]] = []  # (tag, line, column) of each open element
    chunks: list[str] = []
    current: list[_OmmRecord | None] = [None]

    def start(name: str, attributes: dict[str, str]) -> None:
        tag = name.rsplit(":", 1)[-1]  # drop any namespace prefix
        line_number, column = parser.CurrentLineNumber, parser.CurrentColumnNumber
        open_tags.append((tag, line_number, column))
        chunks.clear()
        record = current[0]
        if tag == "segment":
            label = f"segment {len(records) + 1}"
            current[0] = _OmmRecord({}, {}, line_number, label, source_lines)
            records.append(current[0])
        elif record is not None and "units" in attributes:
            record.fields[f"{tag}@unit"] = attributes["units"]

    def end(name: str) -> None:
        tag, line_number, column = open_tags.pop()
        record = current[0]
        if tag == "segment":
            current[0] = None
        elif record is not None and tag.isupper() and tag not in ("COMMENT", "USER_DEFINED"):
            if tag in record.fields:
                raise _file_error(
                    source,
                    line_number,
                    f"OMM {record.label}: <{tag}> appears twice (first on line "
                    f"{record.where[tag][0]})",
                    source_lines[line_number - 1].rstrip(),
                )
            record.fields[tag] = "".join(chunks).strip()
            record.where[tag] = (line_number, column)
        chunks.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chunks.append
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        shown = source_lines[exc.lineno - 1] if 0 < exc.lineno <= len(source_lines) else None
        raise _file_error(
            source,
            exc.lineno,
            f"is not well-formed XML ({xml.parsers.expat.ErrorString(exc.code)} at column "
            f"{exc.offset + 1}); expected a CCSDS OMM XML document",
            shown,
        ) from None
    if not records:
        raise _file_error(
            source,
            None,
            "is XML but holds no <segment>; expected CCSDS OMM XML "
            "(<omm><body><segment><metadata>…</metadata><data><meanElements>…)",
        )
    return records


def _omm_records_json(text: str, source: str) -> list[_OmmRecord]:
    """A JSON array of flat OMM objects (CelesTrak ``FORMAT=json``), or a single object."""
    source_lines = text.splitlines()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        shown = source_lines[exc.lineno - 1] if 0 < exc.lineno <= len(source_lines) else None
        raise _file_error(
            source,
            exc.lineno,
            f"is not valid JSON ({exc.msg} at column {exc.colno}); expected an array of OMM "
            "objects as CelesTrak serves them",
            shown,
        ) from None
    items = data if isinstance(data, list) else [data]
    records = []
    for index, (item, (begin, end)) in enumerate(
        zip(items, _json_item_spans(text, len(items)), strict=True), start=1
    ):
        first_line = _line_and_column(text, begin)[0]
        if not isinstance(item, dict):
            raise _file_error(
                source,
                first_line,
                f"OMM record {index} is a JSON {type(item).__name__}; expected an object "
                'like {"OBJECT_NAME": ..., "EPOCH": ..., "MEAN_MOTION": ...}',
            )
        record = _OmmRecord({}, {}, first_line, f"record {index}", source_lines)
        for key, value in item.items():
            if isinstance(value, (dict, list)):
                continue
            field_name = str(key).upper()
            record.fields[field_name] = "" if value is None else str(value)
            found = text.find(json.dumps(key), begin, end)
            record.where[field_name] = _line_and_column(text, found if found >= 0 else begin)
        records.append(record)
    return records


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start


def _json_item_spans(text: str, count: int) -> list[tuple[int, int]]:
    """(start, end) character offsets of each top-level record, decoding one at a time."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if text[position] != "[":
        return [(position, len(text))]
    spans = []
    position += 1
    for _ in range(count):
        while text[position] in " \t\r\n,":
            position += 1
        _, end = decoder.raw_decode(text, position)
        spans.append((position, end))
        position = end
    return spans


def _omm_records_csv(text: str, source: str) -> list[_OmmRecord]:
    """CelesTrak CSV: a header row of OMM field names, then one row per satellite."""
    source_lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    records: list[_OmmRecord] = []
    header: list[str] | None = None
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().upper() for cell in row]
            continue
        if len(row) != len(header):
            raise _file_error(
                source,
                number,
                f"CSV row has {len(row)} fields but the header (line 1) has {len(header)}",
                source_lines[number - 1],
            )
        label = f"row {len(records) + 1}"
        record = _OmmRecord(dict(zip(header, row, strict=True)), {}, number, label, source_lines)
        record.where = dict.fromkeys(record.fields, (number, 0))
        records.append(record)
    return records
