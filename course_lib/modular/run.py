"""The grokking reference run: trained once, measured at every checkpoint, cached.

* :func:`modular_addition_run` — trains :class:`~.model.ModularTransformer` with the profile's
  :data:`~.training.GROKKING_SETTINGS`, measures every checkpoint (:func:`~.measures.progress_measures`)
  and detects the phases (:func:`~.phases.detect_phases`); returns a :class:`GrokkingRun`.
* :class:`GrokkingRun` — the per-checkpoint measures, the phases and the checkpoints, following the
  course's checkpoint protocol (:mod:`course_lib.checkpoints`: ``checkpoint_steps``,
  ``model_at(step)``, ``model()``, ``loss_fn``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch

from .. import runtime
from ..cache import cached
from ..checkpoints import CheckpointedRun, as_checkpoint_steps
from ..validation import check_fraction, check_seed
from .data import ModularAdditionData, mirror_split
from .measures import key_frequencies, progress_measures
from .model import ModularTransformer, cross_entropy
from .phases import PhaseBoundaries, detect_phases
from .training import GROKKING_SETTINGS, check_config, fixed_threads, train_modular_addition

__all__ = ["GrokkingRun", "modular_addition_run"]

#: Bump when a change to this module changes what a cached run contains.
_CACHE_VERSION = 1


@dataclass
class GrokkingRun(CheckpointedRun):
    """The grokking reference run: per-checkpoint measures, phases and the checkpoints.

    Arrays have one entry per checkpoint step ``checkpoint_steps`` (see
    :func:`~.measures.progress_measures` for each one's definition). ``embedding_spectrum``
    (n, (p−1)/2) is the norm of W_E per Fourier frequency ``frequencies``; ``train_mask`` (p²,)
    marks the training pairs (pair ``a·p + b``); ``train_loss_per_step`` is the training loss at
    every step (entry ``t``: with the parameters after ``t`` updates).
    """

    config: dict[str, Any]
    checkpoint_steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    test_acc_all: np.ndarray
    test_acc_mirror_seen: np.ndarray
    restricted_loss: np.ndarray
    excluded_loss: np.ndarray
    weight_norm: np.ndarray
    embedding_spectrum: np.ndarray
    key_frequencies: tuple[int, ...]
    phases: PhaseBoundaries
    train_mask: np.ndarray
    train_loss_per_step: np.ndarray
    states: list[dict[str, torch.Tensor]] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def p(self) -> int:
        return int(self.config["p"])

    @property
    def frequencies(self) -> np.ndarray:
        """The frequencies ``k = 1 … (p−1)/2`` of ``embedding_spectrum``'s columns."""
        return np.arange(1, (self.p - 1) // 2 + 1)

    @property
    def data(self) -> ModularAdditionData:
        """All pairs, labels and this run's train/test split."""
        return ModularAdditionData.from_mask(self.p, self.train_mask)

    def mirror_split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(mirror-seen, mirror-unseen) masks over ``data.test_pairs`` (:func:`~.data.mirror_split`)."""
        return mirror_split(self.data)

    def _model_from(self, index: int) -> ModularTransformer:
        cfg = self.config
        model = ModularTransformer(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
        model.load_state_dict(self.states[index])
        return model.eval()

    @staticmethod
    def loss_fn(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The loss the run was trained with: :func:`~.model.cross_entropy` of ``model(pairs)``
        against ``labels`` for a batch ``(pairs, labels)`` (the training pairs: ``data.train_pairs``,
        ``data.train_labels``)."""
        pairs, labels = batch
        return cross_entropy(model(pairs), labels)

    def grok_step(self, accuracy: float = 0.95) -> Optional[int]:
        """First checkpoint whose mirror-unseen test accuracy reaches ``accuracy`` (None: never)."""
        accuracy = check_fraction(accuracy, "accuracy", inclusive="right")
        hits = np.flatnonzero(self.test_acc >= accuracy)
        return int(self.checkpoint_steps[hits[0]]) if len(hits) else None


_ARRAYS = ("train_loss", "test_loss", "train_acc", "test_acc", "test_acc_all",
           "test_acc_mirror_seen", "restricted_loss", "excluded_loss", "weight_norm",
           "embedding_spectrum")


def _compute_run(cfg: dict[str, Any], seed: int, progress: bool) -> dict[str, Any]:
    """Train and measure; return plain data (what the cache stores; phases are found on load)."""
    trained = train_modular_addition(cfg, seed, progress=progress)
    start = time.perf_counter()
    data = ModularAdditionData.from_mask(cfg["p"], trained["is_train"])
    freqs = key_frequencies(trained["states"][-1])
    device = runtime.get_device()
    with fixed_threads(cfg["threads"], device):
        measures = progress_measures(trained["states"], data, freqs, device=device, progress=progress)
    return {"config": cfg, "step": trained["steps"], "measures": measures,
            "key_frequencies": list(freqs),
            "train_mask": trained["is_train"], "train_loss_per_step": trained["train_loss_per_step"],
            "states": trained["states"],
            "timings": {"train_s": trained["train_seconds"],
                        "measures_s": time.perf_counter() - start}}


def modular_addition_run(seed: int = 0, profile: Optional[str] = None, *, progress: bool = True,
                         **overrides: Any) -> GrokkingRun:
    """The grokking reference run for ``seed`` in ``profile`` (cached through ``course_lib.cache``).

    Trains :class:`~.model.ModularTransformer` with the profile's :data:`~.training.GROKKING_SETTINGS`
    (``overrides`` replace single settings, e.g. ``steps=200`` in a test), measures every checkpoint
    (:func:`~.measures.progress_measures`) with the final checkpoint's
    :func:`~.measures.key_frequencies`, and detects the phases (:func:`~.phases.detect_phases`,
    re-run on every load: cheap, and a changed rule needs no retraining). ``progress`` shows a bar
    while training (hidden in the book build).

    The cache holds plain data only (arrays, state dicts, the config), no class of this package.
    """
    seed = check_seed(seed)
    settings = runtime.by_profile(GROKKING_SETTINGS, profile)
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(settings)}")
    cfg = check_config({**settings, **overrides})
    key = {**cfg, "seed": seed, "version": _CACHE_VERSION}
    raw = cached("identity-grokking", key, lambda: _compute_run(cfg, seed, progress))
    m, steps = raw["measures"], as_checkpoint_steps(raw["step"])
    phases = detect_phases(steps, m["train_loss"], m["test_loss"], m["excluded_loss"],
                           m["restricted_loss"], m["weight_norm"])
    return GrokkingRun(config={**raw["config"], "seed": seed}, checkpoint_steps=steps,
                       **{k: np.asarray(m[k]) for k in _ARRAYS},
                       key_frequencies=tuple(int(k) for k in raw["key_frequencies"]),
                       phases=phases,
                       train_mask=np.asarray(raw["train_mask"], dtype=bool),
                       train_loss_per_step=np.asarray(raw["train_loss_per_step"]),
                       states=raw["states"], timings=dict(raw["timings"]))
