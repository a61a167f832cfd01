"""Why does Mapper lose to k-means on cross-situation purity? One-factor controls (notebook 4.2).

Mapper's recipe has two parts that k-means lacks: a lens and cover that cut the cloud into intervals
first, and a density clusterer (DBSCAN) inside each interval. :func:`clusterer_controls` changes one at a
time: DBSCAN on the whole layer with **no lens** (the cover removed), and the **same lens and cover with
Ward's agglomerative clusterer** instead of DBSCAN (the clusterer changed). A last row asks what the
sentences' *words* alone give: k-means on TF-IDF bag-of-words vectors of DBSCAN-Mapper's covered
sentences, at its mean node size (a baseline that has seen no model at all). Each row is scored like the
graphs of 4.2 — purity, cross-situation purity — beside k-means at the same mean cluster size on the
same covered sentences, over several k-means seeds (its cross-situation purity at a fixed size moves with
the seed by more than most gaps between the methods, so one seed cannot rank them).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import runtime
from ..validation import check_int

__all__ = ["clusterer_controls", "CONTROL_KMEANS_SEEDS"]


#: k-means seeds each row is compared against when none are given: :func:`~.study.kmeans_seeds`
#: of the profile (10 in quick, 20 in standard), the seeds :func:`~.study.without_mixed` uses.
CONTROL_KMEANS_SEEDS = None


def _score(method: str, setting: str, groups: list[np.ndarray], points: np.ndarray, labels: np.ndarray,
           situations: Sequence[frozenset], seeds: Sequence[int]) -> dict[str, Any]:
    from .measures import cross_situation_purity, partition_purity
    from .study import kmeans_groups, seed_spread

    groups = [np.asarray(g) for g in groups if len(g)]
    covered = np.unique(np.concatenate(groups)) if groups else np.array([], dtype=int)
    row = dict(method=method, setting=setting, clusters=len(groups), coverage=len(covered) / len(points))
    if len(groups) < 2:
        nan = float("nan")
        return dict(row, mean_size=float(len(covered)), purity=nan, cross=nan, cross_groups=nan,
                    cross_members=nan, kmeans_cross=nan, cross_chance=nan)
    size = sum(map(len, groups)) / len(groups)
    k = max(2, int(round(len(covered) / size)))
    # kmeans_groups is remembered: rows (and other tables) on the same sentences at the same k
    # share their fits; with no seeds the k-means columns are nan
    over = [cross_situation_purity([covered[g] for g in kmeans_groups(points[covered], k, seed)],
                                   labels, situations) for seed in seeds]
    cross = cross_situation_purity(groups, labels, situations)
    return dict(row, mean_size=size, k_matched=k, purity=partition_purity(groups, labels),
                cross=cross.share, cross_groups=cross.group_mean, cross_members=cross.member_mean,
                kmeans_cross=over[0].share if over else float("nan"), **seed_spread(cross, over),
                cross_chance=cross_situation_purity([covered], labels, situations).share)


@runtime.one_thread_for_small_fits()
def clusterer_controls(acts: Any, layer: int, *, dbscan_scales: Sequence[float] = (0.4, 0.45),
                       ward_thresholds: Sequence[float] = (1.6, 1.9, 2.2, 3.0),
                       seeds: Sequence[int] | None = CONTROL_KMEANS_SEEDS,
                       words_seeds: Sequence[int] | None = None,
                       profile: str | None = None) -> list[dict[str, Any]]:
    """Rows for layer ``layer`` (lens PCA 1 and 4.2's cover where a lens is used): ``Mapper, DBSCAN``
    (4.2's recipe), ``DBSCAN, no lens`` at each of ``dbscan_scales`` (× :func:`~.graph.default_clusterer`'s
    eps on the whole layer; noise points left out), and ``Mapper, Ward`` (same lens and cover, Ward
    linkage cut at each of ``ward_thresholds``; 1.9 gives about DBSCAN-Mapper's mean node size).
    Columns: clusters, mean size, coverage, purity, cross-situation purity (``cross`` pooled over pairs,
    ``cross_groups`` per group, ``cross_members`` per membership), k-means' at the same mean
    size on the same sentences (``kmeans_cross``: the first of ``seeds``; for each weighting ``w``
    of pooled / group / member, ``kmeans_w_min/median/max`` over all of them and ``kmeans_w_below``,
    the seeds below the row: :func:`~.study.seed_spread`), and chance. ``k-means on words
    (TF-IDF)``, one row per seed of ``words_seeds``: k-means on the TF-IDF vectors of the sentences
    DBSCAN-Mapper covers, with as many clusters as give its mean node size. ``seeds`` and
    ``words_seeds`` default to :func:`~.study.kmeans_seeds` of ``profile``. The no-lens rows are
    read against chance and DBSCAN-Mapper, not k-means: their k-means columns are nan (time)."""
    from sklearn.cluster import AgglomerativeClustering

    from .graph import default_clusterer, mapper_graph
    from .measures import node_members
    from .study import GRAPH_SETTINGS, kmeans_seeds, layer_lens, recipe_graph, situation_sets

    check_int(layer, "layer", min=0, max=acts.n_layers)
    seeds = kmeans_seeds(profile) if seeds is None else tuple(
        check_int(x, "seeds", min=0) for x in seeds)
    words_seeds = seeds if words_seeds is None else tuple(
        check_int(x, "words_seeds", min=0) for x in words_seeds)
    if not seeds:
        raise ValueError("seeds must name at least one k-means seed")
    s = acts.sentences
    points = acts.layer(layer)
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    lens = layer_lens(acts, layer, "PCA 1")

    def score(method: str, setting: str, groups: list[np.ndarray],
              compare: bool = True) -> dict[str, Any]:
        return _score(method, setting, groups, points, labels, situations, seeds if compare else ())

    dbscan_graph = recipe_graph(points, lens)
    dbscan_mapper = list(node_members(dbscan_graph).values())
    rows = [score("Mapper, DBSCAN", f"scale {GRAPH_SETTINGS['scale']}", dbscan_mapper)]
    for scale in dbscan_scales:
        assigned = default_clusterer(points, scale).fit(points).labels_
        groups = [np.flatnonzero(assigned == c) for c in np.unique(assigned) if c >= 0]
        rows.append(score("DBSCAN, no lens", f"scale {scale}", groups, compare=False))
    for threshold in ward_thresholds:
        ward = AgglomerativeClustering(n_clusters=None, distance_threshold=float(threshold),
                                       linkage="ward")
        graph = mapper_graph(points, lens, n_cubes=GRAPH_SETTINGS["n_cubes"],
                             overlap=GRAPH_SETTINGS["overlap"], clusterer=ward)
        rows.append(score("Mapper, Ward", f"threshold {threshold}",
                          list(node_members(graph).values())))
    if words_seeds:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from .kmeans import fit_kmeans
        from .measures import covered_points
        from .study import matched_k

        covered, k = covered_points(dbscan_graph), matched_k(dbscan_graph)
        # unit-length rows, made dense: fit_kmeans then seeds through the Gram matrix, about
        # twice as fast as on the sparse matrix, with the same clusters (checked on seeds 0-19)
        words = TfidfVectorizer().fit_transform(list(s.text))[covered].toarray()
        for seed in words_seeds:   # as study.kmeans_groups (3 restarts)
            assigned = fit_kmeans(words, int(k), int(seed)).labels_
            groups = [covered[assigned == c] for c in range(int(k))]
            rows.append(score("k-means on words (TF-IDF)", f"seed {seed}", groups))
    return rows
