"""Checkers of notebook 5.4 against correct and subtly wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.slt import spectro_exercises as sx


def test_welford_solution_passes():
    assert sx.check_welford_step(sx.solution_welford_step, quiet=True)


def test_welford_wrong_answers_fail():
    def both_old(c, ma, mb, M, a, b):
        c += 1
        M = M + np.outer(a - ma, b - mb)              # old means for both: off by (c−1)/c
        return c, ma + (a - ma) / c, mb + (b - mb) / c, M

    def both_new(c, ma, mb, M, a, b):
        c += 1
        ma, mb = ma + (a - ma) / c, mb + (b - mb) / c
        return c, ma, mb, M + np.outer(a - ma, b - mb)

    def raw_products(c, ma, mb, M, a, b):           # Σab − c ā b̄: exact in theory, cancels at 1e6
        c += 1
        S = M + np.outer(ma, mb) * (c - 1) + np.outer(a, b)
        ma, mb = ma + (a - ma) / c, mb + (b - mb) / c
        return c, ma, mb, S - c * np.outer(ma, mb)

    def swapped(c, ma, mb, M, a, b):                # co-moment of b with a: transposed shape
        c, ma, mb, M2 = sx.solution_welford_step(c, ma, mb, M, a, b)
        return c, ma, mb, M2.T if M2.shape[0] == M2.shape[1] else M2.T

    def uses_course(c, ma, mb, M, a, b):
        from course_lib.slt.observables import CovarianceAccumulator
        acc = CovarianceAccumulator(len(a), len(b))
        acc.update(a, b)
        return sx.solution_welford_step(c, ma, mb, M, a, b)

    for wrong in (both_old, both_new, raw_products, swapped, uses_course):
        assert not sx.check_welford_step(wrong, quiet=True), wrong.__name__
    assert not sx.check_welford_step(None, quiet=True)


def test_duplicate_prediction():
    corr, raw = np.array([0] * 9 + [2]), np.array([0, 3, 0, 5, 1, 0, 2, 0, 7, 4])
    spearman = np.array([[0.85, 0.90]] * 6 + [[0.9, 0.8]] * 4)
    # leave-example-out over 300 seeds: 72 % with four copies, 32 % with one (the measured rates)
    ex4 = np.r_[np.zeros(217, int), np.ones(83, int)]
    ex1 = np.r_[np.zeros(95, int), np.full(205, 3)]
    right = {"twin_first_more_often_by": "correlation", "ranks_like_retraining": "raw BIF",
             "retraining_with_one_copy": "twin first less often"}
    assert sx.duplicate_verdict(corr, raw, spearman, ex4, ex1) == right
    assert sx.check_duplicate_prediction_form(right, quiet=True)
    assert sx.check_duplicate_prediction(right, corr, raw, spearman, ex4, ex1, quiet=True)
    # subtle wrong answers: the per-row reading of the copies ("about the same"), the reverse
    for key, wrong in (("twin_first_more_often_by", "raw BIF"),
                       ("twin_first_more_often_by", "neither"),
                       ("ranks_like_retraining", "correlation"),
                       ("retraining_with_one_copy", "about the same"),
                       ("retraining_with_one_copy", "twin first more often")):
        assert not sx.check_duplicate_prediction(dict(right, **{key: wrong}), corr, raw,
                                                 spearman, ex4, ex1, quiet=True), (key, wrong)
    # overlapping intervals (per row: 23 % vs 32 % over 300 seeds overlap) read "about the same"
    row4 = np.r_[np.zeros(68, int), np.ones(232, int)]
    assert sx.duplicate_verdict(corr, raw, spearman, row4, ex1)[
        "retraining_with_one_copy"] == "about the same"
    # and a real rise with one copy is reported as one
    assert sx.duplicate_verdict(corr, raw, spearman, ex1, ex4)[
        "retraining_with_one_copy"] == "twin first more often"
    # a tie in the twin-first counts is "neither"
    assert sx.duplicate_verdict(raw, raw, spearman, ex4, ex1)[
        "twin_first_more_often_by"] == "neither"
    assert not sx.check_duplicate_prediction_form(dict(right, ranks_like_retraining=None),
                                                  quiet=True)
    assert not sx.check_duplicate_prediction_form(dict(right, retraining_with_one_copy="yes"),
                                                  quiet=True)
    # the old key is not accepted silently
    old = {k: v for k, v in right.items() if k != "retraining_with_one_copy"}
    assert not sx.check_duplicate_prediction_form(dict(old, raw_bif_with_one_copy="about the same"),
                                                  quiet=True)
    with pytest.raises(ValueError, match="ranks"):
        sx.duplicate_verdict(corr, raw, spearman, np.array([]), ex1)
