"""Deleting a latent dimension from a colour autoencoder, and measuring how fast it comes back.

* :func:`delete_dimension` — a copy of a :class:`~course_lib.color.ColorAutoencoder` whose latent
  dimension ``dim`` is gone: the encoder's output row for it (weights and bias) and the decoder's
  input column for it are zero *and pruned* (``torch.nn.utils.prune``: the weight is
  ``weight_orig * mask``), so fine-tuning cannot grow them back. The model must re-route whatever
  lived in that dimension through the others.
* :func:`away_from_subspace` — the "anti-subspace" term: the energy that samples *other than* the
  chosen ones put into given latent dims, ``Σᵢ (1 − wᵢ) Σ_{j∈dims} z_ij² / Σᵢ (1 − wᵢ)``, so that a
  dimension is left to one concept.
* :func:`recovery_step` — the first checkpoint from which an error stays at or below a target: the
  number of fine-tuning steps a deleted colour needs to come back (``None`` if it never does).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from torch.nn.utils import prune

from ..color.metrics import transition_epoch
from ..color.model import ColorAutoencoder

__all__ = ["delete_dimension", "deleted_dimensions", "away_from_subspace", "recovery_step"]


def _check_dim(model: object, dim: object) -> int:
    if not isinstance(model, ColorAutoencoder):
        raise TypeError(f"model must be a ColorAutoencoder, got {type(model).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not 0 <= int(dim) < model.latent_dim:
        raise ValueError(f"dim must be in [0, {model.latent_dim}) for a {model.latent_dim}-D latent, got {dim}")
    return int(dim)


def _encoder_out(model: ColorAutoencoder) -> torch.nn.Linear:
    return model.encoder[2]


def _decoder_in(model: ColorAutoencoder) -> torch.nn.Linear:
    return model.decoder[0]


def deleted_dimensions(model: ColorAutoencoder) -> tuple[int, ...]:
    """The latent dims :func:`delete_dimension` has removed from ``model`` (sorted)."""
    if not isinstance(model, ColorAutoencoder):
        raise TypeError(f"model must be a ColorAutoencoder, got {type(model).__name__}")
    return tuple(sorted(getattr(model, "deleted_dims", ())))


def delete_dimension(model: ColorAutoencoder, dim: int) -> ColorAutoencoder:
    """A pruned copy of ``model`` without latent dimension ``dim`` (the original is untouched).

    The encoder's row ``dim`` (weight and bias) and the decoder's column ``dim`` are masked to 0;
    the masks stay in place, so gradient steps leave them at 0. Deleting several dims: call again
    on the result.
    """
    dim = _check_dim(model, dim)
    dims = sorted(set(getattr(model, "deleted_dims", ())) | {dim})
    # a fresh, unpruned copy holding the effective (masked) weights, then every mask at once
    out = ColorAutoencoder(latent_dim=model.latent_dim, hidden=model.hidden,
                           normalize=model.normalize, activation=model.activation)
    with torch.no_grad():
        for new, old in zip(out.modules(), model.modules()):
            if isinstance(new, torch.nn.Linear):
                new.weight.copy_(old.weight.detach())
                new.bias.copy_(old.bias.detach())
    enc, dec = _encoder_out(out), _decoder_in(out)
    for module, name, axis in ((enc, "weight", 0), (enc, "bias", 0), (dec, "weight", 1)):
        mask = torch.ones_like(getattr(module, name))
        for j in dims:
            mask.select(axis, j).zero_()
        prune.custom_from_mask(module, name, mask)
    out.train(model.training)
    out.deleted_dims = tuple(dims)
    return out


def away_from_subspace(z: torch.Tensor, dims: Sequence[int], weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Energy of the *unselected* samples in ``dims``: ``Σᵢ (1−wᵢ) Σ_{j∈dims} z_ij² / Σᵢ (1−wᵢ)``.

    ``weights`` (n,) in [0, 1] mark the samples that may use those dims (e.g. redness); without
    weights every sample is penalised. 0 when no unselected sample has energy there.
    """
    if not isinstance(z, torch.Tensor) or not z.dtype.is_floating_point:
        raise TypeError(f"z must be a floating-point torch tensor, got {type(z).__name__}")
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"z must have shape (n, d) with n ≥ 1, got {tuple(z.shape)}")
    idx = list(dims) if not isinstance(dims, (int, np.integer)) else None
    if idx is None or not idx or not all(isinstance(j, (int, np.integer)) and 0 <= j < z.shape[1] for j in idx):
        raise ValueError(f"dims must be a non-empty sequence of ints in [0, {z.shape[1]}), got {dims!r}")
    energy = (z[:, idx] ** 2).sum(dim=1)
    if weights is None:
        return energy.mean()
    if not isinstance(weights, torch.Tensor) or weights.shape != (z.shape[0],):
        raise ValueError(f"weights must be a tensor of shape ({z.shape[0]},)")
    if bool(((weights < 0) | (weights > 1)).any()):
        raise ValueError("weights must lie in [0, 1]")
    others = 1.0 - weights.to(z.dtype)
    total = others.sum()
    return (others * energy).sum() / torch.where(total > 0, total, torch.ones_like(total))


def recovery_step(steps: Sequence[int], error: Sequence[float], target: float) -> Optional[int]:
    """First step from which ``error`` stays ≤ ``target`` (None if it is above target at the end).

    "Stays": a dip below the target followed by a rise does not count — the same rule as
    :func:`course_lib.color.transition_epoch`, applied to ``−error ≥ −target``.
    """
    s = np.asarray(steps)
    e = np.asarray(error, dtype=float)
    if s.ndim != 1 or e.shape != s.shape or s.size == 0:
        raise ValueError(f"steps and error must be 1-D of the same non-zero length, got {s.shape} and {e.shape}")
    if not np.isfinite(e).all():
        raise ValueError("error contains NaN or inf")
    if isinstance(target, bool) or not isinstance(target, (int, float, np.floating)) or not np.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    return transition_epoch(s, -e, -float(target))
