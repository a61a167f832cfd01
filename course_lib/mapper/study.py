"""Notebook 4.2's measurements on MiniLM's activations of the sentence set.

* :func:`layer_sorting`  — what each layer groups sentences by: k-means purity for the sentence frame
  (``template``), the ``topic`` and the ``emotion``, layer by layer, beside a shuffled-label baseline.
* :func:`activation_graph` — the Mapper graph of one layer through a named lens.
* :func:`comparison_table` — Mapper against k-means over many cover settings (not one lucky one):
  purity at equal coverage, entanglement, and who finds the mixed sentences (bridges vs boundaries).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Sequence

import numpy as np

from .. import runtime
from .activations import SentenceActivations
from .graph import default_clusterer, graph_invariants, mapper_graph
from .lenses import LENSES, l2_norm_lens
from .measures import (bridges_vs_boundaries, covered_points, entanglement, graph_purity,
                       partition_purity)
from ..validation import check_int

__all__ = ["COMPARISON_SETTINGS", "GRAPH_SETTINGS", "layer_sorting", "LayerSorting",
           "layer_lens", "recipe_graph", "activation_graph", "comparison_table", "kmeans_groups"]

#: The cover of notebook 4.2's graphs (chosen on layer 6 so ~90% of the sentences are in a node).
GRAPH_SETTINGS = dict(n_cubes=10, overlap=0.5, scale=0.45)

#: Per profile: the cover settings the Mapper-vs-k-means table runs over.
COMPARISON_SETTINGS = {
    "quick": dict(n_cubes=(10, 15), overlaps=(0.3, 0.5), scales=(0.45,)),
    "standard": dict(n_cubes=(10, 15, 20), overlaps=(0.3, 0.4, 0.5), scales=(0.4, 0.45, 0.5)),
    "full": dict(n_cubes=(8, 10, 15, 20, 30), overlaps=(0.2, 0.3, 0.4, 0.5, 0.6),
                 scales=(0.4, 0.45, 0.5, 0.55)),
}


def kmeans_groups(points: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """k-means on ``points`` (3 restarts): the member indices of each cluster."""
    from sklearn.cluster import KMeans

    check_int(k, "k", min=1, max=len(points))
    labels = KMeans(n_clusters=int(k), n_init=3, random_state=seed).fit(points).labels_
    return [np.flatnonzero(labels == c) for c in range(int(k))]


@dataclass(frozen=True)
class LayerSorting:
    columns: tuple[str, ...]
    purity: dict[str, np.ndarray]      #: column → purity at each layer (0 … n_layers)
    shuffled: dict[str, float]         #: column → mean purity of the same clusters, labels shuffled
    k: int


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


def recipe_graph(points: np.ndarray, lens: Any, *, n_cubes: int = GRAPH_SETTINGS["n_cubes"],
                 overlap: float = GRAPH_SETTINGS["overlap"], scale: float = GRAPH_SETTINGS["scale"]):
    """The chapter's Mapper recipe on (unit-length) ``points``: ``lens`` covered by ``n_cubes``
    intervals with ``overlap``, DBSCAN at ``scale`` × :func:`~.graph.default_clusterer`'s eps."""
    return mapper_graph(points, lens, n_cubes=n_cubes, overlap=overlap,
                        clusterer=default_clusterer(points, scale))


def activation_graph(acts: SentenceActivations, layer: int, lens: str = "PCA 1", *,
                     n_cubes: int = GRAPH_SETTINGS["n_cubes"],
                     overlap: float = GRAPH_SETTINGS["overlap"],
                     scale: float = GRAPH_SETTINGS["scale"]):
    """The Mapper graph of layer ``layer`` (unit-length points) through ``lens``."""
    return recipe_graph(acts.layer(layer), layer_lens(acts, layer, lens), n_cubes=n_cubes,
                        overlap=overlap, scale=scale)


def comparison_table(acts: SentenceActivations, layer: int, lens: str | np.ndarray = "PCA 1",
                     profile: str | None = None, label: str = "emotion") -> list[dict[str, Any]]:
    """One row per cover setting (``lens``: a name from :data:`~.lenses.LENSES` or the lens values
    themselves, ``(n,)`` or ``(n, k)``): the graph's size and coverage, Mapper's node purity against
    k-means' purity (same covered points, as many clusters as nodes), entanglement, and
    :func:`~.measures.bridges_vs_boundaries` for the mixed sentences."""
    settings = runtime.by_profile(COMPARISON_SETTINGS, profile)
    points = acts.layer(layer)
    labels = acts.sentences.labels(label)
    secondary = acts.sentences.second_emotion if label == "emotion" else np.full(len(labels), "")
    lens_values = layer_lens(acts, layer, lens) if isinstance(lens, str) else np.asarray(lens)
    if lens_values.shape[0] != len(points):
        raise ValueError(f"lens must have one value per sentence ({len(points)}), "
                         f"got shape {lens_values.shape}")
    rows = []
    for n_cubes, overlap, scale in product(settings["n_cubes"], settings["overlaps"],
                                           settings["scales"]):
        graph = recipe_graph(points, lens_values, n_cubes=n_cubes, overlap=overlap, scale=scale)
        inv = graph_invariants(graph)
        if inv.nodes < 2:
            continue
        pure = graph_purity(graph, labels)
        covered = covered_points(graph)
        k = min(inv.nodes, len(covered))
        km = kmeans_groups(points[covered], k)
        bridge = bridges_vs_boundaries(points, graph, labels, secondary)
        rows.append(dict(n_cubes=n_cubes, overlap=overlap, scale=scale, nodes=inv.nodes,
                         edges=inv.edges, components=inv.components, cycles=inv.cycles,
                         coverage=pure.coverage, mapper_purity=pure.purity,
                         kmeans_purity=partition_purity([covered[g] for g in km], labels),
                         entanglement=entanglement(graph, labels), bridge=bridge))
    return rows
