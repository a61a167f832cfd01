"""Exercise checkers for notebook 5.6 (colour modes). Tests against subtle wrong answers live in
``tests/test_slt_colour_modes.py``.

* ``harmonic_r2`` — the pooled first-harmonic R² of mode loadings over hue
  (:func:`check_harmonic_r2`);
* ``colour_prediction`` — a written-down prediction of what the colour models' modes show,
  checked against the measurement (:func:`check_colour_prediction`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form

__all__ = ["solution_harmonic_r2", "check_harmonic_r2", "COLOUR_PREDICTION_KEYS",
           "colour_verdict", "check_colour_prediction_form", "check_colour_prediction"]


def solution_harmonic_r2(loadings: np.ndarray, hue_deg: np.ndarray) -> float:
    """1 − Σ residual² / Σ (u − ū)², pooled over the columns of ``loadings`` (colours × modes),
    for the least-squares fit of each column by a + b cos h + c sin h (h in radians)."""
    u = np.asarray(loadings, dtype=float).reshape(len(hue_deg), -1)
    h = np.radians(hue_deg)
    X = np.stack([np.ones_like(h), np.cos(h), np.sin(h)], axis=1)
    coef, *_ = np.linalg.lstsq(X, u, rcond=None)
    return float(1 - ((u - X @ coef) ** 2).sum() / ((u - u.mean(0)) ** 2).sum())


_HUE = np.arange(36) * 10.0


def _compare(attempt: Callable, u: np.ndarray, why: str) -> None:
    got = attempt(u.copy(), _HUE.copy())
    got = float(np.asarray(got))
    want = solution_harmonic_r2(u, _HUE)
    assert np.isclose(got, want, atol=1e-6), f"R² {got:.4f} should be {want:.4f}. {why}"


def _case_wheel(attempt: Callable) -> None:
    h = np.radians(_HUE)
    _compare(attempt, np.stack([np.cos(h + 0.4), 0.5 * np.sin(h + 0.4)], axis=1),
             "Two loadings that are cos and sin of hue (any phase, any scale) fit exactly: 1.")


def _case_offset(attempt: Callable) -> None:
    h = np.radians(_HUE)
    rng = np.random.default_rng(0)
    u = np.stack([3.0 + np.cos(h), -2.0 + np.sin(2 * h)], axis=1)
    _compare(attempt, u + 0.1 * rng.standard_normal(u.shape),
             "Fit an intercept (a) in each column, and work in radians: an offset is not "
             "variance, and a second harmonic (sin 2h) is not fitted by cos h, sin h.")


def _case_pooled(attempt: Callable) -> None:
    h = np.radians(_HUE)
    rng = np.random.default_rng(1)
    u = np.stack([np.cos(h), 0.05 * rng.standard_normal(len(h))], axis=1)
    _compare(attempt, u,
             "Pool the two columns: 1 − (total residual) / (total variance). Averaging each "
             "column's own R² gives a weak noise column as much say as the strong wave.")


def _case_uneven(attempt: Callable) -> None:
    hue = np.array([h for h in _HUE if not 150 <= h <= 240])   # the 26 trained hues only
    h = np.radians(hue)
    rng = np.random.default_rng(2)
    u = np.stack([1.0 + np.cos(h + 0.3), np.sin(h) + 0.3 * np.cos(2 * h)], axis=1)
    u = u + 0.05 * rng.standard_normal(u.shape)
    got = float(np.asarray(attempt(u.copy(), hue.copy())))
    want = solution_harmonic_r2(u, hue)
    assert np.isclose(got, want, atol=1e-6), (
        f"R² {got:.4f} should be {want:.4f} on the 26 hues outside the held-out band: use the hues "
        "you are given (not 36 evenly spaced ones), and fit by least squares — projecting on cos "
        "and sin is a least-squares fit only on an evenly spaced full circle.")


def _case_three(attempt: Callable) -> None:
    h = np.radians(_HUE)
    rng = np.random.default_rng(3)
    u = np.stack([np.cos(h), np.sin(h), rng.standard_normal(len(h))], axis=1)
    _compare(attempt, u, "Fit every column of loadings, not only the first two: a third, noisy "
             "mode lowers the pooled R².")


def _case_own(attempt: Callable) -> None:
    with forbid(["course_lib.slt.colour_modes:harmonic_r2"]):
        h = np.radians(_HUE)
        attempt(np.stack([np.cos(h), np.sin(h)], axis=1), _HUE.copy())


HARMONIC_CASES = [
    case("a perfect wheel", _case_wheel, hint="X = [1, cos h, sin h]; np.linalg.lstsq(X, u)"),
    case("offsets, noise and a second harmonic", _case_offset,
         hint="np.radians(hue_deg); keep the column of ones"),
    case("a strong and a weak mode", _case_pooled,
         hint="sum the squared residuals over both columns before dividing"),
    case("hues that are not evenly spaced", _case_uneven,
         hint="h = np.radians(hue_deg) from the argument; np.linalg.lstsq, not a projection"),
    case("three modes", _case_three, hint="fit all columns of loadings at once"),
    case("your own code", _case_own, hint="write it with numpy; do not call harmonic_r2"),
]


def check_harmonic_r2(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``harmonic_r2(loadings, hue_deg) -> float`` on a wheel, offsets and noise, and a
    strong and a weak column."""
    return check("harmonic_r2", attempt, HARMONIC_CASES, quiet=quiet)


# --------------------------------------------------------------------------- the prediction
COLOUR_PREDICTION_KEYS = {
    "untrained_wheel": ("as strong as the trained model's", "weaker than the trained model's"),
    "anchored_red_mode": (True, False),
}


def colour_verdict(untrained_r2: float, trained_r2: float, anchored_red: float,
                   unanchored_red: float, even_share: float) -> dict[str, Any]:
    """The measurement in the prediction's terms. The untrained network's wheel is "as strong"
    when its first-harmonic R² is at least the trained one's minus 0.05; the anchored model has
    a red mode when its largest red concentration is above twice the even share *and* above the
    unanchored control's."""
    strong = float(untrained_r2) >= float(trained_r2) - 0.05
    red = float(anchored_red) > 2 * float(even_share) and anchored_red > unanchored_red
    return {"untrained_wheel": ("as strong as the trained model's" if strong
                                else "weaker than the trained model's"),
            "anchored_red_mode": bool(red)}


_FORM = prediction_form(COLOUR_PREDICTION_KEYS)


def check_colour_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the modes are read."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_colour_prediction(prediction: Any, untrained_r2: float, trained_r2: float,
                            anchored_red: float, unanchored_red: float, even_share: float, *,
                            quiet: bool = False) -> CheckResult:
    """Compare the prediction with the measurement (a wrong prediction is a result: the message
    says what was measured)."""
    v = colour_verdict(untrained_r2, trained_r2, anchored_red, unanchored_red, even_share)
    cases = [_FORM,
             prediction_answer("the untrained network's wheel", "untrained_wheel",
                               v["untrained_wheel"],
                               f"R² {untrained_r2:.2f} untrained, {trained_r2:.2f} trained"),
             prediction_answer("a red mode in the anchored model", "anchored_red_mode",
                               v["anchored_red_mode"],
                               f"red share {anchored_red:.2f} anchored, {unanchored_red:.2f} "
                               f"unanchored, even spread {even_share:.2f}")]
    return check("colour prediction", prediction, cases, quiet=quiet)
