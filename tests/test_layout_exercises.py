"""Notebook 2.1's checked prediction: the answer key follows what the Fisher test can tell."""

import numpy as np
import pytest

from course_lib.curriculum import layout_exercises as lx

ROUND_12 = np.array([0.8, 0.82, 0.85, 0.7, 0.9, 0.78, 0.81, 0.84, 0.86, 0.75, 0.88, 0.83])
TILTED_12 = np.array([0.6, 0.55, 0.7, 0.62, 0.58, 0.9, 0.66, 0.64, 0.61, 0.72, 0.5, 0.95])
FLAT_12 = np.full(12, 0.95)
CLEAN_12 = np.zeros(12)
ONE_12 = np.array([0.3] + [0.05] * 11)
SOME_12 = np.array([0.3] * 5 + [0.05] * 7)        # 5 of 12 against 1 of 12: Fisher p 0.155
FOLDED_12 = np.array([0.3] * 10 + [0.05] * 2)     # 10 of 12 against 1 of 12: p < 0.01


def test_layout_verdict_words():
    v = lx.layout_verdict(TILTED_12, ROUND_12, ONE_12, CLEAN_12)
    assert (v["layout"], v["roundness"], v["crumpled"]) == ("elsewhere", "round", "no detectable difference")
    v = lx.layout_verdict(FLAT_12, ROUND_12 * 0.4, FOLDED_12, ONE_12)
    assert (v["layout"], v["roundness"], v["crumpled"]) == ("in dims 0–1", "squashed", "more")
    v = lx.layout_verdict(FLAT_12, np.full(12, 0.55), ONE_12, FOLDED_12)
    assert (v["roundness"], v["crumpled"]) == ("in between", "fewer")
    # a visible gap the test cannot tell from chance: 5 against 1 of 12
    v = lx.layout_verdict(TILTED_12, ROUND_12, SOME_12, ONE_12)
    assert v["crumpled"] == "no detectable difference" and v["p"] == pytest.approx(0.155, abs=1e-3)
    # different n per arm is fine
    assert lx.layout_verdict(TILTED_12, ROUND_12, np.r_[ONE_12, ONE_12], ONE_12)["counts"] == (2, 24, 1, 12)
    with pytest.raises(ValueError, match="share"):
        lx.layout_verdict([], ROUND_12, ONE_12, ONE_12)
    with pytest.raises(ValueError, match="crumpling"):
        lx.layout_verdict(TILTED_12, ROUND_12, ONE_12 * np.nan, ONE_12)


def test_layout_prediction_right_and_subtly_wrong():
    measured = (TILTED_12, ROUND_12, SOME_12, ONE_12)
    right = {"layout": "elsewhere", "roundness": "round", "crumpled": "no detectable difference"}
    assert lx.check_layout_prediction(right, *measured, quiet=True).passed
    wrongs = [
        dict(right, crumpled="more"),            # 5 vs 1 of 12 looks like more; Fisher p 0.155
        dict(right, layout="in dims 0–1"),       # what the curriculum's planarity term buys, not the plain run
        dict(right, roundness="squashed"),       # the old control's shape
        dict(right, roundness="in between"),
        dict(right, crumpled="as many"),         # not an answer any more: no test shows "as many"
        dict(right, layout="in dims 0-1"),       # hyphen, not the en dash: not one of the answers
        dict(right, crumpled=None),              # unfilled
        {"layout": "elsewhere", "roundness": "round"},       # missing key
        dict(right, recon="lower"),              # an extra key
        ("elsewhere", "round", "no detectable difference"),  # not a dict
        None,
    ]
    for wrong in wrongs:
        assert not lx.check_layout_prediction(wrong, *measured, quiet=True).passed, wrong
    msg = lx.check_layout_prediction(dict(right, crumpled="more"), *measured, quiet=True).message
    assert "5/12" in msg and "1/12" in msg and "p = 0.15" in msg
    msg = lx.check_layout_prediction(dict(right, layout="in dims 0–1"), *measured, quiet=True).message
    assert "0.6" in msg


def test_layout_prediction_form_accepts_any_complete_answer():
    for answer in ({"layout": "elsewhere", "roundness": "round", "crumpled": "no detectable difference"},
                   {"layout": "in dims 0–1", "roundness": "squashed", "crumpled": "more"}):
        assert lx.check_layout_prediction_form(answer, quiet=True).passed  # the form only
    for wrong in ({"layout": None, "roundness": None, "crumpled": None},
                  {"layout": "elsewhere", "roundness": "round", "crumpled": "as many"},
                  {"roundness": "round", "crumpled": "more"}, None):
        assert not lx.check_layout_prediction_form(wrong, quiet=True).passed, wrong
