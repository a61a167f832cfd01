"""Notebook 2.6, layer by layer: where red's direction goes, and a fair test of the anchor.

* :func:`red_layer_cosines` — the cosine of red's token with a direction (default the anchor ``e₀``)
  in the residual stream at the embedding and after each block, red paired with each partner colour.
* :func:`posthoc_direction` — a model's *own* red direction at a layer, found after training: the
  difference of the mean representations of red tokens (token redness ≥ ``red_above``) and red-free
  tokens (< ``free_below``), as a unit vector, with ``offset`` = the red-free tokens' mean projection.
* :func:`calibrated_offset` — the offset of an edit along a direction, fitted on the red-free tokens'
  leans: their ``"mean"``, 99th percentile (``"q99"``) or ``"max"``. The anchored edit (``e₀``, offset
  0) leaves every red-free token that leans ≤ 0 untouched, and the anti-anchor term put nearly all of
  them there: it is effectively calibrated at the red-free tokens' maximum. A fair control gets the same
  calibration (:data:`OFFSETS`).
* :func:`edit_predict` / :func:`edit_damage` — the edit ``h' = h − α·max(h·u − offset, 0)·u`` on every
  token at one layer, then the rest of the model. With ``u = e₀``, ``offset = 0``, ``α = 1`` at layer 0
  it is exactly :func:`~.mixing.suppressed_predict`.
* :func:`matched_edit` — the strength α at which an edit hurts red-containing pairs by a given amount
  (bisection on log α), and its damage there to three groups of pairs: red (pair redness ρ ≥ 0.5),
  red-free (ρ < 0.05) and the rest (0.05 ≤ ρ < 0.5: a little red, e.g. orange or magenta mixtures —
  about three pairs in four). Selectivity = damage to red over |damage| to red-free pairs; collateral
  = damage to the middle group over damage to red. Comparing *at matched damage to red* is the fair
  comparison: any direction becomes "selective" if it is barely used. Where the red-free damage is
  near zero (≲ 1e-4, deeper layers) the ratio is dominated by its denominator: read the absolute
  damage instead.
* :func:`layer_comparison` — one anchored and one control model: the anchored model muted along
  ``e₀``, the control along its own post-hoc red direction and along a random direction (each with
  every calibrated offset asked for), at every layer, all matched to the damage the reference edit
  (``e₀`` at the embedding, α = 1) does to red.
* :func:`separation_auc` / :func:`red_separation` — does a direction still *tell red tokens apart*
  layer by layer? The AUC of the lean ``h·u`` separating red tokens (anchor label ρ = redness² ≥
  ``red_above``) from every other token, for ``u = e₀`` and for the best linear separator (logistic
  regression), and the cosines with ``e₀`` of that separator and of the mean-difference direction. A
  direction can keep its *meaning* (AUC ≈ 1) while red's token turns away from it (cosine falls), and
  when two classes separate perfectly the "best" separating direction is not unique: its cosine with
  ``e₀`` can be far from 1 even where ``e₀`` separates perfectly.
* :func:`lean_aucs` — the same AUC for many fixed directions at once (sign fixed at the embedding): the
  baseline for ``e₀``'s AUC. In the anchored model most *random* directions separate red at the
  embedding too (the anchor terms make the embedding nearly one red axis), and a post-hoc red direction
  of an unanchored model, held fixed, also keeps separating red through the blocks.
* :func:`median_ci` — median over seeds with a distribution-free interval from order statistics
  (with 4 seeds the only one is [min, max], which covers the median with probability 87.5 %; a
  bootstrap would claim more than 4 values can support).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from ..runtime import cpu_threads
from ..validation import check_fraction, check_int
from .mixing import (MixingRun, MixingTransformer, _pairs, _rgb, anchor_direction, mix, pair_redness,
                     probe_colours)
from .regularisers import redness

__all__ = ["red_layer_cosines", "posthoc_direction", "random_direction", "redfree_leans", "calibrated_offset",
           "OFFSETS", "edit_predict", "edit_damage", "EditResult", "FREE_FLOOR", "matched_edit", "layer_comparison",
           "median_ci", "separation_auc", "LayerSeparation", "red_separation",
           "lean_aucs"]

#: The offset calibrations :func:`calibrated_offset` knows, in increasing order of caution.
OFFSETS = ("mean", "q99", "max")

_RED = (1.0, 0.0, 0.0)

#: Smallest damage to red-free pairs a selectivity divides by.
FREE_FLOOR = 1e-8


def _model(model: object) -> MixingTransformer:
    if not isinstance(model, MixingTransformer):
        raise TypeError(f"model must be a MixingTransformer, got {type(model).__name__}")
    return model


def _unit(direction: object, d: int) -> torch.Tensor:
    if not isinstance(direction, torch.Tensor) or direction.shape != (d,):
        raise ValueError(f"direction must be a tensor of shape ({d},)")
    norm = torch.linalg.vector_norm(direction.float())
    if not bool(torch.isfinite(norm)) or float(norm) < 1e-12:
        raise ValueError("direction must be finite and non-zero")
    return direction.float() / norm


@cpu_threads()  # the mixer is tiny: a second thread only synchronises (5x slower)
def red_layer_cosines(model: MixingTransformer, partners: Optional[torch.Tensor] = None,
                      direction: Optional[torch.Tensor] = None) -> np.ndarray:
    """``(layers + 1, n_partners)``: cosine of pure red's token (first role) with ``direction``
    (default ``e₀``) at the embedding and after each block, red paired with each partner colour
    (default: the 24 :func:`~.mixing.probe_colours`)."""
    model = _model(model)
    partners = probe_colours() if partners is None else _rgb(partners, "partners")
    if partners.shape[0] == 0:
        raise ValueError("partners is empty")
    u = _unit(anchor_direction(model.d) if direction is None else direction, model.d)
    red = torch.tensor([_RED]).expand(len(partners), 3)
    with torch.no_grad():
        hs = model.residuals(torch.stack([red, partners.float()], dim=1))
    return np.stack([(h[:, 0] @ u / torch.linalg.vector_norm(h[:, 0], dim=1).clamp_min(1e-12)).numpy()
                     for h in hs])


def _check_layer(model: MixingTransformer, layer: object) -> int:
    return check_int(layer, "layer", min=0, max=len(model.blocks))


def posthoc_direction(model: MixingTransformer, pairs: torch.Tensor, layer: int, *, red_above: float = 0.5,
                      free_below: float = 0.05) -> tuple[torch.Tensor, float]:
    """A model's own red direction at ``layer`` (see module doc): ``(unit vector (d,), offset)``."""
    model, pairs = _model(model), _pairs(pairs)
    layer = _check_layer(model, layer)
    check_fraction(red_above, "red_above")
    check_fraction(free_below, "free_below")
    tok_red = redness(pairs.reshape(-1, 3))
    with torch.no_grad():
        h = model.residuals(pairs)[layer].reshape(-1, model.d)
    red, free = tok_red >= red_above, tok_red < free_below
    if not bool(red.any()) or not bool(free.any()):
        raise ValueError("pairs must include both red and red-free tokens")
    u = h[red].mean(0) - h[free].mean(0)
    u = u / torch.linalg.vector_norm(u).clamp_min(1e-12)
    return u, float((h[free] @ u).mean())


