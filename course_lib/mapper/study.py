"""Notebook 4.2's measurements on MiniLM's activations of the sentence set.

* :func:`layer_sorting`  — what each layer groups sentences by: k-means purity for the sentence frame
  (``template``), the ``topic`` and the ``emotion``, layer by layer, beside a shuffled-label baseline.
* :func:`activation_graph` — the Mapper graph of one layer through a named lens.
* :func:`comparison_table` — Mapper against k-means over many cover settings (not one lucky one):
  purity at equal coverage and matched cluster size, cross-situation purity, entanglement, cycles,
  and who finds the mixed sentences (bridges vs boundaries); :func:`spread` summarises a column.
* :func:`situation_sets` — which situation (event clause) each sentence describes: every situation
  belongs to one emotion, so purity alone cannot tell grouping by emotion from grouping by situation.
* :func:`cycle_census` — what each independent cycle of a graph is made of.
* :func:`planted_entanglement` and :func:`ring_or_chain` — planted data sets that check the measures
  (one mixed pair; a loop of labels or not), Mapper against k-means' adjacency graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Mapping, Sequence

import numpy as np

from .. import runtime
from ..cache import remembered
from .activations import SentenceActivations
from .graph import default_clusterer, graph_invariants, mapper_graph
from .kmeans import fit_kmeans
from .lenses import LENSES, l2_norm_lens, pca_lens
from .measures import (bridges_vs_boundaries, covered_points, cross_situation_purity, entanglement,
                       entanglement_null, graph_purity, kmeans_adjacency_graph,
                       node_members, partition_purity)
from .sentences import EVENTS, SentenceSet
from .shapes import PLANTED_LABELS, labelled_ring, planted_mixing
from ..validation import check_int

__all__ = ["COMPARISON_SETTINGS", "GRAPH_SETTINGS", "PLANTED_SETTINGS", "layer_sorting", "LayerSorting",
           "layer_lens", "recipe_graph", "activation_graph", "comparison_table", "kmeans_groups",
           "situation_sets", "matched_k", "with_lens", "without_mixed", "WITHOUT_MIXED_SEEDS",
           "kmeans_seeds", "seed_spread", "seed_spread_table",
           "spread", "cycle_census",
           "planted_entanglement", "ring_or_chain", "top_pair_by_lens"]

#: The cover of notebook 4.2's graphs (chosen on layer 6 so ~90% of the sentences are in a node).
GRAPH_SETTINGS = dict(n_cubes=10, overlap=0.5, scale=0.45)

#: Per profile: how many k-means seeds (0, 1, …) :func:`without_mixed` runs (one seed moves k-means'
#: cross-situation purity there by up to 0.2, so a few seeds cannot place Mapper in their spread).
WITHOUT_MIXED_SEEDS = {"quick": 10, "standard": 20, "full": 20}


def kmeans_seeds(profile: str | None = None) -> tuple[int, ...]:
    """The k-means seeds 0, 1, …, n − 1 (n = :data:`WITHOUT_MIXED_SEEDS` of the profile) behind every
    "Mapper against k-means' seed spread" comparison of 4.2 (:func:`without_mixed`,
    :func:`~.controls.clusterer_controls`, :func:`~.output_lens.lens_comparison`)."""
    return tuple(range(int(runtime.by_profile(WITHOUT_MIXED_SEEDS, profile))))


#: The three weightings of cross-situation purity (:class:`~.measures.PairPurity` attributes).
WEIGHTINGS = (("pooled", "share"), ("group", "group_mean"), ("member", "member_mean"))


def seed_spread(mapper: Any, kmeans: Sequence[Any]) -> dict[str, float]:
    """Where ``mapper`` (a :class:`~.measures.PairPurity`) falls in k-means' seed spread (one
    ``PairPurity`` per seed), for each weighting ``w`` of :data:`WEIGHTINGS`: ``mapper_w``,
    ``kmeans_w_min/median/max`` and ``kmeans_w_below`` (how many seeds score below Mapper);
    ``kmeans_seeds`` = the number of seeds. With no seeds the k-means columns are nan (below: −1)."""
    kmeans = list(kmeans)
    for q in [mapper, *kmeans]:
        if not all(hasattr(q, attr) for _, attr in WEIGHTINGS):
            raise TypeError(f"mapper and kmeans must be PairPurity results, got {type(q).__name__}")
    row: dict[str, float] = dict(kmeans_seeds=len(kmeans))
    for weighting, attr in WEIGHTINGS:
        ours = float(getattr(mapper, attr))
        theirs = np.array([getattr(q, attr) for q in kmeans], dtype=float)
        row[f"mapper_{weighting}"] = ours
        for stat, f in (("min", np.min), ("median", np.median), ("max", np.max)):
            row[f"kmeans_{weighting}_{stat}"] = float(f(theirs)) if len(theirs) else float("nan")
        row[f"kmeans_{weighting}_below"] = int((theirs < ours).sum()) if len(theirs) else -1
    return row


def seed_spread_table(rows: Sequence[Mapping[str, Any]], index: Sequence[str]) -> Any:
    """:func:`seed_spread`'s columns of ``rows`` in long form, for reading: one line per row and
    weighting (index: ``index`` columns + ``weighting``), columns ``mapper``, k-means' ``min``,
    ``median``, ``max`` and ``below`` (seeds below Mapper, of ``seeds``)."""
    import pandas as pd

    rows, index = list(rows), list(index)
    if not index:
        raise ValueError("index must name at least one column")
    out = []
    for r in rows:
        missing = [c for c in index + ["kmeans_seeds"] if c not in r]
        if missing:
            raise ValueError(f"rows lack the columns {missing}")
        for weighting, _ in WEIGHTINGS:
            out.append({**{c: r[c] for c in index}, "weighting": weighting,
                        "mapper": r[f"mapper_{weighting}"],
                        **{stat: r[f"kmeans_{weighting}_{stat}"]
                           for stat in ("min", "median", "max", "below")},
                        "seeds": r["kmeans_seeds"]})
    return pd.DataFrame(out).set_index(index + ["weighting"])


#: Per profile: the cover settings the Mapper-vs-k-means table runs over.
COMPARISON_SETTINGS = {
    "quick": dict(n_cubes=(10, 15), overlaps=(0.3, 0.5), scales=(0.45,)),
    "standard": dict(n_cubes=(10, 15, 20), overlaps=(0.3, 0.4, 0.5), scales=(0.4, 0.45, 0.5)),
    "full": dict(n_cubes=(8, 10, 15, 20, 30), overlaps=(0.2, 0.3, 0.4, 0.5, 0.6),
                 scales=(0.4, 0.45, 0.5, 0.55)),
}


#: Per profile: the cover settings (n_cubes, overlap, DBSCAN scale) and samples of the planted tests.
PLANTED_SETTINGS = {
    "quick": dict(seeds=(0,), n_cubes=(10, 15), overlaps=(0.3, 0.5), scales=(0.45, 1.0)),
    "standard": dict(seeds=(0, 1, 2), n_cubes=(10, 15), overlaps=(0.3, 0.5), scales=(0.45, 1.0)),
    "full": dict(seeds=tuple(range(5)), n_cubes=(8, 10, 15, 20), overlaps=(0.3, 0.4, 0.5),
                 scales=(0.45, 0.7, 1.0)),
}


def situation_sets(sentences: SentenceSet) -> list[frozenset]:
    """For each sentence, the situations (event clauses of :data:`~.sentences.EVENTS`) it mentions:
    one for most sentences, two for a mixed one. Matched case-insensitively ("Rome", "Japan")."""
    events = sorted({e.lower() for clauses in EVENTS.values() for e in clauses})
    out = []
    for text in sentences.text:
        low = str(text).lower()
        found = frozenset(e for e in events if e in low)
        if not found:
            raise ValueError(f"no situation of EVENTS found in the sentence {text!r}")
        out.append(found)
    return out


def matched_k(graph: Any) -> int:
    """k for k-means at Mapper's cluster size: the covered points divided by the mean node size.
    Nodes overlap, so "as many clusters as nodes" gives k-means clusters about half Mapper's size."""
    members = node_members(graph)
    total = sum(len(m) for m in members.values())
    if total == 0:
        raise ValueError("the graph has no nodes with members")
    return max(1, int(round(len(covered_points(graph)) * len(members) / total)))


