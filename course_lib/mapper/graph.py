"""Mapper graphs, built with kmapper (the field's library), and the invariants the chapter reads.

Mapper (Singh, Mémoli & Carlsson 2007) summarises a point cloud ``X`` through a *lens* ``f: X → ℝᵏ``:

1. **cover** the lens's range with ``n_cubes`` overlapping intervals per lens dimension (each
   ``overlap`` of its width shared with its neighbour; kmapper's ``Cover(n_cubes, perc_overlap)``);
2. **cluster** the points whose lens value falls in each interval, in the *full* space ``X``
   (DBSCAN by default; a cube with fewer points than the clusterer's ``min_samples`` is skipped);
3. the **nerve**: one node per cluster, an edge wherever two clusters share a point.

Points lying in the overlap of two intervals can land in a cluster of each: that is what joins the
clusters into a graph whose shape — components, loops, flares — follows the data's.

:func:`mapper_graph` is the one entry point (its contract is in DESIGN.md); :func:`graph_invariants`
gives the numbers the notebooks assert: connected components and independent cycles
(the first Betti number of the graph, ``E − V + C``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .. import runtime
from ..cache import remembered
from ..validation import check_float, check_fraction, check_int

__all__ = ["mapper_graph", "GraphInvariants", "graph_invariants", "default_clusterer", "filled_triangles"]


def _as_points(points: Any, argument: str = "points") -> np.ndarray:
    """A finite, non-empty ``(n_points, n_features)`` float array, or a clear error naming ``argument``."""
    x = points.detach().cpu().numpy() if hasattr(points, "detach") else np.asarray(points, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"{argument} must be a 2-D array (n_points, n_features), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{argument} must not be empty, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{argument} contain NaN or inf")
    return x.astype(float)


def _as_lens(lens: Any, n: int) -> np.ndarray:
    f = lens.detach().cpu().numpy() if hasattr(lens, "detach") else np.asarray(lens, dtype=float)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] != n or not 1 <= f.shape[1] <= 3:
        raise ValueError(f"lens must have shape ({n},) or ({n}, k) with k in 1…3, got {np.shape(lens)}")
    if not np.all(np.isfinite(f)):
        raise ValueError("lens contains NaN or inf")
    return f.astype(float)


def default_clusterer(points: np.ndarray, scale: float = 1.0) -> Any:
    """DBSCAN with ``eps`` from the data: twice the 95th percentile of the distance from each point to
    its 5th nearest neighbour (a scale at which a sampled curve stays connected but separate pieces
    do not merge), ``min_samples`` 3. On the shapes of :mod:`.shapes` with 800 points it recovers the
    right components and cycles; with a few hundred points it sometimes breaks a loop (notebook 4.1
    lets the reader see when). ``scale`` multiplies ``eps`` (the clustering-scale slider)."""
    scale = check_float(scale, "scale", min=0, inclusive="neither")
    dense_dbscan = _dense_dbscan_class()
    if len(points) < 2:   # no neighbour to measure a scale from
        return dense_dbscan(eps=1.0, min_samples=1)
    eps = 2.0 * float(scale) * _fifth_neighbour_distance(np.asarray(points))
    return dense_dbscan(eps=eps if eps > 0 else 1e-9, min_samples=min(3, len(points)))


DENSE_DBSCAN_MAX_POINTS = 2000


@functools.lru_cache(maxsize=1)
def _dense_dbscan_class() -> type:
    """scikit-learn's ``DBSCAN`` whose ``fit`` works on a dense distance matrix when it is small.

    Mapper runs DBSCAN once per interval of the cover: thousands of fits of a few dozen points in
    chapter 4, where scikit-learn's input checks and neighbour-search set-up cost more than the
    clustering (1.8 ms a fit, measured). The labels are scikit-learn's, by the same rule: core points
    have at least ``min_samples`` points (themselves included) within ``eps``; clusters are the
    connected groups of core points, numbered in the order of their first core point; a border point
    joins the earliest cluster with a core point within ``eps``; the rest are noise (−1). Distances
    are exact differences in up to 15 dimensions and ``|x|² − 2x·y + |y|²`` above (as scikit-learn's
    tree and brute-force searches compute them; for eps below about 1e-7 that formula's rounding
    decides, here as there). Anything else — sample weights, another metric,
    sparse input, more than :data:`DENSE_DBSCAN_MAX_POINTS` points — goes to scikit-learn's ``fit``.
    """
    from sklearn.cluster import DBSCAN

    class DenseDBSCAN(DBSCAN):
        def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "DenseDBSCAN":
            x = X if isinstance(X, np.ndarray) else None
            if (x is None or x.ndim != 2 or x.dtype != np.float64 or not 0 < len(x) <= DENSE_DBSCAN_MAX_POINTS
                    or sample_weight is not None or self.metric != "euclidean"
                    or self.algorithm not in ("auto", "brute") or not np.all(np.isfinite(x))):
                return super().fit(X, y, sample_weight)
            if x.shape[1] <= 15:
                squared = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)
            else:
                norms = (x * x).sum(axis=1)
                squared = norms[:, None] - 2.0 * (x @ x.T) + norms[None, :]
            near = squared <= float(self.eps) ** 2
            np.fill_diagonal(near, True)
            core = near.sum(axis=1) >= self.min_samples
            labels = np.full(len(x), -1, dtype=np.intp)
            if core.any():
                linked = near[np.ix_(core, core)]
                # each core point takes the smallest index it is linked to, until nothing changes:
                # then every connected group carries its first core point's index
                first = np.arange(int(core.sum()))
                while True:
                    reached = np.where(linked, first[None, :], len(first)).min(axis=1)
                    if np.array_equal(reached, first):
                        break
                    first = reached
                cluster = np.unique(first, return_inverse=True)[1].reshape(-1)   # numbered in order
                labels[core] = cluster
                border = ~core & near[:, core].any(axis=1)
                labels[border] = np.where(near[np.ix_(border, core)], cluster[None, :],
                                          len(first)).min(axis=1)
            self.core_sample_indices_ = np.flatnonzero(core)
            self.components_ = x[core].copy()
            self.labels_ = labels
            return self

    DenseDBSCAN.__name__ = DenseDBSCAN.__qualname__ = "DenseDBSCAN"
    return DenseDBSCAN


@remembered()
def _fifth_neighbour_distance(points: np.ndarray) -> float:
    """95th percentile over points of the distance to the 5th nearest neighbour (fewer when there
    are fewer points). Remembered: every cover setting of one layer clusters the same points."""
    from sklearn.neighbors import NearestNeighbors

    k = min(5, len(points) - 1)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return float(np.quantile(dist[:, k], 0.95))


def mapper_graph(points: Any, lens: Any, *, n_cubes: int = 10, overlap: float = 0.3,
                 clusterer: Optional[Any] = None) -> "networkx.Graph":  # noqa: F821
    """The Mapper graph of ``points`` (n, d) through ``lens`` (n,) or (n, k), built with kmapper.

    Returns a ``networkx.Graph``: one node per cluster (named as kmapper names them,
    ``cube{i}_cluster{j}``) with attribute ``members`` (sorted list of point indices), one edge per
    pair of clusters sharing a point (attribute ``shared``: how many); ``graph.graph["meta"]`` records
    the cover and clusterer. ``clusterer`` is any
    scikit-learn-style clusterer (default :func:`default_clusterer`). Points that no cluster takes
    (noise) belong to no node; with too few points for any cluster the graph is empty, not an error.
    """
    import kmapper
    import networkx as nx

    x = _as_points(points)
    f = _as_lens(lens, len(x))
    n_cubes = check_int(n_cubes, "n_cubes", min=1)
    overlap = check_fraction(overlap, "overlap", inclusive="neither")
    clusterer = default_clusterer(x) if clusterer is None else clusterer
    if not hasattr(clusterer, "fit"):
        raise TypeError("clusterer must have a fit method (a scikit-learn clusterer)")
    graph = nx.Graph(meta={"n_cubes": int(n_cubes), "overlap": float(overlap),
                           "clusterer": repr(clusterer), "lens": f"{f.shape[1]}-D lens"})
    if np.ptp(f, axis=0).max() == 0:
        # A constant lens has a cover of one interval (kmapper would repeat the same cube n_cubes
        # times): the nodes are the clusters of all the points.
        with runtime.one_thread_for_small_fits():
            labels = np.asarray(clusterer.fit(x).labels_)
        for j in sorted(set(labels.tolist()) - {-1}):
            graph.add_node(f"cube0_cluster{j}", members=np.flatnonzero(labels == j).tolist())
        return graph
    mapper = kmapper.KeplerMapper(verbose=0)
    nerve = _indexed_nerve()
    with runtime.one_thread_for_small_fits():   # one small clustering per cube
        raw = mapper.map(f, x, clusterer=clusterer, nerve=nerve,
                         cover=kmapper.Cover(n_cubes=int(n_cubes), perc_overlap=float(overlap)))
    for name, members in raw["nodes"].items():
        graph.add_node(name, members=sorted(int(m) for m in members))
    # the nerve links every pair of clusters sharing a point; record how many they share
    for a, linked in raw["links"].items():
        for b in linked:
            graph.add_edge(a, b, shared=nerve.shared[a, b])
    return graph


def _indexed_nerve() -> Any:
    """kmapper's ``GraphNerve`` (an edge wherever two clusters share a point), found through an index
    from each point to the clusters holding it instead of by testing every pair of clusters: the same
    links in the same order, in time proportional to the memberships rather than to nodes². A 2-D
    cover's few hundred nodes made kmapper's pairwise test a third of chapter 4's Mapper time. It
    also records how many points each linked pair shares (``shared[a, b]``)."""
    import itertools
    from collections import Counter, defaultdict

    from kmapper.nerve import GraphNerve

    class IndexedNerve(GraphNerve):
        def compute(self, nodes: dict) -> tuple[dict, list]:
            names = list(nodes)
            holders = defaultdict(list)
            for i, name in enumerate(names):
                for member in set(nodes[name]):
                    holders[member].append(i)
            counts = Counter()
            for held_by in holders.values():
                counts.update(itertools.combinations(held_by, 2))   # i < j: names in order
            links = defaultdict(list)    # kmapper's layout: each node → the later nodes it meets
            self.shared = {}
            for (i, j), n in sorted(counts.items()):
                if n >= self.min_intersection:
                    links[names[i]].append(names[j])
                    self.shared[names[i], names[j]] = n
            edges = [[a, b] for a in links for b in links[a]]
            return links, [[name] for name in nodes] + edges

    return IndexedNerve()


@dataclass(frozen=True)
class GraphInvariants:
    nodes: int
    edges: int
    components: int
    cycles: int          #: independent cycles, E − V + C (the graph's first Betti number)


def graph_invariants(graph: Any) -> GraphInvariants:
    """Nodes, edges, connected components and independent cycles of a graph."""
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx.Graph, got {type(graph).__name__}")
    v, e = graph.number_of_nodes(), graph.number_of_edges()
    c = nx.number_connected_components(graph) if v else 0
    return GraphInvariants(nodes=v, edges=e, components=c, cycles=e - v + c)


def filled_triangles(graph: Any) -> int:
    """How many triples of nodes share a common member: the nerve's 2-simplices. A cycle of three
    such nodes is a triangle of mutually overlapping clusters, filled in the nerve — no hole. In a
    1-D cover a point lies in three intervals only when the overlap exceeds one half."""
    from itertools import combinations

    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx.Graph, got {type(graph).__name__}")
    holders: dict[int, list] = {}
    for node, data in graph.nodes(data=True):
        if "members" not in data:
            raise ValueError(f"node {node!r} has no 'members' attribute (use mapper_graph)")
        for m in data["members"]:
            holders.setdefault(int(m), []).append(node)
    triples = set()
    for nodes in holders.values():
        if len(nodes) >= 3:
            triples.update(frozenset(t) for t in combinations(sorted(nodes, key=str), 3))
    return len(triples)
