"""Schedules: easings, the dopesheet, retargetable transitions and reactive phases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.curriculum import (
    EASINGS,
    Dopesheet,
    Keyframe,
    PlateauTrigger,
    ReactiveSchedule,
    ThresholdTrigger,
    Transition,
    cosine,
    get_easing,
    linear,
    minimum_jerk,
    step,
)

FAST = settings(max_examples=60, deadline=None)
SMOOTH = ["cosine", "minimum_jerk"]  # zero velocity at both ends
values = st.floats(-100, 100, allow_nan=False)
unit = st.floats(0.0, 1.0)


def numerical_velocity(f, s, h):
    """One-sided finite-difference velocities just left and right of s."""
    return (f(s) - f(s - h)) / h, (f(s + h) - f(s)) / h


# --------------------------------------------------------------------------- easings
@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easings_start_at_0_and_end_at_1(name):
    e = get_easing(name)
    assert e(0.0) == 0.0 and e(1.0) == 1.0


def test_easing_values_on_known_points():
    assert step(0.999) == 0.0 and step(1.0) == 1.0
    assert linear(0.25) == 0.25
    assert cosine(0.5) == pytest.approx(0.5) and cosine(1 / 3) == pytest.approx(0.25)
    assert minimum_jerk(0.5) == pytest.approx(0.5)
    assert minimum_jerk(0.25) == pytest.approx(10 / 64 - 15 / 256 + 6 / 1024)


@pytest.mark.parametrize("name", sorted(EASINGS))
@FAST
@given(a=unit, b=unit)
def test_easings_are_monotone_and_stay_in_the_unit_interval(name, a, b):
    e = get_easing(name)
    lo, hi = min(a, b), max(a, b)
    assert 0.0 <= e(lo) <= e(hi) <= 1.0


@pytest.mark.parametrize("name", ["linear", "cosine", "minimum_jerk"])
@FAST
@given(t=unit)
def test_continuous_easings_are_point_symmetric(name, t):
    e = get_easing(name)
    assert e(1 - t) == pytest.approx(1 - e(t), abs=1e-12)


def test_derivative_properties_at_the_ends():
    h = 1e-5
    for e in (cosine, minimum_jerk):  # zero velocity at both ends
        assert e(h) / h == pytest.approx(0, abs=1e-4)
        assert (1 - e(1 - h)) / h == pytest.approx(0, abs=1e-4)
    assert linear(h) / h == pytest.approx(1)  # linear: velocity 1, so it jumps at the ends
    accel = lambda e, t: (e(t + h) - 2 * e(t) + e(t - h)) / h ** 2  # noqa: E731
    assert accel(minimum_jerk, 2 * h) == pytest.approx(0, abs=1e-2)  # minimum jerk: no kick
    assert accel(cosine, 2 * h) == pytest.approx(math.pi ** 2 / 2, rel=1e-3)  # cosine: a kick


def test_minimum_jerk_derivatives_match_the_closed_forms():
    t = np.linspace(0.05, 0.95, 19)
    h = 1e-6
    fd = (minimum_jerk(t + h) - minimum_jerk(t - h)) / (2 * h)
    np.testing.assert_allclose(fd, 30 * t ** 2 * (1 - t) ** 2, atol=1e-6)


def test_easings_are_vectorised():
    t = np.linspace(0, 1, 12).reshape(3, 4)
    for e in EASINGS.values():
        out = e(t)
        assert isinstance(out, np.ndarray) and out.shape == (3, 4)
    assert isinstance(minimum_jerk(0.3), float)


@pytest.mark.parametrize("bad", [-0.1, 1.5, [0.2, 2.0], float("nan")])
def test_easing_rejects_t_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match="t "):
        minimum_jerk(bad)


def test_unknown_easing_is_named():
    with pytest.raises(ValueError, match="unknown easing 'bouncy'"):
        get_easing("bouncy")
    with pytest.raises(TypeError, match="easing"):
        get_easing(3)


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
    with pytest.raises(ValueError, match="unknown easing 'wobble'"):
        Keyframe(0, {"x": 1.0}, easing="wobble")
    with pytest.raises(ValueError, match=r"targets\['x'\] must be finite"):
        Keyframe(0, {"x": float("nan")})
    with pytest.raises(ValueError, match="step must be finite"):
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
    with pytest.raises(ValueError, match="step must be finite"):
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
    with pytest.raises(ValueError, match="target must be finite"):
        Transition(0, float("nan"))
    with pytest.raises(ValueError, match="unknown easing"):
        Transition(0, 1, easing="elastic")
    with pytest.raises(TypeError, match="start must be a real number"):
        Transition("0", 1)
    t = Transition(0, 1, 0, 10)
    t.retarget(2, 5)
    with pytest.raises(ValueError, match="retarget only forward"):
        t.retarget(3, 4)
    with pytest.raises(ValueError, match="target must be finite"):
        t.retarget(float("inf"), 6)
    with pytest.raises(ValueError, match="duration must be > 0"):
        t.retarget(3, 6, duration=-1)
    with pytest.raises(ValueError, match="step must be finite"):
        t.value(float("nan"))


def test_constant_transition_is_at_rest():
    t = Transition.constant(0.3)
    assert t.value(-10) == t.value(10) == 0.3 and t.velocity(5) == 0.0


# --------------------------------------------------------------------------- triggers
def fire_index(trigger, sequence):
    """Index of the first update that fires, or None."""
    for i, value in enumerate(sequence):
        if trigger.update(value):
            return i
    return None


@FAST
@given(window=st.integers(1, 20), level=values, extra=st.integers(0, 10))
def test_plateau_fires_after_exactly_window_flat_steps(window, level, extra):
    trig = PlateauTrigger(window, 0.01)
    assert fire_index(trig, [level] * (window + 1 + extra)) == window


@FAST
@given(window=st.integers(1, 20), start=st.floats(0.01, 100), rel=st.floats(0.0, 0.2),
       n=st.integers(1, 200))
def test_plateau_never_fires_on_a_steadily_improving_metric(window, start, rel, n):
    trig = PlateauTrigger(window, rel)
    improving = start * (1 - rel - 0.01) ** np.arange(n)  # each step beats rel by a margin
    assert fire_index(trig, improving) is None
    trig_max = PlateauTrigger(window, rel, mode="max")
    assert fire_index(trig_max, start * (1 + rel + 0.01) ** np.arange(n)) is None


@FAST
@given(window=st.integers(2, 10), k=st.integers(1, 10))
def test_an_improvement_restarts_the_plateau_count(window, k):
    k = min(k, window - 1)  # k flat steps, then a real improvement, then flat for good
    seq = [1.0] * (1 + k) + [0.5] * (window + 5)
    assert fire_index(PlateauTrigger(window, 0.01), seq) == 1 + k + window


def test_plateau_ignores_improvements_below_the_relative_threshold():
    seq = 1.0 * (1 - 0.001) ** np.arange(10)  # 0.1% per step: < 1% of the best within 5 steps
    assert fire_index(PlateauTrigger(5, 0.01), seq) == 5
    # improvements are measured against the best so far, so slow progress adds up and counts
    slow = 1.0 * (1 - 0.004) ** np.arange(12)  # the 3rd step is 1.2% below the best: a reset
    assert fire_index(PlateauTrigger(3, 0.01), slow) is None


def test_plateau_handles_negative_metrics_and_reset():
    trig = PlateauTrigger(2, 0.1)
    assert fire_index(trig, [-1.0, -1.2, -1.25, -1.3]) == 3  # -1.2 improves on -1 by 20%, then flat
    trig.reset()
    assert trig.best is None and trig.flat_steps == 0
    assert fire_index(trig, [5.0, 5.0]) is None


@FAST
@given(seq=st.lists(st.floats(0, 10), min_size=1, max_size=50), threshold=st.floats(0, 10))
def test_threshold_fires_at_the_first_crossing_in_either_direction(seq, threshold):
    below = [i for i, v in enumerate(seq) if v < threshold]
    above = [i for i, v in enumerate(seq) if v > threshold]
    assert fire_index(ThresholdTrigger("loss", threshold, "below"), seq) == \
        (below[0] if below else None)
    assert fire_index(ThresholdTrigger("acc", threshold, "above"), seq) == \
        (above[0] if above else None)


def test_threshold_patience_needs_consecutive_values():
    trig = ThresholdTrigger("loss", 0.1, "below", patience=3)
    assert fire_index(trig, [0.05, 0.05, 0.2, 0.05, 0.05, 0.05]) == 5


def test_trigger_bad_input():
    with pytest.raises(ValueError, match="window must be ≥ 1"):
        PlateauTrigger(0, 0.01)
    with pytest.raises(TypeError, match="window must be an int"):
        PlateauTrigger(2.5, 0.01)
    with pytest.raises(ValueError, match="min_rel_improvement must be ≥ 0"):
        PlateauTrigger(3, -0.1)
    with pytest.raises(ValueError, match="mode must be"):
        PlateauTrigger(3, 0.1, mode="up")
    with pytest.raises(ValueError, match="value must be finite"):
        PlateauTrigger(3, 0.1).update(float("nan"))
    with pytest.raises(ValueError, match="direction must be"):
        ThresholdTrigger("loss", 0.1, "sideways")
    with pytest.raises(ValueError, match="threshold must be finite"):
        ThresholdTrigger("loss", float("nan"))
    with pytest.raises(ValueError, match="patience must be ≥ 1"):
        ThresholdTrigger("loss", 0.1, patience=0)
    with pytest.raises(TypeError, match="metric_name"):
        ThresholdTrigger(3, 0.1)


# --------------------------------------------------------------------------- reactive schedules
PHASES = [{"norm": 0.02, "planar": 0.1}, {"norm": 0.05, "planar": 0.02},
          {"norm": 0.1, "planar": 0.0}]


def test_reactive_schedule_advances_when_the_threshold_is_crossed():
    sched = ReactiveSchedule(PHASES, ThresholdTrigger("loss", 0.1, "below"), duration=100)
    losses = [1.0, 0.5, 0.2, 0.09, 0.5, 0.3, 0.05, 0.01]
    fired = [sched.update(step_ * 10, {"loss": loss}) for step_, loss in enumerate(losses)]
    assert fired == [False, False, False, True, False, False, True, False]
    assert sched.advanced_at == [30.0, 60.0] and sched.phase == 2 and sched.finished
    assert sched.values(0) == PHASES[0]
    assert sched.value("norm", 30 + 100) != pytest.approx(0.1)  # retargeted before arriving
    assert sched.values(60 + 100) == pytest.approx(PHASES[2])


def test_reactive_schedule_on_a_plateau_and_never_on_steady_improvement():
    sched = ReactiveSchedule(PHASES, PlateauTrigger(5, 0.01), duration=50)
    loss = [1.0 * 0.9 ** i for i in range(20)] + [0.12] * 10
    for i, value in enumerate(loss):
        sched.update(i, value)
    assert sched.advanced_at == [25.0]  # 0.9^19 ≈ 0.135 → 0.12 improves at step 20; 5 flat steps
    steady = ReactiveSchedule(PHASES, PlateauTrigger(5, 0.01))
    for i in range(300):
        steady.update(i, 0.95 ** i)
    assert steady.advanced_at == [] and steady.phase == 0


def test_one_trigger_per_advance():
    sched = ReactiveSchedule(PHASES, [ThresholdTrigger("loss", 0.1),
                                      ThresholdTrigger("order", 0.95, "above")])
    sched.update(0, {"loss": 0.05, "order": 0.5})
    assert sched.phase == 1
    sched.update(1, {"loss": 0.05, "order": 0.9})
    assert sched.phase == 1
    sched.update(2, {"loss": 0.05, "order": 0.99})
    assert sched.advanced_at == [0.0, 2.0]
    assert sched.update(3, {"loss": 0.0, "order": 1.0}) is False  # the last phase stays


def test_min_phase_steps_lets_a_phase_settle_before_it_is_judged():
    sched = ReactiveSchedule(PHASES, ThresholdTrigger("loss", 0.1), duration=50,
                             min_phase_steps=50)
    fired = [sched.update(step_, 0.05) for step_ in range(0, 200, 10)]
    assert sched.advanced_at == [50.0, 100.0]  # not 0 and 10: each phase waits 50 steps
    assert sum(fired) == 2
    plateau = ReactiveSchedule(PHASES, PlateauTrigger(3, 0.01), min_phase_steps=10)
    for step_ in range(30):
        plateau.update(step_, 1.0)
    assert plateau.advanced_at == [13.0, 26.0]  # fed from step 10 (then 23): 3 flat steps on
    with pytest.raises(ValueError, match="min_phase_steps must be ≥ 0"):
        ReactiveSchedule(PHASES, PlateauTrigger(3), min_phase_steps=-1)


@FAST
@given(first=st.floats(5, 95), gap=st.floats(1, 95))
def test_advancing_mid_transition_is_smooth(first, gap):
    sched = ReactiveSchedule(PHASES, ThresholdTrigger("loss", 0.5), duration=100)
    sched.update(first, 0.1)
    second = first + gap
    v_before = sched.transitions["norm"].velocity(second)
    sched.update(second, 0.1)
    assert sched.advanced_at == [first, second]
    h = 1e-3
    left, right = numerical_velocity(lambda s: sched.value("norm", s), second, h)
    assert sched.transitions["norm"].velocity(second) == pytest.approx(v_before, abs=1e-12)
    assert left == pytest.approx(right, abs=1e-5)
    assert sched.value("norm", second + 100) == pytest.approx(0.1)


def test_reactive_schedule_bad_input():
    trig = ThresholdTrigger("loss", 0.1)
    with pytest.raises(ValueError, match="phases is empty"):
        ReactiveSchedule([], trig)
    with pytest.raises(TypeError, match="phases must be a list"):
        ReactiveSchedule({"a": 1.0}, trig)
    with pytest.raises(ValueError, match=r"phases\[1\] sets parameters"):
        ReactiveSchedule([{"a": 1.0}, {"b": 2.0}], trig)
    with pytest.raises(ValueError, match=r"phases\[1\]\['a'\] must be finite"):
        ReactiveSchedule([{"a": 1.0}, {"a": float("nan")}], trig)
    with pytest.raises(ValueError, match="one per advance"):
        ReactiveSchedule(PHASES, [trig])
    with pytest.raises(TypeError, match=r"trigger\[0\]"):
        ReactiveSchedule(PHASES, "loss < 0.1")
    with pytest.raises(ValueError, match="duration must be > 0"):
        ReactiveSchedule(PHASES, trig, duration=0)
    sched = ReactiveSchedule(PHASES, trig)
    with pytest.raises(ValueError, match="metrics lacks 'loss'"):
        sched.update(0, {"acc": 0.5})
    sched.update(10, {"loss": 0.5})
    with pytest.raises(ValueError, match="must not go backwards"):
        sched.update(5, {"loss": 0.5})
    with pytest.raises(ValueError, match="unknown parameter name 'lr'"):
        sched.value("lr", 0)
    with pytest.raises(ValueError, match="unknown parameter name"):
        sched.curve("lr", [0, 1])
    done = ReactiveSchedule([{"a": 1.0}], trig)
    with pytest.raises(ValueError, match="last phase"):
        done.advance(0)
