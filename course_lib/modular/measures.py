"""Nanda et al.'s progress measures, computed over saved checkpoints.

The embedding of a model that has grokked writes a few Fourier modes ``cos(w a), sin(w a)`` (the
*key frequencies* ``w = 2πk/p``); these functions find them and measure how much of the model's
answer they carry.

* :func:`fourier_basis` — the orthonormal Fourier basis of functions on Z_p;
* :func:`embedding_spectrum`, :func:`key_frequencies` — the embedding's norm per frequency and the
  frequencies it concentrates on;
* :func:`key_frequency_logits` — restricted and excluded logits (the key frequencies alone, and
  the model without them);
* :func:`progress_measures` — losses, accuracies, restricted/excluded loss, weight norm and the
  embedding spectrum at every checkpoint.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch

from ..validation import check_float, check_int
from ..widgets import progress as progress_bar
from .data import ModularAdditionData, check_prime, mirror_split
from .model import ModularTransformer, cross_entropy

__all__ = ["fourier_basis", "embedding_spectrum", "key_frequencies", "key_frequency_logits",
           "progress_measures"]


def fourier_basis(p: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Orthonormal Fourier basis of functions on Z_p, rows (p, p).

    Row 0 is the constant ``1/√p``; rows ``2k−1, 2k`` are ``√(2/p)·cos(2πkx/p)`` and
    ``√(2/p)·sin(2πkx/p)`` for ``k = 1 … (p−1)/2``. For odd p these p functions are orthonormal, so
    ``fourier_basis(p) @ f`` are the Fourier coefficients of ``f``.
    """
    p = check_prime(p)
    x = torch.arange(p, dtype=torch.float64)
    k = torch.arange(1, (p - 1) // 2 + 1, dtype=torch.float64)[:, None]
    angle = 2 * math.pi * k * x / p
    waves = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1).reshape(p - 1, p)
    basis = torch.cat([torch.full((1, p), 1 / math.sqrt(p), dtype=torch.float64),
                       math.sqrt(2 / p) * waves])
    return basis.to(dtype)


def _number_embedding(source: object) -> torch.Tensor:
    """W_E restricted to the p number tokens, (p, d) or stacked (n, p, d), as float64."""
    if isinstance(source, ModularTransformer):
        return source.W_E.detach()[: source.p].double()
    if isinstance(source, Mapping):
        if "W_E" not in source or "W_U" not in source:
            raise ValueError("a state dict must hold 'W_E' and 'W_U' (a ModularTransformer's)")
        p = source["W_U"].shape[-1]
        return torch.as_tensor(source["W_E"]).detach()[..., :p, :].double()
    if isinstance(source, torch.Tensor):
        if source.ndim not in (2, 3) or not source.dtype.is_floating_point:
            raise ValueError("an embedding must be a float tensor (p, d) or (n, p, d) of the p "
                             f"number tokens, got {tuple(source.shape)} {source.dtype}")
        if not bool(torch.isfinite(source).all()):
            raise ValueError("the embedding contains NaN or inf")
        return source.detach().double()
    raise TypeError("expected a ModularTransformer, its state dict, or an embedding tensor (p, d); "
                    f"got {type(source).__name__}")


