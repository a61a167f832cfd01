"""Tests for course_lib.stats: Wilson intervals against known values, and bad input."""

import math

import numpy as np
import pytest
import torch

from course_lib.stats import format_rate, pearson, wilson_interval


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
        (57, 64, 0.7911, 0.9460),
    ],
)
def test_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_symmetry_and_bounds():
    for n in (1, 7, 64):
        for k in range(n + 1):
            lo, hi = wilson_interval(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
            lo2, hi2 = wilson_interval(n - k, n)
            assert lo == pytest.approx(1 - hi2, abs=1e-12)


def test_confidence_widens():
    narrow = wilson_interval(20, 64, 0.8)
    wide = wilson_interval(20, 64, 0.99)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_exact_quantile():
    # z for 95% is 1.959964..., not 1.96: the interval at k=0 is z^2/(n+z^2)
    z = 1.959963984540054
    assert wilson_interval(0, 10)[1] == pytest.approx(z * z / (10 + z * z), rel=1e-12)


def test_format_rate():
    assert format_rate(57, 64) == "57/64 = 89% (95% CI 79–95%)"
    assert format_rate(0, 10) == "0/10 = 0% (95% CI 0–28%)"
    assert "90% CI" in format_rate(3, 4, confidence=0.9)


@pytest.mark.parametrize(
    "args, exc, word",
    [
        ((1.0, 10), TypeError, "successes"),
        ((True, 10), TypeError, "successes"),
        ((1, 10.0), TypeError, "n"),
        ((1, 0), ValueError, "n"),
        ((-1, 10), ValueError, "successes"),
        ((11, 10), ValueError, "successes"),
    ],
)
def test_bad_counts(args, exc, word):
    with pytest.raises(exc, match=word):
        wilson_interval(*args)
    with pytest.raises(exc, match=word):
        format_rate(*args)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, math.nan])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(3, 10, confidence)


def test_confidence_type():
    with pytest.raises(TypeError, match="confidence"):
        wilson_interval(3, 10, "95%")


def test_numpy_ints_accepted():
    np = pytest.importorskip("numpy")
    assert wilson_interval(np.int64(5), np.int64(10)) == wilson_interval(5, 10)


def test_pearson():
    x = np.arange(10.0)
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert pearson(torch.tensor(x), -x) == pytest.approx(-1.0)
    assert math.isnan(pearson(x, np.ones(10)))


def test_pearson_bad_input():
    with pytest.raises(ValueError, match="same length"):
        pearson([1.0, 2.0], [1.0])


def test_welch_df_is_two_n_minus_two_for_equal_errors_and_one_side_when_one_dominates():
    from course_lib.stats import welch_df

    assert welch_df(1.0, 1.0, 4, 4) == pytest.approx(6.0)
    assert welch_df(0.05, 2.0, 4, 4) == pytest.approx(3.0, abs=0.01)    # the large error's n − 1
    assert welch_df(0.0, 0.0, 3, 5) == 6.0
    with pytest.raises(ValueError):
        welch_df(1.0, 1.0, 1, 4)
    with pytest.raises(ValueError):
        welch_df(-1.0, 1.0, 4, 4)


def test_welch_half_width_is_the_welch_t_quantile_times_the_combined_error():
    from course_lib.stats import t_quantile, welch_df, welch_half_width
    half = welch_half_width(0.1, 2.0, 4, 4)
    assert half == pytest.approx(t_quantile(0.975, welch_df(0.1, 2.0, 4, 4)) * math.hypot(0.1, 2.0))
    assert welch_half_width(1.0, 1.0, 4, 4, level=0.8) == pytest.approx(t_quantile(0.9, 6) * math.sqrt(2))
