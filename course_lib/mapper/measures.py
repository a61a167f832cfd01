"""What a Mapper graph says about labelled points (notebook 4.2): purity, coverage, entanglement,
and the same questions asked of k-means.

* **Purity** of a node: the share of its members carrying its most common (dominant) label. A
  graph's purity is the membership-weighted mean, ``Σ max-count / Σ size``, over the points its
  nodes hold. It must be read with **coverage** — the share of all points that are in any node —
  because DBSCAN drops "noise": a graph that keeps only the densest 5% of the points can be 100%
  pure and say nothing about the rest.
* **Entanglement** (the seed note's *behaviour entanglement*): each edge joins two nodes and carries
  the points they share. ``entanglement_matrix[a, b]`` adds up the shared points on edges between an
  ``a``-dominated and a ``b``-dominated node; :func:`entanglement` is the off-diagonal share — 0 when
  edges only join nodes of the same label, 1 when every shared point links two different labels.
* **Bridges vs boundaries**: which points lie *between* two labels? Mapper's answer: the points in
  two nodes with different dominant labels. k-means' answer (same points, as many clusters as the
  graph has nodes): the points whose nearest and second-nearest centroids have different dominant
  labels, the closest calls first. :func:`bridges_vs_boundaries` scores both against sentences
  known to mix two labels.

A tie for the dominant label goes to the label that sorts first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["node_members", "covered_points", "dominant_labels", "partition_purity", "Purity", "graph_purity",
           "entanglement_matrix", "entanglement", "BridgeComparison", "bridges_vs_boundaries"]


def _labels(labels: Any, n: int | None = None, argument: str = "labels") -> np.ndarray:
    out = np.asarray(labels)
    if out.ndim != 1 or (n is not None and len(out) != n):
        want = f"({n},)" if n is not None else "(n,)"
        raise ValueError(f"{argument} must have shape {want}, got {out.shape}")
    return out


def node_members(graph: Any) -> dict[str, np.ndarray]:
    """``node → member indices`` of a graph from :func:`~.graph.mapper_graph`."""
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx.Graph, got {type(graph).__name__}")
    out = {}
    for node, data in graph.nodes(data=True):
        if "members" not in data:
            raise ValueError(f"node {node!r} has no 'members' attribute (use mapper_graph)")
        out[node] = np.asarray(data["members"], dtype=int)
    return out


def covered_points(graph: Any) -> np.ndarray:
    """Sorted indices of the points that are in at least one node."""
    members = list(node_members(graph).values())
    return np.unique(np.concatenate(members)).astype(int) if members else np.zeros(0, dtype=int)


def _dominant(values: np.ndarray) -> tuple[Any, int]:
    kinds, counts = np.unique(values, return_counts=True)   # sorted: ties go to the first
    best = int(np.argmax(counts))
    return kinds[best], int(counts[best])


def _check_members(members: dict[str, np.ndarray], n: int) -> None:
    for node, m in members.items():
        if len(m) and (m.min() < 0 or m.max() >= n):
            raise ValueError(f"node {node!r} has member indices outside 0…{n - 1}: "
                             "labels must have one entry per point")


def dominant_labels(graph: Any, labels: Any) -> dict[str, tuple[Any, float]]:
    """``node → (dominant label, purity)``."""
    members = node_members(graph)
    labels = _labels(labels)
    _check_members(members, len(labels))
    out = {}
    for node, m in members.items():
        label, count = _dominant(labels[m])
        out[node] = (label, count / len(m))
    return out


def partition_purity(groups: Sequence[Sequence[int]], labels: Any) -> float:
    """``Σ max-count / Σ size`` over ``groups`` (lists of point indices; a point may be in several)."""
    labels = _labels(labels)
    groups = [np.asarray(g, dtype=int) for g in groups if len(g)]
    if not groups:
        raise ValueError("groups must contain at least one non-empty group")
    total = sum(len(g) for g in groups)
    return sum(_dominant(labels[g])[1] for g in groups) / total


@dataclass(frozen=True)
class Purity:
    purity: float     #: membership-weighted share of each node's dominant label
    coverage: float   #: share of all points that are in at least one node
    nodes: int


def graph_purity(graph: Any, labels: Any) -> Purity:
    """Purity and coverage of a Mapper graph's nodes for ``labels`` (one per point)."""
    members = node_members(graph)
    labels = _labels(labels)
    _check_members(members, len(labels))
    if not members:
        return Purity(purity=float("nan"), coverage=0.0, nodes=0)
    return Purity(purity=partition_purity(list(members.values()), labels),
                  coverage=len(covered_points(graph)) / len(labels), nodes=len(members))