def random_direction(d: int, seed: int = 0) -> torch.Tensor:
    """A uniformly random unit vector in ``d`` dimensions (seeded)."""
    d = check_int(d, "d", min=1)
    v = torch.randn(d, generator=torch.Generator().manual_seed(int(seed)))
    return v / torch.linalg.vector_norm(v)


@cpu_threads()  # the mixer is tiny: a second thread only synchronises (5x slower)
def redfree_leans(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor, *,
                  free_below: float = 0.05) -> torch.Tensor:
    """The leans ``h·u`` at ``layer`` of every red-free token (token redness < ``free_below``) in
    ``pairs``, ``u`` = ``direction`` normalised. Token redness is :func:`~.regularisers.redness` at
    its default ``k = 1``, as in :func:`posthoc_direction` — stricter than the pair groups, which use
    :func:`~.mixing.pair_redness` (``k = 2``): a pair with ρ < 0.05 can hold a token outside the
    calibration set (a trace of red), and such pairs carry most of the red-free damage, e₀'s included."""
    model, pairs = _model(model), _pairs(pairs)
    layer = _check_layer(model, layer)
    check_fraction(free_below, "free_below")
    u = _unit(direction, model.d)
    free = redness(pairs.reshape(-1, 3)) < free_below
    if not bool(free.any()):
        raise ValueError("pairs must include red-free tokens")
    with torch.no_grad():
        h = model.residuals(pairs)[layer].reshape(-1, model.d)
    return h[free] @ u


