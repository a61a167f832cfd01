"""Muting a concept at inference: edit the latent, decode, and measure who was hurt.

An anchored model keeps red along a known unit direction ``a`` (see :mod:`.anchoring`). Two edits
of a latent batch ``z`` of shape ``(n, d)``, both differentiable and loop-free:

* :func:`suppress` — the reference method: remove the positive part of the projection,
  ``z − max(z·a, 0) a``. Everything leaning towards red loses that lean, in proportion to how far
  it leans — so orange, which leans a little less than red, loses almost as much.
* :func:`gated_suppress` — a gate on alignment: ``z − s·g(cos)·(z·a) a`` with
  ``g(cos) = ((cos + 1)/2)^p``. For a large ``p`` the gate is ≈ 1 only for latents almost exactly
  along ``a`` and falls off fast; ``s = 2`` *reflects* what it touches through the hyperplane
  orthogonal to ``a`` instead of only flattening it, so red is hurt more than by :func:`suppress`.

And the measurements:

* :func:`damage` — per-sample change in reconstruction error, ``ΔMSE = MSE(decode(edit(encode x)), x)
  − MSE(decode(encode x), x)``;
* :func:`alignment` — ``max(cos(z, a), 0)``, how much a latent leans towards the anchor;
* :func:`named_colours` — the twelve named hues at full saturation and value, plus black, grey and
  white: the rows of the chapter's error-by-colour tables.

(The correlation of damage with alignment is :func:`course_lib.stats.pearson`.)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..color.spaces import HUE_NAMES, NAMED_HUES, hsv_to_rgb
from ..validation import check_float

__all__ = [
    "suppress",
    "gated_suppress",
    "alignment",
    "damage",
    "named_colours",
    "GREYS",
]

#: Greys added to the named hues in :func:`named_colours`: name → value (saturation 0).
GREYS: dict[str, float] = {"black": 0.0, "grey": 0.5, "white": 1.0}

_EPS = 1e-12


def _latents(z: object, name: str = "z") -> torch.Tensor:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape (n, d), got {type(z).__name__}")
    if not z.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n, d) with d ≥ 1, got {tuple(z.shape)}")
    if not bool(torch.isfinite(z.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return z


def _direction(anchor: object, d: int) -> torch.Tensor:
    if not isinstance(anchor, torch.Tensor):
        raise TypeError(f"anchor must be a torch tensor of shape ({d},), got {type(anchor).__name__}")
    if anchor.ndim != 1 or anchor.shape[0] != d:
        raise ValueError(f"anchor must have shape ({d},) to match z, got {tuple(anchor.shape)}")
    if not bool(torch.isfinite(anchor).all()):
        raise ValueError("anchor contains NaN or inf")
    norm = torch.linalg.vector_norm(anchor.double())
    if not norm > _EPS:
        raise ValueError("anchor must be a non-zero direction")
    return anchor / torch.linalg.vector_norm(anchor)


def suppress(z: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """The reference edit: ``z − max(z·â, 0) â`` for each row (â = anchor / ‖anchor‖).

    Rows pointing away from the anchor (``z·â ≤ 0``) are returned unchanged; rows leaning towards
    it lose exactly that lean and end up orthogonal to it.
    """
    z = _latents(z)
    a = _direction(anchor, z.shape[1]).to(z.dtype)
    lean = (z @ a).clamp_min(0.0)
    return z - lean[:, None] * a


def gated_suppress(z: torch.Tensor, anchor: torch.Tensor, sharpness: float = 5.0,
                   strength: float = 2.0) -> torch.Tensor:
    """A gated edit: ``z − strength · ((cos + 1)/2)^sharpness · (z·â) â`` for each row.

    ``cos`` is the row's cosine with the anchor. The gate is 1 at ``cos = 1``, ``2^−sharpness`` at
    a right angle and 0 opposite, so with a large ``sharpness`` only latents almost exactly along
    the anchor move. ``strength = 1`` flattens those onto the orthogonal hyperplane (like
    :func:`suppress`), ``2`` reflects them through it.
    """
    z = _latents(z)
    a = _direction(anchor, z.shape[1]).to(z.dtype)
    p = check_float(sharpness, "sharpness", min=0, inclusive="neither")
    s = check_float(strength, "strength", min=0, inclusive="neither")
    along = z @ a
    cos = (along / torch.linalg.vector_norm(z, dim=1).clamp_min(_EPS)).clamp(-1.0, 1.0)
    gate = ((cos + 1.0) / 2.0) ** p
    return z - (s * gate * along)[:, None] * a


def alignment(z: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """``max(cos(zᵢ, â), 0)`` for each row: how much each latent leans towards the anchor."""
    z = _latents(z)
    a = _direction(anchor, z.shape[1]).to(z.dtype)
    cos = (z @ a) / torch.linalg.vector_norm(z, dim=1).clamp_min(_EPS)
    return cos.clamp(0.0, 1.0)


def _rgb(rgb: object) -> torch.Tensor:
    if not isinstance(rgb, torch.Tensor):
        raise TypeError(f"rgb must be a torch tensor of shape (n, 3), got {type(rgb).__name__}")
    if rgb.ndim != 2 or rgb.shape[1] != 3:
        raise ValueError(f"rgb must have shape (n, 3), got {tuple(rgb.shape)}")
    if rgb.shape[0] == 0:
        raise ValueError("rgb is empty: need at least one colour")
    if not bool(torch.isfinite(rgb).all()):
        raise ValueError("rgb contains NaN or inf")
    return rgb.float()


def damage(encode: Callable[[torch.Tensor], torch.Tensor],
           decode: Callable[[torch.Tensor], torch.Tensor],
           rgb: torch.Tensor,
           edit: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Per-colour ΔMSE of an edit: ``MSE(decode(edit(z)), x) − MSE(decode(z), x)``, ``z = encode(x)``.

    ``rgb`` is ``(n, 3)``; the result is ``(n,)`` (mean over the three channels). Positive means the
    edit made that colour's reconstruction worse. Computed without gradients.
    """
    for name, f in (("encode", encode), ("decode", decode), ("edit", edit)):
        if not callable(f):
            raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    x = _rgb(rgb)
    with torch.no_grad():
        z = encode(x)
        edited = edit(z)
        if not isinstance(edited, torch.Tensor) or edited.shape != z.shape:
            got = tuple(edited.shape) if isinstance(edited, torch.Tensor) else type(edited).__name__
            raise ValueError(f"edit must return a tensor shaped like z {tuple(z.shape)}, got {got}")
        before = ((decode(z) - x) ** 2).mean(dim=1)
        after = ((decode(edited) - x) ** 2).mean(dim=1)
    return after - before


def named_colours() -> tuple[tuple[str, ...], torch.Tensor]:
    """The table rows: the 12 named hues (S = V = 1) then black, grey, white → (names, rgb (15, 3))."""
    hsv = [[NAMED_HUES[n], 1.0, 1.0] for n in HUE_NAMES] + [[0.0, 0.0, v] for v in GREYS.values()]
    rgb = torch.tensor(hsv_to_rgb(np.array(hsv)), dtype=torch.float32)
    return tuple(HUE_NAMES) + tuple(GREYS), rgb
