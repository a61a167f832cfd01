"""Models whose learning coefficient is known exactly: the estimator's test bench.

Each ``*_problem`` function returns a :class:`Problem`: a model already at its true parameter w*,
the loss, the data and the answer from :mod:`course_lib.slt.theory`.  The data are noiseless
(y = f(x; w*)), so w* is an exact minimum of the empirical loss L_n, L_n(w*) = 0, and
L_n(w) − L_n(w*) is the K(w) whose singularity the theory resolves.

* Normal crossing: f(x; w) = x · w₁^{k₁} w₂^{k₂} with E_n[x²] = 1 exactly, so
  L_n(w) = mean((f − y)²) = w₁^{2k₁} w₂^{2k₂}: λ = min(1/(2k₁), 1/(2k₂)).
* Reduced-rank regression: f(x) = B A x, A: H × M, B: N × H, true product of rank r
  (Aoyagi & Watanabe 2005).
* Deep linear network: f(x) = W_L ⋯ W_1 x, widths H₁ (input) … H_{L+1} (output), true product of
  rank r (Aoyagi 2024).  The true point is *balanced*: every layer has rank r with equal singular
  values, so no layer sits at a degenerate scale.

Losses use 0.5 · Σ_outputs (f − y)² averaged over samples: the negative log-likelihood of unit
Gaussian noise, up to a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from . import theory
from ..validation import check_int


@dataclass
class Problem:
    """A model at w* with its loss, data and exact answer (λ, multiplicity)."""

    name: str
    model: nn.Module
    loss_fn: Callable[[nn.Module, tuple], torch.Tensor]
    data: tuple[torch.Tensor, torch.Tensor]
    llc: float
    multiplicity: int
    num_params: int

    @property
    def n(self) -> int:
        return int(self.data[0].shape[0])


def squared_error(model: nn.Module, batch: tuple) -> torch.Tensor:
    """0.5 · Σ_outputs (f(x) − y)², averaged over the batch."""
    x, y = batch
    return 0.5 * ((model(x) - y) ** 2).sum(dim=-1).mean()


def mean_squared_error(model: nn.Module, batch: tuple) -> torch.Tensor:
    """mean((f(x) − y)²) over the batch: for the normal crossing this is exactly K(w)."""
    x, y = batch
    return ((model(x) - y) ** 2).mean()


class NormalCrossing(nn.Module):
    """f(x; w) = x · Π wᵢ^{kᵢ}: a one-output model whose loss is a monomial in w."""

    def __init__(self, k: Sequence[int]) -> None:
        super().__init__()
        self.k = tuple(int(v) for v in k)
        self.w = nn.Parameter(torch.zeros(len(self.k), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        product = torch.ones((), dtype=self.w.dtype, device=self.w.device)
        for i, power in enumerate(self.k):
            product = product * self.w[i] ** power
        return x * product


def normal_crossing_problem(k: Sequence[int], n: int = 1000, seed: int = 0) -> Problem:
    """K(w) = Π wᵢ^{2kᵢ} as an exact empirical loss, with w* = 0 (float64)."""
    if isinstance(k, (str, bytes)) or not isinstance(k, Sequence) or not k:
        raise ValueError(f"k must be a non-empty sequence of positive integers, got {k!r}")
    for value in k:
        check_int(value, "every k", min=1)
    n = check_int(n, "n", min=2)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=generator, dtype=torch.float64)
    x = x / x.pow(2).mean().sqrt()  # E_n[x²] = 1 exactly: L_n(w) = K(w)
    lam, mult = theory.normal_crossing_lambda(list(k))
    model = NormalCrossing(k)
    return Problem(f"normal crossing k={tuple(k)}", model, mean_squared_error,
                   (x, torch.zeros(n, dtype=torch.float64)), float(lam), int(mult), len(k))


class LinearChain(nn.Module):
    """f(x) = W_L ⋯ W_1 x with no biases; ``widths`` = (H₁ input, …, H_{L+1} output)."""

    def __init__(self, widths: Sequence[int]) -> None:
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False)
                                    for a, b in zip(self.widths[:-1], self.widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def _balanced_true_point(model: LinearChain, r: int, generator: torch.Generator,
                         scale: float) -> None:
    """Every layer W_l = s · Q_{l+1} Q_lᵀ with orthonormal Q_l (H_l × r): rank r, equal singular
    values s, so the product Q_{L+1} Q_1ᵀ s^L has rank r and the point is balanced."""
    bases = []
    for width in model.widths:
        q, _ = torch.linalg.qr(torch.randn(width, r, generator=generator))
        bases.append(q)
    with torch.no_grad():
        for layer, q_in, q_out in zip(model.layers, bases[:-1], bases[1:]):
            layer.weight.copy_(scale * q_out @ q_in.T)


def deep_linear_problem(widths: Sequence[int], r: int, n: int = 4000, seed: int = 0,
                        scale: float = 1.0) -> Problem:
    """A deep linear network at a balanced true point of rank ``r``, noiseless targets."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {widths!r}")
    for value in widths:
        check_int(value, "every width", min=1)
    r = check_int(r, "r", min=0)
    if r > min(widths):
        raise ValueError(f"r must be ≤ the narrowest width {min(widths)}, got {r}")
    n = check_int(n, "n", min=2)
    generator = torch.Generator().manual_seed(seed)
    model = LinearChain(widths)
    _balanced_true_point(model, r, generator, scale)
    x = torch.randn(n, widths[0], generator=generator)
    with torch.no_grad():
        y = model(x)
    lam, mult = theory.dln_lambda(list(widths), r)
    params = sum(p.numel() for p in model.parameters())
    name = f"deep linear {list(widths)}, r={r}"
    return Problem(name, model, squared_error, (x, y), float(lam), int(mult), params)


def reduced_rank_problem(M: int, H: int, N: int, r: int, n: int = 4000, seed: int = 0) -> Problem:
    """Reduced-rank regression y = B A x (A: H × M, B: N × H) at a balanced rank-``r`` point."""
    problem = deep_linear_problem([M, H, N], r, n=n, seed=seed)
    lam, mult = theory.rrr_lambda(M, H, N, r)
    problem.name = f"reduced rank M={M}, H={H}, N={N}, r={r}"
    problem.llc, problem.multiplicity = float(lam), int(mult)
    return problem


def known_problems(profile: Optional[str] = None) -> list[Problem]:
    """The known-answer bench of notebook 5.2 (same models in every profile)."""
    return [
        normal_crossing_problem((1, 1)),
        normal_crossing_problem((1, 2)),
        normal_crossing_problem((1, 3)),
        reduced_rank_problem(3, 2, 3, 1),
        reduced_rank_problem(4, 3, 4, 1),
        deep_linear_problem([4, 3, 3, 4], 1),
    ]