def calibrated_offset(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor,
                      how: str = "max", *, free_below: float = 0.05) -> float:
    """The edit's offset along ``direction`` at ``layer``, fitted on the red-free tokens of ``pairs``
    (use pairs other than the ones you measure on): the ``"mean"``, 99th percentile (``"q99"``) or
    ``"max"`` of their leans. With ``"max"`` the edit leaves every red-free fit token untouched, as
    muting ``e₀`` with offset 0 does in the anchored model."""
    if how not in OFFSETS:
        raise ValueError(f"how must be one of {OFFSETS}, got {how!r}")
    lean = redfree_leans(model, pairs, layer, direction, free_below=free_below)
    if how == "mean":
        return float(lean.mean())
    if how == "q99":
        return float(torch.quantile(lean, 0.99))
    return float(lean.max())


def edit_predict(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor,
                 alpha: float = 1.0, offset: float = 0.0) -> torch.Tensor:
    """Predictions with every token's stream after ``layer`` blocks edited to
    ``h − α·max(h·u − offset, 0)·u`` (``u`` = ``direction`` normalised)."""
    model, pairs = _model(model), _pairs(pairs)
    layer = _check_layer(model, layer)
    u = _unit(direction, model.d)
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number ≥ 0, got {alpha!r}")
    with torch.no_grad():
        h = model.residuals(pairs)[layer]
        lean = (h @ u - float(offset)).clamp_min(0.0)
        return model.head_from(h - float(alpha) * lean[..., None] * u, layer)


def edit_damage(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor,
                alpha: float = 1.0, offset: float = 0.0) -> torch.Tensor:
    """Per pair ``(n,)``: squared error of the edited prediction minus that of the clean one."""
    pairs = _pairs(pairs)
    target = mix(pairs[:, 0], pairs[:, 1])
    with torch.no_grad():
        clean = ((model(pairs) - target) ** 2).mean(dim=1)
    return ((edit_predict(model, pairs, layer, direction, alpha, offset) - target) ** 2).mean(dim=1) - clean


@dataclass
class EditResult:
    """One edit at one layer: strength ``alpha`` and ``offset``, mean damage to red-containing pairs
    (``damage_red``), mean |damage| to red-free pairs (``damage_free``), their ratio ``selectivity``,
    mean damage to the pairs in between (``damage_mid``, 0.05 ≤ ρ < 0.5), and whether the target
    damage to red was reached (``matched``; if not, the values are at the largest α tried)."""

    label: str
    layer: int
    alpha: float
    damage_red: float
    damage_free: float
    selectivity: float
    matched: bool
    damage_mid: float = float("nan")
    offset: float = 0.0

    @property
    def collateral(self) -> float:
        """Damage to the middle group (a little red) per unit of damage to red pairs."""
        return self.damage_mid / self.damage_red if self.damage_red > 0 else float("nan")


