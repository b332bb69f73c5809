"""The workload stage end to end on a small constellation: conservation, physical lower bounds,
moving users, placement rules and scenario errors."""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import orbitgrid
from orbitgrid.constants import SPEED_OF_LIGHT_KM_S, WGS72
from orbitgrid.errors import ScenarioError
from orbitgrid.network.geometry import geodetic_to_ecef_km
from orbitgrid.network.search import csr_from_links
from orbitgrid.network.site_search import _multi_source_search
from orbitgrid.scenario import scenario_from_dict
from orbitgrid.workloads import mobility
from orbitgrid.workloads.placement import POLICIES, PlacementProblem
from orbitgrid.workloads.stage import WorkloadStage
from tests.conftest import small_scenario_dict

DC = {"latitude": 39.04, "longitude": -77.49}
SHIP_ROUTE = [[1.2, 103.8], [5.9, 80.5], [12.6, 43.4]]


def workload_scenario(dc_count: int = 8, **workloads) -> dict:
    """66 satellites (6 × 11 at 550 km, 53°) with Jetson nodes, a ground DC, a mine, ships."""
    d = small_scenario_dict()
    d["constellation"][0].update({"planes": 6, "sats_per_plane": 11})
    d["time"] = {"start": "2027-03-20T00:00:00Z", "duration": "1 h", "step": "60 s"}
    d["spacecraft"]["node"]["compute"] = {
        "accelerator": "jetson-agx-orin-64",
        "count": 1,
        "max_temperature": "60 C",
    }
    d["network"] = {"gsl": {"min_elevation": "10 deg"}}
    d["workloads"] = {
        "populations": [
            {"name": "Escondida", "latitude": -24.27, "longitude": -69.07, "users": 2000,
             "jurisdiction": "CL"},
            {"name": "ships", "kind": "ship", "route": SHIP_ROUTE, "count": 3, "users": 20},
        ],
        "classes": [
            {"name": "chat", "model": "llama-3.2-1b-q4_0", "prompt_tokens": 500,
             "output_tokens": 200, "upload": "2 kB", "latency_budget": "30 s", "rate": "6 /h"},
        ],
        "sites": [
            {"name": "Ashburn", "kind": "ground_dc", **DC, "accelerator": "h100-sxm",
             "count": dc_count, "jurisdiction": "US"},
            {"name": "cluster", "kind": "orbital_cluster", "shell": "w"},
            {"name": "overhead", "kind": "overhead_satellite", "shell": "w"},
        ],
        "options": [
            {"name": "ground", "sites": ["Ashburn"]},
            {"name": "spill", "sites": ["cluster", "Ashburn"], "policy": "fill-and-spill"},
            {"name": "overhead", "sites": ["overhead"], "policy": "lowest-latency"},
        ],
    }  # fmt: skip
    d["workloads"].update(workloads)
    return d


@pytest.fixture(scope="module")
def result():
    return orbitgrid.run(scenario_from_dict(workload_scenario()))


@pytest.fixture(scope="module")
def overloaded_result():
    return orbitgrid.run(scenario_from_dict(overloaded()))


def test_requests_are_conserved_every_step(result, overloaded_result):
    """offered = served + dropped + Δqueued at every step and option (the model's invariant),
    checked on an overloaded site too (a tiny DC whose backlog builds and drains)."""
    for run in (result, overloaded_result):
        ds = run.dataset
        step_s = 60.0
        queued = ds.queued.values.astype(np.float64)
        change = np.diff(np.concatenate([np.zeros((1, queued.shape[1])), queued]), axis=0)
        offered = ds.offered_per_s.values * step_s
        balance = ds.served_per_s.values * step_s + ds.dropped_per_s.values * step_s + change
        assert offered.sum() > 0
        np.testing.assert_allclose(balance, offered, rtol=1e-5, atol=1e-3)


def overloaded() -> dict:
    """One H100 and a demand well above what it serves at the 50 ms per-token target."""
    d = workload_scenario(dc_count=1)
    d["workloads"]["populations"][0]["users"] = 400_000
    d["workloads"]["options"] = [{"name": "ground", "sites": ["Ashburn"]}]
    return d


def test_overload_queues_and_drops(overloaded_result):
    """Demand above capacity: a backlog forms, requests are dropped, the served rate is the
    site's capacity rather than the demand."""
    run = overloaded_result
    ds = run.dataset
    figures = run.summary["workloads"]["options"]["ground"]
    assert float(ds.queued.max()) > 0
    assert figures["dropped_no_capacity"] > 0 or figures["dropped_over_budget"] > 0
    assert figures["served_fraction"] < 0.9


