"""Point clouds whose topology is known, for checking Mapper before trusting it on activations."""

from __future__ import annotations

import numpy as np

from ..validation import check_fraction, check_int

__all__ = ["SHAPES", "shape_points"]

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
