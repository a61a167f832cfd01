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

from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch.nn.utils import prune

from ..color.metrics import transition_epoch
from ..color.model import ColorAutoencoder
from ..validation import check_float, check_int

__all__ = ["delete_dimension", "deleted_dimensions", "away_from_subspace", "recovery_step",
           "deletion_masks", "red_dimension_sweep", "finetune_after_deletion", "most_used_other_dim",
           "colour_mse", "bootstrap_median_ci", "deletion_settings", "deletion_probe"]


def _check_dim(model: object, dim: object) -> int:
    if not isinstance(model, ColorAutoencoder):
        raise TypeError(f"model must be a ColorAutoencoder, got {type(model).__name__}")
    return check_int(dim, f"dim (of a {model.latent_dim}-D latent)", min=0, max=model.latent_dim - 1)


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
    check_float(target, "target")
    return transition_epoch(s, -e, -float(target))


# --------------------------------------------------------------------------- the experiment of notebook 2.5
#: Red's own dimension (the anchor is the unit vector along it).
RED_DIM = 0
DELETION_LATENT_DIM = 5
DELETION_VERSION = "deletion-v1"

#: Per-profile sizes: training steps of the 5-D model, seeds, fine-tuning steps, snapshot spacing.
DELETION_SETTINGS: dict[str, dict[str, int]] = {
    "quick": {"steps": 2000, "seeds": 12, "finetune_steps": 600, "every": 10},
    "standard": {"steps": 3000, "seeds": 32, "finetune_steps": 1500, "every": 10},
    "full": {"steps": 6000, "seeds": 128, "finetune_steps": 3000, "every": 10},
}

#: Weights of the terms that give red its own dimension, and the fine-tuning learning rate.
DELETION_HYPER: dict[str, float] = {"anchor": 2.0, "anti_anchor": 1.0, "anti_subspace": 1.0,
                                    "separation": 0.2, "redness_k": 100.0, "finetune_lr": 3e-3,
                                    "recovered_within": 0.01}


def deletion_settings(profile: Optional[str] = None) -> dict[str, int]:
    """This profile's sizes (a copy of :data:`DELETION_SETTINGS`'s entry)."""
    from .. import runtime
    return dict(runtime.by_profile(DELETION_SETTINGS, profile))


def deletion_masks(latent_dim: int, hidden: int, dims: Sequence[int]) -> dict[str, torch.Tensor]:
    """0/1 masks that remove latent ``dims`` from a :class:`ColorAutoencoder`'s state_dict entries:
    the encoder's output rows (weight and bias) and the decoder's input columns."""
    enc_w, enc_b, dec_w = torch.ones(latent_dim, hidden), torch.ones(latent_dim), torch.ones(hidden, latent_dim)
    for j in dims:
        check_int(j, "dims", min=0, max=latent_dim - 1)
        enc_w[j] = 0.0
        enc_b[j] = 0.0
        dec_w[:, j] = 0.0
    return {"encoder.2.weight": enc_w, "encoder.2.bias": enc_b, "decoder.0.weight": dec_w}


def _red_dim_terms() -> dict:
    from .anchoring import _separation_term
    from .regularisers import redness

    k = DELETION_HYPER["redness_k"]

    def cosine(z: torch.Tensor) -> torch.Tensor:
        return z[..., RED_DIM] / torch.linalg.vector_norm(z, dim=-1).clamp_min(1e-12)

    def anchor(z, x, recon=None, info=None):
        w = redness(x, k).to(z.dtype)
        return ((1.0 - cosine(z)) * w).sum(-1) / w.sum().clamp_min(1e-12)

    def anti_anchor_term(z, x, recon=None, info=None):
        w = 1.0 - redness(x, k).to(z.dtype)
        return (cosine(z).clamp_min(0.0) * w).sum(-1) / w.sum().clamp_min(1e-12)

    def anti_subspace(z, x, recon=None, info=None):
        w = 1.0 - redness(x, k).to(z.dtype)
        return (z[..., RED_DIM] ** 2 * w).sum(-1) / w.sum().clamp_min(1e-12)

    for f in (anchor, anti_anchor_term, anti_subspace):
        f.batched = True  # type: ignore[attr-defined]
    return {"anchor": anchor, "anti_anchor": anti_anchor_term, "anti_subspace": anti_subspace,
            "separation": _separation_term}


def deletion_probe() -> torch.Tensor:
    """What the deletion runs record: the 15 named colours of :func:`.intervention.named_colours`
    (red first), then the 36 pure hues."""
    from ..color.data import hue_wheel
    from ..color.spaces import hsv_to_rgb
    from .intervention import named_colours
    _, rgb = named_colours()
    return torch.cat([rgb, torch.tensor(hsv_to_rgb(hue_wheel(36)), dtype=torch.float32)])