class _Groups:
    """One model on one set of pairs: the clean residual streams and errors, computed once, and the
    three groups of pairs by redness (red, red-free, in between)."""

    def __init__(self, model: MixingTransformer, pairs: torch.Tensor, red_above: float, free_below: float):
        check_fraction(red_above, "red_above")
        check_fraction(free_below, "free_below")
        if not free_below < red_above:
            raise ValueError(f"need free_below < red_above, got {free_below}, {red_above}")
        self.model = model
        r = pair_redness(pairs)
        self.red, self.free = r >= red_above, r < free_below
        self.mid = ~(self.red | self.free)
        if not bool(self.red.any()) or not bool(self.free.any()):
            raise ValueError("pairs must include both red-containing and red-free pairs")
        self.target = mix(pairs[:, 0], pairs[:, 1])
        with torch.no_grad():
            self.hs = model.residuals(pairs)
            self.clean = ((model.head_from(self.hs[-1], len(model.blocks)) - self.target) ** 2).mean(dim=1)

    def measure(self, layer: int, u: torch.Tensor, alpha: float, offset: float) -> tuple[float, float, float]:
        with torch.no_grad():
            h = self.hs[layer]
            lean = (h @ u - float(offset)).clamp_min(0.0)
            out = self.model.head_from(h - float(alpha) * lean[..., None] * u, layer)
        d = ((out - self.target) ** 2).mean(dim=1) - self.clean
        mid = float(d[self.mid].mean()) if bool(self.mid.any()) else float("nan")
        return float(d[self.red].mean()), float(d[self.free].abs().mean()), mid


def matched_edit(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor, *,
                 target: float, offset: float = 0.0, label: str = "", red_above: float = 0.5,
                 free_below: float = 0.05, alpha_max: float = 1000.0, iters: int = 40) -> EditResult:
    """The edit of :func:`edit_predict` at the α (bisection on log α in [1e-3, ``alpha_max``]) whose mean
    damage to red-containing pairs equals ``target`` (within 1 %)."""
    model, pairs = _model(model), _pairs(pairs)
    return _matched(_Groups(model, pairs, red_above, free_below), layer, direction, target=target, offset=offset,
                    label=label, alpha_max=alpha_max, iters=iters)


def _matched(g: _Groups, layer: int, direction: torch.Tensor, *, target: float, offset: float, label: str,
             alpha_max: float = 1000.0, iters: int = 40) -> EditResult:
    model = g.model
    layer = _check_layer(model, layer)
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise ValueError(f"target must be a positive number, got {target!r}")
    if not (isinstance(offset, (int, float)) and math.isfinite(offset)):
        raise ValueError(f"offset must be a finite number, got {offset!r}")
    u = _unit(direction, model.d)
    top = g.measure(layer, u, alpha_max, offset)
    if top[0] < target:
        return EditResult(label, int(layer), float(alpha_max), top[0], top[1], top[0] / max(top[1], FREE_FLOOR), False,
                          top[2], float(offset))
    lo, hi = math.log(1e-3), math.log(alpha_max)
    best = (alpha_max, *top)
    for _ in range(check_int(iters, "iters", min=1)):
        mid = (lo + hi) / 2
        got = g.measure(layer, u, math.exp(mid), offset)
        if got[0] >= target:
            hi, best = mid, (math.exp(mid), *got)
        else:
            lo = mid
        if abs(best[1] - target) <= 0.01 * target:
            break
    a, dr, df, dm = best
    return EditResult(label, int(layer), float(a), dr, df, dr / max(df, FREE_FLOOR), abs(dr - target) <= 0.01 * target,
                      dm, float(offset))


