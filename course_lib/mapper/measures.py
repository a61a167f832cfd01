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

* **Is the measure right?** :func:`entanglement_null` sets each label pair's shared points beside
  the same graph with the labels shuffled; :func:`kmeans_adjacency_graph` is the baseline graph
  (k-means clusters joined where points have them as first and second nearest centroids);
  :func:`cross_situation_purity` asks whether co-members that share *no situation* share a label.

A tie for the dominant label goes to the label that sorts first (``entanglement_matrix(...,
ties="skip")`` leaves tied nodes out instead).
"""

from __future__ import annotations

from collections import OrderedDict

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import runtime

__all__ = ["node_members", "covered_points", "dominant_labels", "partition_purity", "Purity", "graph_purity",
           "tied_nodes", "entanglement_matrix", "entanglement", "EntanglementNull", "entanglement_null",
           "kmeans_adjacency_graph", "PairPurity", "cross_situation_purity", "BridgeComparison",
           "bridges_vs_boundaries"]


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


def _edge_shared(graph: Any, members: dict[str, np.ndarray], a: Any, b: Any) -> int:
    """The points an edge carries: its ``shared`` attribute where the graph records one (Mapper's
    graphs and :func:`kmeans_adjacency_graph` do), otherwise the nodes' common members."""
    data = graph.edges[a, b]
    if "shared" in data:
        return int(data["shared"])
    return len(np.intersect1d(members[a], members[b]))


def _tied(values: np.ndarray) -> bool:
    counts = np.unique(values, return_counts=True)[1]
    return len(counts) > 1 and int((counts == counts.max()).sum()) > 1


def tied_nodes(graph: Any, labels: Any) -> dict[str, tuple]:
    """The nodes whose most common labels tie: ``node → the tied labels`` (sorted). Such a node has
    no dominant label; ``dominant_labels`` would give it the label that sorts first, which credits
    that label with nodes that are not its own (report them; ``ties="skip"`` leaves their edges out)."""
    labels = _labels(labels)
    members = node_members(graph)
    _check_members(members, len(labels))
    out = {}
    for node, m in members.items():
        kinds, counts = np.unique(labels[m], return_counts=True)
        if _tied(labels[m]):
            out[node] = tuple(kinds[counts == counts.max()].tolist())
    return out


def entanglement_matrix(graph: Any, labels: Any, classes: Sequence | None = None,
                        ties: str = "first") -> np.ndarray:
    """``(L, L)`` symmetric: shared points on edges between nodes dominated by each pair of labels
    (an edge between two ``a`` nodes adds to ``[a, a]``; between ``a`` and ``b`` to both ``[a, b]``
    and ``[b, a]``). ``classes`` fixes the order (default: the sorted labels). ``ties``: a node
    whose top labels tie goes to the label that sorts first (``"first"``) or, with ``"skip"``, has
    no dominant label and its edges count nowhere (a tie says nothing about either label)."""
    if ties not in ("first", "skip"):
        raise ValueError(f"ties must be 'first' or 'skip', got {ties!r}")
    labels = _labels(labels)
    dominant = dominant_labels(graph, labels)
    classes = list(np.unique(labels)) if classes is None else list(classes)
    index = {c: i for i, c in enumerate(classes)}
    missing = {d for d, _ in dominant.values()} - set(index)
    if missing:
        raise ValueError(f"classes lacks the dominant labels {sorted(map(str, missing))}")
    matrix = np.zeros((len(classes), len(classes)))
    members = node_members(graph)
    skipped = {n for n, m in members.items() if ties == "skip" and _tied(labels[m])}
    for a, b in graph.edges():
        if a in skipped or b in skipped:
            continue
        shared = _edge_shared(graph, members, a, b)
        i, j = index[dominant[a][0]], index[dominant[b][0]]
        matrix[i, j] += shared
        if i != j:
            matrix[j, i] += shared
    return matrix


def _off_share(matrix: np.ndarray) -> float:
    within = float(np.trace(matrix))
    across = float(matrix[np.triu_indices(len(matrix), k=1)].sum())
    return across / (within + across) if within + across > 0 else 0.0


def entanglement(graph: Any, labels: Any, ties: str = "first") -> float:
    """Share of the points on edges that link nodes of different dominant labels (0 with no edges)."""
    return _off_share(entanglement_matrix(graph, labels, ties=ties))


