"""SGP4/SDP4 propagation of element sets to TEME positions and velocities, vectorised.

The model is SGP4 with its deep-space extension SDP4 (chosen per satellite for periods of
225 min or more), WGS72 constants and the improved operation mode, as specified by Vallado,
Crawford, Hujsak and Kelso, "Revisiting Spacetrack Report #3", AIAA 2006-6753. Output is in
the TEME frame (True Equator, Mean Equinox of date, AIAA 2006-6753 Appendix C); TLE/OMM epochs
and the requested times are UTC. SGP4 itself is only as good as its mean elements: about 1 km
at epoch for a fresh TLE, growing by a few km per day (Vallado & Crawford, "SGP4 Orbit
Determination", AIAA 2008-6770).

Two interchangeable backends compute the same model:

- ``"python-sgp4"``: ``sgp4.api.SatrecArray.sgp4`` (Brandon Rhodes' wrapper of Vallado's C++
  code), the reference. It reproduces Vallado's ``tcppver.out`` within 0.2 mm (mostly within
  its printed 10 µm).
- ``"astroz"``: astroz's SIMD SGP4 batches (``Sgp4Constellation``) for near-earth satellites and
  its threaded SDP4 for deep-space ones. It uses fast vectorised trigonometry, so it agrees
  with the reference to about 1e-8 of the orbit radius: ≤ 0.1 m in LEO, ≤ 1.3 m for high
  orbits, 8.7 m for one e = 0.995 verification case (``tests/orbits/test_sgp4.py``), far
  below SGP4's own error. Error codes are python-sgp4's: astroz only returns NaN, so the
  failed entries are recomputed with python-sgp4.
- ``"auto"``: astroz when it imports and passes a quick self-check against python-sgp4, else
  python-sgp4.

astroz is only ever given numbers (records built with ``sgp4init`` from the same mean elements
python-sgp4 uses), never a name, a path or text: its high-level loaders fetch CelesTrak groups
or URLs for strings they do not recognise, and this module never calls them.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sgp4.api import SGP4_ERRORS, SatrecArray

from orbitgrid.orbits.elements import (
    ElementSet,
    _sgp4init_elements,
    _sgp4init_epoch_days,
    parse_elements,
)
from orbitgrid.orbits.timescale import julian_date_split

__all__ = [
    "BACKENDS",
    "SGP4_ERROR_MESSAGES",
    "Sgp4Backend",
    "propagate_teme",
    "resolve_backend",
]

Sgp4Backend = Literal["auto", "astroz", "python-sgp4"]
BACKENDS: tuple[str, ...] = ("auto", "astroz", "python-sgp4")

# Status code -> sentence, as python-sgp4's SGP4_ERRORS; 0 added for completeness.
SGP4_ERROR_MESSAGES: dict[int, str] = {0: "propagation succeeded", **SGP4_ERRORS}

_NS_PER_MINUTE = 60_000_000_000
_MINUTES_PER_DAY = 1440.0


def propagate_teme(
    elements: ElementSet, times_utc: np.ndarray, backend: Sgp4Backend = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Propagate every satellite to every time with SGP4/SDP4; TEME position and velocity.

    Model: SGP4/SDP4 with WGS72 constants, improved mode (Vallado et al. 2006, AIAA 2006-6753);
    frame: TEME of date; time scale: UTC, as for TLE epochs (AIAA 2006-6753 Appendix C).
    Times are converted to split Julian dates (whole + fraction) so that no precision is lost
    before the per-satellite time since epoch is formed.

    Parameters
    ----------
    elements : ElementSet
        Satellites, from ``orbitgrid.orbits.elements.load_elements``.
    times_utc : ndarray of datetime64, shape [time]
        UTC instants (any datetime64 unit; converted to ns).
    backend : {"auto", "astroz", "python-sgp4"}
        Implementation; see the module docstring for their agreement.

    Returns
    -------
    position_km : ndarray[float64], shape [time, satellite, 3]
        TEME position, km.
    velocity_km_s : ndarray[float64], shape [time, satellite, 3]
        TEME velocity, km/s.
    error_code : ndarray[int8], shape [time, satellite]
        0 where propagation succeeded, else the SGP4 error code (``SGP4_ERROR_MESSAGES``
        maps it to a sentence); position and velocity are NaN there. Code 6 (decayed) is
        NaN too, although python-sgp4 itself still returns a position for it.

    Notes
    -----
    Memory is 48 bytes per satellite-step for the two outputs (27 MB for 1,584 satellites ×
    360 steps); long runs call this per time chunk. Accuracy is that of SGP4 itself (km);
    the backends agree to ~1e-8 of the orbit radius (``tests/orbits/test_sgp4.py``). The
    first call for an ElementSet also builds and caches the backend's records (~10 ms per
    1,000 satellites).

    Raises
    ------
    TypeError
        ``times_utc`` is not datetime64.
    ValueError
        ``times_utc`` is not one-dimensional or holds NaT, or ``backend`` is unknown.
    RuntimeError
        ``backend="astroz"`` was asked for but astroz is not usable here.
    """
    times_ns = _times_ns(times_utc)
    chosen = resolve_backend(backend)
    shape = (times_ns.size, len(elements), 3)
    if times_ns.size == 0 or len(elements) == 0:
        return np.empty(shape), np.empty(shape), np.zeros(shape[:2], dtype=np.int8)
    jd_whole, jd_fraction = julian_date_split(times_ns.astype("datetime64[ns]"))
    prepared = _prepared(elements)
    with prepared.lock:  # the records carry per-call state; one propagation at a time
        if chosen == "astroz":
            return _propagate_astroz(prepared, elements, times_ns, jd_whole, jd_fraction)
        return _propagate_python_sgp4(prepared.satrec_array(), jd_whole, jd_fraction)


