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


# --------------------------------------------------------------------------- 2.5: lost-seed recovery
LOST = copy_of(ex.solution_lost_seed_recovery)


def _lost_variant(*, condition=True, censor="inf", stays=True, rel_from="intact", strict=False):
    from course_lib.curriculum.deletion import recovery_step

    def attempt(steps, error, intact, margin):
        kind, value = margin
        out = []
        for e, base in zip(error, intact):
            if condition and e[0] - base <= 0.01:
                continue
            if kind == "abs":
                target = base + value
            elif rel_from == "intact":
                target = base + value * (e[0] - base)
            else:
                target = value * e[0]
            ok = e < target if strict else e <= target
            if stays:
                r = recovery_step(steps, e, target - (1e-12 if strict else 0.0))
            else:
                hits = np.flatnonzero(ok)
                r = int(steps[hits[0]]) if len(hits) else None
            if r is None:
                if censor == "drop":
                    continue
                out.append(np.nan if censor == "nan" else np.inf)
            else:
                out.append(float(r))
        return np.asarray(out)
    return attempt


def test_lost_seed_recovery_solution_passes():
    assert passes(ex.check_lost_seed_recovery, LOST)
    assert passes(ex.check_lost_seed_recovery, _lost_variant())


@pytest.mark.parametrize("wrong", [
    dict(condition=False), dict(censor="drop"), dict(censor="nan"), dict(stays=False),
    dict(rel_from="zero"), dict(strict=True)])
def test_lost_seed_recovery_wrong_answers_fail(wrong):
    res = ex.check_lost_seed_recovery(_lost_variant(**wrong), quiet=True)
    assert not res.passed, wrong


def test_lost_seed_recovery_index_not_step_fails():
    def by_index(steps, error, intact, margin):
        return LOST(np.arange(len(steps)), error, intact, margin)
    assert not passes(ex.check_lost_seed_recovery, by_index)


def test_lost_seed_recovery_forbids_the_course_study():
    from course_lib.curriculum import deletion

    def cheat(steps, error, intact, margin):
        return deletion.recovery_steps(steps, error, np.asarray(intact) + margin[1])
    res = ex.check_lost_seed_recovery(cheat, quiet=True)
    assert not res.passed and "course's own" in res.message


def test_lost_seed_recovery_stub_and_none():
    def stub(steps, error, intact, margin):
        raise NotImplementedError
    assert "not implemented" in ex.check_lost_seed_recovery(stub, quiet=True).message
    assert not passes(ex.check_lost_seed_recovery, lambda *a: None)


# --------------------------------------------------------------------------- 2.5: the removal prediction
class _FakeStudy:
    """A RemovalStudy stand-in with chosen recovery counts: method → (lost, recovered, median)."""

    def __init__(self, few, unlearn_free):
        self.few, self.unlearn_free = few, unlearn_free

    def recovery(self, method, kind, margin):
        from course_lib.curriculum.deletion import Recovery
        lost, rec, med = self.unlearn_free if (method == "unlearning" and kind == "red-free") else self.few[method]
        return Recovery(lost=lost, n=8, steps=np.zeros(lost), recovered=rec, budget=300, median=med, low=med, high=med)


def _study(**over):
    few = {"anchoring + deletion": (4, 4, 20.0), "routing + deletion": (3, 1, np.inf),
           "data filtering": (6, 6, 10.0), "unlearning": (8, 8, 20.0)}
    few.update(over)
    return _FakeStudy(few, (8, 7, 30.0))


def test_removal_verdict_rules():
    assert ex.removal_verdict(_study()) == {"slowest": "routing + deletion", "unlearned, red-free data": "comes back"}
    # a removal that never lost red cannot be slowest; ties in rate go to the larger median
    v = ex.removal_verdict(_study(**{"routing + deletion": (0, 0, np.nan), "data filtering": (4, 4, 90.0)}))
    assert v["slowest"] == "data filtering"
    s = _study()
    s.unlearn_free = (8, 4, np.inf)        # half is not more than half
    assert ex.removal_verdict(s)["unlearned, red-free data"] == "stays lost"


def test_removal_prediction_checks():
    good = {"slowest": "routing + deletion", "unlearned, red-free data": "comes back"}
    assert ex.check_removal_prediction_form(good, quiet=True).passed
    assert ex.check_removal_prediction(good, _study(), quiet=True).passed
    for bad in ({"slowest": None, "unlearned, red-free data": "comes back"},
                {"slowest": "routing", "unlearned, red-free data": "comes back"},
                {**good, "extra": 1}, "routing + deletion"):
        assert not ex.check_removal_prediction_form(bad, quiet=True).passed, bad
    wrong = dict(good, slowest="data filtering")
    res = ex.check_removal_prediction(wrong, _study(), quiet=True)
    assert not res.passed and "routing + deletion" in res.message
    wrong = dict(good, **{"unlearned, red-free data": "stays lost"})
    assert not ex.check_removal_prediction(wrong, _study(), quiet=True).passed
