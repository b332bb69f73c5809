"""Queueing models of an AI serving site: M/M/c in steady state, a fluid backlog in overload.

A serving site (a GPU cluster on a satellite, an orbital shell, a ground data center) is an
M/M/c queue whose c servers are its batch slots (replicas × batch size); each slot serves one
request at rate μ = 1/service time. Per time step and per site the workload stage knows the
Poisson arrival rate λ, c and μ; c·μ follows the compute the core engine delivered at that step.

- **Steady state** (no backlog carried in and ρ = λ/(cμ) < 1): Erlang C gives the probability
  that a request waits, C(c, a) with a = λ/μ, and the FIFO waiting time W has
  P(W > t) = C·exp(−(cμ − λ)·t), mean C/(cμ − λ) (Kleinrock, *Queueing Systems* Vol. 1, 1975,
  §3.5; Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2).
- **Overload or backlog** (ρ ≥ 1, or a backlog carried in): a deterministic fluid queue. The site
  serves c·μ·Δt per step, the excess joins a FIFO backlog carried to the next step, and requests
  whose fluid wait would exceed the latency budget are dropped (`fluid_backlog`).

How the two combine in one step: `fluid_backlog` runs on every step. The fraction
``queued_fraction`` of the step's accepted requests arrived while the fluid queue was non-empty
and wait ``mean_queued_wait_s`` on average (fluid, deterministic); the remaining
``1 − queued_fraction`` arrived at an empty queue with ρ < 1 and see the steady-state M/M/c wait
(`mmc_wait`). ``queued_fraction`` is 0 in a steady-state step and 1 in an overloaded one.
docs/queueing.md gives the equations, what is left out and the measured errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import special

from orbitgrid._compile import FASTMATH

_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
# Below this many servers ln Γ(c+1) is evaluated directly; above it the Stirling series for the
# remainder is used, which keeps ~1e-14 relative precision in the Poisson term at c ~ 1e5.
_STIRLING_MIN_SERVERS = 20.0
# Where the closed form's denominator underflows (a ≫ c), Erlang B comes from the series.
_TINY = 1e-280


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _log_poisson_pmf(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """ln(a^c·e^(−a)/Γ(c+1)) for c > 0, a ≥ 0, without the cancellation of c·ln a − ln Γ(c+1).

    With ln Γ(c+1) = c ln c − c + ½ln(2πc) + δ(c), the sum becomes −c·(u − ln(1+u)) − ½ln(2πc)
    − δ(c) with u = a/c − 1, whose terms stay small when c and a are large and close.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = a / c - 1.0
        inv = 1.0 / c
        inv2 = inv * inv
        # Stirling remainder δ(c) = 1/(12c) − 1/(360c³) + 1/(1260c⁵) − 1/(1680c⁷); the first
        # term left out is 1/(1188c⁹) < 2e-15 for c ≥ 20.
        delta = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))
        large = -c * (u - np.log1p(u)) - _HALF_LN_2PI - 0.5 * np.log(c) - delta
        small = special.xlogy(c, a) - a - special.gammaln(c + 1.0)
    return np.where(c >= _STIRLING_MIN_SERVERS, large, small)


@njit(cache=True, fastmath=FASTMATH)
def _erlang_b_series(c, a, out):  # pragma: no cover - compiled
    # 1/B(c, a) = Σ_k c(c−1)…(c−k+1)/a^k: terms shrink geometrically when a > c, so only a few
    # thousand are needed even at c ~ 1e5. Exact for integer c; for real c the series stops at
    # the last positive factor (only used where a ≫ c, where the rest is far below 1e-16).
    for i in range(c.size):
        ci = c[i]
        ai = a[i]
        total = 1.0
        term = 1.0
        j = 0.0
        while ci - j > 0.0:
            term *= (ci - j) / ai
            total += term
            if term < 1e-17 * total:
                break
            j += 1.0
        out[i] = 1.0 / total


