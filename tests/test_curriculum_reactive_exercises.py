"""2.2's checked prediction: the verdicts and the checker against subtly wrong predictions."""

import numpy as np
import pytest

from course_lib.curriculum import reactive_exercises as X


def test_firing_verdict():
    assert X.firing_verdict([None, None, None]) == "never"
    assert X.firing_verdict([None, 40, None]) == "in some seeds"
    assert X.firing_verdict([0, 40]) == "in every seed"             # index 0 is a firing, not "never"
    with pytest.raises(ValueError, match="fires"):
        X.firing_verdict([])


FIXED = np.array([1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.3, 0.8, 1.0, 1.15, 0.85, 1.0])
NOISE = np.array([0.03, -0.02, 0.01, -0.04, 0.02, 0.0, -0.01, 0.03, -0.03, 0.02, 0.01, -0.02])


def test_final_verdict_is_a_paired_t_test_on_the_log_ratio():
    same = FIXED * np.exp(NOISE)                      # no effect, 3 % noise
    assert X.final_verdict(same, FIXED) == "no clear difference"
    # a small (8 %) but consistent gain: found, though a count of wins would call 12/12
    # and 9/12 alike only by luck
    assert X.final_verdict(FIXED * np.exp(NOISE - 0.08), FIXED) == "reactive lower"
    assert X.final_verdict(FIXED * np.exp(NOISE + 0.08), FIXED) == "fixed lower"
    # subtle wrong reading: most seeds "win" by a hair while two lose badly -- no clear gain
    hair = FIXED * np.r_[np.full(10, 0.99), 1.6, 1.8]
    assert X.final_verdict(hair, FIXED) == "no clear difference"
    # ... and a count of wins alone would have said "reactive lower" in 10/12 seeds
    assert np.sum(hair < FIXED) == 10
    with pytest.raises(ValueError, match="equal"):
        X.final_verdict([1.0, 2.0], [1.0])


def test_final_verdict_can_fail_at_four_seeds():
    """With 4 seeds the verdict is not forced: about 5 % of null experiments call a side, and a
    clear 30 % gain is found in most experiments."""
    rng = np.random.default_rng(0)
    fixed = np.ones(4)
    null = [X.final_verdict(np.exp(rng.normal(0, 0.1, 4)), fixed) for _ in range(3000)]
    called = np.mean([v != "no clear difference" for v in null])
    assert 0.03 <= called <= 0.07, called
    gain = [X.final_verdict(np.exp(rng.normal(-0.3, 0.1, 4)), fixed) for _ in range(500)]
    assert np.mean([v == "reactive lower" for v in gain]) > 0.8


def test_check_reactive_prediction():
    fires = [None, None, None, None]
    fixed = FIXED[:4]
    final = fixed * np.exp(NOISE[:4])
    plain = final * np.exp(-NOISE[:4][::-1])          # no effect against the plain run either
    right = {"plateau_fires": "never", "threshold_final": "no clear difference",
             "threshold_vs_plain": "no clear difference"}
    assert X.check_reactive_form(right, quiet=True).passed
    assert X.check_reactive_prediction(right, fires, final, fixed, plain, quiet=True).passed
    for change, words in ((("plateau_fires", "in some seeds"), "0/4"),
                          (("threshold_final", "reactive lower"), "reactive / fixed"),
                          (("threshold_vs_plain", "reactive lower"), "reactive / plain"),
                          (("threshold_vs_plain", "plain lower"), "reactive / plain")):
        wrong = dict(right, **{change[0]: change[1]})
        res = X.check_reactive_prediction(wrong, fires, final, fixed, plain, quiet=True)
        assert not res.passed and "you predicted" in res.message and words in res.message, res.message
        # the message states what the test could have seen
        assert "80 % power" in res.message or change[0] == "plateau_fires"
    # the same prediction is wrong when the measurement differs
    assert not X.check_reactive_prediction(right, [None, 12, None, None], final, fixed, plain,
                                           quiet=True).passed
    better = fixed * np.exp(NOISE[:4] - 0.2)
    assert not X.check_reactive_prediction(right, fires, better, fixed, plain, quiet=True).passed
    beats_fixed = dict(right, threshold_final="reactive lower")
    assert X.check_reactive_prediction(beats_fixed, fires, better, fixed, better * np.exp(NOISE[:4]),
                                       quiet=True).passed
    # the subtle wrong reading: a gain over the fixed schedule is taken for a gain over the plain
    # run, when the fixed schedule itself is the worse baseline
    also_plain = dict(beats_fixed, threshold_vs_plain="reactive lower")
    res = X.check_reactive_prediction(also_plain, fires, better, fixed, better * np.exp(NOISE[:4]),
                                      quiet=True)
    assert not res.passed and "reactive / plain" in res.message, res.message
    # a plain run clearly better than the reactive one is "plain lower"
    worse_plain = dict(right, threshold_vs_plain="plain lower")
    assert X.check_reactive_prediction(worse_plain, fires, final, fixed, final * np.exp(NOISE[:4] - 0.2),
                                       quiet=True).passed
    with pytest.raises(ValueError, match="final_plain"):
        X.check_reactive_prediction(right, fires, final, fixed, plain[:3], quiet=True)
    with pytest.raises(ValueError, match="other"):
        X.final_verdict(final, fixed, other="curriculum")


def test_reactive_form_rejects_incomplete_or_misspelt():
    full = {"threshold_final": "fixed lower", "threshold_vs_plain": "plain lower"}
    for bad, words in (({"plateau_fires": None, **full}, "no prediction"),
                       ({"plateau_fires": "never"}, "no prediction"),
                       ({"plateau_fires": "never", "threshold_final": "fixed lower"}, "no prediction"),
                       ({"plateau_fires": "Never", **full}, "one of"),
                       ({"plateau_fires": "never", **full, "threshold_vs_plain": "fixed lower"}, "one of"),
                       ({"plateau_fires": "never", **full, "x": 1}, "unexpected")):
        res = X.check_reactive_form(bad, quiet=True)
        assert not res.passed and words in res.message, (bad, res.message)
