"""Run devinterp 2.x (the field's library; test extra only) on the course's known-answer problems.

devinterp's API is language-model shaped: it samples from a HuggingFace ``Dataset`` with an
``input_ids`` column and a loss ``(model, input_ids) -> (batch, seq − 1)`` per-token losses.  A
regression problem fits by storing each sample's *index* twice as a length-2 sequence and looking
the sample up inside the loss.  Two of its defaults differ from the course's estimator and are set
explicitly here: the localisation strength (its default is 0, i.e. off) and the initial loss (its
default averages 32 minibatches; here one full batch, so L_n(w*) is exact).  Its ``compute_llc``
averages over *every* step including burn-in; :func:`devinterp_llc` recomputes the estimate from
its loss trace without the burn-in, as the course does, and reports devinterp's own number too.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn


@dataclass
class DevinterpResult:
    mean: float
    std: float
    per_chain: np.ndarray
    library_mean: float  # devinterp's compute_llc: burn-in averaged in
    seconds: float
    steps: int

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds


def per_sample_squared_error(model: nn.Module, batch: tuple) -> torch.Tensor:
    """(batch,) losses of the known problems: the mean over samples is their ``loss_fn``."""
    x, y = batch
    err = (model(x) - y) ** 2
    return err if err.dim() == 1 else 0.5 * err.sum(dim=-1)


def devinterp_llc(model: nn.Module, per_sample_loss: Callable, data: tuple, *, epsilon: float,
                  nbeta: float, gamma: float, num_chains: int, num_draws: int, num_burnin: int,
                  batch_size: int, seed: int = 0) -> DevinterpResult:
    """devinterp's SGLD on ``model`` at its current parameters (w*), estimate without burn-in."""
    from datasets import Dataset
    from devinterp.slt.llc import compute_llc
    from devinterp.slt.sampling import sample

    n = int(data[0].shape[0])
    dataset = Dataset.from_dict({"input_ids": [[i, i] for i in range(n)]}).with_format("torch")

    def token_loss(module: nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
        index = input_ids[:, 0]
        return per_sample_loss(module, tuple(t[index] for t in data))[:, None]

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        samples = sample(model, dataset, {}, lr=epsilon, n_beta=nbeta, localization=gamma,
                         num_chains=num_chains, num_draws=num_draws, num_burnin_steps=num_burnin,
                         batch_size=batch_size, num_init_loss_batches=max(1, n // batch_size),
                         init_seed=seed, device="cpu", loss_fn=token_loss,
                         output_path=Path(folder) / "samples.zarr")
        seconds = time.perf_counter() - start
        summary = compute_llc(samples)
        trace = np.asarray(summary.loss_trace.values, dtype=np.float64)
        init = float(summary.init_loss.values)
        library_mean = float(summary.llc_mean.values)
    per_chain = nbeta * (trace[:, num_burnin:].mean(axis=1) - init)
    return DevinterpResult(float(per_chain.mean()), float(per_chain.std(ddof=1)), per_chain,
                           library_mean, seconds, num_chains * (num_draws + num_burnin))
