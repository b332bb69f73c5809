"""Offline-first copilots: requests held on the device while it has no link, and the staleness
of what the device keeps current (model weights, a knowledge base).

**Outbox.** A request the local model does not answer needs a remote site. While the user's
endpoint has no link (no satellite in view, or outside its ``link_window``) such requests wait
on the device; at the first step with a link the whole outbox is sent and joins that step's
requests to the option's other sites (a burst: a synchronising device sends what it holds).
Per (endpoint, class) the outbox keeps its request count, the count-weighted sum of arrival
times and the oldest arrival, so the wait of the requests it releases is known by its mean
and its range. Requests arriving within a step arrive, on average, at its middle.

The waits of a released batch are represented by ``DEFER_POINTS`` equally weighted points
spread evenly over ``[max(0, 2 w̄ − w_max), w_max]`` (or ``[0, 2 w̄]`` when that is shorter),
with ``w̄`` the batch's exact mean wait and ``w_max`` its oldest request's: the uniform
distribution of constant demand over an outage, and mean-preserving for any demand.

**Giving up.** A class may set ``max_hold``: a request held longer is given up on the device
(the question no longer matters) and counted as expired, a drop. The outbox also keeps its
newest arrival, and takes the held requests as spread evenly between the oldest and the
newest, the same uniform model: at each step, before anything is sent, the share of them
that arrived before ``t − max_hold`` expires, the oldest arrival moves up to that cut and the
sum of arrival times loses the expired requests' (the mean of their span, kept within what
the remaining requests allow). Exact for constant demand, to the step; an approximation of
the order of the spread's error otherwise.

**Staleness.** A device holds a version of each update stream; a new version is published
every ``every`` from the scenario start (the device starts with the current one). With a
link the device downloads the newest version it does not hold, at its endpoint's ground-link
rate shared by the devices on the endpoint (``per: user``: every user's device downloads its
own copy), and finishes a download before starting the next. Staleness at a step is the age
of the held version, t − t₀ for a version published at t₀, even if just downloaded: what a
user sees is how old the model or the data are. A download that ends within a step counts
from the step's start (optimistic by at most one step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

# Points that represent the waits of the requests an outbox releases at one step.
DEFER_POINTS = 16


@dataclass(frozen=True, eq=False)
class OutboxFlows:
    """One option's outbox over a block of steps.

    ``direct [time, user, class]``: requests sent at once (the user had a link);
    ``released``: requests sent from the outbox at that step; ``expired``: requests given up
    at that step (held longer than their class's ``max_hold``); ``held_end [time, user,
    class]`` requests still on the devices at the end of each step; ``wait_points_s [time,
    user, class, DEFER_POINTS]``: the waits of the released requests (equally weighted).
    """

    direct: np.ndarray
    released: np.ndarray
    expired: np.ndarray
    held_end: np.ndarray
    wait_points_s: np.ndarray


def new_outbox(n_users: int, n_classes: int) -> np.ndarray:
    """Outbox state ``[user, class, 4]``: count, Σ count × arrival time (s), oldest and
    newest arrival."""
    state = np.zeros((n_users, n_classes, 4))
    state[..., 2] = np.inf
    state[..., 3] = -np.inf
    return state


def run_outbox(
    remote: np.ndarray,
    linked: np.ndarray,
    t_s: np.ndarray,
    step_s: float,
    state: np.ndarray,
    max_hold_s: np.ndarray | None = None,
) -> OutboxFlows:
    """Pass ``remote [time, user, class]`` requests (counts in each step) through the outbox
    of each (user, class); ``linked [time, user]``; ``max_hold_s [class]`` (inf or None: held
    until sent); ``state`` is updated in place."""
    n_c = remote.shape[2]
    limit = np.full(n_c, np.inf) if max_hold_s is None else np.asarray(max_hold_s, np.float64)
    direct, released, expired, held, points = _outbox(
        np.ascontiguousarray(remote, np.float64),
        np.ascontiguousarray(linked),
        np.asarray(t_s, np.float64),
        float(step_s),
        state,
        limit,
        DEFER_POINTS,
    )
    return OutboxFlows(
        direct=direct, released=released, expired=expired, held_end=held, wait_points_s=points
    )


@nb.njit(cache=True)
def _outbox(remote, linked, t_s, step_s, state, max_hold_s, n_points):
    n_t, n_u, n_c = remote.shape
    direct = np.zeros((n_t, n_u, n_c))
    released = np.zeros((n_t, n_u, n_c))
    expired = np.zeros((n_t, n_u, n_c))
    held = np.zeros((n_t, n_u, n_c))
    points = np.zeros((n_t, n_u, n_c, n_points))
    for u in range(n_u):
        for c in range(n_c):
            count = state[u, c, 0]
            time_sum = state[u, c, 1]
            oldest = state[u, c, 2]
            newest = state[u, c, 3]
            for t in range(n_t):
                arriving = remote[t, u, c]
                cut = t_s[t] - max_hold_s[c]
                if count > 0.0 and oldest < cut:
                    # Give up what arrived before the cut (module docstring: uniform spread
                    # between the oldest and the newest arrival).
                    span = newest - oldest
                    share = 1.0 if span <= 0.0 or newest <= cut else (cut - oldest) / span
                    gone = count * share
                    expired[t, u, c] = gone
                    if share >= 1.0:
                        count = 0.0
                        time_sum = 0.0
                        oldest = np.inf
                        newest = -np.inf
                    else:
                        count -= gone
                        mean = (time_sum - gone * 0.5 * (oldest + cut)) / count
                        time_sum = count * min(max(mean, cut), newest)
                        oldest = cut
                if linked[t, u]:
                    direct[t, u, c] = arriving
                    if count > 0.0:
                        released[t, u, c] = count
                        # Sent at the start of the step with the link.
                        mean_wait = t_s[t] - time_sum / count
                        longest = t_s[t] - oldest
                        shortest = max(0.0, 2.0 * mean_wait - longest)
                        span = 2.0 * (mean_wait - shortest)
                        for j in range(n_points):
                            points[t, u, c, j] = shortest + (j + 0.5) / n_points * span
                        count = 0.0
                        time_sum = 0.0
                        oldest = np.inf
                        newest = -np.inf
                elif arriving > 0.0:
                    arrival = t_s[t] + 0.5 * step_s
                    if count == 0.0:
                        oldest = arrival
                    newest = arrival
                    count += arriving
                    time_sum += arriving * arrival
                held[t, u, c] = count
            state[u, c, 0] = count
            state[u, c, 1] = time_sum
            state[u, c, 2] = oldest
            state[u, c, 3] = newest
    return direct, released, expired, held, points


def new_versions(n_users: int, n_streams: int, start_s: float) -> np.ndarray:
    """Update state ``[user, stream, 3]``: publication time of the held version, of the
    version being downloaded (NaN: none), and the bytes of it received."""
    state = np.zeros((n_users, n_streams, 3))
    state[..., 0] = start_s
    state[..., 1] = np.nan
    return state


def staleness(
    linked: np.ndarray,
    rate_bps: np.ndarray,
    devices: np.ndarray,
    t_s: np.ndarray,
    step_s: float,
    size_bytes: np.ndarray,
    every_s: np.ndarray,
    start_s: float,
    state: np.ndarray,
) -> np.ndarray:
    """Staleness ``[time, user, stream]`` (s) of each endpoint's devices; ``linked [time,
    user]``, ``rate_bps [time, user]`` the endpoint's ground-link rate, ``devices [user]``
    downloading copies that share it, ``size_bytes`` / ``every_s`` ``[stream]``; ``state``
    (``new_versions``) is updated in place."""
    return _staleness(
        np.ascontiguousarray(linked),
        np.nan_to_num(np.asarray(rate_bps, np.float64)),
        np.asarray(devices, np.float64),
        np.asarray(t_s, np.float64),
        float(step_s),
        np.asarray(size_bytes, np.float64),
        np.asarray(every_s, np.float64),
        float(start_s),
        state,
    )


@nb.njit(cache=True)
def _staleness(linked, rate_bps, devices, t_s, step_s, size_bytes, every_s, start_s, state):
    n_t, n_u = linked.shape
    n_s = size_bytes.shape[0]
    out = np.zeros((n_t, n_u, n_s))
    for u in range(n_u):
        for s in range(n_s):
            held = state[u, s, 0]
            target = state[u, s, 1]
            received = state[u, s, 2]
            for t in range(n_t):
                latest = start_s + np.floor((t_s[t] - start_s) / every_s[s]) * every_s[s]
                if np.isnan(target) and latest > held:
                    target = latest
                    received = 0.0
                if linked[t, u] and not np.isnan(target):
                    received += rate_bps[t, u] / 8.0 * step_s / max(devices[u], 1.0)
                    if received >= size_bytes[s]:
                        held = target
                        target = np.nan
                        received = 0.0
                out[t, u, s] = t_s[t] - held
            state[u, s, 0] = held
            state[u, s, 1] = target
            state[u, s, 2] = received
    return out