def test_response_never_below_light_time_and_compute(result):
    """Each user's mean response to the ground DC is at least the round trip at the speed of
    light along the straight chord to the DC plus the unloaded compute time (prefill and
    decode at batch 1), whatever the path through space."""
    ds = result.dataset
    users = ds.user_population.values
    dc = geodetic_to_ecef_km(np.array([DC["latitude"]]), np.array([DC["longitude"]]),
                             np.zeros(1), WGS72)[0]  # fmt: skip
    lat = ds.user_latitude_deg.values.astype(np.float64)
    lon = ds.user_longitude_deg.values.astype(np.float64)
    where = geodetic_to_ecef_km(lat, lon, np.zeros_like(lat), WGS72)
    chord_s = 2.0 * np.linalg.norm(where - dc, axis=-1) / SPEED_OF_LIGHT_KM_S
    response = ds.response_time_s.sel(option="ground").values.astype(np.float64)
    served = np.isfinite(response)
    assert served.sum() > 10 and (users == "Escondida").any()
    assert np.all(response[served] >= chord_s[served])


def test_moving_users_follow_their_route(result):
    """The ships' stored positions are those of the mobility model at the same instants."""
    ds = result.dataset
    ships = ds.user_population.values == "ships"
    speed = 17 * 1852 / 3600
    movers = [mobility.Mover(f"s{k}", SHIP_ROUTE, speed, 0.0, 0.0, "loop", (k + 0.25) / 3)
              for k in range(3)]  # fmt: skip
    t_s = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "s")
    lat, lon, _, _ = mobility.positions(mobility.build_tracks(movers), t_s)
    np.testing.assert_allclose(ds.user_latitude_deg.values[:, ships], lat, atol=1e-4)
    np.testing.assert_allclose(ds.user_longitude_deg.values[:, ships], lon, atol=1e-4)


def test_site_kind_rule_and_shares(result):
    """An option whose only site is the overhead satellite serves only there; ground only
    there; every served request is counted in exactly one site kind."""
    options = result.summary["workloads"]["options"]
    assert options["ground"]["share_ground_dc"] == pytest.approx(1.0)
    overhead = options["overhead"]
    assert overhead["share_overhead_satellite"] == pytest.approx(1.0)
    for figures in options.values():
        shares = sum(figures[f"share_{k}"] or 0 for k in
                     ("ground_dc", "orbital_cluster", "overhead_satellite"))  # fmt: skip
        assert shares == pytest.approx(1.0)


def test_same_jurisdiction_rule_keeps_requests_home():
    """With same_jurisdiction the Chilean mine may not use the US data center: its demand is
    dropped as unserved, while the ships (no jurisdiction at sea) still are served."""
    d = workload_scenario(
        options=[{"name": "home", "sites": ["Ashburn"], "same_jurisdiction": True}]
    )
    run = orbitgrid.run(scenario_from_dict(d))
    home = run.summary["workloads"]["options"]["home"]["per_population"]
    mine = home["Escondida"]["chat"]
    assert mine["served"] == 0
    assert mine["dropped_no_site"] == pytest.approx(mine["offered"])
    assert home["ships"]["chat"]["served"] > 0


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda w: w["classes"][0].update(model="gpt-9"), "classes[0].model"),
        (lambda w: w["options"][0].update(sites=["Nowhere"]), "options[0].sites"),
        (lambda w: w["options"][0].update(policy="random"), "policy"),
        (lambda w: w["sites"][1].update(shell="nope"), "shell"),
        (lambda w: w["populations"][1].update(route="atlantis"), "route"),
        (lambda w: w["classes"][0].update(rate="6 per hour"), "rate"),
        (lambda w: w["classes"][0].update(rate=float("inf")), "classes[0].rate"),
        (lambda w: w["populations"][0].update(name="mine\x1b[2J"), "populations[0].name"),
        (lambda w: w["sites"][0].update(name="Ash,burn"), "sites[0].name"),
    ],
)
def test_bad_workload_fields_name_field_and_value(change, path):
    d = workload_scenario()
    change(d["workloads"])
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(copy.deepcopy(d))
    assert path in str(error.value)


@pytest.mark.parametrize("route", [[[0, 0], [0, 0]], [[0, 0], [0, 179.5]]])
def test_bad_route_geometry_names_the_population(route):
    """Route geometry (all one point, an antipodal leg) is checked when the fleet is expanded,
    as the run starts; the error names the population's route, not an internal mover."""
    d = workload_scenario()
    d["workloads"]["populations"][1]["route"] = route
    with pytest.raises(ScenarioError) as error:
        orbitgrid.run(scenario_from_dict(d))
    assert error.value.path == "workloads.populations[1].route"
    assert "ships-" not in str(error.value)


