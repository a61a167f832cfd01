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


# ------------------------------------------------------------------------------ susceptibilities

@dataclass
class DevinterpSusceptibilities:
    """devinterp 2.x's susceptibilities of some weight restrictions, read back from its draws.

    ``chi`` (n, components): Cov_C(φ_C, ℓ_x − L) over the pooled (chain, draw) samples of the
    restricted run C, ddof 1 — the *course's* χ, computed from devinterp's draws. ``library``
    (n, components): devinterp's own ``compute_susceptibilities`` output, in its convention,
    E_C[φ L] − E_C[φ ℓ_x] − E_C[φ]·(E_full[L] − E_full[ℓ_x]). ``recomputed``: that formula evaluated
    here in float64 from the same draws (a check that we read its definition right).
    ``centring`` = E_C[φ]·(E_C[L − ℓ_x] − E_full[L − ℓ_x]): with ddof 0,
    library = −chi·(N − 1)/N + centring. ``phi_mean``: E_C[φ] per component. Rows follow ``token_ids``.
    """

    chi: np.ndarray
    library: np.ndarray
    recomputed: np.ndarray
    centring: np.ndarray
    phi_mean: np.ndarray
    components: list
    draws: int                  # pooled samples per component (chains × draws)
    engine_seconds: float       # sample() of every restriction (+ the required "full") + compute
    full_seconds: float         # of which devinterp's required unrestricted run
    steps: int                  # SGLD steps over all runs


def devinterp_susceptibilities(model: nn.Module, token_loss: Callable, token_ids: torch.Tensor,
                               restrictions: dict, *, epsilon: float, nbeta: float, gamma: float,
                               num_chains: int, num_draws: int, num_burnin: int,
                               seed: int = 0) -> DevinterpSusceptibilities:
    """devinterp's ``sample`` + ``compute_susceptibilities`` on fixed-length ``token_ids`` (n, T),
    full batch, every training sequence both the sampling task and the probe.

    ``token_loss(model, input_ids) -> (batch, T − 1)`` per-token losses (devinterp's ``loss_fn``);
    ``restrictions``: name → devinterp ``param_masks`` ({parameter name: bool mask or None}).
    Settings matched to :func:`course_lib.slt.susceptibilities` with ``batch_size=None``:
    * full batch (``batch_size = n``); the observable is all n sequences (``batches_per_draw=1``),
      so φ = L_n(w) − L_n(w*) exactly, and ``init_loss`` is one full batch (exact L_n(w*));
    * burn-in: the course's draw k is the point after ``num_burnin + k`` updates (read before
      that step's update); devinterp draws after its update, so ``num_burnin_steps =
      num_burnin − 1`` puts its draws on the same step counts;
    * localisation γ and nβ passed as they are; devinterp's SGLD is the same update
      (ε/2)(nβ ∇L + γ(w − w*)) + N(0, ε) with masked coordinates frozen.
    devinterp also needs an unrestricted ("full") run, whose means its centring uses: it is run
    and timed too.
    """
    from datasets import Dataset
    from devinterp.slt.sampling import sample
    from devinterp.slt.susceptibilities import compute_susceptibilities

    if num_burnin < 1:
        raise ValueError("num_burnin must be ≥ 1 to align devinterp's draws with the course's")
    ids = torch.as_tensor(token_ids).long()
    n = int(ids.shape[0])
    rows = {tuple(r): i for i, r in enumerate(ids.tolist())}
    if len(rows) != n:
        raise ValueError("token_ids rows must be distinct (they identify the samples)")
    dataset = Dataset.from_dict({"input_ids": ids.tolist()}).with_format("torch")
    runs = {"full": None, **restrictions}
    wr_map, steps, full_seconds = {}, 0, 0.0
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for name, masks in runs.items():
            if masks is None:
                masks = {p: None for p, _ in model.named_parameters()}
            begin = time.perf_counter()
            wr_map[name] = sample(
                model, dataset, {"train": (dataset, 1)}, lr=epsilon, n_beta=nbeta,
                param_masks=masks, localization=gamma, num_chains=num_chains,
                num_draws=num_draws, num_burnin_steps=num_burnin - 1, batch_size=n,
                num_init_loss_batches=1, init_seed=seed, device="cpu", loss_fn=token_loss,
                output_path=Path(folder) / f"{len(wr_map)}.zarr")
            steps += num_chains * (num_draws + num_burnin - 1)
            if name == "full":
                full_seconds = time.perf_counter() - begin
        out = compute_susceptibilities(wr_map, "train", include_sampling_task=True)
        library_flat = np.asarray(out["susceptibilities"]["sus"].values, dtype=np.float64)
        engine = time.perf_counter() - start
        # every array read back before the folder goes
        order = wr_map["full"].dataset["input_ids_train"].values
        loss = {k: np.asarray(v.dataset["loss_train"].values, dtype=np.float64)[..., 0]
                for k, v in wr_map.items()}                       # (chain, draw, n)
        init = float(np.asarray(wr_map["full"].dataset["init_loss"].values).mean())
        wr_order = [str(w) for w in out["susceptibilities"]["wr"].values]
    index = np.array([rows[tuple(r)] for r in order.tolist()])    # observable row → sample
    if sorted(index.tolist()) != list(range(n)):
        raise AssertionError("devinterp's observable does not hold every sample exactly once")
    back = np.argsort(index)
    full_gap = (loss["full"].mean(-1, keepdims=True) - loss["full"]).mean(axis=(0, 1))
    names = list(restrictions)
    chi, recomputed, centring, phi_mean = [], [], [], []
    for name in names:
        probe = loss[name].reshape(-1, n)                      # (N, n) pooled over chains
        L = probe.mean(axis=1)
        phi = L - init
        gap = probe - L[:, None]                                  # ℓ_x − L
        chi.append(((phi - phi.mean())[:, None] * (gap - gap.mean(0))).sum(0) / (len(phi) - 1))
        recomputed.append((phi * L).mean() - (phi[:, None] * probe).mean(0)
                          - phi.mean() * full_gap)
        centring.append(phi.mean() * (-gap.mean(0) - full_gap))
        phi_mean.append(phi.mean())
    library = library_flat[:, [wr_order.index(k) for k in names]]
    return DevinterpSusceptibilities(
        np.stack(chi, 1)[back], library[back], np.stack(recomputed, 1)[back],
        np.stack(centring, 1)[back], np.array(phi_mean), names, num_chains * num_draws, engine,
        full_seconds, steps)


