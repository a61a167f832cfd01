"""Notebook 5.2's checkers: the solutions pass, subtle wrong answers fail for the right reason."""

from __future__ import annotations

import math

import pytest

from course_lib.slt import exercises as ex


def test_sgld_step_solution_passes():
    assert ex.check_sgld_step(ex.solution_sgld_step, quiet=True).passed


@pytest.mark.parametrize("wrong, where", [
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # no 1/2 on the drift
     w - epsilon * (nbeta * g + gamma * (w - ws)) + math.sqrt(epsilon) * noise, "no noise"),
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # forgets the temperature
     w - epsilon / 2 * (g + gamma * (w - ws)) + math.sqrt(epsilon) * noise, "temperature"),
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # pushes away from w*
     w - epsilon / 2 * (nbeta * g - gamma * (w - ws)) + math.sqrt(epsilon) * noise, "localisation"),
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # tempers the localisation too
     w - epsilon / 2 * nbeta * (g + gamma * (w - ws)) + math.sqrt(epsilon) * noise, "localisation"),
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # noise variance ε², not ε
     w - epsilon / 2 * (nbeta * g + gamma * (w - ws)) + epsilon * noise, "noise"),
    (lambda w, g, ws, *, epsilon, nbeta, gamma, noise:  # forgets the noise
     w - epsilon / 2 * (nbeta * g + gamma * (w - ws)), "noise"),
])
def test_sgld_step_wrong_answers_fail(wrong, where):
    result = ex.check_sgld_step(wrong, quiet=True)
    assert not result.passed and where in result.message, result.message


def test_sgld_step_in_place_update_is_caught():
    def in_place(w, g, ws, *, epsilon, nbeta, gamma, noise):
        w.sub_(epsilon / 2 * (nbeta * g + gamma * (w - ws))).add_(math.sqrt(epsilon) * noise)
        return w

    # the checker passes copies, so an in-place update of the copy is still a correct answer
    assert ex.check_sgld_step(in_place, quiet=True).passed


def test_sgld_step_stub_and_crash_are_reported():
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert "not implemented" in ex.check_sgld_step(stub, quiet=True).message
    crash = ex.check_sgld_step(lambda *a, **k: 1 / 0, quiet=True)
    assert not crash.passed and "ZeroDivisionError" in crash.message


def test_inflation_solution_passes_and_matches_the_estimators_regular_bias():
    assert ex.check_step_size_inflation(ex.solution_step_size_inflation, quiet=True).passed
    # the same discrete variance the estimator test uses: ε / (1 − (1 − εa/2)²) · a
    eps, a = 0.01, 41.0
    assert ex.solution_step_size_inflation(eps, a) == pytest.approx(
        eps / (1 - (1 - eps * a / 2) ** 2) * a)


@pytest.mark.parametrize("wrong, where", [
    (lambda e, a: 1 + e * a / 4, "moderate"),                        # first-order expansion
    (lambda e, a: 1 / (1 - e * a / 2), "tiny"),                      # wrong factor
    (lambda e, a: 1 / (1 - e * a / 4), "edge of stability"),         # never checks stability
    # the old, wrong bound: |1 − εa/2| < 1 read as εa < 2 (at εa = 2 the factor is 0, not −1)
    (lambda e, a: math.inf if e * a >= 2 else 1 / (1 - e * a / 4), "forgets"),
    (lambda e, a: math.inf if e * a > 2 else 1 / (1 - e * a / 4), "overshooting"),
    (lambda e, a: math.inf if e * a >= 3.9 else 1 / (1 - e * a / 4), "close to the edge"),
    (lambda e, a: math.inf if e * a > 4 else 1 / (1 - e * a / 4), "edge of stability"),  # > not ≥
    (lambda e, a: 1.0, "tiny"),                                      # "SGLD is exact"
])
def test_inflation_wrong_answers_fail(wrong, where):
    result = ex.check_step_size_inflation(wrong, quiet=True)
    assert not result.passed and where in result.message, result.message


