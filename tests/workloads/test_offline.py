"""Offline-first copilots: the outbox and staleness kernels against hand-computed cases, link
windows, conservation with requests held on devices, per-device queues, and the cost per
million tokens against the economics stage."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import orbitgrid
from orbitgrid.economics.assumptions import load_assumptions
from orbitgrid.economics.terrestrial import terrestrial_cost
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.spacecraft.accelerators import accelerator_catalog
from orbitgrid.workloads import offline, serving
from orbitgrid.workloads.config import WorkloadsConfig
from orbitgrid.workloads.users import build_users
from tests.workloads.test_stage import workload_scenario

COPILOT = {
    "name": "copilot",
    "kind": "on_device",
    "accelerator": "jetson-agx-orin-64",
    "model": "llama-3.2-1b-q4_0",
    "answers": {"chat": "60 %"},
    "updates": [{"name": "kb", "size": "10 MB", "every": "20 min"}],
    "cost_per_accelerator_hour": 0.1,
}


def test_outbox_releases_held_requests_with_their_waits():
    """One request per 10 s step, no link for steps 0–5, a link from step 6: the six held
    requests (arrived at 5, 15, …, 55 s) leave at 60 s with mean wait 30 s and waits in
    [5, 55] s; later requests go at once."""
    remote = np.ones((10, 1, 1))
    linked = np.array([[False]] * 6 + [[True]] * 4)
    state = offline.new_outbox(1, 1)
    flows = offline.run_outbox(remote, linked, np.arange(10) * 10.0, 10.0, state)
    np.testing.assert_array_equal(flows.released[:, 0, 0], [0, 0, 0, 0, 0, 0, 6, 0, 0, 0])
    np.testing.assert_array_equal(flows.direct[:, 0, 0], [0] * 6 + [1] * 4)
    np.testing.assert_array_equal(flows.held_end[:, 0, 0], [1, 2, 3, 4, 5, 6, 0, 0, 0, 0])
    waits = flows.wait_points_s[6, 0, 0]
    assert waits.mean() == pytest.approx(30.0)
    assert waits.min() >= 5.0 and waits.max() <= 55.0
    # Conservation over the block: everything sent or still held.
    assert flows.direct.sum() + flows.released.sum() + flows.held_end[-1].sum() == 10


def test_released_waits_of_an_even_spread_have_its_median():
    """One request every 10 min for 48 h without a link, then a link: the released waits are
    spread evenly over 0–48 h, so their median is 24 h; the outbox's points give it within
    half their spacing (48 h / 16 / 2 = 1.5 h). Four points put it at 18 h."""
    n = 48 * 6 + 1
    remote = np.ones((n, 1, 1))
    linked = np.zeros((n, 1), bool)
    linked[-1] = True
    flows = offline.run_outbox(
        remote, linked, np.arange(n) * 600.0, 600.0, offline.new_outbox(1, 1)
    )
    waits_h = flows.wait_points_s[-1, 0, 0] / 3600.0
    assert np.percentile(waits_h, 50, method="higher") == pytest.approx(24.0, abs=1.5)
    assert waits_h.mean() == pytest.approx(24.0, abs=0.1)


def test_outbox_carries_over_blocks():
    """Two blocks of the same steps give what one block gives (state carried in place)."""
    rng = np.random.default_rng(3)
    remote = rng.uniform(0, 2, (40, 3, 2))
    linked = rng.uniform(size=(40, 3)) < 0.3
    t_s = np.arange(40) * 5.0
    whole = offline.run_outbox(remote, linked, t_s, 5.0, offline.new_outbox(3, 2))
    state = offline.new_outbox(3, 2)
    first = offline.run_outbox(remote[:17], linked[:17], t_s[:17], 5.0, state)
    second = offline.run_outbox(remote[17:], linked[17:], t_s[17:], 5.0, state)
    np.testing.assert_allclose(np.concatenate([first.released, second.released]), whole.released)
    np.testing.assert_allclose(
        np.concatenate([first.wait_points_s, second.wait_points_s]), whole.wait_points_s
    )


def test_outbox_gives_up_requests_held_past_max_hold():
    """One request per 10 s step (arriving mid-step), links only every 61st step, ``max_hold``
    200 s. Of the 60 requests of an outage those that arrived within 200 s of the link
    (20 of them, waits 5–195 s, mean 100 s) are sent; the 40 older ones were given up along
    the way. The uniform spread the outbox assumes (module docstring) counts them to within
    one request; nothing is lost: sent + given up + held = arrived."""
    n = 61 * 4
    remote = np.ones((n, 1, 1))
    linked = (np.arange(n) % 61 == 60)[:, None]
    state = offline.new_outbox(1, 1)
    flows = offline.run_outbox(remote, linked, np.arange(n) * 10.0, 10.0, state, [200.0])
    links = np.flatnonzero(linked[:, 0])
    np.testing.assert_allclose(flows.released[links, 0, 0], 20.0, atol=1.0)
    per_outage = np.add.reduceat(flows.expired[:, 0, 0], np.r_[0, links[:-1] + 1])
    np.testing.assert_allclose(per_outage, 40.0, atol=1.0)
    for t in links:
        assert flows.wait_points_s[t, 0, 0].mean() == pytest.approx(100.0, abs=10.0)
        assert flows.wait_points_s[t, 0, 0].max() <= 200.0 + 1e-9
    total = flows.direct.sum() + flows.released.sum() + flows.expired.sum()
    assert total + flows.held_end[-1].sum() == pytest.approx(n)
    # Without a limit nothing is given up, and with one longer than the outages neither.
    for limit in (None, [601.0]):
        kept = offline.run_outbox(
            remote, linked, np.arange(n) * 10.0, 10.0, offline.new_outbox(1, 1), limit
        )
        assert kept.expired.sum() == 0
        np.testing.assert_allclose(kept.released[links, 0, 0], 60.0)


def test_staleness_follows_publication_and_download():
    """A 10 MB version published every 100 s, downloaded at 4 Mbps (20 s, two 10 s steps)
    by one device; a second endpoint never has a link."""
    n_t = 30
    t_s = np.arange(n_t) * 10.0
    linked = np.stack([np.ones(n_t, bool), np.zeros(n_t, bool)], 1)
    rate = np.full((n_t, 2), 4e6)
    state = offline.new_versions(2, 1, 0.0)
    stale = offline.staleness(linked, rate, np.ones(2), t_s, 10.0, np.array([10e6]),
                              np.array([100.0]), 0.0, state)[..., 0]  # fmt: skip
    # Version 100 s starts at step 10 and completes in step 11: held from step 11 on.
    expected = np.where(t_s < 110.0, t_s, np.where(t_s < 210.0, t_s - 100.0, t_s - 200.0))
    np.testing.assert_allclose(stale[:, 0], expected)
    np.testing.assert_allclose(stale[:, 1], t_s)  # never updated: as old as the run


def test_staleness_shared_link_is_slower():
    """Devices on one endpoint share its link: 4 devices take 4 × as long to update."""
    t_s = np.arange(20) * 10.0
    linked = np.ones((20, 1), bool)
    rate = np.full((20, 1), 4e6)
    args = (t_s, 10.0, np.array([10e6]), np.array([1000.0]), 0.0)
    one = offline.staleness(linked, rate, np.ones(1), *args, offline.new_versions(1, 1, 0.0))
    four = offline.staleness(linked, rate, np.full(1, 4.0), *args, offline.new_versions(1, 1, 0.0))
    assert one.max() == four.max() == t_s[-1]  # nothing newer than the start before 1000 s
    versions = offline.new_versions(1, 1, 0.0)
    versions[0, 0, 1] = 0.0  # pretend a version is pending: 10 MB over a quarter link
    offline.staleness(linked[:7], rate[:7], np.full(1, 4.0), t_s[:7], *args[1:], versions)
    assert versions[0, 0, 2] == pytest.approx(7 * 4e6 / 8 * 10 / 4)


def test_link_windows_open_and_close():
    """``every: 6 h, duration: 1 h, start: 2 h``: open 2–3 h, 8–9 h, …; closed before 2 h."""
    config = WorkloadsConfig.model_validate(
        workload_scenario()["workloads"]
        | {"populations": [{"name": "team", "latitude": 0, "longitude": 0, "users": 3,
                            "link_window": {"every": "6 h", "duration": "1 h", "start": "2 h"}},
                           {"name": "town", "latitude": 1, "longitude": 1, "users": 3}]}
    )  # fmt: skip
    users = build_users(config)
    hours = np.array([0.0, 1.99, 2.0, 2.5, 2.99, 3.0, 7.9, 8.0, 8.99, 9.0, 14.5])
    open_ = users.link_open(hours * 3600.0)
    expected = [False, False, True, True, True, False, False, True, True, False, True]
    np.testing.assert_array_equal(open_[:, 0], expected)
    assert open_[:, 1].all()


def offline_scenario(**population_changes) -> dict:
    d = workload_scenario()
    w = d["workloads"]
    w["populations"][0].update(population_changes)
    w["sites"].append(copy.deepcopy(COPILOT))
    w["options"].append({"name": "copilot", "sites": ["copilot", "Ashburn"]})
    d["economics"] = {"mission": "5 yr"}
    return d


@pytest.fixture(scope="module")
def windowed():
    """The mine's terminal is on 20 minutes of each hour, from minute 30."""
    window = {"every": "1 h", "duration": "20 min", "start": "30 min"}
    return orbitgrid.run(scenario_from_dict(offline_scenario(link_window=window)))


