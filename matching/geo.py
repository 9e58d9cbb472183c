"""Great-circle distances between commune centroids, computed the same way everywhere."""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "haversine_km"]

#: Mean Earth radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088
_DEG = math.pi / 180.0
_DIAMETER_KM = 2.0 * EARTH_RADIUS_KM

FloatArray = NDArray[np.float64]


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cartesian coordinates (x, y, z) on the unit sphere of points given in degrees."""
    phi = np.asarray(lat, dtype=np.float64) * _DEG
    lam = np.asarray(lon, dtype=np.float64) * _DEG
    cos_phi = np.cos(phi)
    return cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)


def chord_to_km(squared_chord: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """Great-circle distance in km from the squared chord between two unit vectors.

    ``squared_chord`` is ``dx*dx + dy*dy + dz*dz`` (summed in that order) where (dx, dy, dz)
    is the difference of the two unit vectors; ``2 R asin(chord / 2)`` is the haversine formula
    written with the chord. Differences of unit vectors keep full precision for nearby
    points, give exactly 0 for the same commune and are exactly symmetric
    (``(a - b)**2 == (b - a)**2`` in floating point).
    """
    half = np.sqrt(squared_chord, out=out)
    np.multiply(half, 0.5, out=half)
    np.minimum(half, 1.0, out=half)
    np.arcsin(half, out=half)
    np.multiply(half, _DIAMETER_KM, out=half)
    return half


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray | float: ...
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray | float:
    """Great-circle distance in km between points given in WGS84 degrees.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : float or array_like
        Coordinates in degrees; arrays broadcast together.

    Returns
    -------
    float or numpy.ndarray
        Distance in km on a sphere of radius :data:`EARTH_RADIUS_KM`: a float when all inputs
        are scalars. It is the same computation as the one behind :func:`matching.score_matrix`,
        so it gives the same digits as ``explain(...).distance_km``.
    """
    scalar = all(np.ndim(v) == 0 for v in (lat1, lon1, lat2, lon2))
    x1, y1, z1 = unit_vectors(np.atleast_1d(lat1), np.atleast_1d(lon1))
    x2, y2, z2 = unit_vectors(np.atleast_1d(lat2), np.atleast_1d(lon2))
    dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
    out = chord_to_km(dx * dx + dy * dy + dz * dz)
    return float(out.reshape(-1)[0]) if scalar else out