def with_lens(points: np.ndarray, lens: np.ndarray, weight: float) -> np.ndarray:
    """The points with the lens's coordinates appended as extra columns, so a clusterer with no
    cover (k-means) can use what the lens knows: each lens column is scaled so that together they
    hold ``weight`` times the points' total variance (``weight`` 1: as much as all other columns)."""
    from ..validation import check_float

    x = np.asarray(points, dtype=float)
    f = np.asarray(lens, dtype=float)
    f = f[:, None] if f.ndim == 1 else f
    if x.ndim != 2 or f.ndim != 2 or len(f) != len(x):
        raise ValueError(f"points (n, d) and lens (n,) or (n, k) must have the same n; got {x.shape}"
                         f" and {np.shape(lens)}")
    weight = check_float(weight, "weight", min=0, inclusive="neither")
    sd = f.std(axis=0)
    if not np.all(sd > 0):
        raise ValueError("every lens column must vary (a constant column has no scale)")
    target = np.sqrt(weight * x.var(axis=0).sum() / f.shape[1])
    return np.hstack([x, (f - f.mean(axis=0)) / sd * target])


def spread(values: Sequence[float]) -> dict[str, float]:
    """``min``, ``median`` and ``max`` of a column over a grid of settings (a grid is not a random
    sample of settings: report its range, not a rate with a confidence interval)."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"values must be a non-empty list of finite numbers, got {list(values)!r}")
    return dict(min=float(v.min()), median=float(np.median(v)), max=float(v.max()))


@remembered(maxsize=1024)
@runtime.one_thread_for_small_fits()
def kmeans_groups(points: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """k-means on ``points`` (3 restarts): the member indices of each cluster. Remembered for the
    kernel's life (:func:`~course_lib.cache.remembered`): the chapter's tables fit the same points at
    the same k and seed several times."""
    check_int(k, "k", min=1, max=len(points))
    labels = fit_kmeans(points, int(k), seed).labels_
    return [np.flatnonzero(labels == c) for c in range(int(k))]


@dataclass(frozen=True)
class LayerSorting:
    columns: tuple[str, ...]
    purity: dict[str, np.ndarray]      #: column → purity at each layer (0 … n_layers)
    shuffled: dict[str, float]         #: column → mean purity of the same clusters, labels shuffled
    k: int


@runtime.one_thread_for_small_fits()
def layer_sorting(acts: SentenceActivations, columns: Sequence[str] = ("template", "topic", "emotion"),
                  k: int = 24, seed: int = 0) -> LayerSorting:
    """k-means (``k`` clusters) at every layer; each clustering's purity for each label column.
    The baseline shuffles the labels over the same clusters (what purity chance gives at this k)."""
    rng = np.random.default_rng(seed)
    purity = {c: np.zeros(acts.n_layers + 1) for c in columns}
    shuffled = {c: [] for c in columns}
    for layer in range(acts.n_layers + 1):
        groups = kmeans_groups(acts.layer(layer), k, seed)
        for c in columns:
            labels = acts.sentences.labels(c)
            purity[c][layer] = partition_purity(groups, labels)
            shuffled[c].append(partition_purity(groups, rng.permutation(labels)))
    return LayerSorting(tuple(columns), purity, {c: float(np.mean(v)) for c, v in shuffled.items()}, k)


def layer_lens(acts: SentenceActivations, layer: int, lens: str) -> np.ndarray:
    """Lens ``lens`` (a key of :data:`~.lenses.LENSES`) of layer ``layer``; the L2 norm is taken of
    the raw activations, the others of the unit-length points Mapper clusters."""
    if lens not in LENSES:
        raise ValueError(f"lens must be one of {sorted(LENSES)}, got {lens!r}")
    if lens == "L2 norm":
        return l2_norm_lens(acts.layer(layer, unit=False))
    return LENSES[lens](acts.layer(layer))


@runtime.one_thread_for_small_fits()
def recipe_graph(points: np.ndarray, lens: Any, *, n_cubes: int = GRAPH_SETTINGS["n_cubes"],
                 overlap: float = GRAPH_SETTINGS["overlap"], scale: float = GRAPH_SETTINGS["scale"]):
    """The chapter's Mapper recipe on (unit-length) ``points``: ``lens`` covered by ``n_cubes``
    intervals with ``overlap``, DBSCAN at ``scale`` × :func:`~.graph.default_clusterer`'s eps."""
    return mapper_graph(points, lens, n_cubes=n_cubes, overlap=overlap,
                        clusterer=default_clusterer(points, scale))


