"""Graph-free neighbour measures of a space: does a point's neighbourhood agree on a label *across
situations*, and how much does its own situation dominate it? (Notebooks 4.3–4.4.)

Mapper's cross-situation purity (:func:`~.measures.cross_situation_purity`) counts co-members of a
node that share no situation. When a space keeps each situation tight, its nodes are single
situations at most coverages and that purity rests on a few dozen dependent pairs. The neighbour
measures below ask the same question of every point, without a graph:

* :func:`cross_situation_agreement` — among a point's ``k`` nearest neighbours (cosine) that share
  **no** situation with it, the share with its label; averaged over the points (chance: the share of
  such pairs with the same label);
* :func:`own_situation_nearest` — the share of points whose nearest neighbour shares a situation with
  them (how much a space is organised by situation/topic rather than the label).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import runtime
from .measures import _incidence

__all__ = ["cross_situation_agreement", "own_situation_nearest", "neighbour_summary", "MIN_PAIRS"]

#: The fewest cross-situation pairs a Mapper cross-situation purity is reported on (below: NaN).
MIN_PAIRS = 200


def _similarity(points: Any) -> np.ndarray:
    x = np.asarray(points, dtype=float)
    if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError("points must be a finite (n ≥ 2, d) array")
    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return u @ u.T


def _shares(situations: Any, n: int) -> np.ndarray:
    inc = _incidence(situations, n).astype(np.int32)
    share = (inc @ inc.T) > 0
    np.fill_diagonal(share, True)
    return share


@runtime.one_thread_for_small_fits()
def cross_situation_agreement(points: Any, labels: Any, situations: Any, k: int = 1) -> float:
    """Mean over points of: among its ``k`` nearest neighbours (cosine similarity) that share no
    situation with it, the share with the same label. ``situations``: one label or one set of labels
    per point (as :func:`~.study.situation_sets`)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    sim = _similarity(points)
    labels = np.asarray(labels)
    if labels.shape != (len(sim),):
        raise ValueError(f"labels must have one entry per point ({len(sim)})")
    sim = np.where(_shares(situations, len(sim)), -np.inf, sim)
    if (np.isfinite(sim).sum(axis=1) < k).any():
        raise ValueError(f"every point needs ≥ {k} points of other situations")
    top = np.argsort(-sim, axis=1)[:, :k]
    return float((labels[top] == labels[:, None]).mean())


def own_situation_nearest(points: Any, situations: Any) -> float:
    """Share of points (among those with another point of a shared situation) whose nearest
    neighbour (cosine) shares a situation with them."""
    sim = _similarity(points)
    share = _shares(situations, len(sim))
    np.fill_diagonal(sim, -np.inf)
    np.fill_diagonal(share, False)
    has = share.any(axis=1)
    if not has.any():
        raise ValueError("no two points share a situation")
    nearest = np.argmax(sim, axis=1)
    return float(share[np.arange(len(sim)), nearest][has].mean())


def neighbour_summary(points: Any, labels: Any, situations: Any, ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """``{"same label, k-NN of other situations (k=…)": …, "nearest neighbour of its own situation": …}``."""
    out = {f"same emotion, {k}-NN of other situations": cross_situation_agreement(points, labels, situations, k)
           for k in ks}
    out["nearest neighbour of its own situation"] = own_situation_nearest(points, situations)
    return out
