"""course_lib.validation: wrong type → TypeError, wrong value → ValueError, messages name the argument."""

import math

import numpy as np
import pytest

from course_lib.validation import SEED_MAX, check_choice, check_float, check_fraction, check_int, check_seed


# ----------------------------------------------------------------------------------------- check_int
@pytest.mark.parametrize("value", [0, 7, -3, np.int64(7), np.int32(-3), np.uint8(4)])
def test_int_accepts_python_and_numpy_ints(value):
    out = check_int(value, "n")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(3.0), "3", None, [3]])
def test_int_rejects_wrong_types_with_type_error(value):
    with pytest.raises(TypeError, match="num_chains must be an int"):
        check_int(value, "num_chains", min=1)


def test_int_bounds_are_inclusive():
    assert check_int(1, "n", min=1, max=5) == 1
    assert check_int(5, "n", min=1, max=5) == 5
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 5\], got 0"):
        check_int(0, "n", min=1, max=5)
    with pytest.raises(ValueError, match=r"num_burnin must be a non-negative int \(≥ 0\), got -1"):
        check_int(-1, "num_burnin", min=0)
    with pytest.raises(ValueError, match="n must be an int ≥ 2, got 1"):
        check_int(1, "n", min=2)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 5\], got 6"):
        check_int(np.int64(6), "n", min=1, max=5)


def test_int_one_sided_bounds_name_the_range():
    with pytest.raises(ValueError, match=r"steps must be a positive int \(≥ 1\), got 0"):
        check_int(0, "steps", min=1)
    with pytest.raises(ValueError, match="layer must be an int ≤ 3, got 4"):
        check_int(4, "layer", max=3)
    assert check_int(-10**12, "x") == -10**12  # no bounds: any int


# --------------------------------------------------------------------------------------- check_float
@pytest.mark.parametrize("value", [0.5, 2, np.float32(0.5), np.float64(2.0), np.int64(2)])
def test_float_accepts_reals_and_numpy_scalars(value):
    out = check_float(value, "lr")
    assert out == pytest.approx(float(value)) and type(out) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", None, 1j, [0.5]])
def test_float_rejects_wrong_types_with_type_error(value):
    with pytest.raises(TypeError, match="lr must be a real number"):
        check_float(value, "lr", min=0)


@pytest.mark.parametrize("value", [math.nan, np.float64("nan"), math.inf, -math.inf])
def test_float_rejects_nan_and_inf_with_value_error(value):
    with pytest.raises(ValueError, match="epsilon must be a finite number"):
        check_float(value, "epsilon")


def test_float_allow_inf_still_rejects_nan_and_respects_bounds():
    assert check_float(math.inf, "x", min=0, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match=r"x must be a non-negative number \(≥ 0\), got -inf"):
        check_float(-math.inf, "x", min=0, allow_inf=True)
    with pytest.raises(ValueError, match="x must be a number"):
        check_float(math.nan, "x", allow_inf=True)


@pytest.mark.parametrize("inclusive, low_ok, high_ok", [
    ("both", True, True), ("left", True, False), ("right", False, True), ("neither", False, False)])
def test_float_boundaries_follow_inclusive(inclusive, low_ok, high_ok):
    for edge, ok in ((0.0, low_ok), (2.0, high_ok)):
        if ok:
            assert check_float(edge, "t", min=0, max=2, inclusive=inclusive) == edge
        else:
            with pytest.raises(ValueError, match="t must be in"):
                check_float(edge, "t", min=0, max=2, inclusive=inclusive)
    assert check_float(1.0, "t", min=0, max=2, inclusive=inclusive) == 1.0


def test_float_messages_show_the_range():
    with pytest.raises(ValueError, match=r"lr must be a finite number ≥ 0.001, got 0.0001"):
        check_float(1e-4, "lr", min=1e-3)
    with pytest.raises(ValueError, match=r"gamma must be a positive finite number \(> 0\), got 0.0"):
        check_float(0, "gamma", min=0, inclusive="neither")
    with pytest.raises(ValueError, match=r"t must be in \(0, 1\], got 0.0"):
        check_float(0.0, "t", min=0, max=1, inclusive="right")
    with pytest.raises(ValueError, match=r"t must be a finite number < 1, got 1.0"):
        check_float(1.0, "t", max=1, inclusive="neither")


def test_float_rejects_an_unknown_inclusive():
    with pytest.raises(ValueError, match="inclusive"):
        check_float(0.5, "t", min=0, inclusive="open")


# ------------------------------------------------------------------------------------ check_fraction
def test_fraction_closed_by_default():
    assert check_fraction(0, "p") == 0.0 and check_fraction(1, "p") == 1.0
    assert check_fraction(np.float32(0.25), "p") == 0.25
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        check_fraction(1.5, "p")
    with pytest.raises(ValueError, match="p must be"):
        check_fraction(-0.1, "p")


def test_fraction_open_ends():
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        check_fraction(0.0, "train_fraction", inclusive="neither")
    with pytest.raises(ValueError, match="train_fraction"):
        check_fraction(1.0, "train_fraction", inclusive="neither")
    assert check_fraction(1.0, "start_factor", inclusive="right") == 1.0
    with pytest.raises(ValueError, match="start_factor"):
        check_fraction(0.0, "start_factor", inclusive="right")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_fraction_rejects_nan_and_inf(value):
    with pytest.raises(ValueError, match="warmup"):
        check_fraction(value, "warmup")


@pytest.mark.parametrize("value", [True, "0.5", None])
def test_fraction_rejects_wrong_types(value):
    with pytest.raises(TypeError, match="warmup must be a real number"):
        check_fraction(value, "warmup")


# ---------------------------------------------------------------------------------------- check_seed
def test_seed_range_is_0_to_2_32_minus_1_inclusive():
    assert check_seed(0) == 0 and check_seed(SEED_MAX) == 2**32 - 1
    assert check_seed(np.int64(7)) == 7
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 4294967295\], got -1"):
        check_seed(-1)
    with pytest.raises(ValueError, match="seed"):
        check_seed(2**32)


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_seed_rejects_wrong_types(value):
    with pytest.raises(TypeError, match="seed must be an int"):
        check_seed(value)


def test_seed_message_names_the_argument():
    with pytest.raises(TypeError, match="data_seed must be an int"):
        check_seed(0.5, "data_seed")


# -------------------------------------------------------------------------------------- check_choice
def test_choice_returns_the_value():
    assert check_choice("smooth", "schedule", ("smooth", "reactive")) == "smooth"
    assert check_choice(2, "order", [1, 2, 3]) == 2


def test_choice_rejects_other_values_listing_the_choices():
    with pytest.raises(ValueError, match=r"schedule must be one of 'smooth', 'reactive', got 'fast'"):
        check_choice("fast", "schedule", ("smooth", "reactive"))


def test_choice_rejects_bool_for_int_choices_and_unhashables():
    with pytest.raises(ValueError, match="order must be one of"):
        check_choice(True, "order", (0, 1, 2))
    with pytest.raises(ValueError, match="kind must be one of"):
        check_choice(["a"], "kind", {"a", "b"})
