"""The one checkpoint protocol every cached training run of the course follows.

A run that keeps its model along the way (Chapter 1's bottleneck, Chapter 2's curriculum and
mixing runs, Chapter 3's world and modular-addition runs, Chapter 4's fine-tuning) offers:

* ``checkpoint_steps`` — a 1-D ``int64`` array, strictly increasing: the number of updates made
  before each saved checkpoint (0 = the untrained model; for full-batch training an update is an
  epoch);
* ``model_at(step)`` — the model after exactly ``step`` updates, rebuilt on the CPU in eval mode.
  A step that was not saved raises ``ValueError`` naming the nearest saved ones (no silent rounding:
  a figure labelled "step 1,000" shows step 1,000);
* ``model()`` — the model at the last checkpoint;
* ``loss_fn(model, batch)`` — where the run knows it, the scalar training loss of a batch tuple,
  exactly as the run was trained (Chapter 5's learning-coefficient estimates sample that loss).

:class:`CheckpointedRun` implements the first three for a class that says how to rebuild the model
at checkpoint ``index`` (``_model_from``). The small helpers every trainer shares live here too:
:func:`checkpoint_index`, :func:`as_checkpoint_steps`, :func:`even_steps`, :func:`log_spaced_steps`
and :func:`state_copy`.

>>> steps = as_checkpoint_steps([0, 10, 100])
>>> checkpoint_index(steps, 10)
1
>>> checkpoint_index(steps, 50)
Traceback (most recent call last):
...
ValueError: step 50 was not saved; the nearest checkpoints are 10 and 100 (3 checkpoints, 0 … 100)
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from .validation import check_int

__all__ = ["CheckpointedRun", "checkpoint_index", "as_checkpoint_steps", "even_steps",
           "log_spaced_steps", "state_copy"]


def as_checkpoint_steps(steps: Any, name: str = "checkpoint_steps", *,
                        last: int | None = None) -> np.ndarray:
    """``steps`` as the protocol's array: 1-D ``int64``, non-empty, ≥ 0, strictly increasing
    (and ≤ ``last`` when given). TypeError for non-integers, ValueError for the rest."""
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise TypeError(f"{name} must be a sequence of ints, got {type(steps).__name__}")
    arr = np.asarray(list(steps) if not isinstance(steps, np.ndarray) else steps)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of ints, got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold ints, got dtype {arr.dtype}")
    if arr[0] < 0 or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be ≥ 0 and strictly increasing, got {arr.tolist()[:8]}")
    if last is not None and arr[-1] > last:
        raise ValueError(f"{name} must lie in [0, {last}], got {int(arr[-1])}")
    return arr.astype(np.int64)


def checkpoint_index(steps: np.ndarray, step: Any) -> int:
    """Position of ``step`` in the checkpoint array ``steps``.

    TypeError when ``step`` is not an int; ValueError, naming the nearest saved checkpoints, when
    no checkpoint was saved after exactly ``step`` updates."""
    step = check_int(step, "step")
    hits = np.flatnonzero(steps == step)
    if len(hits):
        return int(hits[0])
    right = int(np.searchsorted(steps, step))
    near = [int(steps[i]) for i in (right - 1, right) if 0 <= i < len(steps)]
    where = " and ".join(map(str, near))
    raise ValueError(f"step {step} was not saved; the nearest checkpoint{'s are' if len(near) > 1 else ' is'} "
                     f"{where} ({len(steps)} checkpoints, {int(steps[0])} … {int(steps[-1])})")


def even_steps(total: int, n: int) -> np.ndarray:
    """``n`` evenly spaced steps from 0 to ``total`` (both included, rounded, no repeats)."""
    total = check_int(total, "total", min=1)
    n = check_int(n, "n", min=2)
    return np.unique(np.rint(np.linspace(0, total, n)).astype(np.int64))


def log_spaced_steps(total: int, n: int) -> np.ndarray:
    """0 and about ``n − 1`` log-spaced steps from 1 to ``total`` (rounded, no repeats): dense where
    training changes fast (early), sparse later."""
    total = check_int(total, "total", min=1)
    n = check_int(n, "n", min=2)
    inner = np.unique(np.round(np.geomspace(1, total, n - 1)).astype(np.int64))
    return np.concatenate([[0], inner]).astype(np.int64)


def state_copy(model: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of ``model``'s state_dict (or of a state dict): what a checkpoint keeps."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    return {k: v.detach().cpu().clone() for k, v in state.items()}


class CheckpointedRun:
    """Mixin for a run record: ``model_at(step)`` and ``model()`` from ``checkpoint_steps``.

    A subclass provides ``checkpoint_steps`` (attribute or property; see :func:`as_checkpoint_steps`)
    and ``_model_from(index)`` (the model at checkpoint ``index``, CPU, eval mode)."""

    checkpoint_steps: np.ndarray

    def checkpoint_index(self, step: int) -> int:
        """Position of checkpoint ``step`` (ValueError if no checkpoint was saved there)."""
        return checkpoint_index(self.checkpoint_steps, step)

    def model_at(self, step: int) -> nn.Module:
        """The model after exactly ``step`` updates (a checkpoint step), CPU, eval mode."""
        return self._model_from(self.checkpoint_index(step))

    def model(self) -> nn.Module:
        """The model at the last checkpoint."""
        return self._model_from(len(self.checkpoint_steps) - 1)

    @property
    def final_step(self) -> int:
        return int(self.checkpoint_steps[-1])

    def _model_from(self, index: int) -> nn.Module:  # pragma: no cover - the subclass's job
        raise NotImplementedError(f"{type(self).__name__} must define _model_from(index)")

