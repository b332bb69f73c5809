"""Element files: TLE, 3LE and CCSDS OMM (XML, KVN, JSON, CSV) → ElementSet.

Fixtures live in tests/data/ (sources in tests/data/elements_README.md): the ISS elements from
python-sgp4 2.27's README, the same record written by hand as OMM in every format, and
CelesTrak's MARIO record as python-sgp4's own tests quote it. Error messages are pinned: each
must name the file and line, show the line, and say what was expected.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec
from sgp4.io import fix_checksum

import orbitgrid
from orbitgrid.errors import InputFileError, OrbitgridError
from orbitgrid.orbits.elements import load_elements, parse_elements

DATA = Path(__file__).parent.parent / "data"
SHIPPED_STARLINK = (
    Path(orbitgrid.__file__).parent / "scenarios" / "data" / "starlink_shell1_hypatia.tle"
)

ISS_LINE1 = "1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991"
ISS_LINE2 = "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482"
ISS_EPOCH = np.datetime64("2019-12-09T16:38:29.363424", "ns")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path_or_text, name: str = "<text>") -> InputFileError:
    """The InputFileError raised for a path, or for text parsed under ``name``."""
    with pytest.raises(InputFileError) as info:
        if isinstance(path_or_text, Path):
            load_elements(path_or_text)
        else:
            parse_elements(path_or_text, name)
    return info.value


# ---------------------------------------------------------------------------------------------
# Reading every format


def test_two_line_tle_gives_norad_name_and_elements():
    elements = load_elements(DATA / "iss_zarya.tle")
    assert elements.names == ("NORAD 25544",)
    assert elements.norad_id.tolist() == [25544]
    assert elements.source_format == "tle"
    assert elements.tle_lines == ((ISS_LINE1, ISS_LINE2),)
    assert elements.epoch_utc.tolist() == [ISS_EPOCH.astype(int)]
    assert elements.epoch_utc[0] == ISS_EPOCH
    # The TLE's columns, in the units the names promise.
    np.testing.assert_allclose(elements.inclination_deg, [51.6439], rtol=1e-12)
    np.testing.assert_allclose(elements.raan_deg, [211.2001], rtol=1e-12)
    np.testing.assert_allclose(elements.eccentricity, [0.0007417], rtol=1e-12)
    np.testing.assert_allclose(elements.arg_perigee_deg, [17.6667], rtol=1e-12)
    np.testing.assert_allclose(elements.mean_anomaly_deg, [85.6398], rtol=1e-12)
    np.testing.assert_allclose(elements.mean_motion_rev_per_day, [15.50103472], rtol=1e-12)
    np.testing.assert_allclose(elements.bstar_per_earth_radius, [0.38792e-4], rtol=1e-12)
    # 2019-12-09 16:38:29.363424 UTC as a Julian date (JD 2458826.5 is that midnight).
    np.testing.assert_allclose(elements.epoch_jd, [2458826.5 + 0.69339541], rtol=0, atol=1e-9)
    assert elements.deep_space.tolist() == [False]
    assert isinstance(elements.satrecs[0], Satrec)


def test_three_line_names_in_file_order():
    elements = load_elements(DATA / "three_satellites.3le")
    # Space-Track's "0 " prefix and CelesTrak's trailing blanks are not part of the name.
    assert elements.names == ("ISS (ZARYA)", "VANGUARD 1", "MARIO")
    assert elements.norad_id.tolist() == [25544, 5, 55123]
    assert elements.tle_lines[1][0].startswith("1 00005U 58002B")


def test_mixed_two_and_three_line_records(tmp_path):
    text = f"{ISS_LINE1}\n{ISS_LINE2}\n\nISS again\n{ISS_LINE1}\n{ISS_LINE2}\n"
    elements = load_elements(_write(tmp_path, "mixed.txt", text))
    assert elements.names == ("NORAD 25544", "ISS again")


@pytest.mark.parametrize(
    ("file_name", "file_format"),
    [
        ("iss_zarya_omm.xml", "omm-xml"),
        ("iss_zarya_omm.kvn", "omm-kvn"),
        ("iss_zarya_omm.json", "omm-json"),
        ("iss_zarya_omm.csv", "omm-csv"),
    ],
)
def test_omm_formats_give_the_same_satellite_as_the_tle(file_name, file_format):
    """The hand-written OMM records hold the TLE's values, so the records must be identical
    and python-sgp4's exporter must give the TLE lines back character for character."""
    omm = load_elements(DATA / file_name)
    tle = load_elements(DATA / "iss_zarya.tle")
    assert omm.source_format == file_format
    assert omm.names == ("ISS (ZARYA)",)
    assert omm.tle_lines == ((ISS_LINE1, ISS_LINE2),)
    assert omm.epoch_utc[0] == ISS_EPOCH
    a, b = omm.satrecs[0], tle.satrecs[0]
    assert (a.jdsatepoch, a.satnum) == (b.jdsatepoch, b.satnum)
    assert a.jdsatepochF == pytest.approx(b.jdsatepochF, abs=1e-12)  # 0.1 µs
    for name in ("no_kozai", "ecco", "inclo", "nodeo", "argpo", "mo", "bstar", "ndot", "nddot"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12, abs=1e-30), name