def resolve_backend(backend: Sgp4Backend = "auto") -> Literal["astroz", "python-sgp4"]:
    """The backend ``propagate_teme`` will use for ``backend`` (resolves ``"auto"``).

    Raises ValueError for an unknown name and RuntimeError when ``"astroz"`` is requested but
    unusable (not installed, or failing its self-check against python-sgp4).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown SGP4 backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "python-sgp4":
        return "python-sgp4"
    problem = _astroz_problem()
    if problem is None:
        return "astroz"
    if backend == "astroz":
        raise RuntimeError(f"SGP4 backend 'astroz' is not usable: {problem}")
    return "python-sgp4"


# ---------------------------------------------------------------------------------------------
# Shared


def _times_ns(times_utc: np.ndarray) -> np.ndarray:
    """Validate the time axis; int64 nanoseconds since 1970 UTC."""
    times = np.asarray(times_utc)
    if times.dtype.kind != "M":
        raise TypeError(
            f"times_utc must be a datetime64 array (UTC); got dtype {times.dtype}. "
            "Build it with np.array([...], dtype='datetime64[ns]')."
        )
    if times.ndim != 1:
        raise ValueError(f"times_utc must be one-dimensional; got shape {times.shape}")
    if np.isnat(times).any():
        raise ValueError(f"times_utc holds NaT at index {int(np.flatnonzero(np.isnat(times))[0])}")
    return times.astype("datetime64[ns]").astype(np.int64)


@dataclass(eq=False)
class _Prepared:
    """Per-ElementSet work done once: python-sgp4 arrays and astroz records."""

    satrecs: tuple
    lock: threading.Lock = field(default_factory=threading.Lock)
    _satrec_array: SatrecArray | None = None
    _astroz: _AstrozBatches | None = None

    def satrec_array(self) -> SatrecArray:
        if self._satrec_array is None:
            self._satrec_array = SatrecArray(list(self.satrecs))
        return self._satrec_array

    def astroz(self) -> _AstrozBatches:
        if self._astroz is None:
            self._astroz = _AstrozBatches.build(self.satrecs)
        return self._astroz


_PREPARED: weakref.WeakKeyDictionary[ElementSet, _Prepared] = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()


def _prepared(elements: ElementSet) -> _Prepared:
    with _PREPARED_LOCK:
        prepared = _PREPARED.get(elements)
        if prepared is None:
            prepared = _PREPARED[elements] = _Prepared(elements.satrecs)
        return prepared


def _nan_failures(
    position_km: np.ndarray, velocity_km_s: np.ndarray, error_code: np.ndarray
) -> None:
    failed = error_code != 0
    position_km[failed] = np.nan
    velocity_km_s[failed] = np.nan


# ---------------------------------------------------------------------------------------------
# python-sgp4


def _propagate_python_sgp4(
    satrec_array: SatrecArray, jd_whole: np.ndarray, jd_fraction: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    error, position, velocity = satrec_array.sgp4(jd_whole, jd_fraction)
    # python-sgp4 returns [satellite, time, ...]; the engine's axis order is [time, satellite].
    position_km = np.ascontiguousarray(position.transpose(1, 0, 2))
    velocity_km_s = np.ascontiguousarray(velocity.transpose(1, 0, 2))
    error_code = np.ascontiguousarray(error.T).astype(np.int8)
    _nan_failures(position_km, velocity_km_s, error_code)
    return position_km, velocity_km_s, error_code


# ---------------------------------------------------------------------------------------------
# astroz


@dataclass(eq=False)
class _AstrozBatches:
    """astroz records split as astroz runs them: SIMD SGP4, threaded SDP4, rejected at init."""

    near_index: np.ndarray  # satellites in the SIMD SGP4 batch, in batch order
    near_epoch_jd: tuple[np.ndarray, np.ndarray]  # their split epochs, from python-sgp4
    constellation: object | None  # astroz Sgp4Constellation
    deep_index: np.ndarray
    deep_records: list
    all_near: bool

    @classmethod
    def build(cls, satrecs: tuple) -> _AstrozBatches:
        from astroz import _astroz

        records = []
        for satrec in satrecs:
            record = _astroz.Satrec()
            # Same mean elements and epoch as the python-sgp4 record, so both backends start
            # from identical numbers whatever the file format was (no TLE text re-rounding,
            # no 5-digit catalogue-number limit).
            record.sgp4init(
                _astroz.WGS72,
                "i",
                satrec.satnum,
                _sgp4init_epoch_days(satrec.jdsatepoch, satrec.jdsatepochF),
                *_sgp4init_elements(satrec),
            )
            records.append(record)
        deep = np.array([r.is_deep_space for r in records], dtype=bool)
        near = ~deep & np.array([r.error == 0 for r in records], dtype=bool)
        near_index = np.flatnonzero(near)
        deep_index = np.flatnonzero(deep)
        constellation = None
        if near_index.size:
            # gravity_model must be given: Sgp4Constellation defaults to WGS84, which moves
            # LEO positions by tens of metres from the WGS72 that SGP4 is defined with.
            constellation = _astroz.Sgp4Constellation(
                [records[i] for i in near_index], gravity_model=_astroz.WGS72
            )
        return cls(
            near_index=near_index,
            near_epoch_jd=(
                np.array([satrecs[i].jdsatepoch for i in near_index]),
                np.array([satrecs[i].jdsatepochF for i in near_index]),
            ),
            constellation=constellation,
            deep_index=deep_index,
            deep_records=[records[i] for i in deep_index],
            all_near=near_index.size == len(records),
        )


def _propagate_astroz(
    prepared: _Prepared,
    elements: ElementSet,
    times_ns: np.ndarray,
    jd_whole: np.ndarray,
    jd_fraction: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from astroz import _astroz

    batches = prepared.astroz()
    n_times, n_sats = times_ns.size, len(elements)
    position_km = np.empty((n_times, n_sats, 3))
    velocity_km_s = np.empty((n_times, n_sats, 3))
    if not batches.all_near:
        position_km.fill(np.nan)  # satellites rejected at init stay NaN; coded below
        velocity_km_s.fill(np.nan)

    if batches.constellation is not None:
        # astroz evaluates tsince = minutes[t] + epoch_offset[s]. Both parts are formed here
        # from exact integers and split Julian dates: astroz.propagate's own start_time path
        # folds the Julian date into one float (±20 µs, ±0.15 m along-track in LEO).
        minutes = (times_ns - times_ns[0]) / _NS_PER_MINUTE
        epoch_whole, epoch_fraction = batches.near_epoch_jd
        epoch_offset_min = (
            (jd_whole[0] - epoch_whole) + (jd_fraction[0] - epoch_fraction)
        ) * _MINUTES_PER_DAY
        if batches.all_near:
            out_position, out_velocity = position_km, velocity_km_s
        else:
            out_position = np.empty((n_times, batches.near_index.size, 3))
            out_velocity = np.empty_like(out_position)
        batches.constellation.propagate_into(
            minutes,
            out_position,
            out_velocity,
            epoch_offsets=epoch_offset_min,
            output="teme",
            time_major=True,
        )
        if not batches.all_near:
            position_km[:, batches.near_index] = out_position
            velocity_km_s[:, batches.near_index] = out_velocity

    if batches.deep_index.size:
        shape = (batches.deep_index.size, n_times, 3)
        deep_position, deep_velocity = np.empty(shape), np.empty(shape)
        # SDP4 takes the split Julian dates directly, so no precision is lost here.
        _astroz.sdp4_batch_propagate_into(
            batches.deep_records,
            np.ascontiguousarray(jd_whole),
            np.ascontiguousarray(jd_fraction),
            deep_position,
            deep_velocity,
        )
        position_km[:, batches.deep_index] = deep_position.transpose(1, 0, 2)
        velocity_km_s[:, batches.deep_index] = deep_velocity.transpose(1, 0, 2)

    error_code = np.zeros((n_times, n_sats), dtype=np.int8)
    failed = np.isnan(position_km[..., 0])
    if failed.any():
        _code_failures(
            prepared, failed, jd_whole, jd_fraction, position_km, velocity_km_s, error_code
        )
    return position_km, velocity_km_s, error_code


def _code_failures(
    prepared: _Prepared,
    failed: np.ndarray,
    jd_whole: np.ndarray,
    jd_fraction: np.ndarray,
    position_km: np.ndarray,
    velocity_km_s: np.ndarray,
    error_code: np.ndarray,
) -> None:
    """Give astroz's NaN entries python-sgp4's error code (astroz only returns NaN).

    Only the block of satellites × times that has a failure is recomputed, in one vectorised
    python-sgp4 call; entries where the reference succeeds take its state.
    """
    time_rows = np.flatnonzero(failed.any(axis=1))
    sat_cols = np.flatnonzero(failed.any(axis=0))
    subset = SatrecArray([prepared.satrecs[i] for i in sat_cols])
    error, position, velocity = subset.sgp4(jd_whole[time_rows], jd_fraction[time_rows])
    row, col = np.nonzero(failed[np.ix_(time_rows, sat_cols)])
    t, s = time_rows[row], sat_cols[col]
    error_code[t, s] = error[col, row]
    position_km[t, s] = position[col, row]
    velocity_km_s[t, s] = velocity[col, row]
    _nan_failures(position_km, velocity_km_s, error_code)


# A near-earth and a deep-space satellite for the self-check: ISS (python-sgp4 2.27 README)
# and MOLNIYA 2-14 (Vallado's SGP4-VER.TLE).
_SELF_CHECK_TLE = """\
1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991
2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482
1 08195U 75081A   06176.33215444  .00000099  00000-0  11873-3 0   813
2 08195  64.1586 279.0717 6877146 264.7651  20.2257  2.00491383225656
"""
# Agreement demanded of astroz before "auto" picks it: well above its ~1e-8 relative noise,
# well below anything that would matter.
_SELF_CHECK_TOLERANCE_KM = 0.01


@functools.cache
def _astroz_problem() -> str | None:
    """None if astroz imports and agrees with python-sgp4 on two satellites, else why not."""
    try:
        from astroz import _astroz  # noqa: F401
    except Exception as exc:  # any import failure (missing, ABI, CPU) means "not usable"
        return f"cannot import astroz ({type(exc).__name__}: {exc})"
    elements = parse_elements(_SELF_CHECK_TLE, "<orbitgrid astroz self-check>")
    times = np.datetime64("2019-12-09T16:00", "ns") + np.arange(3) * np.timedelta64(3, "h")
    jd_whole, jd_fraction = julian_date_split(times)
    prepared = _Prepared(elements.satrecs)
    try:
        position, velocity, error = _propagate_astroz(
            prepared, elements, times.astype(np.int64), jd_whole, jd_fraction
        )
    except Exception as exc:
        return f"astroz failed its self-check ({type(exc).__name__}: {exc})"
    reference, _, _ = _propagate_python_sgp4(prepared.satrec_array(), jd_whole, jd_fraction)
    difference_km = float(np.max(np.abs(position - reference)))
    if not (error == 0).all() or not difference_km <= _SELF_CHECK_TOLERANCE_KM:
        return (
            f"astroz disagrees with python-sgp4 by {difference_km * 1000:.3g} m in its "
            f"self-check (allowed {_SELF_CHECK_TOLERANCE_KM * 1000:g} m)"
        )
    if not math.isfinite(float(np.max(np.abs(velocity)))):
        return "astroz returned non-finite velocities in its self-check"
    return None
