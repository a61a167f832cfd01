"""The chapter's exercise checkers: solutions pass, known-wrong attempts fail, nothing raises."""

import colorsys
import sys

import matplotlib.colors
import numpy as np
import pytest
import torch

import course_lib.color
import course_lib.color.metrics
import course_lib.color.spaces
from course_lib import color
from course_lib.color import hsv_to_rgb
from course_lib.color.metrics import hue_order_score as course_score_alias
from course_lib.color.metrics import winding_number as course_winding_alias
from course_lib.exercises import FAIL_MARK
from course_lib.color.exercises import (
    PREDICTION_CURVES,
    check_hsv_to_rgb,
    check_hue_order_score,
    check_predictions,
    check_winding_number,
    planted_curves,
    plot_planted_curves,
    solution_hsv_to_rgb,
    solution_hue_order_score,
    solution_winding_number,
)

# ---------------------------------------------------------------- known-wrong hsv_to_rgb attempts


def sextant_table(hsv, wrap):
    """The textbook six-case table; ``wrap=False`` forgets to take the sector modulo 6."""
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    i = np.floor(h * 6).astype(int)
    if wrap:
        i = i % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    cases = [i == k for k in range(6)]
    r = np.select(cases, [v, q, p, p, t, v], default=0)
    g = np.select(cases, [t, v, v, q, p, p], default=0)
    b = np.select(cases, [p, p, t, v, v, q], default=0)
    return np.stack([r, g, b], axis=1)


def forgets_wrap(hsv):
    return sextant_table(hsv, wrap=False)


def swaps_channels(hsv):
    return solution_hsv_to_rgb(hsv)[:, ::-1]


def ignores_saturation(hsv):
    full = hsv.copy()
    full[:, 1] = 1.0
    return solution_hsv_to_rgb(full)


def returns_nothing(hsv):
    solution_hsv_to_rgb(hsv)


def crashes(hsv):
    raise RuntimeError("oops")


def transposed(hsv):
    return solution_hsv_to_rgb(hsv).T


def colorsys_loop(hsv):
    return np.array([colorsys.hsv_to_rgb(*row) for row in hsv])


def colorsys_vectorize(hsv):
    f = np.vectorize(colorsys.hsv_to_rgb)
    return np.stack(f(hsv[:, 0], hsv[:, 1], hsv[:, 2]), axis=1)


def own_formula_row_loop(hsv):
    out = np.empty_like(hsv)
    for i in range(len(hsv)):
        out[i] = solution_hsv_to_rgb(hsv[i : i + 1])[0]
    return out


def calls_course_hsv(hsv):
    return color.hsv_to_rgb(hsv)


def calls_matplotlib_hsv(hsv):
    return matplotlib.colors.hsv_to_rgb(hsv)


def test_hsv_solutions_pass():
    assert check_hsv_to_rgb(solution_hsv_to_rgb, quiet=True).passed
    assert check_hsv_to_rgb(lambda x: sextant_table(x, wrap=True), quiet=True).passed


