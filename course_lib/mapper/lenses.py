"""Lenses: the function Mapper covers (notebook 4.2). Each maps points ``(n, d)`` to values ``(n,)``.

* :func:`l2_norm_lens`   ‖x‖ — TopoBERT's lens (Rathore et al. 2023); needs the raw, un-normalised
  activations (on unit vectors it is constant).
* :func:`pca_lens`       the coordinate on the first principal direction (largest variance).
* :func:`concept_lens`   ⟨x, u⟩ with u = the unit difference of two labels' means (a *concept
  direction*); fit u on one part of the data with :func:`concept_direction`, apply it to another.
* :func:`knn_distance_lens` distance to the k-th nearest neighbour: small in dense regions, large
  for outliers (a density lens).
* :func:`stack_lenses`   several lenses at once (a 2-D cover: n_cubes² hypercubes).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import runtime

__all__ = ["unit_rows", "l2_norm_lens", "pca_lens", "concept_direction", "concept_lens", "knn_distance_lens",
           "stack_lenses", "LENSES"]


from .graph import _as_points as _points
from ..validation import check_int


def unit_rows(points: Any) -> np.ndarray:
    """Rows scaled to length 1: the cosine geometry every chapter-4 graph of activations is built in."""
    x = np.asarray(points, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"points must be 2-D (n_points, dim), got shape {x.shape}")
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def l2_norm_lens(points: Any) -> np.ndarray:
    """‖xᵢ‖₂ for each row."""
    return np.linalg.norm(_points(points), axis=1)


@runtime.one_thread_for_small_fits()
def pca_lens(points: Any, component: int = 0) -> np.ndarray:
    """The centred points' coordinate on principal direction ``component`` (0 = largest variance).
    The sign is fixed so the coordinate's largest absolute value is positive (SVD's sign is arbitrary)."""
    x = _points(points)
    check_int(component, "component", min=0, max=min(x.shape) - 1)
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coord = centred @ vt[int(component)]
    return coord if coord[np.argmax(np.abs(coord))] >= 0 else -coord


def concept_direction(points: Any, labels: Sequence, positive: str, negative: str) -> np.ndarray:
    """Unit vector from the mean of ``negative``-labelled points to the mean of ``positive`` ones."""
    x = _points(points)
    labels = np.asarray(labels)
    if labels.shape != (len(x),):
        raise ValueError(f"labels must have shape ({len(x)},), got {labels.shape}")
    for name, value in (("positive", positive), ("negative", negative)):
        if not np.any(labels == value):
            raise ValueError(f"{name} label {value!r} does not occur in labels")
    if positive == negative:
        raise ValueError("positive and negative must be different labels")
    direction = x[labels == positive].mean(axis=0) - x[labels == negative].mean(axis=0)
    norm = np.linalg.norm(direction)
    if norm == 0:
        raise ValueError(f"the means of {positive!r} and {negative!r} coincide: no direction")
    return direction / norm


def concept_lens(points: Any, direction: Any) -> np.ndarray:
    """⟨xᵢ, u⟩: each point's coordinate along ``direction`` (normalised to unit length here)."""
    x = _points(points)
    u = np.asarray(direction, dtype=float)
    if u.shape != (x.shape[1],) or not np.all(np.isfinite(u)) or not np.linalg.norm(u) > 0:
        raise ValueError(f"direction must be a finite non-zero vector of shape ({x.shape[1]},), "
                         f"got shape {u.shape}")
    return x @ (u / np.linalg.norm(u))


def knn_distance_lens(points: Any, k: int = 5) -> np.ndarray:
    """Distance from each point to its ``k``-th nearest other point."""
    from sklearn.neighbors import NearestNeighbors

    x = _points(points)
    check_int(k, "k (fewer than the points)", min=1, max=len(x) - 1)
    dist, _ = NearestNeighbors(n_neighbors=int(k) + 1).fit(x).kneighbors(x)
    return dist[:, int(k)]


def stack_lenses(*lenses: Any) -> np.ndarray:
    """``(n, k)``: k one-dimensional lenses side by side, for a k-dimensional cover (k ≤ 3)."""
    if not 2 <= len(lenses) <= 3:
        raise ValueError(f"stack_lenses takes 2 or 3 lenses, got {len(lenses)}")
    columns = [np.asarray(f, dtype=float) for f in lenses]
    if any(c.ndim != 1 for c in columns) or len({len(c) for c in columns}) != 1:
        raise ValueError("every lens must be 1-D and all must have the same length, got shapes "
                         f"{[c.shape for c in columns]}")
    return np.stack(columns, axis=1)


#: The unsupervised lenses by name (what the notebook's lens menu offers).
LENSES = {"L2 norm": l2_norm_lens, "PCA 1": pca_lens, "5-NN distance": knn_distance_lens}
