"""A discrete-event simulation of individual AI requests at one serving site (test oracle).

simpy event loop; used by tests to check the closed-form and fluid queueing models of
``orbitgrid.workloads.queueing`` and, later, the workload stage end to end. It is a test
oracle, not engine code: it simulates every request, so keep cases small (≲ 10⁶ requests).

Model:

- Arrivals: a Poisson process per (population, class) whose rate is constant within each time
  step (``rate_per_s[step, population, class]``). Drawn as a Poisson count per step with
  uniform arrival instants, which is the same process (conditional uniformity of Poisson
  arrivals).
- The site has ``servers[step]`` slots (batch slots); a change takes effect at the step
  boundary. A running request is never pre-empted: when the slots shrink, running requests
  finish and no new one starts until fewer than the new number are busy.
- Service time per request: ``service_time_s[class]``, exponential with that mean,
  deterministic, or lognormal with that mean and coefficient of variation ``service_cv``.
- FIFO queue. With ``max_wait_s`` set, a request that cannot start at once is dropped on
  arrival when its predicted wait exceeds the budget of its class. The prediction is the
  M/M/c conditional mean wait: (requests ahead + busy slots beyond the slot count + 1) ×
  (mean service time of its class) / slots; infinite with no slot.
- The network is a fixed delay per request, ``network_delay_s[population, class]`` (RTT plus
  upload and download time), added to the time at the site: response = delay + end − arrival.
- After the last step the site keeps the last step's slots and serves what is queued
  (``drain=True``), or the simulation stops at the end of the last step (``drain=False``;
  requests not finished then have a NaN end, and a NaN start if they had not started).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy


@dataclass(frozen=True, eq=False)
class RequestRecords:
    """One entry per request, in arrival order; times in seconds from the start of step 0.

    ``start_s``/``end_s`` (service start and end at the site) and ``wait_s``/``response_s``
    are NaN for dropped requests and for requests not started/finished when the simulation
    stopped.
    """

    population: np.ndarray  # int64 population index
    request_class: np.ndarray  # int64 class index
    arrival_s: np.ndarray  # arrival at the site's queue
    start_s: np.ndarray
    end_s: np.ndarray
    wait_s: np.ndarray  # start − arrival (wait in queue)
    response_s: np.ndarray  # network delay + end − arrival
    dropped: np.ndarray  # bool: dropped on arrival

    def __len__(self) -> int:
        return self.arrival_s.size


class _Site:
    """c slots and a FIFO queue driven by simpy timeouts (callbacks, not processes: cheaper)."""

    def __init__(self, env, service_s, mean_service_s, budget_s, cls, start_s, end_s, dropped):
        self.env = env
        self.service_s = service_s
        self.mean_service_s = mean_service_s
        self.budget_s = budget_s
        self.cls = cls
        self.start_s = start_s
        self.end_s = end_s
        self.dropped = dropped
        self.queue: deque[int] = deque()
        self.busy = 0
        self.slots = 0

    def set_slots(self, slots: int) -> None:
        self.slots = slots
        self._dispatch()

    def arrive(self, i: int) -> None:
        if self.busy < self.slots and not self.queue:
            self._start(i)
            return
        j = self.cls[i]
        if self.budget_s[j] < math.inf:
            ahead = len(self.queue) + (self.busy - self.slots) + 1
            if self.slots > 0:
                predicted_s = ahead * self.mean_service_s[j] / self.slots
            else:
                predicted_s = math.inf
            if predicted_s > self.budget_s[j]:
                self.dropped[i] = True
                return
        self.queue.append(i)

    def _start(self, i: int) -> None:
        self.busy += 1
        self.start_s[i] = self.env.now
        done = self.env.timeout(self.service_s[i])
        done.callbacks.append(lambda _event, i=i: self._finish(i))

    def _finish(self, i: int) -> None:
        self.end_s[i] = self.env.now
        self.busy -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        while self.queue and self.busy < self.slots:
            self._start(self.queue.popleft())


def simulate_site(
    rate_per_s,
    step_s: float,
    servers,
    service_time_s,
    *,
    network_delay_s=0.0,
    service: str = "exponential",
    service_cv: float = 1.0,
    max_wait_s=None,
    drain: bool = True,
    seed: int = 0,
) -> RequestRecords:
    """Simulate the requests of one site over a grid of equal steps (see the module docstring).

    ``rate_per_s``: [step] or [step, population, class] arrival rates, requests/s. ``step_s``:
    step length, s. ``servers``: slots, an int or [step]. ``service_time_s``: mean service time,
    s, scalar or [class]. ``network_delay_s``: scalar or broadcastable to [population, class].
    ``service``: "exponential", "deterministic" or "lognormal" (coefficient of variation
    ``service_cv``). ``max_wait_s``: None (no drops, waits only
    recorded) or a budget on the wait in queue, s, scalar or [class]. ``seed``: the same seed
    gives the same records.
    """
    rate = np.asarray(rate_per_s, dtype=np.float64)
    if rate.ndim == 1:
        rate = rate[:, None, None]
    n_step, n_pop, n_cls = rate.shape
    slots = np.broadcast_to(np.asarray(servers, dtype=np.int64), (n_step,))
    mean_service_s = np.broadcast_to(np.asarray(service_time_s, dtype=np.float64), (n_cls,))
    delay_s = np.broadcast_to(np.asarray(network_delay_s, dtype=np.float64), (n_pop, n_cls))
    budget = np.inf if max_wait_s is None else max_wait_s
    budget_s = np.broadcast_to(np.asarray(budget, dtype=np.float64), (n_cls,))
    if service not in ("exponential", "deterministic", "lognormal"):
        raise ValueError(
            f"service must be 'exponential', 'deterministic' or 'lognormal', got {service!r}"
        )

    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate * step_s)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    step, pop, cls = np.unravel_index(cell, rate.shape)
    arrival_s = (step + rng.random(cell.size)) * step_s
    order = np.argsort(arrival_s, kind="stable")
    arrival_s, pop, cls = arrival_s[order], pop[order], cls[order]
    n = arrival_s.size
    if service == "exponential":
        service_s = rng.exponential(1.0, n) * mean_service_s[cls]
    elif service == "lognormal":
        sigma = math.sqrt(math.log1p(service_cv**2))
        service_s = rng.lognormal(-0.5 * sigma**2, sigma, n) * mean_service_s[cls]
    else:
        service_s = mean_service_s[cls].copy()

    # Plain lists: per-request scalar access in the event loop is much faster than on arrays.
    start_s = [math.nan] * n
    end_s = [math.nan] * n
    dropped = [False] * n
    env = simpy.Environment()
    site = _Site(
        env,
        service_s.tolist(),
        mean_service_s.tolist(),
        budget_s.tolist(),
        cls.tolist(),
        start_s,
        end_s,
        dropped,
    )
    # Step boundaries are scheduled first, so simpy's tie-break (insertion order) applies a
    # slot change before an arrival at the same instant.
    site.set_slots(int(slots[0]))
    for k in range(1, n_step):
        boundary = env.timeout(k * step_s)
        boundary.callbacks.append(lambda _event, m=int(slots[k]): site.set_slots(m))
    times = arrival_s.tolist()

    def arrive(i: int) -> None:
        # Each arrival schedules the next, which keeps simpy's event heap small.
        if i > 0:
            site.arrive(i - 1)
        if i < n:
            event = env.timeout(times[i] - env.now)
            event.callbacks.append(lambda _event: arrive(i + 1))

    arrive(0)
    env.run(until=None if drain else n_step * step_s)
    start_s = np.array(start_s)
    end_s = np.array(end_s)
    dropped = np.array(dropped, dtype=bool)

    wait_s = start_s - arrival_s
    response_s = delay_s[pop, cls] + end_s - arrival_s
    return RequestRecords(
        population=pop.astype(np.int64),
        request_class=cls.astype(np.int64),
        arrival_s=arrival_s,
        start_s=start_s,
        end_s=end_s,
        wait_s=wait_s,
        response_s=response_s,
        dropped=dropped,
    )
