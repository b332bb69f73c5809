"""Positions of a CZML scene as CesiumJS computes them, for checking a scene against the run.

Cesium's ``CzmlDataSource`` turns ``cartographicDegrees`` samples into Earth-fixed Cartesian
points on the WGS84 ellipsoid (``Cartesian3.fromDegrees``) and ``SampledPositionProperty``
interpolates those. Between samples it uses ``LagrangePolynomialApproximation`` over
``degree + 1`` samples (fewer if the packet has fewer); the window is chosen as in
``SampledProperty.getValue`` (CesiumJS ``packages/engine/Source/DataSources/
SampledProperty.js``): with ``index`` the first sample later than the time,
``first = index − ⌊degree/2⌋ − 1``, clamped to the samples, ``last = first + degree``. At a
sample time the sample is returned as is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


def geodetic_to_ecef_m(lon_deg, lat_deg, height_m) -> np.ndarray:
    """WGS84 geodetic to Earth-fixed Cartesian (m), [..., 3] (what ``fromDegrees`` computes)."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    h = np.asarray(height_m, dtype=np.float64)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    return np.stack(
        [
            (n + h) * np.cos(lat) * np.cos(lon),
            (n + h) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - WGS84_E2) + h) * np.sin(lat),
        ],
        axis=-1,
    )


@dataclass
class SampledPosition:
    """One packet's position samples: seconds from ``epoch``, Earth-fixed m, Lagrange degree."""

    epoch: dt.datetime
    seconds: np.ndarray
    ecef_m: np.ndarray
    degree: int

    @classmethod
    def from_packet(cls, packet: dict) -> SampledPosition:
        position = packet["position"]
        assert position.get("interpolationAlgorithm", "LAGRANGE") == "LAGRANGE"
        values = np.asarray(position["cartographicDegrees"], dtype=np.float64).reshape(-1, 4)
        epoch = dt.datetime.fromisoformat(position["epoch"].replace("Z", "+00:00"))
        return cls(
            epoch=epoch,
            seconds=values[:, 0],
            ecef_m=geodetic_to_ecef_m(values[:, 1], values[:, 2], values[:, 3]),
            degree=int(position.get("interpolationDegree", 1)),
        )

    def at(self, seconds: np.ndarray) -> np.ndarray:
        """Positions (m, Earth-fixed) at ``seconds`` from the epoch, as Cesium interpolates."""
        t = np.asarray(seconds, dtype=np.float64)
        times = self.seconds
        n = len(times)
        points = max(2, min(self.degree + 1, n))  # getRequiredDataPoints, capped by the samples
        degree = points - 1
        index = np.searchsorted(times, t, side="right")  # first sample later than t
        index = np.minimum(index, n - 1)
        first = np.maximum(index - degree // 2 - 1, 0)
        last = first + degree
        over = last > n - 1
        last = np.where(over, n - 1, last)
        first = np.where(over, np.maximum(last - degree, 0), first)
        window = first[:, None] + np.arange(points)[None, :]  # [t, points]
        x = times[window] - times[last][:, None]
        u = (t - times[last])[:, None]
        weights = np.ones_like(x)
        for j in range(points):
            for m in range(points):
                if m != j:
                    weights[:, j] *= (u[:, 0] - x[:, m]) / (x[:, j] - x[:, m])
        out = np.einsum("tp,tpk->tk", weights, self.ecef_m[window])
        exact = np.isin(t, times)
        if exact.any():
            out[exact] = self.ecef_m[np.searchsorted(times, t[exact])]
        return out
