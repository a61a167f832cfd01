"""NameBasis: paint an identity with ordinary first names (notebook 3.2).

Celeb Basis (Yuan et al. 2023) writes a new identity as the mean of ~700 celebrity-name embeddings
plus a combination of their top principal directions. NameBasis does the same with the thousands of
ordinary first names of the SSA records, so its axes come from how names are spread, not from
celebrities:

* fit: per token position ``p``, the mean ``μ_p`` and the top-``k`` right singular vectors ``B_p``
  (``k × d``) of the centred embeddings ``X_p − μ_p``;
* encode: coefficients ``c_p = (x_p − μ_p) B_pᵀ``; decode: ``x̂_p = μ_p + c_p B_p`` (exact for any
  point in the span, a projection otherwise);
* steer: a direction for "younger" (mean embedding of names born ≥ 1990 minus that of names born
  < 1950) or "more female" (names ≥ 90 % female minus names < 10 % female); ``x + t · direction``
  moves a name by ``t`` times that gap (the seed's "move along age and sex"). The ridge probe's own
  weight vector is no use here: it is so steep that shifting a prediction by 40 years moves the
  embedding less than the distance between neighbouring names, and the nearest names do not change;
* name it: the nearest real names (cosine similarity) to any point — the seed's "generate names for
  embeddings", so a direction can be read in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..validation import check_float, check_int

__all__ = ["NameBasis", "nearest_with_stats", "steering_frames", "steering_effect"]


def _as_positions(x: object, argument: str) -> np.ndarray:
    """``(n, d)`` or ``(n, P, d)`` → float64 ``(n, P, d)``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[2] < 1:
        raise ValueError(f"{argument} must have shape (n, d) or (n, positions, d), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{argument} contains NaN or infinite values")
    return x


