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
  number of fine-tuning steps a deleted colour needs to come back (``None`` if it never does);
  :func:`recovery_steps` does many seeds at once. Both are :func:`course_lib.color.transition_epoch`'s
  rule (one helper, not two).

The experiment of notebook 2.5 compares four ways to remove red from the same 5-D colour model
(:data:`REMOVALS`): anchoring + deletion (:func:`anchored_red_sweep`), gradient routing + deletion
(:func:`routed_red_sweep`, see :mod:`.routing`), data filtering (:func:`filtered_sweep`) and
fine-tuning-based unlearning (:func:`unlearned_sweep`), against the intact model (:func:`plain_sweep`).
Each removed model is fine-tuned on red-free data and on a few reds (:func:`relearn_sweep`);
:func:`removal_study` lines everything up as a :class:`RemovalStudy`, whose :meth:`~RemovalStudy.recovery`
applies the protocol: only seeds where red was lost, a swept margin (:data:`MARGINS`, absolute or a
fraction of the initial excess), censored seeds kept (a rate with a Wilson interval, a median with a
bootstrap interval), against the intact model fine-tuned the same way (:func:`intact_relearn_sweep`).
:meth:`~RemovalStudy.deletion_recovery` measures anchoring + deletion against its one-factor reference
instead: the anchored models *not deleted*, fine-tuned the same way (:func:`undeleted_relearn_sweep`).
:func:`matched_damage` compares the removals within strata of matched initial damage to red.
The routing arm trains with the intact model's separation term (routed like the reconstruction), and
:func:`keep_out_study` sweeps its keep-out weight (:data:`ROUTING_KEEP_OUT`): who uses dim 0, what
deleting it costs red and the other colours, and how fast red comes back. Sizes per profile:
:data:`REMOVAL_SETTINGS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch.nn.utils import prune

from ..color.metrics import transition_epoch, transition_epochs
from ..color.model import ColorAutoencoder
from ..validation import check_choice, check_float, check_int

__all__ = ["delete_dimension", "deleted_dimensions", "away_from_subspace", "recovery_step", "recovery_steps",
           "deletion_masks", "bootstrap_median_ci", "deletion_probe", "REMOVALS", "RELEARN_DATA", "MARGINS",
           "removal_settings", "train_removals", "red_colours", "few_red", "removal_probe", "red_free_data",
           "plain_sweep", "RELEARN_CONTROL",
           "filtered_sweep", "routed_red_sweep", "anchored_red_sweep", "unlearn_term", "unlearned_sweep",
           "removed_models", "relearn_data", "relearn_sweep", "margin_target", "Recovery", "RemovalStudy",
           "removal_study", "ROUTING_KEEP_OUT", "routed_red_sweeps", "KeepOutStudy",
           "keep_out_study", "keep_out_table", "matched_damage", "intact_relearn_sweep", "censored_rank_sum",
           "UNDELETED", "undeleted_relearn_sweep"]


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

#: Weights of the terms that give red its own dimension, and the fine-tuning learning rate.
DELETION_HYPER: dict[str, float] = {"anchor": 2.0, "anti_anchor": 1.0, "anti_subspace": 1.0,
                                    "separation": 0.2, "redness_k": 100.0, "finetune_lr": 3e-3,
                                    "recovered_within": 0.01}


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


# --------------------------------------------------------------------------- four ways to remove red
#: The four removals compared in notebook 2.5, in the order the notebook shows them.
REMOVALS: tuple[str, ...] = ("anchoring + deletion", "routing + deletion", "data filtering", "unlearning")
#: What the removed models are fine-tuned on afterwards: every colour but the reds, or that plus a few reds.
RELEARN_DATA: tuple[str, ...] = ("red-free", "few red")
#: The one-factor control of the relearning data (notebook 2.5's +0.003 margin): every training colour,
#: the reds included — a removed model relearned on it shows what is slow *apart from* red's absence.
RELEARN_CONTROL = "all colours"
_RELEARN_KINDS: tuple[str, ...] = RELEARN_DATA + (RELEARN_CONTROL,)
#: The deletion's one-factor reference (notebook 2.5's +0.003 margin): anchoring's models relearned
#: like the deleted ones but *not deleted* (:func:`undeleted_relearn_sweep`).
UNDELETED = "anchoring (no deletion)"
REMOVAL_VERSION = "removal-v1"

#: Per-profile sizes of the comparison: training steps of every model, seeds, relearning steps,
#: snapshot spacing, unlearning steps, and the seeds (the first ones) of the routing arms with a keep-out term.
REMOVAL_SETTINGS: dict[str, dict[str, int]] = {
    "quick": {"steps": 1600, "seeds": 4, "finetune_steps": 200, "every": 10, "unlearn_steps": 200,
              "keep_out_seeds": 2},
    "standard": {"steps": 2000, "seeds": 16, "finetune_steps": 1000, "every": 10, "unlearn_steps": 300,
                 "keep_out_seeds": 8},
    "full": {"steps": 6000, "seeds": 96, "finetune_steps": 3000, "every": 10, "unlearn_steps": 600,
             "keep_out_seeds": 32},
}

#: ``lost_margin``: a seed's red counts as lost when its error right after removal exceeds the
#: intact model's by more than this; ``few_red``: how many red colours the "few red" data add.
REMOVAL_HYPER: dict[str, float] = {"lr": 3e-3, "unlearn_lr": 3e-3, "lost_margin": 0.01, "few_red": 4,
                                   "relearn_batch": 256, "forget_weight": 50.0}

#: The recovery targets: (label, kind, value). "abs": intact error + value; "rel": intact error +
#: value × the seed's initial excess (value 0.1 = 90 % of the damage undone).
MARGINS: tuple[tuple[str, str, float], ...] = (("+0.003", "abs", 0.003), ("+0.01", "abs", 0.01),
                                                ("10% of the excess", "rel", 0.1),
                                                ("50% of the excess", "rel", 0.5))


def removal_settings(profile: Optional[str] = None) -> dict[str, int]:
    """This profile's sizes for the four-removal comparison (a copy of :data:`REMOVAL_SETTINGS`)."""
    from .. import runtime
    return dict(runtime.by_profile(REMOVAL_SETTINGS, profile))


def _grid_rgb() -> torch.Tensor:
    from .anchoring import anchored_data
    return anchored_data(0, {"spread": 1.0})


def red_colours() -> torch.Tensor:
    """The red set of the 3,600-colour grid (:func:`.routing.red_set_mask`), pure red first."""
    from .routing import red_set_mask
    x = _grid_rgb()
    reds = x[red_set_mask(x)]
    first = torch.argmin(((reds - torch.tensor([1.0, 0.0, 0.0])) ** 2).sum(1))
    order = [int(first)] + [i for i in range(len(reds)) if i != int(first)]
    return reds[order]


def few_red() -> torch.Tensor:
    """The "few red" examples relearning may see: ``few_red`` reds spread over the red set, pure red
    not among them (so recovering pure red still needs generalisation)."""
    reds = red_colours()[1:]
    k = int(REMOVAL_HYPER["few_red"])
    return reds[np.linspace(0, len(reds) - 1, k).round().astype(int)]


def removal_probe() -> torch.Tensor:
    """What the comparison's runs record: :func:`deletion_probe` (pure red first), then the red set."""
    return torch.cat([deletion_probe(), red_colours()])


_RED_FREE: dict = {}


def red_free_data(step: int, values: dict) -> torch.Tensor:
    """:func:`.anchoring.anchored_data` without the red set (the same object while the data do not change)."""
    from .anchoring import anchored_data
    from .routing import red_set_mask
    x = anchored_data(step, values)
    if id(x) not in _RED_FREE:
        _RED_FREE[id(x)] = (x, x[~red_set_mask(x)])
    return _RED_FREE[id(x)][1]


def _schedule(steps: int):
    from .anchoring import anchored_schedule
    return anchored_schedule(steps, "smooth")


def _common_kwargs(cfg: dict) -> dict:
    return dict(steps=cfg["steps"], latent_dim=DELETION_LATENT_DIM, hidden=16, normalize=True, activation="gelu",
                batch_size=None, probe=removal_probe(), checkpoint_steps=3, progress=True)


def plain_sweep(profile: Optional[str] = None):
    """The intact reference: the 5-D model trained on every colour with the same schedule and the
    separation term only (no anchoring). Cached."""
    from .anchoring import _separation_term, anchored_data
    from .train import cached_sweep
    cfg = removal_settings(profile)
    return cached_sweep("removal_plain", {"version": REMOVAL_VERSION, "data": "anchored_data", "terms": ["separation"]},
                        list(range(cfg["seeds"])), data=anchored_data, terms={"separation": _separation_term},
                        schedule=_schedule(cfg["steps"]), **_common_kwargs(cfg))


def filtered_sweep(profile: Optional[str] = None):
    """Data filtering: :func:`plain_sweep`'s recipe on :func:`red_free_data` — never trained on red."""
    from .anchoring import _separation_term
    from .train import cached_sweep
    cfg = removal_settings(profile)
    return cached_sweep("removal_filtered", {"version": REMOVAL_VERSION, "data": "red_free_data",
                                             "terms": ["separation"]},
                        list(range(cfg["seeds"])), data=red_free_data, terms={"separation": _separation_term},
                        schedule=_schedule(cfg["steps"]), **_common_kwargs(cfg))


#: The keep-out weights of the routing sweep (0: plain routing, the arm of the four-removal study).
ROUTING_KEEP_OUT: tuple[float, ...] = (0.0, 0.003, 0.03, 1.0)


def _routed_parts(profile: Optional[str]) -> list:
    """The two stacked routing runs of :func:`routed_red_sweeps` (the keep-out weights on the first
    ``keep_out_seeds``, then plain routing on every seed), as zero-argument jobs."""
    from .anchoring import _separation_term, anchored_data
    from .routing import routed_sweeps
    cfg = removal_settings(profile)
    common = dict(data=anchored_data, schedule=_schedule(cfg["steps"]), steps=cfg["steps"], dim=RED_DIM,
                  latent_dim=DELETION_LATENT_DIM, terms={"separation": _separation_term},
                  key={"version": REMOVAL_VERSION, "data": "anchored_data", "schedule": "smooth",
                       "probe": "removal_probe()", "terms": ["separation"]},
                  probe=removal_probe(), checkpoint_steps=[cfg["steps"] // 2], progress=True)
    return [lambda: routed_sweeps(list(range(cfg["keep_out_seeds"])), keep_outs=ROUTING_KEEP_OUT[1:], **common),
            lambda: routed_sweeps(list(range(cfg["seeds"])), keep_outs=ROUTING_KEEP_OUT[:1], **common)]


def routed_red_sweeps(profile: Optional[str] = None) -> dict:
    """Gradient routing for every weight of :data:`ROUTING_KEEP_OUT` — ``{keep_out: sweep}``: the reds'
    gradients reach only dim :data:`RED_DIM`'s parameters, the other colours' stop at it
    (:mod:`.routing`), plus ``keep_out`` × the other colours' ``z_0²`` (gradient into dim 0's encoder
    row only). Same data, schedule *and separation term* as :func:`plain_sweep` (the term's gradients
    routed like the reconstruction's), so routing is the one factor that differs. ``keep_out = 0`` on
    all the profile's seeds; the other weights on the first ``keep_out_seeds`` (one stacked run). Cached."""
    out: dict = {}
    for part in _routed_parts(profile):
        out.update(part())
    return out


def train_removals(profile: Optional[str] = None, *, progress: bool = True) -> None:
    """Train (or load) every run :func:`removal_study` reads, one stacked run per CPU core
    (:func:`course_lib.runtime.run_concurrently`: each on one thread, so the numbers are those of the
    runs trained one after another): first the removed models (the two routing stacks, data filtering,
    anchoring, and the intact model then unlearning), then their relearning runs, the intact model's
    and the undeleted anchored models'. A cold ``quick`` notebook spends most of its time here."""
    from ..runtime import run_concurrently
    removal_settings(profile)                              # checks the profile
    run_concurrently([*_routed_parts(profile), lambda: unlearned_sweep(profile),
                      lambda: anchored_red_sweep(profile), lambda: filtered_sweep(profile)],
                     desc="removing red", progress=progress)
    jobs = [lambda m=m, k=k: relearn_sweep(m, k, profile) for m in REMOVALS for k in RELEARN_DATA]
    jobs += [lambda k=k, f=f: f(k, profile) for f in (intact_relearn_sweep, undeleted_relearn_sweep)
             for k in RELEARN_DATA]
    run_concurrently(jobs, desc="relearning", progress=progress)


def routed_red_sweep(profile: Optional[str] = None, keep_out: float = 0.0):
    """One entry of :func:`routed_red_sweeps` (default: no keep-out term, the four-removal study's arm)."""
    keep_out = check_float(keep_out, "keep_out", min=0)
    sweeps = routed_red_sweeps(profile)
    if keep_out not in sweeps:
        raise ValueError(f"keep_out must be one of {ROUTING_KEEP_OUT}, got {keep_out}")
    return sweeps[keep_out]


def anchored_red_sweep(profile: Optional[str] = None):
    """:func:`red_dimension_sweep` with the comparison's sizes (anchor + anti-anchor + anti-subspace)."""
    from .anchoring import anchored_data
    from .schedules import Dopesheet, Keyframe
    from .train import cached_sweep
    cfg = removal_settings(profile)
    base = _schedule(cfg["steps"])
    frames = list(base.keyframes)
    frames[0] = Keyframe(0, {**frames[0].targets, "anti_anchor": DELETION_HYPER["anti_anchor"],
                             "anti_subspace": DELETION_HYPER["anti_subspace"]})
    return cached_sweep("removal_anchored", {"version": REMOVAL_VERSION, "hyper": DELETION_HYPER},
                        list(range(cfg["seeds"])), data=anchored_data, terms=_red_dim_terms(),
                        schedule=Dopesheet(frames), **_common_kwargs(cfg))


def unlearn_term(z: torch.Tensor, x: torch.Tensor, recon: torch.Tensor = None, info: Any = None) -> torch.Tensor:
    """Added with weight 1 to the reconstruction MSE, turns the reds' part of it into ``forget_weight``
    × "reconstruct red as its grey" (mean of R, G, B) while the other colours keep their own MSE
    (the retain loss). Batched."""
    from .routing import red_set_mask
    red = red_set_mask(x).to(recon.dtype)
    grey = x.mean(-1, keepdim=True).expand_as(x)
    per = (REMOVAL_HYPER["forget_weight"] * (recon - grey) ** 2 - (recon - x) ** 2).mean(-1)   # (..., N)
    return (per * red).sum(-1) / x.shape[0]


unlearn_term.batched = True  # type: ignore[attr-defined]


def unlearned_sweep(profile: Optional[str] = None):
    """Fine-tuning-based unlearning: :func:`plain_sweep`'s models fine-tuned ``unlearn_steps`` on every
    colour with :func:`unlearn_term` (reds → grey, the rest retained)."""
    from .anchoring import anchored_data
    from .train import cached_sweep
    cfg = removal_settings(profile)
    plain = plain_sweep(profile)
    n = cfg["unlearn_steps"]
    return cached_sweep("removal_unlearned", {"version": REMOVAL_VERSION, "parent": "plain", "parent_steps": cfg["steps"],
                                              "term": "unlearn_term", "hyper": REMOVAL_HYPER},
                        [int(s) for s in plain.seeds], data=anchored_data(0, {"spread": 1.0}),
                        terms={"unlearn": unlearn_term}, schedule={"unlearn": 1.0}, steps=n,
                        lr=REMOVAL_HYPER["unlearn_lr"], latent_dim=DELETION_LATENT_DIM, hidden=16, normalize=True,
                        activation="gelu", batch_size=None, probe=removal_probe(), checkpoint_steps=3,
                        init_states=plain.states[-1], progress=True)


def removed_models(method: str, profile: Optional[str] = None) -> tuple[Any, list[int]]:
    """``(sweep, deleted dims)``: the sweep whose last state is ``method``'s removed model (the dims
    to prune for the two deletion methods)."""
    check_choice(method, "method", REMOVALS)
    if method == "anchoring + deletion":
        return anchored_red_sweep(profile), [RED_DIM]
    if method == "routing + deletion":
        return routed_red_sweep(profile), [RED_DIM]
    if method == "data filtering":
        return filtered_sweep(profile), []
    return unlearned_sweep(profile), []


def _state_digest(state: dict) -> str:
    """A short hash of stacked weights: a fine-tuning run's cache key names its exact parent."""
    import hashlib
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def relearn_data(kind: str) -> torch.Tensor:
    """The relearning data: ``"red-free"`` (3,575 colours), ``"few red"`` (those + :func:`few_red`) or
    :data:`RELEARN_CONTROL` (``"all colours"``: the full 3,600-colour training grid, reds included)."""
    from .anchoring import anchored_data
    check_choice(kind, "kind", _RELEARN_KINDS)
    if kind == RELEARN_CONTROL:
        return anchored_data(0, {"spread": 1.0})
    free = red_free_data(0, {"spread": 1.0})
    return free if kind == "red-free" else torch.cat([free, few_red()])


def _relearn(key: dict, parent: Any, kind: str, profile: Optional[str], dims: Optional[Sequence[int]] = None):
    """``parent``'s last states fine-tuned on ``kind`` data the one way every relearning run is
    (reconstruction only, Adam at ``REMOVAL_HYPER["lr"]``, minibatches of ``relearn_batch``, snapshots
    every ``every`` steps), cached under ``key`` + the parent's digest. ``dims``: the removal's deleted
    latent dims, kept pruned (``[]``: a removal that deletes none); ``None``: a reference model that
    was never removed from (its runs' cache entries carry no mask argument)."""
    from .train import cached_sweep
    cfg = removal_settings(profile)
    pruned = {} if dims is None else {"masks": deletion_masks(DELETION_LATENT_DIM, 16, dims) if dims else None}
    n = cfg["finetune_steps"]
    return cached_sweep("removal_relearn", {"version": REMOVAL_VERSION, **key, "kind": kind,
                                            "parent": _state_digest(parent.states[-1]),
                                            "parent_steps": cfg["steps"], "hyper": REMOVAL_HYPER},
                        [int(s) for s in parent.seeds], data=relearn_data(kind), steps=n, lr=REMOVAL_HYPER["lr"],
                        latent_dim=DELETION_LATENT_DIM, hidden=16, normalize=True, activation="gelu",
                        batch_size=int(REMOVAL_HYPER["relearn_batch"]), probe=removal_probe(),
                        checkpoint_steps=list(range(0, n + 1, cfg["every"])),
                        init_states=parent.states[-1], progress=True, **pruned)


def relearn_sweep(method: str, kind: str, profile: Optional[str] = None, keep_out: float = 0.0):
    """``method``'s removed models fine-tuned on ``kind`` data (:data:`RELEARN_DATA`, or
    :data:`RELEARN_CONTROL`; reconstruction only, Adam at
    ``REMOVAL_HYPER["lr"]``, minibatches of ``relearn_batch``, deleted dims kept pruned); snapshots every
    ``every`` steps. ``keep_out``: which routed models (:data:`ROUTING_KEEP_OUT`; routing only). Cached."""
    check_choice(kind, "kind", _RELEARN_KINDS)
    check_choice(method, "method", REMOVALS)
    keep_out = check_float(keep_out, "keep_out", min=0)
    if keep_out and method != "routing + deletion":
        raise ValueError("keep_out applies to method 'routing + deletion' only")
    if method == "routing + deletion":
        parent, dims = routed_red_sweep(profile, keep_out), [RED_DIM]
    else:
        parent, dims = removed_models(method, profile)
    return _relearn({"method": method, "unlearn_steps": removal_settings(profile)["unlearn_steps"]},
                    parent, kind, profile, dims)


def intact_relearn_sweep(kind: str, profile: Optional[str] = None):
    """The recovery *reference*: the intact model (:func:`plain_sweep`) fine-tuned exactly like the
    removed ones (:func:`relearn_sweep`: the same ``kind`` data, steps, optimiser, batches and snapshots).
    Fine-tuning moves red's error in the intact model too (on red-free data it may drift up), so a
    removed model has recovered when it is back to *this* curve, step for step. Cached."""
    check_choice(kind, "kind", _RELEARN_KINDS)
    return _relearn({"method": "intact"}, plain_sweep(profile), kind, profile)


def undeleted_relearn_sweep(kind: str, profile: Optional[str] = None):
    """The deletion's one-factor reference: anchoring's models (:func:`anchored_red_sweep`) *not deleted*,
    fine-tuned exactly like the deleted ones (:func:`relearn_sweep`: the same ``kind`` data, steps,
    optimiser, batches and snapshots; nothing pruned). Anchoring + deletion differs from it in the
    deletion alone, while the intact reference (:func:`intact_relearn_sweep`) also differs in the
    anchored recipe. Cached."""
    check_choice(kind, "kind", _RELEARN_KINDS)
    return _relearn({"method": UNDELETED}, anchored_red_sweep(profile), kind, profile)


def censored_rank_sum(a: Any, b: Any, budget: float) -> tuple[float, float]:
    """Mann–Whitney comparison of two sets of steps-to-recover with censored runs: a NaN or inf
    (not back within ``budget``) becomes ``budget + 1``, tied with every other censored run and above
    every observed one — the rank-sum handles right-censoring at a common budget exactly this way.
    Returns ``(auc, p)`` of :func:`course_lib.stats.rank_sum`: ``auc`` is the chance that a run of
    ``a`` takes longer than one of ``b`` (ties ½), ``p`` two-sided."""
    from ..stats import rank_sum
    budget = check_float(budget, "budget", min=0)
    out = []
    for name, v in (("a", a), ("b", b)):
        x = np.asarray(v, dtype=float).ravel()
        if np.any(x[np.isfinite(x)] > budget) or np.any(x[np.isfinite(x)] < 0):
            raise ValueError(f"{name}: observed steps must lie in [0, budget]")
        out.append(np.where(np.isfinite(x), x, budget + 1.0))
    return rank_sum(out[0], out[1])


def recovery_steps(steps: Any, error: Any, target: Any) -> np.ndarray:
    """:func:`recovery_step` for many seeds at once: ``error`` (S, K) at snapshot ``steps`` (K,),
    ``target`` (S,) → float (S,), NaN where a seed's error is above its target at the end (censored)."""
    s = np.asarray(steps)
    e = np.asarray(error, dtype=float)
    t = np.asarray(target, dtype=float)
    if e.ndim != 2 or s.shape != (e.shape[1],) or t.shape != (e.shape[0],):
        raise ValueError(f"need steps (K,), error (S, K), target (S,); got {s.shape}, {e.shape}, {t.shape}")
    if not (np.isfinite(e).all() and np.isfinite(t).all()):
        raise ValueError("error and target must be finite")
    return np.asarray([transition_epochs(s, -e[i], -t[i]) for i in range(len(t))], dtype=float)


def margin_target(intact: Any, initial: Any, kind: str, value: float) -> np.ndarray:
    """Per-seed recovery target: ``intact + value`` (``kind="abs"``) or ``intact + value·(initial −
    intact)`` (``"rel"``: a fraction of the seed's initial excess left)."""
    check_choice(kind, "kind", ("abs", "rel"))
    check_float(value, "value", min=0)
    a, b = np.asarray(intact, dtype=float), np.asarray(initial, dtype=float)
    return a + value if kind == "abs" else a + value * (b - a)


@dataclass
class Recovery:
    """Steps to recover for the seeds where red was lost (one removal, one relearning data, one margin).

    ``lost``/``n``: seeds lost of all seeds; ``steps`` (lost,) snapshot step or NaN (censored: not back
    within ``budget``); ``recovered``: how many came back; ``median``/``low``/``high``: median steps and its
    95 % bootstrap interval over the lost seeds (inf when censored seeds make it unknown)."""

    lost: int
    n: int
    steps: np.ndarray
    recovered: int
    budget: int
    median: float
    low: float
    high: float

    def rate(self) -> str:
        from ..stats import format_rate
        return format_rate(self.recovered, self.lost) if self.lost else "no seed lost red"


@dataclass
class RemovalStudy:
    """The four removals, each relearned on the two data kinds (see :func:`removal_study`).

    ``intact`` (S,): pure red's MSE in the intact model (:func:`plain_sweep`); ``error[method][kind]``
    (S, K): pure red's MSE at ``steps`` (K,) of relearning (step 0 = right after removal);
    ``red_set_error[method][kind]`` (S, K): the same, averaged over the red set; ``others_error`` (S, K):
    the 14 other named colours' mean MSE, and ``others_intact`` (S,) theirs in the intact model; ``damage[method]``
    (S, P): each probe colour's MSE right after removal minus the intact model's. ``reference[kind]`` (S, K):
    pure red's MSE in the intact model fine-tuned the same way (:func:`intact_relearn_sweep`) — recovery
    is measured against it, step for step; ``None``: against the untouched ``intact`` at every step.
    ``undeleted[kind]`` (S, K): pure red's MSE in anchoring's models *not deleted*, fine-tuned the same
    way (:func:`undeleted_relearn_sweep`; step 0: the anchored model itself) — the deletion's
    one-factor reference (:meth:`deletion_recovery`)."""

    steps: np.ndarray
    seeds: np.ndarray
    intact: np.ndarray
    error: dict
    red_set_error: dict
    damage: dict
    others_error: dict
    others_intact: np.ndarray
    reference: Optional[dict] = None
    undeleted: Optional[dict] = None

    def baseline(self, kind: str) -> np.ndarray:
        """(S, K): the reference red error at every snapshot for relearning on ``kind`` data."""
        if self.reference is None:
            return np.repeat(np.asarray(self.intact, dtype=float)[:, None], len(self.steps), axis=1)
        return np.asarray(self.reference[kind], dtype=float)

    def initial(self, method: str) -> np.ndarray:
        return self.error[method][RELEARN_DATA[0]][:, 0]

    def excess(self, method: str) -> np.ndarray:
        """Initial excess of pure red's error over the intact model's, per seed."""
        return self.initial(method) - self.intact

    def lost(self, method: str) -> np.ndarray:
        """Seeds (bool) where removal raised pure red's error by more than ``lost_margin``."""
        return self.excess(method) > REMOVAL_HYPER["lost_margin"]

    def normalised(self, method: str, kind: str) -> np.ndarray:
        """(error − intact) / initial excess: 1 right after removal, 0 when fully back (S, K)."""
        ex = self.excess(method)
        return (self.error[method][kind] - self.baseline(kind)) / np.where(ex > 0, ex, np.nan)[:, None]

    def others_back(self, method: str, kind: str, within: float = 0.01) -> np.ndarray:
        """Per lost seed (bool): are the other named colours back within ``within`` of the intact model's
        error (their mean) at the end of relearning?"""
        lost = self.lost(method)
        return self.others_error[method][kind][lost, -1] <= self.others_intact[lost] + within

    def recovery(self, method: str, kind: str, margin: tuple[str, str, float]) -> Recovery:
        """Steps to recover at ``margin`` (an entry of :data:`MARGINS`), over the lost seeds only."""
        check_choice(method, "method", REMOVALS)
        check_choice(kind, "kind", RELEARN_DATA)
        return _recovery(self.steps, self.error[method][kind], self.baseline(kind), self.lost(method), margin)

    def _undeleted(self, kind: str) -> np.ndarray:
        check_choice(kind, "kind", RELEARN_DATA)
        if self.undeleted is None:
            raise ValueError("this study has no undeleted anchored arm (undeleted=None)")
        return np.asarray(self.undeleted[kind], dtype=float)

    def deletion_recovery(self, kind: str, margin: tuple[str, str, float]) -> Recovery:
        """Anchoring + deletion's recovery at ``margin`` against its one-factor reference — the same
        anchored models *not deleted*, fine-tuned the same way (``undeleted``) — instead of the intact
        model's; over the same lost seeds as :meth:`recovery` (lost is still judged against the intact model)."""
        return _recovery(self.steps, self.error["anchoring + deletion"][kind], self._undeleted(kind),
                         self.lost("anchoring + deletion"), margin)

    def recipe_drift(self, kind: str) -> np.ndarray:
        """(S, K): the undeleted anchored models' red error minus the intact reference's
        (:meth:`baseline`), step for step — what the anchored recipe alone leaves of red's error."""
        return self._undeleted(kind) - self.baseline(kind)

    def control_recovery(self, margin: tuple[str, str, float], profile: Optional[str] = None) -> Recovery:
        """The one-factor control of red's absence: anchoring + deletion's models relearned on
        :data:`RELEARN_CONTROL` (every colour, reds included; :func:`relearn_sweep`), against the intact
        model relearned the same way, over the *same* lost seeds as :meth:`recovery` — so the two are
        paired seed by seed. Trains (or loads) the two runs of ``profile``."""
        run = relearn_sweep("anchoring + deletion", RELEARN_CONTROL, profile)
        ref = intact_relearn_sweep(RELEARN_CONTROL, profile)
        err = [((r.probe_recon[:, :, 0] - r.probe_rgb[None, 0]) ** 2).mean(-1).T for r in (run, ref)]
        if err[0].shape != self.error["anchoring + deletion"][RELEARN_DATA[0]].shape:
            raise ValueError("the control's runs do not match the study's seeds and steps (another profile?)")
        return _recovery(self.steps, err[0], err[1], self.lost("anchoring + deletion"), margin)


def _recovery(steps: np.ndarray, error: np.ndarray, baseline: np.ndarray, lost: np.ndarray,
              margin: tuple[str, str, float]) -> Recovery:
    """Steps to recover at ``margin`` over the ``lost`` seeds: ``error`` and ``baseline`` (S, K)."""
    _, how, value = margin
    over = error[lost] - baseline[lost]                                   # excess over the reference
    tgt = margin_target(np.zeros(int(lost.sum())), over[:, 0], how, value)
    rec = recovery_steps(steps, over, tgt) if lost.any() else np.zeros(0)
    if lost.any():
        med, lo, hi = bootstrap_median_ci(rec)
    else:
        med = lo = hi = float("nan")
    return Recovery(lost=int(lost.sum()), n=len(lost), steps=rec, recovered=int(np.isfinite(rec).sum()),
                    budget=int(steps[-1]), median=med, low=lo, high=hi)


def removal_study(profile: Optional[str] = None) -> RemovalStudy:
    """Train (or load) every removal and relearning run of the profile and line them up."""
    plain = plain_sweep(profile)
    p_err = (plain.probe_recon[-1] - plain.probe_rgb[None]) ** 2          # (S, P, 3)
    intact_all = p_err.mean(-1)                                            # (S, P)
    n_red = len(red_colours())
    error, red_set_error, damage, others = {}, {}, {}, {}
    steps = None
    for method in REMOVALS:
        error[method], red_set_error[method], others[method] = {}, {}, {}
        for kind in RELEARN_DATA:
            run = relearn_sweep(method, kind, profile)
            e = ((run.probe_recon - run.probe_rgb[None, None]) ** 2).mean(-1)   # (K, S, P)
            error[method][kind] = e[:, :, 0].T
            red_set_error[method][kind] = e[:, :, -n_red:].mean(-1).T
            others[method][kind] = e[:, :, 1:15].mean(-1).T
            steps = run.checkpoint_steps
            if kind == RELEARN_DATA[0]:
                damage[method] = e[0] - intact_all
    reference, undeleted = {}, {}
    for kind in RELEARN_DATA:
        for out, sweep in ((reference, intact_relearn_sweep), (undeleted, undeleted_relearn_sweep)):
            run = sweep(kind, profile)
            out[kind] = ((run.probe_recon[:, :, 0] - run.probe_rgb[None, 0]) ** 2).mean(-1).T   # (S, K)
    return RemovalStudy(steps=np.asarray(steps), seeds=np.asarray(plain.seeds), intact=intact_all[:, 0],
                        error=error, red_set_error=red_set_error, damage=damage, others_error=others,
                        others_intact=intact_all[:, 1:15].mean(-1), reference=reference, undeleted=undeleted)


@dataclass
class KeepOutStudy:
    """The routing arm at every keep-out weight (:func:`keep_out_study`), relearned on "few red" data,
    on the seeds every weight was trained on (the first ``keep_out_seeds``).

    Per weight ``k`` (keys of every dict, :data:`ROUTING_KEEP_OUT`), per seed (S,): ``z0_red[k]`` pure
    red's |z_0| in the trained model, ``z0_others[k]`` (S, 14) the other named colours'; ``excess[k]`` pure
    red's error right after deleting dim 0 minus the intact model's; ``damage_others[k]`` the 14 other named
    colours' mean ΔMSE right after deletion; ``error[k]`` (S, K) pure red over relearning at ``steps``;
    ``others_end[k]`` the other named colours' mean excess at the end of relearning. ``intact`` (S,)."""

    keep_outs: tuple
    steps: np.ndarray
    intact: np.ndarray
    z0_red: dict
    z0_others: dict
    excess: dict
    damage_others: dict
    error: dict
    others_end: dict
    reference: Optional[np.ndarray] = None

    def baseline(self) -> np.ndarray:
        """(S, K): the intact model's red error over the same "few red" fine-tuning (or the untouched
        ``intact`` when ``reference`` is ``None``)."""
        if self.reference is None:
            return np.repeat(np.asarray(self.intact, dtype=float)[:, None], len(self.steps), axis=1)
        return np.asarray(self.reference, dtype=float)

    def lost(self, keep_out: float) -> np.ndarray:
        return self.excess[keep_out] > REMOVAL_HYPER["lost_margin"]

    def recovery(self, keep_out: float, margin: tuple = None) -> Recovery:
        """Steps to recover pure red at ``margin`` (default +0.01) over the lost seeds, as :meth:`RemovalStudy.recovery`."""
        _, how, value = margin if margin is not None else MARGINS[1]
        lost = self.lost(keep_out)
        over = self.error[keep_out][lost] - self.baseline()[lost]
        rec = recovery_steps(self.steps, over, margin_target(np.zeros(int(lost.sum())), over[:, 0], how, value)) \
            if lost.any() else np.zeros(0)
        med, lo, hi = bootstrap_median_ci(rec) if lost.any() else (float("nan"),) * 3
        return Recovery(lost=int(lost.sum()), n=len(lost), steps=rec, recovered=int(np.isfinite(rec).sum()),
                        budget=int(self.steps[-1]), median=med, low=lo, high=hi)


def keep_out_study(profile: Optional[str] = None) -> KeepOutStudy:
    """Train (or load) the routing sweep over :data:`ROUTING_KEEP_OUT` and its "few red" relearning runs."""
    plain = plain_sweep(profile)
    intact_all = ((plain.probe_recon[-1] - plain.probe_rgb[None]) ** 2).mean(-1)     # (S, P)
    sweeps = routed_red_sweeps(profile)
    fields: dict = {k: {} for k in ("z0_red", "z0_others", "excess", "damage_others", "error", "others_end")}
    steps = None
    n = removal_settings(profile)["keep_out_seeds"]
    intact_all = intact_all[:n]
    for ko, sw in sweeps.items():
        z0 = np.abs(sw.probe_latents[-1][:n, :, RED_DIM])                          # (S, P)
        fields["z0_red"][ko], fields["z0_others"][ko] = z0[:, 0], z0[:, 1:15]
        run = relearn_sweep("routing + deletion", "few red", profile, keep_out=ko)
        e = ((run.probe_recon - run.probe_rgb[None, None]) ** 2).mean(-1)[:, :n]   # (K, S, P)
        fields["excess"][ko] = e[0, :, 0] - intact_all[:, 0]
        fields["damage_others"][ko] = (e[0, :, 1:15] - intact_all[:, 1:15]).mean(-1)
        fields["error"][ko] = e[:, :, 0].T
        fields["others_end"][ko] = (e[-1, :, 1:15] - intact_all[:, 1:15]).mean(-1)
        steps = run.checkpoint_steps
    ref = intact_relearn_sweep("few red", profile)
    reference = ((ref.probe_recon[:, :n, 0] - ref.probe_rgb[None, 0]) ** 2).mean(-1).T        # (S, K)
    return KeepOutStudy(keep_outs=tuple(sweeps), steps=np.asarray(steps), intact=intact_all[:, 0],
                        reference=reference, **fields)


def keep_out_table(study: KeepOutStudy) -> str:
    """One row per keep-out weight: medians over seeds of red's and the others' |z_0|, red's initial
    excess after deletion and how many seeds lost red, the others' damage, and red's recovery at +0.01
    from a few reds (rate over the lost seeds with its Wilson interval)."""
    if not isinstance(study, KeepOutStudy):
        raise TypeError(f"study must be a KeepOutStudy, got {type(study).__name__}")
    rows = [f"{'keep_out':>8}  {'|z0| red':>8}  {'|z0| others (max)':>17}  {'red excess':>10}  {'lost':>5}  "
            f"{'others ΔMSE':>11}  red back at +0.01 (few red)"]
    for ko in study.keep_outs:
        oth = np.median(study.z0_others[ko], axis=0)
        r = study.recovery(ko)
        rows.append(f"{ko:>8g}  {np.median(study.z0_red[ko]):>8.2f}  {np.median(oth):>8.2f} ({oth.max():.2f})   "
                    f"{np.median(study.excess[ko]):>10.3f}  {f'{r.lost}/{r.n}':>5}  "
                    f"{np.median(study.damage_others[ko]):>11.3f}  {r.rate()}")
    return "\n".join(rows)


def matched_damage(study: RemovalStudy, kind: str = "few red", bands: Sequence[float] = (0.01, 0.03, 0.1, np.inf),
                   margin: tuple = None) -> dict:
    """Recovery compared within strata of matched initial damage: for each band ``[bᵢ, bᵢ₊₁)`` of pure
    red's initial excess and each removal, ``(n seeds in the band, recovered, median steps)`` at ``margin``
    (default +0.01) — so removals are compared on seeds they damaged about equally."""
    check_choice(kind, "kind", RELEARN_DATA)
    b = np.asarray(bands, dtype=float)
    if b.ndim != 1 or b.size < 2 or not (np.diff(b) > 0).all() or b[0] < REMOVAL_HYPER["lost_margin"]:
        raise ValueError(f"bands must be increasing edges starting at ≥ {REMOVAL_HYPER['lost_margin']}")
    _, how, value = margin if margin is not None else MARGINS[1]
    out: dict = {}
    for lo, hi in zip(b[:-1], b[1:]):
        row = {}
        for method in REMOVALS:
            ex = study.excess(method)
            sel = (ex >= lo) & (ex < hi)
            over = study.error[method][kind][sel] - study.baseline(kind)[sel]
            rec = recovery_steps(study.steps, over, margin_target(np.zeros(int(sel.sum())), over[:, 0], how, value)) \
                if sel.any() else np.zeros(0)
            rec = np.where(np.isnan(rec), np.inf, rec)
            row[method] = (int(sel.sum()), int(np.isfinite(rec).sum()), float(np.median(rec)) if sel.any() else float("nan"))
        out[(float(lo), float(hi))] = row
    return out


def plot_relearning_curves(study: RemovalStudy, *, normalised: bool = True):
    """Red's relearning, one panel per relearning data: for each removal, the median over the seeds
    where red was lost (line) and their 10–90 % band. ``normalised``: (error − intact) / initial excess
    (1 right after removal, 0 when back to the intact model, dotted at the relative margins);
    otherwise pure red's MSE on a log scale with the absolute targets (intact median + margin) dotted."""
    from ..figures import new_figure
    if not isinstance(study, RemovalStudy):
        raise TypeError(f"study must be a RemovalStudy, got {type(study).__name__}")
    fig = new_figure((12, 3.9), layout="tight")
    axes = fig.subplots(1, len(RELEARN_DATA), sharey=True)
    for ax, kind in zip(np.atleast_1d(axes), RELEARN_DATA):
        for k, (method, style) in enumerate(zip(REMOVALS, ("-", "--", "-.", ":"))):
            lost = study.lost(method)
            if not lost.any():
                continue
            y = study.normalised(method, kind)[lost] if normalised else study.error[method][kind][lost]
            if not normalised:
                y = np.maximum(y, 1e-5)
            lo, med, hi = np.percentile(y, [10, 50, 90], axis=0)
            line, = ax.plot(study.steps, med, style, lw=2, color=f"C{k}", label=f"{method} (lost in {int(lost.sum())})")
            ax.fill_between(study.steps, lo, hi, color=line.get_color(), alpha=0.15)
        if normalised:
            for label, how, value in MARGINS:
                if how == "rel":
                    ax.axhline(value, color="grey", lw=0.8, ls=":")
            ax.axhline(0.0, color="k", lw=0.6)
            ax.set_ylabel("(error − intact) / initial excess")
        else:
            ax.set_yscale("log")
            for label, how, value in MARGINS:
                if how == "abs":
                    ax.axhline(float(np.median(study.intact)) + value, color="grey", lw=0.8, ls=":")
            ax.set_ylabel("pure red's MSE")
        ax.set_xlabel("relearning step")
        ax.set_title(f"relearning on {kind} data")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    return fig


def recovery_table(study: RemovalStudy) -> str:
    """Every removal × relearning data × margin: lost seeds, recovered within the budget (Wilson
    interval) and the median steps (bootstrap interval), as aligned text."""
    if not isinstance(study, RemovalStudy):
        raise TypeError(f"study must be a RemovalStudy, got {type(study).__name__}")
    rows = [f"{'removal':<22}{'data':<10}{'margin':<19}{'lost':>7}  {'back within budget':<34}median steps (95% CI)"]
    for method in REMOVALS:
        for kind in RELEARN_DATA:
            for margin in MARGINS:
                r = study.recovery(method, kind, margin)
                med = "—" if not r.lost else ("not reached" if not np.isfinite(r.median) else
                                               f"{r.median:.0f} ({r.low:.0f}–{'∞' if not np.isfinite(r.high) else f'{r.high:.0f}'})")
                rows.append(f"{method:<22}{kind:<10}{margin[0]:<19}{f'{r.lost}/{r.n}':>7}  {r.rate():<34}{med}")
    return "\n".join(rows)