def test_celestrak_xml_matches_celestrak_tle():
    """MARIO as CelesTrak served it in XML and as TLE (both from python-sgp4's tests)."""
    xml = load_elements(DATA / "mario_celestrak_omm.xml")
    tle = load_elements(DATA / "three_satellites.3le")
    assert xml.names == ("MARIO",)
    assert xml.tle_lines[0] == tle.tle_lines[2]
    np.testing.assert_allclose(xml.mean_motion_rev_per_day, tle.mean_motion_rev_per_day[2:])


def test_format_is_detected_from_content_not_extension(tmp_path):
    # A TLE saved as .json is still a TLE; KVN under .txt is still KVN.
    as_json = load_elements(_write(tmp_path, "really_a_tle.json", f"{ISS_LINE1}\n{ISS_LINE2}\n"))
    assert as_json.source_format == "tle"
    kvn = (DATA / "iss_zarya_omm.kvn").read_text()
    assert load_elements(_write(tmp_path, "omm.txt", kvn)).source_format == "omm-kvn"
    assert parse_elements(kvn).source == "<text>"


def test_json_single_object_and_numbers_as_strings():
    """Space-Track writes every value as a string and may send one object, not an array."""
    record = json.loads((DATA / "iss_zarya_omm.json").read_text())[0]
    record = {key: str(value) for key, value in record.items()}
    elements = parse_elements(json.dumps(record))
    assert elements.names == ("ISS (ZARYA)",)
    assert elements.tle_lines == ((ISS_LINE1, ISS_LINE2),)


def test_kvn_with_several_messages_and_day_of_year_epoch():
    kvn = (DATA / "iss_zarya_omm.kvn").read_text()
    second = kvn.replace("2019-12-09T16:38:29.363424", "2019-343T16:38:29.363424Z").replace(
        "OBJECT_NAME = ISS (ZARYA)", "OBJECT_NAME = ISS [second message]"
    )
    elements = parse_elements(kvn + second)
    # A trailing "[...]" in a name is text, not a unit.
    assert elements.names == ("ISS (ZARYA)", "ISS [second message]")
    assert elements.epoch_utc[0] == elements.epoch_utc[1] == ISS_EPOCH


def _iss_json(**changes) -> str:
    record = json.loads((DATA / "iss_zarya_omm.json").read_text())[0]
    record.update(changes)
    return json.dumps([record], indent=1)


def test_catalogue_numbers_beyond_five_digits():
    """export_tle writes alpha-5 ('A0000' = 100000) up to 339999; beyond, no TLE can hold the
    satellite, python-sgp4 cannot store the number, and ElementSet.norad_id keeps it."""
    alpha5 = parse_elements(_iss_json(NORAD_CAT_ID=100000))
    assert alpha5.norad_id.tolist() == [100000]
    assert alpha5.tle_lines[0][0].startswith("1 A0000U")
    assert alpha5.tle_lines[0][1].startswith("2 A0000 ")
    # The alpha-5 lines read back to the same satellite.
    again = parse_elements("\n".join(alpha5.tle_lines[0]))
    assert again.norad_id.tolist() == [100000]

    six_digits = parse_elements(_iss_json(NORAD_CAT_ID=400001, OBJECT_NAME=""))
    assert six_digits.norad_id.tolist() == [400001]
    assert six_digits.names == ("NORAD 400001",)
    assert six_digits.tle_lines == (None,)
    assert six_digits.satrecs[0].satnum == 0
    with pytest.raises(InputFileError, match="cannot be written as TLE"):
        six_digits.to_tle_text()


def test_to_tle_text_round_trips():
    elements = load_elements(DATA / "three_satellites.3le")
    again = parse_elements(elements.to_tle_text())
    assert again.names == elements.names
    assert again.tle_lines == elements.tle_lines


