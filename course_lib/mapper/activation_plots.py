"""Figures of notebook 4.2 (Mapper on a transformer's activations). Each returns a ``Figure``.

* :func:`plot_layer_sorting`     — what k-means groups by, layer by layer, against chance
* :func:`plot_activation_graph`  — one layer's Mapper graph, nodes coloured by their dominant label
* :func:`plot_entanglement`      — which labels share points on the graph's edges
* :func:`plot_comparison`        — Mapper against k-means over every cover setting of the table
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import marker, new_figure

from .graph import graph_invariants
from .graph_plots import draw_graph
from .lenses import pca_lens
from .measures import dominant_labels, entanglement_matrix, graph_purity, tied_nodes

__all__ = ["LABEL_COLORS", "LABEL_MARKERS", "plot_layer_sorting", "plot_activation_graph", "plot_entanglement",
           "plot_comparison", "plot_lens_null", "pca_plane"]

#: One fixed colour and marker per emotion, the same in every figure of the chapter (shape as well
#: as hue, so the figures read without colour vision).
LABEL_COLORS = {"joy": "#f2b701", "anger": "#d62728", "fear": "#7b3fa0", "sadness": "#1f77b4"}
LABEL_MARKERS = {"joy": "o", "anger": "s", "fear": "^", "sadness": "D"}


def pca_plane(points: np.ndarray) -> np.ndarray:
    """``(n, 2)``: the points' coordinates on their first two principal directions (the layout)."""
    return np.stack([pca_lens(points, 0), pca_lens(points, 1)], axis=1)


def plot_layer_sorting(sorting: Any) -> Figure:
    """Purity of k-means clusters for each label column at each layer; dotted: shuffled labels."""
    fig = new_figure((6.4, 3.4))
    ax = fig.subplots()
    layers = np.arange(len(next(iter(sorting.purity.values()))))
    for i, column in enumerate(sorting.columns):
        ax.plot(layers, sorting.purity[column], marker=marker(i), ls="-", color=f"C{i}", label=column)
        ax.axhline(sorting.shuffled[column], color=f"C{i}", ls=":", lw=1)
    ax.set_xticks(layers, ["embed"] + [str(l) for l in layers[1:]])
    ax.set_xlabel("layer of MiniLM")
    ax.set_ylabel(f"purity of {sorting.k} k-means clusters")
    ax.set_ylim(0, 1)
    ax.legend(title="label", fontsize=8, loc="upper center", ncol=3)
    ax.set_title("What does each layer group sentences by? (dotted: same clusters, labels shuffled)",
                 fontsize=9)
    return fig


def plot_activation_graph(graph: Any, plane: np.ndarray, labels: np.ndarray, *, title: str = "",
                          colors: dict[str, str] = LABEL_COLORS) -> Figure:
    """The graph laid out in the layer's PCA plane (each node at its members' mean), each node
    coloured by its dominant label; grey dots are the sentences."""
    dominant = dominant_labels(graph, labels)
    node_colors = [colors.get(str(dominant[n][0]), "0.5") for n in graph.nodes]
    node_markers = [LABEL_MARKERS.get(str(dominant[n][0]), "o") for n in graph.nodes]
    inv = graph_invariants(graph)
    pure = graph_purity(graph, labels)
    fig = new_figure((6.4, 4.6))
    ax = fig.subplots()
    ax.scatter(plane[:, 0], plane[:, 1], s=3, color="0.85", zorder=0)
    draw_graph(ax, graph, plane, node_colors=node_colors, node_markers=node_markers)
    for label, color in colors.items():
        ax.scatter([], [], color=color, marker=LABEL_MARKERS.get(label, "o"), edgecolors="k",
                   linewidths=0.5, label=label)
    ax.legend(fontsize=8, loc="best", title="dominant label", title_fontsize=8)
    ax.set_xticks([]); ax.set_yticks([])
    ax.set_xlabel("PCA 1"); ax.set_ylabel("PCA 2")
    ax.set_title(f"{title}{inv.nodes} nodes, {inv.edges} edges, {inv.components} components · "
                 f"purity {pure.purity:.2f}, coverage {pure.coverage:.0%}", fontsize=9)
    return fig


