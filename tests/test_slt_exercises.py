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
    (lambda e, a: math.inf if e * a > 2 else 1 / (1 - e * a / 4), "edge of stability"),  # > not ≥
    (lambda e, a: math.inf if e * a >= 4 else 1 / (1 - e * a / 4), "edge of stability"),
    (lambda e, a: 1.0, "tiny"),                                      # "SGLD is exact"
])
def test_inflation_wrong_answers_fail(wrong, where):
    result = ex.check_step_size_inflation(wrong, quiet=True)
    assert not result.passed and where in result.message, result.message
