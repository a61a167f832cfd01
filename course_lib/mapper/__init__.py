"""Chapter 4 — Mapper on activations (in preparation).

* :mod:`.graph`  — :func:`mapper_graph` (built with kmapper) and :func:`graph_invariants`
* :mod:`.shapes` — point clouds of known topology (circle, two circles, figure eight, line)
* :mod:`.sweeps` — how often Mapper recovers a shape's topology over covers and samples
* :mod:`.plots`  — Mapper step by step; k-means beside Mapper
* :mod:`.exercises` — the nerve checker
"""

from .graph import GraphInvariants, default_clusterer, graph_invariants, mapper_graph
from .shapes import SHAPES, shape_points

__all__ = ["mapper_graph", "graph_invariants", "GraphInvariants", "default_clusterer", "SHAPES", "shape_points"]
