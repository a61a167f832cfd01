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


# --------------------------------------------------------------------------- the own direction's fit
from course_lib.identity.world_controls import (_derangement, additive_fit, cross_fitted_additive,  # noqa: E402
                                                other_u_control, own_direction_fit)
from course_lib.identity.world_measures import additive_part  # noqa: E402


def _additive_grid(nf=7, ns=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return 0.5 + rng.normal(size=(nf, 1, d)) + rng.normal(size=(1, ns, d))


def test_additive_fit_on_the_full_grid_is_row_and_column_means():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4, 3))
    full = np.ones((5, 4), dtype=bool)
    assert np.allclose(additive_fit(z, full), additive_part(__import__("torch").as_tensor(z)).numpy())


def test_additive_fit_recovers_an_additive_code_from_part_of_the_grid():
    z = _additive_grid()
    mask = np.random.default_rng(2).random(z.shape[:2]) < 0.6
    mask[np.arange(7), np.arange(7) % 6] = True          # every row and column seen at least once
    mask[0, :] = True
    assert np.allclose(additive_fit(z, mask), z)         # exact where nothing is beyond the name parts
    # a pair with an own direction, left out of the fit, keeps all of it
    bumped = z.copy()
    bumped[3, 2] += 5.0
    m2 = mask.copy()
    m2[3, 2] = False
    assert np.isclose(np.linalg.norm(bumped - additive_fit(bumped, m2), axis=-1)[3, 2], np.linalg.norm([5.0] * 3))
    # in the fit, it would be partly absorbed by its row and column
    m2[3, 2] = True
    assert np.linalg.norm(bumped - additive_fit(bumped, m2), axis=-1)[3, 2] < np.linalg.norm([5.0] * 3)


@pytest.mark.parametrize("codes, mask, match", [
    (np.zeros((3, 3)), np.ones((3, 3), bool), "codes"),
    (np.zeros((3, 3, 2)), np.ones((3, 4), bool), "mask"),
    (np.zeros((3, 3, 2)), np.ones((3, 3)), "mask"),
    (np.full((3, 3, 2), np.nan), np.ones((3, 3), bool), "NaN"),
    (np.zeros((3, 3, 2)), np.eye(3, dtype=bool), "mask must select"),
])
def test_additive_fit_bad_input(codes, mask, match):
    with pytest.raises(ValueError, match=match):
        additive_fit(codes, mask)


def test_cross_fitted_additive_scores_fitted_pairs_out_of_sample():
    rng = np.random.default_rng(3)
    z = _additive_grid(12, 12) + 0.3 * rng.normal(size=(12, 12, 3))
    mask = np.ones((12, 12), dtype=bool)
    insample = np.linalg.norm(z - additive_fit(z, mask), axis=-1).mean()
    crossed = np.linalg.norm(z - cross_fitted_additive(z, mask, folds=5), axis=-1).mean()
    assert crossed > insample                            # out of sample: larger residuals
    assert np.allclose(cross_fitted_additive(_additive_grid(), np.ones((7, 6), bool), folds=3), _additive_grid())
    with pytest.raises(ValueError, match="folds"):
        cross_fitted_additive(z, mask, folds=1)


def test_derangement_never_maps_a_person_to_themselves():
    groups = np.array([0, 0, 1, 1, 1, 0, 1])
    rng = np.random.default_rng(0)
    for _ in range(20):
        perm = _derangement(groups, rng)
        assert sorted(perm) == list(range(7)) and np.all(perm != np.arange(7))
        assert np.array_equal(groups[perm], groups)
    with pytest.raises(ValueError, match="two members"):
        _derangement(np.array([0, 0, 1]), rng)


def test_own_direction_fit_all_matches_the_timelines(tiny_run):
    tl = own_direction_fit(tiny_run, "all")
    assert np.allclose(tl["own"], tiny_run.timelines["own"], atol=1e-6)
    assert np.allclose(tl["own_nobody"], tiny_run.timelines["own_nobody"], atol=1e-6)
    nb = own_direction_fit(tiny_run, "nobody", folds=3)
    assert nb["own"].shape == tl["own"].shape and nb["own_nobody"].shape == tl["own_nobody"].shape
    assert ((nb["own"] >= 0) & (nb["own"] <= 1)).all()
    with pytest.raises(ValueError, match="fit"):
        own_direction_fit(tiny_run, "people")


def test_other_u_control(tiny_run):
    n = tiny_run.world.n_people
    c = other_u_control(tiny_run, "all", n_draws=2)
    assert all(np.shape(v) == (n,) for v in c.values())
    # the full code's answers are the run's own; the additive part's the ablation's
    assert np.allclose(c["full"], tiny_run.timelines["unique"][-1], atol=1e-4)
    assert np.allclose(c["additive"], tiny_run.timelines["ablated"][-1], atol=1e-4)
    assert np.array_equal(c["needs own"], c["full"] - c["additive"] > 0.1)
    assert ((c["other helps"] >= 0) & (c["other helps"] <= 1)).all()
    assert other_u_control(tiny_run, "nobody", n_draws=2, folds=3)["full"].shape == (n,)
    with pytest.raises(ValueError, match="margin"):
        other_u_control(tiny_run, margin=2.0)
    with pytest.raises(ValueError, match="n_draws"):
        other_u_control(tiny_run, n_draws=0)