def red_dimension_sweep(profile: Optional[str] = None):
    """The 5-D model with red pressed into dim 0 (anchor + anti-anchor + anti-subspace + separation),
    every seed of the profile trained at once (cached); the smooth anchoring schedule."""
    from .anchoring import anchored_data, anchored_schedule
    from .schedules import Dopesheet, Keyframe
    from .train import cached_sweep

    cfg = deletion_settings(profile)
    base = anchored_schedule(cfg["steps"], "smooth")
    extra = Keyframe(0, {"anti_anchor": DELETION_HYPER["anti_anchor"],
                         "anti_subspace": DELETION_HYPER["anti_subspace"],
                         "anchor": DELETION_HYPER["anchor"], "separation": DELETION_HYPER["separation"]})
    frames = list(base.keyframes)
    frames[0] = Keyframe(0, {**frames[0].targets, **extra.targets})
    schedule = Dopesheet(frames)
    return cached_sweep(
        "red_dimension_sweep", {"version": DELETION_VERSION, "hyper": DELETION_HYPER}, list(range(cfg["seeds"])),
        data=anchored_data, steps=cfg["steps"], terms=_red_dim_terms(), schedule=schedule,
        latent_dim=DELETION_LATENT_DIM, hidden=16, normalize=True, activation="gelu", batch_size=None,
        probe=deletion_probe(), checkpoint_steps=11, progress=True)


def most_used_other_dim(sweep: Any) -> int:
    """The control: among the dims other than red's, the one holding the most energy (mean z_j²)
    over the full colour grid, summed over seeds — deleting it should hurt the model most."""
    from .anchoring import anchored_data
    x = anchored_data(0, {"spread": 1.0})
    energy = np.zeros(DELETION_LATENT_DIM)
    for s in sweep.seeds:
        m = sweep.model_at(int(sweep.checkpoint_steps[-1]), int(s))
        with torch.no_grad():
            energy += (m.encode(x) ** 2).mean(0).numpy()
    energy[RED_DIM] = -1.0
    return int(np.argmax(energy))


def finetune_after_deletion(sweep: Any, dims: Sequence[int], profile: Optional[str] = None):
    """Fine-tune every seed of ``sweep`` on all colours (reconstruction only, Adam at
    ``DELETION_HYPER["finetune_lr"]``, full batch) after deleting latent ``dims`` (pruned: they stay
    0). ``dims=()`` fine-tunes the undeleted models. Cached; snapshots every ``every`` steps."""
    from .anchoring import anchored_data
    from .train import cached_sweep

    cfg = deletion_settings(profile)
    dims = sorted(int(j) for j in dims)
    masks = deletion_masks(DELETION_LATENT_DIM, 16, dims) if dims else None
    steps = cfg["finetune_steps"]
    return cached_sweep(
        "finetune_after_deletion",
        {"version": DELETION_VERSION, "hyper": DELETION_HYPER, "deleted": dims, "parent_steps": cfg["steps"]},
        [int(s) for s in sweep.seeds],
        data=anchored_data(0, {"spread": 1.0}), steps=steps, lr=DELETION_HYPER["finetune_lr"],
        latent_dim=DELETION_LATENT_DIM, hidden=16, normalize=True, activation="gelu", batch_size=None,
        probe=deletion_probe(), checkpoint_steps=list(range(0, steps + 1, cfg["every"])), progress=True,
        init_states=sweep.states[-1], masks=masks)


def colour_mse(sweep: Any, index: int) -> np.ndarray:
    """MSE of probe colour ``index`` at every snapshot for every seed, shape (S, K)."""
    err = (sweep.probe_recon[:, :, index, :] - sweep.probe_rgb[index][None, None]) ** 2
    return err.mean(-1).T


def bootstrap_median_ci(values: Any, n_boot: int = 2000, confidence: float = 0.95,
                        seed: int = 0) -> tuple[float, float, float]:
    """Median of ``values`` (NaN or inf = never) and its percentile-bootstrap interval over
    resamples of the seeds: ``(median, low, high)`` (inf where more than half never got there)."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError("values is empty")
    v = np.where(np.isnan(v), np.inf, v)
    rng = np.random.default_rng(seed)
    boots = np.median(v[rng.integers(0, v.size, size=(int(n_boot), v.size))], axis=1)
    alpha = (1 - confidence) / 2
    lo = np.quantile(boots, alpha, method="lower")
    hi = np.quantile(boots, 1 - alpha, method="higher")
    return float(np.median(v)), float(lo), float(hi)