def embedding_spectrum(source: object) -> np.ndarray:
    """Norm of the embedding's Fourier component per frequency ``k = 1 … (p−1)/2``.

    ``‖(F W_E)[cos k]‖² + ‖(F W_E)[sin k]‖²`` under the square root, with ``F`` the
    :func:`fourier_basis` and ``W_E`` the p number tokens' embeddings; ``source`` is a model, a
    state dict, an embedding (p, d), or a stack (n, p, d) (then the result is (n, (p−1)/2)).
    """
    emb = _number_embedding(source)
    p = emb.shape[-2]
    coeff = torch.einsum("fx,...xd->...fd", fourier_basis(check_prime(p)), emb)
    power = coeff[..., 1:, :].pow(2).sum(-1)                    # drop the constant
    power = power.reshape(*power.shape[:-1], (p - 1) // 2, 2).sum(-1)
    return power.sqrt().numpy()


def key_frequencies(source: object, *, factor: float = 3.0) -> tuple[int, ...]:
    """The frequencies k the embedding concentrates on (the paper's *key frequencies*).

    Rule: the share of the embedding's non-constant Fourier energy at frequency k,
    ``s_k = n_k² / Σ_j n_j²`` (``n`` = :func:`embedding_spectrum`), is compared with the share
    every frequency would get if the energy were spread evenly, ``1/K`` with ``K = (p−1)/2``; k is
    key when ``s_k > factor / K``. A random embedding (at initialisation) has ``s_k ≈ 1/K`` with
    small spread and yields none; a grokked one has a handful of frequencies each holding several
    times its even share (at most ``K / factor`` frequencies can pass). Sorted ascending.
    """
    factor = check_float(factor, "factor", min=1, inclusive="neither")
    norms = embedding_spectrum(source)
    if norms.ndim != 1:
        raise ValueError("key_frequencies takes one embedding (p, d), not a stack")
    energy = norms ** 2
    total = energy.sum()
    if total <= 0:
        return ()
    share = energy / total
    return tuple(int(k) + 1 for k in np.flatnonzero(share > factor / len(share)))


def _sum_directions(p: int, freqs: Sequence[int], dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Orthonormal rows ``cos(w(a+b))``, ``sin(w(a+b))`` over the p² pairs, (2·len(freqs), p²)."""
    a = torch.arange(p, dtype=torch.float64)
    s = (a[:, None] + a[None, :]).reshape(-1)                   # a + b for pair a·p + b
    w = 2 * math.pi * torch.tensor(list(freqs), dtype=torch.float64)[:, None] / p
    rows = torch.cat([torch.cos(w * s), torch.sin(w * s)]) * (math.sqrt(2) / p)
    return rows.to(dtype=dtype, device=device)


def _check_freqs(freqs: Iterable[int], p: int) -> tuple[int, ...]:
    out = tuple(check_int(k, "key_freqs entry") for k in freqs)
    bad = [k for k in out if not 1 <= k <= (p - 1) // 2]
    if bad:
        raise ValueError(f"key_freqs must lie in 1 … {(p - 1) // 2} for p={p}, got {bad}")
    if len(set(out)) != len(out):
        raise ValueError(f"key_freqs must be distinct, got {out}")
    return out


def key_frequency_logits(logits: torch.Tensor, key_freqs: Iterable[int],
                         mlp_logits: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(restricted, excluded)`` logits over all p² pairs (pair ``a·p + b``), each (p², p).

    Following the paper (and its released code), the MLP's contribution to the logits is split
    over the input pairs: for each output c, its projection ``P`` onto the functions of (a, b)
    ``cos(w(a+b)), sin(w(a+b))`` for the key frequencies w is the key-frequency part (the paper
    projects the MLP neurons' activations; the projection acts on the pair axis, so it commutes
    with the linear map ``W_out W_U`` to the logits and both give the same result).

    * restricted = ``P·mlp_logits + mean over pairs of logits``: the key frequencies plus a
      constant bias per output, everything else ablated;
    * excluded = ``logits − P·mlp_logits``: the model with only the key frequencies removed.

    ``mlp_logits`` defaults to ``logits`` (treat all of the logits as the MLP's).
    """
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        raise TypeError("logits must be a float tensor (p², p)")
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1] ** 2:
        raise ValueError(f"logits must have shape (p², p) over all pairs, got {tuple(logits.shape)}")
    p = check_prime(logits.shape[1])
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("logits contain NaN or inf")
    part = logits if mlp_logits is None else mlp_logits
    if not isinstance(part, torch.Tensor) or part.shape != logits.shape:
        raise ValueError(f"mlp_logits must match logits' shape {tuple(logits.shape)}")
    freqs = _check_freqs(key_freqs, p)
    dtype = torch.float64
    logits, part = logits.to(dtype), part.to(dtype)
    if freqs:
        B = _sum_directions(p, freqs, dtype, logits.device)
        key_part = B.T @ (B @ part)
    else:
        key_part = torch.zeros_like(part)
    restricted = key_part + logits.mean(dim=0, keepdim=True)
    excluded = logits - key_part
    return restricted, excluded


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(-1) == labels).double().mean()) if len(labels) else float("nan")