@runtime.one_thread_for_small_fits()
def activation_graph(acts: SentenceActivations, layer: int, lens: str = "PCA 1", *,
                     n_cubes: int = GRAPH_SETTINGS["n_cubes"],
                     overlap: float = GRAPH_SETTINGS["overlap"],
                     scale: float = GRAPH_SETTINGS["scale"]):
    """The Mapper graph of layer ``layer`` (unit-length points) through ``lens``."""
    return recipe_graph(acts.layer(layer), layer_lens(acts, layer, lens), n_cubes=n_cubes,
                        overlap=overlap, scale=scale)


@runtime.one_thread_for_small_fits()
def comparison_table(acts: SentenceActivations, layer: int, lens: str | np.ndarray = "PCA 1",
                     profile: str | None = None, label: str = "emotion") -> list[dict[str, Any]]:
    """One row per cover setting (``lens``: a name from :data:`~.lenses.LENSES` or the lens values
    themselves, ``(n,)`` or ``(n, k)``): the graph's size, cycles and coverage; Mapper's node purity
    against k-means' (same covered points, ``k_matched`` clusters of Mapper's mean node size —
    ``mapper_size`` and ``kmeans_size`` record both); the same for cross-situation purity
    (:func:`~.measures.cross_situation_purity`, with ``cross_chance`` over all covered points), pooled
    over pairs (``*_cross``: big groups weigh ≈ size²), averaged over groups (``*_cross_groups``: every
    group once) and over memberships (``*_cross_members``: every group by its size); the
    independent cycles of k-means' adjacency graph; entanglement (tied nodes left out); and
    :func:`~.measures.bridges_vs_boundaries` for the mixed sentences (k-means at ``k_matched``)."""
    settings = runtime.by_profile(COMPARISON_SETTINGS, profile)
    points = acts.layer(layer)
    labels = acts.sentences.labels(label)
    secondary = acts.sentences.second_emotion if label == "emotion" else np.full(len(labels), "")
    lens_values = layer_lens(acts, layer, lens) if isinstance(lens, str) else np.asarray(lens)
    if lens_values.shape[0] != len(points):
        raise ValueError(f"lens must have one value per sentence ({len(points)}), "
                         f"got shape {lens_values.shape}")
    situations = situation_sets(acts.sentences) if label == "emotion" else [frozenset([i]) for i in
                                                                              range(len(points))]
    rows = []
    for n_cubes, overlap, scale in product(settings["n_cubes"], settings["overlaps"],
                                           settings["scales"]):
        graph = recipe_graph(points, lens_values, n_cubes=n_cubes, overlap=overlap, scale=scale)
        inv = graph_invariants(graph)
        if inv.nodes < 2:
            continue
        pure = graph_purity(graph, labels)
        covered = covered_points(graph)
        k_matched = max(2, min(matched_k(graph), len(covered)))
        matched = kmeans_adjacency_graph(points[covered], k_matched)
        matched_groups = [covered[np.asarray(d["members"], dtype=int)] for _, d in matched.nodes(data=True)]
        chance = cross_situation_purity([covered], labels, situations)
        bridge = bridges_vs_boundaries(points, graph, labels, secondary, k=k_matched)
        mapper_cross = cross_situation_purity([d["members"] for _, d in graph.nodes(data=True)],
                                              labels, situations)
        kmeans_cross = cross_situation_purity(matched_groups, labels, situations)
        rows.append(dict(n_cubes=n_cubes, overlap=overlap, scale=scale, nodes=inv.nodes,
                         edges=inv.edges, components=inv.components, cycles=inv.cycles,
                         coverage=pure.coverage, mapper_purity=pure.purity,
                         k_matched=k_matched,
                         mapper_size=sum(len(d["members"]) for _, d in graph.nodes(data=True)) / inv.nodes,
                         kmeans_size=len(covered) / k_matched,
                         kmeans_purity=partition_purity(matched_groups, labels),
                         mapper_cross=mapper_cross.share, kmeans_cross=kmeans_cross.share,
                         mapper_cross_groups=mapper_cross.group_mean,
                         kmeans_cross_groups=kmeans_cross.group_mean,
                         mapper_cross_members=mapper_cross.member_mean,
                         kmeans_cross_members=kmeans_cross.member_mean,
                         mapper_median_size=float(np.median([len(d["members"])
                                                             for _, d in graph.nodes(data=True)])),
                         cross_chance=chance.share,
                         kmeans_cycles=graph_invariants(matched).cycles,
                         entanglement=entanglement(graph, labels, ties="skip"), bridge=bridge))
    return rows


