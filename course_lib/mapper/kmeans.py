"""k-means for chapter 4, fitted exactly as scikit-learn's ``KMeans(n_init=3)`` fits it, faster.

Chapter 4 compares Mapper with k-means at many cluster sizes, seeds and covers (hundreds of fits a
notebook). Most of a fit's time is **k-means++ seeding** (Arthur & Vassilvitskii): for each of the
k centres it scores ``2 + ⌊ln k⌋`` candidate points by their squared distance to every point,

    ‖x_c − x_i‖² = ‖x_c‖² + ‖x_i‖² − 2 ⟨x_c, x_i⟩,

a small matrix product per centre. :func:`fit_kmeans` computes the inner products once (the Gram
matrix ``X Xᵀ`` of the centred points), so each candidate's distances are one row lookup, and then
runs scikit-learn's own Lloyd iterations from the chosen centres. It draws from the same random
stream in the same order and keeps the restart scikit-learn would keep, so the clusters are the
same (tested against ``KMeans`` itself); on 4.2's sentences it is about twice as fast.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .. import runtime
from ..cache import content_key
from ..validation import check_int

__all__ = ["fit_kmeans", "kmeans_plusplus_indices"]

#: Above this many points the Gram matrix (n² float64) is not worth its memory: plain ``KMeans``.
GRAM_MAX_POINTS = 5000


def kmeans_plusplus_indices(centred: np.ndarray, k: int, random_state: np.random.RandomState,
                            gram: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k-means++ seeds of ``centred`` (float64, rows = points, already centred on
    their mean), drawing from ``random_state`` as scikit-learn's ``_kmeans_plusplus`` does: the first
    seed uniformly, each next one the best of ``2 + ⌊ln k⌋`` candidates drawn with probability ∝ the
    squared distance to the nearest seed so far ("best": the smallest total squared distance)."""
    x = np.asarray(centred, dtype=np.float64)
    n = len(x)
    check_int(k, "k", min=1, max=n)
    squared = np.einsum("ij,ij->i", x, x)
    weight = np.ones(n)
    trials = 2 + int(np.log(k))

    def distances(ids: np.ndarray) -> np.ndarray:
        d = -2 * (gram[ids] if gram is not None else x[ids] @ x.T)
        d += squared[ids][:, None]
        d += squared[None, :]
        np.maximum(d, 0, out=d)
        return d

    ids = np.full(k, -1, dtype=int)
    ids[0] = random_state.choice(n, p=weight / weight.sum())
    closest = distances(ids[:1])
    potential = closest @ weight
    for c in range(1, k):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weight * closest), draws)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        d = distances(candidates)
        np.minimum(closest, d, out=d)
        totals = d @ weight.reshape(-1, 1)
        best = int(np.argmin(totals))
        potential, closest = totals[best], d[best]
        ids[c] = candidates[best]
    return ids


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when labelling ``a`` maps onto ``b`` (scikit-learn's test for "the same clustering")."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1]


_GRAMS: "OrderedDict[str, tuple[np.ndarray, np.ndarray]]" = OrderedDict()


def _centred_gram(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` centred on its mean, and its Gram matrix (both read-only): the same for every seed of
    a set of points, so the last four are remembered by content (chapter 4 fits the same points
    with ten or twenty seeds)."""
    key = content_key(x)
    if key not in _GRAMS:
        centred = x - x.mean(axis=0)
        gram = centred @ centred.T
        centred.flags.writeable = gram.flags.writeable = False
        _GRAMS[key] = (centred, gram)
        if len(_GRAMS) > 4:
            _GRAMS.popitem(last=False)
    _GRAMS.move_to_end(key)
    return _GRAMS[key]


@runtime.one_thread_for_small_fits()
def fit_kmeans(points: Any, k: int, seed: int = 0, n_init: int = 3) -> Any:
    """A fitted ``sklearn.cluster.KMeans`` equal to ``KMeans(k, n_init=n_init,
    random_state=seed).fit(points)``: the same labels and centres (``labels_``,
    ``cluster_centers_``, ``inertia_``, ``transform``). Dense float64 points up to
    :data:`GRAM_MAX_POINTS` take the Gram-matrix seeding above; anything else (float32, sparse,
    larger) is handed to ``KMeans`` unchanged."""
    from sklearn.cluster import KMeans

    check_int(k, "k", min=1)
    check_int(seed, "seed", min=0)
    check_int(n_init, "n_init", min=1)
    is_sparse = hasattr(points, "tocsr")   # a scipy.sparse matrix (TF-IDF rows)
    if is_sparse or np.asarray(points).dtype != np.float64 or len(points) > GRAM_MAX_POINTS:
        return KMeans(n_clusters=int(k), n_init=n_init, random_state=seed).fit(points)
    x = np.asarray(points)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"points must be a non-empty 2-D array (n_points, n_features), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("points contain NaN or inf")
    check_int(k, "k", min=1, max=len(x))
    centred, gram = _centred_gram(x)
    random_state = np.random.RandomState(seed)
    best = None
    for _ in range(n_init):
        seeds = kmeans_plusplus_indices(centred, int(k), random_state, gram)
        run = KMeans(n_clusters=int(k), init=x[seeds], n_init=1).fit(x)
        if best is None or (run.inertia_ < best.inertia_
                            and not _same_partition(run.labels_, best.labels_)):
            best = run
    return best
