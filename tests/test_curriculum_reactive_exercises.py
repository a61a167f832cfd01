"""2.2's checked prediction: the verdicts and the checker against subtly wrong predictions."""

import pytest

from course_lib.curriculum import reactive_exercises as X


def test_firing_verdict():
    assert X.firing_verdict([None, None, None]) == "never"
    assert X.firing_verdict([None, 40, None]) == "in some seeds"
    assert X.firing_verdict([0, 40]) == "in every seed"             # index 0 is a firing, not "never"
    with pytest.raises(ValueError, match="fires"):
        X.firing_verdict([])


def test_final_verdict_uses_the_interval_not_the_majority():
    assert X.final_verdict(4, 8) == "no clear difference"
    assert X.final_verdict(6, 8) == "no clear difference"             # a majority, but 0.5 is inside the interval
    assert X.final_verdict(8, 8) == "reactive lower"
    assert X.final_verdict(0, 8) == "fixed lower"
    assert X.final_verdict(3, 4) == "no clear difference"
    for bad in ((5, 4), (-1, 4), (1, 0), (1.0, 4)):
        with pytest.raises(ValueError, match="lower"):
            X.final_verdict(*bad)


def test_check_reactive_prediction():
    fires, lower = [None, None, None, None], (2, 4)
    right = {"plateau_fires": "never", "threshold_final": "no clear difference"}
    assert X.check_reactive_form(right, quiet=True).passed
    assert X.check_reactive_prediction(right, fires, lower, quiet=True).passed
    for wrong, words in (({"plateau_fires": "in some seeds", "threshold_final": "no clear difference"}, "0/4"),
                         ({"plateau_fires": "never", "threshold_final": "reactive lower"}, "2/4")):
        res = X.check_reactive_prediction(wrong, fires, lower, quiet=True)
        assert not res.passed and "you predicted" in res.message and words in res.message, res.message
    # the same prediction is wrong when the measurement differs
    assert not X.check_reactive_prediction(right, [None, 12, None, None], lower, quiet=True).passed
    assert not X.check_reactive_prediction(right, fires, (8, 8), quiet=True).passed


def test_reactive_form_rejects_incomplete_or_misspelt():
    for bad, words in (({"plateau_fires": None, "threshold_final": "fixed lower"}, "no prediction"),
                       ({"plateau_fires": "never"}, "no prediction"),
                       ({"plateau_fires": "Never", "threshold_final": "fixed lower"}, "one of"),
                       ({"plateau_fires": "never", "threshold_final": "fixed lower", "x": 1}, "unexpected")):
        res = X.check_reactive_form(bad, quiet=True)
        assert not res.passed and words in res.message, (bad, res.message)
