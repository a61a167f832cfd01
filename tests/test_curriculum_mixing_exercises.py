"""The notebook 2.6 checkers: solutions pass, subtle wrong answers fail."""

import numpy as np
import pytest
import torch

from course_lib.curriculum import mixing_exercises as X


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


def test_twin_pair():
    assert X.check_twin_pair(X.solution_twin_pair)

    def swap(a, b):                          # same sum, same product: the pooled model is not fooled
        return b, a

    def always_even(a, b):                   # even split everywhere: wrong where a ⊙ b is already near s²/4
        return (a + b) / 2, (a + b) / 2

    def always_uneven_unclipped(a, b):       # (0, s): leaves the cube when s > 1
        s = a + b
        return torch.zeros_like(s), s

    def always_uneven(a, b):                 # most uneven split everywhere
        s = a + b
        low = (s - 1).clamp_min(0)
        return low, s - low

    def whole_pair_choice(a, b):             # one choice for all channels of a pair, not per channel
        s = a + b
        low = (s - 1).clamp_min(0)
        pmin, pmax, p = low * (s - low), s * s / 4, a * b
        even = ((pmax - p) >= (p - pmin)).all(dim=-1, keepdim=True)
        a2 = torch.where(even, s / 2, low)
        return a2, s - a2

    def sum_changed(a, b):                   # correct products but a different sum
        a2, b2 = X.solution_twin_pair(a, b)
        return a2 * 0.99, b2

    def numpy_out(a, b):
        a2, b2 = X.solution_twin_pair(a, b)
        return a2.numpy(), b2.numpy()

    for w in (swap, always_even, always_uneven_unclipped, always_uneven, whole_pair_choice, sum_changed, numpy_out):
        assert not X.check_twin_pair(w, quiet=True), w.__name__


def test_mixing_prediction():
    right = {"baseline": "transformer at least 3x better", "deepsets": "at least 3x below the floor",
             "red_after_blocks": "falls below 0.9"}
    meas = dict(deepsets_mse=[1e-4, 3e-4], floor=1.5e-3)
    assert X.check_mixing_prediction_form(right)
    assert X.check_mixing_prediction(right, [2e-3, 1.5e-3], [1e-4, 3e-4], [0.4, 0.6], **meas)
    for bad in ({"baseline": "transformer at least 3x better", "red_after_blocks": "falls below 0.9"},  # missing key
                {**right, "red_after_blocks": True},                                          # not an allowed value
                {**right, "deepsets": "below the floor"},                                     # near-miss wording
                {**right, "extra": 1}, None):
        assert not X.check_mixing_prediction_form(bad, quiet=True), bad
    assert not X.check_mixing_prediction({**right, "baseline": "as good as the transformer"},
                                         [2e-3], [1e-4], [0.5], **meas, quiet=True)
    assert not X.check_mixing_prediction({**right, "red_after_blocks": "stays at 0.9 or above"},
                                         [2e-3], [1e-4], [0.5], **meas, quiet=True)
    # the old answer key ("needs a transformer": no pooling model gets below the floor) is now wrong
    assert not X.check_mixing_prediction({**right, "deepsets": "on or above the floor"},
                                         [2e-3], [1e-4], [0.5], **meas, quiet=True)
    # "below, but by less than 3x" is wrong when the DeepSets model is far under the floor ...
    assert not X.check_mixing_prediction({**right, "deepsets": "below the floor by less than 3x"},
                                         [2e-3], [1e-4], [0.5], **meas, quiet=True)
    # ... and right when it is only a little under it (median, not the best seed, decides)
    assert X.check_mixing_prediction({**right, "deepsets": "below the floor by less than 3x"},
                                     [2e-3], [1e-4], [0.5], deepsets_mse=[1e-4, 1e-3, 1e-3], floor=1.5e-3, quiet=True)
    # the verdicts at their boundaries
    v = X.mixing_verdict([2.9e-3], [1e-3], [0.9], [1e-3], 3e-3)
    assert v["baseline"] == "as good as the transformer" and v["red_after_blocks"] == "stays at 0.9 or above"
    assert v["deepsets"] == "at least 3x below the floor"
    assert X.mixing_verdict([1e-3], [1e-3], [0.2], [3e-3], 3e-3)["deepsets"] == "on or above the floor"
    assert X.mixing_verdict([1e-3], [1e-3], [0.2], [2.9e-3], 3e-3)["deepsets"] == "below the floor by less than 3x"
    assert X.mixing_verdict([0.5e-3], [1e-3], [0.2], [1e-3], 1e-3)["baseline"] == "baseline better"
    assert X.mixing_verdict([3e-3, 3e-3, 1.0], [1e-3, 1e-3, 1e-3], [0.1], [1e-3], 1e-3)["baseline"] == (
        "transformer at least 3x better")
    with pytest.raises(ValueError, match="finite"):
        X.mixing_verdict([], [1.0], [0.5], [1.0], 1.0)
    with pytest.raises(ValueError, match="deepsets_mse"):
        X.mixing_verdict([1.0], [1.0], [0.5], [float("nan")], 1.0)
    with pytest.raises(ValueError, match="floor"):
        X.mixing_verdict([1.0], [1.0], [0.5], [1.0], 0.0)


def test_unanswered_prediction_fails_without_raising():
    stub = {"baseline": None, "deepsets": None, "red_after_blocks": None}
    assert not X.check_mixing_prediction_form(stub, quiet=True)
    assert not X.check_mixing_prediction(stub, [2e-3], [1e-4], [0.5], deepsets_mse=[1e-4], floor=1e-3, quiet=True)


def test_twin_pair_stub_fails_without_raising():
    def stub(a, b):
        raise NotImplementedError
    assert not X.check_twin_pair(stub, quiet=True)
