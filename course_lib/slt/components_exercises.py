"""Exercise checkers for notebook 5.5 (components as concepts). Tests against subtle wrong answers
live in ``tests/test_slt_components.py``.

* ``sum_spectrum`` — the Fourier power of a loading over pairs read as a function of
  s = (a + b) mod p (:func:`check_sum_spectrum`);
* ``reliability_prediction`` — a written-down prediction, for the active profile's column budget
  (``quick``: the mode matrix's 4 chains × 20 reads; ``standard``: 8 chains × 500 reads), of how
  reliable the k = 16 neuron group's own χ column is (rank split-half over the pairs) and how many
  of the three frequency groups' columns agree on their own frequency above the noise-only
  control (:func:`check_reliability_prediction`, always against the live measurement: both
  answers are verdicts that do not depend on which network the CPU's numerics trained);
* ``reads_to_reach`` — Spearman–Brown: the reads per chain a reliability needs to reach a target
  (:func:`check_reads_to_reach`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import (CheckResult, as_number, case, check, forbid, prediction_answer,
                         prediction_form)

__all__ = ["solution_sum_spectrum", "check_sum_spectrum", "RELIABILITY_PREDICTION_KEYS",
           "reliability_band", "agreeing_band", "reliability_verdict",
           "check_reliability_prediction_form",
           "check_reliability_prediction", "solution_reads_to_reach", "check_reads_to_reach"]


# --------------------------------------------------------------------------- the spectrum in a + b
def solution_sum_spectrum(values: np.ndarray, pairs: np.ndarray, p: int) -> np.ndarray:
    """r_s = mean of ``values`` over the pairs with (a + b) mod p = s; the power
    |Σ_s (r_s − r̄) e^{−2πiks/p}|² at k = 1 … (p − 1)/2."""
    s = (pairs[:, 0] + pairs[:, 1]) % p
    r = np.bincount(s, weights=values, minlength=p) / np.bincount(s, minlength=p)
    return np.abs(np.fft.rfft(r - r.mean())[1:(p - 1) // 2 + 1]) ** 2


_P = 13


def _grid(p: int) -> np.ndarray:
    a = np.arange(p)
    return np.stack(np.meshgrid(a, a, indexing="ij"), -1).reshape(-1, 2)


def _run(attempt: Callable, values: np.ndarray, pairs: np.ndarray, p: int) -> np.ndarray:
    out = np.asarray(attempt(values.copy(), pairs.copy(), p), dtype=float)
    want = (p - 1) // 2
    assert out.shape == (want,), (f"return one power per frequency k = 1 … {want}, shape ({want},), "
                                  f"got {out.shape}")
    return out


def _compare(attempt: Callable, values: np.ndarray, pairs: np.ndarray, why: str) -> None:
    got = _run(attempt, values, pairs, _P)
    want = solution_sum_spectrum(values, pairs, _P)
    assert np.allclose(got, want, rtol=1e-6, atol=1e-9), (
        f"power {np.round(got, 3).tolist()} should be {np.round(want, 3).tolist()}. {why}")


def _case_wave(attempt: Callable) -> None:
    pairs = _grid(_P)
    s = pairs.sum(1)
    _compare(attempt, np.cos(2 * np.pi * 3 * s / _P), pairs,
             "A wave cos(2π·3(a + b)/p) over all pairs has all its power at k = 3.")


def _case_wrap(attempt: Callable) -> None:
    pairs = _grid(_P)
    s = pairs.sum(1)
    _compare(attempt, np.sin(2 * np.pi * 5 * s / _P) + 0.3 * (s >= _P), pairs,
             "a + b must be taken mod p: pair (7, 9) has s = 3, not 16.")


def _case_operand(attempt: Callable) -> None:
    pairs = _grid(_P)
    got = _run(attempt, np.cos(2 * np.pi * 4 * pairs[:, 0] / _P), pairs, _P)
    assert np.all(got < 1e-9), (
        f"a wave in a alone averages out within every class of a + b over all pairs, so its "
        f"power in a + b is 0; got {np.round(got, 3).tolist()} — read the pairs by a + b, not by a")


def _case_counts(attempt: Callable) -> None:
    rng = np.random.default_rng(3)
    pairs = _grid(_P)
    keep = rng.random(len(pairs)) < 0.4
    keep[np.unique(pairs.sum(1) % _P, return_index=True)[1]] = True     # every class kept
    pairs = pairs[keep]
    values = 2.0 + np.cos(2 * np.pi * 2 * pairs.sum(1) / _P) + 0.2 * rng.standard_normal(len(pairs))
    _compare(attempt, values, pairs,
             "The classes hold different numbers of pairs here: average within a class (a sum "
             "weights each class by its size and adds power that is not in the loading).")


def _case_own(attempt: Callable) -> None:
    with forbid(["course_lib.slt.components:mode_spectrum", "course_lib.slt.components:residue_means"]):
        pairs = _grid(_P)
        _run(attempt, np.cos(2 * np.pi * pairs.sum(1) / _P), pairs, _P)


SUM_SPECTRUM_CASES = [
    case("a wave in a + b", _case_wave, hint="r_s: the mean over the class s; power |rfft(r − r̄)|² at k ≥ 1"),
    case("a + b wraps around mod p", _case_wrap, hint="s = (a + b) % p"),
    case("a wave in one operand", _case_operand, hint="group the pairs by (a + b) mod p"),
    case("classes of unequal size, an offset and noise", _case_counts,
         hint="np.bincount(s, weights=values) / np.bincount(s)"),
    case("your own code", _case_own, hint="write it with numpy; do not call course_lib's mode_spectrum"),
]


def check_sum_spectrum(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``sum_spectrum(values, pairs, p) -> power ((p − 1)/2,)`` on waves, an operand wave,
    wrap-around and unequal classes."""
    return check("sum_spectrum", attempt, SUM_SPECTRUM_CASES, quiet=quiet)


