"""Network: ground endpoints, inter-satellite links, time-varying routing, contacts, budgets.

The engine calls ``route_chunk`` as the network stage on each time chunk. Everything else a
user needs is listed here; helpers live in the submodules (``geometry``, ``topology``,
``routing``, ``grouping``, ``contacts``, ``fibre``, ``link_budget``, ``summary``).
"""

from orbitgrid.network.build import build_topology, failure_masks, path_history, routing_dataset
from orbitgrid.network.config import NetworkConfig, network_config_from_dict
from orbitgrid.network.contacts import ContactWindows, ion_contact_plan, windows_from_mask
from orbitgrid.network.endpoints import EndpointTable, read_endpoints_csv, resolve_endpoints
from orbitgrid.network.grouping import GroupingResult, group_catalog
from orbitgrid.network.routing import (
    STATUS_MESSAGES,
    FailureMasks,
    NetworkTopology,
    PathChanges,
    PathState,
    RoutingResult,
    route_chunk,
    route_graph,
)
from orbitgrid.network.summary import routing_summary
from orbitgrid.network.topology import ConstellationIndex, formation_isls, plus_grid_isls

__all__ = [
    # scenario section
    "NetworkConfig",
    "network_config_from_dict",
    # endpoints and topology
    "ConstellationIndex",
    "EndpointTable",
    "GroupingResult",
    "build_topology",
    "formation_isls",
    "group_catalog",
    "plus_grid_isls",
    "read_endpoints_csv",
    "resolve_endpoints",
    # the stage
    "STATUS_MESSAGES",
    "FailureMasks",
    "NetworkTopology",
    "PathChanges",
    "PathState",
    "RoutingResult",
    "failure_masks",
    "route_chunk",
    "route_graph",
    "path_history",
    "routing_dataset",
    "routing_summary",
    # contacts
    "ContactWindows",
    "ion_contact_plan",
    "windows_from_mask",
]