@dataclass
class NameBasis:
    """Mean + top principal directions of name embeddings, per token position."""

    names: np.ndarray         #: (n,) the names the basis was fitted on
    embeddings: np.ndarray    #: (n, P, d) their embeddings (kept for nearest-name decoding)
    mean: np.ndarray          #: (P, d)
    components: np.ndarray    #: (P, k, d) orthonormal rows
    explained: np.ndarray     #: (P, k) fraction of each position's variance per component

    @classmethod
    def fit(cls, embeddings: object, names: Sequence[str], k: int = 64) -> "NameBasis":
        X = _as_positions(embeddings, "embeddings")
        names = np.asarray([str(n) for n in names])
        if names.shape != (X.shape[0],):
            raise ValueError(f"names must have one entry per embedding ({X.shape[0]}), got {names.shape}")
        check_int(k, "k", min=1, max=min(X.shape[0] - 1, X.shape[2]))
        mean = X.mean(axis=0)
        comps, explained = [], []
        for p in range(X.shape[1]):
            centred = torch.from_numpy(X[:, p] - mean[p])
            # eigenvectors of the covariance = right singular vectors of the centred data
            lam, V = torch.linalg.eigh(centred.T @ centred)
            lam, V = lam.flip(0).clamp_min(0), V.flip(1)
            comps.append(V[:, :k].T.numpy())
            explained.append((lam[:k] / lam.sum()).numpy())
        return cls(names=names, embeddings=X, mean=mean, components=np.stack(comps),
                   explained=np.stack(explained))

    def __repr__(self) -> str:
        share = self.explained.sum(axis=1)
        return (f"NameBasis({len(self.names):,} names, {self.mean.shape[0]} position(s) × {self.mean.shape[1]}-d, "
                f"k={self.k}, variance kept per position: {', '.join(f'{v:.0%}' for v in share)})")

    @property
    def k(self) -> int:
        return self.components.shape[1]

    def _check(self, x: object, argument: str) -> np.ndarray:
        x = _as_positions(x, argument)
        if x.shape[1:] != self.mean.shape:
            raise ValueError(f"{argument} must have positions × dim {self.mean.shape}, got {x.shape[1:]}")
        return x

    def encode(self, x: object) -> np.ndarray:
        """Coefficients ``(n, P, k)`` of embeddings ``x`` (``(n, d)`` or ``(n, P, d)``)."""
        x = self._check(x, "x")
        return np.einsum("npd,pkd->npk", x - self.mean, self.components)

    def decode(self, coefficients: object) -> np.ndarray:
        """Embeddings ``(n, P, d)`` from coefficients ``(n, P, k)`` (or ``(n, k)`` for one position)."""
        c = np.asarray(coefficients, dtype=np.float64)
        if c.ndim == 2:
            c = c[:, None, :]
        if c.ndim != 3 or c.shape[1:] != (self.mean.shape[0], self.k):
            raise ValueError(f"coefficients must have shape (n, {self.mean.shape[0]}, {self.k}), got {c.shape}")
        return self.mean + np.einsum("npk,pkd->npd", c, self.components)

    def project(self, x: object) -> np.ndarray:
        """``x`` replaced by its reconstruction from the basis (decode ∘ encode)."""
        return self.decode(self.encode(x))

    def row(self, name: str) -> int:
        """Index of one of the fitted names (case-insensitive), or ``KeyError``."""
        if getattr(self, "_rows", None) is None:       # built once: the sliders look names up often
            self._rows = {}
            for i, fitted in enumerate(self.names):
                self._rows.setdefault(str(fitted).lower(), i)
        key = str(name).strip().lower()
        if key not in self._rows:
            raise KeyError(f"{name!r} is not one of the basis's {len(self.names)} names")
        return self._rows[key]

    def embedding_of(self, name: str) -> np.ndarray:
        """``(1, P, d)``: the stored embedding of one of the fitted names (case-insensitive)."""
        i = self.row(name)
        return self.embeddings[i:i + 1]

    def direction(self, values: object, low: float, high: float, position: int | None = None) -> np.ndarray:
        """A difference of means, ``mean(x | value ≥ high) − mean(x | value < low)``, over the fitted
        names, shape ``(P, d)``: e.g. birth year ≥ 1990 minus < 1950 ("younger"), or female fraction
        ≥ 0.9 minus < 0.1 ("more female"). ``shift(x, d, 1)`` moves a name by that whole gap."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != self.names.shape or not np.isfinite(v).all():
            raise ValueError(f"values must be finite with one entry per fitted name ({len(self.names)}), got {v.shape}")
        hi, lo = v >= high, v < low
        if not hi.any() or not lo.any():
            raise ValueError(f"no fitted name has value ≥ high={high} or < low={low}")
        return self.embeddings[hi].mean(axis=0) - self.embeddings[lo].mean(axis=0)

    @staticmethod
    def shift(x: object, direction: object, t: float) -> np.ndarray:
        """``x + t · direction`` for embeddings ``x`` ``(n, P, d)`` and a direction ``(P, d)``."""
        x = _as_positions(x, "x")
        d = np.asarray(direction, dtype=np.float64)
        if d.shape != x.shape[1:]:
            raise ValueError(f"direction must have shape {x.shape[1:]}, got {d.shape}")
        return x + check_float(t, "t") * d

    def nearest(self, x: object, n: int = 5, exclude: Sequence[str] = (),
                within_basis: bool = True) -> list[list[tuple[str, float]]]:
        """For each row of ``x``, the ``n`` fitted names with the highest cosine similarity (all
        positions concatenated), as ``(name, similarity)``. ``within_basis`` compares the points
        projected onto the basis (the space the coefficients live in)."""
        x = self._check(x, "x")
        check_int(n, "n", min=1, max=len(self.names))
        ref = self._reference(within_basis)
        q = (self.project(x) if within_basis else x) - self.mean
        q = q.reshape(len(q), -1)
        q = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
        sims = q @ ref.T
        banned = np.isin(np.char.lower(self.names), [str(e).strip().lower() for e in exclude])
        sims[:, banned] = -np.inf
        top = np.argsort(-sims, axis=1)[:, :n]
        return [[(str(self.names[j]), float(sims[i, j])) for j in row] for i, row in enumerate(top)]

    def _reference(self, within_basis: bool) -> np.ndarray:
        key = "_ref_basis" if within_basis else "_ref_raw"
        if getattr(self, key, None) is None:
            ref = (self.project(self.embeddings) if within_basis else self.embeddings) - self.mean
            ref = ref.reshape(len(ref), -1)
            setattr(self, key, ref / np.linalg.norm(ref, axis=1, keepdims=True).clip(1e-12))
        return getattr(self, key)


def nearest_with_stats(basis: NameBasis, x: object, stats: dict[str, np.ndarray], n: int = 4,
                       exclude: Sequence[str] = ()) -> list[tuple[str, float, float]]:
    """The ``n`` nearest fitted names to one point ``x`` with their SSA mean birth year and female
    share (``stats`` maps ``"mean_birth_year"`` / ``"female_fraction"`` to arrays aligned with
    ``basis.names``)."""
    out = []
    for name, _ in basis.nearest(x, n, exclude=exclude)[0]:
        i = basis.row(name)
        out.append((name, float(stats["mean_birth_year"][i]), float(stats["female_fraction"][i])))
    return out


def steering_frames(basis: NameBasis, starts: Sequence[str], stats: dict[str, np.ndarray],
                    young: np.ndarray, female: np.ndarray, t_ages: Sequence[float],
                    t_sexes: Sequence[float], n: int = 4) -> dict[float, dict]:
    """For every "younger" step: ``{(start, t_sex): nearest names with stats}`` — the frames of
    notebook 3.2's slider (precomputed, so moving the slider costs nothing)."""
    frames = {}
    for t_age in t_ages:
        grid = {}
        for start in starts:
            x = basis.embedding_of(start)
            for t_sex in t_sexes:
                moved = basis.shift(basis.shift(x, young, t_age), female, t_sex)
                grid[(start, float(t_sex))] = nearest_with_stats(basis, moved, stats, n, exclude=[start])
        frames[float(t_age)] = grid
    return frames


def steering_effect(basis: NameBasis, starts: Sequence[str], direction: np.ndarray, values: np.ndarray,
                    t: float, n: int = 5) -> np.ndarray:
    """Per start name: mean ``values`` of the ``n`` nearest names at ``+t`` minus at ``−t`` along
    ``direction`` (the start name itself excluded). Positive = the step moved the decoded names the
    way the direction says."""
    out = []
    for start in starts:
        x = basis.embedding_of(start)
        means = []
        for sign in (1.0, -1.0):
            near = basis.nearest(basis.shift(x, direction, sign * t), n, exclude=[start])[0]
            means.append(np.mean([values[basis.row(name)] for name, _ in near]))
        out.append(means[0] - means[1])
    return np.asarray(out)
