"""Linear probes on held-out names: what an encoder knows about a name beyond its spelling (3.1).

A probe is ridge regression ``ŷ = (x − x̄) · w + ȳ`` with ``w = (XᵀX + αI)⁻¹ Xᵀ(y − ȳ)`` on
standardised features. Names are split into ``folds`` groups; each group is predicted by a probe fitted
on the others only, so every score is on **names never seen in fitting** — and spelling variants
(Vicki, Vickie, Vicky; Jon, John: one :func:`~.names.variant_groups`, the spelling key united with
Soundex) always share a fold (:func:`spelling_fold_ids`), so no name is scored against a variant sharing its spelling key or Soundex code. Inside each fit, α is picked
from a grid by the closed-form leave-one-out error of ridge, ``eᵢ / (1 − hᵢᵢ)`` with
``H = U diag(s²/(s² + α)) Uᵀ`` from the SVD ``X = U S Vᵀ`` — exact, and no nested loop.

Scores: R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² on the pooled out-of-fold predictions (0 = no better than the
mean, can be negative), with a bootstrap interval over names; AUC = P(score of a random
majority-female name > score of a random majority-male name) (Mann–Whitney), 0.5 = chance.

Two references keep the probe honest: a **spelling baseline** (the same probe on counts of the
name's character 1–3-grams, e.g. ``^vi``, ``ick``, ``ki$``) and a **shuffled-label control** (the
same probe with the targets permuted across names, which must score R² ≈ 0).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..validation import check_int
from ..widgets import progress

__all__ = ["ALPHAS", "CONSTANT_SPREAD", "ngram_features", "fold_ids", "group_fold_ids", "spelling_fold_ids",
           "one_edit_across_folds",
           "ridge_oof", "r2_score", "auc_score",
           "bootstrap_interval", "fit_ridge", "ridge_direction", "ProbeResult", "probe", "probe_table", "ProbeTable",
           "PROBE_SETTINGS", "name_probes", "CELLS", "SplitCell", "frequency_token_split", "trained_within",
           "format_split", "compare_on", "text_frequency", "TEXT_BANDS", "text_frequency_split", "matched_contrast",
           "length_control", "with_spelling_ngrams"]

#: Ridge penalties tried inside each fit (relative to the number of features: standardised columns).
ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))


def _check_matrix(X: object, argument: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{argument} must be a 2-D array (names, features) with ≥ 2 rows, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{argument} contains NaN or infinite values")
    return X


def _check_target(y: object, n: int, argument: str = "y") -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != n or y.size == 0:
        raise ValueError(f"{argument} must have shape ({n},) or ({n}, targets), one row per name, got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"{argument} contains NaN or infinite values")
    return y


def ngram_features(names: Sequence[str], n_max: int = 3, min_names: int = 5) -> tuple[np.ndarray, list[str]]:
    """Counts of each character 1…``n_max``-gram of ``^name$`` (lower-cased), keeping the n-grams
    that occur in at least ``min_names`` names. Returns ``(features (n, k), the n-grams)``."""
    n_max = check_int(n_max, "n_max", min=1, max=5)
    grams_per_name = []
    for name in names:
        s = f"^{str(name).strip().lower()}$"
        grams_per_name.append(Counter(s[i:i + k] for k in range(1, n_max + 1) for i in range(len(s) - k + 1)
                                      if s[i:i + k] not in ("^", "$")))
    seen = Counter(g for grams in grams_per_name for g in grams)
    vocab = sorted(g for g, c in seen.items() if c >= min_names)
    column = {g: j for j, g in enumerate(vocab)}
    X = np.zeros((len(grams_per_name), len(vocab)), dtype=np.float32)
    for i, grams in enumerate(grams_per_name):
        for g, c in grams.items():
            if g in column:
                X[i, column[g]] = c
    return X, vocab


def fold_ids(n: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number in ``0 … folds−1`` per name, balanced, in a seeded random order."""
    folds = check_int(folds, "folds", min=2, max=n)
    ids = np.arange(n) % folds
    return np.random.default_rng(seed).permutation(ids)