def test_arrays_are_read_only_and_repr_is_one_line():
    elements = load_elements(DATA / "three_satellites.3le")
    with pytest.raises(ValueError, match="read-only"):
        elements.inclination_deg[0] = 0.0
    assert repr(elements) == (
        f"ElementSet(3 satellites from {DATA / 'three_satellites.3le'} (TLE/3LE), "
        "epochs 2019-12-09T16:38:29.363424000 … 2023-04-25T10:45:30.642912000 UTC)"
    )
    assert len(elements) == 3


@pytest.mark.parametrize("file_name", ["three_satellites.3le", "iss_zarya_omm.kvn"])
def test_pickle_round_trip_rebuilds_identical_records(file_name):
    """Element sets travel to worker processes; python-sgp4's Satrec itself cannot be pickled,
    so the records are rebuilt and must propagate bit for bit as before."""
    elements = load_elements(DATA / file_name)
    again = pickle.loads(pickle.dumps(elements))
    assert repr(again) == repr(elements) and again.names == elements.names
    assert not again.inclination_deg.flags.writeable
    for a, b in zip(elements.satrecs, again.satrecs, strict=True):
        assert (a.jdsatepoch, a.jdsatepochF, a.satnum) == (b.jdsatepoch, b.jdsatepochF, b.satnum)
        assert a.sgp4(a.jdsatepoch, a.jdsatepochF + 0.3) == b.sgp4(
            b.jdsatepoch, b.jdsatepochF + 0.3
        )


def test_deep_space_flag_follows_the_225_minute_rule():
    molniya = (
        "1 08195U 75081A   06176.33215444  .00000099  00000-0  11873-3 0   813\n"
        "2 08195  64.1586 279.0717 6877146 264.7651  20.2257  2.00491383225656\n"
    )
    elements = parse_elements(molniya + f"{ISS_LINE1}\n{ISS_LINE2}\n")
    assert elements.deep_space.tolist() == [True, False]
    period_min = 1440.0 / elements.mean_motion_rev_per_day
    assert ((period_min >= 225.0) == elements.deep_space).all()


def test_shipped_hypatia_starlink_shell():
    """72 planes × 22 satellites at 53°, 15.19 rev/day (≈550 km), epoch 2000-01-01 00:00 UTC,
    planes 5° apart in RAAN, odd planes phased by half a slot (Hypatia's starlink_550)."""
    elements = load_elements(SHIPPED_STARLINK)
    assert len(elements) == 1584
    assert elements.names[0] == "Starlink-550 0" and elements.names[-1] == "Starlink-550 1583"
    assert (elements.norad_id == np.arange(1, 1585)).all()
    assert (elements.inclination_deg == 53.0).all()
    assert (elements.mean_motion_rev_per_day == 15.19).all()
    assert (elements.epoch_utc == np.datetime64("2000-01-01T00:00", "ns")).all()
    plane = np.arange(1584) // 22
    slot = np.arange(1584) % 22
    np.testing.assert_allclose(elements.raan_deg, plane * 5.0, atol=1e-4)
    expected_anomaly = slot * 360.0 / 22 + np.where(plane % 2 == 1, 360.0 / 44, 0.0)
    np.testing.assert_allclose(elements.mean_anomaly_deg, expected_anomaly, atol=5e-5)
    # Hypatia's comment says "Altitude ~550 km", but 15.19 rev/day is a semi-major axis of
    # 6887 km (two-body, WGS72 μ), 509 km above the equatorial radius; a circular 550 km orbit
    # would be about 15.05 rev/day. Pinned so that nobody mistakes this file for 550 km.
    n_rad_s = 15.19 * 2 * math.pi / 86400
    semi_major_axis_km = (398600.8 / n_rad_s**2) ** (1 / 3)
    assert semi_major_axis_km - 6378.135 == pytest.approx(509.0, abs=0.5)
    assert elements.satrecs[0].a * 6378.135 - 6378.135 == pytest.approx(509.1, abs=0.1)


# ---------------------------------------------------------------------------------------------
# Errors: file, line, the line itself, and what was expected


def test_missing_file(tmp_path):
    error = _error(tmp_path / "nowhere.tle")
    assert str(error).startswith(f"{tmp_path / 'nowhere.tle'}: element file not found")
    assert isinstance(error, OrbitgridError) and isinstance(error, ValueError)


