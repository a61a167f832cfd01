"""Chapter 4 — Mapper on activations.

* :mod:`.graph`       — :func:`mapper_graph` (built with kmapper) and :func:`graph_invariants`
* :mod:`.shapes`      — point clouds of known topology (circle, two circles, figure eight, line)
* :mod:`.sweeps`      — how often Mapper recovers a shape's topology over covers and samples
* :mod:`.plots`       — Mapper step by step; k-means beside Mapper
* :mod:`.sentences`   — the course's labelled sentence set (emotion × topic, with mixed sentences)
* :mod:`.activations` — a transformer's activations of the sentences, every layer (MiniLM by default)
* :mod:`.lenses`      — L2 norm, PCA, concept direction, k-NN distance, several at once
* :mod:`.measures`    — purity and coverage, entanglement, Mapper's bridges vs k-means' boundaries
* :mod:`.study`       — notebook 4.2's measurements; :mod:`.activation_plots` its figures
* :mod:`.page`        — kmapper's interactive page, offline, nodes labelled
* :mod:`.exercises`   — the checkers (nerve; fitted concept lens)
"""

from .graph import GraphInvariants, default_clusterer, graph_invariants, mapper_graph
from .shapes import SHAPES, shape_points

__all__ = ["mapper_graph", "graph_invariants", "GraphInvariants", "default_clusterer", "SHAPES", "shape_points"]
