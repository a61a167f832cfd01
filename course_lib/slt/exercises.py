"""Exercise checkers for notebook 5.2 (the estimator).  Tests against subtle wrong answers live in
``tests/test_slt_exercises.py``.

* ``sgld_step(w, grad, w_star, *, epsilon, nbeta, gamma, noise)`` — one localised SGLD step;
* ``step_size_inflation(epsilon, curvature)`` — how much a finite step inflates the sampled
  variance of a quadratic potential, i.e. the factor by which λ̂ of a regular model is too large.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ..exercises import CheckResult, case, check

__all__ = ["solution_sgld_step", "check_sgld_step", "solution_step_size_inflation",
           "check_step_size_inflation"]


# ---------------------------------------------------------------------------------- SGLD step

def solution_sgld_step(w: torch.Tensor, grad: torch.Tensor, w_star: torch.Tensor, *,
                       epsilon: float, nbeta: float, gamma: float,
                       noise: torch.Tensor) -> torch.Tensor:
    """w − (ε/2) [nβ ∇L(w) + γ (w − w*)] + √ε · noise, with noise ~ N(0, I) given."""
    return w - epsilon / 2 * (nbeta * grad + gamma * (w - w_star)) + math.sqrt(epsilon) * noise


def _step_test(attempt: Callable, seed: int, epsilon: float, nbeta: float, gamma: float, shape: tuple[int, ...],
               zero_noise: bool, why: str) -> None:
    g = torch.Generator().manual_seed(seed)
    w, grad, w_star = (torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(3))
    noise = torch.zeros(shape, dtype=torch.float64) if zero_noise else torch.randn(
        shape, generator=g, dtype=torch.float64)
    before = [t.clone() for t in (w, grad, w_star, noise)]
    want = solution_sgld_step(w, grad, w_star, epsilon=epsilon, nbeta=nbeta, gamma=gamma,
                              noise=noise)
    got = attempt(w.clone(), grad.clone(), w_star.clone(), epsilon=epsilon, nbeta=nbeta,
                  gamma=gamma, noise=noise.clone())
    assert isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}"
    assert got.shape == want.shape, f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}"
    setting = f"ε = {epsilon:g}, nβ = {nbeta:g}, γ = {gamma:g}"
    err = float((got.double() - want).abs().max())
    assert err < 1e-9, f"with {setting} your step is off by up to {err:.3g}. {why}"
    for t, t0 in zip((w, grad, w_star, noise), before):
        assert torch.equal(t, t0), "your function changed one of its inputs in place"


SGLD_STEP_CASES = [
    case("no noise, no localisation", _step_test, 0, 0.1, 1.0, 0.0, (3,), True,
         "Without noise and γ the step is plain gradient descent with step ε/2 on nβ L.",
         hint="the drift is −(ε/2) · nβ · grad: note the factor 1/2"),
    case("the temperature", _step_test, 1, 0.01, 50.0, 0.0, (4,), True,
         "nβ multiplies the loss gradient: the posterior is ∝ exp(−nβ L).",
         hint="scale the gradient by nbeta"),
    case("the localisation", _step_test, 2, 0.01, 10.0, 3.0, (4,), True,
         "The Gaussian pull −(ε/2) γ (w − w*) draws the chain back towards w*; it is not scaled by nβ.",
         hint="add gamma * (w - w_star) inside the bracket, with the same ε/2 and no nbeta"),
    case("the noise", _step_test, 3, 0.04, 10.0, 1.0, (5,), False,
         "Langevin noise has variance ε per step: it is √ε · N(0, 1), not ε · N(0, 1).",
         hint="add math.sqrt(epsilon) * noise"),
    case("many chains at once", _step_test, 4, 0.003, 7.0, 2.0, (6, 5), False,
         "The same formula applies elementwise to a (chains, parameters) tensor.",
         hint="use tensor operations only, so shapes broadcast"),
]


def check_sgld_step(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``sgld_step(w, grad, w_star, *, epsilon, nbeta, gamma, noise) -> tensor``."""
    return check("sgld_step", attempt, SGLD_STEP_CASES, quiet=quiet)


# ------------------------------------------------------------------------ step-size inflation

def solution_step_size_inflation(epsilon: float, curvature: float) -> float:
    """Variance of SGLD's stationary law for U(w) = a w²/2, divided by the exact variance 1/a.

    One step is w ← (1 − εa/2) w + √ε ξ, so the stationary variance s² solves
    s² = (1 − εa/2)² s² + ε, i.e. s² = ε / (1 − (1 − εa/2)²) = 1 / (a (1 − εa/4)).
    The ratio is 1 / (1 − εa/4) while the chain is stable (|1 − εa/2| < 1, i.e. εa < 2);
    beyond that the chain has no stationary law and diverges: return infinity.
    """
    x = epsilon * curvature
    if x >= 2:
        return math.inf
    return 1.0 / (1.0 - x / 4.0)


def _inflation_test(attempt: Callable, epsilon: float, curvature: float, why: str) -> None:
    want = solution_step_size_inflation(epsilon, curvature)
    got = attempt(epsilon, curvature)
    assert isinstance(got, (int, float)) and not isinstance(got, bool), (
        f"return a number, got {type(got).__name__}")
    where = f"ε = {epsilon:g}, a = {curvature:g} (εa = {epsilon * curvature:g})"
    if math.isinf(want):
        assert math.isinf(got) and got > 0, f"for {where} expected infinity, got {got!r}. {why}"
    else:
        assert math.isclose(got, want, rel_tol=1e-9), (
            f"for {where} expected {want:.6g}, got {got!r}. {why}")


INFLATION_CASES = [
    case("a tiny step", _inflation_test, 1e-6, 10.0, "As ε → 0 SGLD samples the exact law: ratio → 1.",
         hint="the ratio is stationary variance / (1/a)"),
    case("a moderate step", _inflation_test, 0.01, 40.0, "Solve s² = (1 − εa/2)² s² + ε for s².",
         hint="the step multiplies w by (1 − εa/2) and adds noise of variance ε"),
    case("a large step", _inflation_test, 0.04, 40.0, "At εa = 1.6 a first-order expansion "
                                         "(1 + εa/4) is far off: use the exact ratio.",
         hint="1 − (1 − x)² = x (2 − x) with x = εa/2"),
    case("the edge of stability", _inflation_test, 0.05, 40.0, "At εa = 2 the factor 1 − εa/2 = −1: "
                                                  "the chain oscillates forever, with no stationary "
                                                  "law.",
         hint="return math.inf when εa ≥ 2"),
    case("beyond it", _inflation_test, 0.07, 40.0, "For 2 < εa < 4 the formula 1/(1 − εa/4) is still "
                                      "finite, but the chain diverges.",
         hint="check stability before using the formula"),
]


def check_step_size_inflation(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``step_size_inflation(epsilon, curvature) -> float``."""
    return check("step_size_inflation", attempt, INFLATION_CASES, quiet=quiet)