# --------------------------------------------------------------------------- the prediction
RELIABILITY_PREDICTION_KEYS = {
    "own_group_reliability": ("below 0.5", "0.5 to 0.9", "0.9 or more"),
    "groups_agreeing": ("none", "one", "two or three"),
}
#: a column "can be read" when the two halves of the chains agree on it at least this well
RELIABLE = 0.5
#: the upper band edge: Spearman–Brown from ``quick``'s rank split-half can overshoot to here
SATURATED = 0.9


def reliability_band(r: float) -> str:
    """The band of :data:`RELIABILITY_PREDICTION_KEYS` that reliability ``r`` falls in."""
    r = float(r)
    if not np.isfinite(r):
        raise ValueError(f"reliability must be finite, got {r}")
    return "below 0.5" if r < RELIABLE else ("0.5 to 0.9" if r < SATURATED else "0.9 or more")


def agreeing_band(agreeing: int, groups: int = 3) -> str:
    """How many of ``groups`` frequency groups agree on their own k: "none", "one" or "two or
    three"."""
    agreeing, groups = int(agreeing), int(groups)
    if groups < 1 or not 0 <= agreeing <= groups:
        raise ValueError(f"need 0 <= agreeing <= groups and groups >= 1, got {agreeing} of {groups}")
    return "none" if agreeing == 0 else ("one" if agreeing == 1 else "two or three")


def reliability_verdict(reliability: float, agreeing: int, groups: int = 3) -> dict[str, Any]:
    """The measurement in the prediction's terms: the band of the k = 16 group's rank split-half
    reliability, and how many frequency groups' columns agree on their own k above the
    noise-only control."""
    return {"own_group_reliability": reliability_band(reliability),
            "groups_agreeing": agreeing_band(agreeing, groups)}


_FORM = prediction_form(RELIABILITY_PREDICTION_KEYS)


def check_reliability_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the columns are measured."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_reliability_prediction(prediction: Any, reliability: float, agreeing: int,
                                 groups: int = 3, *, quiet: bool = False) -> CheckResult:
    """Compare the prediction with this profile's live measurement (a wrong prediction is a
    result: the message says what was measured)."""
    v = reliability_verdict(reliability, agreeing, groups)
    cases = [_FORM,
             prediction_answer("the k = 16 group's rank split-half reliability",
                               "own_group_reliability", v["own_group_reliability"],
                               f"measured {float(reliability):.2f}"),
             prediction_answer("frequency groups agreeing on their own k above the control",
                               "groups_agreeing", v["groups_agreeing"],
                               f"{int(agreeing)} of {int(groups)} groups")]
    return check("reliability prediction", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- Spearman–Brown
def solution_reads_to_reach(r: float, reads: float, target: float = 0.5) -> float:
    """Reads per chain at which a reliability ``r`` measured with ``reads`` per chain reaches
    ``target`` (Spearman–Brown, same chains): reads · target (1 − r) / (r (1 − target)); inf
    for r ≤ 0."""
    if r <= 0:
        return float("inf")
    return reads * target * (1 - r) / (r * (1 - target))


def _reads_case(attempt: Callable, r: float, reads: float, target: float, why: str) -> None:
    got = as_number(attempt(r, reads, target), "reads_to_reach(r, reads, target)")
    want = solution_reads_to_reach(r, reads, target)
    assert np.isclose(got, want, rtol=1e-6), (
        f"reads_to_reach({r}, {reads}, {target}) = {got:.4g}, should be {want:.4g}. {why}")


def _case_reads_half(attempt: Callable) -> None:
    _reads_case(attempt, 0.2, 100, 0.5,
                "Spearman–Brown: f reads give f r / (1 + (f − 1) r); solve that for f = 0.5. "
                "Not linear in f (0.5 / r): the reliability of an average saturates.")


def _case_reads_other_target(attempt: Callable) -> None:
    _reads_case(attempt, 0.3, 40, 0.8, "keep the target in the formula: f = t (1 − r) / (r (1 − t))")


def _case_reads_already(attempt: Callable) -> None:
    _reads_case(attempt, 0.7, 50, 0.5,
                "a reliability already above the target needs fewer reads than measured (f < 1)")


def _case_reads_no_signal(attempt: Callable) -> None:
    for r in (0.0, -0.05):
        got = as_number(attempt(r, 100, 0.5), "reads_to_reach(r, reads, target)")
        assert got == float("inf"), (
            f"reads_to_reach({r}, 100, 0.5) = {got:.4g}: a reliability ≤ 0 holds no signal to "
            "extrapolate, so no number of reads is predicted — return float('inf')")


def _case_reads_own(attempt: Callable) -> None:
    with forbid(["course_lib.slt.components:budget_to_reach",
                 "course_lib.slt.components:spearman_brown"]):
        attempt(0.2, 100, 0.5)


READS_CASES = [
    case("r = 0.2 at 100 reads, target 0.5", _case_reads_half,
         hint="solve f r / (1 + (f − 1) r) = target for f; the answer is f · reads"),
    case("another target", _case_reads_other_target, hint="f = target (1 − r) / (r (1 − target))"),
    case("already above the target", _case_reads_already, hint="the same formula gives f < 1"),
    case("no signal (r ≤ 0)", _case_reads_no_signal, hint="return float('inf') when r <= 0"),
    case("your own code", _case_reads_own, hint="write the formula; do not call course_lib's"),
]


def check_reads_to_reach(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``reads_to_reach(r, reads, target) -> reads per chain`` (Spearman–Brown)."""
    return check("reads_to_reach", attempt, READS_CASES, quiet=quiet)
