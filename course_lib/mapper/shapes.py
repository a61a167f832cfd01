"""Point clouds whose topology is known, for checking Mapper before trusting it on activations."""

from __future__ import annotations

import numpy as np

from ..validation import check_fraction, check_int

__all__ = ["SHAPES", "shape_points", "PLANTED_LABELS", "labelled_ring", "planted_mixing"]

#: name → (components, independent cycles) of the shape itself.
SHAPES = {"circle": (1, 1), "two circles": (2, 2), "figure eight": (1, 2), "line": (1, 0)}


def shape_points(name: str, n: int = 400, *, noise: float = 0.03, seed: int = 0) -> np.ndarray:
    """``n`` points (n, 2) sampled from a shape of :data:`SHAPES`, with Gaussian ``noise``."""
    if name not in SHAPES:
        raise ValueError(f"name must be one of {sorted(SHAPES)}, got {name!r}")
    check_int(n, "n", min=2)
    check_fraction(noise, "noise", inclusive="left")
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    if name == "circle":
        pts = np.c_[np.cos(t), np.sin(t)]
    elif name == "two circles":
        side = rng.integers(0, 2, n)
        pts = np.c_[np.cos(t) + 3 * side, np.sin(t)]
    elif name == "figure eight":                         # two unit circles touching at the origin
        side = np.where(rng.integers(0, 2, n) == 0, -1.0, 1.0)
        pts = np.c_[side * (1 + np.cos(t)), np.sin(t)]
    else:
        pts = np.c_[np.linspace(-1, 1, n), np.zeros(n)]
    return pts + noise * rng.normal(size=pts.shape)


#: The four labels of the planted data sets (arcs of a ring, or blobs).
PLANTED_LABELS = ("a", "b", "c", "d")


def _embed(rng: np.random.Generator, low: np.ndarray, dim: int, noise: float) -> np.ndarray:
    """Low-dimensional points placed in ``dim`` dimensions by a random rotation, plus isotropic
    Gaussian noise of total length about ``noise`` per point."""
    q, _ = np.linalg.qr(rng.normal(size=(dim, low.shape[1])))
    return low @ q.T + noise * rng.normal(size=(len(low), dim)) / np.sqrt(dim)


def labelled_ring(n: int = 800, *, gap: bool = False, dim: int = 64, noise: float = 0.15,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle in ``dim`` dimensions cut into four labelled quarter arcs a, b, c, d (in that
    order round the circle), each label touching the next: a ring of labels. With ``gap=True`` the
    quarter d is left out, so a touches b, b touches c and nothing closes the loop: a chain. The two
    data sets differ in that one factor, the loop. Returns ``(points (n, dim), labels (n,))``."""
    check_int(n, "n", min=8)
    check_int(dim, "dim", min=2)
    check_fraction(noise, "noise", inclusive="left")
    rng = np.random.default_rng(seed)
    span = 1.5 * np.pi if gap else 2 * np.pi
    t = rng.uniform(0, span, n)
    points = _embed(rng, np.c_[np.cos(t), np.sin(t)], dim, noise)
    return points, np.array(PLANTED_LABELS)[np.minimum((t // (np.pi / 2)).astype(int), 3)]


def planted_mixing(pair: tuple[int, int] = (0, 1), *, n_blob: int = 150, n_bridge: int = 120,
                   dim: int = 64, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four labelled blobs (a, b, c, d at the corners of a regular simplex, 1 apart … √2 apart) and
    one bridge of ``n_bridge`` points along the segment between the blobs of ``pair``, each bridge
    point labelled by the nearer end: a data set in which exactly one pair of labels mixes."""
    check_int(n_blob, "n_blob", min=3)
    check_int(n_bridge, "n_bridge", min=0)
    check_int(dim, "dim", min=4)
    check_fraction(noise, "noise", inclusive="left")
    a, b = (check_int(v, "pair", min=0, max=3) for v in pair)
    if a == b:
        raise ValueError(f"pair must name two different blobs, got {pair}")
    rng = np.random.default_rng(seed)
    corners = np.eye(4)
    t = rng.uniform(0, 1, n_bridge)
    low = np.concatenate([np.repeat(corners, n_blob, axis=0),
                          corners[a] + t[:, None] * (corners[b] - corners[a])])
    labels = np.concatenate([np.repeat(np.arange(4), n_blob), np.where(t < 0.5, a, b)])
    return _embed(rng, low, dim, noise), np.array(PLANTED_LABELS)[labels]
