"""Exercise checkers for notebook 5.1. ``check_*`` runs cases against the reader's function; tests
against subtle wrong answers live in ``tests/test_slt_theory.py``."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ..exercises import CheckResult, case, check, forbid

__all__ = ["solution_learning_coefficient", "check_learning_coefficient",
           "solution_predicted_slope", "check_predicted_slope", "SLOPE_TOLERANCE"]

_OWN = ["course_lib.slt.theory:normal_crossing_lambda", "course_lib.slt.theory:normal_crossing_exact"]


# --------------------------------------------------------------------------- λ and m of a normal crossing
def solution_learning_coefficient(k: Sequence[int], h: Sequence[float] | None = None) -> tuple[float, int]:
    """λ = min over the coordinates in K of (h_i + 1)/(2 k_i); m = how many attain it."""
    h = [0.0] * len(k) if h is None else list(h)
    ratios = [(hi + 1) / (2 * ki) for ki, hi in zip(k, h) if ki > 0]
    lam = min(ratios)
    return lam, sum(1 for r in ratios if math.isclose(r, lam, rel_tol=1e-9))


def _answer(attempt: Callable, k: Sequence[int], h: Sequence[float] | None) -> tuple[float, int]:
    out = attempt(k) if h is None else attempt(k, h)
    assert isinstance(out, (tuple, list)) and len(out) == 2, (
        f"return a pair (lam, m), got {out!r}")
    lam, m = out
    assert isinstance(lam, (int, float, np.floating, np.integer)) and math.isfinite(float(lam)), (
        f"lam must be a finite number, got {lam!r}")
    assert isinstance(m, (int, np.integer)) and not isinstance(m, bool), (
        f"m must be an int (a count of coordinates), got {m!r}")
    return float(lam), int(m)


def _lc_test(attempt: Callable, k: Sequence[int], h: Sequence[float] | None, why: str) -> None:
    want_lam, want_m = solution_learning_coefficient(k, h)
    lam, m = _answer(attempt, k, h)
    where = f"k = {tuple(k)}" + (f", h = {tuple(h)}" if h is not None else "")
    assert math.isclose(lam, want_lam, rel_tol=1e-9, abs_tol=1e-12), (
        f"for {where} expected λ = {want_lam:g}, got {lam:g}. {why}")
    assert m == want_m, f"for {where} expected m = {want_m}, got {m}. {why}"


def _lc_own(attempt: Callable) -> None:
    with forbid(_OWN):
        attempt((1, 2))


LEARNING_COEFFICIENT_CASES = [
    case("w1^2 w2^4", _lc_test, (1, 2), None, "The exponent of w_i in K is 2k_i, and the smallest "
                               "ratio wins (the most degenerate direction dominates the volume).",
         hint="λ = min_i (h_i + 1)/(2 k_i)"),
    case("(w1 w2)^2", _lc_test, (1, 1), None, "Both coordinates reach the minimum: m counts them.",
         hint="m = the number of indices that attain the minimum"),
    case("one coordinate", _lc_test, (3,), None, "K = w^6: V(ε) = 2 ε^(1/6).", hint="a single ratio"),
    case("a coordinate absent from K", _lc_test, (0, 2), None, "k_i = 0 means w_i does not appear in K: "
                                                "it constrains nothing and must be skipped.",
         hint="skip indices with k_i = 0"),
    case("a prior that vanishes at 0", _lc_test, (1, 3), (0, 2), "The prior |w_i|^{h_i} adds h_i to "
                                                "the numerator: here both ratios equal 1/2.",
         hint="use (h_i + 1), not 1, in the numerator"),
    case("a prior that breaks a tie", _lc_test, (2, 2), (1, 0), "h = (1, 0) makes the second "
                                               "coordinate the more degenerate one: m = 1.",
         hint="compare (h_i + 1)/(2 k_i) for every i"),
    case("three coordinates", _lc_test, (1, 2, 2), (0.5, 0.0, 0.0), "Several coordinates can tie.",
         hint="count every index at the minimum"),
    case("your own code", _lc_own, hint="compute λ and m yourself, not with normal_crossing_lambda"),
]


def check_learning_coefficient(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``learning_coefficient(k, h=None) -> (lam, m)`` for normal crossings."""
    return check("learning_coefficient", attempt, LEARNING_COEFFICIENT_CASES, quiet=quiet)


# --------------------------------------------------------------------------- predicting the fitted slope
#: How close a predicted slope must be to the least-squares slope of the leading law.
#: Approximations by the slope at a single level (λ − (m − 1)/log(1/ε) at the middle or ends of the
#: range) are off by 0.005–0.02 on the checker's grids; a least-squares prediction agrees to 1e-12.
SLOPE_TOLERANCE = 2e-3


def solution_predicted_slope(k: Sequence[int], eps: np.ndarray) -> float:
    """The slope a naive log-log fit over ``eps`` measures if V(ε) = c ε^λ (log 1/ε)^{m−1} exactly.

    log V = log c + λ log ε + (m − 1) log log(1/ε): a straight line in log ε plus a curved term.
    Least squares over the fitted levels turns the curved term into a negative slope.
    """
    lam, m = solution_learning_coefficient(k)
    x = np.log(np.asarray(eps, dtype=float))
    y = lam * x + (m - 1) * np.log(-x)
    return float(np.polyfit(x, y, 1)[0])


def _slope_test(attempt: Callable, k: Sequence[int], eps: np.ndarray, why: str) -> None:
    want = solution_predicted_slope(k, eps)
    got = attempt(k, np.array(eps, dtype=float))
    assert isinstance(got, (int, float, np.floating)) and math.isfinite(float(got)), (
        f"return one finite number (the slope), got {got!r}")
    got = float(got)
    lo, hi = float(np.min(eps)), float(np.max(eps))
    assert abs(got - want) <= SLOPE_TOLERANCE, (
        f"for k = {tuple(k)} and ε from {lo:.0e} to {hi:.0e} the fit would measure {want:.4f}, "
        f"you predicted {got:.4f}. {why}")


_GRID_WIDE = np.logspace(-12, -2, 21)
_GRID_NARROW = np.logspace(-6, -3, 13)
_GRID_HIGH = np.logspace(-4, -1, 16)

PREDICTED_SLOPE_CASES = [
    case("a simple crossing", _slope_test, (1, 2), _GRID_WIDE, "With m = 1 the leading law is a "
                                          "straight line of slope λ.",
         hint="m = 1: the slope is λ"),
    case("a double crossing", _slope_test, (1, 1), _GRID_WIDE, "With m = 2 the factor log(1/ε) bends "
                                          "the line: the fit's slope is below λ.",
         hint="fit a straight line to λ log ε + (m − 1) log log(1/ε) over the same levels (np.polyfit)"),
    case("a narrow range", _slope_test, (2, 2), _GRID_NARROW, "The bias depends on the range of ε "
                                       "fitted, not only on k.",
         hint="use the levels you are given"),
    case("levels near 1", _slope_test, (1, 1), _GRID_HIGH, "Near ε = 1 the log term changes fastest: "
                                      "the bias is largest.",
         hint="the log factor is (log 1/ε)^(m−1), with m − 1, not m"),
    case("a larger exponent", _slope_test, (3, 1), _GRID_WIDE, "λ = min((0+1)/6, 1/2) = 1/6, m = 1.",
         hint="λ is the minimum, not the maximum"),
]


def check_predicted_slope(attempt: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``predicted_slope(k, eps) -> float`` against the leading-law least-squares slope."""
    return check("predicted_slope", attempt, PREDICTED_SLOPE_CASES, quiet=quiet)
