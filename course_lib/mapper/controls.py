"""Why does Mapper lose to k-means on cross-situation purity? One-factor controls (notebook 4.2).

Mapper's recipe has two parts that k-means lacks: a lens and cover that cut the cloud into intervals
first, and a density clusterer (DBSCAN) inside each interval. :func:`clusterer_controls` changes one at a
time: DBSCAN on the whole layer with **no lens** (the cover removed), and the **same lens and cover with
Ward's agglomerative clusterer** instead of DBSCAN (the clusterer changed). Each row is scored like the
graphs of 4.2 — purity, cross-situation purity — beside k-means at the same mean cluster size on the
same covered sentences.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..validation import check_int

__all__ = ["clusterer_controls"]


def _score(method: str, setting: str, groups: list[np.ndarray], points: np.ndarray, labels: np.ndarray,
           situations: Sequence[frozenset], seed: int) -> dict[str, Any]:
    from .measures import cross_situation_purity, partition_purity
    from .study import kmeans_groups

    groups = [np.asarray(g) for g in groups if len(g)]
    covered = np.unique(np.concatenate(groups)) if groups else np.array([], dtype=int)
    row = dict(method=method, setting=setting, clusters=len(groups), coverage=len(covered) / len(points))
    if len(groups) < 2:
        return dict(row, mean_size=float(len(covered)), purity=float("nan"), cross=float("nan"),
                    kmeans_cross=float("nan"), cross_chance=float("nan"))
    size = sum(map(len, groups)) / len(groups)
    k = max(2, int(round(len(covered) / size)))
    km = [covered[g] for g in kmeans_groups(points[covered], k, seed)]
    return dict(row, mean_size=size, purity=partition_purity(groups, labels),
                cross=cross_situation_purity(groups, labels, situations).share,
                kmeans_cross=cross_situation_purity(km, labels, situations).share,
                cross_chance=cross_situation_purity([covered], labels, situations).share)


def clusterer_controls(acts: Any, layer: int, *, dbscan_scales: Sequence[float] = (0.4, 0.45),
                       ward_thresholds: Sequence[float] = (1.6, 2.2, 3.0), seed: int = 0) -> list[dict[str, Any]]:
    """Rows for layer ``layer`` (lens PCA 1 and 4.2's cover where a lens is used): ``Mapper, DBSCAN``
    (4.2's recipe), ``DBSCAN, no lens`` at each of ``dbscan_scales`` (× :func:`~.graph.default_clusterer`'s
    eps on the whole layer; noise points left out), and ``Mapper, Ward`` (same lens and cover, Ward
    linkage cut at each of ``ward_thresholds``). Columns: clusters, mean size, coverage, purity,
    cross-situation purity, k-means' at the same mean size on the same sentences, and chance."""
    from sklearn.cluster import AgglomerativeClustering

    from .graph import default_clusterer, mapper_graph
    from .measures import node_members
    from .study import GRAPH_SETTINGS, layer_lens, recipe_graph, situation_sets

    check_int(layer, "layer", min=0, max=acts.n_layers)
    s = acts.sentences
    points = acts.layer(layer)
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    lens = layer_lens(acts, layer, "PCA 1")
    rows = [_score("Mapper, DBSCAN", f"scale {GRAPH_SETTINGS['scale']}",
                   list(node_members(recipe_graph(points, lens)).values()), points, labels, situations, seed)]
    for scale in dbscan_scales:
        assigned = default_clusterer(points, scale).fit(points).labels_
        groups = [np.flatnonzero(assigned == c) for c in np.unique(assigned) if c >= 0]
        rows.append(_score("DBSCAN, no lens", f"scale {scale}", groups, points, labels, situations, seed))
    for threshold in ward_thresholds:
        ward = AgglomerativeClustering(n_clusters=None, distance_threshold=float(threshold), linkage="ward")
        graph = mapper_graph(points, lens, n_cubes=GRAPH_SETTINGS["n_cubes"], overlap=GRAPH_SETTINGS["overlap"],
                             clusterer=ward)
        rows.append(_score("Mapper, Ward", f"threshold {threshold}", list(node_members(graph).values()),
                           points, labels, situations, seed))
    return rows