def test_offline_option_conserves_and_defers(windowed):
    """offered = served + dropped + Δqueued with requests held on devices; the mine's remote
    requests wait for its window while the cloud-only option drops them (no link)."""
    ds = windowed.dataset
    queued = ds.queued.values.astype(np.float64)
    change = np.diff(np.concatenate([np.zeros((1, queued.shape[1])), queued]), axis=0)
    offered = ds.offered_per_s.values * 60.0
    balance = (ds.served_per_s.values + ds.dropped_per_s.values) * 60.0 + change
    np.testing.assert_allclose(balance, offered, rtol=1e-5, atol=1e-3)
    options = windowed.summary["workloads"]["options"]
    mine = options["copilot"]["per_population"]["Escondida"]["chat"]
    ground = options["ground"]["per_population"]["Escondida"]["chat"]
    # No link outside the window (minutes 30–50), and inside it only with a satellite in view.
    link = ds.serving_satellite.sel(user="Escondida").values >= 0
    minute = np.arange(link.size)
    assert not link[(minute < 30) | (minute >= 50)].any()
    assert link.any()
    # Without a link the cloud-only option drops the mine's requests: flat demand.
    assert ground["dropped_no_site"] / ground["offered"] == pytest.approx(1 - link.mean(), abs=0.02)
    assert mine["dropped_no_site"] == 0
    assert mine["served"] >= 0.6 * mine["offered"] * 0.999  # the device answers 60 % anyway
    assert mine["share_on_device"] > 0.6
    # Requests held for the window waited at most from the start until its last link step.
    assert mine["deferred"] > 0
    first_link = int(np.flatnonzero(link)[0])
    assert 60.0 < mine["deferred_wait_p50_s"] < first_link * 60.0
    assert mine["deferred_wait_p99_s"] <= (first_link + 1) * 60.0 * 1.1
    assert float(ds.outbox_bytes.sel(option="copilot").max()) > 0
    assert float(ds.outbox_bytes.sel(option="ground").max()) == 0