@dataclass(frozen=True)
class EntanglementNull:
    """An entanglement matrix beside the same graph's matrices with the labels shuffled over the
    points (the graph, its nodes and edges fixed; only which point carries which label changes)."""

    classes: tuple
    observed: np.ndarray     #: (L, L) the entanglement matrix
    null: np.ndarray         #: (n_shuffles, L, L) the matrix under each shuffle

    @property
    def share(self) -> float:
        """The observed entanglement (off-diagonal share)."""
        return _off_share(self.observed)

    @property
    def null_shares(self) -> np.ndarray:
        return np.array([_off_share(m) for m in self.null])

    def pairs(self) -> list[dict[str, Any]]:
        """One row per pair of labels ``a < b``.

        * ``observed``, ``null_mean``, ``null_sd``, ``p``: the pair's shared points against the
          shuffles (``p`` one-sided, ``(1 + #null ≥ observed) / (1 + n)``). This asks "more than a
          graph whose labels mean nothing?" — a pure graph has fewer cross-label points everywhere,
          so a real but small mixing can fail it;
        * ``share``, ``null_share``, ``p_share``: the pair's part of all cross-label points, against
          the same part under the shuffles (≈ 1/6 for four balanced labels). This asks "of the
          mixing there is, does this pair get more than its share?"
        """
        rows = []
        n = len(self.null)
        total = self.observed[np.triu_indices(len(self.classes), k=1)].sum()
        null_total = np.array([m[np.triu_indices(len(self.classes), k=1)].sum() for m in self.null])
        for i in range(len(self.classes)):
            for j in range(i + 1, len(self.classes)):
                values = self.null[:, i, j]
                observed = float(self.observed[i, j])
                share = observed / total if total > 0 else 0.0
                with np.errstate(invalid="ignore", divide="ignore"):
                    null_share = np.where(null_total > 0, values / np.where(null_total > 0, null_total, 1), 0.0)
                rows.append(dict(pair=(self.classes[i], self.classes[j]), observed=observed,
                                 null_mean=float(values.mean()), null_sd=float(values.std()),
                                 p=(1 + int((values >= observed).sum())) / (1 + n),
                                 share=float(share), null_share=float(null_share.mean()),
                                 p_share=(1 + int((null_share >= share).sum())) / (1 + n)))
        return rows


#: Shuffles scored in one matrix product by :func:`entanglement_null` (memory ≈ points × block × labels).
_SHUFFLE_BLOCK = 256


def entanglement_null(graph: Any, labels: Any, classes: Sequence | None = None, *,
                      n_shuffles: int = 200, seed: int = 0, ties: str = "skip") -> EntanglementNull:
    """:func:`entanglement_matrix` of ``graph`` and of ``n_shuffles`` label shuffles (per-pair null)."""
    from ..validation import check_int

    check_int(n_shuffles, "n_shuffles", min=1)
    if ties not in ("first", "skip"):
        raise ValueError(f"ties must be 'first' or 'skip', got {ties!r}")
    labels = _labels(labels)
    classes = tuple(np.unique(labels)) if classes is None else tuple(classes)
    observed = entanglement_matrix(graph, labels, classes, ties=ties)
    # The shuffles, vectorised: node-by-label counts from a membership matrix, a block of shuffles
    # per product; argmax takes the first of tied labels in sorted order, as dominant_labels does.
    members = node_members(graph)
    names = list(members)
    position = {n: i for i, n in enumerate(names)}
    incidence = np.zeros((len(names), len(labels)))
    for i, n in enumerate(names):
        incidence[i, members[n]] = 1.0
    edges = [(position[a], position[b], _edge_shared(graph, members, a, b)) for a, b in graph.edges()]
    ei, ej, weight = (np.array([e[k] for e in edges], dtype=float if k == 2 else int) for k in range(3))
    sorted_kinds, codes = np.unique(labels, return_inverse=True)
    to_class = np.array([classes.index(k) if k in classes else -1 for k in sorted_kinds])
    rng = np.random.default_rng(seed)
    n, n_kinds, n_classes = int(n_shuffles), len(sorted_kinds), len(classes)
    null = np.zeros((n, n_classes, n_classes))
    if not edges:                     # no edge, nothing to count: every shuffle's matrix is zero
        return EntanglementNull(classes, observed, null)
    shuffles = np.stack([rng.permutation(codes) for _ in range(n)])   # (n, points)
    for start in range(0, n, _SHUFFLE_BLOCK):
        block = shuffles[start:start + _SHUFFLE_BLOCK]
        b = len(block)
        # counts[node, shuffle, kind] for a block of shuffles in one product (exact: 0/1 sums)
        onehot = np.zeros((len(labels), b, n_kinds))
        onehot[np.arange(len(labels))[:, None], np.arange(b)[None, :], block.T] = 1.0
        counts = (incidence @ onehot.reshape(len(labels), b * n_kinds)).reshape(len(names), b, n_kinds)
        top = counts.max(axis=2, keepdims=True)
        dominant = to_class[np.argmax(counts, axis=2)]                   # (nodes, b)
        keep = (np.ones(dominant.shape, dtype=bool) if ties == "first"
                else (counts == top).sum(axis=2) == 1)
        ok = keep[ei] & keep[ej]                                         # (edges, b)
        which = np.broadcast_to(np.arange(start, start + b), ok.shape)[ok]
        a, c = dominant[ei][ok], dominant[ej][ok]
        w = np.broadcast_to(weight[:, None], ok.shape)[ok]
        if np.any(a < 0) or np.any(c < 0):
            raise ValueError("classes lacks some dominant labels")
        np.add.at(null, (which, a, c), w)
        off = a != c
        np.add.at(null, (which[off], c[off], a[off]), w[off])
    return EntanglementNull(classes, observed, null)