def group_fold_ids(groups: object, folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number per name such that names of one group (e.g. one :func:`~.names.spelling_key`:
    Vicki, Vickie, Vicky) always share a fold — the idea of scikit-learn's ``GroupKFold``.

    Groups are visited largest first (ties in a seeded random order) and each goes to the fold
    holding the fewest names so far, so folds stay balanced to within one group."""
    g = np.asarray(groups)
    if g.ndim != 1 or g.size < 2:
        raise ValueError(f"groups must be a 1-D array with one entry per name (≥ 2), got shape {g.shape}")
    labels, inverse, sizes = np.unique(g, return_inverse=True, return_counts=True)
    folds = check_int(folds, "folds", min=2, max=len(labels))
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(labels))
    order = shuffled[np.argsort(-sizes[shuffled], kind="stable")]
    filled = np.zeros(folds, dtype=np.int64)
    fold_of_group = np.empty(len(labels), dtype=np.int64)
    for j in order:
        f = int(np.argmin(filled))
        fold_of_group[j] = f
        filled[f] += sizes[j]
    return fold_of_group[inverse.ravel()]


def spelling_fold_ids(names: Sequence[str], folds: int = 5, seed: int = 0) -> np.ndarray:
    """:func:`group_fold_ids` over the names' variant groups (:func:`~.names.variant_groups`: the
    spelling key united with Soundex): spelling variants never straddle a train/test split, so a
    probe cannot score by matching "Vickie" to a "Vicki", or "John" to a "Jon", it was fitted on.
    Soundex also merges some distinct names (Mary, Mira), which only makes the split stricter."""
    from .names import variant_groups

    return group_fold_ids(variant_groups(names), folds, seed)


def one_edit_across_folds(names: Sequence[str], folds: object) -> np.ndarray:
    """Per name: is another name one edit away (one letter substituted, inserted or deleted,
    case ignored) in a **different** fold? Variant grouping keeps shared-key variants together
    but not every one-letter neighbour (Donald/Ronald, Steven/Steve): this counts what remains.
    Boolean array aligned with ``names``."""
    low = [str(x).lower() for x in names]
    folds = np.asarray(folds)
    if folds.shape != (len(low),):
        raise ValueError(f"folds must hold one fold per name ({len(low)}), got {folds.shape}")
    index: dict[str, list[int]] = {}
    for i, s in enumerate(low):
        index.setdefault(s, []).append(i)
    buckets: dict[tuple[int, str], list[int]] = {}
    pairs = []
    for i, s in enumerate(low):
        for j in range(len(s)):
            buckets.setdefault((j, s[:j] + "\0" + s[j + 1:]), []).append(i)   # substitution
            pairs += [(i, k) for k in index.get(s[:j] + s[j + 1:], [])]       # deletion
    for members in buckets.values():
        pairs += [(a, b) for a in members for b in members if a < b]
    hit = np.zeros(len(low), dtype=bool)
    for a, b in pairs:
        if low[a] != low[b] and folds[a] != folds[b]:
            hit[a] = hit[b] = True
    return hit


#: A feature whose spread is at most this fraction of the largest feature's spread is treated as
#: constant. Exact zero is not enough: MiniLM's last layer has columns that are constant up to
#: rounding (spread 1e-32, 4e-9); standardising them blew rounding noise up to unit variance and the
#: probe's direction in raw units up to a norm of ~1e30.
CONSTANT_SPREAD = 1e-6


def _ridge_fit(X: np.ndarray, Y: np.ndarray, alphas: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardise, pick α per target by exact leave-one-out error, fit. Returns (x̄, scale, W, ȳ).

    Leave-one-out counts the fitted intercept (leverage ``1/n + hᵢᵢ``) and leaves rows that are
    exact copies in feature space out together, so neither more features than rows nor duplicated
    rows can make the smallest α look best. (Near-copies are not grouped.)

    Works from the Gram matrix ``ZᵀZ = V diag(λ) Vᵀ`` (an eigendecomposition of a d × d matrix is
    far cheaper than an SVD of the n × d data): with ``P = Z V``, the fit is ``P (PᵀY / (λ + α))`` and
    the leverages are ``hᵢᵢ = Σⱼ Pᵢⱼ² / (λⱼ + α)``.
    """
    # All in torch: numpy's BLAS and torch's thread pools, both busy on 2 cores, slowed each other
    # down 5–10× (and numpy's eigh was 5× slower on these Gram matrices).
    Xt = torch.from_numpy(X)
    mean, scale = Xt.mean(dim=0), Xt.std(dim=0, unbiased=False)
    constant = scale <= CONSTANT_SPREAD * scale.max()
    scale[constant] = 1.0
    Z = (Xt - mean) / scale
    Z[:, constant] = 0.0                            # a constant column carries no information
    Yt = torch.from_numpy(Y)
    y_mean = Yt.mean(dim=0)
    Yc = Yt - y_mean
    gram = Z.T @ Z
    # eigh on one thread: on two threads of a busy 2-core machine it was 25× slower (0.5 s against
    # 13 s at d = 862), and no faster on an idle one
    with runtime.cpu_threads():
        lam, V = torch.linalg.eigh(gram)
    keep = lam > 1e-10 * lam.max().clamp_min(1e-300)
    lam, V = lam[keep], V[:, keep]
    P = Z @ V
    P2 = P**2
    PtY = P.T @ Yc                                   # (k, targets)
    n = Z.shape[0]
    # Rows that are exact copies of each other in feature space are left out together.
    _, copy_of, copies = torch.unique(Z, dim=0, return_inverse=True, return_counts=True)
    m = copies[copy_of].to(torch.float64)            # size of each row's group of copies
    W = torch.zeros((X.shape[1], Y.shape[1]), dtype=torch.float64)
    for t in range(Y.shape[1]):
        best = None
        for alpha in alphas:
            inv = 1.0 / (lam + alpha)
            residual = Yc[:, t] - P @ (inv * PtY[:, t])
            # The intercept is fitted too (unpenalised; Z's columns are centred, so it adds 1/n to
            # every leverage). Dropping this term was the bug: with as many features as rows the
            # centred fit interpolates, 1 − h → 0 with the residual, and LOO error → 0 at the
            # smallest α.
            leverage = 1.0 / n + P2 @ inv
            # Leave a group of m identical rows out at once: H restricted to the group is h·11ᵀ, and
            # (I − h·11ᵀ)⁻¹ = I + h/(1 − m·h)·11ᵀ (Sherman–Morrison).
            group_sum = torch.zeros(len(copies), dtype=torch.float64).index_add_(0, copy_of, residual)[copy_of]
            held_out = residual + leverage / (1 - m * leverage).clamp_min(1e-9) * group_sum
            loo = float((held_out**2).mean())
            if best is None or loo < best[0]:
                best = (loo, inv)
        W[:, t] = V @ (best[1] * PtY[:, t])
    W[constant] = 0.0
    mean, scale, W, y_mean = (v.numpy() for v in (mean, scale, W, y_mean))
    return mean, scale, W, y_mean


