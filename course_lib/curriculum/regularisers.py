"""Regularisers that shape a latent space, and the soft labels that choose whom they act on.

Each regulariser is a differentiable scalar loss term on a batch of latents ``z`` of shape
``(n, d)``; training adds it with a scheduled weight (see :mod:`.schedules`). Notation: ``zᵢ`` is
row i, ``ẑᵢ = zᵢ/‖zᵢ‖`` its direction, ``cos_i(a) = ẑᵢ·â`` its cosine with a direction ``a``.

* :func:`unitarity`   — (‖z‖ − 1)²: keep latents on the unit sphere without a hard normalisation;
* :func:`planarity`   — Σ_{j ≥ keep} z_j²: keep energy out of chosen dims (the wheel in dims 0–1);
* :func:`separation`  — ((cos_ij + 1)/2)^p: push different samples' directions apart;
* :func:`anchor_loss` — 1 − cos(z, a): pull chosen samples (red) towards a fixed direction;
* :func:`anti_anchor` — max(cos(z, a), 0): push the others out of that direction's half-space;
* :func:`redness`, :func:`vibrancy` — soft labels in [0, 1] that weight the anchor terms.

All functions accept float tensors on any device and raise a ValueError/TypeError naming the
argument for wrong shapes, NaN/inf or bad settings.
"""

from __future__ import annotations

from typing import Optional

import torch

from ..validation import check_float, check_int

__all__ = [
    "unitarity",
    "planarity",
    "separation",
    "anchor_loss",
    "anti_anchor",
    "redness",
    "vibrancy",
]

#: Norms below this count as zero when taking a direction (avoids 0/0 for a latent at the origin).
EPS = 1e-12


