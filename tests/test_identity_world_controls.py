"""Tests for course_lib.identity.world_controls: the matched controls of notebook 3.4."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.identity.exercises import solution_name_exceptions
from course_lib.identity.world_controls import (ablation_control, activity_half_times, answer_curves,
                                                phase1_matched)
from world_tools import TINY_OVERRIDES, tiny_run, world_cache  # noqa: F401  (fixtures)


def test_answer_curves_agree_with_question_curve(tiny_run):
    people = list(range(5))
    probs = answer_curves(tiny_run, "region", people)
    assert probs.shape == (len(tiny_run.checkpoint_steps), 5, tiny_run.world.n_answers["region"])
    assert np.allclose(probs.sum(axis=2), 1, atol=1e-5)
    true = tiny_run.world.attributes["region"][people]
    assert np.allclose(probs[:, np.arange(5), true], tiny_run.question_curve("region", people, "true"), atol=1e-6)


def test_phase1_matched_uses_other_wrong_answers(tiny_run):
    w = tiny_run.world
    ex = solution_name_exceptions(w, "region")
    m = phase1_matched(tiny_run, "region", ex)
    assert m["name"].shape == m["other"].shape == (len(ex),)
    assert np.array_equal(m["name"], tiny_run.bias_then_truth("region", ex))     # the same rule as before
    assert m["difference"].shape == (len(tiny_run.checkpoint_steps),)
    with pytest.raises(ValueError, match="question"):
        phase1_matched(tiny_run, "sex", solution_name_exceptions(w, "sex"))     # no other wrong answer
    not_ex = [p for p in range(w.n_people) if p not in set(ex.tolist())][:1]
    with pytest.raises(ValueError, match="not an exception"):
        phase1_matched(tiny_run, "region", not_ex)


def test_ablation_control_shapes_and_identity(tiny_run):
    a = ablation_control(tiny_run, n_random=3)
    n = tiny_run.world.n_people
    assert all(v.shape == (n,) for v in a.values())
    assert all(((v >= 0) & (v <= 1)).all() for v in a.values())
    # removing u leaves the additive part: the same numbers as the measured "ablated" curve
    assert np.allclose(a["additive"], tiny_run.timelines["ablated"][-1], atol=1e-4)
    assert np.allclose(a["full"], tiny_run.timelines["unique"][-1], atol=1e-4)
    with pytest.raises(ValueError, match="n_random"):
        ablation_control(tiny_run, n_random=0)


def test_activity_half_times_split(tiny_run):
    h = activity_half_times(tiny_run)
    assert set(h) == {"other seen", "placebo a", "placebo b"}
    assert all(v.shape == (tiny_run.world.n_people,) for v in h.values())
    steps = tiny_run.checkpoint_steps
    for v in h.values():
        ok = np.isfinite(v)
        assert ((v[ok] >= 0) & (v[ok] <= steps[-1])).all()