def ridge_oof(X: object, y: object, folds: np.ndarray, alphas: Sequence[float] = ALPHAS) -> np.ndarray:
    """Out-of-fold ridge predictions: each name predicted by a probe that never saw it.

    ``y`` is one target ``(n,)`` or several ``(n, t)`` (one decomposition serves them all)."""
    X = _check_matrix(X)
    y = np.asarray(y, dtype=np.float64)
    Y = _check_target(y if y.ndim == 2 else y.reshape(-1, 1), X.shape[0])
    folds = np.asarray(folds)
    if folds.shape != (X.shape[0],):
        raise ValueError(f"folds must have shape ({X.shape[0]},), got {folds.shape}")
    out = np.zeros_like(Y)
    for f in np.unique(folds):
        test = folds == f
        mean, scale, W, y_mean = _ridge_fit(X[~test], Y[~test], alphas)
        out[test] = ((X[test] - mean) / scale) @ W + y_mean
    return out.reshape(y.shape)


def fit_ridge(X: object, y: object, alphas: Sequence[float] = ALPHAS):
    """Fit one ridge probe on the rows given; return ``predict(X_new) -> ŷ`` (α by leave-one-out)."""
    X = _check_matrix(X)
    Y = _check_target(y, X.shape[0])[:, None] if np.ndim(y) == 1 else _check_target(y, X.shape[0])
    mean, scale, W, y_mean = _ridge_fit(X, Y, alphas)

    def predict(X_new: object) -> np.ndarray:
        X_new = np.asarray(X_new, dtype=np.float64)
        if X_new.ndim != 2 or X_new.shape[1] != X.shape[1]:
            raise ValueError(f"X_new must have shape (n, {X.shape[1]}), got {X_new.shape}")
        out = ((X_new - mean) / scale) @ W + y_mean
        return out[:, 0] if np.ndim(y) == 1 else out

    return predict


def ridge_direction(X: object, y: object, alphas: Sequence[float] = ALPHAS) -> tuple[np.ndarray, float]:
    """The probe fitted on all rows, as a direction in the *raw* feature space and an intercept:
    ``ŷ = x · d + b``. (Used by NameBasis to move an embedding along "older" or "more female".)"""
    X = _check_matrix(X)
    Y = _check_target(y, X.shape[0])[:, None]
    mean, scale, W, y_mean = _ridge_fit(X, Y, alphas)
    d = W[:, 0] / scale
    return d, float(y_mean[0] - mean @ d)


def r2_score(y: object, pred: object) -> float:
    """``1 − Σ(y − ŷ)² / Σ(y − ȳ)²``."""
    y = np.asarray(y, dtype=np.float64); pred = np.asarray(pred, dtype=np.float64)
    if y.shape != pred.shape or y.ndim != 1 or y.size < 2:
        raise ValueError(f"y and pred must be 1-D arrays of one shape (≥ 2 values), got {y.shape}, {pred.shape}")
    total = ((y - y.mean()) ** 2).sum()
    if total == 0:
        raise ValueError("y is constant: R² is undefined")
    return float(1 - ((y - pred) ** 2).sum() / total)


