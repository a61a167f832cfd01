"""Chapter-2 exercise checkers: the reference solutions pass, subtle wrong answers fail."""

import types

import numpy as np
import pytest

from course_lib.curriculum import exercises as ex
from course_lib.curriculum.reactive import PlateauTrigger
from course_lib.curriculum.schedules import Dopesheet, Keyframe


def copy_of(f):
    """The same function under a new function object: forbid() swaps only the course's own."""
    return types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__)


CONE = copy_of(ex.solution_cone_profile)
ROUND = copy_of(ex.solution_roundness)
PLATEAU = copy_of(ex.solution_plateau_step)
SHEET = copy_of(ex.solution_phase_sheet)


def passes(checker, attempt):
    return checker(attempt, quiet=True).passed


# --------------------------------------------------------------------------- cone profile
def cone_origin_centre(z, value):
    levels = np.unique(value)
    r = [np.linalg.norm(z[value == v, :2], axis=1).mean() for v in levels]
    h = [z[value == v, 2].mean() for v in levels]
    return levels, np.array(r), np.array(h)


def cone_3d_radius(z, value):
    levels = np.unique(value)
    r = [np.linalg.norm(z[value == v] - z[value == v].mean(0), axis=1).mean() for v in levels]
    h = [z[value == v, 2].mean() for v in levels]
    return levels, np.array(r), np.array(h)


def cone_median(z, value):
    levels = np.unique(value)
    r = [np.median(np.linalg.norm(z[value == v, :2] - z[value == v, :2].mean(0), axis=1)) for v in levels]
    h = [z[value == v, 2].mean() for v in levels]
    return levels, np.array(r), np.array(h)


def cone_last_column(z, value):
    levels = np.unique(value)
    r = [np.linalg.norm(z[value == v, :2] - z[value == v, :2].mean(0), axis=1).mean() for v in levels]
    h = [z[value == v, -1].mean() for v in levels]
    return levels, np.array(r), np.array(h)


def cone_unsorted(z, value):
    levels = list(dict.fromkeys(value.tolist()))  # order of appearance
    r = [np.linalg.norm(z[value == v, :2] - z[value == v, :2].mean(0), axis=1).mean() for v in levels]
    h = [z[value == v, 2].mean() for v in levels]
    return np.array(levels), np.array(r), np.array(h)


def cone_calls_course(z, value):
    return ex.solution_cone_profile(z, value)


def test_cone_profile():
    assert passes(ex.check_cone_profile, CONE)
    for wrong in (cone_origin_centre, cone_3d_radius, cone_median, cone_last_column, cone_unsorted,
                  cone_calls_course):
        assert not passes(ex.check_cone_profile, wrong), wrong.__name__


# --------------------------------------------------------------------------- roundness
def round_no_centring(z):
    s = np.linalg.svd(z, compute_uv=False)
    return float(s[1] / s[0])


def round_variance(z):
    s = np.linalg.svd(z - z.mean(0), compute_uv=False)
    return float((s[1] / s[0]) ** 2)


def round_dims01(z):
    sd = (z - z.mean(0))[:, :2].std(0)
    return float(sd.min() / sd.max())


def round_smallest(z):
    s = np.linalg.svd(z - z.mean(0), compute_uv=False)
    return float(s[-1] / s[0])


def round_first_over_second(z):
    zc = z - z.mean(0)
    sd = zc.std(0)
    return float(sd[1] / sd[0])


def test_roundness():
    assert passes(ex.check_roundness, ROUND)
    for wrong in (round_no_centring, round_variance, round_dims01, round_smallest, round_first_over_second,
                  lambda z: ex.solution_roundness(z)):
        assert not passes(ex.check_roundness, wrong)


# --------------------------------------------------------------------------- plateau step
def plateau_previous(losses, window, rel):
    prev, flat = None, 0
    for i, x in enumerate(losses):
        if prev is not None:
            flat = 0 if x < prev - rel * abs(prev) else flat + 1
            if flat >= window:
                return i
        prev = x
    return None


def plateau_absolute(losses, window, rel):
    best, flat = None, 0
    for i, x in enumerate(losses):
        if best is None:
            best = x
            continue
        if x < best - rel:
            best, flat = x, 0
        else:
            flat += 1
        if flat >= window:
            return i
    return None


def plateau_no_reset(losses, window, rel):
    best, flat = None, 0
    for i, x in enumerate(losses):
        if best is None:
            best = x
            continue
        if x < best - rel * abs(best):
            best = x
        else:
            flat += 1
        if flat >= window:
            return i
    return None


def plateau_off_by_one(losses, window, rel):
    best, flat = None, 0
    for i, x in enumerate(losses):
        if best is None:
            best = x
            continue
        if x < best - rel * abs(best):
            best, flat = x, 0
        else:
            flat += 1
        if flat >= window - 1:
            return i
    return None


def plateau_with_trigger(losses, window, rel):
    trig = PlateauTrigger(window, rel)
    for i, x in enumerate(losses):
        if trig.update(x):
            return i
    return None


def test_plateau_step():
    assert passes(ex.check_plateau_step, PLATEAU)
    for wrong in (plateau_previous, plateau_absolute, plateau_no_reset, plateau_off_by_one,
                  plateau_with_trigger):
        assert not passes(ex.check_plateau_step, wrong), wrong.__name__


def test_plateau_solution_agrees_with_trigger():
    rng = np.random.default_rng(0)
    for _ in range(50):
        losses = np.cumsum(rng.normal(0, 0.05, 30)) + 3
        window, rel = int(rng.integers(1, 5)), float(rng.choice([0.0, 0.01, 0.05]))
        assert ex.solution_plateau_step(list(losses), window, rel) == plateau_with_trigger(losses, window, rel)


