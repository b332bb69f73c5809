"""Ground endpoints as arrays: inline scenario entries, CSV files and shipped lists.

CSV format (header required, ``#`` lines are comments; extra columns are ignored)::

    name,kind,latitude_deg,longitude_deg,altitude_km,jurisdiction[,min_elevation_deg,max_range_km,antennas]

``kind`` is one of ground_station, gateway, user_terminal, data_center. Empty
``min_elevation_deg``/``max_range_km`` cells take the ``gsl`` section defaults; an empty
``antennas`` cell means unlimited.

Shipped lists (``builtin:<name>`` in ``network.endpoint_files``):

- ``cities_top100``: Hypatia's 100 most populous cities (UN WUP 2018 estimates for 2025).
- ``ground_gateways``: public ground-station sites (ESA ESTRACK, NASA NEN/DSN, KSAT, others),
  coordinates rounded to about 0.01° from the operators' public pages.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from orbitgrid.constants import WGS72, EarthModel
from orbitgrid.errors import InputFileError, ScenarioError
from orbitgrid.field_paths import repeated_names
from orbitgrid.network.config import BUILTIN_ENDPOINT_FILES, Endpoint, NetworkConfig
from orbitgrid.network.geometry import geodetic_to_ecef_km, local_up_unit

_REQUIRED = ("name", "latitude_deg", "longitude_deg")


@dataclass(frozen=True, eq=False)
class EndpointTable:
    """Endpoints as ``[endpoint]`` arrays, in scenario order (inline first, then files).

    ``min_elevation_deg`` and ``max_range_km`` are resolved (defaults applied; 0 / inf mean
    no limit). ``antennas`` ``[endpoint]`` int, −1 = unlimited (None: all unlimited).
    Positions: ``ecef_km(earth)``; local vertical: ``up_unit()``.
    """

    name: np.ndarray
    kind: np.ndarray
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    altitude_km: np.ndarray
    min_elevation_deg: np.ndarray
    max_range_km: np.ndarray
    jurisdiction: np.ndarray
    antennas: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.name.shape[0])

    def index(self, name: str) -> int:
        """Position of endpoint ``name``; the error lists a few known names."""
        hits = np.flatnonzero(self.name == name)
        if hits.size == 0:
            known = ", ".join(map(str, self.name[:8]))
            more = f" … ({len(self)} in all)" if len(self) > 8 else ""
            raise ScenarioError(
                f"unknown endpoint {name!r}; known endpoints: {known}{more}", "endpoint", name
            )
        return int(hits[0])

    def ecef_km(self, earth: EarthModel = WGS72) -> np.ndarray:
        """``[endpoint, 3]`` ECEF km on ``earth`` (WGS72 by default, as SGP4 and satgenpy)."""
        return geodetic_to_ecef_km(self.latitude_deg, self.longitude_deg, self.altitude_km, earth)

    def up_unit(self) -> np.ndarray:
        return local_up_unit(self.latitude_deg, self.longitude_deg)

    def __repr__(self) -> str:
        kinds = dict(zip(*np.unique(self.kind, return_counts=True), strict=True))
        counts = ", ".join(f"{v} {k}" for k, v in kinds.items())
        return f"EndpointTable({len(self)} endpoints: {counts})"


def _read_rows(text: str, source: str) -> list[Endpoint]:
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if not ln.startswith("#")]
    lines = [(n, ln) for n, ln in lines if ln.strip()]
    if not lines:
        raise InputFileError(f"{source}: no header line; expected columns {', '.join(_REQUIRED)}")
    header_no, header = lines[0]
    reader = csv.DictReader(io.StringIO("\n".join(ln for _, ln in lines)))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InputFileError(
            f"{source}, line {header_no}: missing column(s) {', '.join(missing)}; the header "
            f"must name at least {', '.join(_REQUIRED)} (got {header!r})"
        )
    out = []
    for (line_no, line), row in zip(lines[1:], reader, strict=True):
        data = {
            "name": row["name"],
            "kind": row.get("kind") or "user_terminal",
            "latitude": row["latitude_deg"],
            "longitude": row["longitude_deg"],
            "altitude": row.get("altitude_km") or 0.0,
            "jurisdiction": row.get("jurisdiction") or None,
            "min_elevation": row.get("min_elevation_deg") or None,
            "max_range": row.get("max_range_km") or None,
            "antennas": row.get("antennas") or None,
        }
        for key in ("latitude", "longitude", "altitude", "min_elevation", "max_range"):
            if isinstance(data[key], str):
                try:
                    data[key] = float(data[key])
                except ValueError:
                    raise InputFileError(
                        f"{source}, line {line_no}: column {key} is not a number: {line!r}"
                    ) from None
        try:
            out.append(Endpoint.model_validate(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(map(str, err["loc"]))
            raise InputFileError(
                f"{source}, line {line_no}: {field}: {err['msg']} (got {err.get('input')!r}) "
                f"in {line!r}"
            ) from None
    return out


def read_endpoints_csv(path: str | Path) -> list[Endpoint]:
    """Endpoints from a CSV file (format in the module docstring); errors name file and line."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"endpoint file {str(p)!r} does not exist")
    return _read_rows(p.read_text("utf-8"), str(p))