@runtime.one_thread_for_small_fits()
def without_mixed(acts: SentenceActivations, layer: int, *, n_random: int = 3,
                  kmeans_seeds: Sequence[int] = tuple(range(10)),
                  seed: int = 0) -> list[dict[str, Any]]:
    """Mapper against k-means with and without the sentences that mix two emotions.

    4.2's graph (lens ``PCA 1``, cover and DBSCAN radius all taken from the full set, so only the points
    change) is rebuilt on: ``all`` sentences; ``without mixed`` (the mixed sentences left out); and
    ``n_random`` arms ``without random`` that leave out as many single-emotion sentences drawn at
    random (seeds ``seed``, ``seed + 1``, …) — the control: as many points fewer, none of them in
    between two emotions. One row per arm: Mapper's cross-situation purity pooled, per group and per
    membership (:class:`~.measures.PairPurity`), its largest node and coverage, and — for the ``all``
    and ``without mixed`` arms only (the random arms are Mapper's control, k-means' columns are nan
    there) — k-means at the graph's mean node size on the same covered sentences over
    ``kmeans_seeds``: min, median and max, and how many seeds score below Mapper (``*_below``)."""
    check_int(layer, "layer", min=0, max=acts.n_layers)
    check_int(n_random, "n_random", min=0)
    if not kmeans_seeds:
        raise ValueError("kmeans_seeds must name at least one seed")
    s = acts.sentences
    points = acts.layer(layer)
    lens = pca_lens(points)
    clusterer = default_clusterer(points, GRAPH_SETTINGS["scale"])
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    mixed = np.asarray(s.kind) == "mixed"
    single = np.flatnonzero(~mixed)
    arms = [("all", -1, np.arange(len(points))), ("without mixed", -1, single)]
    for r in range(n_random):
        drop = np.random.default_rng(seed + r).choice(single, size=int(mixed.sum()), replace=False)
        arms.append(("without random", r, np.setdiff1d(np.arange(len(points)), drop)))
    rows = []
    for arm, draw, keep in arms:
        graph = mapper_graph(points[keep], lens[keep], n_cubes=GRAPH_SETTINGS["n_cubes"],
                             overlap=GRAPH_SETTINGS["overlap"], clusterer=clusterer)
        nodes = [keep[np.asarray(m, dtype=int)] for m in node_members(graph).values()]
        covered = keep[covered_points(graph)]
        k = max(2, matched_k(graph))
        mapper = cross_situation_purity(nodes, labels, situations)
        kmeans = [] if draw >= 0 else [
            cross_situation_purity([covered[g] for g in kmeans_groups(points[covered], k, sd)],
                                   labels, situations) for sd in kmeans_seeds]
        row = dict(arm=arm, draw=draw, sentences=len(keep), coverage=len(covered) / len(keep),
                   largest=max(len(n) for n in nodes), k_matched=k, mapper_pairs=mapper.pairs,
                   kmeans_pairs_min=min((q.pairs for q in kmeans), default=float("nan")))
        row.update(seed_spread(mapper, kmeans))
        rows.append(row)
    return rows


