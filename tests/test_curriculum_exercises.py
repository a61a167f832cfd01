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
