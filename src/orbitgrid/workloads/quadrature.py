"""Quadratures of the response-time distribution of a group of requests: the wait at the site
and the output tokens, each as a few points with weights that keep the mean exact.

**Wait.** In a steady-state step (M/M/c) a request waits with probability C (Erlang C) an
exponential time of rate θ = cμ − λ, else not at all; in a fluid (overload) step the queued
share waits the backlog's mean wait. The quadrature: an atom at 0 with weight
(1 − queued)(1 − C), the exponential tail's mean within each probability bin of
``TAIL_BINS`` (``exponential_bin_means() / θ``, weights (1 − queued) C × bin), and the fluid
wait with weight ``queued``. ``wait_point(j, …)`` gives point j without storing the grid.

**Output tokens.** Lognormal with the class's coefficient of variation: the lognormal's mean
within each bin of ``TAIL_BINS`` (``token_factors``), as multiples of the mean.

The bins are the quartiles with the top one split (15 %, 7 %, 3 %), because a response's p95
and p99 come from the upper tail. Both sets are conditional means, so the weighted means are
the distributions' means exactly (checked against sampling in
``tests/workloads/test_request_path_des.py``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import special

TAIL_BINS = np.array([0.25, 0.25, 0.25, 0.15, 0.07, 0.03])
_EDGES = np.concatenate([[0.0], np.cumsum(TAIL_BINS)])
_EDGES[-1] = 1.0
WAIT_POINTS = TAIL_BINS.size + 2
"""Points of the wait quadrature: the atom at 0, the tail bins, the fluid wait."""


def exponential_bin_means() -> np.ndarray:
    """Mean of a unit exponential within each probability bin of ``TAIL_BINS``,
    E[X | F(X) in bin], in units of the mean."""
    lower = -np.log1p(-_EDGES[:-1])
    upper = np.append(-np.log1p(-_EDGES[1:-1]), np.inf)
    survive_lo, survive_hi = np.exp(-lower), np.exp(-upper)
    # ∫ x e^−x dx over [a, b] = (a + 1) e^−a − (b + 1) e^−b, divided by the bin's mass.
    with np.errstate(invalid="ignore"):
        hi_term = np.where(np.isinf(upper), 0.0, (upper + 1.0) * survive_hi)
    return ((lower + 1.0) * survive_lo - hi_term) / (survive_lo - survive_hi)


def token_factors(cv: float) -> np.ndarray:
    """Output tokens of a lognormal count with coefficient of variation ``cv`` as multiples of
    its mean: the mean within each bin of ``TAIL_BINS``. With σ² = ln(1 + cv²) and bin edges
    z of the standard normal, E[X | bin] / E[X] = (Φ(z_hi − σ) − Φ(z_lo − σ)) / P(bin) (a
    lognormal's partial expectation). cv = 0: all 1."""
    if cv <= 0:
        return np.ones(TAIL_BINS.size)
    sigma = math.sqrt(math.log1p(cv * cv))
    z = special.ndtri(_EDGES)
    return np.diff(special.ndtr(z - sigma)) / TAIL_BINS


WAIT_TAIL_POINTS = exponential_bin_means()


@nb.njit(cache=True, inline="always")
def wait_point(j, wait_probability, decay_rate_per_s, queued_fraction, fluid_wait_s):
    """``(wait s, weight)`` of point ``j`` (0 … ``WAIT_POINTS`` − 1) of the wait quadrature."""
    steady = 1.0 - queued_fraction
    n_tail = WAIT_TAIL_POINTS.size
    if j == 0:
        return 0.0, steady * (1.0 - wait_probability)
    if j <= n_tail:
        rate = max(decay_rate_per_s, 1e-300)
        return WAIT_TAIL_POINTS[j - 1] / rate, steady * wait_probability * TAIL_BINS[j - 1]
    return fluid_wait_s, queued_fraction
