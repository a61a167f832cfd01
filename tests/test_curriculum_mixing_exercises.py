"""The notebook 2.6 checkers: solutions pass, subtle wrong answers fail."""

import numpy as np

from course_lib.curriculum import mixing_exercises as X
from course_lib.curriculum.regularisers import redness


def test_hue_midpoint_solution_passes():
    assert X.check_hue_midpoint(X.solution_hue_midpoint)


def _wrong_hues():
    def linear(h1, h2):
        return (np.asarray(h1) + np.asarray(h2)) / 2

    def no_wrap(h1, h2):
        a1, a2 = 2 * np.pi * np.asarray(h1), 2 * np.pi * np.asarray(h2)
        return np.arctan2(np.sin(a1) + np.sin(a2), np.cos(a1) + np.cos(a2)) / (2 * np.pi)

    def no_nan(h1, h2):
        return np.nan_to_num(X.solution_hue_midpoint(h1, h2))

    def nan_everywhere_close(h1, h2):
        out = X.solution_hue_midpoint(h1, h2)
        return np.where(np.abs(np.asarray(h1) - np.asarray(h2)) > 0.4, np.nan, out)
    return [linear, no_wrap, no_nan, nan_everywhere_close]


def test_hue_midpoint_wrong_answers_fail():
    for wrong in _wrong_hues():
        assert not X.check_hue_midpoint(wrong), wrong.__name__


def test_mixture_redness():
    assert X.check_mixture_redness(X.solution_mixture_redness)
    wrongs = [
        lambda p, k=2.0: redness((p[:, 0] + p[:, 1]) / 2, k=k),       # redness of the mixed colour
        lambda p, k=2.0: redness(p, k=k).mean(dim=1),                 # mean of the two
        lambda p, k=2.0: redness(p[:, 0], k=k),                       # first colour only
        lambda p, k=2.0: redness(p, k=2.0).amax(dim=1),               # ignores k
        lambda p, k=2.0: redness(p, k=k).amin(dim=1),                 # the less red one
        lambda p, k=2.0: redness(p, k=k).amax(dim=1).numpy(),         # not a tensor
    ]
    for i, w in enumerate(wrongs):
        assert not X.check_mixture_redness(w), i
