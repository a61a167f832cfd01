"""Notebook 2.6, layer by layer: where red's direction goes, and a fair test of the anchor.

* :func:`red_layer_cosines` — the cosine of red's token with a direction (default the anchor ``e₀``)
  in the residual stream at the embedding and after each block, red paired with each partner colour.
* :func:`posthoc_direction` — a model's *own* red direction at a layer, found after training: the
  difference of the mean representations of red tokens (token redness ≥ ``red_above``) and red-free
  tokens (< ``free_below``), as a unit vector, with ``offset`` = the red-free tokens' mean projection.
* :func:`edit_predict` / :func:`edit_damage` — the edit ``h' = h − α·max(h·u − offset, 0)·u`` on every
  token at one layer, then the rest of the model. With ``u = e₀``, ``offset = 0``, ``α = 1`` at layer 0
  it is exactly :func:`~.mixing.suppressed_predict`.
* :func:`matched_edit` — the strength α at which an edit hurts red-containing pairs by a given amount
  (bisection on log α), and its selectivity there: damage to red pairs over damage to red-free pairs.
  Comparing selectivities *at matched damage to red* is the fair comparison: any direction becomes
  "selective" if it is barely used.
* :func:`layer_comparison` — one anchored and one control model: the anchored model muted along
  ``e₀``, the control along its own post-hoc red direction and along a random direction, at every
  layer, all matched to the damage the reference edit (``e₀`` at the embedding, α = 1) does to red.
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

from ..validation import check_fraction, check_int
from .mixing import (MixingRun, MixingTransformer, _pairs, _rgb, anchor_direction, mix, pair_redness,
                     probe_colours)
from .regularisers import redness

__all__ = ["red_layer_cosines", "posthoc_direction", "random_direction", "edit_predict", "edit_damage",
           "EditResult", "FREE_FLOOR", "matched_edit", "layer_comparison", "median_ci"]

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
    """One edit at one layer: strength ``alpha``, mean damage to red-containing pairs (``damage_red``)
    and mean |damage| to red-free pairs (``damage_free``), their ratio ``selectivity``, and whether the
    target damage to red was reached (``matched``; if not, the values are at the largest α tried)."""

    label: str
    layer: int
    alpha: float
    damage_red: float
    damage_free: float
    selectivity: float
    matched: bool


def _measure(model, pairs, red, free, layer, u, alpha, offset) -> tuple[float, float]:
    d = edit_damage(model, pairs, layer, u, alpha, offset)
    return float(d[red].mean()), float(d[free].abs().mean())


def matched_edit(model: MixingTransformer, pairs: torch.Tensor, layer: int, direction: torch.Tensor, *,
                 target: float, offset: float = 0.0, label: str = "", red_above: float = 0.5,
                 free_below: float = 0.05, alpha_max: float = 1000.0, iters: int = 40) -> EditResult:
    """The edit of :func:`edit_predict` at the α (bisection on log α in [1e-3, ``alpha_max``]) whose mean
    damage to red-containing pairs equals ``target`` (within 1 %)."""
    model, pairs = _model(model), _pairs(pairs)
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise ValueError(f"target must be a positive number, got {target!r}")
    r = pair_redness(pairs)
    red, free = r >= red_above, r < free_below
    if not bool(red.any()) or not bool(free.any()):
        raise ValueError("pairs must include both red-containing and red-free pairs")
    u = _unit(direction, model.d)
    dr_max, df_max = _measure(model, pairs, red, free, layer, u, alpha_max, offset)
    if dr_max < target:
        return EditResult(label, int(layer), float(alpha_max), dr_max, df_max, dr_max / max(df_max, FREE_FLOOR), False)
    lo, hi = math.log(1e-3), math.log(alpha_max)
    best = (alpha_max, dr_max, df_max)
    for _ in range(check_int(iters, "iters", min=1)):
        mid = (lo + hi) / 2
        dr, df = _measure(model, pairs, red, free, layer, u, math.exp(mid), offset)
        if dr >= target:
            hi, best = mid, (math.exp(mid), dr, df)
        else:
            lo = mid
        if abs(best[1] - target) <= 0.01 * target:
            break
    a, dr, df = best
    return EditResult(label, int(layer), float(a), dr, df, dr / max(df, FREE_FLOOR), abs(dr - target) <= 0.01 * target)


def layer_comparison(anchored: MixingRun, control: MixingRun, pairs: torch.Tensor, fit_pairs: torch.Tensor,
                     *, seed: int = 0) -> list[EditResult]:
    """Every layer ℓ: the anchored model muted along ``e₀`` (offset 0), the control muted along its own
    post-hoc red direction (fitted on ``fit_pairs``) and along a random direction (offset: the red-free
    tokens' mean projection, as for the post-hoc one), each at the α where the damage to red pairs
    equals that of the reference edit — ``e₀`` at the embedding, α = 1, in the anchored model."""
    for name, run in (("anchored", anchored), ("control", control)):
        if not isinstance(run, MixingRun):
            raise TypeError(f"{name} must be a MixingRun, got {type(run).__name__}")
    pairs, fit_pairs = _pairs(pairs), _pairs(fit_pairs)
    ma, mc = anchored.model(), control.model()
    e0 = anchor_direction(ma.d)
    r = pair_redness(pairs)
    red, free = r >= 0.5, r < 0.05
    ref_red, ref_free = _measure(ma, pairs, red, free, 0, e0, 1.0, 0.0)
    out = [EditResult("reference: anchored, e₀ at the embedding", 0, 1.0, ref_red, ref_free,
                      ref_red / max(ref_free, FREE_FLOOR), True)]
    for layer in range(len(ma.blocks) + 1):
        out.append(matched_edit(ma, pairs, layer, e0, target=ref_red, label="anchored, e₀"))
        u, off = posthoc_direction(mc, fit_pairs, layer)
        out.append(matched_edit(mc, pairs, layer, u, target=ref_red, offset=off, label="control, own red direction"))
        v = random_direction(mc.d, seed=seed * 100 + layer)
        with torch.no_grad():
            hv = mc.residuals(fit_pairs)[layer].reshape(-1, mc.d)
        tok = redness(fit_pairs.reshape(-1, 3))
        off_v = float((hv[tok < 0.05] @ v).mean())
        out.append(matched_edit(mc, pairs, layer, v, target=ref_red, offset=off_v, label="control, random direction"))
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