def entanglement_matrix(graph: Any, labels: Any, classes: Sequence | None = None) -> np.ndarray:
    """``(L, L)`` symmetric: shared points on edges between nodes dominated by each pair of labels
    (an edge between two ``a`` nodes adds to ``[a, a]``; between ``a`` and ``b`` to both ``[a, b]``
    and ``[b, a]``). ``classes`` fixes the order (default: the sorted labels)."""
    labels = _labels(labels)
    dominant = dominant_labels(graph, labels)
    classes = list(np.unique(labels)) if classes is None else list(classes)
    index = {c: i for i, c in enumerate(classes)}
    missing = {d for d, _ in dominant.values()} - set(index)
    if missing:
        raise ValueError(f"classes lacks the dominant labels {sorted(map(str, missing))}")
    matrix = np.zeros((len(classes), len(classes)))
    members = node_members(graph)
    for a, b in graph.edges():
        shared = len(np.intersect1d(members[a], members[b]))
        i, j = index[dominant[a][0]], index[dominant[b][0]]
        matrix[i, j] += shared
        if i != j:
            matrix[j, i] += shared
    return matrix


def entanglement(graph: Any, labels: Any) -> float:
    """Share of the points on edges that link nodes of different dominant labels (0 with no edges)."""
    matrix = entanglement_matrix(graph, labels)
    within = float(np.trace(matrix))
    across = float(matrix[np.triu_indices(len(matrix), k=1)].sum())
    return across / (within + across) if within + across > 0 else 0.0


@dataclass(frozen=True)
class BridgeComparison:
    """Mapper's bridge points against k-means' boundary points (as many of each)."""

    points: int            #: Mapper's bridge points
    kmeans_points: int     #: k-means' boundary points: as many, unless fewer exist
    covered: int           #: points in some Mapper node (k-means is run on these)
    base_mixed: int        #: mixed points among the covered ones
    mapper_mixed: int      #: mixed points among Mapper's bridges
    kmeans_mixed: int      #: mixed points among k-means' boundary points
    mapper_pair: int       #: …of which the method names both of the point's labels
    kmeans_pair: int


def bridges_vs_boundaries(points: Any, graph: Any, primary: Any, secondary: Any,
                          seed: int = 0) -> BridgeComparison:
    """Score Mapper's bridges and k-means' boundaries against known mixtures.

    ``primary`` is each point's label; ``secondary`` its second label, ``""`` if it has none (a
    *mixed* point has both). A Mapper bridge "names" a pair when both labels are among the dominant
    labels of the nodes holding it; a k-means boundary point when they are its two nearest clusters'.
    """
    from sklearn.cluster import KMeans

    x = np.asarray(points, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"points must be 2-D (n_points, n_features), got shape {x.shape}")
    primary = _labels(primary, len(x), "primary")
    secondary = _labels(secondary, len(x), "secondary")
    members = node_members(graph)
    _check_members(members, len(x))
    mixed = secondary != ""
    dominant = {node: lab for node, (lab, _) in dominant_labels(graph, primary).items()}
    holders: dict[int, set] = {}
    for node, m in members.items():
        for i in m.tolist():
            holders.setdefault(i, set()).add(dominant[node])
    covered = np.array(sorted(holders), dtype=int)
    bridges = np.array([i for i in covered if len(holders[i]) > 1], dtype=int)

    def names_pair(i: int, pair: set) -> bool:
        return bool(mixed[i]) and {primary[i], secondary[i]} <= pair

    mapper_pair = sum(names_pair(i, holders[i]) for i in bridges)
    k = min(len(members), len(covered))
    if k < 2 or len(bridges) == 0:
        return BridgeComparison(len(bridges), 0, len(covered), int(mixed[covered].sum()),
                                int(mixed[bridges].sum()), 0, int(mapper_pair), 0)
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x[covered])
    distance = km.transform(x[covered])
    cluster_label = {}
    for c in range(k):
        inside = covered[km.labels_ == c]
        cluster_label[c] = _dominant(primary[inside])[0] if len(inside) else None
    order = np.argsort(distance, axis=1)
    first, second = order[:, 0], order[:, 1]
    rows = np.arange(len(covered))
    margin = distance[rows, second] - distance[rows, first]
    differ = np.array([cluster_label[a] != cluster_label[b] for a, b in zip(first, second)])
    candidates = np.flatnonzero(differ)
    chosen = candidates[np.argsort(margin[candidates], kind="stable")][:len(bridges)]
    kmeans_pair = sum(names_pair(covered[r], {cluster_label[first[r]], cluster_label[second[r]]})
                      for r in chosen)
    return BridgeComparison(points=len(bridges), kmeans_points=len(chosen), covered=len(covered),
                            base_mixed=int(mixed[covered].sum()),
                            mapper_mixed=int(mixed[bridges].sum()),
                            kmeans_mixed=int(mixed[covered[chosen]].sum()),
                            mapper_pair=int(mapper_pair), kmeans_pair=int(kmeans_pair))
