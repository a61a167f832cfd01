"""Shared set-up of the chapter-4 measure tests: a Mapper-style graph built by hand."""

from __future__ import annotations

import networkx as nx


def graph_of(nodes, edges=()):
    """A graph whose node ``name`` has ``members`` (point indices), with ``edges`` between names."""
    g = nx.Graph()
    for name, members in nodes.items():
        g.add_node(name, members=list(members))
    g.add_edges_from(edges)
    return g