def builtin_endpoints(name: str) -> list[Endpoint]:
    """A shipped endpoint list by name (``cities_top100``, ``ground_gateways``)."""
    if name not in BUILTIN_ENDPOINT_FILES:
        raise ScenarioError(
            f"unknown built-in endpoint list {name!r}; available: "
            f"{', '.join(BUILTIN_ENDPOINT_FILES)}",
            "network.endpoint_files",
            name,
        )
    text = resources.files("orbitgrid.data").joinpath(BUILTIN_ENDPOINT_FILES[name])
    return _read_rows(text.read_text("utf-8"), f"builtin:{name}")


def resolve_endpoints(config: NetworkConfig, base_dir: str | Path = ".") -> EndpointTable:
    """All endpoints of the ``network`` section as one table; defaults from ``config.gsl``.

    Inline endpoints come first, then each file in order. Names must be unique across all.
    """
    items: list[Endpoint] = list(config.endpoints)
    for f in config.endpoint_files:
        if f.startswith("builtin:"):
            items += builtin_endpoints(f[8:])
        else:
            items += read_endpoints_csv(Path(base_dir) / f)
    names = [e.name for e in items]
    dupes = repeated_names(names)
    if dupes:
        raise ScenarioError(
            f"endpoint names must be unique across inline entries and files; repeated: "
            f"{', '.join(dupes[:10])}",
            "network.endpoints",
            dupes,
        )
    if not items:
        raise ScenarioError(
            "the network section has no endpoints; add network.endpoints or "
            "network.endpoint_files (e.g. builtin:cities_top100)",
            "network.endpoints",
            [],
        )
    gsl = config.gsl

    def limits(e: Endpoint) -> tuple[float, float]:
        if e.min_elevation_deg is None and e.max_range_km is None:
            el, rng = gsl.min_elevation_deg, gsl.max_range_km
        else:
            el, rng = e.min_elevation_deg, e.max_range_km
        return (0.0 if el is None else el, np.inf if rng is None else rng)

    lim = np.array([limits(e) for e in items], dtype=np.float64).reshape(-1, 2)
    return EndpointTable(
        name=np.array(names, dtype=object),
        kind=np.array([e.kind for e in items], dtype=object),
        latitude_deg=np.array([e.latitude_deg for e in items]),
        longitude_deg=np.array([e.longitude_deg for e in items]),
        altitude_km=np.array([e.altitude_km for e in items]),
        min_elevation_deg=lim[:, 0],
        max_range_km=lim[:, 1],
        jurisdiction=np.array([e.jurisdiction or "" for e in items], dtype=object),
        antennas=np.array([-1 if e.antennas is None else e.antennas for e in items], np.int64),
    )