def _tensor(x: object, name: str, ndim: Optional[int] = None, last: Optional[int] = None,
            min_rows: int = 1) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        hint = " (wrap it with torch.as_tensor)" if hasattr(x, "__array__") or \
            isinstance(x, (list, tuple)) else ""
        raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}{hint}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    if last is not None and (x.ndim == 0 or x.shape[-1] != last):
        raise ValueError(f"{name} must have shape [..., {last}], got {tuple(x.shape)}")
    if x.ndim >= 1 and x.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} row(s), got shape {tuple(x.shape)}")
    if x.ndim >= 2 and x.shape[-1] == 0:
        raise ValueError(f"{name} has no latent dims: shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _power(k: object, name: str) -> float:
    return check_float(k, name, min=0, inclusive="neither")


def _directions(z: torch.Tensor) -> torch.Tensor:
    return z / torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min(EPS)


def _weighted_mean(terms: torch.Tensor, weights: Optional[torch.Tensor]) -> torch.Tensor:
    if weights is None:
        return terms.mean()
    total = weights.sum()
    # no sample selected → the term is 0 (and stays differentiable)
    return (weights * terms).sum() / torch.where(total > 0, total, torch.ones_like(total))


def _check_weights(weights: Optional[torch.Tensor], n: int) -> Optional[torch.Tensor]:
    if weights is None:
        return None
    weights = _tensor(weights, "weights", ndim=1)
    if weights.shape[0] != n:
        raise ValueError(f"weights must have shape ({n},) to match z, got {tuple(weights.shape)}")
    if bool((weights.detach() < 0).any()):
        raise ValueError("weights must be ≥ 0")
    return weights


def _check_anchor(anchor: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    anchor = _tensor(anchor, "anchor", ndim=1)
    if anchor.shape[0] != z.shape[1]:
        raise ValueError(f"anchor must have shape ({z.shape[1]},) to match z's latent dims, "
                         f"got {tuple(anchor.shape)}")
    norm = torch.linalg.vector_norm(anchor.detach())
    if not bool(norm > EPS):
        raise ValueError("anchor must be a non-zero direction")
    return (anchor / torch.linalg.vector_norm(anchor)).to(z.dtype)


def unitarity(z: torch.Tensor) -> torch.Tensor:
    """Mean squared distance from the unit sphere: ``(1/n) Σᵢ (‖zᵢ‖ − 1)²``.

    Gradient: ``∂/∂zᵢ = (2/n)(‖zᵢ‖ − 1) ẑᵢ`` — radial only, so it fixes lengths and leaves
    angles (the wheel's layout) free.
    """
    z = _tensor(z, "z", ndim=2)
    return ((torch.linalg.vector_norm(z, dim=1) - 1.0) ** 2).mean()


def planarity(z: torch.Tensor, keep: int = 2) -> torch.Tensor:
    """Energy outside the first ``keep`` dims: ``(1/n) Σᵢ Σ_{j ≥ keep} z_ij²``.

    0 exactly when every latent lies in the span of dims ``0 … keep−1`` (the wheel's plane for
    ``keep = 2``). Gradient ``2 z_ij / n`` on the penalised dims, 0 on the kept ones.
    """
    z = _tensor(z, "z", ndim=2)
    check_int(keep, "keep", min=0, max=z.shape[1])
    return (z[:, keep:] ** 2).sum(dim=1).mean()


def separation(z: torch.Tensor, power: float = 10) -> torch.Tensor:
    """Angular repulsion: ``(1/(n(n−1))) Σ_{i≠j} ((cos_ij + 1)/2)^power``, ``cos_ij = ẑᵢ·ẑⱼ``.

    Each pair contributes 1 when the two directions coincide, 2^−power at right angles and 0 when
    opposite; a large ``power`` makes the term care only about near neighbours, so it spreads
    samples round the circle without the 1/‖zᵢ − zⱼ‖² blow-up that fights unitarity. Depends on
    directions only (scale-free). Vectorised: one n×n Gram matrix (memory O(n²)).
    """
    z = _tensor(z, "z", ndim=2, min_rows=2)
    p = _power(power, "power")
    u = _directions(z)
    cos = (u @ u.T).clamp(-1.0, 1.0)
    n = z.shape[0]
    off = ~torch.eye(n, dtype=torch.bool, device=z.device)
    return (((cos[off] + 1.0) / 2.0) ** p).mean()


def anchor_loss(z: torch.Tensor, anchor: torch.Tensor,
                weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Pull towards a direction: ``Σᵢ wᵢ (1 − cos_i(a)) / Σᵢ wᵢ`` (plain mean if no weights).

    0 when every weighted latent points along ``anchor`` (any length), 2 when opposite. With soft
    labels as weights (e.g. :func:`redness`) only red-ish samples are pulled. If all weights are 0
    the loss is 0. ``anchor`` (d,) need not be unit length.
    """
    z = _tensor(z, "z", ndim=2)
    a = _check_anchor(anchor, z)
    w = _check_weights(weights, z.shape[0])
    return _weighted_mean(1.0 - _directions(z) @ a, w)


def anti_anchor(z: torch.Tensor, anchor: torch.Tensor,
                weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Push out of a direction's half-space: ``Σᵢ wᵢ max(cos_i(a), 0) / Σᵢ wᵢ``.

    0 for latents at or beyond a right angle from ``anchor``; only those leaning towards it are
    pushed (gradient 0 where cos < 0). Weight it with e.g. ``1 − redness`` so non-red samples
    leave red's direction to red.
    """
    z = _tensor(z, "z", ndim=2)
    a = _check_anchor(anchor, z)
    w = _check_weights(weights, z.shape[0])
    return _weighted_mean((_directions(z) @ a).clamp_min(0.0), w)


def _unit_interval(x: torch.Tensor, name: str) -> torch.Tensor:
    x = _tensor(x, name, last=3)
    if x.numel() and bool(((x.detach() < -1e-6) | (x.detach() > 1 + 1e-6)).any()):
        raise ValueError(f"{name} must lie in [0, 1]")
    return x.clamp(0.0, 1.0)


def redness(rgb: torch.Tensor, k: float = 1) -> torch.Tensor:
    """Soft red label ``(r·(1 − g/2 − b/2))^k`` for ``rgb [..., 3]`` in [0, 1] → shape ``[...]``.

    1 for pure red (1, 0, 0), 0 for anything without red or for white; at k = 1 orange
    (1, ½, 0) scores ¾ and magenta (1, 0, 1) ½. Larger ``k`` sharpens the label towards pure red.
    """
    rgb = _unit_interval(rgb, "rgb")
    kk = _power(k, "k")
    r, g, b = rgb.unbind(-1)
    return (r * (1.0 - g / 2.0 - b / 2.0)) ** kk


def vibrancy(hsv: torch.Tensor, k: float = 1) -> torch.Tensor:
    """Soft "vivid colour" label ``(S·V)^k`` for ``hsv [..., 3]`` in [0, 1] → shape ``[...]``.

    Get ``hsv`` from RGB with :func:`course_lib.color.rgb_to_hsv`. ``S·V`` equals the colour's
    chroma ``max(r,g,b) − min(r,g,b)``: 1 for pure hues, 0 for greys, black and white.
    """
    hsv = _unit_interval(hsv, "hsv")
    kk = _power(k, "k")
    return (hsv[..., 1] * hsv[..., 2]) ** kk