def test_hsv_attempts_that_do_not_compute_it_themselves_fail():
    expected = {
        hsv_to_rgb: "course's own hsv_to_rgb",  # the object bound at import time: seen by the tracer
        calls_course_hsv: "course's own hsv_to_rgb",  # looked up at call time: swapped out
        calls_matplotlib_hsv: "matplotlib.colors.hsv_to_rgb",
        colorsys_loop: "loops over the samples",
        colorsys_vectorize: "loops over the samples",
        own_formula_row_loop: "loops over the samples",
    }
    for attempt, words in expected.items():
        result = check_hsv_to_rgb(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_checks_restore_what_they_swap_and_the_tracer():
    before = (course_lib.color.hsv_to_rgb, course_lib.color.spaces.hsv_to_rgb, matplotlib.colors.hsv_to_rgb,
              course_lib.color.winding_number, course_lib.color.metrics.winding_number,
              course_lib.color.metrics._ordered_steps, sys.gettrace())
    check_hsv_to_rgb(calls_course_hsv, quiet=True)
    check_hsv_to_rgb(crashes, quiet=True)
    check_winding_number(calls_course_winding, quiet=True)
    check_hue_order_score(calls_course_score, quiet=True)
    after = (course_lib.color.hsv_to_rgb, course_lib.color.spaces.hsv_to_rgb, matplotlib.colors.hsv_to_rgb,
             course_lib.color.winding_number, course_lib.color.metrics.winding_number,
             course_lib.color.metrics._ordered_steps, sys.gettrace())
    assert all(a is b for a, b in zip(before, after))


def test_hsv_wrong_attempts_fail_with_the_right_case():
    expected = {
        forgets_wrap: "hue wraps around",
        swaps_channels: "primary colours",
        ignores_saturation: "greys",
        returns_nothing: "return",
        transposed: "shape",
        crashes: "RuntimeError",
    }
    for attempt, words in expected.items():
        result = check_hsv_to_rgb(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_hsv_checker_never_raises_on_bad_attempts(capsys):
    for attempt in (None, 42, "hsv_to_rgb", lambda x: None, lambda x: "red", lambda: 0):
        result = check_hsv_to_rgb(attempt)
        assert not result.passed
    assert FAIL_MARK in capsys.readouterr().out


def test_solution_hsv_matches_library():
    hsv = np.random.default_rng(0).random((50, 3))
    np.testing.assert_allclose(solution_hsv_to_rgb(hsv), hsv_to_rgb(hsv), atol=1e-12)


# ---------------------------------------------------------------- planted curves


def test_planted_curves_have_the_numbers_the_course_measures():
    for n in (8, 12, 36, 360):
        for name, c in planted_curves(n).items():
            assert c.winding == color.winding_number(c.hue, c.z), (n, name)
            assert c.score == pytest.approx(color.hue_order_score(c.hue, c.z), abs=1e-12), (n, name)


def test_planted_curves_known_values():
    c = planted_curves(12)
    table = {name: (c[name].winding, c[name].score) for name in c}
    assert table["wheel"] == (1, 1.0) and table["reversed wheel"] == (-1, 1.0)
    assert table["double wrap"] == (2, 1.0)
    assert table["short arc"] == (0, pytest.approx(11 / 12))
    assert table["fold"] == (0, 0.5) and table["zig-zag wheel"] == (1, 0.5)
    assert table["swapped pair"] == (1, pytest.approx(11 / 12))
    assert table["off-centre wheel"][0] == 1 and table["loop beside the origin"][0] == 0


@pytest.mark.parametrize("n", [0, 6, 10])
def test_planted_curves_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        planted_curves(n)


@pytest.mark.parametrize("n", [7.0, True, "12"])
def test_planted_curves_n_of_the_wrong_type(n):
    with pytest.raises(TypeError, match="n must be"):
        planted_curves(n)


def test_plot_planted_curves_draws_one_panel_each():
    fig = plot_planted_curves(planted_curves(12))
    assert len(fig.axes) == len(PREDICTION_CURVES)
    assert [ax.get_title() for ax in fig.axes] == list(PREDICTION_CURVES)


# ---------------------------------------------------------------- known-wrong winding numbers


def _angles_in_hue_order(hue, z, swap_axes=False):
    order = np.argsort(hue)
    zz = z[order]
    return np.arctan2(zz[:, 0], zz[:, 1]) if swap_axes else np.arctan2(zz[:, 1], zz[:, 0])


def _wrap(x):
    return (x + np.pi) % (2 * np.pi) - np.pi


def winding_no_wrap(hue, z):
    a = _angles_in_hue_order(hue, z)
    return int(np.rint(np.diff(a, append=a[:1]).sum() / (2 * np.pi)))


def winding_no_close(hue, z):
    """Forgets the last → first step but rounds: provably still right (see the test below)."""
    a = _angles_in_hue_order(hue, z)
    return int(np.rint(_wrap(np.diff(a)).sum() / (2 * np.pi)))


def winding_no_close_truncated(hue, z):
    a = _angles_in_hue_order(hue, z)
    return int(_wrap(np.diff(a)).sum() / (2 * np.pi))


def winding_no_sort(hue, z):
    a = np.arctan2(z[:, 1], z[:, 0])
    return int(np.rint(_wrap(np.diff(a, append=a[:1])).sum() / (2 * np.pi)))


def winding_sign_error(hue, z):
    a = _angles_in_hue_order(hue, z)
    return int(np.rint(_wrap(a - np.roll(a, -1)).sum() / (2 * np.pi)))


def winding_swapped_atan2(hue, z):
    a = _angles_in_hue_order(hue, z, swap_axes=True)
    return int(np.rint(_wrap(np.diff(a, append=a[:1])).sum() / (2 * np.pi)))


def winding_truncated(hue, z):
    a = _angles_in_hue_order(hue, z)
    return int(_wrap(np.diff(a, append=a[:1])).sum() / (2 * np.pi))


def winding_not_rounded(hue, z):
    a = _angles_in_hue_order(hue, z)
    return _wrap(np.diff(a, append=a[:1])).sum() / (2 * np.pi)


def winding_over_pi(hue, z):
    a = _angles_in_hue_order(hue, z)
    return int(np.rint(_wrap(np.diff(a, append=a[:1])).sum() / np.pi))


def winding_around_mean(hue, z):
    return solution_winding_number(hue, z - z.mean(axis=0))


def winding_loop(hue, z):
    order = sorted(range(len(hue)), key=lambda i: hue[i])
    total = 0.0
    for i, j in zip(order, order[1:] + order[:1]):
        step = np.arctan2(z[j, 1], z[j, 0]) - np.arctan2(z[i, 1], z[i, 0])
        total += (step + np.pi) % (2 * np.pi) - np.pi
    return round(total / (2 * np.pi))


def calls_course_winding(hue, z):
    return color.winding_number(hue, z)


def calls_course_winding_alias(hue, z):
    return course_winding_alias(hue, z)  # imported before the check: not swapped, but traced


def calls_course_helper(hue, z):
    steps = course_lib.color.metrics._ordered_steps(hue, z)
    return round(steps.sum() / (2 * np.pi))


def test_winding_solutions_pass():
    assert check_winding_number(solution_winding_number, quiet=True).passed
    assert check_winding_number(lambda h, z: float(solution_winding_number(h, z)), quiet=True).passed
    assert check_winding_number(lambda h, z: np.int64(solution_winding_number(h, z)), quiet=True).passed


def test_winding_wrong_attempts_fail_with_the_right_case():
    expected = {
        winding_no_wrap: "the ideal wheel winds +1",
        winding_no_sort: "input in any order",
        winding_sign_error: "the ideal wheel winds +1",
        winding_swapped_atan2: "the ideal wheel winds +1",
        winding_no_close_truncated: "the ideal wheel winds +1",
        winding_truncated: "+0",  # int() truncates 0.99999…: the wheel itself already shows it
        winding_not_rounded: "round the sum",
        winding_over_pi: "the ideal wheel winds +1",
        winding_around_mean: "not centred on the origin",
        winding_loop: "loops over the samples",
        calls_course_winding: "course's own winding_number",
        calls_course_winding_alias: "course's own winding_number",
        calls_course_helper: "course's own _ordered_steps",  # the helper is named itself
        course_winding_alias: "course's own winding_number",
        (lambda hue, z: None): "returned None",
        (lambda hue, z: crashes(z)): "RuntimeError",
    }
    for attempt, words in expected.items():
        result = check_winding_number(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_forgetting_the_closing_step_cannot_change_a_rounded_winding_number():
    """Without the closing step c the sum is k·2π − c with |c| ≤ π: rounding still gives k.

    So the winding checker cannot (and need not) catch it; the hue-order score checker does,
    because there the closing step is one of the N steps counted.
    """
    assert check_winding_number(winding_no_close, quiet=True).passed
    assert not check_hue_order_score(score_no_close, quiet=True).passed


def test_winding_checker_never_raises():
    for attempt in (None, 1, lambda h, z: None, lambda h, z: "one", lambda h, z: True,
                    lambda h, z: np.array([1, 1]), lambda: 1):
        assert not check_winding_number(attempt, quiet=True).passed


# ---------------------------------------------------------------- known-wrong hue-order scores


def _steps(hue, z, close=True, wrap=True, sort=True):
    a = _angles_in_hue_order(hue, z) if sort else np.arctan2(z[:, 1], z[:, 0])
    d = np.diff(a, append=a[:1]) if close else np.diff(a)
    return _wrap(d) if wrap else d


def score_positive_only(hue, z):
    return float(np.mean(_steps(hue, z) > 0))


def score_no_close(hue, z):
    s = _steps(hue, z, close=False)
    return max(np.sum(s > 0), np.sum(s < 0)) / len(s)


def score_off_by_one(hue, z):
    s = _steps(hue, z)
    return max(np.sum(s > 0), np.sum(s < 0)) / (len(s) - 1)


def score_no_wrap(hue, z):
    s = _steps(hue, z, wrap=False)
    return max(np.sum(s > 0), np.sum(s < 0)) / len(s)


def score_no_sort(hue, z):
    s = _steps(hue, z, sort=False)
    return max(np.sum(s > 0), np.sum(s < 0)) / len(s)


def score_small_steps(hue, z):
    """Counts steps shorter than a quarter turn: right on wheels, wrong on zig-zags."""
    return float(np.mean(np.abs(_steps(hue, z)) < np.pi / 2))


def score_loop(hue, z):
    s = _steps(hue, z)
    pos = sum(1 for x in s if x > 0)
    neg = sum(1 for x in s if x < 0)
    return max(pos, neg) / len(s)


def calls_course_score(hue, z):
    return color.hue_order_score(hue, z)


def score_torch(hue, z):
    h = torch.as_tensor(hue)
    zz = torch.as_tensor(z)[torch.argsort(h)]
    a = torch.atan2(zz[:, 1], zz[:, 0])
    d = torch.remainder(torch.roll(a, -1) - a + torch.pi, 2 * torch.pi) - torch.pi
    return torch.maximum((d > 0).double().mean(), (d < 0).double().mean())  # a 0-d tensor


def winding_unwrap(hue, z):
    a = _angles_in_hue_order(hue, z)
    u = np.unwrap(np.append(a, a[0]))
    return round((u[-1] - u[0]) / (2 * np.pi))


def winding_complex(hue, z):
    c = (z[:, 0] + 1j * z[:, 1])[np.argsort(hue)]
    return np.rint(np.angle(np.roll(c, -1) / c).sum() / (2 * np.pi))  # a numpy float, whole


def test_other_right_ways_pass():
    assert check_hue_order_score(score_torch, quiet=True).passed
    assert check_winding_number(winding_unwrap, quiet=True).passed
    assert check_winding_number(winding_complex, quiet=True).passed
    assert check_winding_number(lambda h, z: torch.tensor(solution_winding_number(h, z)), quiet=True).passed


def test_score_solutions_pass():
    assert check_hue_order_score(solution_hue_order_score, quiet=True).passed


def test_score_wrong_attempts_fail_with_the_right_case():
    expected = {
        score_positive_only: "a reversed wheel scores 1 too",
        score_no_close: "the closing step counts",
        score_off_by_one: "the ideal wheel scores 1",
        score_no_wrap: "the ideal wheel scores 1",
        score_no_sort: "input in any order",
        score_small_steps: "fold",
        score_loop: "loops over the samples",
        calls_course_score: "course's own hue_order_score",
        course_score_alias: "course's own hue_order_score",
        (lambda hue, z: None): "returned None",
        (lambda hue, z: crashes(z)): "RuntimeError",
    }
    for attempt, words in expected.items():
        result = check_hue_order_score(attempt, quiet=True)
        assert not result.passed, attempt.__name__
        assert words in result.message, (attempt.__name__, result.message)


def test_score_checker_never_raises():
    for attempt in (None, 0.5, lambda h, z: None, lambda h, z: "high", lambda h, z: [1.0, 2.0], lambda: 1):
        assert not check_hue_order_score(attempt, quiet=True).passed


# ---------------------------------------------------------------- predictions


RIGHT = {"double wrap": (2, 1.0), "short arc": (0, 0.92), "zig-zag wheel": (1, 0.5), "fold": (0, 0.5)}


def test_right_predictions_pass():
    assert check_predictions(RIGHT, quiet=True).passed
    assert check_predictions({**RIGHT, "short arc": [0, 11 / 12]}, quiet=True).passed


@pytest.mark.parametrize("name, wrong, words", [
    ("double wrap", (1, 1.0), "winding"),        # "it is a wheel, it winds once"
    ("short arc", (0, 1.0), "score"),            # forgets the closing step
    ("zig-zag wheel", (1, 1.0), "score"),        # "looks like a wheel"
    ("fold", (0, 1.0), "score"),
    ("short arc", (1, 0.92), "winding"),
])
def test_wrong_predictions_fail(name, wrong, words):
    result = check_predictions({**RIGHT, name: wrong}, quiet=True)
    assert not result.passed and name in result.message and words in result.message, result.message


def test_prediction_checker_never_raises():
    blank = {name: (None, None) for name in PREDICTION_CURVES}
    for attempt in (None, blank, {}, [], {"fold": (0, 0.5)}, {**RIGHT, "fold": "zero"}, {**RIGHT, "fold": (0,)}):
        assert not check_predictions(attempt, quiet=True).passed


def test_the_float_error_case_alone_catches_truncation():
    from course_lib.color.exercises import _case_winding_float_error

    _case_winding_float_error(solution_winding_number)
    with pytest.raises(AssertionError, match="only up to rounding error"):
        _case_winding_float_error(winding_truncated)
