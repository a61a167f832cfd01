"""Modular addition's data: all p² pairs ``(a, b)`` of Z_p with labels ``(a + b) mod p`` and a split.

* :func:`modular_addition_data` — all p² pairs with labels and a seeded train/test split
  (:class:`ModularAdditionData`); :func:`check_prime` — p must be an odd prime (:func:`is_prime`).
* :func:`mirror_split` — which test pairs are answered by memorising their mirror ``(b, a)``;
  :func:`unordered_coverage` — the share of unordered problems ``{a, b}`` with at least one order
  trained on (30 % of ordered pairs is about 51 % of unordered problems).

**Mirror pairs.** Addition commutes, so a test pair ``(a, b)`` whose mirror ``(b, a)`` is a
training pair can be answered by memorisation. The run's ``test_acc`` therefore counts only the
test pairs whose mirror is *not* in the training set (``a == b`` pairs are their own mirror, never
seen, so they count as unseen); ``test_acc_all`` and ``test_acc_mirror_seen`` are reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..validation import check_fraction, check_int, check_seed

__all__ = ["ModularAdditionData", "modular_addition_data", "mirror_split", "unordered_coverage",
           "is_prime", "check_prime"]


def is_prime(n: int) -> bool:
    """Whether ``n`` is a prime number (trial division; p is small here)."""
    n = check_int(n, "n")
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def check_prime(p: object, name: str = "p") -> int:
    """``p`` as an int when it is an odd prime (≥ 3): TypeError for a non-int, ValueError otherwise."""
    p = check_int(p, name)
    if p < 3 or not is_prime(p):
        raise ValueError(f"{name} must be an odd prime (≥ 3) so that Z_p is a field and the Fourier "
                         f"basis pairs up cleanly, got {p}")
    return p


@dataclass(frozen=True)
class ModularAdditionData:
    """All p² pairs ``(a, b)``, pair ``i = a·p + b``, with label ``(a + b) mod p`` and a split.

    ``pairs (p², 2)`` and ``labels (p²,)`` are LongTensors; ``is_train (p²,)`` a bool tensor.
    """

    p: int
    pairs: torch.Tensor
    labels: torch.Tensor
    is_train: torch.Tensor

    @classmethod
    def from_mask(cls, p: int, is_train: Any) -> "ModularAdditionData":
        """Rebuild the data from ``p`` and a stored train mask (p²,)."""
        p = check_prime(p)
        mask = torch.as_tensor(np.asarray(is_train), dtype=torch.bool)
        if mask.shape != (p * p,):
            raise ValueError(f"is_train must have shape ({p * p},), got {tuple(mask.shape)}")
        a, b = torch.div(torch.arange(p * p), p, rounding_mode="floor"), torch.arange(p * p) % p
        return cls(p, torch.stack([a, b], dim=1), (a + b) % p, mask)

    @property
    def train_pairs(self) -> torch.Tensor:
        return self.pairs[self.is_train]

    @property
    def train_labels(self) -> torch.Tensor:
        return self.labels[self.is_train]

    @property
    def test_pairs(self) -> torch.Tensor:
        return self.pairs[~self.is_train]

    @property
    def test_labels(self) -> torch.Tensor:
        return self.labels[~self.is_train]


def modular_addition_data(p: int, train_fraction: float, seed: int = 0) -> ModularAdditionData:
    """All p² pairs of Z_p with labels ``(a + b) mod p``; a random ``train_fraction`` of them is train.

    The split is a seeded permutation of the pairs (ordered pairs, as in the paper, so a pair and
    its mirror fall on either side independently; see :func:`mirror_split`).
    """
    p = check_prime(p)
    train_fraction = check_fraction(train_fraction, "train_fraction", inclusive="neither")
    seed = check_seed(seed)
    n = p * p
    n_train = int(round(train_fraction * n))
    if not 0 < n_train < n:
        raise ValueError(f"train_fraction={train_fraction} leaves an empty train or test set "
                         f"for p={p} ({n} pairs)")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros(n, dtype=torch.bool)
    mask[order[:n_train]] = True
    return ModularAdditionData.from_mask(p, mask)


def mirror_split(data: ModularAdditionData) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean masks over ``data.test_pairs``: (mirror-seen, mirror-unseen).

    *Mirror-seen*: ``(b, a)`` is a training pair, so memorisation plus commutativity answers
    ``(a, b)`` without any algorithm. *Mirror-unseen*: every other test pair — ``a ≠ b`` with
    ``(b, a)`` also in the test set, and the diagonal ``a == b`` (its own mirror, which is a test
    pair, hence never seen). The two masks partition the test set.
    """
    if not isinstance(data, ModularAdditionData):
        raise TypeError(f"data must be ModularAdditionData, got {type(data).__name__}")
    p = data.p
    test = data.test_pairs
    mirror_index = test[:, 1] * p + test[:, 0]
    seen = data.is_train[mirror_index]
    return seen, ~seen



def unordered_coverage(data: ModularAdditionData) -> float:
    """Share of the p(p+1)/2 unordered problems ``{a, b}`` (``a ≤ b``) of which at least one order,
    ``(a, b)`` or ``(b, a)``, is a training pair.

    For a random split of a fraction f of the ordered pairs this is about ``1 − (1 − f)²`` for
    ``a ≠ b`` (and f on the diagonal): f = 0.3 covers ≈ 51 % of the problems a commutative model
    must solve, not 30 %.
    """
    if not isinstance(data, ModularAdditionData):
        raise TypeError(f"data must be ModularAdditionData, got {type(data).__name__}")
    p = data.p
    train = data.is_train.reshape(p, p)
    either = train | train.T
    upper = torch.triu(torch.ones(p, p, dtype=torch.bool))
    return float(either[upper].double().mean())