def test_requests_held_past_max_hold_are_given_up_and_counted(windowed):
    """With ``max_hold: 10 min`` the mine's requests that waited longer for the 20-minute
    window are dropped as expired (reported, and in the unserved note), conservation still
    holds, and no request sent from the outbox waited longer than the limit."""
    window = {"every": "1 h", "duration": "20 min", "start": "30 min"}
    data = offline_scenario(link_window=window)
    data["workloads"]["classes"][0]["max_hold"] = "10 min"
    result = orbitgrid.run(scenario_from_dict(data))
    ds = result.dataset
    queued = ds.queued.values.astype(np.float64)
    change = np.diff(np.concatenate([np.zeros((1, queued.shape[1])), queued]), axis=0)
    balance = (ds.served_per_s.values + ds.dropped_per_s.values) * 60.0 + change
    np.testing.assert_allclose(balance, ds.offered_per_s.values * 60.0, rtol=1e-5, atol=1e-3)
    mine = result.summary["workloads"]["options"]["copilot"]["per_population"]["Escondida"]
    held = windowed.summary["workloads"]["options"]["copilot"]["per_population"]["Escondida"]
    assert mine["chat"]["dropped_expired"] > 0
    assert held["chat"]["dropped_expired"] == 0
    assert mine["chat"]["deferred"] < held["chat"]["deferred"]
    assert mine["chat"]["deferred_wait_p99_s"] <= 600.0 * 1.05  # histogram bins: ~2 %
    from orbitgrid.workloads.summary import unserved_note

    note = unserved_note(result.summary["workloads"]["options"]["copilot"])
    assert "given up on the device" in note