def auc_score(labels: object, scores: object) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative), ties ½."""
    labels = np.asarray(labels).astype(bool); scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError("labels and scores must be 1-D arrays of one shape")
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("labels must contain both classes")
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[where]   # average rank of tied scores
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def bootstrap_interval(y: np.ndarray, pred: np.ndarray, metric=r2_score, draws: int = 200,
                       seed: int = 0, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y, pred)`` over names resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(y)
    values = [metric(y[idx], pred[idx]) for idx in (rng.integers(0, n, n) for _ in range(draws))]
    lo, hi = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


@dataclass(frozen=True)
class ProbeResult:
    """One probe's held-out score, its interval and its out-of-fold predictions."""

    features: str               #: "layer 3", "spelling", "layer 3 (shuffled labels)" …
    target: str                 #: "female_fraction" or "mean_birth_year"
    r2: float
    r2_interval: tuple[float, float]
    auc: float | None           #: majority-female vs majority-male (female_fraction only)
    predictions: np.ndarray


def probe(X: object, targets: dict[str, np.ndarray], features: str, folds: np.ndarray,
          female: np.ndarray | None = None) -> dict[str, ProbeResult]:
    """Held-out R² of a ridge probe for each target (one fit per fold serves all targets), and the
    AUC for ``female_fraction`` when ``female`` (a boolean per name) is given."""
    names = list(targets)
    Y = np.stack([np.asarray(targets[t], dtype=np.float64) for t in names], axis=1)
    pred = ridge_oof(X, Y, folds)
    out = {}
    for j, t in enumerate(names):
        auc = auc_score(female, pred[:, j]) if (female is not None and t == "female_fraction") else None
        out[t] = ProbeResult(features=features, target=t, r2=r2_score(Y[:, j], pred[:, j]),
                             r2_interval=bootstrap_interval(Y[:, j], pred[:, j]), auc=auc,
                             predictions=pred[:, j])
    return out


@dataclass(frozen=True)
class ProbeTable:
    """Every layer × target, against the spelling baseline and a shuffled-label control."""

    encoder: str
    n_names: int
    layers: list[dict[str, ProbeResult]]        #: per layer, target → result
    spelling: dict[str, ProbeResult]
    combined: dict[str, ProbeResult]            #: spelling + the best layer, per target
    shuffled: dict[str, ProbeResult]            #: best layer, labels permuted
    best_layer: dict[str, int]

    def rows(self) -> list[tuple[str, float, float, float]]:
        """(features, R² sex, AUC sex, R² birth year) for printing."""
        out = [(f"layer {i}", d["female_fraction"].r2, d["female_fraction"].auc, d["mean_birth_year"].r2)
               for i, d in enumerate(self.layers)]
        for label, d in (("spelling (char 1–3-grams)", self.spelling), ("spelling + best layer", self.combined),
                         ("best layer, shuffled labels", self.shuffled)):
            out.append((label, d["female_fraction"].r2, d["female_fraction"].auc, d["mean_birth_year"].r2))
        return out

    def __str__(self) -> str:
        lines = [f"{self.encoder}: {self.n_names:,} held-out names, 5-fold (spelling variants kept together), ridge probes",
                 f"{'features':<30}{'R² female fraction':>20}{'AUC sex':>10}{'R² birth year':>16}"]
        for label, r2s, auc, r2y in self.rows():
            lines.append(f"{label:<30}{r2s:>20.3f}{auc:>10.3f}{r2y:>16.3f}")
        return "\n".join(lines)


TARGETS = ("female_fraction", "mean_birth_year")


def probe_table(embeddings, folds: int = 5, seed: int = 0, show_progress: bool = False) -> ProbeTable:
    """Probe every layer of a :class:`~.embeddings.NameEmbeddings` for sex and birth year, on held-out
    names, with the spelling baseline, spelling + best layer, and the shuffled-label control."""
    n = len(embeddings)
    ids = spelling_fold_ids(embeddings.names, folds, seed)   # Vicki, Vickie and Vicky share a fold
    targets = {"female_fraction": embeddings.female_fraction, "mean_birth_year": embeddings.mean_birth_year}
    female = embeddings.female_fraction > 0.5
    layers = [probe(embeddings.layers[:, layer], targets, f"layer {layer}", ids, female)
              for layer in progress(range(embeddings.layers.shape[1]), desc="probing layers", disable=not show_progress)]
    spelling_X, _ = ngram_features(embeddings.names)
    spelling = probe(spelling_X, targets, "spelling", ids, female)
    best = {t: int(np.argmax([d[t].r2 for d in layers])) for t in targets}
    combined, shuffled = {}, {}
    perm = np.random.default_rng(seed + 1).permutation(n)
    for t, y in targets.items():
        X = embeddings.layers[:, best[t]]
        combined[t] = probe(np.hstack([spelling_X, X]), {t: y}, f"spelling + layer {best[t]}", ids, female)[t]
        shuffled[t] = probe(X, {t: y[perm]}, f"layer {best[t]} (shuffled labels)", ids, female[perm])[t]
    return ProbeTable(encoder=embeddings.encoder, n_names=n, layers=layers, spelling=spelling,
                      combined=combined, shuffled=shuffled, best_layer=best)


