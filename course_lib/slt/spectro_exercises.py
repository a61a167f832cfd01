"""Exercise checkers for notebook 5.4 (susceptibilities and influence). Tests against subtle wrong
answers live in ``tests/test_slt_spectro_exercises.py``.

* ``welford_step`` — one streaming update of a cross-covariance (:func:`check_welford_step`);
* ``duplicate_prediction`` — a written-down prediction of how the planted duplicate's twin ranks
  by correlation and by raw BIF, which of the two orders examples like exact retraining, and
  what one copy instead of four changes for retraining that removes the whole example (all its
  copies), checked against the measurement (:func:`check_duplicate_prediction`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..stats import wilson_interval
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
    "twin_first_more_often_by": ("correlation", "raw BIF", "neither"),
    "ranks_like_retraining": ("correlation", "raw BIF"),
    "retraining_with_one_copy": ("twin first less often", "about the same",
                                 "twin first more often"),
}


def _rate(ranks: Any) -> tuple[int, int]:
    ranks = np.asarray(ranks)
    if ranks.ndim != 1 or len(ranks) == 0:
        raise ValueError(f"ranks must be a non-empty 1-d array of ranks, got shape {ranks.shape}")
    return int(np.sum(ranks == 0)), len(ranks)


def duplicate_verdict(rank_corr: Any, rank_raw: Any, spearman: Any, rank_example: Any,
                      rank_example_one_copy: Any) -> dict:
    """What was measured, in the prediction's terms. ``rank_corr``, ``rank_raw``: the twin's rank
    per seed (0 = first) by the chains' correlation and raw BIF; ``spearman``: (seeds, 2) rank
    correlations of [correlation, raw BIF] with exact leave-one-out retraining — the ranking
    "like retraining" wins the median paired difference (seed by seed, more robust to chain noise
    than comparing two medians); ``rank_example``, ``rank_example_one_copy``: the twin's rank by
    retraining without the *whole example* (all its copies), with four copies and with one. The
    copies verdict is "about the same" unless the two rates' 95 % Wilson intervals are disjoint."""
    (fc, n), (fr, _) = _rate(rank_corr), _rate(rank_raw)
    (f4, n4), (f1, n1) = _rate(rank_example), _rate(rank_example_one_copy)
    rc, rr = fc / n, fr / n
    more = "correlation" if rc > rr else "raw BIF" if rr > rc else "neither"
    spearman = np.asarray(spearman, float)
    like = "raw BIF" if np.median(spearman[:, 1] - spearman[:, 0]) > 0 else "correlation"
    lo4, hi4 = wilson_interval(f4, n4)
    lo1, hi1 = wilson_interval(f1, n1)
    copies = ("about the same" if lo1 <= hi4 and lo4 <= hi1
              else "twin first more often" if f1 / n1 > f4 / n4 else "twin first less often")
    return {"twin_first_more_often_by": more, "ranks_like_retraining": like,
            "retraining_with_one_copy": copies}


_DP_FORM = prediction_form(DUPLICATE_PREDICTION_KEYS)


def check_duplicate_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the seeds are read."""
    return check("prediction, written down", prediction, [_DP_FORM], quiet=quiet)


def check_duplicate_prediction(prediction: Any, rank_corr: Any, rank_raw: Any, spearman: Any,
                               rank_example: Any, rank_example_one_copy: Any, *,
                               quiet: bool = False) -> CheckResult:
    """Compare the prediction with the measurement (a wrong prediction is a result: the message
    says what was measured). Arguments as in :func:`duplicate_verdict`."""
    measured = duplicate_verdict(rank_corr, rank_raw, spearman, rank_example,
                                 rank_example_one_copy)
    (fc, n), (fr, _) = _rate(rank_corr), _rate(rank_raw)
    (f4, n4), (f1, n1) = _rate(rank_example), _rate(rank_example_one_copy)
    sp = np.asarray(spearman, float)
    med = np.median(sp, axis=0)
    cases = [_DP_FORM,
             prediction_answer("which ranking puts the twin first more often",
                               "twin_first_more_often_by", measured["twin_first_more_often_by"],
                               f"correlation {fc}/{n}, raw BIF {fr}/{n} seeds"),
             prediction_answer("which ranking orders examples like retraining",
                               "ranks_like_retraining", measured["ranks_like_retraining"],
                               f"median Spearman with leave-one-out: correlation {med[0]:.2f}, "
                               f"raw BIF {med[1]:.2f}; raw BIF closer in "
                               f"{int(np.sum(sp[:, 1] > sp[:, 0]))}/{len(sp)} seeds"),
             prediction_answer("retraining without the whole example, one copy instead of four",
                               "retraining_with_one_copy", measured["retraining_with_one_copy"],
                               f"twin first in {f4}/{n4} seeds with four copies, {f1}/{n1} "
                               "with one")]
    return check("duplicate prediction", prediction, cases, quiet=quiet)
