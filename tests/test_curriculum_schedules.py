"""Schedules: the dopesheet and retargetable transitions (course_lib.curriculum.schedules)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.curriculum import EASINGS, Dopesheet, Keyframe, Transition, cosine, linear, minimum_jerk, step

FAST = settings(max_examples=60, deadline=None)
SMOOTH = ["cosine", "minimum_jerk"]  # zero velocity at both ends
values = st.floats(-100, 100, allow_nan=False)


def numerical_velocity(f, s, h):
    """One-sided finite-difference velocities just left and right of s."""
    return (f(s) - f(s - h)) / h, (f(s + h) - f(s)) / h


# --------------------------------------------------------------------------- the dopesheet
def sheet():
    return Dopesheet([Keyframe(0, {"lr": 0.0, "planar": 0.1}),
                      Keyframe(100, {"lr": 0.01}, easing="linear"),
                      Keyframe(1000, {"planar": 0.0})])


def test_dopesheet_values_between_keyframes():
    s = sheet()
    assert s.values(50) == pytest.approx({"lr": 0.005, "planar": 0.1 * (1 - minimum_jerk(0.05))})
    assert s.value("planar", 500) == pytest.approx(0.05)
    assert s.parameters == ("lr", "planar") and s.steps == (0.0, 100.0, 1000.0)


def test_dopesheet_holds_before_the_first_and_after_the_last_keyframe():
    s = Dopesheet([Keyframe(10, {"w": 1.0}), Keyframe(20, {"w": 3.0})])
    assert s.value("w", -5) == 1.0 and s.value("w", 10) == 1.0
    assert s.value("w", 20) == 3.0 and s.value("w", 1e6) == 3.0


def test_a_parameter_follows_only_the_keyframes_that_set_it():
    s = sheet()  # "planar" is not set at step 100: it eases from 0 to 1000 in one go
    assert s.value("planar", 100) == pytest.approx(0.1 * (1 - minimum_jerk(0.1)))


def test_per_parameter_easings():
    s = Dopesheet([Keyframe(0, {"a": 0.0, "b": 0.0}),
                   Keyframe(10, {"a": 1.0, "b": 1.0}, easing={"a": "step"})])
    assert s.value("a", 9.9) == 0.0 and s.value("a", 10) == 1.0
    assert s.value("b", 5) == pytest.approx(0.5)  # minimum jerk by default


def test_step_easing_holds_then_jumps_at_the_keyframe():
    s = Dopesheet.from_table({0: {"w": 0.02}, 2000: {"w": 0.05}, 5000: {"w": 0.1}}, easing="step")
    assert s.value("w", 1999) == 0.02 and s.value("w", 2000) == 0.05
    assert s.value("w", 4999.5) == 0.05 and s.value("w", 5000) == 0.1


def test_from_table_sorts_steps():
    s = Dopesheet.from_table({100: {"lr": 1.0}, 0: {"lr": 0.0}}, easing="linear")
    assert s.steps == (0.0, 100.0) and s.value("lr", 25) == pytest.approx(0.25)


def test_curve_matches_value_and_keeps_shape():
    s = sheet()
    steps = np.linspace(-50, 1200, 26).reshape(2, 13)
    curve = s.curve("planar", steps)
    assert curve.shape == (2, 13)
    np.testing.assert_allclose(curve, [[s.value("planar", x) for x in row] for row in steps])


@st.composite
def tables(draw):
    n = draw(st.integers(1, 5))
    gaps = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    steps = np.cumsum(gaps).tolist()
    targets = draw(st.lists(values, min_size=n, max_size=n))
    easings = draw(st.lists(st.sampled_from(sorted(EASINGS)), min_size=n, max_size=n))
    return steps, targets, easings


def make(steps, targets, easings):
    return Dopesheet([Keyframe(s, {"x": v}, e) for s, v, e in zip(steps, targets, easings)])


@FAST
@given(tables())
def test_dopesheet_passes_through_every_keyframe(table):
    s = make(*table)
    for step_, target in zip(table[0], table[1]):
        assert s.value("x", step_) == pytest.approx(target, abs=1e-9)


@FAST
@given(tables(), st.floats(0.0, 1.0))
def test_dopesheet_stays_between_neighbouring_keyframes(table, frac):
    steps, targets, _ = table
    s = make(*table)
    for i in range(len(steps) - 1):
        x = s.value("x", steps[i] + frac * (steps[i + 1] - steps[i]))
        lo, hi = sorted(targets[i:i + 2])
        assert lo - 1e-9 <= x <= hi + 1e-9


@FAST
@given(tables())
def test_dopesheet_is_continuous_at_keyframes(table):
    steps, targets, easings = table
    s = make(*table)
    h = 1e-7
    for i, (step_, target) in enumerate(zip(steps, targets)):
        if easings[i] == "step" and i > 0:
            continue  # a step jumps *at* its keyframe by design
        left, right = s.value("x", step_ - h), s.value("x", step_ + h)
        assert left == pytest.approx(target, abs=1e-4) and right == pytest.approx(target, abs=1e-4)


@FAST
@given(tables(), st.sampled_from(SMOOTH))
def test_smooth_easings_have_continuous_velocity_at_keyframes(table, easing):
    steps, targets, _ = table
    s = make(steps, targets, [easing] * len(steps))
    gap = min(np.diff([0] + steps))
    h = 1e-3 * gap
    # a one-sided difference of a curve at rest sees ½·|acceleration|·h ≤ (π²/2)·scale·h/gap²
    tol = 1e-2 * max(1.0, max(abs(t) for t in targets)) / gap
    for step_ in steps:
        left, right = numerical_velocity(lambda x: s.value("x", x), step_, h)
        assert left == pytest.approx(right, abs=tol)
        assert abs(left) <= tol  # both sides at rest


def test_linear_velocity_jumps_at_a_keyframe():
    """The check above would catch a kink: a linear dopesheet has one."""
    s = Dopesheet.from_table({0: {"x": 0.0}, 10: {"x": 1.0}, 20: {"x": 0.0}}, easing="linear")
    left, right = numerical_velocity(lambda x: s.value("x", x), 10, 1e-3)
    assert left == pytest.approx(0.1) and right == pytest.approx(-0.1)


def test_dopesheet_bad_input():
    with pytest.raises(ValueError, match="keyframes is empty"):
        Dopesheet([])
    with pytest.raises(ValueError, match="strictly increasing"):
        Dopesheet([Keyframe(10, {"x": 1.0}), Keyframe(10, {"x": 2.0})])
    with pytest.raises(ValueError, match="strictly increasing"):
        Dopesheet([Keyframe(10, {"x": 1.0}), Keyframe(5, {"x": 2.0})])
    with pytest.raises(ValueError, match="easing must be one of .*, got 'wobble'"):
        Keyframe(0, {"x": 1.0}, easing="wobble")
    with pytest.raises(ValueError, match=r"targets\['x'\] must be a finite number"):
        Keyframe(0, {"x": float("nan")})
    with pytest.raises(ValueError, match="step must be a finite number"):
        Keyframe(float("nan"), {"x": 1.0})
    with pytest.raises(TypeError, match="targets"):
        Keyframe(0, [("x", 1.0)])
    with pytest.raises(TypeError, match=r"targets\['x'\] must be a real number"):
        Keyframe(0, {"x": "high"})
    with pytest.raises(ValueError, match="easing names parameters"):
        Keyframe(0, {"x": 1.0}, easing={"y": "linear"})
    with pytest.raises(ValueError, match="set no parameters"):
        Dopesheet([Keyframe(0, {})])
    with pytest.raises(TypeError, match=r"keyframes\[1\] must be a Keyframe"):
        Dopesheet([Keyframe(0, {"x": 1.0}), (5, {"x": 2.0})])
    with pytest.raises(TypeError, match="from_table"):
        Dopesheet({0: {"x": 1.0}})
    s = sheet()
    with pytest.raises(ValueError, match="unknown parameter name 'momentum'"):
        s.value("momentum", 10)
    with pytest.raises(ValueError, match="unknown parameter name"):
        s.curve("momentum", [1, 2])
    with pytest.raises(ValueError, match="step must be a finite number"):
        s.values(float("nan"))
    with pytest.raises(ValueError, match="steps contains NaN"):
        s.curve("lr", [1.0, float("nan")])


# --------------------------------------------------------------------------- transitions
def test_transition_without_retarget_follows_its_easing():
    t = Transition(2.0, 4.0, start_step=10, duration=100, easing="cosine")
    assert t.value(0) == 2.0 and t.value(10) == 2.0 and t.value(110) == 4.0 and t.value(500) == 4.0
    assert t.value(60) == pytest.approx(3.0)
    assert t.velocity(60) == pytest.approx(2.0 * math.pi / 2 / 100)
    assert t.target == 4.0 and t.end_step == 110 and t.retargeted_at == []


def test_retarget_keeps_value_velocity_and_acceleration_continuous():
    t = Transition(0.0, 1.0, 0, 100)
    x, v, a = t.value(30), t.velocity(30), t.acceleration(30)
    t.retarget(-1.0, 30, duration=50)
    assert t.value(30) == pytest.approx(x) and t.velocity(30) == pytest.approx(v)
    assert t.acceleration(30) == pytest.approx(a)
    assert t.value(80) == -1.0 and t.velocity(80) == 0.0  # arrives at rest
    assert t.target == -1.0 and t.end_step == 80 and t.retargeted_at == [30.0]
    left, right = numerical_velocity(t.value, 30, 1e-4)
    assert left == pytest.approx(right, rel=1e-3)


def test_hermite_segment_meets_its_six_boundary_conditions():
    t = Transition(0.0, 10.0, 0, 20, easing="linear")  # velocity 0.5 per step, no acceleration
    t.retarget(3.0, 10, duration=40)  # x0 = 5, v0 = 0.5, a0 = 0
    assert (t.value(10), t.velocity(10), t.acceleration(10)) == pytest.approx((5.0, 0.5, 0.0))
    end = 50 - 1e-9
    assert (t.value(end), t.velocity(end), t.acceleration(end)) == pytest.approx((3.0, 0, 0),
                                                                                abs=1e-6)
    # the momentum carries it past 5 before it turns back (the documented overshoot)
    assert max(t.curve(np.linspace(10, 50, 401))) > 5.0


def test_retarget_at_rest_is_the_plain_easing():
    t = Transition(0.0, 1.0, 0, 10)
    t.retarget(3.0, 20, duration=10)  # arrived at 10: at rest
    assert t.value(25) == pytest.approx(1.0 + 2.0 * minimum_jerk(0.5))
    s = Transition(0.0, 1.0, 0, 10, easing="step")
    s.retarget(2.0, 5)  # a step transition is at rest until it jumps
    assert s.value(14.9) == 0.0 and s.value(15) == 2.0


def test_retarget_at_the_segment_start_replaces_it():
    t = Transition(0.0, 1.0, 0, 10, easing="linear")
    t.retarget(5.0, 0)
    assert len(t.segments) == 1 and t.value(5) == pytest.approx(2.5)


@FAST
@given(start=values, target=values, new=values, duration=st.floats(10, 1000),
       frac=st.floats(0.02, 0.98), new_duration=st.floats(10, 1000),
       easing=st.sampled_from(["linear", "cosine", "minimum_jerk"]))
def test_retarget_continuity_property(start, target, new, duration, frac, new_duration, easing):
    assume(abs(target - start) > 1e-6)  # in motion (at rest, a retarget uses the plain easing)
    t = Transition(start, target, 0, duration, easing)
    s = frac * duration
    before = (t.value(s), t.velocity(s), t.acceleration(s))
    t.retarget(new, s, duration=new_duration)
    scale = max(1.0, abs(start), abs(target), abs(new))
    assert t.value(s) == pytest.approx(before[0], abs=1e-9 * scale)
    assert t.velocity(s) == pytest.approx(before[1], abs=1e-9 * scale)
    assert t.acceleration(s) == pytest.approx(before[2], abs=1e-9 * scale)
    # numerically: the value curve has no jump and no kink at the retarget
    h = 1e-4 * min(duration, new_duration)
    assert t.value(s - h) == pytest.approx(t.value(s + h), abs=1e-3 * scale)
    left, right = numerical_velocity(t.value, s, h)
    v_scale = scale * (1 / duration + 1 / new_duration)
    assert left == pytest.approx(right, abs=1e-2 * v_scale)
    assert t.value(s + new_duration) == pytest.approx(new)
    assert t.velocity(s + new_duration + 1) == 0.0


@FAST
@given(targets=st.lists(values, min_size=2, max_size=5),
       fracs=st.lists(st.floats(0.05, 0.9), min_size=4, max_size=4))
def test_chained_retargets_stay_continuous(targets, fracs):
    t = Transition(0.0, targets[0], 0, 100)
    s = 0.0
    for new, frac in zip(targets[1:], fracs):
        s = s + frac * 100
        v = t.velocity(s)
        t.retarget(new, s)
        assert t.velocity(s) == pytest.approx(v, abs=1e-9 * max(1.0, abs(v)))
    steps = np.linspace(0, s + 100, 2001)
    x = t.curve(steps)
    assert np.max(np.abs(np.diff(x))) < 0.1 * max(1.0, *map(abs, targets))  # no jumps anywhere
    assert t.value(s + 100) == pytest.approx(targets[-1])


def test_a_naive_restart_would_kink():
    """Restarting at rest from the current value (what retarget avoids) breaks velocity."""
    t = Transition(0.0, 1.0, 0, 100)
    x = t.value(50)
    naive = Transition(x, -1.0, 50, 100)
    left = (t.value(50) - t.value(50 - 1e-3)) / 1e-3
    right = (naive.value(50 + 1e-3) - naive.value(50)) / 1e-3
    assert abs(left - right) > 0.01


def test_transition_bad_input():
    with pytest.raises(ValueError, match="duration must be > 0"):
        Transition(0, 1, 0, 0)
    with pytest.raises(ValueError, match="target must be a finite number"):
        Transition(0, float("nan"))
    with pytest.raises(ValueError, match="easing must be one of"):
        Transition(0, 1, easing="elastic")
    with pytest.raises(TypeError, match="start must be a real number"):
        Transition("0", 1)
    t = Transition(0, 1, 0, 10)
    t.retarget(2, 5)
    with pytest.raises(ValueError, match="retarget only forward"):
        t.retarget(3, 4)
    with pytest.raises(ValueError, match="target must be a finite number"):
        t.retarget(float("inf"), 6)
    with pytest.raises(ValueError, match="duration must be > 0"):
        t.retarget(3, 6, duration=-1)
    with pytest.raises(ValueError, match="step must be a finite number"):
        t.value(float("nan"))


def test_constant_transition_is_at_rest():
    t = Transition.constant(0.3)
    assert t.value(-10) == t.value(10) == 0.3 and t.velocity(5) == 0.0