def with_spelling_ngrams(embeddings, table: ProbeTable, n_max: int, folds: int = 5,
                         seed: int = 0) -> ProbeTable:
    """``table`` with its spelling baseline refitted on letter 1–``n_max``-grams (the same folds
    and ridge as :func:`probe_table`, which uses 1–3-grams), so :func:`compare_on` scores the
    encoder against a richer spelling probe. Is the baseline too weak? This answers it."""
    n_max = check_int(n_max, "n_max", min=1, max=8)
    if len(embeddings) != table.n_names:
        raise ValueError(f"embeddings hold {len(embeddings)} names, the table {table.n_names}")
    ids = spelling_fold_ids(embeddings.names, folds, seed)
    targets = {t: np.asarray(getattr(embeddings, t)) for t in TARGETS}
    X, _ = ngram_features(embeddings.names, n_max=n_max)
    spelling = probe(X, targets, f"spelling, 1–{n_max}-grams", ids, embeddings.female_fraction > 0.5)
    return replace(table, spelling=spelling)


#: Per-profile settings of notebook 3.1 (one place): names with at least ``min_births`` babies.
#: 5,000 births make a name's statistics precise (the female share's binomial standard error is
#: ≤ 0.7 points) while keeping 3,786 names — recognisable ones, not one-off spellings.
#: ``common_births`` splits the names into common and rare for :func:`frequency_token_split`: in
#: ``quick`` every name has ≥ 20,000 births, so the split is at 60,000 (about the median).
PROBE_SETTINGS = {
    "quick": {"min_births": 20_000, "folds": 5, "common_births": 60_000},      # 1,683 names
    "standard": {"min_births": 5_000, "folds": 5, "common_births": 20_000},    # 3,786 names
    "full": {"min_births": 1_000, "folds": 5, "common_births": 20_000},        # 10,570 names
}


def name_probes(encoder: str = "minilm", profile: str | None = None, path: str | None = None):
    """The profile's names embedded by ``encoder`` and their :class:`ProbeTable` (both cached)."""
    from .embeddings import name_embeddings

    settings = runtime.by_profile(PROBE_SETTINGS, profile)
    embeddings = name_embeddings(encoder, settings["min_births"], path=path)

    def compute() -> ProbeTable:
        with runtime.cpu_threads() as fit:
            # wide enough to share both cores, but only while no other process holds one
            fit(runtime.MANY_ROWS if runtime.cores_to_spare() else 0)
            return probe_table(embeddings, folds=settings["folds"], show_progress=True)

    config = {"encoder": encoder, "min_births": settings["min_births"], "folds": settings["folds"],
              "grouped_by": "spelling_key+soundex", "alpha_choice": "loo-with-intercept",
              "source": "" if path is None else str(path)}
    return embeddings, cached("name-probes", config, compute)


#: The four cells of :func:`frequency_token_split`, in reading order.
CELLS = ("common, one token", "common, several tokens", "rare, one token", "rare, several tokens")


@dataclass(frozen=True)
class SplitCell:
    """One cell of the births × token-count split: held-out R² of the encoder's best layer and of
    the spelling probe on the cell's names (the same out-of-fold predictions, scored per cell)."""

    cell: str                                  #: one of :data:`CELLS`
    names: int
    encoder: dict[str, float]                  #: target → R² of the best layer
    spelling: dict[str, float]                 #: target → R² of the spelling probe
    difference: dict[str, float]               #: target → encoder − spelling
    interval: dict[str, tuple[float, float]]   #: target → 95 % paired bootstrap interval of the difference
    mean_difference: float                     #: the difference averaged over both targets
    mean_interval: tuple[float, float]         #: its 95 % paired bootstrap interval

    @property
    def winner(self) -> str:
        """``"encoder"`` or ``"spelling"``: the sign of the mean difference."""
        return "encoder" if self.mean_difference > 0 else "spelling"


