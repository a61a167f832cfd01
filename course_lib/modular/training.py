"""Training the modular-addition transformer: full-batch AdamW with checkpoints.

* :data:`GROKKING_SETTINGS` — the per-profile settings (one place);
* :func:`train_modular_addition` — trains one :class:`~.model.ModularTransformer` on the training
  pairs and returns plain data (checkpoint steps, state dicts, the loss at every step);
* :func:`check_config` and :func:`fixed_threads` — its argument checks and its thread setting.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator, Mapping, Optional

import numpy as np
import torch

from .. import runtime
from ..checkpoints import state_copy
from ..validation import check_float, check_fraction, check_int, check_seed
from ..widgets import progress as progress_bar
from .data import check_prime, modular_addition_data
from .model import ModularTransformer, cross_entropy

__all__ = ["GROKKING_SETTINGS", "train_modular_addition", "check_config", "fixed_threads"]

#: Per-profile settings (one place). ``steps`` full-batch AdamW steps, a checkpoint every
#: ``checkpoint_every`` steps; ``warmup`` steps of linear learning-rate warm-up (as in the paper);
#: ``threads``: CPU threads while training and measuring (``None``: torch's setting). ``standard``
#: is the paper's model and data with a 3× larger learning rate (1e-3 takes hours on a CPU);
#: ``full`` is the paper's run (for a GPU). ``quick`` is a smaller model on p = 53 that groks in
#: ~700–1100 steps. The CPU profiles train on one thread: the result depends on the thread count
#: (summation order), so a fixed count makes it the same on every machine with the same kind of
#: CPU arithmetic; and two threads inside these small steps mostly synchronise — measured on an idle
#: 2-core machine, a bare loop of paper-size steps took 53 ms a step on two threads against 58 ms
#: on one (for twice the CPU time), and inside notebook 3.3 the 3,000-step run took 345 s on two
#: threads (115 ms a step). The two cores are used by training two *runs* at once instead
#: (:mod:`.prepare`). ``flush_denormal`` (``standard``): late in training, with weight decay
#: shrinking what the memorising weights compute, intermediate values fall below float32's normal
#: range and each step slows 4.5× (measured at step 2,950: 237 against 53 ms); flushing them to
#: zero while training keeps the paper-size run at about 3 minutes on one core. (The arithmetic
#: differs in the last bits, so the flag is part of the run's settings and cache key.)
GROKKING_SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"p": 53, "train_fraction": 0.4, "d_model": 64, "n_heads": 4, "d_mlp": 256,
              "lr": 5e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
              "steps": 1800, "checkpoint_every": 20, "threads": 1, "flush_denormal": False},
    "standard": {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
                 "lr": 3e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
                 "steps": 3000, "checkpoint_every": 50, "threads": 1, "flush_denormal": True},
    "full": {"p": 113, "train_fraction": 0.3, "d_model": 128, "n_heads": 4, "d_mlp": 512,
             "lr": 1e-3, "weight_decay": 1.0, "betas": (0.9, 0.98), "warmup": 10,
             "steps": 30000, "checkpoint_every": 100, "threads": None, "flush_denormal": False},
}

_INT_KEYS = ("p", "d_model", "n_heads", "d_mlp", "warmup", "steps", "checkpoint_every")
_FLOAT_KEYS = ("train_fraction", "lr", "weight_decay")


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a training ``config`` (the keys of :data:`GROKKING_SETTINGS`), checked, JSON-friendly."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    missing = [k for k in (*_INT_KEYS, *_FLOAT_KEYS, "betas") if k not in config]
    if missing:
        raise ValueError(f"config is missing {missing}")
    cfg = dict(config)
    check_prime(cfg["p"])
    for key in _INT_KEYS:
        check_int(cfg[key], key, min=0 if key == "warmup" else 1)
    check_fraction(cfg["train_fraction"], "train_fraction", inclusive="neither")
    check_float(cfg["lr"], "lr", min=0, inclusive="neither")
    check_float(cfg["weight_decay"], "weight_decay", min=0)
    betas = cfg["betas"]
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
        raise TypeError(f"betas must be a pair of numbers, got {type(betas).__name__}")
    if len(betas) != 2:
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    # JSON-friendly (the cache key)
    cfg["betas"] = [check_float(b, f"betas[{i}]", min=0, max=1, inclusive="left") for i, b in enumerate(betas)]
    cfg["threads"] = None if cfg.get("threads") is None else check_int(cfg["threads"], "threads", min=1)
    flush = cfg.pop("flush_denormal", False)
    if not isinstance(flush, bool):
        raise TypeError(f"flush_denormal must be True or False, got {flush!r}")
    if flush:                      # absent when False: earlier runs keep their cache keys
        cfg["flush_denormal"] = True
    return cfg


@contextlib.contextmanager
def flushed_denormals(on: bool) -> Iterator[None]:
    """Inside the block, this thread's CPU arithmetic flushes denormal floats to zero (``on``);
    restored to IEEE behaviour after (torch's default)."""
    if not on:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@contextlib.contextmanager
def fixed_threads(n: Optional[int], device: torch.device) -> Iterator[None]:
    """Run torch on ``n`` CPU threads inside the block (nothing to do for ``None`` or a GPU)."""
    if n is None or device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_modular_addition(config: Mapping[str, Any], seed: int = 0, *, progress: bool = True,
                           device: Optional[torch.device] = None) -> dict[str, Any]:
    """Train one :class:`ModularTransformer` full-batch with AdamW; return plain data.

    Loss: :func:`cross_entropy` on all training pairs each step; AdamW (``lr``, ``betas``,
    decoupled ``weight_decay``) after ``warmup`` steps of linear warm-up, on ``threads`` CPU
    threads if set. A state-dict copy is kept at step 0, every ``checkpoint_every`` steps and at
    the end. Returns
    ``{"steps", "states", "train_loss_per_step", "is_train", "train_seconds"}``.
    """
    cfg = check_config(config)
    seed = check_seed(seed)
    device = runtime.get_device() if device is None else torch.device(device)
    generator = runtime.seed_everything(seed)
    data = modular_addition_data(cfg["p"], cfg["train_fraction"], seed)
    model = ModularTransformer(cfg["p"], cfg["d_model"], cfg["n_heads"], cfg["d_mlp"],
                               generator=generator).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]),
                            weight_decay=cfg["weight_decay"])
    warmup = max(cfg["warmup"], 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    x, y = data.train_pairs.to(device), data.train_labels.to(device)
    n_steps, every = cfg["steps"], cfg["checkpoint_every"]
    curve = torch.empty(n_steps, dtype=torch.float64, device=device)  # no per-step sync on GPU
    steps, states = [0], [state_copy(model)]
    start = time.perf_counter()
    with fixed_threads(cfg["threads"], device), flushed_denormals(cfg.get("flush_denormal", False)):
        for step in progress_bar(range(1, n_steps + 1), desc="grokking", disable=not progress):
            loss = cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            curve[step - 1] = loss.detach()
            if step % every == 0 or step == n_steps:
                steps.append(step)
                states.append(state_copy(model))
    return {"steps": np.array(steps), "states": states, "train_loss_per_step": curve.cpu().numpy(),
            "is_train": data.is_train.numpy(), "train_seconds": time.perf_counter() - start}