def _erlang_b_closed(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Erlang B as Poisson pmf / Poisson cdf at c (1-D arrays, c > 0, a ≥ 0); NaN on underflow."""
    pmf = np.exp(_log_poisson_pmf(c, a))
    cdf = special.gammaincc(c + 1.0, a)  # P(N ≤ c), N ~ Poisson(a); analytic in real c
    with np.errstate(divide="ignore", invalid="ignore"):
        b = pmf / cdf
    b[cdf < _TINY] = np.nan
    return b


def _check_load(c: np.ndarray, a: np.ndarray) -> None:
    if np.any(c < 0.0) or np.any(a < 0.0):
        raise ValueError("servers and offered load must be non-negative")


def erlang_b(servers, offered_load_erlangs) -> np.ndarray:
    """Erlang B blocking probability B(c, a) of an M/M/c/c loss system, broadcast over inputs.

    ``servers`` c (may be non-integer: the analytic continuation B = a^c·e^(−a)/Γ(c+1) / Q(c+1, a),
    Q the regularised upper incomplete gamma function, i.e. Poisson pmf over Poisson cdf at c;
    Jagerman, Bell Syst. Tech. J. 53, 1974) and ``offered_load_erlangs`` a = λ/μ. Evaluated in
    O(1) per element; where the Poisson cdf underflows (a ≫ c) the inverse series
    1/B = Σ_k c!/((c−k)!·a^k) is summed instead. B(0, a) = 1. Source: Gross & Harris,
    *Fundamentals of Queueing Theory*, ch. 2 (M/M/c/c).
    """
    c, a = np.broadcast_arrays(_as_float(servers), _as_float(offered_load_erlangs))
    _check_load(c, a)
    out = np.ones(c.shape)
    mask = c > 0.0
    cm = c[mask]
    am = a[mask]
    b = _erlang_b_closed(cm, am)
    bad = ~np.isfinite(b)
    if bad.any():
        fallback = np.empty(int(bad.sum()))
        _erlang_b_series(np.ascontiguousarray(cm[bad]), np.ascontiguousarray(am[bad]), fallback)
        b[bad] = fallback
    out[mask] = b
    out[np.isnan(c) | np.isnan(a)] = np.nan
    return out


def erlang_c(servers, offered_load_erlangs) -> np.ndarray:
    """Erlang C: probability that a request of an M/M/c queue waits, C(c, a), broadcast.

    ``servers`` c (real c allowed, see `erlang_b`), ``offered_load_erlangs`` a = λ/μ, ρ = a/c.
    C = B/(1 − ρ(1 − B)) with B = `erlang_b` in its closed form (Poisson pmf / Poisson cdf via
    the regularised incomplete gamma function, log-space pmf): O(1) per element and stable to
    c ~ 1e5 and beyond (tests compare with exact rational arithmetic for c ≤ 60 and with the
    Erlang B recursion B_k = a·B_{k−1}/(k + a·B_{k−1}) up to c = 100,000). Returns 1 where
    ρ ≥ 1 (no steady state: every request waits) and where c = 0; 0 where a = 0 < c. Source:
    Kleinrock, *Queueing Systems* Vol. 1, 1975, §3.5; Gross & Harris ch. 2.
    """
    c, a = np.broadcast_arrays(_as_float(servers), _as_float(offered_load_erlangs))
    _check_load(c, a)
    out = np.ones(c.shape)
    stable = (c > 0.0) & (a < c)
    cs = c[stable]
    rho = a[stable] / cs
    b = _erlang_b_closed(cs, a[stable])  # a < c: the Poisson cdf at c is ≳ 0.5, no underflow
    out[stable] = b / (1.0 - rho * (1.0 - b))
    out[np.isnan(c) | np.isnan(a)] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class MMcWait:
    """Steady-state FIFO waiting time W (queue only, service excluded) of M/M/c queues.

    P(W > t) = C·exp(−θ·t) for t ≥ 0, with ``wait_probability`` C = P(W > 0) (Erlang C) and
    ``decay_rate_per_s`` θ = cμ − λ (1/s). W has an atom 1 − C at 0. Where θ ≤ 0 (ρ ≥ 1) there
    is no steady state: C = 1, the mean and quantiles are +inf and the CDF is 0 (use
    `fluid_backlog` there). Arrays broadcast with NumPy's rules, so a wait built from
    parameters with a trailing axis (``c[..., None]``) evaluated at 1-D bin edges gives
    [..., edge]. Source: Kleinrock 1975, §3.5; Gross & Harris ch. 2.
    """

    wait_probability: np.ndarray
    decay_rate_per_s: np.ndarray

    @property
    def stable(self) -> np.ndarray:
        """ρ < 1: a steady state exists."""
        return self.decay_rate_per_s > 0.0

    @property
    def mean_s(self) -> np.ndarray:
        """E[W] = C/(cμ − λ), s; +inf where ρ ≥ 1."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.stable, self.wait_probability / self.decay_rate_per_s, np.inf)

    def survival(self, t_s) -> np.ndarray:
        """P(W > t) = C·exp(−θt) for t ≥ 0 (1 for t < 0), broadcast against the parameters."""
        t = _as_float(t_s)
        with np.errstate(over="ignore", invalid="ignore"):
            tail = self.wait_probability * np.exp(-self.decay_rate_per_s * np.maximum(t, 0.0))
        tail = np.where(self.stable, tail, 1.0)
        return np.where(t < 0.0, 1.0, tail)

    def cdf(self, t_s) -> np.ndarray:
        """P(W ≤ t), broadcast against the parameters: 0 for t < 0, 1 − C at t = 0."""
        return 1.0 - self.survival(t_s)

    def quantile_s(self, q) -> np.ndarray:
        """The q-quantile of W, s: max(0, ln(C/(1 − q))/θ) (0 ≤ q ≤ 1); +inf where ρ ≥ 1."""
        q = _as_float(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.log(self.wait_probability / (1.0 - q)) / self.decay_rate_per_s
        return np.where(self.stable, np.maximum(t, 0.0), np.inf)


def mmc_wait(servers, arrival_rate_per_s, service_rate_per_s) -> MMcWait:
    """The steady-state M/M/c waiting time for ``servers`` c slots, arrival rate λ and per-slot
    service rate μ (both 1/s), broadcast: Erlang C of a = λ/μ and decay rate θ = cμ − λ.

    c = 0 or μ = 0 gives an unstable queue (C = 1, θ ≤ 0). Source: Kleinrock 1975, §3.5.
    """
    c, lam, mu = np.broadcast_arrays(
        _as_float(servers), _as_float(arrival_rate_per_s), _as_float(service_rate_per_s)
    )
    if np.any(mu < 0.0) or np.any(lam < 0.0):
        raise ValueError("arrival and service rates must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(mu > 0.0, lam / mu, np.where(lam > 0.0, np.inf, 0.0))
    return MMcWait(wait_probability=erlang_c(c, a), decay_rate_per_s=c * mu - lam)


def mean_wait_s(servers, arrival_rate_per_s, service_rate_per_s) -> np.ndarray:
    """M/M/c mean FIFO wait in queue, E[W] = C/(cμ − λ), s; +inf where ρ ≥ 1 (Kleinrock §3.5)."""
    return mmc_wait(servers, arrival_rate_per_s, service_rate_per_s).mean_s


def wait_quantile_s(q, servers, arrival_rate_per_s, service_rate_per_s) -> np.ndarray:
    """M/M/c q-quantile of the wait, max(0, ln(C/(1 − q))/(cμ − λ)), s; +inf where ρ ≥ 1."""
    return mmc_wait(servers, arrival_rate_per_s, service_rate_per_s).quantile_s(q)


def wait_cdf(t_s, servers, arrival_rate_per_s, service_rate_per_s) -> np.ndarray:
    """M/M/c P(W ≤ t) = 1 − C·exp(−(cμ − λ)t), t ≥ 0; 0 where ρ ≥ 1. All inputs broadcast.

    For many bin edges per (step, site), give the parameters a trailing axis and ``t_s`` the
    edges (e.g. ``wait_cdf(edges_s, c[..., None], lam[..., None], mu[..., None])``), or build
    `mmc_wait` once and call its ``cdf`` for each set of edges: Erlang C is evaluated once per
    element of the parameters, the CDF is one exp per edge.
    """
    return mmc_wait(servers, arrival_rate_per_s, service_rate_per_s).cdf(t_s)


@dataclass(frozen=True, eq=False)
class BacklogResult:
    """Per-step outputs of `fluid_backlog`, each [time, site] float64 unless noted.

    ``served``, ``dropped``: requests in the step. ``backlog``: requests queued at the end of
    the step. ``backlog_out`` ([site]): the state to pass as ``backlog_in`` to the next chunk.
    ``queued_fraction``: share of the step's accepted arrivals that found a non-empty fluid
    queue (0 if none accepted). ``mean_queued_wait_s``: their mean fluid wait, s (0 if none).
    Conservation, per step and site: offered = served + dropped + backlog − backlog before.
    """

    served: np.ndarray
    dropped: np.ndarray
    backlog: np.ndarray
    backlog_out: np.ndarray
    queued_fraction: np.ndarray
    mean_queued_wait_s: np.ndarray


@njit(cache=True, fastmath=FASTMATH)
def _fluid_backlog(
    offered, capacity, max_wait_s, step_s, queue, served, dropped, backlog, queued_frac, wait
):  # pragma: no cover - compiled
    n_time, n_site = offered.shape
    inf = np.inf
    for k in range(n_time):
        for s in range(n_site):
            a = offered[k, s]
            cap = capacity[k, s]
            budget = max_wait_s[k, s]
            rate = cap / step_s
            lam = a / step_s
            # Largest queue whose fluid wait q/rate meets the budget.
            if rate > 0.0:
                q_max = rate * budget
            elif budget == inf:
                q_max = inf
            else:
                q_max = 0.0
            q0 = queue[s]
            drop = 0.0
            if q0 > q_max:  # capacity fell: queued requests that can no longer meet it leave
                drop = q0 - q_max
                q0 = q_max
            d = lam - rate  # queue slope while non-empty, requests/s
            if d <= 0.0:
                if q0 <= 0.0:  # steady state: nothing queued
                    srv = a
                    q_end = 0.0
                    queued = 0.0
                    wait_sum = 0.0
                else:
                    tau = step_s if d == 0.0 else min(q0 / -d, step_s)
                    if tau < step_s:  # drained within the step
                        srv = q0 + a
                        q_end = 0.0
                        queued = lam * tau
                    else:
                        srv = cap
                        q_end = q0 + a - cap
                        queued = a
                    wait_sum = 0.0
                    if queued > 0.0:  # rate = 0 here only with an infinite budget
                        wait_sum = queued * 0.5 * (q0 + q_end) / rate if rate > 0.0 else inf
                accepted = a
            else:
                srv = cap  # the queue is non-empty for the whole step
                tau_c = inf if q_max == inf else (q_max - q0) / d  # time to reach the cap
                if tau_c >= step_s:
                    q_end = q0 + a - cap
                    queued = a
                    wait_sum = a * 0.5 * (q0 + q_end) / rate if rate > 0.0 else inf
                    accepted = a
                else:  # after tau_c arrivals beyond the service rate are dropped on arrival
                    q_end = q_max
                    late = q0 + a - cap - q_max
                    drop += late
                    accepted = a - late
                    queued = accepted
                    wait_sum = 0.0
                    if rate > 0.0:
                        wait_sum = (
                            lam * tau_c * 0.5 * (q0 + q_max) / rate
                            + rate * (step_s - tau_c) * budget
                        )
            served[k, s] = srv
            dropped[k, s] = drop
            backlog[k, s] = q_end
            queued_frac[k, s] = min(queued / accepted, 1.0) if accepted > 0.0 else 0.0
            # min: the mean of waits each ≤ budget, guarded against rounding of the sums.
            wait[k, s] = min(wait_sum / queued, budget) if queued > 0.0 else 0.0
            queue[s] = q_end


def fluid_backlog(
    offered_requests,
    capacity_requests,
    max_wait_s,
    step_s: float,
    backlog_in=None,
) -> BacklogResult:
    """Fluid FIFO queue of each site, stepped sequentially in time (compiled, vectorised over
    sites): served, dropped and backlog per step, for overload and for draining a backlog.

    Inputs broadcast to [time, site]: ``offered_requests`` λ·Δt and ``capacity_requests`` c·μ·Δt
    (requests per step), ``max_wait_s`` the budget on the wait in queue (the class's latency
    budget minus its network and service time), ``step_s`` Δt; ``backlog_in`` ([site],
    requests, default 0) is the queue carried in. Within a step arrivals and service are
    uniform (rates λ = offered/Δt, r = capacity/Δt), so the queue q(τ) is linear with slope
    λ − r while non-empty. Discipline FIFO; the fluid wait of a request arriving at queue q is
    q/r. Drop rule: a request whose wait would exceed the budget is dropped on arrival, i.e.
    the queue is capped at r·max_wait_s; when the capacity falls, queued requests beyond the
    new cap are dropped at the start of the step (they could no longer meet the budget). A
    site with no capacity keeps nothing (all dropped) unless the budget is infinite. Every
    step conserves requests: offered = served + dropped + (backlog − backlog before). Without
    backlog and with λ < r the step is in steady state (served = offered, queued_fraction 0)
    and its waits are M/M/c (`mmc_wait`). Source: fluid approximation of queues in overload,
    Kleinrock, *Queueing Systems* Vol. 2, 1976, ch. 2; Newell, *Applications of Queueing
    Theory*, 2nd ed., 1982.
    """
    offered = _as_float(offered_requests)
    capacity = _as_float(capacity_requests)
    if offered.ndim != 2 and capacity.ndim != 2:
        raise ValueError("offered_requests or capacity_requests must be a [time, site] array")
    shape = np.broadcast_shapes(offered.shape, capacity.shape, np.shape(max_wait_s))
    if len(shape) != 2:
        raise ValueError(f"inputs must broadcast to [time, site], got shape {shape}")
    if not step_s > 0.0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    offered = np.ascontiguousarray(np.broadcast_to(offered, shape))
    capacity = np.ascontiguousarray(np.broadcast_to(capacity, shape))
    budget = np.ascontiguousarray(np.broadcast_to(_as_float(max_wait_s), shape))
    if np.any(offered < 0.0) or np.any(capacity < 0.0) or np.any(budget < 0.0):
        raise ValueError("offered, capacity and max_wait_s must be non-negative")
    queue = np.zeros(shape[1])
    if backlog_in is not None:
        queue[:] = _as_float(backlog_in)
    outputs = [np.empty(shape) for _ in range(5)]
    _fluid_backlog(offered, capacity, budget, float(step_s), queue, *outputs)
    served, dropped, backlog, queued_fraction, wait = outputs
    return BacklogResult(
        served=served,
        dropped=dropped,
        backlog=backlog,
        backlog_out=queue,
        queued_fraction=queued_fraction,
        mean_queued_wait_s=wait,
    )