def _cube(node: str) -> int:
    """The cover interval a kmapper node comes from (``cube{i}_cluster{j}`` → i)."""
    head = str(node).split("_")[0]
    return int(head[4:]) if head.startswith("cube") and head[4:].isdigit() else -1


def cycle_census(graph: Any, situations: Sequence[frozenset], labels: Any) -> list[dict[str, Any]]:
    """One row per cycle of a minimum cycle basis of ``graph``: its length, how many cover intervals
    it spans, whether a single point lies in all its nodes (a *filled* triangle: an artefact of
    intervals overlapping three at a time, not a hole), and whether its nodes share one situation or
    one dominant label (a loop inside one situation is a cluster the cover cut and DBSCAN re-split,
    not a path between different sentences)."""
    import networkx as nx

    members = node_members(graph)
    labels = np.asarray(labels)
    situations = list(situations)
    if len(situations) != len(labels):
        raise ValueError(f"situations must have one entry per label ({len(labels)}), got {len(situations)}")
    rows = []
    for cycle in nx.minimum_cycle_basis(graph):
        common = set(members[cycle[0]].tolist())
        for node in cycle[1:]:
            common &= set(members[node].tolist())
        sit = [set().union(*(situations[i] for i in members[node])) for node in cycle]
        shared_situation = set.intersection(*sit)
        dominant = {str(np.unique(labels[members[node]], return_counts=True)[0][
            np.argmax(np.unique(labels[members[node]], return_counts=True)[1])]) for node in cycle}
        rows.append(dict(length=len(cycle), intervals=len({_cube(n) for n in cycle}),
                         filled=bool(common), one_situation=bool(shared_situation),
                         one_label=len(dominant) == 1,
                         points=len(set().union(*(set(members[n].tolist()) for n in cycle)))))
    return rows


