"""Quantity parsing at the edges: every accepted spelling, and errors that list the units."""

import math

import pytest

from orbitgrid.units import parse_quantity, parse_temperature_k


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("550 km", "length_km", 550.0),
        ("550000 m", "length_km", 550.0),
        (550, "length_km", 550.0),
        ("1 d", "duration_s", 86400.0),
        ("10 s", "duration_s", 10.0),
        ("2.5 min", "duration_s", 150.0),
        ("1 yr", "duration_s", 365.25 * 86400.0),
        ("53 deg", "angle_deg", 53.0),
        (f"{math.pi} rad", "angle_deg", 180.0),
        ("40 MW", "power_w", 40e6),
        ("5 kWh", "energy_wh", 5000.0),
        ("3.6 MJ", "energy_wh", 1000.0),
        ("30 %", "fraction", 0.30),
        ("0.5 %/yr", "fraction_per_year", 0.005),
        ("1e3 kg", "mass_kg", 1000.0),
    ],
)
def test_accepted_spellings(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


def test_unknown_unit_lists_allowed_units():
    with pytest.raises(
        ValueError, match=r"unknown unit 'kn' in '550 kn'; allowed units are 'm', 'km'"
    ):
        parse_quantity("550 kn", "length_km")


@pytest.mark.parametrize("bad", ["fast", "", "nan km", True, None, [1]])
def test_unreadable_values_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_quantity(bad, "length_km")


def test_temperatures():
    assert parse_temperature_k("85 C") == pytest.approx(358.15)
    assert parse_temperature_k("300 K") == 300.0
    assert parse_temperature_k(300) == 300.0
    with pytest.raises(ValueError, match="absolute zero"):
        parse_temperature_k("-300 C")
    with pytest.raises(ValueError, match="85 C"):
        parse_temperature_k("85 F")