@dataclass
class GrokkingComponents:
    """Chapter 3's transformer cut into components twice: for the course (``split``, a
    :class:`~course_lib.slt.components.ComponentTransformer` where each head is its own parameters,
    ``components``: name → parameter names) and for devinterp (the unsplit ``source`` with
    ``restrictions``: name → boolean masks over its stacked head weights). Same weights either
    way."""

    source: nn.Module
    split: nn.Module
    components: dict
    restrictions: dict
    token_loss: Callable


def grokking_components(source: nn.Module) -> GrokkingComponents:
    """Each attention head, the whole MLP (with ``b_out``) and the embedding (W_E, W_pos).

    devinterp's input: the pair (a, b) as the token ids of a length-2 sequence, so its per-token
    loss has one position, the cross-entropy of the logits at ``=`` against (a + b) mod p."""
    from course_lib.slt.components import ComponentTransformer

    split = ComponentTransformer(source, [list(range(int(source.d_mlp)))])
    components = {f"head {i}": split.head_names(i) for i in range(split.n_heads)}
    components["MLP"] = split.cell_names(0) + ["b_out"]
    components["embedding"] = ["W_E", "W_pos"]
    restrictions = {}
    for i in range(split.n_heads):
        masks = {}
        for part in "QKVO":
            mask = torch.zeros_like(getattr(source, f"W_{part}"), dtype=torch.bool)
            mask[i] = True
            masks[f"W_{part}"] = mask
        restrictions[f"head {i}"] = masks
    restrictions["MLP"] = {name: None for name in ("W_in", "b_in", "W_out", "b_out")}
    restrictions["embedding"] = {"W_E": None, "W_pos": None}
    p = int(source.p)

    def token_loss(model: nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
        labels = (input_ids[:, 0] + input_ids[:, 1]) % p
        return nn.functional.cross_entropy(model(input_ids).float(), labels,
                                           reduction="none")[:, None]

    return GrokkingComponents(source, split, components, restrictions, token_loss)
