"""Queueing models of a serving site: Erlang C, the M/M/c wait, the fluid backlog.

Validation sources: exact rational arithmetic (fractions.Fraction, big integers) of the
textbook Erlang C sum, Kleinrock, *Queueing Systems* Vol. 1 (1975) §3.5; the closed forms for
one and two servers (Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2); the Erlang B
recursion B_k = a·B_{k−1}/(k + a·B_{k−1}) for large c; and the discrete-event simulation in
``des_oracle.py`` (simpy, seeded) for the waiting-time distribution and the fluid backlog.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from orbitgrid.workloads.queueing import (
    erlang_b,
    erlang_c,
    fluid_backlog,
    mean_wait_s,
    mmc_wait,
    wait_cdf,
    wait_quantile_s,
)

from .des_oracle import simulate_site


def _exact_erlang_c(c: int, a: Fraction) -> Fraction:
    """Kleinrock (1975) eq. for P[queueing] in M/M/c, evaluated exactly with rationals."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return tail / (head + tail)


def _recursive_erlang_b(c: int, a: float) -> float:
    """Erlang B by the stable recursion B_k = a·B_{k−1}/(k + a·B_{k−1}), B_0 = 1."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


# --- (a) Erlang C against independent values ---------------------------------------------------


def test_erlang_c_matches_exact_rational_values():
    """Exact big-integer/rational evaluation of the Erlang C sum, c ≤ 60: relative 1e-12.

    Measured worst relative error 3.7e-14.
    """
    worst = 0.0
    for c in (1, 2, 3, 5, 8, 13, 20, 21, 37, 60):
        for rho in (Fraction(1, 100), Fraction(1, 10), Fraction(1, 2), Fraction(4, 5)):
            for extra in (Fraction(19, 20), Fraction(999, 1000)):
                for r in (rho, extra):
                    a = c * r
                    exact = float(_exact_erlang_c(c, a))
                    got = float(erlang_c(c, float(a)))
                    worst = max(worst, abs(got - exact) / exact)
    assert worst < 1e-12


def test_erlang_c_textbook_closed_forms():
    """M/M/1: C = ρ; M/M/2: C = 2ρ²/(1 + ρ); c = 3, a = 2: C = 4/9 (Gross & Harris, ch. 2)."""
    rho = np.linspace(0.0, 0.99, 100)
    np.testing.assert_allclose(erlang_c(1, rho), rho, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(erlang_c(2, 2 * rho), 2 * rho**2 / (1 + rho), rtol=1e-13, atol=1e-15)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-14)


@pytest.mark.parametrize("servers", [1_000, 10_000, 100_000])
def test_erlang_c_large_c_matches_recursion(servers):
    """Up to c = 100,000 against the Erlang B recursion (float64): relative 1e-11.

    Measured: ≤ 4e-13 (the largest at c = 1e5, ρ = 0.9, where C ≈ 2e-235).
    """
    for rho in (0.5, 0.9, 0.99, 0.999, 0.9999):
        a = servers * rho
        b = _recursive_erlang_b(servers, a)
        expected = b / (1 - rho * (1 - b))
        got = float(erlang_c(servers, a))
        assert got == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize("servers", [10, 3_000, 100_000])
def test_erlang_b_overload_matches_recursion(servers):
    """Erlang B for a ≥ c, including where the closed form underflows (series): relative 1e-11."""
    for rho in (1.0, 1.01, 1.5, 2.0, 10.0):
        a = servers * rho
        got = float(erlang_b(servers, a))
        assert got == pytest.approx(_recursive_erlang_b(servers, a), rel=1e-11)


def test_erlang_c_edge_cases_and_broadcasting():
    assert erlang_c(0, 0.0) == 1.0
    assert erlang_c(0, 3.0) == 1.0
    assert erlang_c(4, 0.0) == 0.0
    np.testing.assert_array_equal(erlang_c(4, [4.0, 5.0, 1e9]), 1.0)
    assert np.isnan(erlang_c(4, np.nan))
    assert erlang_c(np.ones((3, 1)) * 5, np.ones((1, 4))).shape == (3, 4)
    assert erlang_b(0, 2.0) == 1.0
    with pytest.raises(ValueError):
        erlang_c(-1, 1.0)
    # Real c (analytic continuation) lies between its integer neighbours.
    lo, mid, hi = erlang_c([7.0, 7.5, 8.0], 5.0)
    assert hi < mid < lo


def test_wait_distribution_closed_forms():
    """E[W] = C/(cμ − λ), quantile = max(0, ln(C/(1−q))/(cμ − λ)), CDF = 1 − C·e^(−θt)."""
    c, lam, mu = 4, 3.0, 1.0
    big_c = float(erlang_c(c, lam / mu))
    theta = c * mu - lam
    assert mean_wait_s(c, lam, mu) == pytest.approx(big_c / theta, rel=1e-14)
    q = np.array([0.0, 0.3, 0.5, 0.9, 0.95, 0.99])
    expected = np.maximum(0.0, np.log(big_c / (1 - q)) / theta)
    np.testing.assert_allclose(wait_quantile_s(q, c, lam, mu), expected, rtol=1e-14)
    # The CDF inverts the quantile above the atom at 0 (1 − C).
    above = q > 1 - big_c
    np.testing.assert_allclose(wait_cdf(expected[above], c, lam, mu), q[above], rtol=1e-12)
    assert wait_cdf(0.0, c, lam, mu) == pytest.approx(1 - big_c)
    assert wait_cdf(-1.0, c, lam, mu) == 0.0
    # Mean equals the integral of the survival function.
    t = np.linspace(0.0, 200.0, 400_001)
    survival = 1.0 - wait_cdf(t, c, lam, mu)
    assert np.trapezoid(survival, t) == pytest.approx(big_c / theta, rel=1e-6)
    # Unstable (ρ ≥ 1) and no servers: no steady state.
    assert mean_wait_s(4, 4.0, 1.0) == np.inf
    assert wait_quantile_s(0.5, 0, 1.0, 1.0) == np.inf
    assert wait_cdf(10.0, 4, 5.0, 1.0) == 0.0
    assert mean_wait_s(4, 0.0, 1.0) == 0.0


def test_wait_cdf_at_bin_edges_broadcasts():
    """Parameters with a trailing axis and 1-D edges give [time, site, edge]."""
    rng = np.random.default_rng(3)
    servers = rng.integers(1, 50, size=(6, 5)).astype(float)
    lam = servers * rng.uniform(0.1, 1.2, size=servers.shape)
    edges = np.linspace(0.0, 3.0, 7)
    cdf = wait_cdf(edges, servers[..., None], lam[..., None], 1.0)
    assert cdf.shape == (6, 5, 7)
    wait = mmc_wait(servers[..., None], lam[..., None], 1.0)
    np.testing.assert_array_equal(wait.cdf(edges), cdf)
    assert np.all(np.diff(cdf, axis=-1) >= 0.0)
    k, s = 2, 3
    np.testing.assert_allclose(cdf[k, s], wait_cdf(edges, servers[k, s], lam[k, s], 1.0))


# --- (b) against a discrete-event simulation ---------------------------------------------------


def test_mmc_wait_against_simpy():
    """M/M/2, ρ = 0.7, 600,000 requests (seeded simpy, first 200 s dropped as warm-up): mean
    and p95 of the wait within 5 %, p50 within 8 %, P(W > 0) within 2 %, CDF within 0.01.

    Measured (seed 0): mean +0.9 %, p50 +3.7 %, p95 +0.6 %, P(W > 0) +0.3 %, CDF 0.004.
    Largest over seeds 0–9: mean 1.8 %, p50 4.6 %, p95 1.6 %, P(W > 0) 0.5 %, CDF 0.004.
    The median (0.24 s) sits just above the atom of 42 % at W = 0, where the density is low,
    so its sample error is ~14× that of the empirical CDF: hence its wider tolerance.
    """
    c, lam, mu = 2, 1.4, 1.0
    records = simulate_site([lam], 600_000 / lam, c, 1 / mu, seed=0)
    wait = np.sort(records.wait_s[records.arrival_s > 200.0])
    model = mmc_wait(c, lam, mu)
    assert wait.mean() == pytest.approx(float(model.mean_s), rel=0.05)
    assert np.quantile(wait, 0.5) == pytest.approx(float(model.quantile_s(0.5)), rel=0.08)
    assert np.quantile(wait, 0.95) == pytest.approx(float(model.quantile_s(0.95)), rel=0.05)
    assert (wait > 0).mean() == pytest.approx(float(model.wait_probability), rel=0.02)
    t = np.linspace(0.0, float(model.quantile_s(0.99)), 33)
    empirical = np.searchsorted(wait, t, side="right") / wait.size
    assert np.max(np.abs(empirical - model.cdf(t))) < 0.01


def test_deterministic_service_allen_cunneen_against_simpy():
    """M/D/2, ρ = 0.7 (deterministic 1 s service), 300,000 requests: what M/M/c leaves out.

    Erlang C assumes exponential service and overestimates the mean wait by ~95 % here; the
    Allen–Cunneen approximation W ≈ W(M/M/c)·(c_a² + c_s²)/2 (c_a² = 1, c_s² = 0; Allen,
    *Probability, Statistics and Queueing Theory*, 2nd ed., 1990) is within 8 %. Measured
    (seeds 0–4): Allen–Cunneen −3.5 % to −2.4 %, M/M/c +93 % to +95 %.
    """
    c, lam = 2, 1.4
    records = simulate_site([lam], 300_000 / lam, c, 1.0, service="deterministic", seed=0)
    simulated = records.wait_s[records.arrival_s > 200.0].mean()
    mmc = float(mean_wait_s(c, lam, 1.0))
    assert 0.5 * mmc == pytest.approx(simulated, rel=0.08)
    assert mmc / simulated - 1 > 0.8


def test_fluid_backlog_against_simpy_overload():
    """Overload, an eclipse-like capacity drop and recovery, against per-request simulation.

    200 slots, exponential 1 s service, 10 s steps, wait budget 2 s, simpy dropping a request
    on arrival when its predicted M/M/c wait exceeds the budget. Phases: 10 steps at λ = 300/s
    (ρ = 1.5), 5 steps with 100 slots (ρ = 3), 15 steps at λ = 100/s with 200 slots (drain).
    The fluid model gets the simulation's realised arrivals per step. Per phase, served and
    dropped agree within 5 %, the mean wait of accepted requests in the overloaded phases
    within 8 % and in the drain phase within 0.02 s. Measured over seeds 0–9: served −0.8 % to
    +4.7 % (running requests finish after the capacity drop: slots are not pre-empted),
    dropped −3.6 % to +1.5 %, overload wait −5.9 % to −0.2 % (the simulation's queue cap is
    one request lower), drain wait −0.006 s (freed slots start queued requests at once).
    """
    step_s, budget_s = 10.0, 2.0
    lam = np.r_[np.full(15, 300.0), np.full(15, 100.0)]
    slots = np.r_[np.full(10, 200), np.full(5, 100), np.full(15, 200)]
    records = simulate_site(lam, step_s, slots, 1.0, max_wait_s=budget_s, seed=0, drain=False)
    step = np.minimum((records.arrival_s // step_s).astype(int), lam.size - 1)
    offered = np.bincount(step, minlength=lam.size).astype(float)
    fluid = fluid_backlog(offered[:, None], (slots * step_s)[:, None], budget_s, step_s)
    dropped = np.bincount(step, weights=records.dropped, minlength=lam.size)
    done = records.end_s[np.isfinite(records.end_s)]
    served = np.bincount((done // step_s).astype(int), minlength=lam.size)
    accepted = ~records.dropped
    for first, last in ((0, 10), (10, 15), (15, 30)):
        phase = slice(first, last)
        assert served[phase].sum() == pytest.approx(fluid.served[phase].sum(), rel=0.05)
        assert dropped[phase].sum() == pytest.approx(fluid.dropped[phase].sum(), rel=0.05, abs=1)
        in_phase = (step >= first) & (step < last) & accepted
        kept = offered[phase] - fluid.dropped[phase, 0]
        fluid_wait = fluid.mean_queued_wait_s[phase, 0] * fluid.queued_fraction[phase, 0]
        expected = (fluid_wait * kept).sum() / kept.sum()
        simulated = records.wait_s[in_phase].mean()
        if first < 15:
            assert simulated == pytest.approx(expected, rel=0.08)
        else:  # ρ = 0.5 after the first 2 s: the M/M/c wait is ~1e-4 s, left out here
            assert simulated == pytest.approx(expected, abs=0.02)


# --- fluid backlog: worked cases -------------------------------------------------------------


def test_fluid_backlog_worked_example():
    """r = 20/s, budget 2 s (cap 40): 300, 300, 100, 0 requests in 10 s steps."""
    res = fluid_backlog(np.array([[300.0, 300.0, 100.0, 0.0]]).T, 200.0, 2.0, 10.0)
    np.testing.assert_allclose(res.served[:, 0], [200, 200, 140, 0])
    np.testing.assert_allclose(res.dropped[:, 0], [60, 100, 0, 0])
    np.testing.assert_allclose(res.backlog[:, 0], [40, 40, 0, 0])
    # Step 1: the queue reaches the cap at 4 s; 120 arrivals wait 1 s on average, 120 wait 2 s.
    # Step 3: 40 queued drain in 4 s; 40 of the 100 arrivals wait 1 s on average.
    np.testing.assert_allclose(res.mean_queued_wait_s[:, 0], [1.5, 2.0, 1.0, 0.0])
    np.testing.assert_allclose(res.queued_fraction[:, 0], [1.0, 1.0, 0.4, 0.0])
    assert res.backlog_out[0] == 0.0


def test_fluid_backlog_capacity_drop_and_no_capacity():
    """Capacity halves with 40 queued: the 20 beyond the new cap are dropped at once."""
    res = fluid_backlog([[0.0]], [[100.0]], 2.0, 10.0, backlog_in=[40.0])
    assert res.dropped[0, 0] == 20.0 and res.served[0, 0] == 20.0 and res.backlog[0, 0] == 0.0
    res = fluid_backlog([[50.0]], [[0.0]], 2.0, 10.0, backlog_in=[5.0])
    assert res.dropped[0, 0] == 55.0 and res.served[0, 0] == 0.0
    res = fluid_backlog([[50.0]], [[0.0]], np.inf, 10.0, backlog_in=[5.0])
    assert res.backlog[0, 0] == 55.0 and res.dropped[0, 0] == 0.0


# --- (c) properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None)
@given(
    servers=st.integers(0, 200_000),
    rho=st.floats(0.0, 2.0, allow_nan=False),
)
def test_erlang_c_is_a_probability(servers, rho):
    value = float(erlang_c(servers, servers * rho))
    assert 0.0 <= value <= 1.0


@settings(max_examples=200, deadline=None, database=None)
@given(
    servers=st.integers(1, 100_000),
    rho=st.floats(0.0, 1.2, allow_nan=False),
    more=st.floats(0.0, 0.5, allow_nan=False),
)
def test_erlang_c_increases_with_load_and_decreases_with_servers(servers, rho, more):
    a = servers * rho
    low, high = erlang_c(servers, [a, a * (1.0 + more) + more])
    assert high >= low * (1.0 - 1e-12)
    assert float(erlang_c(servers + 1, a)) <= low * (1.0 + 1e-12)


def _arrays(n_time: int, n_site: int, hi: float):
    values = st.one_of(st.just(0.0), st.floats(0.0, hi, allow_nan=False))
    return hnp.arrays(np.float64, (n_time, n_site), elements=values)


@st.composite
def _backlog_cases(draw):
    n_time = draw(st.integers(1, 12))
    n_site = draw(st.integers(1, 4))
    offered = draw(_arrays(n_time, n_site, 1e4))
    capacity = draw(_arrays(n_time, n_site, 1e4))
    budget = draw(
        hnp.arrays(
            np.float64,
            (n_site,),
            elements=st.one_of(st.just(0.0), st.just(np.inf), st.floats(0.0, 60.0)),
        )
    )
    backlog_in = draw(hnp.arrays(np.float64, (n_site,), elements=st.floats(0.0, 1e4)))
    step_s = draw(st.sampled_from([1.0, 10.0, 60.0]))
    return offered, capacity, budget, backlog_in, step_s


@settings(max_examples=300, deadline=None, database=None)
@given(case=_backlog_cases())
def test_fluid_backlog_conserves_and_respects_the_budget(case):
    offered, capacity, budget, backlog_in, step_s = case
    res = fluid_backlog(offered, capacity, budget, step_s, backlog_in)
    before = np.vstack([backlog_in[None, :], res.backlog[:-1]])
    scale = 1.0 + offered + capacity + before
    np.testing.assert_allclose(
        offered, res.served + res.dropped + res.backlog - before, rtol=0, atol=1e-9 * scale.max()
    )
    for name in ("served", "dropped", "backlog", "queued_fraction", "mean_queued_wait_s"):
        assert np.all(getattr(res, name) >= 0.0), name
    assert np.all(res.served <= capacity * (1 + 1e-12) + 1e-9)
    assert np.all(res.queued_fraction <= 1.0)
    rate = capacity / step_s
    limit = np.broadcast_to(budget, rate.shape)
    finite = np.isfinite(limit)
    assert np.all(res.backlog[finite] <= (rate[finite] * limit[finite]) * (1 + 1e-12) + 1e-9)
    assert np.all(res.mean_queued_wait_s[finite] <= limit[finite])
    np.testing.assert_array_equal(res.backlog_out, res.backlog[-1])


@settings(max_examples=100, deadline=None, database=None)
@given(case=_backlog_cases(), split=st.integers(0, 12))
def test_fluid_backlog_is_chunkable(case, split):
    """Two chunks with the backlog carried over give the same steps as one run."""
    offered, capacity, budget, backlog_in, step_s = case
    split = min(split, offered.shape[0])
    whole = fluid_backlog(offered, capacity, budget, step_s, backlog_in)
    first = fluid_backlog(offered[:split], capacity[:split], budget, step_s, backlog_in)
    second = fluid_backlog(offered[split:], capacity[split:], budget, step_s, first.backlog_out)
    np.testing.assert_array_equal(np.vstack([first.served, second.served]), whole.served)
    np.testing.assert_array_equal(np.vstack([first.backlog, second.backlog]), whole.backlog)


@settings(max_examples=100, deadline=None, database=None)
@given(case=_backlog_cases())
def test_fluid_backlog_steady_state_serves_everything(case):
    """No backlog and λ < r: served = offered, nothing queued (the step is Erlang C's)."""
    offered, capacity, budget, _, step_s = case
    capacity = offered * 1.5 + 1.0
    res = fluid_backlog(offered, capacity, budget, step_s)
    np.testing.assert_array_equal(res.served, offered)
    np.testing.assert_array_equal(res.backlog, 0.0)
    np.testing.assert_array_equal(res.queued_fraction, 0.0)
