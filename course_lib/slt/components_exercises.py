"""Exercise checkers for notebook 5.5 (components as concepts). Tests against subtle wrong answers
live in ``tests/test_slt_components.py``.

* ``sum_spectrum`` — the Fourier power of a loading over pairs read as a function of
  s = (a + b) mod p (:func:`check_sum_spectrum`);
* ``modes_prediction`` — a written-down prediction of what the modes of the grokked transformer's
  susceptibility matrix are, checked against the measurement (:func:`check_modes_prediction`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form
from ..stats import wilson_interval

__all__ = ["solution_sum_spectrum", "check_sum_spectrum", "MODES_PREDICTION_KEYS",
           "modes_verdict", "check_modes_prediction_form", "check_modes_prediction"]


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
MODES_PREDICTION_KEYS = {
    "top_mode_peak": ("a key frequency", "another frequency"),
    "top_mode_reproduces": (True, False),
    "key_modes_rate": ("clearly above chance", "not clearly above chance"),
}
#: a mode "reproduces" when the two halves of the chains agree on it at least this well
RELIABLE = 0.5


def modes_verdict(top_is_key: bool, top_reliability: float, hits: int, n: int,
                  chance: float) -> dict[str, Any]:
    """The measurement in the prediction's terms: whether the top mode at the final checkpoint
    beats its control at a key frequency; whether its split-half reliability reaches
    :data:`RELIABLE`; whether the rate of key-frequency modes over every seed, checkpoint and
    top mode has a 95 % Wilson interval entirely above the chance rate."""
    lo, _ = wilson_interval(int(hits), int(n))
    return {"top_mode_peak": "a key frequency" if bool(top_is_key) else "another frequency",
            "top_mode_reproduces": bool(float(top_reliability) >= RELIABLE),
            "key_modes_rate": "clearly above chance" if lo > chance else "not clearly above chance"}


_FORM = prediction_form(MODES_PREDICTION_KEYS)


def check_modes_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the modes are read."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_modes_prediction(prediction: Any, top_is_key: bool, top_peak: int,
                           top_reliability: float, hits: int, n: int, chance: float, *,
                           quiet: bool = False) -> CheckResult:
    """Compare the prediction with the measurement (a wrong prediction is a result: the message
    says what was measured)."""
    v = modes_verdict(top_is_key, top_reliability, hits, n, chance)
    lo, hi = wilson_interval(int(hits), int(n))
    cases = [_FORM,
             prediction_answer("the top mode's frequency", "top_mode_peak", v["top_mode_peak"],
                               f"it peaks at k = {top_peak}"),
             prediction_answer("the top mode reproduces across chain halves", "top_mode_reproduces",
                               v["top_mode_reproduces"],
                               f"split-half reliability {top_reliability:.2f}, threshold {RELIABLE}"),
             prediction_answer("the rate of key-frequency modes", "key_modes_rate", v["key_modes_rate"],
                               f"{hits}/{n} modes, 95 % Wilson [{lo:.2f}, {hi:.2f}], chance {chance:.2f}")]
    return check("modes prediction", prediction, cases, quiet=quiet)
