"""Orbit and Sun stages of the engine (see ``orbitgrid.contract`` for the stage contract).

``OrbitStage`` gives every satellite's inertial position and orbit normal: J2 secular motion for
designed shells (``orbits.j2``), SGP4 for element files (``orbits.sgp4_propagation``).
``SunStage`` gives the Sun's position, each satellite's visible solar fraction (umbra and
penumbra) and beta angle. ``SubpointStage`` gives geodetic sub-satellite points, at stored
steps only.
"""

from __future__ import annotations

import numpy as np

from orbitgrid.constants import WGS84
from orbitgrid.contract import Arrays, Chunk, Variable
from orbitgrid.orbits.eclipse import sunlit_fraction
from orbitgrid.orbits.j2 import propagate_circular_j2
from orbitgrid.orbits.sun import beta_angles, sun_position_km
from orbitgrid.orbits.timescale import gmst_rad
from orbitgrid.plan import Plan

ORBIT_STATUS_OK = 0


class OrbitStage:
    """Positions (km, inertial) and orbit normals of all satellites, [time, satellite, 3]."""

    name = "orbits"
    variables = (
        Variable(
            "orbit_status",
            ("time", "satellite"),
            "1",
            "propagation status: 0 ok, else the SGP4 error code (position is NaN)",
            dtype="int8",
        ),
    )

    def initial_state(self, plan: Plan) -> None:
        return None

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state: None):
        shape = (chunk.step_count, plan.satellite_count, 3)
        position_km = chunk.workspace.empty("position_km", shape)
        normal = chunk.workspace.empty("orbit_normal", shape)
        status = np.zeros(shape[:2], dtype=np.int8)
        for shell in plan.shells:
            cut = shell.satellites
            if shell.circular is not None:
                propagate_circular_j2(
                    shell.circular,
                    chunk.t0_s,
                    chunk.step_s,
                    chunk.step_count,
                    out=(position_km[:, cut], normal[:, cut]),
                )
            else:
                from orbitgrid.orbits.frames import orbit_normal_unit
                from orbitgrid.orbits.sgp4_propagation import propagate_teme

                r, v, error = propagate_teme(shell.elements, chunk.times_utc)
                position_km[:, cut] = r
                normal[:, cut] = orbit_normal_unit(r, v)
                status[:, cut] = error
        return {"position_km": position_km, "orbit_normal": normal, "orbit_status": status}, None


class SunStage:
    """Sun position [time, 3] km; sunlit fraction and beta angle [time, satellite]."""

    name = "sun"
    variables = (
        Variable(
            "sunlit_fraction",
            ("time", "satellite"),
            "1",
            "visible fraction of the solar disk (0 umbra, 1 full sun; conical shadow)",
        ),
        Variable(
            "beta_deg",
            ("time", "satellite"),
            "deg",
            "beta angle: Sun above orbit plane",
            decimated=True,
        ),
    )

    def initial_state(self, plan: Plan) -> None:
        return None

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state: None):
        sun_km = sun_position_km(chunk.jd_whole, chunk.jd_fraction)
        lit = sunlit_fraction(arrays["position_km"], sun_km, WGS84.radius_km)
        sun_unit = sun_km / np.linalg.norm(sun_km, axis=-1, keepdims=True)
        stride = plan.scenario.stored_stride
        sin_beta, beta_deg = beta_angles(arrays["orbit_normal"], sun_unit, stride)
        arrays_out = {"sun_position_km": sun_km, "sunlit_fraction": lit, "sin_beta": sin_beta}
        return {**arrays_out, "beta_deg": beta_deg}, None


class SubpointStage:
    """Geodetic sub-satellite points (WGS84) at the stored steps only."""

    name = "subpoints"
    variables = (
        Variable("latitude_deg", ("time", "satellite"), "deg", "geodetic latitude", decimated=True),
        Variable("longitude_deg", ("time", "satellite"), "deg", "longitude", decimated=True),
        Variable("altitude_km", ("time", "satellite"), "km", "height above WGS84", decimated=True),
    )

    def initial_state(self, plan: Plan) -> None:
        return None

    def __call__(self, plan: Plan, chunk: Chunk, arrays: Arrays, state: None):
        from orbitgrid.orbits.frames import ecef_to_geodetic, inertial_to_ecef_km

        stride = plan.scenario.output_stride
        position_km = arrays["position_km"][::stride]
        ecef = inertial_to_ecef_km(
            position_km, gmst_rad(chunk.jd_whole[::stride], chunk.jd_fraction[::stride])
        )
        lat, lon, alt = ecef_to_geodetic(ecef)
        return {"latitude_deg": lat, "longitude_deg": lon, "altitude_km": alt}, None