def frequency_token_split(embeddings, table: ProbeTable, token_counts: object, threshold: int = 20_000,
                          draws: int = 400, seed: int = 0) -> list[SplitCell]:
    """Split the names by births (common: ≥ ``threshold``) and by how many tokens the encoder's
    tokenizer cuts them into (one or several), and score the encoder's best layer against spelling in
    each cell — the same held-out predictions as ``table``. Intervals: a paired percentile bootstrap
    over the cell's names (``draws`` resamples; encoder and spelling scored on the same resample).
    A cell with fewer than 20 names is left out."""
    n = len(embeddings)
    tokens = np.asarray(token_counts)
    if tokens.shape != (n,) or not np.issubdtype(tokens.dtype, np.integer) or (tokens < 1).any():
        raise ValueError(f"token_counts must be positive integers, one per name ({n}), got shape {tokens.shape}")
    threshold = check_int(threshold, "threshold", min=1)
    draws = check_int(draws, "draws", min=10)
    common = np.asarray(embeddings.total) >= threshold
    rng = np.random.default_rng(seed)
    masks = (common & (tokens == 1), common & (tokens > 1), ~common & (tokens == 1), ~common & (tokens > 1))
    return [_score_cell(embeddings, table, label, np.flatnonzero(mask), draws, rng)
            for label, mask in zip(CELLS, masks) if mask.sum() >= 20]


def compare_on(embeddings, table: ProbeTable, mask: object = None, label: str = "all names",
               draws: int = 400, seed: int = 0) -> SplitCell:
    """The encoder's best layer against spelling on the names in ``mask`` (default: all names), on
    ``table``'s held-out predictions, with 95 % paired bootstrap intervals over those names — the
    scoring of one cell of :func:`frequency_token_split`, for any set of names."""
    n = len(embeddings)
    mask = np.ones(n, dtype=bool) if mask is None else np.asarray(mask)
    if mask.shape != (n,) or mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array, one per name ({n}), got {mask.shape} {mask.dtype}")
    if mask.sum() < 20:
        raise ValueError(f"mask must select at least 20 names, got {int(mask.sum())}")
    draws = check_int(draws, "draws", min=10)
    return _score_cell(embeddings, table, str(label), np.flatnonzero(mask), draws,
                       np.random.default_rng(seed))


def _score_cell(embeddings, table: ProbeTable, label: str, idx: np.ndarray, draws: int,
                rng: np.random.Generator) -> SplitCell:
    """Encoder's best layer against spelling on the names ``idx`` (the table's held-out predictions)."""
    resamples = [idx[rng.integers(0, len(idx), len(idx))] for _ in range(draws)]
    enc, spell, diff, interval, boot = {}, {}, {}, {}, []
    for target in TARGETS:
        y = np.asarray(getattr(embeddings, target))
        pe = table.layers[table.best_layer[target]][target].predictions
        ps = table.spelling[target].predictions
        enc[target], spell[target] = r2_score(y[idx], pe[idx]), r2_score(y[idx], ps[idx])
        diff[target] = enc[target] - spell[target]
        d = np.array([r2_score(y[r], pe[r]) - r2_score(y[r], ps[r]) for r in resamples])
        interval[target] = tuple(float(v) for v in np.quantile(d, [0.025, 0.975]))
        boot.append(d)
    mean_boot = np.mean(boot, axis=0)
    return SplitCell(cell=label, names=len(idx), encoder=enc, spelling=spell, difference=diff,
                     interval=interval, mean_difference=float(np.mean(list(diff.values()))),
                     mean_interval=tuple(float(v) for v in np.quantile(mean_boot, [0.025, 0.975])))


def text_frequency(names: Sequence[str]) -> np.ndarray:
    """How often each name occurs in English **text**: the Zipf frequency of its lower-cased spelling,
    log10(occurrences per billion words), from wordfreq's ``large`` English list (Speer 2022; shipped
    as ``data/name_text_frequency.csv``, CC BY-SA 4.0, see the README there). 0 = under one in 100
    million words. Covers every name with ≥ 1,000 US births; ``KeyError`` for any other. The count is
    of the string in any use ("June", "Will" as words too), not only as a first name."""
    global _ZIPF
    if _ZIPF is None:
        import csv
        from importlib import resources

        with resources.files(__package__).joinpath("data/name_text_frequency.csv").open() as f:
            _ZIPF = {row["name"].lower(): float(row["zipf"]) for row in csv.DictReader(f)}
    if isinstance(names, str):
        raise TypeError("names must be a sequence of names, not one string")
    out = []
    for name in names:
        key = str(name).strip().lower()
        if key not in _ZIPF:
            raise KeyError(f"{name!r} has no text frequency: the table covers names with ≥ 1,000 births")
        out.append(_ZIPF[key])
    return np.asarray(out, dtype=np.float64)


_ZIPF: dict[str, float] | None = None

#: Zipf edges of :func:`text_frequency_split`'s bands: below 2.5 (under ~3 per million words),
#: 2.5–3.0, 3.0–3.5 and above — the middle two are where one-token and split names both occur.
TEXT_BANDS = (2.5, 3.0, 3.5)


def _band_labels(zipf: np.ndarray, edges: Sequence[float]) -> list[str]:
    edges = list(edges)
    labels = [f"Zipf < {edges[0]:g}"] + [f"Zipf {a:g}–{b:g}" for a, b in zip(edges, edges[1:])]
    return labels + [f"Zipf ≥ {edges[-1]:g}"]


