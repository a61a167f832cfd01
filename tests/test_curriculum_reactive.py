"""Reactive phases: triggers and reactive schedules (course_lib.curriculum.reactive)."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.curriculum import PlateauTrigger, ReactiveSchedule, ThresholdTrigger, cosine, minimum_jerk, step

FAST = settings(max_examples=60, deadline=None)
values = st.floats(-100, 100, allow_nan=False)


def numerical_velocity(f, s, h):
    """One-sided finite-difference velocities just left and right of s."""
    return (f(s) - f(s - h)) / h, (f(s + h) - f(s)) / h


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
    with pytest.raises(ValueError, match=r"window must be a positive int \(≥ 1\)"):
        PlateauTrigger(0, 0.01)
    with pytest.raises(TypeError, match="window must be an int"):
        PlateauTrigger(2.5, 0.01)
    with pytest.raises(ValueError, match=r"min_rel_improvement must be a non-negative finite number \(≥ 0\)"):
        PlateauTrigger(3, -0.1)
    with pytest.raises(ValueError, match="mode must be"):
        PlateauTrigger(3, 0.1, mode="up")
    with pytest.raises(ValueError, match="value must be a finite number"):
        PlateauTrigger(3, 0.1).update(float("nan"))
    with pytest.raises(ValueError, match="direction must be"):
        ThresholdTrigger("loss", 0.1, "sideways")
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        ThresholdTrigger("loss", float("nan"))
    with pytest.raises(ValueError, match=r"patience must be a positive int \(≥ 1\)"):
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
    with pytest.raises(ValueError, match=r"min_phase_steps must be a non-negative finite number \(≥ 0\)"):
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
    with pytest.raises(ValueError, match=r"phases\[1\]\['a'\] must be a finite number"):
        ReactiveSchedule([{"a": 1.0}, {"a": float("nan")}], trig)
    with pytest.raises(ValueError, match="one per advance"):
        ReactiveSchedule(PHASES, [trig])
    with pytest.raises(TypeError, match=r"trigger\[0\]"):
        ReactiveSchedule(PHASES, "loss < 0.1")
    with pytest.raises(ValueError, match=r"duration must be a positive finite number \(> 0\)"):
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
