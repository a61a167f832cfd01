"""Exercise checkers for notebook 5.2 (the estimator).  Tests against subtle wrong answers live in
``tests/test_slt_exercises.py``.

* ``sgld_step(w, grad, w_star, *, epsilon, nbeta, gamma, noise)`` — one localised SGLD step;
* ``step_size_inflation(epsilon, curvature)`` — how much a finite step inflates the sampled
  variance of a quadratic potential, i.e. the factor by which λ̂ of a regular model is too large;
* ``burnin_steps(epsilon, gamma, tolerance)`` — how many steps a chain started at w* needs before
  the spread along a direction held only by the localisation is within ``tolerance`` of its
  stationary value: the burn-in.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from ..exercises import CheckResult, case, check

__all__ = ["solution_sgld_step", "check_sgld_step", "solution_step_size_inflation",
           "check_step_size_inflation", "solution_burnin_steps", "check_burnin_steps"]


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
    The ratio is 1 / (1 − εa/4) while the chain is stable (|1 − εa/2| < 1, i.e. 0 < εa < 4);
    at εa ≥ 4 the chain has no stationary law and diverges: return infinity.  (At εa = 2 the factor
    is 0: each step forgets w entirely and the variance is exactly ε = 2/a, twice the exact 1/a.)
    """
    x = epsilon * curvature
    if x >= 4:
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
    case("a step that forgets", _inflation_test, 0.05, 40.0, "At εa = 2 the factor 1 − εa/2 is 0, "
                                                "not −1: each step forgets w and the variance is "
                                                "just the noise's, ε = 2/a — twice the exact law's, "
                                                "but perfectly stable.",
         hint="stability needs |1 − εa/2| < 1: what is 1 − εa/2 at εa = 2?"),
    case("an overshooting step", _inflation_test, 0.09, 40.0, "At εa = 3.6 the factor 1 − εa/2 = −0.8: "
                                                 "each step overshoots w* and flips sign, but "
                                                 "shrinks |w|, so the chain is still stable.",
         hint="|1 − εa/2| < 1 holds for every 0 < εa < 4"),
    case("close to the edge", _inflation_test, 0.0975, 40.0, "At εa = 3.9 the chain is still stable, "
                                               "and its variance is 40 times too large.",
         hint="the formula holds right up to εa = 4"),
    case("the edge of stability", _inflation_test, 0.1, 40.0, "At εa = 4 the factor 1 − εa/2 = −1: "
                                                 "|w| never shrinks and the noise piles up — no "
                                                 "stationary law.",
         hint="return math.inf when εa ≥ 4"),
    case("beyond it", _inflation_test, 0.12, 40.0, "For εa > 4 the formula 1/(1 − εa/4) is negative, "
                                      "a sure sign the chain diverges.",
         hint="check stability before using the formula"),
]


def check_step_size_inflation(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``step_size_inflation(epsilon, curvature) -> float``."""
    return check("step_size_inflation", attempt, INFLATION_CASES, quiet=quiet)


# ----------------------------------------------------------------------------------- burn-in

def solution_burnin_steps(epsilon: float, gamma: float, tolerance: float) -> float:
    """Steps until a chain started at w* has a spread within ``tolerance`` of its stationary value,
    along a direction held only by the localisation γ.

    One step multiplies a deviation by ρ = 1 − εγ/2 and adds noise of variance ε, so started at
    w* (variance 0) the variance after t steps is s²_∞ (1 − ρ^{2t}): the shortfall is ρ^{2t}.  The
    burn-in is the smallest integer t with ρ^{2t} ≤ tolerance, t = ⌈log(tolerance) / (2 log|ρ|)⌉ —
    about τ/2 · log(1/tolerance) with the relaxation time τ = 2/(εγ).  Without localisation (γ = 0)
    or with an unstable pull (εγ ≥ 4) there is no stationary spread: infinity.
    """
    rho = abs(1.0 - epsilon * gamma / 2.0)
    if gamma <= 0 or rho >= 1.0:
        return math.inf
    if rho == 0.0:
        return 1
    return math.ceil(math.log(tolerance) / (2.0 * math.log(rho)) - 1e-9)


def _burnin_test(attempt: Callable, epsilon: float, gamma: float, tolerance: float,
                 why: str) -> None:
    want = solution_burnin_steps(epsilon, gamma, tolerance)
    got = attempt(epsilon, gamma, tolerance)
    assert isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool), (
        f"return a number of steps, got {type(got).__name__}")
    got = float(got)
    where = f"ε = {epsilon:g}, γ = {gamma:g}, tolerance = {tolerance:g}"
    if math.isinf(want):
        assert math.isinf(got) and got > 0, f"for {where} expected infinity, got {got!r}. {why}"
        return
    assert math.isfinite(got), f"for {where} expected {want} steps, got {got!r}. {why}"
    # a step (or 0.5 %) either way is rounding or the small-step approximation; more is not
    assert abs(got - want) <= max(1.0, 0.005 * want), f"for {where} expected {want} steps, got {got:g}. {why}"


BURNIN_CASES = [
    case("the course's toy setting", _burnin_test, 5e-4, 5.0, 0.05,
         "The variance, not the mean, starts off: its shortfall after t steps is ρ^(2t) with "
         "ρ = 1 − εγ/2.",
         hint="solve (1 − εγ/2)^(2t) = tolerance for t and round up"),
    case("a tighter tolerance", _burnin_test, 5e-4, 5.0, 0.01,
         "Halving the remaining bias costs a fixed number of extra steps: t grows like log(1/tol).",
         hint="t = log(tolerance) / (2 log(1 − εγ/2))"),
    case("a linear network's setting", _burnin_test, 1e-4, 1.0, 0.05,
         "With γ = 1 and ε = 1e-4 the relaxation time 2/(εγ) is 20,000 steps.",
         hint="the burn-in scales like 1/(εγ)"),
    case("a large step", _burnin_test, 0.1, 5.0, 1e-6,
         "At εγ = 0.5 the approximation log(1 − x) ≈ −x is 15 % off: use the exact factor.",
         hint="use math.log(1 - epsilon * gamma / 2), not −εγ/2"),
    case("no localisation", _burnin_test, 1e-3, 0.0, 0.05,
         "With γ = 0 a flat direction is a random walk: its spread never settles.",
         hint="return math.inf when gamma is 0"),
    case("εγ = 2", _burnin_test, 0.4, 5.0, 0.05,
         "At εγ = 2 the factor 1 − εγ/2 is 0: one step forgets where the chain started.",
         hint="ρ = 0 makes log(ρ) fail: one step is enough"),
    case("an overshooting pull", _burnin_test, 0.6, 5.0, 0.05,
         "At εγ = 3 each step flips the deviation's sign and halves it: |ρ| = 0.5.",
         hint="the shortfall is |ρ|^(2t): take the absolute value"),
    case("an unstable pull", _burnin_test, 1.0, 5.0, 0.05,
         "At εγ ≥ 4, |1 − εγ/2| ≥ 1: the deviation never shrinks.",
         hint="return math.inf when |1 − εγ/2| ≥ 1"),
]


def check_burnin_steps(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``burnin_steps(epsilon, gamma, tolerance) -> number of steps``."""
    return check("burnin_steps", attempt, BURNIN_CASES, quiet=quiet)