def test_directory_and_empty_and_binary_files(tmp_path):
    assert "is a directory" in str(_error(tmp_path))
    assert "is empty" in str(_error(_write(tmp_path, "empty.tle", "\n\n")))
    binary = tmp_path / "binary.tle"
    binary.write_bytes(b"ISS\n\xff\xfe\n")
    assert str(_error(binary)).startswith(f"{binary}, line 2: is not UTF-8 text (byte 0xff)")


def test_bad_checksum_message(tmp_path):
    bad = ISS_LINE1[:-1] + "7"
    path = _write(tmp_path, "bad.3le", f"ISS (ZARYA)\n{bad}\n{ISS_LINE2}\n")
    error = _error(path)
    assert str(error) == (
        f"{path}, line 2: TLE line 1 checksum (column 69) is 7 but the line's digits tally "
        "to 1; the line is corrupted or was edited by hand\n"
        "\n"
        "A TLE line 1 has exactly 69 columns laid out like this template (N = a digit), "
        "then your line:\n"
        "\n"
        "    1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN\n"
        f"    {bad}\n" + " " * 72 + "^"
    )
    assert (error.source, error.line_number, error.line) == (str(path), 2, bad)


def test_bad_column_message():
    bad = ISS_LINE2[:8] + " 51.6x39" + ISS_LINE2[16:]
    error = _error(f"{ISS_LINE1}\n{bad}\n", "iss.tle")
    assert str(error).startswith(
        "iss.tle, line 2: TLE line 2, columns 9–16 (inclination in degrees): expected the "
        "form 'NNN.NNNN', found ' 51.6x39'"
    )
    assert f"    {bad}\n            ^^^^^^^^" in str(error)


@pytest.mark.parametrize(
    ("text", "line_number", "expected"),
    [
        (f"{ISS_LINE1[:-1]}\n{ISS_LINE2}\n", 1, "TLE line 1 is 68 columns long; it must have "),
        (f"{ISS_LINE1}    12.0  34.5\n{ISS_LINE2}\n", 1, "TLE line 1 is 83 columns long"),
        (f"ISS\n{ISS_LINE2}\n", 2, "expected TLE line 1 after the name line 'ISS' (line 1)"),
        (f"{ISS_LINE2}\n", 1, "found TLE line 2 where a satellite name or TLE line 1"),
        (f"{ISS_LINE1}\n", 1, "the file ends after TLE line 1; expected TLE line 2 next"),
        (f"{ISS_LINE1}\nISS\n", 2, "expected TLE line 2 after the TLE line 1 on line 1"),
        ("ISS (ZARYA)\n", 1, "the file ends after this line; expected a satellite name"),
        ("72 22\nStarlink-550 0\n", 2, "expected TLE line 1 after the name line '72 22'"),
        (
            f"{ISS_LINE1}\n{fix_checksum('2 25545' + ISS_LINE2[7:])}\n",
            2,
            "TLE line 2 is for catalogue number '25545' but the line 1 above it (line 1) is "
            "for '25544'",
        ),
        (
            f"{fix_checksum(ISS_LINE1[:62] + '4' + ISS_LINE1[63:])}\n{ISS_LINE2}\n",
            1,
            "TLE line 1 column 63 gives ephemeris type 4 (SGP4-XP elements)",
        ),
        (
            f"{ISS_LINE1}\n{fix_checksum(ISS_LINE2[:8] + '181.0000' + ISS_LINE2[16:])}\n",
            2,
            "TLE line 2 inclination is 181.0 degrees; it must be within [0, 180]",
        ),
    ],
)
def test_tle_structure_errors(text, line_number, expected):
    error = _error(text, "f.tle")
    assert str(error).startswith(f"f.tle, line {line_number}: {expected}")
    assert error.line_number == line_number


