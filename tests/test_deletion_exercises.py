"""Checkers of notebook 2.5's exercises (course_lib.curriculum.deletion_exercises)."""

import types

import numpy as np
import pytest

from course_lib.curriculum import deletion_exercises as ex


def copy_of(f):
    """The same function under a new function object: forbid() swaps only the course's own."""
    return types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__)


def passes(checker, attempt):
    return checker(attempt, quiet=True).passed


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


class _FakeKeepOut:
    """A KeepOutStudy stand-in: which seeds lost red at the predicted weight and the others' damage."""

    def __init__(self, lost=(False, False, True, False), damage=0.005):
        self._lost = np.asarray(lost)
        self.damage_others = {ex.KEEP_OUT_PREDICTED: np.full(len(lost), damage)}

    def lost(self, keep_out):
        assert keep_out == ex.KEEP_OUT_PREDICTED
        return self._lost


GOOD = {"slowest": "routing + deletion", "unlearned, red-free data": "comes back", "routing with keep-out": "red not lost"}


def test_removal_verdict_rules():
    assert ex.removal_verdict(_study(), _FakeKeepOut()) == GOOD
    # a removal that never lost red cannot be slowest; ties in rate go to the larger median
    v = ex.removal_verdict(_study(**{"routing + deletion": (0, 0, np.nan), "data filtering": (4, 4, 90.0)}), _FakeKeepOut())
    assert v["slowest"] == "data filtering"
    s = _study()
    s.unlearn_free = (8, 4, np.inf)        # half is not more than half
    assert ex.removal_verdict(s, _FakeKeepOut())["unlearned, red-free data"] == "stays lost"
    # keep-out: half lost is "not lost"; more than half, then the others' damage decides
    assert ex.removal_verdict(_study(), _FakeKeepOut((True, True, False, False)))["routing with keep-out"] == "red not lost"
    assert ex.removal_verdict(_study(), _FakeKeepOut((True, True, True, False)))["routing with keep-out"] == "red alone lost"
    assert ex.removal_verdict(_study(), _FakeKeepOut((True, True, True, False), 0.1))["routing with keep-out"] \
        == "every colour damaged"


def test_removal_prediction_checks():
    good, ko = dict(GOOD), _FakeKeepOut()
    assert ex.check_removal_prediction_form(good, quiet=True).passed
    assert ex.check_removal_prediction(good, _study(), ko, quiet=True).passed
    for bad in ({**good, "slowest": None}, {**good, "slowest": "routing"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "routing with keep-out"},
                {**good, "routing with keep-out": "red lost"}, "routing + deletion"):
        assert not ex.check_removal_prediction_form(bad, quiet=True).passed, bad
    wrong = dict(good, slowest="data filtering")
    res = ex.check_removal_prediction(wrong, _study(), ko, quiet=True)
    assert not res.passed and "routing + deletion" in res.message
    wrong = dict(good, **{"unlearned, red-free data": "stays lost"})
    assert not ex.check_removal_prediction(wrong, _study(), ko, quiet=True).passed
    wrong = dict(good, **{"routing with keep-out": "red alone lost"})
    res = ex.check_removal_prediction(wrong, _study(), ko, quiet=True)
    assert not res.passed and "red not lost" in res.message