def test_inflation_stability_edge_is_four():
    """One step multiplies w by 1 − εa/2: stable for 0 < εa < 4, not 2."""
    assert math.isfinite(ex.solution_step_size_inflation(2.0, 1.0))
    assert ex.solution_step_size_inflation(2.0, 1.0) == pytest.approx(2.0)
    assert ex.solution_step_size_inflation(3.9, 1.0) == pytest.approx(40.0)
    assert math.isinf(ex.solution_step_size_inflation(4.0, 1.0))
    # the stationary variance is ε / (1 − (1 − εa/2)²): finite exactly while |1 − εa/2| < 1
    for x in (0.5, 1.9, 2.0, 2.1, 3.5, 3.99):
        assert ex.solution_step_size_inflation(x, 1.0) == pytest.approx(x / (1 - (1 - x / 2) ** 2))


def test_burnin_solution_passes_and_matches_a_simulated_chain():
    assert ex.check_burnin_steps(ex.solution_burnin_steps, quiet=True).passed
    # the variance of w_t = ρ w_{t−1} + √ε ξ started at 0, computed exactly step by step
    eps, gamma, tol = 0.02, 3.0, 0.05
    rho, var, stationary = 1 - eps * gamma / 2, 0.0, eps / (1 - (1 - eps * gamma / 2) ** 2)
    steps = 0
    while var < (1 - tol) * stationary:
        var = rho ** 2 * var + eps
        steps += 1
    assert ex.solution_burnin_steps(eps, gamma, tol) == steps


@pytest.mark.parametrize("wrong, where", [
    # the mean's relaxation, ρ^t, instead of the variance's ρ^(2t): twice too long
    (lambda e, g, tol: math.ceil(math.log(tol) / math.log(1 - e * g / 2)), "toy setting"),
    # forgets the 1/2 in the step: ρ = 1 − εγ
    (lambda e, g, tol: math.ceil(math.log(tol) / (2 * math.log(1 - e * g))), "toy setting"),
    # the small-step approximation ρ^(2t) ≈ exp(−εγ t), wrong at εγ = 0.5
    (lambda e, g, tol: math.ceil(math.log(1 / tol) / (e * g)) if g else math.inf, "large step"),
    # "a few relaxation times" τ = 2/(εγ), ignoring the tolerance
    (lambda e, g, tol: 3 * 2 / (e * g) if g else math.inf, "toy setting"),
    # crashes on γ = 0
    (lambda e, g, tol: math.ceil(math.log(tol) / (2 * math.log(1 - e * g / 2))), "no localisation"),
    # returns 0 for γ = 0 ("nothing to wait for")
    (lambda e, g, tol: 0 if g == 0 else ex.solution_burnin_steps(e, g, tol), "no localisation"),
    # log(0) at εγ = 2
    (lambda e, g, tol: math.inf if g <= 0 or abs(1 - e * g / 2) >= 1
     else math.ceil(math.log(tol) / (2 * math.log(abs(1 - e * g / 2)))), "εγ = 2"),
    # forgets the absolute value: log of a negative factor when the pull overshoots
    (lambda e, g, tol: math.inf if g <= 0 or 1 - e * g / 2 >= 1 else 1 if e * g == 2
     else math.ceil(math.log(tol) / (2 * math.log(1 - e * g / 2))), "overshooting"),
    # checks the signed factor against 1: an unstable pull (factor −1.5) gets a (negative) step count
    (lambda e, g, tol: math.inf if g <= 0 or 1 - e * g / 2 >= 1 else 1 if e * g == 2
     else math.ceil(math.log(tol) / (2 * math.log(abs(1 - e * g / 2)))), "unstable"),
])
def test_burnin_wrong_answers_fail(wrong, where):
    result = ex.check_burnin_steps(wrong, quiet=True)
    assert not result.passed and where in result.message, result.message


def test_burnin_stub_and_bad_types_are_reported():
    def stub(*args):
        raise NotImplementedError

    assert "not implemented" in ex.check_burnin_steps(stub, quiet=True).message
    assert not ex.check_burnin_steps(lambda e, g, t: "1198", quiet=True).passed
    assert not ex.check_burnin_steps(lambda e, g, t: None, quiet=True).passed