@pytest.mark.parametrize(
    ("file_name", "old", "new", "expected"),
    [
        (
            "iss_zarya_omm.kvn",
            "INCLINATION = 51.6439 [deg]",
            "INCLINATION = 51.6x39 [deg]",
            "line 17: OMM record 1: INCLINATION should be a number; found '51.6x39'\n\n"
            "    INCLINATION = 51.6x39 [deg]",
        ),
        (
            "iss_zarya_omm.kvn",
            "MEAN_MOTION = 15.50103472 [rev/day]",
            "MEAN_MOTION = 15.50103472 [rad/s]",
            "line 15: OMM record 1: MEAN_MOTION is in [rad/s]; expected [rev/day]",
        ),
        (
            "iss_zarya_omm.kvn",
            "CCSDS_OMM_VERS = 2.0\n",
            "",
            "line 5: an OMM KVN message must start with 'CCSDS_OMM_VERS = <version>'",
        ),
        (
            "iss_zarya_omm.xml",
            "<EPOCH>2019-12-09T16:38:29.363424</EPOCH>",
            "<EPOCH>2019/12/09 16:38:29</EPOCH>",
            "line 21: OMM segment 1: EPOCH '2019/12/09 16:38:29' is not a CCSDS UTC time; "
            "expected YYYY-MM-DDThh:mm:ss[.ffffff] or YYYY-DDDThh:mm:ss[.ffffff]\n\n"
            "    <EPOCH>2019/12/09 16:38:29</EPOCH>",
        ),
        (
            "iss_zarya_omm.xml",
            "<BSTAR>.38792E-4</BSTAR>",
            "",
            "line 10: OMM segment 1: required field BSTAR is missing; an OMM for SGP4 needs ",
        ),
        (
            "iss_zarya_omm.xml",
            "<REF_FRAME>TEME</REF_FRAME>",
            "<REF_FRAME>GCRF</REF_FRAME>",
            "line 15: OMM segment 1: REF_FRAME is 'GCRF'; SGP4 elements need TEME",
        ),
        (
            "iss_zarya_omm.xml",
            "</MEAN_MOTION>",
            "</MEAN_MOTON>",
            "line 22: is not well-formed XML (mismatched tag at column 27); expected a CCSDS "
            "OMM XML document",
        ),
        (
            "iss_zarya_omm.json",
            '"ECCENTRICITY": 0.0007417',
            '"ECCENTRICITY": 1.5',
            'line 6: OMM record 1: ECCENTRICITY must be within [0, 1)\n\n        "ECCENTRICITY"',
        ),
        (
            "iss_zarya_omm.json",
            '"EPHEMERIS_TYPE": 0',
            '"EPHEMERIS_TYPE": 4',
            "line 11: OMM record 1: EPHEMERIS_TYPE 4 is not SGP4 (0 or 2); type 4 means SGP4-XP",
        ),
        (
            "iss_zarya_omm.json",
            '"MEAN_MOTION": 15.50103472,',
            '"MEAN_MOTION": 15.50103472',
            "line 6: is not valid JSON (Expecting ',' delimiter at column 5); expected an array",
        ),
        (
            "iss_zarya_omm.csv",
            ",0,U,25544,",
            ",0,U,25544,999,",
            "line 2: CSV row has 18 fields but the header (line 1) has 17",
        ),
    ],
)
def test_omm_errors(tmp_path, file_name, old, new, expected):
    text = (DATA / file_name).read_text()
    assert old in text
    path = _write(tmp_path, file_name, text.replace(old, new, 1))
    assert str(_error(path)).startswith(f"{path}, {expected}")


def test_extension_hint_is_mentioned_when_content_fails(tmp_path):
    path = _write(tmp_path, "catalog.json", "ISS (ZARYA)\nnot a TLE\n")
    message = str(_error(path))
    assert message.startswith(f"{path}, line 2: expected TLE line 1 after the name line")
    assert message.endswith(
        "(The file name suggests OMM JSON, but the content does not look like it, so it was "
        "read as TLE/3LE.)"
    )


@settings(max_examples=60, deadline=None, database=None)
@given(
    which=st.sampled_from([1, 2]),
    column=st.integers(min_value=2, max_value=67),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_is_caught(which, column, shift):
    """Changing one digit changes the modulo-10 checksum, so no edit to a digit goes unnoticed
    (it is reported either as a bad checksum or as a bad field)."""
    lines = [ISS_LINE1, ISS_LINE2]
    line = lines[which - 1]
    if not line[column].isdigit():
        return
    lines[which - 1] = line[:column] + str((int(line[column]) + shift) % 10) + line[column + 1 :]
    with pytest.raises(InputFileError) as info:
        parse_elements("\n".join(lines), "edited.tle")
    assert info.value.line_number in (1, 2)


def test_satellite_file_with_no_records(tmp_path):
    path = _write(tmp_path, "empty.json", "[]")
    assert str(_error(path)) == f"{path}: holds no satellites; expected OMM JSON records"


def test_omm_record_epoch_parses_exactly():
    """The OMM epoch keeps microseconds exactly (it is split, not folded into one float)."""
    elements = parse_elements(_iss_json(EPOCH="2024-02-29T23:59:59.999999"))
    assert elements.epoch_utc[0] == np.datetime64("2024-02-29T23:59:59.999999", "ns")
