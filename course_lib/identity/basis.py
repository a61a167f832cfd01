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
  moves a name by ``t`` times that gap (the seed's "move along age and sex"). The ridge probe's
  weight vector, rescaled to the same length, is a second choice (:func:`probe_direction`);
* test it (:func:`steering_study`): directions fitted on one half of the names, decoded among the
  other half, against two baselines — the same study in a spelling space (letter 1–3-gram counts)
  and random directions of the same length inside the decoding basis's span;
* at matched damage (:func:`steering_tradeoff`): a longer step moves the target further but also
  changes the name in other ways, and the two spaces pay differently per unit of ``t``; the fair
  comparison reads each space's effect on the target at the same **damage** — the change of the
  other statistic (off-target) or the share of the start name's neighbours lost (turnover);
* name it: the nearest real names (cosine similarity) to any point — the seed's "generate names for
  embeddings", so a direction can be read in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..validation import check_float, check_int

__all__ = ["NameBasis", "mean_difference", "nearest_with_stats", "steering_frames", "steering_effect",
           "probe_direction", "random_directions", "SteeringStudy", "steering_study", "steering_sweep",
           "STEERING_TARGETS", "DAMAGES", "SteeringTradeoff", "steering_tradeoff", "SteeringSplits",
           "steering_splits"]


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


#: The last few full decompositions (:func:`_principal`), keyed by a hash of the data: a notebook
#: fits the same names several times (k = 64 and all k; the study, the sweep and the trade-off).
_DECOMPOSITIONS: dict[str, tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]] = {}
_KEEP_DECOMPOSITIONS = 4


