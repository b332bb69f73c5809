"""A sweep's sensitivity in words: labels with units, what drives each output, why one is NaN.

The sweep report and ``orbitgrid sweep`` read the same two long tables (``sobol.csv``,
``tornado.csv``, see ``sensitivity.py``) and say the same things with the functions here:

- ``output_label`` / ``parameter_label``: a dotted path as a reader would name it, with its
  unit ("orbit cost per GPU-hour, shell cluster (USD/GPU-h)"); the unit comes from the name's
  suffix (units live in names, ``cost_usd``), from the sweep file, or from the assumption
  table for ``economics.overrides.<key>``.
- ``drivers``: per output, the inputs that drive it. From the Sobol' total index ST when the
  sweep has one (each input whose ST is at least ``DRIVER_SHARE`` of the variance, the largest
  always), else from the tornado swing (each input whose swing is at least ``DRIVER_SHARE`` of
  the largest). ST rather than S1 because it counts interactions too: an input with a small S1
  and a large ST still drives the output.
- ``why_undefined``: the reason in words when an output has no index or no swing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

DRIVER_SHARE = 0.1
"""An input "drives" an output when its ST (or its swing relative to the largest) reaches this."""
MAX_DRIVERS = 3
"""At most this many inputs are named per output; the tables hold every one."""

# Figures of summary.json whose name alone would read poorly: (label, unit).
_KNOWN: dict[str, tuple[str, str]] = {
    "cost_per_gpu_hour_usd": ("cost per GPU-hour", "USD/GPU-h"),
    "cost_per_pflop_day_usd": ("cost per PFLOP-day", "USD/PFLOP-day"),
    "cost_per_million_tokens_usd": ("cost per million tokens", "USD/Mtok"),
    "cost_per_million_output_tokens_usd": ("cost per million output tokens", "USD/Mtok"),
    "cost_ratio": ("orbit/Earth cost ratio", "×"),
    "break_even_launch_cost_usd_per_kg": ("break-even launch price", "USD/kg"),
    "delivered_compute_fraction": ("delivered share of installed compute", "0–1"),
    "sunlit_fraction": ("sunlit fraction", "0–1"),
    "state_of_charge_min": ("lowest battery state of charge", "0–1"),
    "state_of_charge_mean": ("mean battery state of charge", "0–1"),
    "temperature_max_c": ("highest temperature", "°C"),
    "eclipse_minutes_per_orbit": ("eclipse per orbit", "min"),
    "hours_limited_by_energy_per_satellite": ("hours limited by energy per satellite", "h"),
    "hours_limited_by_heat_per_satellite": ("hours limited by heat per satellite", "h"),
    "reachability": ("reachability", "0–1"),
    "pue": ("PUE", "1"),
    "electricity_usd_per_kwh": ("electricity price", "USD/kWh"),
}

# Unit suffixes of names (longest first), as the project writes them.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_kg", "USD/kg"),
    ("_usd_per_kwh", "USD/kWh"),
    ("_usd_per_wh", "USD/Wh"),
    ("_usd_per_w", "USD/W"),
    ("_usd_per_m2", "USD/m2"),
    ("_usd_per_m3", "USD/m3"),
    ("_usd_per_mw", "USD/MW"),
    ("_usd_per_year", "USD/yr"),
    ("_usd_per_satellite", "USD"),
    ("_kg_per_m2", "kg/m2"),
    ("_w_per_m2", "W/m2"),
    ("_w_per_kg", "W/kg"),
    ("_wh_per_kg", "Wh/kg"),
    ("_kg_per_satellite", "kg"),
    ("_kg_per_accelerator", "kg"),
    ("_m_per_s_per_year", "m/s/yr"),
    ("_m_per_s", "m/s"),
    ("_l_per_kwh", "L/kWh"),
    ("_per_year", "1/yr"),
    ("_years", "yr"),
    ("_fraction", "0–1"),
    ("_usd", "USD"),
    ("_pflops", "PFLOPS"),
    ("_tflops", "TFLOPS"),
    ("_mbps", "Mbit/s"),
    ("_bps", "bit/s"),
    ("_kg", "kg"),
    ("_km", "km"),
    ("_ms", "ms"),
    ("_mw", "MW"),
    ("_kw", "kW"),
    ("_wh", "Wh"),
    ("_w", "W"),
    ("_c", "°C"),
    ("_k", "K"),
    ("_s", "s"),
    ("_h", "h"),
)
_SIDES = {"orbital": "orbit", "terrestrial": "Earth"}


def _split_unit(name: str) -> tuple[str, str]:
    """``"fleet_launch_mass_kg"`` → ``("fleet launch mass", "kg")``; no suffix → unit ''."""
    if name in _KNOWN:
        return _KNOWN[name]
    for suffix, unit in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].replace("_", " "), unit
    # A unit in the middle of a name ("rtt_p50_ms" is caught above; "accelerator_cost_usd_b200").
    for suffix, unit in _SUFFIXES:
        marker = suffix + "_"
        if marker in name:
            head, tail = name.split(marker, 1)
            return f"{head} {tail}".replace("_", " "), unit
    return name.replace("_", " "), ""


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("[", ".[").split(".") if p]


def output_label(path: str) -> str:
    """A summary figure's dotted path as words with its unit in parentheses.

    ``economics.shells.cluster.orbital.cost_per_gpu_hour_usd`` → "orbit cost per GPU-hour,
    shell cluster (USD/GPU-h)"; ``total.temperature_max_c`` → "highest temperature (°C)".
    A name without a unit suffix keeps "(as in summary.json)", so the axis still says where
    its unit is found.
    """
    parts = _parts(path)
    leaf = parts[-1]
    qualifiers = []
    if "shells" in parts[:-1]:
        index = parts.index("shells")
        if index + 1 < len(parts) - 1:
            qualifiers.append(f"shell {parts[index + 1]}")
    side = next((_SIDES[p] for p in parts[:-1] if p in _SIDES), "")
    if len(parts) >= 2 and parts[-2] == "waterfall_usd":
        label, unit = f"{leaf.replace('_', ' ')} cost (present value)", "USD"
    else:
        label, unit = _split_unit(leaf)
    if side:
        label = f"{side} {label}"
    if qualifiers:
        label = f"{label}, {', '.join(qualifiers)}"
    return _with_unit(label, unit or "as in summary.json")


def output_unit(path: str) -> str:
    """The unit ``output_label`` gives ``path`` ('' when the name carries none)."""
    parts = _parts(path)
    if len(parts) >= 2 and parts[-2] == "waterfall_usd":
        return "USD"
    return _split_unit(parts[-1])[1]


@lru_cache(maxsize=1)
def _assumption_units() -> dict[str, str]:
    from orbitgrid.economics.assumptions import load_assumptions

    return {key: row.unit for key, row in load_assumptions().rows.items()}


def parameter_unit(path: str, unit: str = "") -> str:
    """A swept field's unit: as written in the sweep file, else the assumption table's."""
    if unit:
        return unit
    parts = _parts(path)
    if parts[:2] == ["economics", "overrides"] and len(parts) == 3:
        table_unit = _assumption_units().get(parts[2], "")
        return "" if table_unit == "1" else table_unit
    return ""


def parameter_label(path: str, unit: str = "", with_unit: bool = True) -> str:
    """A swept field's dotted path as words with its unit in parentheses.

    ``economics.overrides.launch_cost_usd_per_kg`` → "launch cost (USD/kg)";
    ``spacecraft.compute-node.radiator.area`` with unit ``m2`` → "compute-node radiator area
    (m2)"; ``constellation[0].altitude`` → "shell 0 altitude (km)".
    """
    parts = _parts(path)
    unit = parameter_unit(path, unit) if with_unit else ""
    if parts[:2] == ["economics", "overrides"] and len(parts) == 3:
        label, _ = _split_unit(parts[2])
        return _with_unit(label, unit)
    if parts == ["economics", "mission"]:
        return _with_unit("mission length", unit)
    words = []
    if parts[0] == "spacecraft" and len(parts) > 2:
        words.append(parts[1])
        parts = parts[2:]
    if parts[0] == "constellation" and len(parts) > 2 and parts[1].startswith("["):
        words.append(f"shell {parts[1].strip('[]')}")
        parts = parts[2:]
    named = [p for p in parts if not p.startswith("[")]
    words += [p.replace("_", " ") for p in named[-2:]]
    return _with_unit(" ".join(words), unit)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def finite_mask(values: pd.Series) -> np.ndarray:
    """A boolean array: which values are finite numbers (text and None count as not)."""
    return np.isfinite(np.array([_number(v) for v in values], dtype=float))


def format_value(value: float) -> str:
    """A figure with four significant digits (thousands in full: 50,000); NaN as "no value"."""
    if not math.isfinite(value):
        return "no value"
    if 1e3 <= abs(value) < 1e9:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def missing_hint(output: str) -> str:
    """Why ``output`` may have no value at a point, in words (for NaN explanations)."""
    if _parts(output)[-1] == "break_even_launch_cost_usd_per_kg":
        return (
            "the break-even launch price does not exist where orbit costs more than Earth "
            "even with free launch"
        )
    return "a failed or invalid point, or a figure that is infinite or undefined there"


def missing_reason(output: str, missing: int, points: int, what: str = "design points") -> str:
    """ "no value at k of N points (hint)", the wording shared by the report and the CLI."""
    count = f"any of the {points}" if missing == points else f"{missing} of the {points}"
    return f"no value at {count} {what} ({missing_hint(output)})"


@dataclass(frozen=True)
class Drivers:
    """What drives one output: its label, the inputs named (with their figure), the method.

    ``method`` is ``"sobol"``, ``"tornado"`` or ``""`` (nothing could be said: ``reason``).
    """

    output: str
    label: str
    method: str
    inputs: tuple[tuple[str, float], ...]
    others: int
    reason: str = ""

    def sentence(self) -> str:
        """One sentence naming the inputs that drive the output (or why none can be named)."""
        if not self.method:
            return f"{_capital(self.label)}: {self.reason}."
        if self.method == "sobol":
            named = [f"{name} (ST {value:.2f})" for name, value in self.inputs]
            others = "the other input" if self.others == 1 else f"each of the other {self.others}"
            rest = (
                f"; {others} explains less than {DRIVER_SHARE:.0%} of its variance"
                if self.others
                else ""
            )
            return f"{_capital(self.label)} is driven by {_join(named)}{rest}."
        if not self.inputs:
            return f"{_capital(self.label)} does not change with any input over its range."
        unit = output_unit(self.output)
        named = [
            f"{name} (swing {format_value(value)}{f' {unit}' if unit else ''})"
            for name, value in self.inputs
        ]
        others = "the other input moves" if self.others == 1 else f"the other {self.others} move"
        rest = f"; {others} it less than {DRIVER_SHARE:.0%} as much" if self.others else ""
        return (
            f"{_capital(self.label)} moves most with {_join(named)}{rest} "
            "(one at a time, low to high)."
        )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _sobol_drivers(output: str, rows: pd.DataFrame) -> Drivers | None:
    st = rows["ST"].map(_number)
    if not finite_mask(st).any():
        return None
    ranked = rows.assign(rank_st=st).sort_values("rank_st", ascending=False)
    ranked = ranked[finite_mask(ranked["rank_st"])]
    chosen = [r for i, r in enumerate(ranked.itertuples()) if i == 0 or r.rank_st >= DRIVER_SHARE]
    chosen = chosen[:MAX_DRIVERS]
    inputs = tuple((_plain_label(r.parameter), float(r.rank_st)) for r in chosen)
    return Drivers(output, output_label(output), "sobol", inputs, len(rows) - len(inputs))


def _plain_label(path: str) -> str:
    return parameter_label(path, with_unit=False)


def _unit(row: object) -> str:
    unit = getattr(row, "unit", "")
    return unit if isinstance(unit, str) else ""


def _tornado_drivers(output: str, rows: pd.DataFrame) -> Drivers | None:
    swing = rows["swing"].map(_number)
    finite = rows.assign(rank_swing=swing)[finite_mask(swing)]
    if finite.empty:
        return None
    finite = finite.sort_values("rank_swing", ascending=False)
    largest = float(finite["rank_swing"].iloc[0])
    if largest == 0:
        return Drivers(output, output_label(output), "tornado", (), len(rows))
    chosen = [r for r in finite.itertuples() if r.rank_swing >= DRIVER_SHARE * largest]
    chosen = chosen[:MAX_DRIVERS]
    inputs = tuple((_plain_label(r.parameter), float(r.rank_swing)) for r in chosen)
    return Drivers(output, output_label(output), "tornado", inputs, len(rows) - len(inputs))


def tornado_reason(row: dict | pd.Series) -> str:
    """Why a tornado row has no swing, in words ('' when it has one)."""
    missing = [
        where
        for where, key in (
            ("base", "base_output"),
            ("low", "output_at_low"),
            ("high", "output_at_high"),
        )
        if not math.isfinite(_number(row.get(key)))
    ]
    if not missing:
        return ""
    return missing_reason(str(row.get("output", "")), len(missing), 3, "points (base, low, high)")


def drivers(sobol: pd.DataFrame | None, tornado: pd.DataFrame | None) -> list[Drivers]:
    """Per output (in table order), the inputs that drive it; see the module docstring."""
    outputs: list[str] = []
    for table in (sobol, tornado):
        if table is not None and not table.empty:
            outputs += [o for o in table["output"].drop_duplicates() if o not in outputs]
    found = []
    for output in outputs:
        result = None
        reasons = []
        if sobol is not None and not sobol.empty:
            rows = sobol[sobol["output"] == output]
            if not rows.empty:
                result = _sobol_drivers(output, rows)
                if result is None:
                    reasons.append(_note(rows) or "its Sobol' indices are NaN")
        if result is None and tornado is not None and not tornado.empty:
            rows = tornado[tornado["output"] == output]
            if not rows.empty:
                result = _tornado_drivers(output, rows)
                if result is None:
                    reasons.append(tornado_reason(rows.iloc[0]))
        if result is None:
            # One reason is enough: both tables miss the output for the same cause.
            reason = f"no input can be ranked: {reasons[0]}" if reasons else "no rows"
            result = Drivers(output, output_label(output), "", (), 0, reason)
        found.append(result)
    return found


def sensitivity_text(
    sobol: pd.DataFrame | None, tornado: pd.DataFrame | None, top: int = MAX_DRIVERS
) -> str:
    """The CLI's view: one sentence per output, then the top ``top`` rows of each table."""
    lines = ["what drives each output:"]
    lines += [f"  {d.sentence()}" for d in drivers(sobol, tornado)]
    if sobol is not None and not sobol.empty:
        lines.append(f"Sobol' indices, top {top} per output by ST (every row in sobol.csv):")
        width = _width(sobol, with_unit=True)
        lines.append(f"    {'parameter':<{width}}  {'S1':>6}  {'ST':>6}  {'ST ±':>6}")
        for output, rows in sobol.groupby("output", sort=False):
            lines.append(f"  {output_label(output)}")
            ranked = rows.assign(rank_st=rows["ST"].map(_number)).sort_values(
                "rank_st", ascending=False, na_position="last"
            )
            if not finite_mask(ranked["rank_st"]).any():
                lines.append(f"    NaN: {_note(ranked) or 'not estimated'}")
                continue
            for r in ranked.head(top).itertuples():
                lines.append(
                    f"    {parameter_label(r.parameter, _unit(r)):<{width}}  {_fixed(r.S1)}  "
                    f"{_fixed(r.ST)}  {_fixed(r.ST_conf)}"
                )
    if tornado is not None and not tornado.empty:
        lines.append(
            f"tornado, top {top} per output by swing, one parameter at a time "
            "(every row in tornado.csv):"
        )
        width = _width(tornado, with_unit=False)
        for output, rows in tornado.groupby("output", sort=False):
            base = _number(rows["base_output"].iloc[0])
            lines.append(f"  {output_label(output)}, base {format_value(base)}")
            if not finite_mask(rows["swing"]).any():
                lines.append(f"    no swing: {tornado_reason(rows.iloc[0])}")
                continue
            for r in rows.head(top).itertuples():
                row = r._asdict()
                reason = tornado_reason(row)
                unit = parameter_unit(r.parameter, _unit(r))
                span = _arrow(r.low_value, r.high_value)
                swing = format_value(_number(r.swing))
                figure = (
                    f"{_arrow(r.output_at_low, r.output_at_high)}, swing {swing}"
                    if not reason
                    else reason
                )
                name = parameter_label(r.parameter, with_unit=False)
                lines.append(f"    {name:<{width}}  {span} {unit}: {figure}".rstrip())
    return "\n".join(lines)


def _arrow(low: object, high: object) -> str:
    return f"{format_value(_number(low))} → {format_value(_number(high))}"


def _note(rows: pd.DataFrame) -> str:
    """The ``note`` of an output's Sobol' rows ('' when absent: a table from before notes)."""
    if "note" not in rows:
        return ""
    notes = [n for n in rows["note"] if isinstance(n, str) and n]
    return notes[0] if notes else ""


def _width(table: pd.DataFrame, with_unit: bool) -> int:
    pairs = table[["parameter", "unit"]].drop_duplicates() if "unit" in table else table
    labels = [
        parameter_label(r.parameter, _unit(r), with_unit=with_unit) for r in pairs.itertuples()
    ]
    return min(48, max((len(x) for x in labels), default=9))


def _fixed(value: object) -> str:
    number = _number(value)
    return f"{number:6.3f}" if math.isfinite(number) else f"{'NaN':>6}"