def _planted_graphs(points: np.ndarray, settings: dict):
    lens = pca_lens(points)
    for n_cubes, overlap, scale in product(settings["n_cubes"], settings["overlaps"], settings["scales"]):
        graph = recipe_graph(points, lens, n_cubes=n_cubes, overlap=overlap, scale=scale)
        if graph.number_of_nodes() < 2:
            continue
        yield (n_cubes, overlap, scale), graph


def planted_entanglement(profile: str | None = None, pair: tuple[int, int] = (0, 2),
                         n_shuffles: int = 100, margin: float = 1.5) -> list[dict[str, Any]]:
    """Does each method put the mixing on the one pair that mixes? On :func:`~.shapes.planted_mixing`
    data, for every seed and cover setting: the share of the cross-label points that falls on the
    planted pair, for Mapper's graph and for k-means' adjacency graph at Mapper's cluster size, with
    the planted pair's shuffle-null p-values (counts and shares). ``kmeans_margin_*``: k-means'
    adjacency graph counting only points whose second-nearest centroid is within ``margin`` times the
    nearest one's distance (:func:`~.measures.kmeans_adjacency_graph`'s ``max_ratio``), the threshold
    that Mapper's shared-point edges have built in."""
    settings = runtime.by_profile(PLANTED_SETTINGS, profile)
    planted = tuple(PLANTED_LABELS[i] for i in pair)
    rows = []
    for seed in settings["seeds"]:
        points, labels = planted_mixing(pair, seed=seed)
        for (n_cubes, overlap, scale), graph in _planted_graphs(points, settings):
            row = dict(seed=seed, n_cubes=n_cubes, overlap=overlap, scale=scale)
            k = max(2, matched_k(graph))
            for name, g in (("mapper", graph), ("kmeans", kmeans_adjacency_graph(points, k, seed)),
                            ("kmeans_margin", kmeans_adjacency_graph(points, k, seed, max_ratio=margin))):
                null = entanglement_null(g, labels, PLANTED_LABELS, n_shuffles=n_shuffles, seed=seed)
                mine = next(r for r in null.pairs() if tuple(r["pair"]) == planted)
                across = null.observed[np.triu_indices(4, k=1)].sum()
                row.update({f"{name}_across": float(across), f"{name}_on_pair": mine["observed"],
                            f"{name}_share": mine["share"] if across > 0 else float("nan"),
                            f"{name}_p": mine["p"], f"{name}_p_share": mine["p_share"]})
            rows.append(row)
    return rows


