"""Exercise checkers for notebook 5.4 (susceptibilities and influence). Tests against subtle wrong
answers live in ``tests/test_slt_spectro_exercises.py``.

* ``welford_step`` — one streaming update of a cross-covariance (:func:`check_welford_step`);
* ``duplicate_prediction`` — a written-down prediction of how the planted duplicate's twin ranks
  under the raw BIF, checked against the measurement (:func:`check_duplicate_prediction`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form

__all__ = ["solution_welford_step", "check_welford_step", "DUPLICATE_PREDICTION_KEYS",
           "check_duplicate_prediction_form", "check_duplicate_prediction", "duplicate_verdict"]


# --------------------------------------------------------------------------- Welford
def solution_welford_step(count: int, mean_a: np.ndarray, mean_b: np.ndarray, comoment: np.ndarray,
                          a: np.ndarray, b: np.ndarray) -> tuple:
    """Add one draw (a, b): c ← c + 1, ā ← ā + (a − ā)/c, b̄ ← b̄ + (b − b̄)/c,
    M ← M + (a − ā_old)(b − b̄_new)ᵀ. Returns the new (count, mean_a, mean_b, comoment)."""
    count = count + 1
    da = a - mean_a
    mean_a = mean_a + da / count
    mean_b = mean_b + (b - mean_b) / count
    return count, mean_a, mean_b, comoment + np.outer(da, b - mean_b)


def _stream(attempt: Callable, A: np.ndarray, B: np.ndarray) -> tuple:
    state = (0, np.zeros(A.shape[1]), np.zeros(B.shape[1]), np.zeros((A.shape[1], B.shape[1])))
    for a, b in zip(A, B):
        out = attempt(*state, a.copy(), b.copy())
        assert isinstance(out, (tuple, list)) and len(out) == 4, (
            f"return (count, mean_a, mean_b, comoment), got {type(out).__name__}")
        state = (out[0], np.asarray(out[1], float), np.asarray(out[2], float),
                 np.asarray(out[3], float))
    return state


def _welford_test(attempt: Callable, shift: float, why: str) -> None:
    rng = np.random.default_rng(7)
    A = rng.standard_normal((60, 3)) + shift
    B = A[:, :2] @ np.array([[1.0, 0.5], [0.0, 1.0]]) + 0.3 * rng.standard_normal((60, 2)) - shift
    count, mean_a, mean_b, M = _stream(attempt, A, B)
    assert count == 60, f"after 60 draws count should be 60, got {count}"
    np.testing.assert_allclose(mean_a, A.mean(0), rtol=1e-12, atol=1e-8, err_msg="mean_a is off")
    np.testing.assert_allclose(mean_b, B.mean(0), atol=1e-8, err_msg="mean_b is off")
    want = (A - A.mean(0)).T @ (B - B.mean(0))
    assert M.shape == want.shape, f"comoment must have shape {want.shape}, got {M.shape}"
    assert np.allclose(M, want, rtol=1e-7, atol=1e-5), (
        f"the co-moment after 60 draws should be Σ(a − ā)(b − b̄)ᵀ = {np.round(want, 3).tolist()}, "
        f"got {np.round(M, 3).tolist()}. {why}")


def _welford_own(attempt: Callable) -> None:
    with forbid(["course_lib.slt.observables:CovarianceAccumulator.update"]):
        _stream(attempt, np.ones((3, 2)), np.ones((3, 1)))


WELFORD_CASES = [
    case("centred draws", _welford_test, 0.0,
         "Use a − ā with the *old* mean and b − b̄ with the *new* one (or the other way round): "
         "both old or both new is off by a factor (c − 1)/c per step.",
         hint="M ← M + (a − ā_old)(b − b̄_new)ᵀ"),
    case("draws far from 0 (shift 1e8)", _welford_test, 1e8,
         "Accumulating Σab and subtracting c·ā b̄ at the end cancels catastrophically far from 0.",
         hint="update the co-moment of deviations, never raw products"),
    case("your own update", _welford_own, hint="write the update with numpy operations"),
]


def check_welford_step(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``welford_step(count, mean_a, mean_b, comoment, a, b) -> (count, mean_a, mean_b,
    comoment)`` against numpy on streamed draws, near 0 and far from it."""
    return check("welford_step", attempt, WELFORD_CASES, quiet=quiet)


# --------------------------------------------------------------------------- the duplicate's rank
DUPLICATE_PREDICTION_KEYS = {
    "twin_first_by_correlation": ("most seeds", "about half", "rarely"),
    "twin_first_by_raw_bif": ("most seeds", "about half", "rarely"),
}


def duplicate_verdict(rank_corr: Any, rank_raw: Any) -> dict:
    """What the seeds measured, in the prediction's terms: "most seeds" (≥ 70 % first), "rarely"
    (≤ 30 %), else "about half"."""
    def word(ranks: Any) -> str:
        rate = float(np.mean(np.asarray(ranks) == 0))
        return "most seeds" if rate >= 0.7 else "rarely" if rate <= 0.3 else "about half"
    return {"twin_first_by_correlation": word(rank_corr), "twin_first_by_raw_bif": word(rank_raw)}


_DP_FORM = prediction_form(DUPLICATE_PREDICTION_KEYS)


def check_duplicate_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the seeds are read."""
    return check("prediction, written down", prediction, [_DP_FORM], quiet=quiet)


def check_duplicate_prediction(prediction: Any, rank_corr: Any, rank_raw: Any, *,
                               quiet: bool = False) -> CheckResult:
    """Compare the prediction with the measured ranks (a wrong prediction is a result: the message
    says what was measured)."""
    measured = duplicate_verdict(rank_corr, rank_raw)
    rc, rr = (float(np.mean(np.asarray(r) == 0)) for r in (rank_corr, rank_raw))
    cases = [_DP_FORM,
             prediction_answer("ranked by correlation", "twin_first_by_correlation",
                               measured["twin_first_by_correlation"],
                               f"first in {rc:.0%} of {len(rank_corr)} seeds"),
             prediction_answer("ranked by raw BIF", "twin_first_by_raw_bif",
                               measured["twin_first_by_raw_bif"],
                               f"first in {rr:.0%} of {len(rank_raw)} seeds")]
    return check("duplicate prediction", prediction, cases, quiet=quiet)
