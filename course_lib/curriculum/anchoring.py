"""An anchored colour model: red pinned to a chosen direction *before* training.

The model is a 4-D L2-normalised GELU bottleneck (3 → 16 → 4 → 16 → 3). Its loss is the
reconstruction MSE plus two scheduled terms (trained by :mod:`.train`):

* ``anchor``     — :func:`~.regularisers.anchor_loss` ``1 − cos(z, a)`` with ``a = (1, 0, 0, 0)``,
  weighted per sample by ``redness(rgb)^k`` (``k = 100`` by default: pure red weighs 1, the hue
  10° away ``(11/12)^100 ≈ 2·10⁻⁴``) — only the reddest colours are pulled to ``a``;
* ``separation`` — :func:`~.regularisers.separation` ``((cos + 1)/2)^10`` among the batch's fully
  saturated, fully bright colours (the hue wheel), so the hues spread out instead of crowding.

The data grow by a curriculum parameter ``spread`` ∈ [0, 1]: the training colours are the HSV
grid (hue every 10°, saturation and value each ``linspace(0, 1, 10)``) restricted to
``S ≥ 1 − spread`` and ``V ≥ 1 − spread``, so training starts on the 36 pure hues and widens to
all 3,600 colours. Two schedules share the same keyframes and differ only in their easing:
``"smooth"`` (minimum-jerk between keyframes) and ``"stepped"`` (jumps at the keyframes).

:func:`anchored_run` is the public entry point (``course_lib.curriculum.anchored_run``, relied on by
Chapter 5): one cached run → :class:`AnchoredRun` with ``encode``, ``decode``, ``anchor``,
``mute`` and ``model_at``. :func:`anchored_sweep` trains many seeds at once for the statistics, and
:func:`anchor_report` measures a model (cosine of red with the anchor, how evenly the hues are
spread, reconstruction error).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from .. import runtime
from ..checkpoints import CheckpointedRun
from ..color.trainer import mse_per_model
from ..color.data import hsv_grid, hue_wheel, rgb_cube
from ..color.model import ColorAutoencoder
from ..color.spaces import hsv_to_rgb
from ..validation import check_choice, check_float, check_int, check_seed
from .intervention import gated_suppress, suppress
from .regularisers import redness
from .schedules import Dopesheet, Keyframe
from .runs import CurriculumRun, CurriculumSweep
from .terms import StepInfo
from .train import cached_run, cached_sweep

__all__ = [
    "ANCHOR",
    "PROFILE_SETTINGS",
    "MUTE_SETTINGS",
    "AnchoredRun",
    "settings",
    "anchored_schedule",
    "anchored_terms",
    "anchored_data",
    "anchored_run",
    "watched_run",
    "anchored_sweep",
    "anchor_report",
    "final_models",
    "sweep_reports",
    "probe_rgb",
    "hue_evenness",
    "cosine_to_anchor",
]

#: The direction red is pinned to (latent dim 0).
ANCHOR: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
LATENT_DIM = 4
#: Bump when what the data, terms or schedules do changes: it is part of every cache key.
VERSION = "anchored-v1"

#: Per-profile sizes. ``steps``: updates per run; ``seeds``: how many seeds the sweeps train;
#: ``stepped_seeds``: how many the stepped schedule's sweep trains (notebook 2.3 compares it with the
#: smooth one for a null result; ``quick`` trains the first 4 only, to keep within its time budget).
PROFILE_SETTINGS: dict[str, dict[str, int]] = {
    "quick": {"steps": 2000, "seeds": 12, "stepped_seeds": 4},
    "standard": {"steps": 3000, "seeds": 32, "stepped_seeds": 32},
    "full": {"steps": 6000, "seeds": 128, "stepped_seeds": 128},
}

#: The model's fixed hyperparameters (the same in every profile).
HYPER: dict[str, float] = {"lr": 0.01, "lr_end": 0.001, "anchor": 2.0, "separation": 0.2,
                           "redness_k": 100.0, "separation_power": 10.0}

#: The gate that :meth:`AnchoredRun.mute` uses (see :func:`.intervention.gated_suppress`): a sharp
#: gate chosen by :func:`.anchor_control.tune_gate` on :data:`.anchor_control.TUNING_SEEDS`
#: (1000–1011, quick-profile training), seeds no claim uses, for the neighbourhood goal (hues within
#: ±5°) at 9 of 12 seeds on an earlier, narrower grid. Notebook 2.4 keeps it as its fixed "same gate"
#: and re-tunes each arm's own gate (:func:`.anchor_control.match_gates`) on the wider grid.
MUTE_SETTINGS: dict[str, float] = {"sharpness": 12.0, "strength": 1.5}

_SPREAD_LEVELS = 10  # the grid's saturation/value levels: spread moves in steps of 1/9


def settings(profile: Optional[str] = None) -> dict[str, int]:
    """This profile's sizes (a copy of :data:`PROFILE_SETTINGS`'s entry)."""
    return dict(runtime.by_profile(PROFILE_SETTINGS, profile))


def _grid() -> np.ndarray:
    return hsv_grid(36, _SPREAD_LEVELS, _SPREAD_LEVELS)


@functools.lru_cache(maxsize=None)
def _data_at_level(level: int) -> torch.Tensor:
    hsv = _grid()
    lo = 1.0 - level / (_SPREAD_LEVELS - 1)
    keep = (hsv[:, 1] >= lo - 1e-9) & (hsv[:, 2] >= lo - 1e-9)
    return torch.tensor(hsv_to_rgb(hsv[keep]), dtype=torch.float32)


def anchored_data(step: int, values: dict) -> torch.Tensor:
    """The training colours at a step: the HSV grid with ``S, V ≥ 1 − spread`` (``values["spread"]``,
    rounded down to the grid's levels; the same tensor object while the level does not change)."""
    spread = check_float(values.get("spread", 1.0), "spread", min=0.0, max=1.0 + 1e-9)  # 1e-9: rounding
    level = int(np.floor(min(spread, 1.0) * (_SPREAD_LEVELS - 1) + 1e-6))
    return _data_at_level(level)


def anchored_schedule(steps: int, kind: str = "smooth", anchor_weight: Optional[float] = None) -> Dopesheet:
    """The dopesheet: ``spread`` 0 → ⅓ → ⅔ → 1 at 10 %, 30 %, 50 % of training (held at 0 before),
    ``lr`` 0.01 held, then eased to 0.001 over the last 30 %; ``anchor`` and ``separation`` constant.

    ``anchor_weight`` (default ``HYPER["anchor"]``) is the anchor term's weight; ``0`` gives the
    unanchored control of :mod:`.anchor_control` (everything else identical).

    ``kind="smooth"`` moves ``spread`` with minimum-jerk easing between its keyframes;
    ``kind="stepped"`` holds it and jumps at each keyframe (the "step" easing).
    """
    check_choice(kind, "kind", ("smooth", "stepped"))
    check_int(steps, "steps", min=20)
    w = HYPER["anchor"] if anchor_weight is None else check_float(anchor_weight, "anchor_weight", min=0.0)
    ease = "minimum_jerk" if kind == "smooth" else "step"
    s = int(steps)
    return Dopesheet([
        Keyframe(0, {"spread": 0.0, "lr": HYPER["lr"], "anchor": w,
                     "separation": HYPER["separation"]}),
        Keyframe(round(0.1 * s), {"spread": 0.0}),
        Keyframe(round(0.3 * s), {"spread": 1 / 3}, ease),
        Keyframe(round(0.5 * s), {"spread": 2 / 3}, ease),
        Keyframe(round(0.7 * s), {"spread": 1.0, "lr": HYPER["lr"]}, ease),
        Keyframe(s, {"lr": HYPER["lr_end"]}, "cosine"),
    ])


class _OfBatch:
    """What a term derives from the batch alone, kept for the last batch object: the trainer passes the
    same tensor at every step while the data do not change (the same numbers, computed once). Kept per
    thread: runs trained at once (:func:`course_lib.runtime.run_concurrently`) see different batches."""

    def __init__(self, derive: Callable[[torch.Tensor], Any]):
        self.derive, self.local = derive, threading.local()

    def __call__(self, x: torch.Tensor) -> Any:
        last = getattr(self.local, "last", None)
        if last is None or last[0] is not x:
            last = self.local.last = (x, self.derive(x))  # holding x keeps its identity from being reused
        return last[1]


def _redness_weights(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    w = redness(x, HYPER["redness_k"])
    return w, w.sum()


def _pure_hues(x: torch.Tensor) -> tuple[torch.Tensor, int, torch.Tensor]:
    chroma = x.max(dim=-1).values - x.min(dim=-1).values
    keep = chroma >= 0.99
    n = int(keep.sum())
    return keep, n, ~torch.eye(n, dtype=torch.bool, device=x.device)


_ANCHOR_WEIGHTS = _OfBatch(_redness_weights)
_PURE_HUES = _OfBatch(_pure_hues)


def _anchor_term(z: torch.Tensor, x: torch.Tensor, recon: torch.Tensor = None,
                 info: StepInfo = None) -> torch.Tensor:
    """Redness-weighted ``1 − cos(z, a)``; batched: z (..., N, d) → (...)."""
    a = torch.tensor(ANCHOR, dtype=z.dtype, device=z.device)
    w, total = _ANCHOR_WEIGHTS(x)
    w = w.to(z.dtype)
    cos = (z @ a) / torch.linalg.vector_norm(z, dim=-1).clamp_min(1e-12)
    return ((1.0 - cos) * w).sum(dim=-1) / total.to(z.dtype).clamp_min(1e-12)


_anchor_term.batched = True  # type: ignore[attr-defined]


def _separation_term(z: torch.Tensor, x: torch.Tensor, recon: torch.Tensor = None,
                     info: StepInfo = None) -> torch.Tensor:
    """Separation among the batch's pure hues (chroma = max − min ≥ 0.99); batched."""
    keep, n, off = _PURE_HUES(x)
    if n < 2:
        return z.sum(dim=(-1, -2)) * 0.0
    u = z[..., keep, :]
    u = u / torch.linalg.vector_norm(u, dim=-1, keepdim=True).clamp_min(1e-12)
    cos = (u @ u.transpose(-1, -2)).clamp(-1.0, 1.0)
    pairs = ((cos + 1.0) / 2.0) ** HYPER["separation_power"]
    return (pairs * off).sum(dim=(-1, -2)) / (n * (n - 1))


_separation_term.batched = True  # type: ignore[attr-defined]


def anchored_terms() -> dict[str, Callable[..., torch.Tensor]]:
    """The two scheduled terms, ``{"anchor": …, "separation": …}`` (both batched)."""
    return {"anchor": _anchor_term, "separation": _separation_term}


def probe_rgb() -> torch.Tensor:
    """What the runs' snapshots record: the 36 pure hues (every 10°) then an RGB cube 6³."""
    wheel = hsv_to_rgb(hue_wheel(36))
    return torch.tensor(np.concatenate([wheel, rgb_cube(6)]), dtype=torch.float32)


def _check_kind(kind: str) -> str:
    return check_choice(kind, "schedule", ("smooth", "stepped"))


def _train_kwargs(steps: int, kind: str, anchor_weight: Optional[float] = None) -> dict[str, Any]:
    return dict(data=anchored_data, steps=steps, terms=anchored_terms(),
                schedule=anchored_schedule(steps, kind, anchor_weight), latent_dim=LATENT_DIM, hidden=16,
                normalize=True, activation="gelu", batch_size=None, probe=probe_rgb(),
                checkpoint_steps=21, progress=True)


def _key(kind: str, anchor_weight: Optional[float] = None) -> dict[str, Any]:
    key = {"version": VERSION, "schedule": kind, "hyper": HYPER, "anchor": list(ANCHOR)}
    if anchor_weight is not None and anchor_weight != HYPER["anchor"]:   # the anchored key stays as it was
        key["anchor_weight"] = float(anchor_weight)
    return key


# --------------------------------------------------------------------------- measurements
def _unit_anchor(d: int) -> torch.Tensor:
    a = torch.zeros(d)
    a[: len(ANCHOR)] = torch.tensor(ANCHOR[:d])
    return a / a.norm()


def cosine_to_anchor(z: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """Cosine of each latent row (n, d) with ``anchor`` (d,) → (n,)."""
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        raise ValueError(f"z must be a tensor of shape (n, d), got {getattr(z, 'shape', type(z).__name__)}")
    if not isinstance(anchor, torch.Tensor) or anchor.shape != (z.shape[1],):
        raise ValueError(f"anchor must be a tensor of shape ({z.shape[1]},)")
    return (z @ anchor) / (z.norm(dim=1) * anchor.norm()).clamp_min(1e-12)


def hue_evenness(z: np.ndarray) -> float:
    """How evenly a closed loop of hue latents is spread: smallest / mean angle between neighbours.

    ``z`` (n, d): latents of n hues in hue order (the loop closes from the last to the first).
    1 for a regular polygon on a great circle, near 0 when two hues crowd together.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 2 or z.shape[0] < 3:
        raise ValueError(f"z must have shape (n, d) with n ≥ 3 hues, got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("z contains NaN or inf")
    u = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    cos = np.clip(np.sum(u * np.roll(u, -1, axis=0), axis=1), -1.0, 1.0)
    angles = np.arccos(cos)
    mean = angles.mean()
    return float(angles.min() / mean) if mean > 0 else 0.0


def anchor_report(encode: Callable[[torch.Tensor], torch.Tensor],
                  decode: Callable[[torch.Tensor], torch.Tensor],
                  anchor: torch.Tensor) -> dict[str, float]:
    """Measure an anchored model: ``red_cos`` (pure red's cosine with the anchor), ``orange_cos``,
    ``evenness`` (:func:`hue_evenness` of the 36 pure hues), ``mse`` (reconstruction MSE on the
    RGB cube 10³, colours never exactly trained on) and ``wheel_mse`` (the 36 pure hues)."""
    with torch.no_grad():
        wheel = torch.tensor(hsv_to_rgb(hue_wheel(36)), dtype=torch.float32)
        cube = torch.tensor(rgb_cube(10), dtype=torch.float32)
        zw = encode(wheel)
        cos = cosine_to_anchor(zw, anchor)
        mse = float(((decode(encode(cube)) - cube) ** 2).mean())
        wheel_mse = float(((decode(zw) - wheel) ** 2).mean())
    return {"red_cos": float(cos[0]), "orange_cos": float(cos[3]), "evenness": hue_evenness(zw.numpy()),
            "mse": mse, "wheel_mse": wheel_mse}


# --------------------------------------------------------------------------- the public record
@dataclass
class AnchoredRun(CheckpointedRun):
    """The anchored colour model of one seed (see :func:`anchored_run`).

    ``encode(rgb)`` (n, 3) → (n, d) unit latents; ``decode(z)`` (n, d) → (n, 3) RGB;
    ``anchor`` (d,) the unit direction red is pinned to; ``mute(z)`` the best red-muting edit
    (gated suppression, :data:`MUTE_SETTINGS`); ``reference_mute(z)`` plain suppression;
    ``model_at(step)`` the model at any of ``checkpoint_steps``; ``run`` the full training record
    (losses, schedule values, probe latents). The final model is ``model_at(steps)``.
    """

    run: CurriculumRun
    seed: int
    schedule: str

    def __post_init__(self) -> None:
        self._model = self.run.model()
        self.anchor = _unit_anchor(self._model.latent_dim)

    @property
    def model(self) -> ColorAutoencoder:
        return self._model

    @property
    def checkpoint_steps(self) -> np.ndarray:
        return self.run.checkpoint_steps

    def _model_from(self, index: int) -> ColorAutoencoder:
        return self.run._model_from(index)

    @staticmethod
    def loss_fn(model: torch.nn.Module, batch: tuple) -> torch.Tensor:
        """The training loss of a batch ``(x,)``: reconstruction MSE plus the anchor and separation
        terms at their weights in :data:`HYPER` (constant over training)."""
        (x,) = batch
        recon, z = model(x)
        loss = mse_per_model(recon, x)
        terms = anchored_terms()
        for name in ("anchor", "separation"):
            loss = loss + HYPER[name] * terms[name](z, x, recon, None)
        return loss

    @property
    def steps(self) -> int:
        return self.run.steps

    def encode(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB (n, 3) → latents (n, d), without gradients."""
        _check_batch(rgb, 3, "rgb")
        with torch.no_grad():
            return self._model.encode(rgb.float())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (n, d) → RGB (n, 3), without gradients."""
        _check_batch(z, self._model.latent_dim, "z")
        with torch.no_grad():
            return self._model.decode(z.float())

    def mute(self, z: torch.Tensor) -> torch.Tensor:
        """The best red-muting edit found in notebook 2.4: gated suppression along the anchor."""
        return gated_suppress(z, self.anchor, **MUTE_SETTINGS)

    def reference_mute(self, z: torch.Tensor) -> torch.Tensor:
        """The reference edit: remove the positive projection on the anchor."""
        return suppress(z, self.anchor)

    def report(self) -> dict[str, float]:
        """:func:`anchor_report` of the final model."""
        return anchor_report(self.encode, self.decode, self.anchor)


def _check_batch(x: object, width: int, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape (n, {width}), got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf")


def anchored_run(seed: int = 0, profile: Optional[str] = None, schedule: str = "smooth") -> AnchoredRun:
    """The anchored colour model for ``seed`` (cached): red pinned to :data:`ANCHOR`.

    ``profile`` (default: the active one) sets the training length. Returns an
    :class:`AnchoredRun` with ``encode``, ``decode``, ``anchor``, ``mute`` and ``model_at``.
    """
    seed = check_seed(seed)
    _check_kind(schedule)
    steps = settings(profile)["steps"]
    run = cached_run("anchored_run", _key(schedule), seed=seed, **_train_kwargs(steps, schedule))
    return AnchoredRun(run=run, seed=seed, schedule=schedule)


def anchored_sweep(seeds: Optional[Sequence[int]] = None, profile: Optional[str] = None,
                   schedule: str = "smooth") -> CurriculumSweep:
    """Many seeds of :func:`anchored_run`'s recipe trained at once (cached); default seeds
    ``range(settings(profile)["seeds"])`` (``"stepped_seeds"`` for the stepped schedule). Seed ``s``
    starts from the same weights as ``anchored_run(s)`` and sees the same (full-batch) data, so it is
    the same run up to floating-point summation order."""
    _check_kind(schedule)
    cfg = settings(profile)
    n = cfg["stepped_seeds" if schedule == "stepped" else "seeds"]
    seeds = list(range(n)) if seeds is None else list(seeds)
    return cached_sweep("anchored_sweep", _key(schedule), seeds, **_train_kwargs(cfg["steps"], schedule))


def watched_run(seed: int = 0, profile: Optional[str] = None, schedule: str = "smooth") -> AnchoredRun:
    """Seed ``seed`` of :func:`anchored_sweep` (its default seeds) as an :class:`AnchoredRun`: the
    recipe of :func:`anchored_run` read out of the cached sweep instead of trained a second time
    (notebook 2.3 watches one seed, then studies all of them)."""
    _check_kind(schedule)
    sweep = anchored_sweep(profile=profile, schedule=schedule)
    return AnchoredRun(run=sweep.run_of(seed), seed=int(seed), schedule=schedule)


def final_models(sweep: CurriculumSweep) -> list[ColorAutoencoder]:
    """Every seed's final model in a sweep (CPU, eval mode), in the order of ``sweep.seeds``."""
    last = int(sweep.checkpoint_steps[-1])
    return [sweep.model_at(last, int(s)) for s in sweep.seeds]


def sweep_reports(sweep: CurriculumSweep) -> list[dict[str, float]]:
    """:func:`anchor_report` of every seed's final model in a sweep."""
    out = []
    for model in final_models(sweep):
        out.append(anchor_report(model.encode, model.decode, _unit_anchor(model.latent_dim)))
    return out
