"""Both methods' resolution knobs swept on the planted shapes (notebook 4.2).

Mapper's graph and k-means' adjacency graph each have a resolution knob: Mapper's DBSCAN scale and
number of intervals, k-means' k. Sweeping only one of them compares a tuned method with an untuned
one. :func:`resolution_sweep` reads four planted shapes — a ring (1 cycle), a chain (the ring with one
quarter removed, 0 cycles), a star (3 leaves) and a line (2 leaves) — with both graphs over a grid of
each knob, and records whether each graph reads the shape right (one component, and the planted
number of cycles or leaves).
"""

from __future__ import annotations

from itertools import product
from typing import Any

from .. import runtime

__all__ = ["RESOLUTION_SETTINGS", "SHAPES", "read_shape", "resolution_sweep"]

#: Planted shapes: name → (what is counted, the right count).
SHAPES = {"ring": ("cycles", 1), "chain": ("cycles", 0), "star": ("leaves", 3), "line": ("leaves", 2)}

#: Per profile: seeds, Mapper's intervals and DBSCAN scales (× 4.1's default eps), k-means' ks.
RESOLUTION_SETTINGS = {
    "quick": dict(seeds=(0,), n_cubes=(10, 30), scales=(0.45, 1.0), ks=(6, 12, 25, 50, 100)),
    "standard": dict(seeds=(0, 1), n_cubes=(10, 20, 30, 50), scales=(0.45, 0.7, 1.0, 1.5),
                     ks=(3, 6, 12, 25, 50, 100, 200)),
    "full": dict(seeds=(0, 1, 2), n_cubes=(10, 20, 30, 50), scales=(0.45, 0.7, 1.0, 1.5),
                 ks=(3, 6, 12, 25, 50, 100, 200)),
}


def _points(shape: str, seed: int):
    from .flares import labelled_star
    from .shapes import labelled_ring

    if shape in ("ring", "chain"):
        return labelled_ring(gap=shape == "chain", seed=seed)[0]
    return labelled_star(3 if shape == "star" else 2, seed=seed)[0]


def read_shape(graph: Any, shape: str) -> tuple[int, int, bool]:
    """``(count, components, right)`` for a graph of the planted ``shape``: the count is the
    independent cycles (ring, chain) or the leaves of the largest component (star, line); right means
    one component with the planted count."""
    from .flares import flare_count
    from .graph import graph_invariants

    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    what, target = SHAPES[shape]
    if what == "cycles":
        inv = graph_invariants(graph)
        count, components = inv.cycles, inv.components
    else:
        f = flare_count(graph)
        count, components = f["leaves"], f["components"]
    return int(count), int(components), bool(components == 1 and count == target)


def resolution_sweep(profile: str | None = None) -> list[dict[str, Any]]:
    """One row per (shape, seed, method, knob value): ``method`` is ``"Mapper"`` (lens PCA 1,
    50 % overlap; ``n_cubes`` and ``scale`` set), ``"k-means"`` (its adjacency graph at a fixed ``k``)
    or ``"k-means matched"`` (at the matched cluster size of the Mapper graph of the same row's
    ``n_cubes`` and ``scale``); ``clusters`` is the node count, ``count``/``components``/``right`` as
    in :func:`read_shape`."""
    from .lenses import pca_lens
    from .measures import kmeans_adjacency_graph
    from .study import matched_k, recipe_graph

    settings = runtime.by_profile(RESOLUTION_SETTINGS, profile)
    rows = []
    for shape, seed in product(SHAPES, settings["seeds"]):
        points = _points(shape, seed)
        lens = pca_lens(points)
        base = dict(shape=shape, seed=seed)
        for n_cubes, scale in product(settings["n_cubes"], settings["scales"]):
            graph = recipe_graph(points, lens, n_cubes=n_cubes, overlap=0.5, scale=scale)
            count, comps, right = read_shape(graph, shape)
            rows.append(dict(base, method="Mapper", n_cubes=n_cubes, scale=scale, k=None,
                             clusters=graph.number_of_nodes(), count=count, components=comps, right=right))
            if graph.number_of_nodes() >= 2:
                k = max(2, matched_k(graph))
                count, comps, right = read_shape(kmeans_adjacency_graph(points, k, seed), shape)
                rows.append(dict(base, method="k-means matched", n_cubes=n_cubes, scale=scale, k=k,
                                 clusters=k, count=count, components=comps, right=right))
        for k in settings["ks"]:
            count, comps, right = read_shape(kmeans_adjacency_graph(points, k, seed), shape)
            rows.append(dict(base, method="k-means", n_cubes=None, scale=None, k=k, clusters=k,
                             count=count, components=comps, right=right))
    return rows
