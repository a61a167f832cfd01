"""Exercise checkers for notebook 5.6 (colour modes). Tests against subtle wrong answers live in
``tests/test_slt_colour_modes.py``.

* ``harmonic_r2`` — the pooled first-harmonic R² of mode loadings over hue
  (:func:`check_harmonic_r2`);
* ``noise_share`` — where a wheel's R² sits among the R² of its own chains' noise-only
  matrices (:func:`check_noise_share`);
* ``colour_prediction`` — a written-down prediction of what the colour models' modes show,
  read against their own noise, checked against the measurement
  (:func:`check_colour_prediction`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form

__all__ = ["solution_harmonic_r2", "check_harmonic_r2", "solution_noise_share",
           "check_noise_share", "COLOUR_PREDICTION_KEYS",
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


# --------------------------------------------------------------------------- the noise share
def solution_noise_share(real_r2: float, noise_r2: Any) -> float:
    """Share of the noise-only R² values at or above the real one (0: the real wheel beats every
    noise-only matrix). A tie counts against the real wheel."""
    return float(np.mean(np.asarray(noise_r2, dtype=float) >= float(real_r2)))


def _share_case(attempt: Callable, real: float, noise: list, why: str) -> None:
    got = attempt(real, list(noise))
    got = float(np.asarray(got))
    want = solution_noise_share(real, noise)
    assert np.isclose(got, want, atol=1e-9), (
        f"noise_share({real}, {len(noise)} noise values) = {got:.3f}, should be {want:.3f}. {why}")


_NOISE35 = [round(0.45 + 0.012 * i, 3) for i in range(35)]   # 0.45 … 0.858, evenly spread

SHARE_CASES = [
    case("a wheel above every noise-only matrix", _share_case, 0.90, _NOISE35,
         "0.90 is above all 35 noise-only values: the share is 0.",
         hint="np.mean(np.asarray(noise_r2) >= real_r2)"),
    case("a high R² that its noise reaches as often as not", _share_case, 0.80,
         [0.81, 0.91, 0.72, 0.85, 0.79, 0.88, 0.66, 0.83],
         "A high raw R² is not a wheel beyond noise: compare with the noise-only values, not "
         "with a fixed bar or another checkpoint's R².", hint="the answer is a share in [0, 1]"),
    case("a low R² that beats all of its noise", _share_case, 0.42,
         [0.10, 0.21, 0.35, 0.05, 0.30, 0.41], "0.42 is modest, but no noise-only matrix of its "
         "own chains reaches it: the share is 0.", hint="compare with noise_r2 only"),
    case("ties", _share_case, 0.70, [0.70, 0.50, 0.60, 0.70], "A noise-only matrix that reads "
         "exactly as high as the real one counts against it: at or above (>=).",
         hint="use >=, not >"),
    case("three of 35 at the top", _share_case, 0.83, _NOISE35,
         "Count every noise-only value at or above the real one, not only whether the real one "
         "clears the median or the 99th percentile.", hint="a share, not a yes/no"),
]


def check_noise_share(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``noise_share(real_r2, noise_r2) -> float`` against high R² within noise, low R²
    above it, ties and a share that is neither 0 nor 1."""
    return check("noise_share", attempt, SHARE_CASES, quiet=quiet)


# --------------------------------------------------------------------------- the prediction
COLOUR_PREDICTION_KEYS = {
    "trained_wheel": ("beats all its noise", "within its noise"),
    "untrained_wheel": ("beats all its noise", "within its noise"),
    "anchored_red_mode": (True, False),
}


def _wheel_word(share: float) -> str:
    s = float(share)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"a noise share must be in [0, 1], got {share}")
    return "beats all its noise" if s == 0.0 else "within its noise"


def colour_verdict(trained_share: float, untrained_share: float, anchored_red: float,
                   unanchored_red: float, even_share: float) -> dict[str, Any]:
    """The measurement in the prediction's terms. A wheel "beats all its noise" when no
    noise-only matrix of its own chains reads an R² at or above it (noise share 0); the anchored
    model has a red mode when its largest red concentration is above twice the even share *and*
    above the unanchored control's."""
    red = float(anchored_red) > 2 * float(even_share) and anchored_red > unanchored_red
    return {"trained_wheel": _wheel_word(trained_share),
            "untrained_wheel": _wheel_word(untrained_share),
            "anchored_red_mode": bool(red)}


_FORM = prediction_form(COLOUR_PREDICTION_KEYS)


def check_colour_prediction_form(prediction: Any, *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is complete before the modes are read."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_colour_prediction(prediction: Any, trained_share: float, untrained_share: float,
                            anchored_red: float, unanchored_red: float, even_share: float, *,
                            untrained_ratio: Optional[float] = None,
                            statistic: str = "R²", quiet: bool = False) -> CheckResult:
    """Compare the prediction with the measurement (a wrong prediction is a result: the message
    says what was measured). ``untrained_ratio``: the untrained matrix's ‖χ‖ / median
    ‖contrast‖ (:func:`~course_lib.slt.colour_modes.noise_ratio`); well above 1, the message
    says that "within its noise" there means the noise draws a wheel too, not "no wheel".
    ``statistic``: what the shares count (5.6 grades on the scale-aware "σ₂" of
    :func:`~course_lib.slt.colour_modes.wheel_test_2d`, which passes the planted control)."""
    if not isinstance(statistic, str) or not statistic:
        raise ValueError(f"statistic must be a non-empty name, got {statistic!r}")
    v = colour_verdict(trained_share, untrained_share, anchored_red, unanchored_red, even_share)
    note = ""
    if untrained_ratio is not None:
        r = float(untrained_ratio)
        if not (np.isfinite(r) and r > 0):
            raise ValueError(f"untrained_ratio must be a positive number, got {untrained_ratio}")
        note = f"; ‖χ‖ / ‖noise‖ = {r:.1f}"
        if r > 2 and v["untrained_wheel"] == "within its noise":
            note += (" — the matrix is mostly signal, and its noise is a wheel too: the test "
                     "cannot reject here, which is not evidence of no wheel")
    cases = [_FORM,
             prediction_answer("the trained network's wheel against its noise", "trained_wheel",
                               v["trained_wheel"], f"share of noise-only {statistic} at or "
                               f"above the real one: {trained_share:.2f}"),
             prediction_answer("the untrained network's wheel against its noise",
                               "untrained_wheel", v["untrained_wheel"],
                               f"share of noise-only {statistic} at or above the real one: "
                               f"{untrained_share:.2f}{note}"),
             prediction_answer("a red mode in the anchored model", "anchored_red_mode",
                               v["anchored_red_mode"],
                               f"red share {anchored_red:.2f} anchored, {unanchored_red:.2f} "
                               f"unanchored, even spread {even_share:.2f}")]
    result = check("colour prediction", prediction, cases, quiet=quiet)
    if "cannot reject" in note and not quiet:   # right or wrong: how to read "within"
        print(f"  note on the untrained wheel: {note.removeprefix('; ')}")
    return result