def progress_measures(states: Sequence[Mapping[str, torch.Tensor]], data: ModularAdditionData,
                      key_freqs: Iterable[int], *, device: Optional[torch.device] = None,
                      progress: bool = False) -> dict[str, np.ndarray]:
    """The paper's progress measures and the losses/accuracies at every checkpoint.

    Each checkpoint runs once on all p² pairs. Returned arrays (one entry per state):

    * ``train_loss``, ``test_loss``; ``train_acc``; ``test_acc`` (mirror-unseen test pairs),
      ``test_acc_all``, ``test_acc_mirror_seen`` (see :func:`mirror_split`);
    * ``restricted_loss``: cross-entropy of the restricted logits (:func:`key_frequency_logits`)
      on the **test** pairs — how well the key-frequency circuit alone generalises;
    * ``excluded_loss``: cross-entropy of the excluded logits on the **training** pairs — how
      much the training performance relies on the key frequencies (rises as the circuit forms);
    * ``weight_norm``: the total squared weight norm ``Σ θ²`` over all parameters;
    * ``embedding_spectrum`` (n, (p−1)/2): :func:`embedding_spectrum` per checkpoint.
    """
    if not isinstance(data, ModularAdditionData):
        raise TypeError(f"data must be ModularAdditionData, got {type(data).__name__}")
    if not len(states):
        raise ValueError("states must not be empty")
    freqs = _check_freqs(key_freqs, data.p)
    device = torch.device("cpu") if device is None else torch.device(device)
    first = states[0]
    d_model, p = first["W_E"].shape[1], data.p
    n_heads, d_mlp = first["W_Q"].shape[0], first["W_in"].shape[1]
    model = ModularTransformer(p, d_model, n_heads, d_mlp).to(device)
    pairs, labels = data.pairs.to(device), data.labels.to(device)
    train, test = data.is_train.to(device), ~data.is_train.to(device)
    seen, unseen = (m.to(device) for m in mirror_split(data))
    names = ("train_loss", "test_loss", "train_acc", "test_acc", "test_acc_all",
             "test_acc_mirror_seen", "restricted_loss", "excluded_loss", "weight_norm")
    out: dict[str, list[float]] = {k: [] for k in names}
    with torch.no_grad():
        for state in progress_bar(states, desc="progress measures", disable=not progress):
            model.load_state_dict(state)
            logits, mlp_logits = model.logits_and_mlp_part(pairs)
            restricted, excluded = key_frequency_logits(logits, freqs, mlp_logits)
            test_logits, test_labels = logits[test], labels[test]
            out["train_loss"].append(float(cross_entropy(logits[train], labels[train])))
            out["test_loss"].append(float(cross_entropy(test_logits, test_labels)))
            out["train_acc"].append(_accuracy(logits[train], labels[train]))
            out["test_acc"].append(_accuracy(test_logits[unseen], test_labels[unseen]))
            out["test_acc_all"].append(_accuracy(test_logits, test_labels))
            out["test_acc_mirror_seen"].append(_accuracy(test_logits[seen], test_labels[seen]))
            out["restricted_loss"].append(float(cross_entropy(restricted[test], test_labels)))
            out["excluded_loss"].append(float(cross_entropy(excluded[train], labels[train])))
            out["weight_norm"].append(float(sum(v.double().pow(2).sum() for v in state.values())))
    result = {k: np.array(v) for k, v in out.items()}
    result["embedding_spectrum"] = embedding_spectrum(torch.stack([s["W_E"][:p] for s in states]))
    return result
