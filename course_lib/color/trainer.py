"""The one training loop of the colour-autoencoder family (Chapters 1 and 2).

:func:`fit` trains a :class:`~course_lib.color.ColorAutoencoder` or a
:class:`~course_lib.color.StackedColorAutoencoder` (many seeds at once) with Adam, one update per
step, and calls back at the checkpoint steps. What changes between the course's runs is given as
two functions:

* ``batch_at(step) -> (x, lr)`` — the batch of that update and its learning rate (Chapter 1: the
  whole training set and a constant; Chapter 2: the curriculum's data, minibatches and the
  schedule's lr, :mod:`course_lib.curriculum.train`). For a stack, ``x`` may also be a list of
  ``(models, batch)`` pairs (an index tensor and the batch those models see: models in different
  curriculum phases), and ``lr`` a tensor of one rate per model (S,) — models whose reactive
  schedules restarted their warm-ups at different steps; see :func:`fit`;
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


def _per_model_rates(lr: Any, n_models: int) -> Optional[torch.Tensor]:
    """None for one rate shared by every model (a number, or a tensor whose rates are all equal),
    else the (S,) tensor of rates."""
    if not isinstance(lr, torch.Tensor) or lr.ndim == 0:
        return None
    if lr.shape != (n_models,):
        raise ValueError(f"per-model learning rates must have shape ({n_models},), got {tuple(lr.shape)}")
    if bool((lr < 0).any()) or not bool(torch.isfinite(lr).all()):
        raise ValueError(f"learning rates must be finite and ≥ 0, got {lr.tolist()}")
    return None if bool((lr == lr[0]).all()) else lr.detach()


def _shared_rate(lr: Any) -> float:
    return float(lr.reshape(-1)[0]) if isinstance(lr, torch.Tensor) else float(lr)


def _rows(x: Any, n_models: int) -> int:
    """Rows of one step: models × batch rows, or summed over ``(models, batch)`` groups."""
    if isinstance(x, torch.Tensor):
        return n_models * x.shape[-2]
    return sum(len(models) * batch.shape[-2] for models, batch in x)


def _step_at_rates(optimizer: torch.optim.Optimizer, rates: torch.Tensor) -> None:
    """One Adam step at ``rates.max()``, each model's move then scaled to its own rate."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for p in params:  # before the step: a refused stack keeps its weights
        if p.shape[0] != len(rates):
            raise ValueError(f"per-model learning rates need the model axis first: a parameter "
                             f"has shape {tuple(p.shape)} for {len(rates)} models")
    before = [p.detach().clone() for p in params]
    optimizer.step()
    share = rates / rates.max()
    with torch.no_grad():
        for p, old in zip(params, before):
            p.copy_(torch.lerp(old, p, share.reshape(-1, *([1] * (p.ndim - 1))).to(p.dtype)))


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

    Per-model learning rates (``lr`` of ``batch_at`` a tensor (S,), for a stack whose parameters
    all carry the model axis first): Adam steps at the largest rate, then each model's move is
    scaled back to its own rate (``torch.lerp`` from the old weights, exact for the models at the
    largest rate). Adam's update is linear in the rate, so this is each model's own Adam step up
    to rounding; when every rate is equal it is the plain step.
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
                fit_threads(_rows(x, n_models) if spare else 0)
            total, parts = loss(model, x, step)
            check_finite_loss(total, step)
            rates = _per_model_rates(lr_now, n_models)
            for group in optimizer.param_groups:
                group["lr"] = _shared_rate(lr_now) if rates is None else float(rates.max())
            optimizer.zero_grad()
            total.sum().backward()  # per-model losses: each model gets exactly its own gradient
            if rates is None:
                optimizer.step()
            else:
                _step_at_rates(optimizer, rates)
            if after_update is not None:
                after_update(step, total.detach(), parts)
            bar.update(1)
        bar.close()
    return model

