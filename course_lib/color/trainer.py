"""The one training loop of the colour-autoencoder family (Chapters 1 and 2).

:func:`fit` trains a :class:`~course_lib.color.ColorAutoencoder` or a
:class:`~course_lib.color.StackedColorAutoencoder` (many seeds at once) with Adam, one update per
step, and calls back at the checkpoint steps. What changes between the course's runs is given as
two functions:

* ``batch_at(step) -> (x, lr)`` — the batch of that update and its learning rate (Chapter 1: the
  whole training set and a constant; Chapter 2: the curriculum's data, minibatches and the
  schedule's lr, :mod:`course_lib.curriculum.train`);
* ``loss(model, x, step) -> (total, parts)`` — the loss of the batch: a scalar for one model, one
  per model (S,) for a stack (each model's gradient is then exactly its own: the loop backpropagates
  their sum); ``parts`` is passed on to ``after_update``.

and three callbacks: ``on_checkpoint(step)`` before the update at each of ``checkpoints`` (and after
the last one, for ``step == steps``), ``after_update(step, total, parts)`` after each update (logs,
masks, a reactive schedule).

Adam: ``fused`` as in ``torch.optim.Adam`` (None: torch's default, the single-tensor kernel on a
CPU). Chapter 1's runs use the default, Chapter 2's the fused kernel; the two agree only to the last
bits (measured over notebook 1.2's 1,000-epoch watched run: 3·10⁻⁸ in the losses, 10⁻⁶ in the
latents), so each chapter keeps the one its cached runs and notebook claims were made with.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import torch
from torch import nn

from ..runtime import cores_to_spare, cpu_threads
from ..widgets import progress as progress_bar

__all__ = ["fit", "check_finite_loss", "mse_per_model"]

BatchAt = Callable[[int], "tuple[torch.Tensor, float]"]
LossAt = Callable[[nn.Module, torch.Tensor, int], "tuple[torch.Tensor, Any]"]


def mse_per_model(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reconstruction MSE over the last two dims: a scalar for one model, (S,) for a stack."""
    return ((recon - x) ** 2).mean(dim=(-2, -1))


def check_finite_loss(value: torch.Tensor, step: int) -> None:
    """FloatingPointError, with advice, when the loss at ``step`` is NaN or inf."""
    if not bool(torch.isfinite(value).all()):
        raise FloatingPointError(
            f"the loss became NaN or inf at step {step}: lower the learning rate or the regulariser "
            "weights (a term may be dividing by a vanishing norm)")


RECHECK_THREADS_EVERY = 200  # steps between looks at the machine's load (about 40 ms each)


def fit(
    model: nn.Module,
    *,
    steps: int,
    batch_at: BatchAt,
    loss: LossAt,
    lr: float,
    checkpoints: Iterable[int] = (),
    on_checkpoint: Optional[Callable[[int], None]] = None,
    after_update: Optional[Callable[[int, torch.Tensor, Any], None]] = None,
    fused: Optional[bool] = None,
    n_models: int = 1,
    share_threads: bool = False,
    desc: str = "training",
    progress: bool = True,
) -> nn.Module:
    """Train ``model`` for ``steps`` Adam updates (see the module docstring); returns it.

    Runs on one CPU thread; with ``share_threads`` a step of at least
    :data:`course_lib.runtime.MANY_ROWS` rows (``n_models`` × batch rows) uses every thread
    while the machine has a core to spare (:func:`cores_to_spare`, looked at again every
    :data:`RECHECK_THREADS_EVERY` steps: two threads under another process's load ran a
    12-seed sweep of notebook 2.3 4–10× slower than one).
    """
    take = set(int(s) for s in checkpoints)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(lr), fused=fused)
    with cpu_threads() as fit_threads:
        bar = progress_bar(total=steps, desc=desc, disable=not progress, leave=True)
        for step in range(steps + 1):
            if step in take and on_checkpoint is not None:
                on_checkpoint(step)
            if step == steps:
                break
            x, lr_now = batch_at(step)
            if share_threads:
                if step % RECHECK_THREADS_EVERY == 0:
                    spare = cores_to_spare()
                fit_threads(n_models * len(x) if spare else 0)
            total, parts = loss(model, x, step)
            check_finite_loss(total, step)
            for group in optimizer.param_groups:
                group["lr"] = lr_now
            optimizer.zero_grad()
            total.sum().backward()  # per-model losses: each model gets exactly its own gradient
            optimizer.step()
            if after_update is not None:
                after_update(step, total.detach(), parts)
            bar.update(1)
        bar.close()
    return model