def kmeans_adjacency_graph(points: Any, k: int, seed: int = 0,
                           max_ratio: float = float("inf")) -> "networkx.Graph":  # noqa: F821
    """k-means' own graph: one node per cluster (attribute ``members``, a partition of all points),
    an edge between two clusters wherever some point has them as its nearest and second-nearest
    centroids (attribute ``shared``: how many points do). It answers "which clusters touch" the way
    the seed asks of Mapper, with no lens and no cover (``graph.graph["centroids"]``: the centroids).

    ``max_ratio`` counts only points whose second-nearest centroid is less than ``max_ratio`` times
    as far as the nearest — a margin, like the shared point Mapper's edges need (the default counts
    every point, however clearly it belongs to one cluster)."""
    import networkx as nx

    from ..validation import check_int
    from .kmeans import fit_kmeans

    x = np.asarray(points, dtype=float)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"points must be a non-empty 2-D array (n_points, n_features), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("points contain NaN or inf")
    check_int(k, "k", min=2, max=len(x))
    if not max_ratio > 1:
        raise ValueError(f"max_ratio must exceed 1, got {max_ratio!r}")
    km = fit_kmeans(x, int(k), seed)
    distance = km.transform(x)
    order = np.argsort(distance, axis=1)
    rows = np.arange(len(x))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = distance[rows, order[:, 1]] / distance[rows, order[:, 0]]
    close = (np.ones(len(x), dtype=bool) if np.isinf(max_ratio)    # no cut: every point, even one on its centroid
             else ratio < max_ratio)
    graph = nx.Graph(centroids=km.cluster_centers_)
    for c in range(int(k)):
        graph.add_node(f"kmeans{c}", members=np.flatnonzero(km.labels_ == c).tolist())
    if not close.any():
        return graph
    pairs, counts = np.unique(np.sort(order[close, :2], axis=1), axis=0, return_counts=True)
    for (a, b), count in zip(pairs, counts):
        graph.add_edge(f"kmeans{a}", f"kmeans{b}", shared=int(count))
    return graph


@dataclass(frozen=True)
class PairPurity:
    """Same-label share among pairs of co-members that come from *different* situations."""

    share: float    #: same / pairs (nan with no such pair)
    same: int       #: pairs with the same label
    pairs: int      #: pairs of co-members whose situations differ, counted once per group holding both
    #: each group's own share, averaged over the groups that hold such a pair: pooling counts a group
    #: by its pairs (≈ size²), so a few big groups can decide ``share``; this counts every group once
    group_mean: float = float("nan")
    group_pairs: tuple = ()   #: such pairs in each group, in the order given (0 for a group with none)
    #: the groups' shares weighted by their size (each point-in-a-group counts its group's share once):
    #: between pooling (∝ size²) and ``group_mean`` (∝ 1), which many tiny groups can decide instead
    member_mean: float = float("nan")


#: The last few incidence matrices, keyed by the (hashable) situations: 4.2 scores hundreds of
#: groupings of the same sentences, and building the matrix in Python is most of a score's time.
_INCIDENCE_MEMORY: "OrderedDict[tuple, np.ndarray]" = OrderedDict()


def _incidence(situations: Any, n: int) -> np.ndarray:
    """``(n, m)`` boolean: point i is in situation j. ``situations`` is one label per point or one
    collection of labels per point (a point mixing two situations has two). Read-only: remembered
    for the last few hashable ``situations`` (tuples, frozensets, scalars)."""
    try:
        key = (int(n), tuple(situations.tolist() if isinstance(situations, np.ndarray)
                             else situations))
        hash(key)
    except TypeError:   # sets, lists or arrays per point: not hashable, build it each time
        return _build_incidence(situations, n)
    if key not in _INCIDENCE_MEMORY:
        out = _build_incidence(situations, n)
        out.flags.writeable = False
        _INCIDENCE_MEMORY[key] = out
        if len(_INCIDENCE_MEMORY) > 8:
            _INCIDENCE_MEMORY.popitem(last=False)
    _INCIDENCE_MEMORY.move_to_end(key)
    return _INCIDENCE_MEMORY[key]