def test_multi_source_search_matches_networkx():
    """Distances from a set of sources on random graphs equal networkx's multi-source
    Dijkstra (an independent implementation); endpoints other than sources do not relay."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        n_sat, n_ep = 40, 6
        n = n_sat + n_ep
        a, b = [], []
        for _ in range(90):
            u, v = rng.integers(0, n_sat, 2)
            if u != v:
                a.append(u)
                b.append(v)
        for e in range(n_ep):
            for s in rng.choice(n_sat, 2, replace=False):
                a.append(s)
                b.append(n_sat + e)
        a, b = np.array(a), np.array(b)
        km = rng.uniform(100, 2000, len(a))
        indptr, head, tail, weight, length, _ = csr_from_links(n, a, b, km, np.ones(len(a)), 0.0)
        sources = np.array([n_sat + 1, 3, 7])
        pred = _multi_source_search(indptr, head, weight, n_sat, sources,
                                    np.zeros(n_sat, bool), np.zeros(n_ep, bool))  # fmt: skip
        graph = nx.Graph()
        for u, v, w in zip(a, b, km, strict=True):
            # Endpoints are leaves unless they are a source: model that with directed edges.
            if not graph.has_edge(u, v) or graph[u][v]["weight"] > w:
                graph.add_edge(int(u), int(v), weight=float(w))
        directed = nx.DiGraph()
        for u, v, data in graph.edges(data=True):
            for x, y in ((u, v), (v, u)):
                if x >= n_sat and x not in sources:
                    continue
                directed.add_edge(x, y, weight=data["weight"])
        expected = nx.multi_source_dijkstra_path_length(directed, set(sources.tolist()))
        for node in range(n):
            got = 0.0
            k = node
            if pred[k] == -1:
                assert node not in expected
                continue
            while pred[k] >= 0:
                got += length[pred[k]]
                k = tail[pred[k]]
            assert got == pytest.approx(expected[node], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2**31 - 1),
)
def test_policies_split_all_allowed_demand(n_t, n_u, n_k, seed):
    """Every policy sends all demand that has an allowed site, to allowed sites only, and
    nothing where no site is allowed; fill-and-spill keeps every pool within the spill
    utilisation except for demand that fits nowhere."""
    rng = np.random.default_rng(seed)
    n_c = 2
    latency = rng.uniform(0.1, 5, (n_t, n_u, n_c, n_k))
    latency[rng.random(latency.shape) < 0.3] = np.inf
    demand = rng.uniform(0, 10, (n_t, n_u, n_c))
    queue = np.broadcast_to(np.arange(n_k), (n_t, n_u, n_k)).copy()
    capacity = rng.uniform(1, 40, (n_t, n_k, n_c))
    problem = PlacementProblem(latency, rng.uniform(1, 9, latency.shape), demand, queue,
                               capacity, 0.8)  # fmt: skip
    any_allowed = np.isfinite(latency).any(-1)
    for name, policy in POLICIES.items():
        share = policy(problem)
        assert np.all(share >= 0), name
        assert np.all(share[~np.isfinite(latency)] == 0), name
        np.testing.assert_allclose(share.sum(-1), any_allowed.astype(float), atol=1e-9)


def test_network_failures_remove_sites():
    """Satellites the network section fails (scheduled) neither relay nor serve: while every
    satellite is down nothing reaches any site, afterwards service resumes; an endpoint
    failure of the network section (its endpoints, not the users) does not apply here."""
    d = workload_scenario()
    n_sat = 66
    d["network"]["endpoints"] = [{"name": "gateway", "latitude": 0.0, "longitude": 0.0}]
    d["network"]["failures"] = {
        "scheduled": [
            *({"element": "satellite", "id": k, "start": "0 s", "end": "30 min"}
              for k in range(n_sat)),
            {"element": "endpoint", "name": "gateway", "start": "0 s", "end": "1 h"},
        ]
    }  # fmt: skip
    run = orbitgrid.run(scenario_from_dict(d))
    ds = run.dataset
    first = ds.time.values < ds.time.values[0] + np.timedelta64(30, "m")
    served = ds.served_per_s.values
    assert (served[first] == 0).all()
    assert (ds.serving_satellite.values[first] == -1).all()
    assert (served[~first].sum(0) > 0).all()


def test_population_series_add_up(result):
    """The per-population series sum to the option's offered requests at every stored step,
    and what each population is served matches its summary count."""
    ds = result.dataset
    np.testing.assert_allclose(
        ds.population_offered_per_s.sum("population").values, ds.offered_per_s.values, rtol=1e-5
    )
    assert set(ds.population.values) == {"Escondida", "ships"}
    served = ds.population_served_per_s.sel(option="ground", population="ships").values * 60.0
    figures = result.summary["workloads"]["options"]["ground"]["per_population"]["ships"]["chat"]
    assert served.sum() == pytest.approx(figures["served"], rel=1e-5)
    assert (ds.population_served_per_s.values <= ds.population_offered_per_s.values + 1e-3).all()


def test_population_sums_equal_the_one_hot_product():
    """Per-population sums of per-user figures, with users not grouped by population (fixed
    populations first, then movers) and a population without users, against the dense
    users × populations one-hot product they replace."""
    from types import SimpleNamespace

    rng = np.random.default_rng(7)
    population = np.array([3, 0, 3, 1, 0, 3, 1, 1, 0])  # population 2 has no users
    owner = SimpleNamespace(
        users=SimpleNamespace(population=population),
        config=SimpleNamespace(populations=[None] * 4),
    )
    per_user = rng.random((5, population.size))
    one_hot = np.zeros((population.size, 4))
    one_hot[np.arange(population.size), population] = 1.0
    sums = WorkloadStage._population_sums(owner, per_user)
    np.testing.assert_allclose(sums, per_user @ one_hot, rtol=1e-12)
    assert (sums[:, 2] == 0).all()