def test_staleness_reported_per_population(windowed):
    """The knowledge base (10 MB every 20 min, seconds to download) is at most one period
    plus the longest stretch without a link old, and at least the period less a step (the
    run outlasts two periods)."""
    ds = windowed.dataset
    devices = windowed.summary["workloads"]["devices"]["copilot"]["per_population"]
    for population in ("Escondida", "ships"):
        users = ds.user.values[ds.user_population.values == population]
        link = ds.serving_satellite.sel(user=users).values >= 0  # [time, endpoint]
        longest_gap = max(_longest_run(~link[:, e]) for e in range(link.shape[1]))
        largest = devices[population]["kb"]["staleness_max_s"]
        assert 1200 - 60 <= largest <= 1200 + (longest_gap + 1) * 60, population


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def test_device_waits_do_not_pool_across_users():
    """Per-user devices are independent queues: 20 × the users with 20 × the devices give
    the same response times on the device, and at batch 1 and 70 % load each device is an
    M/M/1 queue whose mean response is the service time / (1 − ρ) (Kleinrock 1975 §3.2);
    pooling the devices into one M/M/c would remove nearly all of the wait."""
    service = serving.llm_serving_capacity(
        "llama-3.2-1b-q4_0", "jetson-agx-orin-64", 1, 500, 200, batch=1,
        assumptions=serving.LLAMA_CPP_EDGE,
    )  # fmt: skip
    rho = 0.7
    rate_per_h = rho * float(service.request_rate_per_s) * 3600.0

    def local_response(users):
        d = offline_scenario(users=users)
        # No drops on the budget: the whole wait distribution stays in the figures.
        d["workloads"]["classes"][0].update(rate=f"{rate_per_h} /h", latency_budget="1 day")
        d["workloads"]["options"] = [{"name": "copilot", "sites": ["copilot"]}]
        # A per-token target no batch meets: batch 1, one request at a time per device.
        d["workloads"]["sites"][-1].update(answers={"chat": 1.0}, tpot_target="1 ms")
        run = orbitgrid.run(scenario_from_dict(d))
        return run.summary["workloads"]["options"]["copilot"]["per_population"]["Escondida"]["chat"]

    few, many = local_response(50), local_response(1000)
    assert few["response_p95_s"] == pytest.approx(many["response_p95_s"], rel=0.02)
    mm1_mean_s = float(service.service_time_s) / (1.0 - rho)
    assert many["response_mean_s"] == pytest.approx(mm1_mean_s, rel=0.1)


def test_cost_per_million_tokens_matches_economics(windowed):
    """The ground DC's price per accelerator-hour is the terrestrial model's (the same as the
    economics stage's terrestrial reference for an H100 fleet, which the run prices
    independently for its shell's parts), and an option's cost is accelerator-hours × price."""
    workloads = windowed.summary["workloads"]
    params = load_assumptions().parameters()
    h100 = accelerator_catalog()["h100-sxm"]
    reference = terrestrial_cost(8, params.accelerator_cost_usd("h100-sxm"), h100.tdp_w,
                                 h100.dense_tflops, 5.0, params)  # fmt: skip
    price = workloads["prices"]["Ashburn"]["usd_per_accelerator_hour"]
    assert price == pytest.approx(float(reference.cost_per_gpu_hour_usd), rel=1e-9)
    for name in ("ground", "copilot"):
        option = workloads["options"][name]
        hours = option["accelerator_hours"]
        expected = sum(
            h * workloads["prices"][site]["usd_per_accelerator_hour"] for site, h in hours.items()
        )
        assert option["cost_usd"] == pytest.approx(expected, rel=1e-9)
        assert option["cost_per_million_output_tokens_usd"] == pytest.approx(
            expected / option["output_tokens"] * 1e6, rel=1e-9
        )
    overhead = workloads["options"]["overhead"]
    assert overhead["cost_usd"] is None and overhead["unpriced_sites"] == ["overhead"]


def test_device_fields_are_checked():
    d = offline_scenario()
    d["workloads"]["sites"][-1]["answers"] = {"chats": 0.5}
    with pytest.raises(Exception, match=r"answers: unknown class 'chats'"):
        scenario_from_dict(d)
    d = offline_scenario()
    d["workloads"]["sites"][0]["model"] = "llama-3.2-1b-q4_0"
    with pytest.raises(Exception, match="model: only for an on_device site"):
        scenario_from_dict(d)
    d = offline_scenario(link_window={"every": "1 h", "duration": "2 h"})
    with pytest.raises(Exception, match="must not exceed every"):
        scenario_from_dict(d)