def ring_or_chain(profile: str | None = None) -> list[dict[str, Any]]:
    """Can a reader tell a loop of labels from a chain by the graph's cycles? On
    :func:`~.shapes.labelled_ring` data with and without the closing quarter (one factor), for every
    seed and cover setting: Mapper's independent cycles and components, and the independent cycles
    of k-means' adjacency graph at Mapper's cluster size."""
    settings = runtime.by_profile(PLANTED_SETTINGS, profile)
    rows = []
    for seed, gap in product(settings["seeds"], (False, True)):
        points, _ = labelled_ring(gap=gap, seed=seed)
        for (n_cubes, overlap, scale), graph in _planted_graphs(points, settings):
            inv = graph_invariants(graph)
            km = kmeans_adjacency_graph(points, max(2, matched_k(graph)), seed)
            rows.append(dict(shape="chain" if gap else "ring", seed=seed, n_cubes=n_cubes,
                             overlap=overlap, scale=scale, mapper_cycles=inv.cycles,
                             mapper_components=inv.components,
                             kmeans_cycles=graph_invariants(km).cycles,
                             kmeans_components=graph_invariants(km).components))
    return rows


@runtime.one_thread_for_small_fits()
def top_pair_by_lens(acts: SentenceActivations, layer: int, lenses: Sequence[str] = tuple(LENSES),
                     scales: Sequence[float] = (0.45, 0.5), n_shuffles: int = 200,
                     label: str = "emotion") -> list[dict[str, Any]]:
    """Which pair of labels gets the largest share of the cross-label sentences, per lens and DBSCAN
    scale (4.2's cover otherwise): the pair, its share, its one-sided ``p_share`` against label
    shuffles, and that p-value Bonferroni-corrected over all pairs (the pair was picked as the top
    one after looking, so one of the pairs' p-values is not the right test on its own)."""
    labels = acts.sentences.labels(label)
    rows = []
    for lens, scale in product(lenses, scales):
        graph = activation_graph(acts, layer, lens, scale=scale)
        null = entanglement_null(graph, labels, sorted(set(labels.tolist())), n_shuffles=n_shuffles, seed=0)
        pairs = null.pairs()
        top = max(pairs, key=lambda r: r["share"])
        rows.append(dict(lens=lens, scale=float(scale), top_pair="–".join(top["pair"]),
                         share=top["share"], p_share=top["p_share"],
                         p_bonferroni=min(1.0, top["p_share"] * len(pairs)),
                         entanglement=null.share, null_median=float(np.median(null.null_shares))))
    return rows
