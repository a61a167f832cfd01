"""Figures of Mapper graphs (notebook 4.1, and the graph drawing every chapter-4 figure uses).
Each function returns a matplotlib ``Figure``.

* :func:`plot_mapper_steps` — Mapper in three panels: the lens and its cover, the clusters of each
  interval, the nerve drawn where its clusters are
* :func:`plot_kmeans_vs_mapper` — the same points partitioned by k-means and summarised by Mapper
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from matplotlib.figure import Figure

from .. import runtime
from ..figures import new_figure

from .graph import graph_invariants, mapper_graph

__all__ = ["cover_intervals", "plot_mapper_steps", "plot_kmeans_vs_mapper", "draw_graph"]


def cover_intervals(lens: np.ndarray, n_cubes: int, overlap: float) -> np.ndarray:
    """(n_cubes, 2): the lens intervals of kmapper's cover for a 1-D lens, read off kmapper's own
    ``Cover`` (centres ± radius): equal width, each sharing ``overlap`` of its width with its
    neighbour, the end ones reaching past the data range by half a step."""
    import kmapper

    f = np.asarray(lens, dtype=float).reshape(-1)
    cover = kmapper.Cover(n_cubes=int(n_cubes), perc_overlap=float(overlap))
    cover.fit(np.c_[np.arange(len(f)), f])          # kmapper's first column is the point's index
    centres = np.asarray(cover.centers_, dtype=float).reshape(-1)
    radius = float(np.asarray(cover.radius_).reshape(-1)[0])
    return np.stack([centres - radius, centres + radius], axis=1)


def draw_graph(ax: Any, graph: Any, points: np.ndarray, *, color: Optional[np.ndarray] = None,
               cmap: str = "viridis", node_colors: Optional[list] = None,
               node_markers: Optional[list] = None) -> None:
    """Draw ``graph`` on ``ax`` with each node at the mean of its members (first two coordinates),
    sized by its number of members, coloured by the mean of ``color`` over its members — or by
    ``node_colors`` (one matplotlib colour per node, in the graph's node order); ``node_markers``
    (one marker per node) gives each category a shape too, so colour is never the only cue."""
    pos = {n: points[d["members"]][:, :2].mean(axis=0) for n, d in graph.nodes(data=True)}
    for a, b in graph.edges:
        ax.plot(*zip(pos[a], pos[b]), color="0.4", lw=1.2, zorder=1)
    if not len(pos):
        return
    xy = np.array(list(pos.values()))
    sizes = np.array([len(d["members"]) for _, d in graph.nodes(data=True)])
    c = None if color is None else [np.mean(color[d["members"]]) for _, d in graph.nodes(data=True)]
    area = 12 + 120 * sizes / sizes.max()
    if node_markers is not None and node_colors is not None:
        markers = np.asarray(node_markers)
        for marker in dict.fromkeys(node_markers):
            rows = np.flatnonzero(markers == marker)
            ax.scatter(xy[rows, 0], xy[rows, 1], s=area[rows], marker=marker, zorder=2,
                       edgecolors="k", linewidths=0.5, color=[node_colors[i] for i in rows])
        return
    style = dict(color=node_colors) if node_colors is not None else dict(c=c, cmap=cmap)
    ax.scatter(xy[:, 0], xy[:, 1], s=area, zorder=2, edgecolors="k", linewidths=0.5, **style)


def plot_mapper_steps(points: np.ndarray, lens: np.ndarray, *, n_cubes: int = 10, overlap: float = 0.3,
                      clusterer: Any = None, title: str = "") -> Figure:
    """Lens and cover · clusters per interval · the nerve, for 2-D ``points`` and a 1-D ``lens``."""
    graph = mapper_graph(points, lens, n_cubes=n_cubes, overlap=overlap, clusterer=clusterer)
    inv = graph_invariants(graph)
    fig = new_figure((11, 3.2))
    ax_cover, ax_clusters, ax_nerve = fig.subplots(1, 3, sharex=True, sharey=True)
    ax_cover.scatter(points[:, 0], points[:, 1], c=lens, cmap="viridis", s=5)
    for k, (a, b) in enumerate(cover_intervals(lens, n_cubes, overlap)):
        ax_cover.axvspan(a, b, color="tab:orange" if k % 2 else "tab:blue", alpha=0.08, lw=0)
    ax_cover.set_title(f"1. lens (colour) and its cover:\n{n_cubes} intervals, {overlap:.0%} overlap",
                       fontsize=9)
    rng = np.random.default_rng(0)
    palette = rng.permutation(max(graph.number_of_nodes(), 1))
    for k, (_, d) in enumerate(graph.nodes(data=True)):
        m = d["members"]
        ax_clusters.scatter(points[m, 0], points[m, 1], s=5, color=f"C{palette[k] % 10}")
    ax_clusters.set_title(f"2. clusters in each interval:\n{inv.nodes} clusters", fontsize=9)
    draw_graph(ax_nerve, graph, points, color=lens)
    ax_nerve.set_title(f"3. nerve:\n{inv.components} component(s), {inv.cycles} cycle(s)", fontsize=9)
    for ax in (ax_cover, ax_clusters, ax_nerve):
        ax.set_aspect("equal")
        ax.set_xticks([]); ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


@runtime.one_thread_for_small_fits()
def plot_kmeans_vs_mapper(points: np.ndarray, lens: np.ndarray, k: int = 8, **mapper_kwargs: Any) -> Figure:
    """k-means's partition (no edges: nothing says which clusters touch) beside Mapper's graph."""
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(points)
    graph = mapper_graph(points, lens, **mapper_kwargs)
    inv = graph_invariants(graph)
    fig = new_figure((8, 3.2))
    ax_km, ax_mapper = fig.subplots(1, 2, sharex=True, sharey=True)
    ax_km.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=5)
    centres = np.array([points[labels == j].mean(axis=0) for j in range(k)])
    ax_km.scatter(centres[:, 0], centres[:, 1], marker="x", color="k", s=40)
    ax_km.set_title(f"k-means, k = {k}: {k} clusters, no connections", fontsize=9)
    ax_mapper.scatter(points[:, 0], points[:, 1], color="0.85", s=4)
    draw_graph(ax_mapper, graph, points, color=lens)
    ax_mapper.set_title(f"Mapper: {inv.components} component(s), {inv.cycles} cycle(s)", fontsize=9)
    for ax in (ax_km, ax_mapper):
        ax.set_aspect("equal")
        ax.set_xticks([]); ax.set_yticks([])
    return fig