@cpu_threads()  # the mixer is tiny: a second thread only synchronises (5x slower)
def layer_comparison(anchored: MixingRun, control: MixingRun, pairs: torch.Tensor, fit_pairs: torch.Tensor,
                     *, seed: int = 0, offsets: tuple = OFFSETS) -> list[EditResult]:
    """Every layer ℓ: the anchored model muted along ``e₀`` (offset 0), the control muted along its own
    post-hoc red direction (fitted on ``fit_pairs``) and along a random direction, each with every
    offset in ``offsets`` (:func:`calibrated_offset` on ``fit_pairs``), each at the α where the damage
    to red pairs equals that of the reference edit — ``e₀`` at the embedding, α = 1, in the anchored
    model. Labels: ``"anchored, e₀"``, ``"control, own red direction, offset max"``, ….
    The first row is the reference edit itself."""
    for name, run in (("anchored", anchored), ("control", control)):
        if not isinstance(run, MixingRun):
            raise TypeError(f"{name} must be a MixingRun, got {type(run).__name__}")
    offsets = tuple(offsets)
    if not offsets or any(o not in OFFSETS for o in offsets):
        raise ValueError(f"offsets must be a non-empty tuple drawn from {OFFSETS}, got {offsets!r}")
    pairs, fit_pairs = _pairs(pairs), _pairs(fit_pairs)
    ma, mc = anchored.model(), control.model()
    e0 = anchor_direction(ma.d)
    ga, gc = _Groups(ma, pairs, 0.5, 0.05), _Groups(mc, pairs, 0.5, 0.05)
    ref = ga.measure(0, e0, 1.0, 0.0)
    out = [EditResult("reference: anchored, e₀ at the embedding", 0, 1.0, ref[0], ref[1],
                      ref[0] / max(ref[1], FREE_FLOOR), True, ref[2], 0.0)]
    for layer in range(len(ma.blocks) + 1):
        out.append(_matched(ga, layer, e0, target=ref[0], offset=0.0, label="anchored, e₀"))
        u, _ = posthoc_direction(mc, fit_pairs, layer)
        v = random_direction(mc.d, seed=seed * 100 + layer)
        for name, w in (("own red direction", u), ("random direction", v)):
            for how in offsets:
                off = calibrated_offset(mc, fit_pairs, layer, w, how)
                out.append(_matched(gc, layer, w, target=ref[0], offset=off, label=f"control, {name}, offset {how}"))
    return out


def median_ci(values: Any, level: float = 0.95) -> tuple[float, float, float, float]:
    """``(median, low, high, coverage)``: the median of ``values`` and the narrowest order-statistic
    interval ``[x_(j), x_(n−j+1)]`` whose coverage of the true median, ``1 − 2·P(Bin(n, ½) < j)``, is at
    least ``level`` — or ``[min, max]`` with its (lower) coverage when no interval reaches it."""
    v = np.sort(np.asarray(values, dtype=float).ravel())
    if v.size == 0:
        raise ValueError("values is empty")
    if not np.all(np.isfinite(v)):
        raise ValueError("values contains NaN or inf")
    check_fraction(level, "level")
    n = v.size

    def coverage(j: int) -> float:
        return 1.0 - 2.0 * sum(math.comb(n, i) for i in range(j)) / 2.0 ** n

    j = 1
    while j + 1 <= (n + 1) // 2 and coverage(j + 1) >= level:
        j += 1
    return float(np.median(v)), float(v[j - 1]), float(v[n - j]), coverage(j)


