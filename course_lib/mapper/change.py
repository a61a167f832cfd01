"""Notebook 4.3's measurements: the same Mapper recipe before and after the model is changed.

* :func:`last_layer_graph` — the recipe of notebook 4.2 (unit points, lens ``PCA 1``, its cover) on
  any set of last-layer activations, so graphs of edited or fine-tuned models compare like for like;
* :func:`graph_summary`   — one row of numbers for a graph: size, components, cycles, purity,
  coverage, entanglement, and who finds the mixed sentences;
* :func:`nearest_node`    — which node of a reference graph a (possibly edited) point lands in;
* :func:`neighbour_labels`— the majority label of a point's nearest unedited sentences;
* :func:`steering_study` — one pair of neighbourhoods steered, in-sample (settings per profile); the
  fair versions — held-out steering with controls, ablation judged at equal coverage — are in
  :mod:`.judged`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import graph_invariants
from .lenses import pca_lens
from .lenses import unit_rows as unit
from .measures import _dominant, bridges_vs_boundaries, entanglement, graph_purity, node_members
from .study import recipe_graph
from ..validation import check_int

__all__ = ["last_layer_graph", "graph_summary", "node_centroids", "nearest_node",
           "neighbour_labels", "CHANGE_SETTINGS", "steering_pair", "steering_study", "largest_node",
           "CURVE_SCALES", "purity_coverage_curve", "purity_at_coverage"]


def last_layer_graph(points: Any):
    """``(unit points, graph)``: notebook 4.2's recipe (lens PCA 1, :data:`~.study.GRAPH_SETTINGS`)."""
    x = unit(points)
    return x, recipe_graph(x, pca_lens(x))


def graph_summary(points: np.ndarray, graph: Any, labels: np.ndarray,
                  secondary: np.ndarray | None = None) -> dict[str, Any]:
    """Numbers for one graph; with ``secondary`` (second labels, "" if none) also the share of
    mixed sentences among Mapper's bridges and k-means' boundary points. Entanglement leaves out
    the edges of nodes whose top labels tie, as notebook 4.2 measures it."""
    inv = graph_invariants(graph)
    pure = graph_purity(graph, labels)
    row = dict(nodes=inv.nodes, edges=inv.edges, components=inv.components, cycles=inv.cycles,
               purity=pure.purity, coverage=pure.coverage, entanglement=entanglement(graph, labels, ties="skip"))
    if secondary is not None:
        b = bridges_vs_boundaries(points, graph, labels, secondary)
        row["mixed_in_bridges"] = b.mapper_mixed / b.points if b.points else float("nan")
        row["mixed_in_boundaries"] = b.kmeans_mixed / b.kmeans_points if b.kmeans_points else float("nan")
    return row