def _principal(X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Per position ``p`` of ``X`` ``(n, P, d)``: the mean, the eigenvalues ``λ`` (descending,
    clipped at 0) and eigenvectors ``V`` (columns) of ``CᵀC`` for the centred ``C = X_p − μ_p`` —
    the squared singular values and right singular vectors of ``C`` — computed once per data.

    ``eigh`` of the d × d Gram matrix on one CPU thread: at d = 862 (the spelling space) it takes
    0.5 s, while on two threads of a busy 2-core machine it took 13–28 s (the threads wait on each
    other), and an SVD of the n × d data is 3–10× slower still."""
    import hashlib

    key = hashlib.sha1(np.ascontiguousarray(X).view(np.uint8)).hexdigest() + str(X.shape)
    if key not in _DECOMPOSITIONS:
        from .. import runtime

        mean = X.mean(axis=0)
        lams, vecs = [], []
        with runtime.cpu_threads():
            for p in range(X.shape[1]):
                centred = torch.from_numpy(X[:, p] - mean[p])
                lam, V = torch.linalg.eigh(centred.T @ centred)
                lams.append(lam.flip(0).clamp_min(0).numpy())
                vecs.append(V.flip(1).numpy())
        while len(_DECOMPOSITIONS) >= _KEEP_DECOMPOSITIONS:
            _DECOMPOSITIONS.pop(next(iter(_DECOMPOSITIONS)))
        _DECOMPOSITIONS[key] = (mean, lams, vecs)
    mean, lams, vecs = _DECOMPOSITIONS[key]
    return mean.copy(), lams, vecs


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
        mean, lam, V = _principal(X)
        comps = [V[p][:, :k].T.copy() for p in range(X.shape[1])]
        explained = [lam[p][:k] / lam[p].sum() for p in range(X.shape[1])]
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
        return mean_difference(self.embeddings, v, low, high)

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
        banned = np.isin(self._lower(), [str(e).strip().lower() for e in exclude])
        sims[:, banned] = -np.inf
        top = np.argsort(-sims, axis=1)[:, :n]
        return [[(str(self.names[j]), float(sims[i, j])) for j in row] for i, row in enumerate(top)]

    def _lower(self) -> np.ndarray:
        """The fitted names, lower-cased (built once)."""
        if getattr(self, "_lowered", None) is None:
            self._lowered = np.char.lower(self.names)
        return self._lowered

    def _reference(self, within_basis: bool) -> np.ndarray:
        key = "_ref_basis" if within_basis else "_ref_raw"
        if getattr(self, key, None) is None:
            ref = (self.project(self.embeddings) if within_basis else self.embeddings) - self.mean
            ref = ref.reshape(len(ref), -1)
            setattr(self, key, ref / np.linalg.norm(ref, axis=1, keepdims=True).clip(1e-12))
        return getattr(self, key)


def mean_difference(embeddings: object, values: object, low: float, high: float) -> np.ndarray:
    """``mean(x | value ≥ high) − mean(x | value < low)`` over any embeddings ``(n, d)`` or
    ``(n, P, d)`` (not only a basis's own names: a direction can be fitted on one half of the names
    and used to steer among the other). Shape ``(P, d)``."""
    X = _as_positions(embeddings, "embeddings")
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (X.shape[0],) or not np.isfinite(v).all():
        raise ValueError(f"values must be finite with one entry per embedding ({X.shape[0]}), got {v.shape}")
    low, high = check_float(low, "low"), check_float(high, "high")
    hi, lo = v >= high, v < low
    if not hi.any() or not lo.any():
        raise ValueError(f"no fitted name has value ≥ high={high} or < low={low}")
    return X[hi].mean(axis=0) - X[lo].mean(axis=0)


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
    way the direction says. ``direction``: one ``(P, d)`` for every start, or ``(starts, P, d)``,
    one each. All start names at once: the same neighbours as :meth:`NameBasis.nearest` per name."""
    starts = [str(s) for s in starts]
    rows = np.array([basis.row(s) for s in starts], dtype=int)
    d = np.asarray(direction, dtype=np.float64)
    if d.shape != basis.mean.shape and d.shape != (len(starts),) + basis.mean.shape:
        raise ValueError(f"direction must have shape {basis.mean.shape} or "
                         f"{(len(starts),) + basis.mean.shape}, got {d.shape}")
    n = check_int(n, "n", min=1, max=len(basis.names))
    t = check_float(t, "t")
    values = np.asarray(values, dtype=np.float64)
    # a name's value is read at its first row (basis.row), as for a name looked up by its text
    first = np.array([basis.row(name) for name in basis.names])
    ref = basis._reference(True)
    banned = basis._lower()[None, :] == np.array([s.strip().lower() for s in starts])[:, None]
    means = []
    for sign in (1.0, -1.0):
        q = basis.project(basis.embeddings[rows] + sign * t * d) - basis.mean
        q = q.reshape(len(q), -1)
        q = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
        sims = q @ ref.T
        sims[banned] = -np.inf
        top = np.argsort(-sims, axis=1)[:, :n]
        means.append(values[first[top]].mean(axis=1))
    return means[0] - means[1]


#: What :func:`steering_study` steers: name → (statistic, low, high) of its difference of means.
STEERING_TARGETS = {"younger": ("mean_birth_year", 1950.0, 1990.0),
                    "more female": ("female_fraction", 0.1, 0.9)}


def probe_direction(embeddings: object, values: object, length: float) -> np.ndarray:
    """The ridge probe's weight vector for ``values`` (:func:`~.probes.ridge_direction`, raw feature
    units), rescaled to norm ``length`` (e.g. that of the difference-of-means direction), shape
    ``(1, d)``: pointing the way ``values`` grows."""
    from .probes import ridge_direction

    X = _as_positions(embeddings, "embeddings")
    if X.shape[1] != 1:
        raise ValueError(f"probe_direction needs pooled embeddings (n, d), got {X.shape[1]} positions")
    length = check_float(length, "length", min=0, inclusive="neither")
    d, _ = ridge_direction(X[:, 0], values)
    norm = float(np.linalg.norm(d))
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the probe's direction is zero or not finite: the values carry no signal")
    return (d * (length / norm))[None, :]


def random_directions(like: object, count: int, seed: int = 0,
                      basis: "NameBasis | None" = None) -> np.ndarray:
    """``count`` random directions of the same length as ``like`` (shape ``(P, d)``): the "matched
    random" baseline. Shape ``(count, P, d)``.

    With ``basis`` (the one the steps are decoded in) they are drawn **inside its span**: isotropic
    coefficients ``c ~ N(0, I_k)`` per position, mapped back by ``c B``, and scaled so their length
    equals the length of ``like``'s projection onto the span, ``‖like Bᵀ‖``. Decoding projects every
    step onto the span, so that is the length that matters: drawn isotropically in all d dimensions,
    only about ``√(k/d)`` of a random step survives the projection (21–41 % at k = 64, d = 384 or
    1,414), while a difference of means lies almost wholly inside. Without ``basis``: uniform on the
    sphere of all d dimensions, with the norm of ``like``."""
    like = np.asarray(like, dtype=np.float64)
    if like.ndim != 2 or not np.isfinite(like).all():
        raise ValueError(f"like must be a finite direction of shape (P, d), got {like.shape}")
    count = check_int(count, "count", min=1)
    rng = np.random.default_rng(seed)
    if basis is None:
        g = rng.standard_normal((count,) + like.shape)
        g /= np.linalg.norm(g.reshape(count, -1), axis=1)[:, None, None]
        return g * np.linalg.norm(like)
    if not isinstance(basis, NameBasis):
        raise TypeError(f"basis must be a NameBasis or None, got {type(basis).__name__}")
    if like.shape != basis.mean.shape:
        raise ValueError(f"like must have the basis's shape {basis.mean.shape}, got {like.shape}")
    in_span = float(np.linalg.norm(np.einsum("pd,pkd->pk", like, basis.components)))
    c = rng.standard_normal((count,) + basis.components.shape[:2])
    c *= in_span / np.linalg.norm(c.reshape(count, -1), axis=1)[:, None, None]
    return np.einsum("npk,pkd->npd", c, basis.components)


@dataclass(frozen=True)
class SteeringStudy:
    """Steering tested out of sample: per space (e.g. ``"MiniLM"``, ``"spelling"``), per direction
    kind (``"difference of means"``, ``"probe"``, ``"random"``) and per target (``"younger"``,
    ``"more female"``), the change of the decoded names' real statistic for every start name."""

    starts: list[str]                      #: start names, all from the decoding half
    fit_names: int                         #: names the directions were fitted on
    decode_names: int                      #: names the basis was fitted on and decodes to
    t: float
    effects: dict                          #: effects[space][kind][target] -> (starts,) array
    cosines: dict                          #: cosines[space][target]: cos(probe, difference of means)

    def successes(self, space: str, kind: str, target: str) -> int:
        """Start names whose decoded neighbours moved the way the direction says."""
        return int((self.effects[space][kind][target] > 0).sum())

    def median(self, space: str, kind: str, target: str) -> float:
        return float(np.median(self.effects[space][kind][target]))

    def interval(self, space: str, kind: str, target: str, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson interval of :meth:`successes` out of the start names."""
        from ..stats import wilson_interval

        return wilson_interval(self.successes(space, kind, target), len(self.starts), confidence)

    def compare(self, target: str, a: str = "MiniLM", b: str = "spelling", kind: str = "difference of means",
                draws: int = 2000, seed: int = 0) -> tuple[float, float, float]:
        """Mean over start names of (change in space ``a`` − change in space ``b``), paired (the same
        start names), with a 95 % percentile bootstrap interval over start names: ``(mean, lo, hi)``."""
        for space in (a, b):
            if space not in self.effects:
                raise ValueError(f"space must be one of {list(self.effects)}, got {space!r}")
        d = self.effects[a][kind][target] - self.effects[b][kind][target]
        draws = check_int(draws, "draws", min=10)
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, len(d), (draws, len(d)))].mean(axis=1)
        lo, hi = np.quantile(means, [0.025, 0.975])
        return float(d.mean()), float(lo), float(hi)

    def rows(self) -> list[tuple[str, str, str, int, int, float]]:
        """(space, kind, target, successes, starts, median change)."""
        return [(space, kind, target, self.successes(space, kind, target), len(self.starts),
                 self.median(space, kind, target))
                for space, kinds in self.effects.items() for kind, targets in kinds.items() for target in targets]

    def __str__(self) -> str:
        from ..stats import format_rate

        lines = [f"steering {len(self.starts)} start names by t = ±{self.t:g}: directions fitted on "
                 f"{self.fit_names:,} names, decoded among the other {self.decode_names:,}",
                 f"{'space':<10}{'direction':<22}{'target':<13}{'moved the right way':<32}{'median change':>14}"]
        for space, kind, target, k, n, med in self.rows():
            unit = "years" if target == "younger" else ""
            lines.append(f"{space:<10}{kind:<22}{target:<13}{format_rate(k, n):<32}{med:>+9.2f} {unit}")
        return "\n".join(lines)


def steering_study(spaces: dict[str, object], names: Sequence[str], stats: dict[str, np.ndarray], *,
                   starts: int = 60, t: float = 1.5, n: int = 5, k: int = 64, seed: int = 0) -> SteeringStudy:
    """Does steering work on names it was not fitted on, and better than spelling or chance?

    The names are split in two halves, spelling variants together
    (:func:`~.probes.spelling_fold_ids`); for every feature space in ``spaces`` (name → ``(n, d)``
    features aligned with ``names``), the directions of :data:`STEERING_TARGETS` — difference of
    means, the ridge probe rescaled to the same length, and one random direction per start name,
    drawn inside the decoding basis's span with the same in-span length as the difference of means
    (:func:`random_directions`) — are fitted on the first half; a :class:`NameBasis` (top ``k`` directions) is fitted
    on the second half, and ``starts`` seeded start names from the second half are moved by ``±t``
    and decoded to their ``n`` nearest names there (:func:`steering_effect`)."""
    from .probes import spelling_fold_ids

    names = np.asarray([str(x) for x in names])
    t = check_float(t, "t", min=0, inclusive="neither")
    for key in ("mean_birth_year", "female_fraction"):
        if key not in stats or np.asarray(stats[key]).shape != names.shape:
            raise ValueError(f"stats[{key!r}] must hold one value per name ({len(names)})")
    if not spaces:
        raise ValueError("spaces must name at least one feature space")
    checked = {}
    for space, features in spaces.items():
        X = np.asarray(features, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != len(names) or not np.isfinite(X).all():
            raise ValueError(f"spaces[{space!r}] must be finite with shape ({len(names)}, d), got {X.shape}")
        checked[space] = X
    half = spelling_fold_ids(names, 2, seed)
    fit, decode = half == 0, half == 1
    starts = check_int(starts, "starts", min=1, max=int(decode.sum()))
    start_names = list(np.random.default_rng(seed).choice(names[decode], size=starts, replace=False))
    effects, cosines = {}, {}
    for space, X in checked.items():
        basis = NameBasis.fit(X[decode], names[decode], k=min(k, X.shape[1], int(decode.sum()) - 1))
        values = {key: np.asarray(stats[key], dtype=np.float64) for key in ("mean_birth_year", "female_fraction")}
        decoded_values = {key: v[decode] for key, v in values.items()}
        effects[space] = {"difference of means": {}, "probe": {}, "random": {}}
        cosines[space] = {}
        for i, (target, (key, low, high)) in enumerate(STEERING_TARGETS.items()):
            diff = mean_difference(X[fit], values[key][fit], low, high)
            probe = probe_direction(X[fit], values[key][fit], float(np.linalg.norm(diff)))
            cosines[space][target] = float((diff.ravel() @ probe.ravel())
                                           / (np.linalg.norm(diff) * np.linalg.norm(probe)))
            effects[space]["difference of means"][target] = steering_effect(
                basis, start_names, diff, decoded_values[key], t, n)
            effects[space]["probe"][target] = steering_effect(basis, start_names, probe, decoded_values[key], t, n)
            randoms = random_directions(diff, starts, seed=seed + 1 + i, basis=basis)
            effects[space]["random"][target] = steering_effect(basis, start_names, randoms,
                                                               decoded_values[key], t, n)
    return SteeringStudy(starts=start_names, fit_names=int(fit.sum()), decode_names=int(decode.sum()), t=float(t),
                         effects=effects, cosines=cosines)


def steering_sweep(spaces: dict[str, object], names: Sequence[str], stats: dict[str, np.ndarray], *,
                   ts: Sequence[float] = (0.75, 1.5, 3.0), starts: int = 60, n: int = 5, k: int = 64,
                   seed: int = 0, draws: int = 2000) -> dict[float, dict[str, dict[str, object]]]:
    """The difference-of-means part of :func:`steering_study` at several step sizes ``ts`` (same halves,
    same start names, same directions and bases), because "which space steers further" is a
    dose–response question: each space steps ``t·‖difference of means‖`` in its own units, and a sparse
    space changes no neighbour at small t. Returns ``out[t][target]`` with ``moved`` (space → right-way
    count out of ``starts``), ``median`` (space → median change) and ``gap`` (the paired mean change of
    the first space minus the second, with a 95 % percentile bootstrap interval over start names)."""
    from .probes import spelling_fold_ids

    names = np.asarray([str(x) for x in names])
    ts = [check_float(t, "ts", min=0, inclusive="neither") for t in ts]
    if len(spaces) != 2:
        raise ValueError(f"spaces must name exactly two feature spaces, got {list(spaces)}")
    for key in ("mean_birth_year", "female_fraction"):
        if key not in stats or np.asarray(stats[key]).shape != names.shape:
            raise ValueError(f"stats[{key!r}] must hold one value per name ({len(names)})")
    half = spelling_fold_ids(names, 2, seed)
    fit, decode = half == 0, half == 1
    starts = check_int(starts, "starts", min=1, max=int(decode.sum()))
    start_names = list(np.random.default_rng(seed).choice(names[decode], size=starts, replace=False))
    effects: dict = {t: {target: {} for target in STEERING_TARGETS} for t in ts}
    for space, features in spaces.items():
        X = np.asarray(features, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != len(names) or not np.isfinite(X).all():
            raise ValueError(f"spaces[{space!r}] must be finite with shape ({len(names)}, d), got {X.shape}")
        basis = NameBasis.fit(X[decode], names[decode], k=min(k, X.shape[1], int(decode.sum()) - 1))
        for target, (key, low, high) in STEERING_TARGETS.items():
            values = np.asarray(stats[key], dtype=np.float64)
            diff = mean_difference(X[fit], values[fit], low, high)
            for t in ts:
                effects[t][target][space] = steering_effect(basis, start_names, diff, values[decode], t, n)
    a, b = list(spaces)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, starts, (check_int(draws, "draws", min=10), starts))
    out: dict = {}
    for t in ts:
        out[t] = {}
        for target, by_space in effects[t].items():
            d = by_space[a] - by_space[b]
            lo, hi = np.quantile(d[pick].mean(axis=1), [0.025, 0.975])
            out[t][target] = {"moved": {s: int((e > 0).sum()) for s, e in by_space.items()},
                              "median": {s: float(np.median(e)) for s, e in by_space.items()},
                              "gap": (float(d.mean()), float(lo), float(hi))}
    return out


#: Damage measures of :class:`SteeringTradeoff`: what a step costs besides its target.
DAMAGES = ("off-target", "turnover")


def _unit(c: np.ndarray) -> np.ndarray:
    """Rows of ``(n, P, k)`` coefficients, flattened and scaled to unit length."""
    c = c.reshape(len(c), -1)
    return c / np.linalg.norm(c, axis=1, keepdims=True).clip(1e-12)


def _batch_effect(basis: NameBasis, ref: np.ndarray, rows: np.ndarray, directions: np.ndarray, t: float,
                  n: int, values: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """For start rows ``rows`` of ``basis`` moved by ``±t · directions`` (``(P, d)`` shared or
    ``(starts, P, d)`` one each): per start, the change (+t minus −t) of each statistic in ``values``
    averaged over the ``n`` nearest names (start excluded), and the turnover: the share of those
    names (both signs) that are not among ``keep[i]``, the start's ``n`` nearest at t = 0. ``ref``:
    the unit coefficients of every basis name — cosines in the basis's span equal cosines of the
    coefficients (orthonormal rows), so the search runs in k dimensions, not d."""
    x = basis.embeddings[rows]
    means: dict[str, list[np.ndarray]] = {key: [] for key in values}
    lost = np.zeros(len(rows))
    for sign in (1.0, -1.0):
        sims = _unit(basis.encode(x + sign * t * directions)) @ ref.T
        sims[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-sims, n - 1, axis=1)[:, :n]      # the n nearest, in any order
        for key, v in values.items():
            means[key].append(v[top].mean(axis=1))
        lost += np.array([len(set(row) - set(k)) for row, k in zip(top.tolist(), keep.tolist())]) / n
    out = {key: m[0] - m[1] for key, m in means.items()}
    out["turnover"] = lost / 2
    return out


@dataclass(frozen=True)
class SteeringTradeoff:
    """Effect on the target against damage, per space, direction kind and target, at every step
    ``t`` of :func:`steering_tradeoff` (same halves and start names as :func:`steering_study`).

    Arrays ``(len(ts), starts)``: ``effect`` = change of the target statistic of the decoded names
    (+t minus −t, as :func:`steering_effect`); ``off_target`` = absolute change of the *other*
    statistic (years for "more female", female share for "younger"); ``turnover`` = share of the
    decoded names that are not among the start name's own nearest names."""

    starts: list[str]
    ts: np.ndarray
    effect: dict        #: effect[space][kind][target] -> (T, starts)
    off_target: dict    #: same keys
    turnover: dict      #: same keys

    def damage(self, space: str, kind: str, target: str, damage: str = "off-target") -> np.ndarray:
        """``(T, starts)`` damage of one curve: ``"off-target"`` or ``"turnover"``."""
        if damage not in DAMAGES:
            raise ValueError(f"damage must be one of {DAMAGES}, got {damage!r}")
        if space not in self.effect:
            raise ValueError(f"space must be one of {list(self.effect)}, got {space!r}")
        return (self.off_target if damage == "off-target" else self.turnover)[space][kind][target]

    def curve(self, space: str, kind: str, target: str, damage: str = "off-target",
              starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean damage and mean effect over start names (or the rows ``starts``), per step: ``(T,), (T,)``."""
        idx = slice(None) if starts is None else starts
        d = self.damage(space, kind, target, damage)[:, idx].mean(axis=1)
        return d, self.effect[space][kind][target][:, idx].mean(axis=1)

    @staticmethod
    def _at(damage: np.ndarray, effect: np.ndarray, level: float) -> float:
        """Effect where the curve first reaches ``level`` of damage (linear between steps, from the
        origin: t = 0 has no damage and no effect); NaN if it never does."""
        d = np.concatenate([[0.0], damage])
        e = np.concatenate([[0.0], effect])
        above = np.flatnonzero(d >= level)
        if len(above) == 0:
            return float("nan")
        j = int(above[0])
        if j == 0:
            return 0.0
        w = (level - d[j - 1]) / (d[j] - d[j - 1])
        return float(e[j - 1] + w * (e[j] - e[j - 1]))

    def level(self, target: str, damage: str = "off-target", space: str = "MiniLM",
              t: float = 1.5, kind: str = "difference of means") -> float:
        """Mean damage of ``space``'s step ``t`` (one of the steps): the level to match at."""
        hits = np.flatnonzero(np.isclose(self.ts, t))
        if len(hits) == 0:
            raise ValueError(f"t must be one of the steps {self.ts.tolist()}, got {t}")
        return float(self.damage(space, kind, target, damage)[hits[0]].mean())

    def at_damage(self, space: str, target: str, level: float, damage: str = "off-target",
                  kind: str = "difference of means") -> float:
        """Mean effect on ``target`` of ``space``'s direction stepped until its mean damage is ``level``."""
        return self._at(*self.curve(space, kind, target, damage), check_float(level, "level", min=0))

    def matched_gap(self, target: str, level: float | None = None, damage: str = "off-target",
                    a: str = "MiniLM", b: str = "spelling", kind: str = "difference of means",
                    draws: int = 1000, seed: int = 0) -> tuple[float, float, float]:
        """Effect of ``a`` minus effect of ``b`` at the same mean damage ``level`` (default: the damage
        of ``a``'s step t = 1.5), with a 95 % percentile bootstrap interval over start names (the same
        resampled start names for both spaces; the level is held fixed): ``(gap, lo, hi)``. NaN where a
        space never reaches the level."""
        level = self.level(target, damage, a, kind=kind) if level is None else level
        gap = self.at_damage(a, target, level, damage, kind) - self.at_damage(b, target, level, damage, kind)
        rng = np.random.default_rng(seed)
        n = len(self.starts)
        boot = []
        for _ in range(check_int(draws, "draws", min=10)):
            r = rng.integers(0, n, n)
            boot.append(self._at(*self.curve(a, kind, target, damage, r), level)
                        - self._at(*self.curve(b, kind, target, damage, r), level))
        boot = np.asarray(boot)
        boot = boot[np.isfinite(boot)]
        if not np.isfinite(gap) or len(boot) < 10:
            return float(gap), float("nan"), float("nan")
        lo, hi = np.quantile(boot, [0.025, 0.975])
        return float(gap), float(lo), float(hi)


def steering_tradeoff(spaces: dict[str, object], names: Sequence[str], stats: dict[str, np.ndarray], *,
                      ts: Sequence[float] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
                      starts: int = 60, n: int = 5, k: int = 64, seed: int = 0) -> SteeringTradeoff:
    """Effect against damage along a grid of steps ``ts``: the difference-of-means and random
    directions of :func:`steering_study` (same halves, start names, directions and bases), each start
    name moved by ``±t`` and decoded to its ``n`` nearest names among the decoding half.

    Damage is what the step does besides its target, measured on the decoded names: **off-target**
    ``|Δ other statistic|`` (+t minus −t; years when steering sex, female share when steering age),
    or **turnover**, the share of decoded names that are not the start name's ``n`` nearest at t = 0.
    Both are read off real names, so they mean the same thing in every space, unlike ``t``, which is in
    each space's own units."""
    from .probes import spelling_fold_ids

    names = np.asarray([str(x) for x in names])
    ts = np.asarray([check_float(t, "ts", min=0, inclusive="neither") for t in ts], dtype=np.float64)
    if len(ts) < 2 or (np.diff(ts) <= 0).any():
        raise ValueError(f"ts must hold at least two increasing steps, got {ts.tolist()}")
    for key in ("mean_birth_year", "female_fraction"):
        if key not in stats or np.asarray(stats[key]).shape != names.shape:
            raise ValueError(f"stats[{key!r}] must hold one value per name ({len(names)})")
    if not spaces:
        raise ValueError("spaces must name at least one feature space")
    n = check_int(n, "n", min=1)
    half = spelling_fold_ids(names, 2, seed)
    fit, decode = half == 0, half == 1
    starts = check_int(starts, "starts", min=1, max=int(decode.sum()))
    start_names = list(np.random.default_rng(seed).choice(names[decode], size=starts, replace=False))
    values = {key: np.asarray(stats[key], dtype=np.float64) for key in ("mean_birth_year", "female_fraction")}
    other = {"mean_birth_year": "female_fraction", "female_fraction": "mean_birth_year"}
    effect: dict = {}
    off: dict = {}
    turn: dict = {}
    for space, features in spaces.items():
        X = np.asarray(features, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != len(names) or not np.isfinite(X).all():
            raise ValueError(f"spaces[{space!r}] must be finite with shape ({len(names)}, d), got {X.shape}")
        basis = NameBasis.fit(X[decode], names[decode], k=min(k, X.shape[1], int(decode.sum()) - 1))
        rows = np.array([basis.row(s) for s in start_names])
        here = {key: v[decode] for key, v in values.items()}
        ref = _unit(basis.encode(basis.embeddings))
        sims0 = ref[rows] @ ref.T
        sims0[np.arange(len(rows)), rows] = -np.inf
        keep = np.argpartition(-sims0, n - 1, axis=1)[:, :n]
        for store in (effect, off, turn):
            store[space] = {"difference of means": {}, "random": {}}
        for i, (target, (key, low, high)) in enumerate(STEERING_TARGETS.items()):
            diff = mean_difference(X[fit], values[key][fit], low, high)
            randoms = random_directions(diff, starts, seed=seed + 1 + i, basis=basis)
            for kind, direction in (("difference of means", diff), ("random", randoms)):
                per_t = [_batch_effect(basis, ref, rows, direction, float(t), n, here, keep) for t in ts]
                effect[space][kind][target] = np.stack([r[key] for r in per_t])
                off[space][kind][target] = np.abs(np.stack([r[other[key]] for r in per_t]))
                turn[space][kind][target] = np.stack([r["turnover"] for r in per_t])
    return SteeringTradeoff(starts=start_names, ts=ts, effect=effect, off_target=off, turnover=turn)


@dataclass(frozen=True)
class SteeringSplits:
    """:func:`steering_tradeoff` repeated over several half-splits of the names (split seeds), pooled.

    ``pooled`` holds every split's start names side by side (``split[i]`` says which split row ``i``
    came from), so its curves are means over all start names of all splits. Intervals are 95 %
    **two-stage bootstraps** (:func:`~.world_stats.world_bootstrap`): splits resampled, then start
    names within each — one split's halves and start names are one draw, and a bootstrap over start
    names alone hides how much the answer changes from split to split."""

    pooled: SteeringTradeoff
    split: np.ndarray          #: (splits × starts,) the split seed of each pooled row
    seeds: tuple               #: the split seeds, in order

    def _rows(self, seed: int) -> np.ndarray:
        if seed not in self.seeds:
            raise ValueError(f"seed must be one of the split seeds {list(self.seeds)}, got {seed}")
        return np.flatnonzero(self.split == seed)

    def level(self, target: str, damage: str = "off-target", space: str = "MiniLM", t: float = 1.5,
              kind: str = "difference of means") -> float:
        """Mean damage of ``space``'s step ``t`` over every split's start names."""
        return self.pooled.level(target, damage, space, t, kind)

    def _t_index(self, t: float) -> int:
        hits = np.flatnonzero(np.isclose(self.pooled.ts, t))
        if len(hits) == 0:
            raise ValueError(f"t must be one of the steps {self.pooled.ts.tolist()}, got {t}")
        return int(hits[0])

    def gap_at(self, target: str, t: float = 1.5, a: str = "MiniLM", b: str = "spelling",
               kind: str = "difference of means", draws: int = 2000,
               seed: int = 0) -> tuple[float, float, float]:
        """Mean over every split's start names of (effect in ``a`` − effect in ``b``) at the same step
        ``t``, with its two-stage bootstrap interval: ``(gap, lo, hi)``."""
        from .world_stats import world_bootstrap

        i = self._t_index(t)
        d = self.pooled.effect[a][kind][target][i] - self.pooled.effect[b][kind][target][i]
        lo, hi = world_bootstrap(d, self.split, np.mean, n_boot=draws, seed=seed)
        return float(d.mean()), lo, hi

    def matched_gap(self, target: str, level: float | None = None, damage: str = "off-target",
                    a: str = "MiniLM", b: str = "spelling", kind: str = "difference of means",
                    draws: int = 2000, seed: int = 0) -> tuple[float, float, float]:
        """:meth:`SteeringTradeoff.matched_gap` on the pooled curves (default level: the damage of
        ``a``'s step t = 1.5, over all splits), with a two-stage bootstrap interval (the level is held
        fixed): ``(gap, lo, hi)``; NaN where a space never reaches the level."""
        from .world_stats import world_bootstrap

        p = self.pooled
        level = self.level(target, damage, a, kind=kind) if level is None else level

        def gap(rows: np.ndarray) -> float:
            rows = rows.astype(int)
            return (p._at(*p.curve(a, kind, target, damage, rows), level)
                    - p._at(*p.curve(b, kind, target, damage, rows), level))

        point = gap(np.arange(len(self.split)))
        if not np.isfinite(point):
            return float(point), float("nan"), float("nan")
        lo, hi = world_bootstrap(np.arange(len(self.split), dtype=float), self.split, gap, n_boot=draws,
                                 seed=seed)
        return float(point), lo, hi

    def per_split(self, target: str, level: float, damage: str = "turnover", t: float = 1.5,
                  a: str = "MiniLM", b: str = "spelling",
                  kind: str = "difference of means") -> list[dict[str, float]]:
        """One row per split: right-way moves out of its start names in ``a`` and ``b`` at step ``t``,
        their mean gap at ``t``, and the gap at damage ``level`` (points only)."""
        p, i = self.pooled, self._t_index(t)
        out = []
        for s in self.seeds:
            rows = self._rows(s)
            ea, eb = p.effect[a][kind][target][i, rows], p.effect[b][kind][target][i, rows]
            matched = (p._at(*p.curve(a, kind, target, damage, rows), level)
                       - p._at(*p.curve(b, kind, target, damage, rows), level))
            out.append({"seed": s, "starts": len(rows), f"moved {a}": int((ea > 0).sum()),
                        f"moved {b}": int((eb > 0).sum()), "gap at t": float((ea - eb).mean()),
                        "gap at damage": float(matched)})
        return out


def steering_splits(spaces: dict[str, object], names: Sequence[str], stats: dict[str, np.ndarray], *,
                    seeds: Sequence[int] = (0, 1, 2, 3, 4), **tradeoff_options) -> SteeringSplits:
    """:func:`steering_tradeoff` once per split seed in ``seeds`` (each seed draws its own halves,
    spelling variants together, its own start names and its own random directions), pooled into one
    :class:`SteeringSplits`. ``tradeoff_options`` (``ts``, ``starts``, ``n``, ``k``) go to every run."""
    seeds = tuple(check_int(s, "seeds", min=0) for s in seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must hold at least two distinct split seeds, got {list(seeds)}")
    if "seed" in tradeoff_options:
        raise ValueError("pass the split seeds as seeds=…, not seed=")
    runs = [steering_tradeoff(spaces, names, stats, seed=s, **tradeoff_options) for s in seeds]

    def join(field: str) -> dict:
        first = getattr(runs[0], field)
        return {space: {kind: {target: np.concatenate([getattr(r, field)[space][kind][target] for r in runs],
                                                      axis=1)
                               for target in targets}
                        for kind, targets in kinds.items()}
                for space, kinds in first.items()}

    pooled = SteeringTradeoff(starts=[s for r in runs for s in r.starts], ts=runs[0].ts,
                              effect=join("effect"), off_target=join("off_target"), turnover=join("turnover"))
    split = np.concatenate([np.full(len(r.starts), s) for r, s in zip(runs, seeds)])
    return SteeringSplits(pooled=pooled, split=split, seeds=seeds)