def separation_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve of ``scores`` (n,) for the boolean ``labels`` (n,): the chance that a
    random positive scores above a random negative, ties counting ½ (the Mann–Whitney U / (n₊ n₋))."""
    x = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if x.shape != y.shape:
        raise ValueError(f"scores and labels must have the same length, got {x.size} and {y.size}")
    if y.dtype != bool:
        raise TypeError(f"labels must be boolean, got dtype {y.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("scores contains NaN or inf")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("labels must hold both classes")
    from ..stats import rank
    r = rank(x)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass
class LayerSeparation:
    """Red tokens against all others at one layer (see :func:`red_separation`): ``auc_anchor`` of the
    lean on ``e₀``; ``auc_best`` and ``cos_best`` of the logistic-regression separator (in-sample AUC,
    cosine with ``e₀``); ``cos_mean`` of the mean-difference direction (red mean − rest mean)."""

    layer: int
    auc_anchor: float
    auc_best: float
    cos_best: float
    cos_mean: float


def _red_streams(model: MixingTransformer, pairs: torch.Tensor, red_above: float,
                 k: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Token labels (redness(rgb, k) ≥ red_above) and the residual stream per layer, (tokens, d)."""
    check_fraction(red_above, "red_above", inclusive="neither")
    if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
        raise ValueError(f"k must be a positive number, got {k!r}")
    y = (redness(pairs.reshape(-1, 3), k=float(k)) >= red_above).numpy()
    if y.sum() < 2 or (~y).sum() < 2:
        raise ValueError("pairs must hold at least 2 red and 2 other tokens")
    with torch.no_grad():
        hs = [h.reshape(-1, model.d).numpy().astype(np.float64) for h in model.residuals(pairs)]
    return y, hs


@cpu_threads()  # the mixer is tiny: a second thread only synchronises (5x slower)
def lean_aucs(model: MixingTransformer, pairs: torch.Tensor, directions: torch.Tensor, *,
              red_above: float = 0.5, k: float = 2.0) -> np.ndarray:
    """``(n_directions, layers + 1)``: for each row of ``directions`` ``(n, d)``, the AUC of the lean
    ``h·u`` separating red tokens (as in :func:`red_separation`) from every other token of ``pairs``,
    at the embedding and after each block. Each direction's sign is fixed *once*, at the embedding
    (flipped where its AUC there is below ½) and then held through the layers — the baseline a fixed
    direction such as ``e₀`` is compared with."""
    model, pairs = _model(model), _pairs(pairs)
    if not isinstance(directions, torch.Tensor) or directions.ndim != 2 or directions.shape[0] == 0:
        raise ValueError(f"directions must be a non-empty (n, {model.d}) tensor")
    us = torch.stack([_unit(v, model.d) for v in directions]).numpy().astype(np.float64)
    y, hs = _red_streams(model, pairs, red_above, k)
    auc = np.array([[separation_auc(x @ u, y) for x in hs] for u in us])
    # −u's AUC is 1 − u's (ties count ½ either way)
    return np.where(auc[:, :1] < 0.5, 1.0 - auc, auc)


@cpu_threads()  # the mixer is tiny: a second thread only synchronises (5x slower)
def red_separation(model: MixingTransformer, pairs: torch.Tensor, *, red_above: float = 0.5, k: float = 2.0,
                   direction: Optional[torch.Tensor] = None, C: float = 1.0) -> list[LayerSeparation]:
    """Per layer (embedding, after each block): how well ``direction`` (default ``e₀``) separates red
    tokens — token label ``redness(rgb, k) ≥ red_above``; ``k = 2`` is the anchor's label ρ — from
    every other token of ``pairs``, and where the best linear separator points (logistic regression
    with inverse regularisation ``C`` on the raw stream; its cosine with ``direction``)."""
    from sklearn.linear_model import LogisticRegression
    model, pairs = _model(model), _pairs(pairs)
    if not (isinstance(C, (int, float)) and math.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive number, got {C!r}")
    u = _unit(anchor_direction(model.d) if direction is None else direction, model.d).numpy()
    y, hs = _red_streams(model, pairs, red_above, k)
    out = []
    for layer, x in enumerate(hs):
        fit = LogisticRegression(C=float(C), max_iter=5000).fit(x, y)
        w = fit.coef_[0] / max(np.linalg.norm(fit.coef_[0]), 1e-12)
        m = x[y].mean(0) - x[~y].mean(0)
        m = m / max(np.linalg.norm(m), 1e-12)
        out.append(LayerSeparation(layer, separation_auc(x @ u, y), separation_auc(x @ w, y), float(w @ u),
                                   float(m @ u)))
    return out