def plot_entanglement(graph: Any, labels: np.ndarray, classes: Sequence[str]) -> Figure:
    """The entanglement matrix as a heat map (shared points on edges between label pairs). Nodes
    whose top labels tie have no dominant label: their edges are left out, and the title counts them."""
    matrix = entanglement_matrix(graph, labels, classes, ties="skip")
    tied = len(tied_nodes(graph, labels))
    fig = new_figure((4.4, 3.6))
    ax = fig.subplots()
    im = ax.imshow(matrix, cmap="Greys")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{matrix[i, j]:.0f}", ha="center", va="center", fontsize=9,
                    color="w" if matrix[i, j] > matrix.max() / 2 else "k")
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    fig.colorbar(im, ax=ax, shrink=0.8, label="shared points on edges")
    ax.set_title("Which emotions' nodes share points?\n"
                 f"({tied} of {graph.number_of_nodes()} nodes tied, their edges left out)", fontsize=9)
    return fig


def plot_comparison(rows: Sequence[dict]) -> Figure:
    """Left: purity, Mapper nodes vs k-means clusters (same points, same count), one dot per cover
    setting. Right: share of mixed sentences among Mapper's bridges vs k-means' boundary points, both
    unranked (filled: all k-means candidates) and k-means' closest calls first (hollow)."""
    fig = new_figure((8.6, 3.6))
    ax_pure, ax_mix = fig.subplots(1, 2)
    mp = np.array([r["mapper_purity"] for r in rows])
    kp = np.array([r["kmeans_purity"] for r in rows])
    cov = np.array([r["coverage"] for r in rows])
    sc = ax_pure.scatter(mp, kp, c=cov, cmap="viridis", vmin=0.5, vmax=1, edgecolors="k", lw=0.4)
    fig.colorbar(sc, ax=ax_pure, label="coverage")
    bridge = [r["bridge"] for r in rows]
    m_mix = np.array([b.mapper_mixed / b.points for b in bridge])
    k_ranked = np.array([b.kmeans_mixed / max(b.kmeans_points, 1) for b in bridge])
    k_mix = np.array([b.candidates_mixed / max(b.candidates, 1) for b in bridge])
    base = np.array([b.base_mixed / b.covered for b in bridge])
    ax_mix.scatter(m_mix, k_mix, color="C1", edgecolors="k", lw=0.4, label="unranked")
    ax_mix.scatter(m_mix, k_ranked, facecolors="none", edgecolors="C1", lw=0.8, label="ranked (closest first)")
    ax_mix.legend(fontsize=7, loc="lower right")
    ax_mix.axvline(base.mean(), color="0.5", ls=":", lw=1)
    ax_mix.axhline(base.mean(), color="0.5", ls=":", lw=1)
    for ax, title in ((ax_pure, "node purity (emotion)"), (ax_mix, "share of mixed sentences")):
        ax.plot([0, 1], [0, 1], color="0.4", lw=1)
        ax.set_xlim(0, 1); ax.set_ylim(0, 1); ax.set_aspect("equal")
        ax.set_xlabel(f"Mapper: {title}")
        ax.set_ylabel(f"k-means: {title}")
    ax_pure.set_title("Above the diagonal: k-means purer", fontsize=9)
    ax_mix.set_title("Bridges vs boundary points (dotted: base rate)", fontsize=9)
    return fig


def plot_lens_null(null_rows: Sequence[dict], marks: dict[str, tuple[float, float]]) -> Figure:
    """Each null lens (:func:`~.output_lens.lens_null`) as a dot, purity (x) against cross-situation
    purity (y), one colour per family; ``marks`` (name → (purity, cross-situation purity)) draws the
    lenses under test as labelled stars."""
    fig = new_figure((5.6, 4.0))
    ax = fig.subplots()
    families = sorted({r["family"] for r in null_rows})
    for colour, shape, family in zip(("0.55", "C0"), ("o", "s"), families):
        rows = [r for r in null_rows if r["family"] == family]
        ax.scatter([r["purity"] for r in rows], [r["mapper_cross"] for r in rows], s=18, color=colour,
                   marker=shape,
                   alpha=0.8, edgecolors="none", label=f"{family} ({len(rows)} draws)")
    for i, (name, (pure, cross)) in enumerate(marks.items()):
        ax.scatter([pure], [cross], marker="*", s=160, color=f"C{i + 1}", edgecolors="k", lw=0.5,
                   label=name, zorder=3)
        ax.annotate(name, (pure, cross), xytext=(6, -10), textcoords="offset points", fontsize=7)
    ax.margins(x=0.12, y=0.08)
    ax.set_xlabel("node purity (emotion)")
    ax.set_ylabel("cross-situation purity")
    ax.set_title("Mapper at layer 6, 10 × 10 cover: lenses that know nothing vs the output lens",
                 fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    return fig