def node_centroids(graph: Any, points: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``(node names, (nodes, dim) unit centroids)``: each node's mean member, scaled to length 1."""
    members = node_members(graph)
    if not members:
        raise ValueError("graph has no nodes")
    names = list(members)
    return names, unit(np.stack([np.asarray(points)[members[n]].mean(axis=0) for n in names]))


def nearest_node(points: Any, graph: Any, reference: np.ndarray) -> list[str]:
    """For each row of ``points``, the node of ``graph`` (built on ``reference``) whose unit centroid
    has the largest cosine similarity with it."""
    names, centroids = node_centroids(graph, reference)
    x = unit(points)
    if x.shape[1] != centroids.shape[1]:
        raise ValueError(f"points have {x.shape[1]} dimensions, the graph's points {centroids.shape[1]}")
    return [names[i] for i in np.argmax(x @ centroids.T, axis=1)]


def neighbour_labels(points: Any, reference: np.ndarray, labels: np.ndarray, k: int = 10,
                     exclude: np.ndarray | None = None) -> np.ndarray:
    """Majority label of each point's ``k`` most cosine-similar ``reference`` rows (``exclude[i]``:
    a reference row to skip for point ``i``, e.g. the unedited sentence itself; ties → sorted first)."""
    x, ref = unit(points), unit(reference)
    labels = np.asarray(labels)
    check_int(k, "k", min=1, max=len(ref) - 1)
    sims = x @ ref.T
    if exclude is not None:
        sims[np.arange(len(x)), np.asarray(exclude)] = -np.inf
    nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.array([_dominant(labels[row])[0] for row in nearest])


# --- ablation and steering studies (notebook 4.3) ---------------------------------------------------

#: Per profile: the in-sample steering demonstration's layers and doses.
CHANGE_SETTINGS = {
    "quick": dict(steer_layers=(2, 4, 6), doses=(1.0, 2.0)),
    "standard": dict(steer_layers=(2, 4, 6), doses=(0.5, 1.0, 2.0, 3.0)),
    "full": dict(steer_layers=(1, 2, 3, 4, 5, 6), doses=(0.5, 1.0, 1.5, 2.0, 3.0, 4.0)),
}


def steering_pair(layer_points: Any, source: Any, target: Any,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(vector, control)``: the steering vector mean(target rows) − mean(source rows) of the raw
    ``layer_points`` (it is added to hidden states of that size, so it keeps its length), and a random
    direction drawn from ``rng`` rescaled to exactly the same length (the control differs only in
    direction)."""
    x = np.asarray(layer_points, dtype=float)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError("layer_points must be a finite (n, dim) array")
    source, target = np.asarray(source), np.asarray(target)
    if not len(source) or not len(target):
        raise ValueError("source and target must each index at least one row")
    vector = x[target].mean(axis=0) - x[source].mean(axis=0)
    control = rng.normal(size=vector.shape)
    return vector, control * np.linalg.norm(vector) / np.linalg.norm(control)


def steering_study(model: Any, acts: Any, graph: Any, source: str, target: str,
                   make_pair: Any = steering_pair, profile: str | None = None,
                   seed: int = 0) -> list[dict[str, Any]]:
    """Steer the members of node ``source`` toward node ``target`` (both nodes of the last-layer
    ``graph`` of ``acts``): at each layer and dose of the profile, add ``dose × vector`` — with
    ``vector, control = make_pair(layer activations, source members, target members, rng)`` — and
    read where the last layer lands: the share in a node with ``target``'s dominant label, in
    ``target`` itself, and whose 10 nearest unedited sentences are mostly of that label."""
    from .. import runtime
    from .measures import dominant_labels
    from .rerun import LayerRecording

    settings = runtime.by_profile(CHANGE_SETTINGS, profile)
    members = node_members(graph)
    if source not in members or target not in members:
        raise ValueError("source and target must be nodes of graph")
    labels = acts.sentences.emotion
    dominant = {n: lab for n, (lab, _) in dominant_labels(graph, labels).items()}
    want = dominant[target]
    reference = acts.layer(acts.n_layers)
    rows_source, rows_target = members[source], members[target]
    texts = [acts.sentences.text[i] for i in rows_source]
    rng = np.random.default_rng(seed)
    recording = LayerRecording(model, texts, layers=settings["steer_layers"])   # the bottom runs once
    out = []
    for layer in settings["steer_layers"]:
        vector, control = make_pair(acts.layers[:, layer].astype(float), rows_source, rows_target, rng)
        for dose in settings["doses"]:
            row: dict[str, Any] = dict(layer=layer, dose=dose, n=len(rows_source),
                                       length=float(dose * np.linalg.norm(vector)))
            for name, v in (("steered", vector), ("random", control)):
                last = recording.last_layer(layer, add=np.tile(dose * v, (len(texts), 1)))
                landed = nearest_node(last, graph, reference)
                row[name] = float(np.mean([dominant[n] == want for n in landed]))
                row[f"{name}_in_target"] = float(np.mean([n == target for n in landed]))
                row[f"{name}_neighbours"] = float(np.mean(
                    neighbour_labels(last, reference, labels, exclude=rows_source) == want))
            out.append(row)
    return out


def largest_node(graph: Any, labels: np.ndarray, label: str, min_purity: float = 0.8) -> str:
    """The node with the most members among those dominated by ``label`` at ≥ ``min_purity``."""
    from .measures import dominant_labels

    members = node_members(graph)
    fits = [n for n, (lab, share) in dominant_labels(graph, labels).items()
            if lab == label and share >= min_purity]
    if not fits:
        raise ValueError(f"no node is dominated by {label!r} at purity ≥ {min_purity}")
    return max(fits, key=lambda n: (len(members[n]), n))


#: The clustering scales of a purity–coverage curve (notebook 4.2's graphs use 0.45).
CURVE_SCALES = (0.3, 0.35, 0.4, 0.45, 0.5)


def purity_coverage_curve(points: Any, labels: np.ndarray,
                          scales: tuple[float, ...] = CURVE_SCALES, situations: Any = None,
                          score: Any = None, also: dict[str, Any] | None = None) -> list[dict[str, float]]:
    """The recipe's graph at each DBSCAN ``scale``: ``{scale, coverage, purity, nodes}`` per scale.
    A smaller scale keeps only dense cores (pure, low coverage); a larger one merges (covers all,
    less pure). Two spaces compare fairly by purity *at the same coverage*, not at the same scale.

    With ``situations`` (one per point, see :func:`~.measures.cross_situation_purity`) each row also
    holds ``cross`` and ``pairs``: the cross-situation purity of the nodes and its number of pairs.
    With ``score`` (a boolean mask) the graph is built on all points, but purity and cross-situation
    purity count only the ``score`` points (for example sentences a model was not trained on).
    With ``also`` (``name → labels``, one per point) each row also holds ``purity[name]``: the same
    graphs' purity by other labels (e.g. topic), without building them again."""
    from .measures import cross_situation_purity

    x = unit(points)
    labels = np.asarray(labels)
    keep = np.ones(len(x), dtype=bool) if score is None else np.asarray(score, dtype=bool)
    if keep.shape != (len(x),):
        raise ValueError(f"score must be a boolean mask of length {len(x)}")
    also = {name: np.asarray(other) for name, other in (also or {}).items()}
    for name, other in also.items():
        if other.shape != (len(x),):
            raise ValueError(f"also[{name!r}] must hold one label per point ({len(x)})")

    def purity_of(members: list, lab: np.ndarray) -> float:
        if not any(len(m) for m in members):
            return float("nan")
        return float(sum(_dominant(lab[m])[1] for m in members if len(m)) / sum(len(m) for m in members))

    lens = pca_lens(x)
    out = []
    for scale in scales:
        graph = recipe_graph(x, lens, scale=scale)
        members = [m[keep[m]] for m in node_members(graph).values()]
        covered = np.zeros(len(x), dtype=bool)
        for m in members:
            covered[m] = True
        row = dict(scale=float(scale), coverage=float(covered[keep].mean()), purity=purity_of(members, labels),
                   nodes=sum(1 for m in members if len(m)))
        for name, other in also.items():
            row[f"purity[{name}]"] = purity_of(members, other)
        if situations is not None:
            pp = cross_situation_purity(members, labels, situations)
            row.update(cross=pp.share, pairs=pp.pairs)
        out.append(row)
    return out


def purity_at_coverage(curve: list[dict[str, float]], coverage: float, key: str = "purity") -> float:
    """``key`` (purity, or ``cross``/``pairs``) interpolated linearly at ``coverage`` along a
    :func:`purity_coverage_curve` (NaN outside the coverages the curve reaches)."""
    pts = sorted((c["coverage"], c[key]) for c in curve if c["nodes"] and np.isfinite(c[key]))
    if not pts or not pts[0][0] <= coverage <= pts[-1][0]:
        return float("nan")
    xs, ys = zip(*pts)
    return float(np.interp(coverage, xs, ys))
