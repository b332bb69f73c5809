"""Cost per million output tokens of each service option, from the economics section.

Model: a request served at a site uses ``accelerators / capacity`` accelerator-seconds, where
``capacity`` is the requests per second one model copy (a DC replica, a satellite, a device)
serves at the site's operating batch and ``accelerators`` the accelerators of that copy. The
cost of a request is that time at the site's levelised price per delivered accelerator-hour:

- ``cost_per_accelerator_hour`` of the site, when the scenario gives one (any kind);
- a ground DC: the terrestrial model of ``economics.terrestrial`` (facility, accelerators
  and their refresh, electricity at the assumptions' PUE and price, water, maintenance) for a
  data center of the site's accelerators, under the scenario's ``economics:`` overrides and
  mission length;
- an orbital cluster: the orbital cost per delivered GPU-hour of its shell from the run's
  economics (launch, build, replacement, ground segment; eclipse, heat and battery limits
  included through the delivered fraction);
- the satellite overhead and on-device copilots have no price of their own (a broadband
  satellite's cost is not its edge computer's; a user's device is the user's): unpriced
  unless the site gives ``cost_per_accelerator_hour``.

This is the cost of the accelerator time the served tokens used, as a provider at full
utilisation of its operating point would charge it: idle capacity is not charged to the
tokens (a site sized for more demand than the run offers costs more per token in reality).
Options that used an unpriced site get no cost (None) and name the site.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from orbitgrid.economics.assumptions import load_assumptions
from orbitgrid.economics.terrestrial import terrestrial_cost
from orbitgrid.spacecraft.accelerators import accelerator_catalog


def site_prices(scenario: Any, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per site: ``{"usd_per_accelerator_hour": float | None, "source": str}``."""
    economics = scenario.economics
    shells = (summary.get("economics") or {}).get("shells", {})
    params = load_assumptions().parameters(economics.overrides) if economics else None
    prices = []
    for site in scenario.workloads.sites:
        price, source = None, "unpriced: set cost_per_accelerator_hour"
        if site.cost_per_accelerator_hour_usd is not None:
            price, source = site.cost_per_accelerator_hour_usd, "scenario"
        elif site.kind == "ground_dc" and params is not None:
            price, source = _terrestrial_price(site, params, economics), "economics: terrestrial"
        elif site.kind == "orbital_cluster" and site.shell in shells:
            value = shells[site.shell]["orbital"]["cost_per_gpu_hour_usd"]
            price, source = value, f"economics: orbital shell {site.shell}"
        if price is not None and not math.isfinite(float(price)):
            price, source = None, f"{source} (no delivered compute)"
        prices.append({"usd_per_accelerator_hour": price, "source": source})
    return prices


def _terrestrial_price(site, params, economics) -> float | None:
    accelerator = accelerator_catalog()[site.accelerator]
    try:
        unit_cost = params.accelerator_cost_usd(site.accelerator)
    except (KeyError, ValueError, AttributeError):
        return None  # no price for this part in the assumptions table
    summary = terrestrial_cost(
        site.count,
        unit_cost,
        accelerator.tdp_w,
        accelerator.dense_tflops,
        economics.mission_years,
        params,
        economics.terrestrial_delivered_fraction,
    )
    return float(summary.cost_per_gpu_hour_usd)


def price_options(
    scenario: Any,
    summary: dict[str, Any],
    accelerator_s: np.ndarray,
    output_tokens: np.ndarray,
) -> dict[str, Any]:
    """Cost figures to merge into ``summary["workloads"]``.

    ``accelerator_s [option, population, class, site]``: accelerator-seconds used by the
    served requests; ``output_tokens [option, population, class]``.
    """
    config = scenario.workloads
    prices = site_prices(scenario, summary)
    price = np.array([np.nan if p["usd_per_accelerator_hour"] is None
                      else p["usd_per_accelerator_hour"] for p in prices])  # fmt: skip
    used = accelerator_s > 0
    with np.errstate(invalid="ignore"):
        cost = np.where(used, accelerator_s / 3600.0 * price, 0.0).sum(-1)
    names = [s.name for s in config.sites]
    options: dict[str, Any] = {}
    for o, option in enumerate(config.options):
        entry: dict[str, Any] = {
            "accelerator_hours": {
                names[k]: float(accelerator_s[o, ..., k].sum() / 3600.0)
                for k in range(len(names))
                if used[o, ..., k].any()
            },
            **_cost(cost[o].sum(), output_tokens[o].sum(), used[o].any((0, 1)), names, price),
            "per_population": {},
        }
        for p, population in enumerate(config.populations):
            for c, request in enumerate(config.classes):
                if output_tokens[o, p, c] <= 0:
                    continue
                figures = _cost(cost[o, p, c], output_tokens[o, p, c], used[o, p, c], names, price)
                entry["per_population"].setdefault(population.name, {})[request.name] = figures
        options[option.name] = entry
    return {
        "prices": {names[k]: prices[k] for k in range(len(names))},
        "options": options,
    }


def _cost(cost_usd, tokens, used, names, price) -> dict[str, Any]:
    unpriced = [names[k] for k in np.flatnonzero(used & np.isnan(price))]
    if unpriced or not tokens > 0:
        return {"cost_usd": None, "cost_per_million_output_tokens_usd": None,
                "unpriced_sites": unpriced}  # fmt: skip
    return {
        "cost_usd": float(cost_usd),
        "cost_per_million_output_tokens_usd": float(cost_usd / tokens * 1e6),
        "unpriced_sites": [],
    }
