"""Flares: can a reader count a graph's branches better from Mapper than from k-means' own graph? (4.2)

A flare is an arm of the data that leaves the bulk and ends: in a graph, a path ending in a leaf
(a node of degree 1). The planted test mirrors :func:`~.study.ring_or_chain`: a star of three arms
(a "Y") against two arms (a line), the one factor being the third arm, in 64 dimensions with noise. A
graph reads the shape right when its largest component has as many leaves as the data has arms and
the graph is in one piece.

* :func:`labelled_star` — the planted data (labels: the arm).
* :func:`flare_count`   — leaves and branch nodes (degree ≥ 3) of the largest component, components.
* :func:`star_or_line`  — Mapper and k-means' adjacency graph at Mapper's cluster size, over the
  planted tests' seeds and covers (:data:`~.study.PLANTED_SETTINGS`).
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from .. import runtime
from ..validation import check_fraction, check_int
from .shapes import _embed

__all__ = ["labelled_star", "flare_count", "star_or_line"]


def labelled_star(arms: int = 3, n: int = 800, *, dim: int = 64, noise: float = 0.15,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``arms`` segments of length 1 from a common centre, at equal angles in a plane (two arms: a
    line through the centre), points uniform along them, placed in ``dim`` dimensions by a random
    rotation with noise. Returns ``(points (n, dim), arm of each point (n,))``."""
    check_int(arms, "arms", min=2)
    check_int(n, "n", min=3 * arms)
    check_int(dim, "dim", min=2)
    check_fraction(noise, "noise", inclusive="left")
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, arms, n)
    radius = rng.uniform(0, 1, n)
    angle = 2 * np.pi * arm / arms
    return _embed(rng, np.c_[radius * np.cos(angle), radius * np.sin(angle)], dim, noise), arm


def flare_count(graph: Any) -> dict[str, int]:
    """``leaves`` and ``branches`` (nodes of degree 1 and ≥ 3) of the largest connected component,
    and the number of ``components`` (an empty graph: all 0)."""
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx.Graph, got {type(graph).__name__}")
    if graph.number_of_nodes() == 0:
        return dict(leaves=0, branches=0, components=0)
    biggest = graph.subgraph(max(nx.connected_components(graph), key=len))
    degree = dict(biggest.degree())
    return dict(leaves=sum(d == 1 for d in degree.values()), branches=sum(d >= 3 for d in degree.values()),
                components=nx.number_connected_components(graph))


def star_or_line(profile: str | None = None) -> list[dict[str, Any]]:
    """One row per (shape, seed, cover): the arms, and for Mapper (the chapter's recipe, lens PCA 1)
    and k-means' adjacency graph at Mapper's mean node size, the :func:`flare_count` and whether the
    graph reads the shape right (``*_right``: one component with as many leaves as arms)."""
    from .lenses import pca_lens
    from .measures import kmeans_adjacency_graph
    from .study import PLANTED_SETTINGS, matched_k, recipe_graph

    settings = runtime.by_profile(PLANTED_SETTINGS, profile)
    rows = []
    for arms, seed in product((3, 2), settings["seeds"]):
        points, _ = labelled_star(arms, seed=seed)
        lens = pca_lens(points)
        for n_cubes, overlap, scale in product(settings["n_cubes"], settings["overlaps"], settings["scales"]):
            graph = recipe_graph(points, lens, n_cubes=n_cubes, overlap=overlap, scale=scale)
            mapper = flare_count(graph)
            kmeans = flare_count(kmeans_adjacency_graph(points, max(2, matched_k(graph)), seed))
            rows.append(dict(shape="star" if arms == 3 else "line", arms=arms, seed=seed, n_cubes=n_cubes,
                             overlap=overlap, scale=scale,
                             **{f"mapper_{k}": v for k, v in mapper.items()},
                             **{f"kmeans_{k}": v for k, v in kmeans.items()},
                             mapper_right=mapper["components"] == 1 and mapper["leaves"] == arms,
                             kmeans_right=kmeans["components"] == 1 and kmeans["leaves"] == arms))
    return rows