def _check_split_inputs(embeddings, token_counts: object, zipf: object,
                        edges: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(embeddings)
    tokens = np.asarray(token_counts)
    if tokens.shape != (n,) or not np.issubdtype(tokens.dtype, np.integer) or (tokens < 1).any():
        raise ValueError(f"token_counts must be positive integers, one per name ({n}), got shape {tokens.shape}")
    zipf = np.asarray(zipf, dtype=np.float64)
    if zipf.shape != (n,) or not np.isfinite(zipf).all() or (zipf < 0).any():
        raise ValueError(f"zipf must be finite and ≥ 0, one per name ({n}), got shape {zipf.shape}")
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 1 or not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
        raise ValueError(f"edges must be increasing finite numbers, got {edges.tolist()}")
    return tokens, zipf, edges


def text_frequency_split(embeddings, table: ProbeTable, token_counts: object, zipf: object,
                         edges: Sequence[float] = TEXT_BANDS, draws: int = 400,
                         seed: int = 0) -> list[SplitCell]:
    """The same held-out comparison as :func:`frequency_token_split`, with the names split by how
    often they occur in **text** (:func:`text_frequency`, Zipf bands cut at ``edges``) × one token or
    several. Cells are labelled ``"Zipf 3–3.5, one token"``; a cell with fewer than 20 names is left
    out, which is itself the finding where text frequency decides the token count."""
    tokens, zipf, edges = _check_split_inputs(embeddings, token_counts, zipf, edges)
    draws = check_int(draws, "draws", min=10)
    band = np.searchsorted(edges, zipf, side="right")
    rng = np.random.default_rng(seed)
    cells = []
    for b, label in enumerate(_band_labels(zipf, edges)):
        for kind, mask in (("one token", tokens == 1), ("several tokens", tokens > 1)):
            idx = np.flatnonzero((band == b) & mask)
            if len(idx) >= 20:
                cells.append(_score_cell(embeddings, table, f"{label}, {kind}", idx, draws, rng))
    return cells


def matched_contrast(embeddings, table: ProbeTable, group: object, strata: object, draws: int = 400,
                     seed: int = 0, min_names: int = 20) -> dict[str, object]:
    """Does ``group`` (a boolean per name) change the encoder's lead over spelling **at matched**
    ``strata`` (an integer label per name, e.g. a text-frequency band)? In each stratum with at least
    ``min_names`` names on both sides, ``Δ = (R²_enc − R²_spell | group) − (… | not group)`` on the
    table's held-out predictions, averaged over targets; the strata are combined weighted by their
    size. Returns ``difference`` (target → Δ, and ``"mean"``), ``interval`` (95 % percentile
    bootstrap, names resampled within each stratum and side), ``strata`` (the labels used) and
    ``names`` (how many names they hold)."""
    n = len(embeddings)
    group = np.asarray(group)
    if group.shape != (n,) or group.dtype != bool:
        raise ValueError(f"group must be a boolean array, one per name ({n}), got {group.shape} {group.dtype}")
    strata = np.asarray(strata)
    if strata.shape != (n,) or not np.issubdtype(strata.dtype, np.integer):
        raise ValueError(f"strata must be integer labels, one per name ({n}), got {strata.shape} {strata.dtype}")
    draws = check_int(draws, "draws", min=10)
    min_names = check_int(min_names, "min_names", min=5)
    used = [s for s in np.unique(strata)
            if (group & (strata == s)).sum() >= min_names and (~group & (strata == s)).sum() >= min_names]
    if not used:
        raise ValueError(f"no stratum has {min_names} names on both sides of group: nothing is matched")
    sides = [(np.flatnonzero(group & (strata == s)), np.flatnonzero(~group & (strata == s))) for s in used]
    weights = np.array([len(a) + len(b) for a, b in sides], dtype=np.float64)
    weights /= weights.sum()
    preds = {t: (np.asarray(getattr(embeddings, t), dtype=np.float64),
                 table.layers[table.best_layer[t]][t].predictions, table.spelling[t].predictions) for t in TARGETS}

    def lead(idx: np.ndarray, target: str) -> float:
        y, pe, ps = preds[target]
        return r2_score(y[idx], pe[idx]) - r2_score(y[idx], ps[idx])

    def contrast(pick) -> dict[str, float]:
        out = {t: float(sum(w * (lead(pick(a), t) - lead(pick(b), t)) for w, (a, b) in zip(weights, sides)))
               for t in TARGETS}
        out["mean"] = float(np.mean([out[t] for t in TARGETS]))
        return out

    rng = np.random.default_rng(seed)
    point = contrast(lambda idx: idx)
    boot = [contrast(lambda idx: idx[rng.integers(0, len(idx), len(idx))]) for _ in range(draws)]
    interval = {k: tuple(float(v) for v in np.quantile([b[k] for b in boot], [0.025, 0.975])) for k in point}
    return {"difference": point, "interval": interval, "strata": [int(s) for s in used],
            "names": int(sum(len(a) + len(b) for a, b in sides))}


def length_control(embeddings, table: ProbeTable, token_counts: object, draws: int = 400,
                   seed: int = 0) -> dict[str, dict[str, object]]:
    """Is the token effect a name-length effect? One-token names are shorter, so two
    :func:`matched_contrast` runs: ``"token_at_length"``, one token against several at matched name
    length (letters; strata with 10 names on both sides); ``"length_at_tokens"``, names longer than
    the median of their token class (one token / several) against the rest, at matched token class.
    Also ``"mean_length"``: the mean length of one-token and of split names."""
    names = [str(n) for n in embeddings.names]
    tokens = np.asarray(token_counts)
    if tokens.shape != (len(names),) or not np.issubdtype(tokens.dtype, np.integer) or (tokens < 1).any():
        raise ValueError(f"token_counts must be positive integers, one per name ({len(names)}), "
                         f"got {tokens.shape} {tokens.dtype}")
    length = np.array([len(n) for n in names])
    one = tokens == 1
    split = (~one).astype(int)
    median = np.array([np.median(length[split == k]) if (split == k).any() else 0.0 for k in (0, 1)])
    return {"token_at_length": matched_contrast(embeddings, table, one, length, draws, seed, min_names=10),
            "length_at_tokens": matched_contrast(embeddings, table, length > median[split], split, draws, seed),
            "mean_length": {"one token": float(length[one].mean()), "several": float(length[~one].mean())}}


def format_split(cells: Sequence[SplitCell]) -> str:
    """The split as a printed table: n, R² encoder vs spelling per target, and the difference's interval."""
    width = max([24] + [len(c.cell) + 2 for c in cells])
    lines = [f"{'names':<{width}}{'n':>6}  {'sex: encoder / spelling':>24}  {'birth year: encoder / spelling':>31}"
             f"  {'mean difference [95% CI]':>26}"]
    for c in cells:
        f, y = "female_fraction", "mean_birth_year"
        lines.append(f"{c.cell:<{width}}{c.names:>6}  {c.encoder[f]:>11.2f} / {c.spelling[f]:<10.2f}"
                     f"  {c.encoder[y]:>15.2f} / {c.spelling[y]:<13.2f}"
                     f"  {c.mean_difference:>+8.2f} [{c.mean_interval[0]:+.2f}, {c.mean_interval[1]:+.2f}]")
    return "\n".join(lines)


def trained_within(embeddings, table: ProbeTable, mask: object, folds: int = 5, draws: int = 400,
                   seed: int = 0) -> dict[str, dict[str, object]]:
    """The fair control for a cell of :func:`frequency_token_split`: fit both probes (the encoder's best
    layer per target, and spelling) **only on the names in** ``mask``, held out by spelling-grouped
    folds, so the encoder probe is not fitted mostly on other kinds of names and then applied to these.
    Per target: ``encoder``, ``spelling`` (held-out R²), ``difference`` and its ``interval`` (paired
    percentile bootstrap over the names, ``draws`` resamples)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (len(embeddings),):
        raise ValueError(f"mask must be a boolean array, one per name ({len(embeddings)}), got {mask.shape}")
    idx = np.flatnonzero(mask)
    if len(idx) < 20:
        raise ValueError(f"mask must select at least 20 names, got {len(idx)}")
    ids = spelling_fold_ids(np.asarray(embeddings.names)[idx], check_int(folds, "folds", min=2), seed)
    spelling_X = ngram_features(embeddings.names)[0][idx]
    rng = np.random.default_rng(seed)
    resamples = rng.integers(0, len(idx), (check_int(draws, "draws", min=10), len(idx)))
    Y = np.stack([np.asarray(getattr(embeddings, t), dtype=np.float64)[idx] for t in TARGETS], axis=1)
    spelled = ridge_oof(spelling_X, Y, ids)                      # one decomposition for both targets
    out = {}
    for j, target in enumerate(TARGETS):
        y, ps = Y[:, j], spelled[:, j]
        pe = ridge_oof(embeddings.layers[idx, table.best_layer[target]], y, ids)
        d = np.array([r2_score(y[r], pe[r]) - r2_score(y[r], ps[r]) for r in resamples])
        e, s = r2_score(y, pe), r2_score(y, ps)
        out[target] = {"encoder": e, "spelling": s, "difference": e - s,
                       "interval": tuple(float(v) for v in np.quantile(d, [0.025, 0.975]))}
    return out