def _build_incidence(situations: Any, n: int) -> np.ndarray:
    if isinstance(situations, np.ndarray) and situations.ndim == 1 and situations.dtype != object:
        situations = [[v] for v in situations.tolist()]
    situations = list(situations)
    if len(situations) != n:
        raise ValueError(f"situations must have one entry per point ({n}), got {len(situations)}")
    sets = [set(v) if isinstance(v, (set, frozenset, list, tuple)) else {v} for v in situations]
    kinds = sorted({k for v in sets for k in v}, key=str)
    index = {k: j for j, k in enumerate(kinds)}
    out = np.zeros((n, max(len(kinds), 1)), dtype=bool)
    for i, v in enumerate(sets):
        out[i, [index[k] for k in v]] = True
    return out


def cross_situation_purity(groups: Sequence[Sequence[int]], labels: Any, situations: Any) -> PairPurity:
    """Do the groups put together points of the same label that share nothing else?

    For every group and every pair of its members whose ``situations`` are disjoint, is their label
    the same? With each situation belonging to one label (as in the course's sentences), ordinary
    purity rewards grouping by situation; this count leaves those pairs out. Pass a single group of
    points to get the chance level (the same share among all cross-situation pairs of those points)."""
    labels = _labels(labels)
    # float32: the shared-situation counts are small integers (exact), and BLAS multiplies floats
    incidence = _incidence(situations, len(labels)).astype(np.float32)
    codes = np.unique(labels, return_inverse=True)[1]
    same = pairs = 0
    per_group, shares, sizes = [], [], []
    for g in groups:
        g = np.asarray(g, dtype=int)
        if len(g) and (g.min() < 0 or g.max() >= len(labels)):
            raise ValueError(f"groups hold indices outside 0…{len(labels) - 1}")
        if len(g) < 2:
            per_group.append(0)
            continue
        s = incidence[g]
        upper = np.triu(np.ones((len(g), len(g)), dtype=bool), k=1)
        apart = upper & ((s @ s.T) == 0)
        n_apart = int(apart.sum())
        n_same = int((apart & (codes[g][:, None] == codes[g][None, :])).sum())
        pairs += n_apart
        same += n_same
        per_group.append(n_apart)
        if n_apart:
            shares.append(n_same / n_apart)
            sizes.append(len(g))
    return PairPurity(share=same / pairs if pairs else float("nan"), same=same, pairs=pairs,
                      group_mean=float(np.mean(shares)) if shares else float("nan"),
                      group_pairs=tuple(per_group),
                      member_mean=float(np.average(shares, weights=sizes)) if shares else float("nan"))


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
    candidates: int = 0         #: all k-means boundary candidates (nearest two clusters differ in label)
    candidates_mixed: int = 0   #: …mixed among them: ``candidates_mixed / candidates`` is the expected
    #: mixed share of as many candidates drawn *unranked* — the fair match for Mapper's unranked bridges


@runtime.one_thread_for_small_fits()
def bridges_vs_boundaries(points: Any, graph: Any, primary: Any, secondary: Any,
                          seed: int = 0, k: int | None = None) -> BridgeComparison:
    """Score Mapper's bridges and k-means' boundaries against known mixtures.

    ``primary`` is each point's label; ``secondary`` its second label, ``""`` if it has none (a
    *mixed* point has both). A Mapper bridge "names" a pair when both labels are among the dominant
    labels of the nodes holding it; a k-means boundary point when they are its two nearest clusters'.
    """
    from .kmeans import fit_kmeans

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
    k = min(len(members) if k is None else int(k), len(covered))
    if k < 2 or len(bridges) == 0:
        return BridgeComparison(len(bridges), 0, len(covered), int(mixed[covered].sum()),
                                int(mixed[bridges].sum()), 0, int(mapper_pair), 0)
    km = fit_kmeans(x[covered], k, seed)
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
    chosen = candidates[np.argsort(margin[candidates], kind="stable")][:len(bridges)]   # closest calls first
    kmeans_pair = sum(names_pair(covered[r], {cluster_label[first[r]], cluster_label[second[r]]})
                      for r in chosen)
    return BridgeComparison(points=len(bridges), kmeans_points=len(chosen), covered=len(covered),
                            base_mixed=int(mixed[covered].sum()),
                            mapper_mixed=int(mixed[bridges].sum()),
                            kmeans_mixed=int(mixed[covered[chosen]].sum()),
                            mapper_pair=int(mapper_pair), kmeans_pair=int(kmeans_pair),
                            candidates=len(candidates),
                            candidates_mixed=int(mixed[covered[candidates]].sum()))
