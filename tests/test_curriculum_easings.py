"""Easings (course_lib.curriculum.easings)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.curriculum import EASINGS, cosine, get_easing, linear, minimum_jerk, step

FAST = settings(max_examples=60, deadline=None)
values = st.floats(-100, 100, allow_nan=False)
unit = st.floats(0.0, 1.0)


# --------------------------------------------------------------------------- easings
@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easings_start_at_0_and_end_at_1(name):
    e = get_easing(name)
    assert e(0.0) == 0.0 and e(1.0) == 1.0


def test_easing_values_on_known_points():
    assert step(0.999) == 0.0 and step(1.0) == 1.0
    assert linear(0.25) == 0.25
    assert cosine(0.5) == pytest.approx(0.5) and cosine(1 / 3) == pytest.approx(0.25)
    assert minimum_jerk(0.5) == pytest.approx(0.5)
    assert minimum_jerk(0.25) == pytest.approx(10 / 64 - 15 / 256 + 6 / 1024)


@pytest.mark.parametrize("name", sorted(EASINGS))
@FAST
@given(a=unit, b=unit)
def test_easings_are_monotone_and_stay_in_the_unit_interval(name, a, b):
    e = get_easing(name)
    lo, hi = min(a, b), max(a, b)
    assert 0.0 <= e(lo) <= e(hi) <= 1.0


@pytest.mark.parametrize("name", ["linear", "cosine", "minimum_jerk"])
@FAST
@given(t=unit)
def test_continuous_easings_are_point_symmetric(name, t):
    e = get_easing(name)
    assert e(1 - t) == pytest.approx(1 - e(t), abs=1e-12)


def test_derivative_properties_at_the_ends():
    h = 1e-5
    for e in (cosine, minimum_jerk):  # zero velocity at both ends
        assert e(h) / h == pytest.approx(0, abs=1e-4)
        assert (1 - e(1 - h)) / h == pytest.approx(0, abs=1e-4)
    assert linear(h) / h == pytest.approx(1)  # linear: velocity 1, so it jumps at the ends
    accel = lambda e, t: (e(t + h) - 2 * e(t) + e(t - h)) / h ** 2  # noqa: E731
    assert accel(minimum_jerk, 2 * h) == pytest.approx(0, abs=1e-2)  # minimum jerk: no kick
    assert accel(cosine, 2 * h) == pytest.approx(math.pi ** 2 / 2, rel=1e-3)  # cosine: a kick


def test_minimum_jerk_derivatives_match_the_closed_forms():
    t = np.linspace(0.05, 0.95, 19)
    h = 1e-6
    fd = (minimum_jerk(t + h) - minimum_jerk(t - h)) / (2 * h)
    np.testing.assert_allclose(fd, 30 * t ** 2 * (1 - t) ** 2, atol=1e-6)


def test_easings_are_vectorised():
    t = np.linspace(0, 1, 12).reshape(3, 4)
    for e in EASINGS.values():
        out = e(t)
        assert isinstance(out, np.ndarray) and out.shape == (3, 4)
    assert isinstance(minimum_jerk(0.3), float)


@pytest.mark.parametrize("bad", [-0.1, 1.5, [0.2, 2.0], float("nan")])
def test_easing_rejects_t_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match="t "):
        minimum_jerk(bad)


def test_unknown_easing_is_named():
    with pytest.raises(ValueError, match="easing must be one of .*, got 'bouncy'"):
        get_easing("bouncy")
    with pytest.raises(TypeError, match="easing"):
        get_easing(3)
