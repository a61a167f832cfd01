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


# ------------------------------------------------------------------ paired comparisons
from course_lib.stats import mcnemar_exact, paired_ratio  # noqa: E402


def test_mcnemar_exact_counts_only_discordant_pairs():
    # 13 seeds lose the outcome, none gain it; 45 keep it, 6 never had it
    a = [True] * 13 + [True] * 45 + [False] * 6
    b = [False] * 13 + [True] * 45 + [False] * 6
    r = mcnemar_exact(a, b)
    assert (r["only_a"], r["only_b"]) == (13, 0)
    assert r["p"] == pytest.approx(2 / 2**13)
    # concordant pairs do not change p
    assert mcnemar_exact(a[:13] + a[-1:], b[:13] + b[-1:])["p"] == r["p"]


def test_mcnemar_exact_symmetric_and_known_value():
    a = [1, 1, 1, 0, 0, 1, 1]
    b = [0, 0, 0, 1, 1, 1, 0]
    r = mcnemar_exact(a, b)
    assert (r["only_a"], r["only_b"]) == (4, 2)
    # 2 * P(Bin(6, 1/2) <= 2) = 2 * 22/64
    assert r["p"] == pytest.approx(44 / 64)
    assert mcnemar_exact(b, a)["p"] == r["p"]
    assert mcnemar_exact([1, 0], [1, 0]) == {"only_a": 0, "only_b": 0, "p": 1.0}
    # a balanced split never reads as a difference (p capped at 1)
    assert mcnemar_exact([1, 0], [0, 1])["p"] == 1.0


@pytest.mark.parametrize(
    "a, b, word",
    [([1, 0], [1], "equal"), ([], [], "non-zero"), ([2, 0], [1, 0], "booleans")],
)
def test_mcnemar_exact_bad_input(a, b, word):
    with pytest.raises(ValueError, match=word):
        mcnemar_exact(a, b)


def test_paired_ratio_matches_a_paired_t_test_on_logs():
    rng = np.random.default_rng(0)
    a = rng.lognormal(0.2, 0.3, 20)
    b = rng.lognormal(0.0, 0.3, 20)
    r = paired_ratio(a, b)
    d = np.log(a) - np.log(b)
    assert r["ratio"] == pytest.approx(math.exp(d.mean()))
    # a 95 % interval: exp(mean ± t_{0.975,19} sem), t = 2.0930
    sem = d.std(ddof=1) / math.sqrt(20)
    assert r["lo"] == pytest.approx(math.exp(d.mean() - 2.0930240544 * sem), rel=1e-6)
    assert r["hi"] == pytest.approx(math.exp(d.mean() + 2.0930240544 * sem), rel=1e-6)
    assert r["n"] == 20 and r["wins_a"] == int(np.sum(a < b))
    # a larger shift is more significant; the ratio is symmetric under swapping
    assert paired_ratio(a * 1.5, b)["p"] < r["p"]
    assert paired_ratio(b, a)["ratio"] == pytest.approx(1 / r["ratio"])
    assert paired_ratio(b, a)["p"] == pytest.approx(r["p"])


def test_paired_ratio_known_p_value():
    # d = ln 2 * (1, 2, 3): mean 2 ln2, sd ln2, t = 2 sqrt(3), df 2 -> p = 0.07417990
    a = [2.0, 4.0, 8.0]
    r = paired_ratio(a, [1.0, 1.0, 1.0])
    assert r["ratio"] == pytest.approx(4.0)
    assert r["p"] == pytest.approx(0.0741799, abs=1e-6)
    # a constant ratio: no spread, zero-width interval, p 0 (or 1 when the ratio is 1)
    c = paired_ratio([2.0, 4.0], [1.0, 2.0])
    assert c["ratio"] == pytest.approx(2.0) and c["lo"] == pytest.approx(2.0)
    assert c["p"] == 0.0 and paired_ratio([1.0, 2.0], [1.0, 2.0])["p"] == 1.0


@pytest.mark.parametrize(
    "a, b, word",
    [
        ([1.0, 2.0], [1.0], "equal"),
        ([1.0], [1.0], "at least 2"),
        ([1.0, -1.0], [1.0, 1.0], "positive"),
        ([1.0, np.nan], [1.0, 1.0], "finite"),
    ],
)
def test_paired_ratio_bad_input(a, b, word):
    with pytest.raises(ValueError, match=word):
        paired_ratio(a, b)


def test_format_paired_rates():
    from course_lib.stats import format_paired_rates

    a = [True] * 58 + [False] * 6
    b = [True] * 45 + [False] * 13 + [False] * 6
    text = format_paired_rates(a, b)
    assert text.startswith("58/64 vs 45/64") and "first: 13" in text and "second: 0" in text
    assert "p = 0.00024" in text
    with pytest.raises(ValueError, match="equal"):
        format_paired_rates([True], [True, False])


def test_detectable_ratio():
    from course_lib.stats import detectable_ratio, paired_ratio

    # t_{0.975, 15} = 2.1314, t_{0.8, 15} = 0.8662
    r = detectable_ratio(0.2, 16)
    assert r == pytest.approx(math.exp((2.1314495 + 0.8662450) * 0.2 / 4), rel=1e-5)
    # more pairs or less spread: smaller detectable effects; more power: larger
    assert detectable_ratio(0.2, 64) < r and detectable_ratio(0.1, 16) < r
    assert detectable_ratio(0.2, 16, power=0.9) > r
    assert detectable_ratio(0.0, 5) == 1.0
    # simulated: a true ratio of r is found in about 80 % of experiments
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        d = rng.normal(math.log(r), 0.2, 16)
        hits += paired_ratio(np.exp(d), np.ones(16))["p"] < 0.05
    assert 0.75 <= hits / 2000 <= 0.85
    with pytest.raises(ValueError, match="n"):
        detectable_ratio(0.2, 1)


def test_binomial_tail_sums_the_upper_tail_exactly():
    from course_lib.stats import binomial_tail

    assert binomial_tail(0, 5, 0.3) == pytest.approx(1.0)
    assert binomial_tail(9, 9, 1 / 3) == pytest.approx(3.0 ** -9)
    assert binomial_tail(6, 9, 1 / 3) == pytest.approx(835 / 3 ** 9)
    assert binomial_tail(3, 4, 0.0) == 0.0 and binomial_tail(3, 4, 1.0) == 1.0
    for bad in [(5, 4, 0.5), (-1, 4, 0.5), (1, 0, 0.5), (1, 4, 1.5), (1, 4, float("nan"))]:
        with pytest.raises(ValueError):
            binomial_tail(*bad)