# --------------------------------------------------------------------------- phase sheet
def sheet_one_per_phase(name, boundaries, values, width):
    return Dopesheet([Keyframe(0, {name: values[0]})] +
                     [Keyframe(b, {name: v}) for b, v in zip(boundaries, values[1:])])


def sheet_linear(name, boundaries, values, width):
    frames = [Keyframe(0, {name: values[0]})]
    for b, before, after in zip(boundaries, values[:-1], values[1:]):
        frames += [Keyframe(b, {name: before}, easing="step"), Keyframe(b + width, {name: after}, easing="linear")]
    return Dopesheet(frames)


def sheet_centred(name, boundaries, values, width):
    frames = [Keyframe(0, {name: values[0]})]
    for b, before, after in zip(boundaries, values[:-1], values[1:]):
        frames += [Keyframe(b - width / 2, {name: before}, easing="step"),
                   Keyframe(b + width / 2, {name: after})]
    return Dopesheet(frames)


def sheet_cosine(name, boundaries, values, width):
    frames = [Keyframe(0, {name: values[0]})]
    for b, before, after in zip(boundaries, values[:-1], values[1:]):
        frames += [Keyframe(b, {name: before}, easing="step"), Keyframe(b + width, {name: after}, easing="cosine")]
    return Dopesheet(frames)


def sheet_wrong_name(name, boundaries, values, width):
    return SHEET("lr", boundaries, values, width)


def test_phase_sheet():
    assert passes(ex.check_phase_sheet, SHEET)
    for wrong in (sheet_one_per_phase, sheet_linear, sheet_centred, sheet_cosine, sheet_wrong_name,
                  lambda *a: ex.solution_phase_sheet(*a)):
        assert not passes(ex.check_phase_sheet, wrong)


@pytest.mark.parametrize("checker", [ex.check_cone_profile, ex.check_roundness, ex.check_plateau_step,
                                     ex.check_phase_sheet])
def test_untouched_stub_fails_politely(checker):
    def stub(*args):
        raise NotImplementedError
    result = checker(stub, quiet=True)
    assert not result.passed


# --------------------------------------------------------------------------- fair prediction
ROUND_12 = np.array([0.8, 0.82, 0.85, 0.7, 0.9, 0.78, 0.81, 0.84, 0.86, 0.75, 0.88, 0.83])
FOLDED_12 = np.array([0.3] * 10 + [0.05] * 2)      # 10 of 12 above 0.2
CLEAN_12 = np.array([0.3] * 3 + [0.05] * 9)        # 3 of 12
SOME_12 = np.array([0.3] * 5 + [0.05] * 7)         # 5 of 12: intervals overlap with 3 of 12


def test_fair_verdict_categories():
    assert ex.fair_verdict(ROUND_12, SOME_12, CLEAN_12) == {"roundness": "round", "crumpled": "as many"}
    assert ex.fair_verdict(ROUND_12 * 0.4, FOLDED_12, np.zeros(12)) == {"roundness": "squashed", "crumpled": "more"}
    assert ex.fair_verdict(np.full(12, 0.55), np.zeros(12), FOLDED_12) == {"roundness": "in between",
                                                                          "crumpled": "fewer"}
    assert ex.fair_verdict(ROUND_12, CLEAN_12, CLEAN_12, threshold=0.4)["crumpled"] == "as many"
    with pytest.raises(ValueError):
        ex.fair_verdict([], CLEAN_12, CLEAN_12)
    with pytest.raises(ValueError):
        ex.fair_verdict(ROUND_12, CLEAN_12 * np.nan, CLEAN_12)


def test_fair_prediction_right_and_subtly_wrong():
    measured = (ROUND_12, SOME_12, CLEAN_12)
    right = {"roundness": "round", "crumpled": "as many"}
    assert ex.check_fair_prediction(right, *measured, quiet=True).passed
    wrongs = [
        {"roundness": "round", "crumpled": "more"},         # 5 vs 3 of 12 looks like more, but the intervals overlap
        {"roundness": "squashed", "crumpled": "as many"},   # the old control's shape
        {"roundness": "in between", "crumpled": "as many"},
        {"roundness": "Round", "crumpled": "as many"},      # not one of the answers
        {"roundness": "round", "crumpled": None},           # unfilled
        {"roundness": "round"},                              # missing key
        {"roundness": "round", "crumpled": "as many", "recon": "lower"},  # an extra key
        ("round", "as many"),                                # not a dict
        None,
    ]
    for wrong in wrongs:
        result = ex.check_fair_prediction(wrong, *measured, quiet=True)
        assert not result.passed, wrong
    # a wrong prediction's message says what was measured
    msg = ex.check_fair_prediction({"roundness": "round", "crumpled": "more"}, *measured, quiet=True).message
    assert "5/12" in msg and "3/12" in msg


def test_prediction_form_accepts_any_complete_answer_and_refuses_incomplete_ones():
    for answer in ({"roundness": "round", "crumpled": "as many"}, {"roundness": "squashed", "crumpled": "more"}):
        assert ex.check_prediction_form(answer, quiet=True).passed      # the form only: wrong answers pass here
    for wrong in ({"roundness": None, "crumpled": None}, {"roundness": "Round", "crumpled": "as many"},
                  {"roundness": "round"}, {"roundness": "round", "crumpled": "as many", "x": 1}, None):
        assert not ex.check_prediction_form(wrong, quiet=True).passed, wrong
